"""Dyck language completion: close every open bracket of a sequence, in order.

The shortest completion of a valid prefix is unique: the open brackets closed
innermost first. Answers are compared with whitespace and commas removed.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tracemill.pipelines.synth.base import Item, Task, check_level, register_task

PAIRS = {"(": ")", "[": "]", "{": "}", "<": ">"}
_BRACKETS = frozenset("()[]{}<>")


def closing_sequence(prefix: str) -> str:
    """The closers that complete ``prefix`` (raises ``ValueError`` if it is not a prefix)."""
    stack: list[str] = []
    for ch in prefix:
        if ch in PAIRS:
            stack.append(ch)
        elif ch in PAIRS.values():
            if not stack or PAIRS[stack.pop()] != ch:
                raise ValueError("not a valid prefix")
    return "".join(PAIRS[ch] for ch in reversed(stack))


@register_task
class DyckLanguage(Task):
    """Complete a bracket sequence so that every bracket is properly closed."""

    name = "dyck_language"
    version = "3"
    description = "Close the open brackets of a Dyck-language prefix."

    @dataclass(frozen=True)
    class Config:
        """Difficulty knobs."""

        length: int = 8
        """Length of the shown prefix."""
        kinds: int = 2
        """Bracket kinds used (1–4 of ``() [] {} <>``)."""
        max_depth: int = 4
        """Maximum nesting depth."""

        def __post_init__(self) -> None:
            if not 2 <= self.length <= 400:
                raise ValueError("length must be 2..400")
            if not 1 <= self.kinds <= 4:
                raise ValueError("kinds must be 1..4")
            if not 1 <= self.max_depth <= 100:
                raise ValueError("max_depth must be 1..100")

    @classmethod
    def config_for_level(cls, level: int) -> Config:
        """Longer prefixes, more bracket kinds and deeper nesting with the level."""
        level = check_level(level)
        length = [6, 10, 14, 18, 24, 30, 38, 46, 56, 70][level - 1]
        kinds = [1, 2, 2, 3, 3, 4, 4, 4, 4, 4][level - 1]
        depth = [3, 3, 4, 5, 6, 7, 8, 10, 12, 15][level - 1]
        return cls.Config(length=length, kinds=kinds, max_depth=depth)

    def generate(self, config: Config, rng: random.Random) -> Item:
        """A random valid prefix that leaves at least one bracket open."""
        opens = list(PAIRS)[: config.kinds]
        while True:
            stack: list[str] = []
            out: list[str] = []
            for _ in range(config.length):
                remaining = config.length - len(out)
                can_open = len(stack) < config.max_depth and remaining > 1
                if stack and (not can_open or rng.random() < 0.45):
                    out.append(PAIRS[stack.pop()])
                else:
                    ch = rng.choice(opens)
                    stack.append(ch)
                    out.append(ch)
            if stack:
                break
        prefix = " ".join(out)
        answer = " ".join(closing_sequence("".join(out)))
        question = (
            "Complete the sequence of brackets below so that every bracket is closed "
            "properly (each closing bracket matches the most recent unclosed opening "
            "bracket of the same kind). Add only the closing brackets needed, as few as "
            "possible.\n\n"
            f"Sequence: {prefix}\n\n"
            "Give only the brackets you add, separated by spaces, inside answer tags, for "
            "example <answer>] ) }</answer>."
        )
        spec = {"prefix": "".join(out), "closing": answer.replace(" ", "")}
        return Item(question, answer, spec, difficulty=float(config.length + len(stack)))

    def parse(self, spec: Mapping[str, Any], text: str) -> str:
        """The brackets added (a repeated prefix is dropped); nothing but brackets."""
        if len(text) > 5000:
            raise ValueError("answer too long")
        seq = "".join(ch for ch in text if not ch.isspace() and ch not in ",.`\"'*")
        if not seq or any(ch not in _BRACKETS for ch in seq):
            raise ValueError("expected a sequence of brackets")
        prefix = str(spec["prefix"])
        if seq[0] in PAIRS and seq.startswith(prefix):
            seq = seq[len(prefix) :]  # the whole sequence was repeated
        return seq

    def judge(self, spec: Mapping[str, Any], value: str) -> float:
        """1.0 if the added brackets equal the unique shortest completion."""
        return 1.0 if value == str(spec["closing"]) else 0.0


__all__ = ["DyckLanguage", "closing_sequence"]
