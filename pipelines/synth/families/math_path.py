"""Math path: replace each ``?`` in an equation with a digit so the equation holds.

Several fillings can be valid, so the verifier checks that the answer is the template
with digits in the ``?`` places and that its left side (evaluated safely, never with
``eval``) equals the right side.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from tracemill.pipelines.synth.base import Item, Task, check_level, register_task
from tracemill.pipelines.synth.textutil import (
    evaluate_arithmetic,
    normalize_expression,
    refuse_hedge,
)
from tracemill.pipelines.verify.answers import AmbiguousAnswer


def _render(terms: list[int | str], ops: list[str], group: tuple[int, int] | None) -> str:
    parts: list[str] = []
    for i, term in enumerate(terms):
        text = str(term)
        if group and i == group[0]:
            text = "(" + text
        if group and i == group[1]:
            text += ")"
        parts.append(text)
        if i < len(ops):
            parts.append(ops[i])
    return " ".join(parts)


@register_task
class MathPath(Task):
    """Fill the missing digits of an arithmetic equation."""

    name = "math_path"
    version = "3"
    description = "Replace each ? with a digit 0-9 so the equation is true."

    @dataclass(frozen=True)
    class Config:
        """Difficulty knobs."""

        terms: int = 3
        """Numbers on the left-hand side."""
        hidden: int = 1
        """How many of them are replaced by ``?``."""
        ops: str = "+-"
        """Operations used (a subset of ``+-*``)."""
        parentheses: bool = False
        """Whether one group of terms is parenthesized."""

        def __post_init__(self) -> None:
            if not 2 <= self.terms <= 10:
                raise ValueError("terms must be 2..10")
            if not 1 <= self.hidden <= self.terms:
                raise ValueError("hidden must be 1..terms")
            if not self.ops or set(self.ops) - set("+-*"):
                raise ValueError("ops must be a non-empty subset of '+-*'")

    @classmethod
    def config_for_level(cls, level: int) -> Config:
        """More terms, more blanks, multiplication and parentheses with the level."""
        level = check_level(level)
        table = {
            1: (3, 1, "+-", False),
            2: (3, 2, "+-", False),
            3: (4, 2, "+-*", False),
            4: (4, 3, "+-*", False),
            5: (5, 3, "+-*", True),
            6: (5, 4, "+-*", True),
            7: (6, 4, "+-*", True),
            8: (7, 5, "+-*", True),
            9: (8, 6, "+-*", True),
            10: (9, 7, "+-*", True),
        }
        terms, hidden, ops, paren = table[level]
        return cls.Config(terms=terms, hidden=hidden, ops=ops, parentheses=paren)

    def generate(self, config: Config, rng: random.Random) -> Item:
        """A random digit expression with some digits hidden."""
        digits = [rng.randint(1, 9) for _ in range(config.terms)]
        ops = [rng.choice(config.ops) for _ in range(config.terms - 1)]
        group = None
        if config.parentheses and config.terms >= 3:
            start = rng.randrange(config.terms - 1)
            group = (start, rng.randrange(start + 1, min(config.terms, start + 4)))
        expr = _render(digits, ops, group)  # type: ignore[arg-type]
        value = evaluate_arithmetic(expr).value
        hidden = set(rng.sample(range(config.terms), config.hidden))
        terms: list[int | str] = ["?" if i in hidden else d for i, d in enumerate(digits)]
        template = f"{_render(terms, ops, group)} = {value}"
        question = (
            "Replace each ? in the equation below with a single digit from 0 to 9 (digits may "
            "repeat) so that the equation is true. The usual order of operations applies: * "
            "before + and -, parentheses first.\n\n"
            f"    {template}\n\n"
            "Give the whole completed equation inside answer tags, for example "
            "<answer>3 + 4 * 2 = 11</answer>."
        )
        answer = f"{expr} = {value}"
        spec = {"template": template}
        return Item(question, answer, spec, difficulty=float(config.terms + config.hidden))

    def parse(self, spec: Mapping[str, Any], text: str) -> str:
        """The completed equation: the template with each ``?`` replaced by one digit.

        Just the missing digits, in order (``4, 2``), are read too.
        """
        if len(text) > 500:
            raise ValueError("answer too long")
        template = "".join(str(spec["template"]).split())
        filled = "".join(normalize_expression(text).split())
        pattern = "".join(r"(\d)" if ch == "?" else re.escape(ch) for ch in template)
        if re.fullmatch(pattern, filled):
            return filled
        found = {m.group(0) for m in re.finditer(pattern, filled)}
        if len(found) == 1 and len(filled) <= 4 * len(template) + 120:
            return found.pop()  # the equation inside a short sentence
        if len(found) > 1:
            raise AmbiguousAnswer("two different completed equations")
        digits = re.fullmatch(r"\s*\d(?:\s*(?:,|;|\s|and)\s*\d)*\s*", text)
        if digits and len(re.findall(r"\d", text)) == template.count("?"):
            it = iter(re.findall(r"\d", text))
            return "".join(next(it) if ch == "?" else ch for ch in template)
        if template.count("?") and len(re.findall(r"=", text)) > 1:
            refuse_hedge(text, "equations")
        raise ValueError("the answer does not fill the equation's blanks with digits")

    def judge(self, spec: Mapping[str, Any], value: str) -> float:
        """1.0 if the filled equation holds."""
        left, right = value.split("=")
        return 1.0 if evaluate_arithmetic(left).value == Fraction(int(right)) else 0.0


__all__ = ["MathPath"]
