"""Time sequence (scheduling): find the earliest common meeting slot and count all slots.

Everyone's busy times are listed; the answer (earliest start, number of valid starts on
the stated grid) is unique and computed by scanning the day.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tracemill.pipelines.synth.base import Item, Task, check_level, register_task
from tracemill.pipelines.synth.textutil import refuse_hedge
from tracemill.pipelines.synth.wordlists import NAMES

DAY_START = 9 * 60
DAY_END = 17 * 60


def clock(minutes: int) -> str:
    """Minutes after midnight as ``HH:MM``."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def valid_starts(
    busy: list[list[tuple[int, int]]], duration: int, step: int, earliest: int, latest_end: int
) -> list[int]:
    """Start times (on the ``step`` grid) where nobody is busy for ``duration`` minutes."""
    starts = []
    for s in range(DAY_START, DAY_END - duration + 1, step):
        if s < earliest or s + duration > latest_end:
            continue
        if all(e <= s or b >= s + duration for person in busy for b, e in person):
            starts.append(s)
    return starts


@register_task
class TimeSequence(Task):
    """Schedule a meeting around everyone's busy times."""

    name = "time_sequence"
    version = "3"
    description = "Earliest common meeting time and the number of possible start times."

    @dataclass(frozen=True)
    class Config:
        """Difficulty knobs."""

        people: int = 2
        """People whose calendars must all be free."""
        busy_blocks: int = 2
        """Busy blocks per person."""
        step: int = 60
        """Minutes between possible start times (15, 30 or 60)."""
        extra_rules: int = 0
        """Extra constraints (not before / end by)."""

        def __post_init__(self) -> None:
            if not 1 <= self.people <= 12:
                raise ValueError("people must be 1..12")
            if not 0 <= self.busy_blocks <= 6:
                raise ValueError("busy_blocks must be 0..6")
            if self.step not in (15, 30, 60):
                raise ValueError("step must be 15, 30 or 60")
            if self.extra_rules not in (0, 1, 2):
                raise ValueError("extra_rules must be 0, 1 or 2")

    @classmethod
    def config_for_level(cls, level: int) -> Config:
        """More people and blocks, finer time grid and extra rules with the level."""
        level = check_level(level)
        people = [2, 2, 3, 3, 4, 4, 5, 6, 7, 8][level - 1]
        blocks = [1, 2, 2, 2, 3, 3, 3, 3, 4, 4][level - 1]
        step = [60, 60, 30, 30, 30, 15, 15, 15, 15, 15][level - 1]
        extra = [0, 0, 0, 1, 1, 1, 2, 2, 2, 2][level - 1]
        return cls.Config(people=people, busy_blocks=blocks, step=step, extra_rules=extra)

    def generate(self, config: Config, rng: random.Random) -> Item:
        """Random busy blocks on the time grid, redrawn until some slot remains."""
        names = rng.sample(NAMES, config.people)
        step = config.step
        slots = (DAY_END - DAY_START) // step
        while True:
            duration = step * rng.randint(1, max(1, 60 // step + 1))
            busy: list[list[tuple[int, int]]] = []
            for _ in names:
                blocks: list[tuple[int, int]] = []
                for _ in range(config.busy_blocks):
                    length = step * rng.randint(1, max(1, 90 // step))
                    start = DAY_START + step * rng.randrange(slots)
                    blocks.append((start, min(DAY_END, start + length)))
                merged: list[tuple[int, int]] = []
                for b, e in sorted(blocks):
                    if merged and b <= merged[-1][1]:
                        merged[-1] = (merged[-1][0], max(merged[-1][1], e))
                    else:
                        merged.append((b, e))
                busy.append(merged)
            earliest, latest_end = DAY_START, DAY_END
            rules = []
            if config.extra_rules >= 1:
                earliest = DAY_START + 60 * rng.randint(0, 3)
                rules.append(f"{rng.choice(names)} cannot meet before {clock(earliest)}.")
            if config.extra_rules >= 2:
                latest_end = DAY_END - 60 * rng.randint(0, 3)
                rules.append(f"The meeting must end by {clock(latest_end)}.")
            starts = valid_starts(busy, duration, step, earliest, latest_end)
            if starts:
                break
        lines = []
        for name, blocks in zip(names, busy, strict=True):
            text = ", ".join(f"{clock(b)}-{clock(e)}" for b, e in blocks) or "nothing"
            lines.append(f"- {name} is busy {text}." if blocks else f"- {name} is free all day.")
        question = (
            f"{len(names)} people want a {duration}-minute meeting on the same day, between "
            f"{clock(DAY_START)} and {clock(DAY_END)}. The meeting may start only at times "
            f"that are a multiple of {step} minutes past {clock(DAY_START)} and must not "
            "overlap anyone's busy time (a meeting may start exactly when a busy time "
            "ends).\n\n"
            + "\n".join(lines)
            + ("\n" + "\n".join(rules) if rules else "")
            + "\n\nWhat is the earliest possible start time, and how many possible start "
            "times are there in total? Give both inside answer tags as HH:MM and a count, "
            "for example <answer>10:30, 4</answer>."
        )
        answer = f"{clock(starts[0])}, {len(starts)}"
        spec = {"earliest": starts[0], "count": len(starts)}
        difficulty = float(config.people * config.busy_blocks + 60 // step + config.extra_rules)
        return Item(question, answer, spec, difficulty=difficulty)

    def parse(self, spec: Mapping[str, Any], text: str) -> tuple[int, int]:
        r"""(earliest start in minutes, count): one HH:MM time and one other whole number.

        ``10:30, 4``, ``10:30 AM; count: 4``, "Earliest: 10:30\nNumber of start times: 4"
        all read; two different times or counts do not.
        """
        if len(text) > 300:
            raise ValueError("answer too long")
        times = {_minutes(m) for m in _TIME.finditer(text)}
        rest = _TIME.sub(" ", text)
        counts = {int(v) for v in _COUNT.findall(rest)}
        if len(times) > 1 or len(counts) > 1:
            refuse_hedge(text, "times")
            raise ValueError("expected one time and one count")
        if len(times) != 1 or len(counts) != 1 or len(_WORD.findall(rest)) > 16:
            raise ValueError(f"expected 'HH:MM, N', got {text[:60]!r}")
        return times.pop(), counts.pop()

    def judge(self, spec: Mapping[str, Any], value: tuple[int, int]) -> float:
        """1.0 if both the earliest start and the count are right."""
        start, count = value
        return 1.0 if start == int(spec["earliest"]) and count == int(spec["count"]) else 0.0


_TIME = re.compile(r"\b(\d{1,2})\s*[:.h]\s*(\d{2})\b(?:\s*([ap])\.?\s*m\b\.?)?", re.I)
_COUNT = re.compile(r"(?<![\d:.])\b\d{1,4}\b(?![:.]\d)")
_WORD = re.compile(r"[A-Za-z]+")


def _minutes(m: re.Match[str]) -> int:
    hour, minute, half = int(m.group(1)), int(m.group(2)), (m.group(3) or "").lower()
    if half == "p" and hour < 12:
        hour += 12
    if half == "a" and hour == 12:
        hour = 0
    return hour * 60 + minute


__all__ = ["TimeSequence", "valid_starts"]
