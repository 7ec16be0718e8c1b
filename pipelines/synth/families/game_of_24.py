"""Game of 24: combine the given numbers with + - * / and parentheses to hit a target.

Many expressions are valid, so the verifier evaluates the model's expression exactly
(:func:`tracemill.pipelines.synth.textutil.evaluate_arithmetic`, never ``eval``) and checks that it
uses exactly the given multiset of numbers.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from tracemill.pipelines.synth.base import Item, Task, check_level, register_task
from tracemill.pipelines.synth.textutil import Arithmetic, evaluate_arithmetic

_NUMBER = re.compile(r"\s*-?\d{1,12}\s*")

_OPS = "+-*/"


def solve_numbers(numbers: list[int], target: int) -> str | None:
    """An expression over all ``numbers`` that equals ``target`` (None if there is none)."""
    seen: set[tuple[Fraction, ...]] = set()
    goal = Fraction(target)

    def search(items: list[tuple[Fraction, str]]) -> str | None:
        if len(items) == 1:
            return items[0][1] if items[0][0] == goal else None
        key = tuple(sorted(v for v, _ in items))
        if key in seen:
            return None
        seen.add(key)
        for i in range(len(items)):
            for j in range(len(items)):
                if i == j:
                    continue
                (a, ea), (b, eb) = items[i], items[j]
                rest = [items[k] for k in range(len(items)) if k not in (i, j)]
                candidates: list[tuple[Fraction, str]] = []
                if i < j:
                    candidates += [(a + b, f"({ea} + {eb})"), (a * b, f"({ea} * {eb})")]
                candidates.append((a - b, f"({ea} - {eb})"))
                if b != 0:
                    candidates.append((a / b, f"({ea} / {eb})"))
                for cand in candidates:
                    found = search([*rest, cand])
                    if found is not None:
                        return found
        return None

    expr = search([(Fraction(n), str(n)) for n in numbers])
    if expr is None:
        return None
    return expr[1:-1] if expr.startswith("(") and expr.endswith(")") else expr


@register_task
class GameOf24(Task):
    """Reach a target with each given number used exactly once."""

    name = "game_of_24"
    version = "3"
    description = "Combine numbers with + - * / and parentheses to reach a target."

    @dataclass(frozen=True)
    class Config:
        """Difficulty knobs."""

        count: int = 4
        """How many numbers are given."""
        max_number: int = 9
        """Numbers are drawn from 1..max_number."""
        target: int = 24
        """The target value; 0 draws a random target from 10..100 per item."""

        def __post_init__(self) -> None:
            if not 2 <= self.count <= 6:
                raise ValueError("count must be 2..6")
            if not 2 <= self.max_number <= 100:
                raise ValueError("max_number must be 2..100")
            if self.target < 0 or self.target > 10_000:
                raise ValueError("target must be 0 (random) or 1..10000")

    @classmethod
    def config_for_level(cls, level: int) -> Config:
        """Levels 1–4: four numbers to 24; 5–7: larger numbers, random targets; 8–10: five."""
        level = check_level(level)
        table = {
            1: (4, 6, 24),
            2: (4, 9, 24),
            3: (4, 13, 24),
            4: (4, 13, 0),
            5: (4, 20, 0),
            6: (4, 25, 0),
            7: (5, 13, 24),
            8: (5, 13, 0),
            9: (5, 25, 0),
            10: (6, 25, 0),
        }
        count, max_number, target = table[level]
        return cls.Config(count=count, max_number=max_number, target=target)

    def generate(self, config: Config, rng: random.Random) -> Item:
        """Draw numbers (and a target) until the instance is solvable."""
        for _ in range(1000):
            numbers = sorted(rng.randint(1, config.max_number) for _ in range(config.count))
            target = config.target or rng.randint(10, 100)
            expr = solve_numbers(numbers, target)
            if expr is not None:
                break
        else:  # pragma: no cover - every config has solvable draws
            raise RuntimeError("no solvable instance found")
        shown = ", ".join(str(n) for n in numbers)
        question = (
            f"Using each of the numbers {shown} exactly once, and only the operations "
            f"+, -, *, / and parentheses, write an expression that equals {target}. "
            "Division is exact (fractions are allowed in intermediate steps); do not join "
            "digits into new numbers or use any other operation.\n\n"
            "Give only the expression inside answer tags, for example "
            "<answer>(1 + 2) * 3 - 4</answer>."
        )
        spec = {"numbers": numbers, "target": target}
        return Item(question, expr, spec, difficulty=float(config.count * config.max_number))

    def parse(self, spec: Mapping[str, Any], text: str) -> Arithmetic:
        """An arithmetic expression with at least one operation (``= target`` may follow)."""
        parts = [p.strip() for p in text.split("=")]
        if len(parts) == 2 and _NUMBER.fullmatch(parts[0]) and not _NUMBER.fullmatch(parts[1]):
            parts.reverse()  # "24 = (3 * 8) + …"
        if len(parts) > 2 or (len(parts) == 2 and not _NUMBER.fullmatch(parts[1])):
            raise ValueError("expected one expression, optionally followed by = target")
        result = evaluate_arithmetic(parts[0], allow_unary=False)
        if len(result.numbers) < 2:
            raise ValueError("expected an expression combining the numbers")
        return result

    def judge(self, spec: Mapping[str, Any], value: Arithmetic) -> float:
        """1.0 if the expression uses exactly the given numbers and equals the target."""
        if Counter(value.numbers) != Counter(int(n) for n in spec["numbers"]):
            return 0.0
        return 1.0 if value.value == Fraction(int(spec["target"])) else 0.0


__all__ = ["GameOf24", "solve_numbers"]
