"""Binary arithmetic: evaluate a fully parenthesized expression over binary numbers.

Operators are bitwise AND / OR / XOR, addition and (at higher levels) shifts by a
stated number of places; nothing can go negative, and the value is computed exactly.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tracemill.pipelines.synth.base import Item, Task, check_level, register_task
from tracemill.pipelines.synth.grid import number_in, positive_int, wrong
from tracemill.pipelines.synth.textutil import refuse_hedge
from tracemill.pipelines.verify.registry import Verdict

OPS = ("AND", "OR", "XOR", "+")
_BINARY = re.compile(r"[01]{1,400}")
_BASE_SUFFIX = re.compile(r"(?:_\{?2\}?|(?<=\))2|\(base\s*2\)|\s+in\s+binary|\(binary\))$")
"""``_2``, ``_{2}``, ``(…)₂`` (``)2`` once NFKC-normalised), "(base 2)", "in binary"."""
_DECIMAL_NOTE = re.compile(
    r"\s*\(\s*(?:=|which\s+is|that\s+is|i\.e\.,?)?\s*\d{1,40}"
    r"(?:\s*(?:in\s+)?(?:decimal|base\s*10|_\{?10\}?))?\s*\)$",
    re.I,
)

_LEVELS = {
    1: (4, 1, 0.0),
    2: (4, 2, 0.0),
    3: (5, 2, 0.0),
    4: (6, 3, 0.2),
    5: (6, 3, 0.3),
    6: (7, 4, 0.3),
    7: (8, 4, 0.3),
    8: (8, 5, 0.4),
    9: (10, 6, 0.4),
    10: (12, 7, 0.5),
}


@dataclass(frozen=True)
class BinaryArithmeticConfig:
    """Knobs: operand width, number of operations, share of shift operations."""

    bits: int = 4
    """Width of each binary operand (2–32)."""
    ops: int = 1
    """Binary operations in the expression (1–12)."""
    shift_share: float = 0.0
    """Chance that an operation is a left/right shift instead of AND/OR/XOR/+."""

    def __post_init__(self) -> None:
        positive_int("bits", self.bits, 2, 32)
        positive_int("ops", self.ops, 1, 12)
        number_in("shift_share", self.shift_share, 0.0, 1.0)


def _operand(bits: int, rng: random.Random) -> tuple[str, int]:
    value = rng.randint(1, (1 << bits) - 1)
    return format(value, f"0{bits}b"), value


def parse_binary(text: str) -> int:
    """A non-negative binary number.

    A ``0b`` prefix, a ``_2``/``(base 2)`` suffix (also on a parenthesised number,
    ``(11101)_2``), digit-group spaces or ``_`` and a
    trailing decimal reading in parentheses (``11101 (29)``) are allowed.
    """
    if len(text) > 1000:
        raise ValueError("binary answer too long")
    plain = _DECIMAL_NOTE.sub("", text.strip().rstrip(".").lower()).strip()
    plain = _BASE_SUFFIX.sub("", plain).strip()
    if plain.startswith("(") and plain.endswith(")"):  # (11101)_2
        plain = plain[1:-1]
    cleaned = re.sub(r"[\s_]", "", plain).removeprefix("0b")
    if not _BINARY.fullmatch(cleaned):
        if len(re.findall(r"[01]{2,}", text)) > 1:
            refuse_hedge(text, "numbers")
        raise ValueError("expected a binary number made of 0s and 1s")
    return int(cleaned, 2)


@register_task
class BinaryArithmeticTask(Task):
    """Evaluate bitwise and arithmetic operations on binary numbers."""

    name = "binary_arithmetic"
    domain = "logic"
    version = "3"
    description = "Evaluate AND/OR/XOR/+/shift expressions over binary numbers; answer in binary."
    Config = BinaryArithmeticConfig

    @classmethod
    def config_for_level(cls, level: int) -> BinaryArithmeticConfig:
        """Wider operands, more operations and more shifts as levels rise."""
        bits, ops, shifts = _LEVELS[check_level(level)]
        return BinaryArithmeticConfig(bits=bits, ops=ops, shift_share=shifts)

    def generate(self, config: BinaryArithmeticConfig, rng: random.Random) -> Item:
        """Grow an expression tree by combining random sub-expressions."""
        parts = [_operand(config.bits, rng)]
        for _ in range(config.ops):
            if rng.random() < config.shift_share:
                i = rng.randrange(len(parts))
                text, value = parts[i]
                k = rng.randint(1, 3)
                if rng.random() < 0.5:
                    parts[i] = (f"({text} << {k})", value << k)
                else:
                    parts[i] = (f"({text} >> {k})", value >> k)
                continue
            if len(parts) == 1 or rng.random() < 0.6:
                parts.append(_operand(config.bits, rng))
            i, j = rng.sample(range(len(parts)), 2)
            (ta, va), (tb, vb) = parts[i], parts[j]
            op = rng.choice(OPS)
            value = {"AND": va & vb, "OR": va | vb, "XOR": va ^ vb, "+": va + vb}[op]
            merged = (f"({ta} {op} {tb})", value)
            parts = [p for k, p in enumerate(parts) if k not in (i, j)] + [merged]
        while len(parts) > 1:
            (ta, va), (tb, vb) = parts.pop(), parts.pop()
            parts.append((f"({ta} + {tb})", va + vb))
        text, value = parts[0]
        expr = text[1:-1] if text.startswith("(") and text.endswith(")") else text
        question = (
            "All numbers below are written in binary. AND, OR and XOR are bitwise, + is "
            "ordinary addition, << k and >> k shift left / right by k places (k is written "
            "in decimal; bits shifted out on the right are dropped).\n\n"
            f"{expr}\n\n"
            "Evaluate the expression. Write the result in binary without leading zeros "
            "inside answer tags, for example <answer>10110</answer>."
        )
        return Item(
            question=question,
            answer=format(value, "b"),
            spec={"value": value},
            difficulty=float(config.ops * 2 + config.bits / 2),
        )

    def parse(self, spec: Mapping[str, Any], text: str) -> int:
        """A binary number (see :func:`parse_binary`)."""
        return parse_binary(text)

    def judge(self, spec: Mapping[str, Any], value: int) -> Verdict | float:
        """The binary value must equal the stored value (leading zeros allowed)."""
        return 1.0 if value == int(spec["value"]) else wrong("wrong value")
