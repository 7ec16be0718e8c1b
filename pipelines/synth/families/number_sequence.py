"""Number sequences: give the next term of a sequence built by one of the stated rules.

The prompt lists the rule types (arithmetic, geometric, quadratic, Fibonacci-like,
affine recurrence, interleaved arithmetic). The generator fits *every* listed rule type
to the shown terms exactly (with :class:`fractions.Fraction`) and keeps an item only
when all rule types that fit predict the same next term, so the answer is unique.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from tracemill.pipelines.synth.base import Item, Task, check_level, register_task
from tracemill.pipelines.synth.grid import positive_int, wrong
from tracemill.pipelines.synth.textutil import parse_integer
from tracemill.pipelines.verify.registry import Verdict

RULES: dict[str, str] = {
    "arithmetic": "arithmetic: a constant difference between consecutive terms",
    "geometric": "geometric: a constant ratio between consecutive terms",
    "quadratic": "quadratic: the differences between consecutive terms form an arithmetic "
    "sequence (constant second difference)",
    "fibonacci": "Fibonacci-like: from the third term on, each term is the sum of the two "
    "before it",
    "affine": "affine recurrence: each term is p times the previous term plus q, for fixed "
    "integers p and q",
    "interleaved": "interleaved: the terms in odd positions and the terms in even positions "
    "each form their own arithmetic sequence",
}
ORDER = tuple(RULES)

_LEVELS = {
    1: (2, 6, 10),
    2: (3, 6, 12),
    3: (3, 6, 20),
    4: (4, 6, 20),
    5: (4, 6, 30),
    6: (5, 6, 40),
    7: (5, 6, 60),
    8: (6, 6, 80),
    9: (6, 6, 120),
    10: (6, 6, 200),
}

Terms = Sequence[Fraction]


def _arithmetic(t: Terms) -> Fraction | None:
    d = t[1] - t[0]
    ok = all(t[i + 1] - t[i] == d for i in range(len(t) - 1))
    return t[-1] + d if ok else None


def _geometric(t: Terms) -> Fraction | None:
    if t[0] == 0:
        return None
    r = t[1] / t[0]
    ok = all(t[i + 1] == r * t[i] for i in range(len(t) - 1))
    return t[-1] * r if ok else None


def _quadratic(t: Terms) -> Fraction | None:
    diffs = [t[i + 1] - t[i] for i in range(len(t) - 1)]
    step = _arithmetic(diffs)
    return t[-1] + step if step is not None else None


def _fibonacci(t: Terms) -> Fraction | None:
    ok = all(t[i] == t[i - 1] + t[i - 2] for i in range(2, len(t)))
    return t[-1] + t[-2] if ok else None


def _affine(t: Terms) -> Fraction | None:
    if t[1] == t[0]:
        return t[-1] if all(x == t[0] for x in t) else None
    p = (t[2] - t[1]) / (t[1] - t[0])
    if p.denominator != 1:
        return None
    q = t[1] - p * t[0]
    ok = all(t[i + 1] == p * t[i] + q for i in range(len(t) - 1))
    return p * t[-1] + q if ok else None


def _interleaved(t: Terms) -> Fraction | None:
    if len(t) < 5:
        return None
    evens, odds = list(t[0::2]), list(t[1::2])
    if _arithmetic(evens) is None or _arithmetic(odds) is None:
        return None
    same = evens if len(t) % 2 == 0 else odds  # the subsequence the next term continues
    return same[-1] + (same[1] - same[0])


FITS: dict[str, Callable[[Terms], Fraction | None]] = {
    "arithmetic": _arithmetic,
    "geometric": _geometric,
    "quadratic": _quadratic,
    "fibonacci": _fibonacci,
    "affine": _affine,
    "interleaved": _interleaved,
}


def predictions(terms: Terms, rules: Sequence[str]) -> set[Fraction]:
    """Next terms predicted by every listed rule type that fits ``terms`` exactly."""
    out = set()
    for rule in rules:
        nxt = FITS[rule](terms)
        if nxt is not None:
            out.add(nxt)
    return out


def _make(rule: str, count: int, mag: int, rng: random.Random) -> list[int]:
    def r(lo: int, hi: int) -> int:
        return rng.randint(lo, hi)

    if rule == "arithmetic":
        a, d = r(-mag, mag), rng.choice([x for x in range(-mag // 2, mag // 2 + 1) if x])
        return [a + d * i for i in range(count)]
    if rule == "geometric":
        a = rng.choice([x for x in range(-max(2, mag // 10), max(2, mag // 10) + 1) if x])
        ratio = rng.choice([-3, -2, 2, 3] + ([4, 5] if mag >= 40 else []))
        return [a * ratio**i for i in range(count)]
    if rule == "quadratic":
        a = rng.choice([x for x in range(-max(1, mag // 10), max(1, mag // 10) + 1) if x])
        b, c = r(-mag // 2, mag // 2), r(-mag, mag)
        return [a * i * i + b * i + c for i in range(count)]
    if rule == "fibonacci":
        out = [r(-mag // 3, mag), r(1, mag)]
        while len(out) < count:
            out.append(out[-1] + out[-2])
        return out
    if rule == "affine":
        p = rng.choice([-3, -2, 2, 3])
        q = rng.choice([x for x in range(-mag // 2, mag // 2 + 1) if x])
        out = [r(-mag // 2, mag // 2)]
        while len(out) < count:
            out.append(p * out[-1] + q)
        return out
    d1 = rng.choice([x for x in range(-mag // 2, mag // 2 + 1) if x])
    d2 = rng.choice([x for x in range(-mag // 2, mag // 2 + 1) if x and x != d1])
    a, b = r(-mag, mag), r(-mag, mag)
    return [(a + d1 * (i // 2)) if i % 2 == 0 else (b + d2 * (i // 2)) for i in range(count)]


@dataclass(frozen=True)
class NumberSequenceConfig:
    """Knobs: how many rule types are in play, terms shown, size of the numbers."""

    rule_types: int = 2
    """The first this many of arithmetic, geometric, quadratic, Fibonacci-like, affine,
    interleaved (1–6)."""
    terms: int = 6
    """Terms shown (5–12)."""
    magnitude: int = 10
    """Scale of starting values and steps (2–10000)."""

    def __post_init__(self) -> None:
        positive_int("rule_types", self.rule_types, 1, len(ORDER))
        positive_int("terms", self.terms, 5, 12)
        positive_int("magnitude", self.magnitude, 2, 10_000)


@register_task
class NumberSequenceTask(Task):
    """Continue an integer sequence whose rule type comes from a stated list."""

    name = "number_sequence"
    domain = "logic"
    version = "3"
    description = "Next term of an integer sequence (rule types listed; unique by check)."
    Config = NumberSequenceConfig

    @classmethod
    def config_for_level(cls, level: int) -> NumberSequenceConfig:
        """More rule types in play and bigger numbers as levels rise."""
        rules, terms, mag = _LEVELS[check_level(level)]
        return NumberSequenceConfig(rule_types=rules, terms=terms, magnitude=mag)

    def generate(self, config: NumberSequenceConfig, rng: random.Random) -> Item:
        """Draw a rule type and parameters until every fitting rule type agrees."""
        rules = ORDER[: config.rule_types]
        while True:
            rule = rng.choice(rules)
            seq = _make(rule, config.terms + 1, config.magnitude, rng)
            shown = [Fraction(x) for x in seq[:-1]]
            if len(set(seq)) < 3:
                continue
            if predictions(shown, rules) == {Fraction(seq[-1])}:
                break
        listing = "\n".join(f"- {RULES[name]}" for name in rules)
        question = (
            "The integer sequence below follows a rule of exactly one of these types:\n"
            f"{listing}\n\n"
            f"{', '.join(str(x) for x in seq[:-1])}, ?\n\n"
            "What is the next term? Write the integer inside answer tags, for example "
            "<answer>17</answer>."
        )
        return Item(
            question=question,
            answer=str(seq[-1]),
            spec={"next": seq[-1]},
            difficulty=float(config.rule_types * 2 + len(str(abs(seq[-1])))),
            metadata={"rule": rule},
        )

    def parse(self, spec: Mapping[str, Any], text: str) -> int:
        """One integer."""
        return parse_integer(text)

    def judge(self, spec: Mapping[str, Any], value: int) -> Verdict | float:
        """The answer must be the single expected integer."""
        return 1.0 if value == int(spec["next"]) else wrong("wrong next term")
