"""Boolean expressions: evaluate a nested expression of True/False with not/and/or/xor."""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tracemill.pipelines.synth.base import Item, Task, check_level, register_task
from tracemill.pipelines.synth.textutil import normalize_token, refuse_hedge

_TRUE = {"true", "t", "yes", "1"}
_FALSE = {"false", "f", "no", "0"}
_WORD = re.compile(r"[a-z]+")


def _build(
    rng: random.Random, depth: int, ops: tuple[str, ...], not_rate: float, top: bool = True
) -> tuple[str, bool]:
    if depth == 0 or (not top and rng.random() < 0.2):
        value = rng.random() < 0.5
        text, result = str(value), value
    else:
        op = rng.choice(ops)
        left, lv = _build(rng, depth - 1, ops, not_rate, False)
        right, rv = _build(rng, depth - 1, ops, not_rate, False)
        result = {"and": lv and rv, "or": lv or rv, "xor": lv != rv}[op]
        text = f"({left} {op} {right})"
    if rng.random() < not_rate:
        text, result = f"not {text}", not result
    return text, result


@register_task
class BooleanExpressions(Task):
    """Evaluate a Boolean expression."""

    name = "boolean_expressions"
    version = "3"
    description = "Evaluate nested not/and/or/xor expressions over True and False."

    @dataclass(frozen=True)
    class Config:
        """Difficulty knobs."""

        depth: int = 2
        """Maximum nesting depth of binary operations."""
        xor: bool = False
        """Whether ``xor`` appears besides ``and``/``or``."""
        not_rate: float = 0.2
        """Probability of a ``not`` in front of each sub-expression."""

        def __post_init__(self) -> None:
            if not 1 <= self.depth <= 8:
                raise ValueError("depth must be 1..8")
            if not 0.0 <= self.not_rate <= 0.9:
                raise ValueError("not_rate must be in [0, 0.9]")

    @classmethod
    def config_for_level(cls, level: int) -> Config:
        """Deeper expressions, more negations and xor with the level."""
        level = check_level(level)
        depth = [1, 2, 2, 3, 3, 4, 4, 5, 5, 6][level - 1]
        return cls.Config(depth=depth, xor=level >= 5, not_rate=min(0.15 + 0.05 * level, 0.6))

    def generate(self, config: Config, rng: random.Random) -> Item:
        """A random expression, balanced between True and False answers."""
        ops = ("and", "or", "xor") if config.xor else ("and", "or")
        want = rng.random() < 0.5
        for _ in range(100):
            text, value = _build(rng, config.depth, ops, config.not_rate)
            leaves = text.count("True") + text.count("False")
            if value == want and leaves >= config.depth + 1:
                break
        if text.startswith("(") and text.endswith(")") and text.count("(") == 1:
            text = text[1:-1]
        notes = " (xor is true when exactly one side is true)" if config.xor else ""
        question = (
            f"Evaluate the Boolean expression below{notes}. Parentheses group "
            "sub-expressions and `not` applies to what immediately follows it.\n\n"
            f"    {text}\n\n"
            "Give True or False inside answer tags, for example <answer>True</answer>."
        )
        return Item(question, str(value), {"value": value}, difficulty=float(text.count("(")))

    def parse(self, spec: Mapping[str, Any], text: str) -> bool:
        """True or False (also T/F, yes/no, 1/0)."""
        token = normalize_token(text[:100])
        if token in _TRUE:
            return True
        if token in _FALSE:
            return False
        words = set(_WORD.findall(text[:200].lower()))
        if words & {"true", "false"} == {"true", "false"}:
            refuse_hedge(text, "values")
        raise ValueError(f"expected True or False, got {text[:50]!r}")

    def judge(self, spec: Mapping[str, Any], value: bool) -> float:
        """1.0 if the answer names the expression's value."""
        return 1.0 if value == bool(spec["value"]) else 0.0


__all__ = ["BooleanExpressions"]
