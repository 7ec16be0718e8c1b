"""Cipher decoding: Caesar (one shift) or Vigenère (a keyword) with the key given.

Only letters are shifted; spaces stay. Decoding with the stated key is a bijection, so
the plaintext is unique.
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tracemill.pipelines.synth.base import Item, Task, check_level, register_task
from tracemill.pipelines.synth.grid import positive_int, wrong
from tracemill.pipelines.synth.wordlists import WORDS
from tracemill.pipelines.verify.registry import Verdict

_LEVELS = {
    1: (3, 1),
    2: (4, 1),
    3: (5, 1),
    4: (5, 2),
    5: (6, 3),
    6: (7, 3),
    7: (8, 4),
    8: (9, 5),
    9: (10, 6),
    10: (12, 7),
}
_NOT_LETTER = re.compile(r"[^a-z]+")


@dataclass(frozen=True)
class CipherConfig:
    """Knobs: message length in words and key length (1 = Caesar)."""

    words: int = 3
    """Words in the message (1–40)."""
    key_length: int = 1
    """1 for a Caesar shift, more for a Vigenère keyword of that many letters (1–12)."""

    def __post_init__(self) -> None:
        positive_int("words", self.words, 1, 40)
        positive_int("key_length", self.key_length, 1, 12)


def shift_text(text: str, shifts: list[int]) -> str:
    """Shift each letter by the next shift in turn (cycling); other characters stay."""
    out = []
    i = 0
    for ch in text:
        if ch in string.ascii_lowercase:
            out.append(chr((ord(ch) - 97 + shifts[i % len(shifts)]) % 26 + 97))
            i += 1
        else:
            out.append(ch)
    return "".join(out)


def normalize_words(text: str, limit: int = 2000) -> list[str]:
    """Lower-case letter runs of ``text`` (punctuation and spacing ignored)."""
    if len(text) > limit:
        raise ValueError("answer too long")
    return [w for w in _NOT_LETTER.split(text.lower()) if w]


@register_task
class CipherTask(Task):
    """Decode a message enciphered with a known Caesar shift or Vigenère keyword."""

    name = "cipher"
    domain = "logic"
    version = "3"
    description = "Decode Caesar / Vigenère ciphertext given the key."
    Config = CipherConfig

    @classmethod
    def config_for_level(cls, level: int) -> CipherConfig:
        """Longer messages and longer keys as levels rise."""
        words, key = _LEVELS[check_level(level)]
        return CipherConfig(words=words, key_length=key)

    def generate(self, config: CipherConfig, rng: random.Random) -> Item:
        """Random words enciphered with a random key."""
        plain = " ".join(rng.choice(WORDS) for _ in range(config.words))
        if config.key_length == 1:
            shift = rng.randint(1, 25)
            shifts = [shift]
            rule = (
                f"It was enciphered with a Caesar cipher: every letter was shifted {shift} "
                f"places forward in the alphabet (wrapping from z to a)."
            )
        else:
            key = "".join(rng.choice(string.ascii_lowercase[1:]) for _ in range(config.key_length))
            shifts = [ord(ch) - 97 for ch in key]
            rule = (
                f'It was enciphered with a Vigenère cipher with the keyword "{key}": the '
                "letters of the message (spaces are skipped and do not use up key letters) "
                "were shifted forward in the alphabet, in turn, by the keyword's letters "
                "(a = 0, b = 1, …, z = 25), starting again from the keyword's first letter "
                "when it runs out, wrapping from z to a."
            )
        cipher = shift_text(plain, shifts)
        question = (
            "The message below consists of lower-case English words separated by spaces. "
            f"{rule}\n\nCiphertext: {cipher}\n\n"
            "Decode it. Give the plaintext words in lower case separated by single spaces "
            "inside answer tags, for example <answer>hello world</answer>."
        )
        return Item(
            question=question,
            answer=plain,
            spec={"plaintext": plain.split()},
            difficulty=float(len(plain.replace(" ", "")) / 5 + 3 * config.key_length),
        )

    def parse(self, spec: Mapping[str, Any], text: str) -> tuple[str, ...]:
        """Words shaped like the ciphertext's (both ciphers keep word lengths), case ignored."""
        expected = [str(w) for w in spec["plaintext"]]
        got = normalize_words(text, limit=20 * sum(len(w) + 1 for w in expected) + 100)
        if [len(w) for w in got] != [len(w) for w in expected]:
            shape = [len(w) for w in expected]
            raise ValueError(f"expected {len(expected)} words of lengths {shape}")
        return tuple(got)

    def judge(self, spec: Mapping[str, Any], value: tuple[str, ...]) -> Verdict | float:
        """The decoded words must equal the plaintext."""
        if list(value) == [str(w) for w in spec["plaintext"]]:
            return 1.0
        return wrong("the decoded text differs from the message")
