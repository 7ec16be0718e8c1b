"""Date arithmetic: add and subtract days, count days between dates, name the weekday.

Everything is computed with :mod:`datetime` (proleptic Gregorian calendar), so the
answer is unique; the prompt gives one anchor weekday so no calendar lore is needed.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from tracemill.pipelines.synth.base import Item, Task, check_level, register_task
from tracemill.pipelines.synth.grid import positive_int, wrong
from tracemill.pipelines.synth.textutil import parse_integer, refuse_hedge
from tracemill.pipelines.verify.registry import Verdict

KINDS = ("after", "between", "weekday")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DATE = re.compile(r"(\d{4})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})")
_WEEKDAY_NOTE = re.compile(r"(?i)\s*\(?\b(?:mon|tues|wednes|thurs|fri|satur|sun)day\)?$")

_LEVELS = {
    1: (1, 10, 1, ("after",)),
    2: (1, 40, 1, ("after", "weekday")),
    3: (2, 60, 1, KINDS),
    4: (2, 120, 2, KINDS),
    5: (2, 250, 3, KINDS),
    6: (3, 400, 5, KINDS),
    7: (3, 800, 10, KINDS),
    8: (4, 1500, 20, KINDS),
    9: (4, 3000, 40, KINDS),
    10: (5, 6000, 80, KINDS),
}


@dataclass(frozen=True)
class DateArithmeticConfig:
    """Knobs: how many offsets, how large, how many years apart, which question kinds."""

    steps: int = 1
    """Offsets applied in turn (1–8)."""
    max_offset: int = 10
    """Largest single offset in days (1–20000)."""
    year_span: int = 1
    """Start dates are drawn from this many years around 2000 (1–400)."""
    kinds: tuple[str, ...] = ("after",)
    """Question kinds drawn from: after (a date), between (a day count), weekday."""

    def __post_init__(self) -> None:
        positive_int("steps", self.steps, 1, 8)
        positive_int("max_offset", self.max_offset, 1, 20_000)
        positive_int("year_span", self.year_span, 1, 400)
        if not self.kinds or any(k not in KINDS for k in self.kinds):
            raise ValueError(f"kinds must be a non-empty subset of {KINDS}, got {self.kinds!r}")


def parse_date(text: str) -> date:
    """A ``YYYY-MM-DD`` date (``/`` or ``.`` also separate, a weekday may follow)."""
    if len(text) > 80:
        raise ValueError("expected a date written YYYY-MM-DD")
    plain = _WEEKDAY_NOTE.sub("", text.strip().rstrip(".").strip())
    m = _DATE.fullmatch(plain.strip())
    if not m:
        if len(_DATE.findall(text)) > 1:
            refuse_hedge(text, "dates")
        raise ValueError("expected a date written YYYY-MM-DD")
    return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))


def parse_weekday(text: str) -> str:
    """A weekday name (full or three-letter, "a Thursday"), lower-case; raises ``ValueError``."""
    if len(text) > 40:
        raise ValueError("expected one weekday")
    word = re.sub(
        r"^(?:it\s+is\s+|on\s+)?(?:an?\s+)?", "", text.strip().rstrip(".").strip().lower()
    )
    for day in WEEKDAYS:
        if word in (day, day[:3]):
            return day
    if len([d for d in WEEKDAYS if d in text.lower()]) > 1:
        refuse_hedge(text, "weekdays")
    raise ValueError(f"not a weekday: {word[:20]!r}")


def parse_day_count(text: str) -> int:
    """A whole number of days ("366", "366 days")."""
    plain = re.sub(r"(?i)\s*days?\.?$", "", text.strip().rstrip(".").strip())
    return parse_integer(plain)


def _random_date(rng: random.Random, span: int) -> date:
    start = date(2000 - span // 2, 1, 1).toordinal()
    end = date(2000 - span // 2 + span, 1, 1).toordinal() - 1
    return date.fromordinal(rng.randint(start, end))


@register_task
class DateArithmeticTask(Task):
    """Compute dates, day counts and weekdays."""

    name = "date_arithmetic"
    domain = "logic"
    version = "3"
    description = "Calendar arithmetic: dates after offsets, days between dates, weekdays."
    Config = DateArithmeticConfig

    @classmethod
    def config_for_level(cls, level: int) -> DateArithmeticConfig:
        """More and larger offsets over a wider range of years as levels rise."""
        steps, offset, span, kinds = _LEVELS[check_level(level)]
        return DateArithmeticConfig(steps=steps, max_offset=offset, year_span=span, kinds=kinds)

    def generate(self, config: DateArithmeticConfig, rng: random.Random) -> Item:
        """A start date, signed offsets, and one question about the result."""
        kind = rng.choice(config.kinds)
        start = _random_date(rng, config.year_span)
        offsets = [rng.randint(1, config.max_offset) for _ in range(config.steps)]
        signs = [1] + [rng.choice((1, -1)) for _ in offsets[1:]]
        end = start
        for sign, days in zip(signs, offsets, strict=True):
            end = end + timedelta(days=sign * days)
        moves = "; then ".join(
            f"{'add' if sign > 0 else 'subtract'} {days} day{'s' if days != 1 else ''}"
            for sign, days in zip(signs, offsets, strict=True)
        )
        anchor = f"For reference, {start.isoformat()} is a {start.strftime('%A')}."
        if kind == "after":
            ask = (
                f"Start from {start.isoformat()}; {moves}. What is the resulting date? "
                "Write it as YYYY-MM-DD inside answer tags, for example "
                "<answer>2001-02-03</answer>."
            )
            answer, spec = end.isoformat(), {"kind": kind, "date": end.isoformat()}
        elif kind == "between":
            other = start + timedelta(days=rng.choice((1, -1)) * rng.randint(1, config.max_offset))
            first, second = sorted((start, other))
            end = second
            ask = (
                f"How many days are there from {first.isoformat()} to {second.isoformat()}? "
                "Count the difference of the two dates (from a date to the next day is 1 day). "
                "Write the number inside answer tags, for example <answer>42</answer>."
            )
            days = (second - first).days
            answer, spec = str(days), {"kind": kind, "days": days}
        else:
            ask = (
                f"Start from {start.isoformat()}; {moves}. On which day of the week does the "
                "resulting date fall? Write the weekday's English name inside answer tags, "
                "for example <answer>Thursday</answer>."
            )
            day = WEEKDAYS[end.weekday()]
            answer, spec = day.capitalize(), {"kind": kind, "weekday": day}
        question = (
            "Use the Gregorian calendar (leap years: divisible by 4, except centuries not "
            f"divisible by 400). {anchor}\n\n{ask}"
        )
        difficulty = float(config.steps + abs((end - start).days) / 100)
        return Item(question, answer, spec, difficulty=difficulty, metadata={"kind": kind})

    def parse(self, spec: Mapping[str, Any], text: str) -> str | int:
        """A date (ISO text), a day count or a weekday, by the question's kind."""
        kind = spec["kind"]
        if kind == "after":
            return parse_date(text).isoformat()
        if kind == "between":
            return parse_day_count(text)
        return parse_weekday(text)

    def judge(self, spec: Mapping[str, Any], value: str | int) -> Verdict | float:
        """Compare the parsed date, day count or weekday with the stored one."""
        kind = spec["kind"]
        if kind == "after":
            return 1.0 if value == spec["date"] else wrong(f"date {value} is wrong")
        if kind == "between":
            return 1.0 if value == int(spec["days"]) else wrong("wrong day count")
        return 1.0 if value == spec["weekday"] else wrong(f"{value} is wrong")
