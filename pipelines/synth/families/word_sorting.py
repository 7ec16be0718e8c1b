"""Word sorting: sort a list of words by a stated rule (the order is unique)."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tracemill.pipelines.synth.base import Item, Task, check_level, register_task
from tracemill.pipelines.synth.textutil import parse_list, refuse_hedge
from tracemill.pipelines.synth.wordlists import WORDS

_SYLLABLES = ("ba", "ka", "lo", "mi", "ne", "ru", "ta", "vo", "zi", "pe", "sha", "tor", "lin")

RULES: dict[str, str] = {
    "alpha": "in alphabetical order (A to Z)",
    "reverse": "in reverse alphabetical order (Z to A)",
    "length": "by length, shortest first; words of the same length in alphabetical order",
    "last": "by their last letter (A to Z); words with the same last letter in alphabetical order",
}


def sort_key(rule: str) -> Callable[[str], Any]:
    """The sort key of a rule (``reverse`` sorts descending with the ``alpha`` key)."""
    if rule in ("alpha", "reverse"):
        return lambda w: w
    if rule == "length":
        return lambda w: (len(w), w)
    if rule == "last":
        return lambda w: (w[-1], w)
    raise ValueError(f"unknown sort rule {rule!r}")


def sort_words(words: list[str], rule: str) -> list[str]:
    """``words`` sorted by ``rule``."""
    return sorted(words, key=sort_key(rule), reverse=rule == "reverse")


@register_task
class WordSorting(Task):
    """Sort words by a rule."""

    name = "word_sorting"
    version = "3"
    description = "Sort a list of words alphabetically or by another stated rule."

    @dataclass(frozen=True)
    class Config:
        """Difficulty knobs."""

        count: int = 6
        """Number of words."""
        rules: str = "alpha"
        """Comma-separated rules to draw from: alpha, reverse, length, last."""
        shared_prefix: float = 0.0
        """Share of words made to start alike (invented words), so more letters matter."""

        def __post_init__(self) -> None:
            if not 2 <= self.count <= 200:
                raise ValueError("count must be 2..200")
            if not self.rules or set(self.rules.split(",")) - set(RULES):
                raise ValueError(f"rules must be a comma-separated subset of {sorted(RULES)}")
            if not 0.0 <= self.shared_prefix <= 1.0:
                raise ValueError("shared_prefix must be in [0, 1]")

    @classmethod
    def config_for_level(cls, level: int) -> Config:
        """More words, more rules and more shared prefixes with the level."""
        level = check_level(level)
        count = [5, 7, 9, 11, 13, 15, 18, 22, 26, 30][level - 1]
        rules = ["alpha", "alpha", "alpha,reverse", "alpha,reverse", "alpha,reverse,length"]
        rules += ["alpha,reverse,length", "alpha,reverse,length,last"] * 2
        rules += ["alpha,reverse,length,last"]
        prefix = [0.0, 0.0, 0.1, 0.2, 0.3, 0.3, 0.4, 0.5, 0.5, 0.6][level - 1]
        return cls.Config(count=count, rules=rules[level - 1], shared_prefix=prefix)

    def generate(self, config: Config, rng: random.Random) -> Item:
        """Distinct words (some invented with shared prefixes) and a rule."""
        words: set[str] = set()
        invented = round(config.count * config.shared_prefix)
        stem = "".join(rng.choice(_SYLLABLES) for _ in range(2))
        while len(words) < invented:
            tail = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(1, 2)))
            words.add(stem + tail)
        words.update(rng.sample(WORDS, config.count - len(words)))
        listed = sorted(words)
        rng.shuffle(listed)
        rule = rng.choice(config.rules.split(","))
        answer = ", ".join(sort_words(listed, rule))
        question = (
            f"Sort the following words {RULES[rule]}.\n\n"
            f"Words: {' '.join(listed)}\n\n"
            "Give the sorted words separated by commas inside answer tags, for example "
            "<answer>apple, banana, cherry</answer>."
        )
        spec = {"words": sort_words(listed, rule)}
        return Item(question, answer, spec, difficulty=float(config.count))

    def parse(self, spec: Mapping[str, Any], text: str) -> tuple[str, ...]:
        """A list of the given words (comma-, line- or, for all of them, space-separated)."""
        expected = [str(w) for w in spec["words"]]
        if len(text) > 40 * len(expected) + 200:
            raise ValueError("answer too long")
        refuse_hedge(text, "orders")
        given = parse_list(text, max_items=len(expected) * 4 + 10)
        if len(given) == 1 and " " in given[0]:
            given = parse_list(text, split_spaces=True, max_items=len(expected) * 4 + 10)
            if len(given) != len(expected):
                raise ValueError(f"expected a list of {len(expected)} words")
        vocabulary = set(expected)
        bad = next((w for w in given if w not in vocabulary), None)
        if bad is not None or not given:
            raise ValueError(f"{(bad or '')[:30]!r} is not one of the words to sort")
        return tuple(given)

    def judge(self, spec: Mapping[str, Any], value: tuple[str, ...]) -> float:
        """1.0 if the answer lists exactly the words in the expected order."""
        return 1.0 if list(value) == [str(w) for w in spec["words"]] else 0.0


__all__ = ["WordSorting", "sort_words"]
