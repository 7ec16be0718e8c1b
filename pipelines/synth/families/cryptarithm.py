"""Cryptarithm: letters stand for distinct digits in a column addition; find them.

Generation encodes a random sum with random letters, then reveals letters as hints until
a column-wise solver proves the decoding unique. The verifier checks the decoding against
the puzzle's rules (distinct digits, no leading zeros, hints kept, the sum holds).
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tracemill.pipelines.synth.base import Item, Task, check_level, register_task
from tracemill.pipelines.synth.textutil import refuse_hedge
from tracemill.pipelines.verify.answers import AmbiguousAnswer


def solve_cryptarithm(
    addends: list[str], result: str, fixed: Mapping[str, int] | None = None, limit: int = 2
) -> list[dict[str, int]]:
    """Up to ``limit`` letter→digit solutions of ``sum(addends) == result``."""
    width = max(len(result), *(len(w) for w in addends))
    leading = {w[0] for w in [*addends, result] if len(w) > 1}
    columns = [[w[-1 - c] for w in addends if c < len(w)] for c in range(width)]
    result_letters = [result[-1 - c] if c < len(result) else None for c in range(width)]
    assign: dict[str, int] = dict(fixed or {})
    used = set(assign.values())
    solutions: list[dict[str, int]] = []

    def ok(letter: str, digit: int) -> bool:
        return digit not in used and not (digit == 0 and letter in leading)

    def column(c: int, carry: int) -> None:
        if len(solutions) >= limit:
            return
        if c == width:
            if carry == 0:
                solutions.append(dict(assign))
            return
        letters = columns[c]

        def place(i: int) -> None:
            if len(solutions) >= limit:
                return
            if i < len(letters):
                letter = letters[i]
                if letter in assign:
                    place(i + 1)
                    return
                for d in range(10):
                    if ok(letter, d):
                        assign[letter] = d
                        used.add(d)
                        place(i + 1)
                        used.discard(d)
                        del assign[letter]
                return
            total = carry + sum(assign[x] for x in letters)
            digit, nxt = total % 10, total // 10
            out = result_letters[c]
            if out is None:
                if digit == 0 and nxt == 0:
                    column(c + 1, 0)
                return
            if out in assign:
                if assign[out] == digit:
                    column(c + 1, nxt)
            elif ok(out, digit):
                assign[out] = digit
                used.add(digit)
                column(c + 1, nxt)
                used.discard(digit)
                del assign[out]

        place(0)

    column(0, 0)
    return solutions


_PAIR = re.compile(r"(?<![A-Za-z])([A-Za-z])\s*(?:=|:|->|→|\||\bis\b)\s*(\d+)\b")


_CELLS = re.compile(r"[^\s|,;]+")
_SUM = re.compile(r"^\s*(\d+(?:\s*\+\s*\d+)+)\s*=\s*(\d+)\s*\.?\s*$")


def _columns(text: str) -> list[tuple[str, str]]:
    """A table with the letters on one row and their digits on the next (``K | L`` / ``0 | 7``)."""
    lines = [line for line in text.split("\n") if line.strip()]
    if len(lines) != 2:
        return []
    letters, digits = _CELLS.findall(lines[0]), _CELLS.findall(lines[1])
    if (
        len(letters) != len(digits)
        or not all(re.fullmatch(r"[A-Za-z]", x) for x in letters)
        or not all(re.fullmatch(r"\d", x) for x in digits)
    ):
        return []
    return list(zip(letters, digits, strict=True))


def _substituted(text: str, addends: list[str], result: str) -> list[tuple[str, str]]:
    """The sum with its letters replaced by digits (``93 + 501 = 594``), as letter/digit pairs.

    The numbers must have the words' lengths, in order; a letter read as two different
    digits does not read (``ValueError``).
    """
    m = _SUM.match(text.strip())
    if not m:
        return []
    numbers = [v.strip() for v in m.group(1).split("+")] + [m.group(2)]
    words = [*addends, result]
    if [len(v) for v in numbers] != [len(w) for w in words]:
        return []
    pairs = [
        (ch, d) for w, v in zip(words, numbers, strict=True) for ch, d in zip(w, v, strict=True)
    ]
    if len(set(pairs)) != len({ch for ch, _ in pairs}):
        raise ValueError("the sum gives one letter two different digits")
    return pairs


@register_task
class Cryptarithm(Task):
    """Decode a letter-for-digit addition puzzle with a unique solution."""

    name = "cryptarithm"
    version = "3"
    description = "Find the digit of each letter in a column addition."

    @dataclass(frozen=True)
    class Config:
        """Difficulty knobs."""

        addends: int = 2
        """How many words are added."""
        min_length: int = 2
        """Shortest addend word."""
        max_length: int = 3
        """Longest addend word."""

        def __post_init__(self) -> None:
            if not 2 <= self.addends <= 4:
                raise ValueError("addends must be 2..4")
            if not 1 <= self.min_length <= self.max_length <= 6:
                raise ValueError("need 1 <= min_length <= max_length <= 6")

    @classmethod
    def config_for_level(cls, level: int) -> Config:
        """Longer words and more addends with the level."""
        level = check_level(level)
        table = {
            1: (2, 2, 2),
            2: (2, 2, 3),
            3: (2, 3, 3),
            4: (2, 3, 4),
            5: (2, 4, 4),
            6: (3, 3, 4),
            7: (2, 4, 5),
            8: (3, 4, 5),
            9: (2, 5, 6),
            10: (3, 5, 6),
        }
        addends, lo, hi = table[level]
        return cls.Config(addends=addends, min_length=lo, max_length=hi)

    def generate(self, config: Config, rng: random.Random) -> Item:
        """Encode a random sum, then reveal letters until the decoding is unique."""
        while True:
            numbers = []
            for _ in range(config.addends):
                length = rng.randint(config.min_length, config.max_length)
                low = 10 ** (length - 1) if length > 1 else 0
                numbers.append(rng.randint(low, 10**length - 1))
            total = sum(numbers)
            digits = sorted(set("".join(str(n) for n in [*numbers, total])))
            if len(digits) >= 3:
                break
        letters = rng.sample(string.ascii_uppercase, len(digits))
        code = dict(zip(digits, letters, strict=True))
        addends = ["".join(code[d] for d in str(n)) for n in numbers]
        result = "".join(code[d] for d in str(total))
        truth = {code[d]: int(d) for d in digits}
        hints: dict[str, int] = {}
        order = sorted(truth)
        rng.shuffle(order)
        while len(sols := solve_cryptarithm(addends, result, hints)) > 1:
            # reveal a letter on which the first two solutions disagree
            differing = [x for x in order if sols[0][x] != sols[1][x] and x not in hints]
            pick = differing[0]
            hints[pick] = truth[pick]
        equation = " + ".join(addends) + " = " + result
        hint_text = ""
        if hints:
            shown = ", ".join(f"{k} = {v}" for k, v in sorted(hints.items()))
            hint_text = f"You are also told that {shown}.\n"
        all_letters = sorted(truth)
        question = (
            "In the addition below each letter stands for a different digit (0-9), the "
            "same letter always stands for the same digit, and no number with more than "
            "one digit starts with 0.\n\n"
            f"    {equation}\n\n"
            f"{hint_text}"
            "Find the digit of every letter. The solution is unique.\n\n"
            "Give the digit of each letter in alphabetical order inside answer tags, "
            f"for example <answer>{', '.join(f'{x}=?' for x in all_letters[:3])}, ...</answer>"
            f" covering all letters {', '.join(all_letters)}."
        )
        answer = ", ".join(f"{x}={truth[x]}" for x in all_letters)
        spec = {"addends": addends, "result": result, "hints": hints}
        difficulty = float(len(truth) + sum(len(w) for w in addends) - len(hints))
        return Item(question, answer, spec, difficulty=difficulty)

    def parse(self, spec: Mapping[str, Any], text: str) -> dict[str, int]:
        """A digit for every letter of the puzzle.

        Read: ``A=1, B=2``, ``A: 1``, table rows, a table of letters over digits, or the sum
        with its letters replaced (``93 + 501 = 594``, as SynLogic asks for it).
        """
        if len(text) > 2000:
            raise ValueError("answer too long")
        addends = [str(w) for w in spec["addends"]]
        letters = set("".join([*addends, str(spec["result"])]))
        refuse_hedge(text, "digits")
        mapping: dict[str, int] = {}
        pairs = (
            _PAIR.findall(text)
            or _columns(text)
            or _substituted(text, addends, str(spec["result"]))
        )
        for letter, digit in pairs:
            letter = letter.upper()
            if letter not in letters:
                raise ValueError(f"{letter} is not a letter of the puzzle")
            value = int(digit)
            if value > 9:
                raise ValueError(f"{letter} = {digit} is not a digit")
            if mapping.setdefault(letter, value) != value:
                raise AmbiguousAnswer(f"{letter} is given two digits")
        missing = sorted(letters - set(mapping))
        if missing:
            raise ValueError(f"no digit given for {', '.join(missing)}")
        return mapping

    def judge(self, spec: Mapping[str, Any], mapping: dict[str, int]) -> float:
        """1.0 if the decoding is one-to-one, keeps the hints and makes the sum true."""
        addends = [str(w) for w in spec["addends"]]
        result = str(spec["result"])
        if len(set(mapping.values())) != len(mapping):
            return 0.0
        for letter, digit in dict(spec.get("hints") or {}).items():
            if mapping[letter] != int(digit):
                return 0.0
        words = [*addends, result]
        if any(len(w) > 1 and mapping[w[0]] == 0 for w in words):
            return 0.0

        def value(word: str) -> int:
            return int("".join(str(mapping[ch]) for ch in word))

        return 1.0 if sum(value(w) for w in addends) == value(result) else 0.0


__all__ = ["Cryptarithm", "solve_cryptarithm"]
