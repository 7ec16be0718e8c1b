"""Object counting: count the items of one category in a list of possessions."""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tracemill.pipelines.synth.base import Item, Task, check_level, register_task
from tracemill.pipelines.synth.textutil import refuse_hedge
from tracemill.pipelines.synth.wordlists import NUMBER_WORDS, OBJECTS, article, plural

_NUMBER = "|".join(sorted(NUMBER_WORDS, key=len, reverse=True))
_COUNT = re.compile(rf"(\d{{1,6}}|{_NUMBER})(?:\s+[a-z][a-z ]{{0,40}})?\.?")
"""A count, and optionally the noun after it ("6 vegetables")."""
_COUNT_WORD = re.compile(rf"\b(?:\d{{1,6}}|{_NUMBER})\b")
_NUMBERING = re.compile(r"^\s*\d{1,3}[.)]\s+")
_SENTENCE = re.compile(
    r"(?=[^\n]*\b(?:total|in all|altogether|have|has|there (?:are|is)|count(?:ed)?)\b)"
    r"[^\n]{1,120}"
)
"""A one-line sentence that states a count ("You have 6 vegetables in total.")."""


def _amount(count: int, noun: str, rng: random.Random, digits: bool) -> str:
    if count == 1:
        return f"{article(noun)} {noun}"
    number = str(count) if digits or count >= len(NUMBER_WORDS) else NUMBER_WORDS[count]
    if not digits and rng.random() < 0.2:
        number = str(count)
    return f"{number} {plural(noun)}"


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + ", and " + parts[-1]


@register_task
class ObjectCounting(Task):
    """Count the objects of one category among many."""

    name = "object_counting"
    version = "3"
    description = "Count the items of a category, with distractors and later changes."

    @dataclass(frozen=True)
    class Config:
        """Difficulty knobs."""

        items: int = 5
        """Distinct kinds of items listed."""
        max_quantity: int = 3
        """Largest quantity of one kind."""
        changes: int = 0
        """Later sentences that add or remove items."""

        def __post_init__(self) -> None:
            if not 2 <= self.items <= 30:
                raise ValueError("items must be 2..30")
            if not 1 <= self.max_quantity <= 50:
                raise ValueError("max_quantity must be 1..50")
            if not 0 <= self.changes <= 10:
                raise ValueError("changes must be 0..10")

    @classmethod
    def config_for_level(cls, level: int) -> Config:
        """More kinds, bigger quantities and more changes with the level."""
        level = check_level(level)
        items = [3, 5, 6, 8, 9, 10, 12, 14, 16, 18][level - 1]
        qty = [1, 3, 4, 5, 6, 8, 10, 12, 15, 20][level - 1]
        changes = [0, 0, 0, 1, 1, 2, 2, 3, 4, 5][level - 1]
        return cls.Config(items=items, max_quantity=qty, changes=changes)

    def generate(self, config: Config, rng: random.Random) -> Item:
        """A shuffled inventory; the question asks for one category's total."""
        category = rng.choice(sorted(OBJECTS))
        pool = [(cat, noun) for cat, nouns in sorted(OBJECTS.items()) for noun in nouns]
        own = [p for p in pool if p[0] == category]
        other = [p for p in pool if p[0] != category]
        n_own = min(len(own), max(1, rng.randint(config.items // 3, (config.items + 1) // 2)))
        chosen = rng.sample(own, n_own) + rng.sample(other, min(len(other), config.items - n_own))
        rng.shuffle(chosen)
        counts = {noun: rng.randint(1, config.max_quantity) for _, noun in chosen}
        digits = config.max_quantity > 10
        text = "I have " + _join([_amount(counts[n], n, rng, digits) for _, n in chosen]) + "."
        events = []
        for _ in range(config.changes):
            cat, noun = rng.choice(chosen)
            if counts[noun] > 1 and rng.random() < 0.5:
                lost = rng.randint(1, counts[noun] - 1)
                counts[noun] -= lost
                verb = rng.choice(["gave away", "sold", "lost"])
                events.append(f"Then I {verb} {_amount(lost, noun, rng, digits)}.")
            else:
                extra = rng.randint(1, max(1, config.max_quantity // 2))
                counts[noun] += extra
                verb = rng.choice(["bought", "was given", "found"])
                amount = _amount(extra, noun, rng, digits)
                if extra == 1:
                    amount = f"one more {noun}"
                else:
                    number, _, rest = amount.partition(" ")
                    amount = f"{number} more {rest}"
                events.append(f"Then I {verb} {amount}.")
        total = sum(counts[n] for c, n in chosen if c == category)
        story = " ".join([text, *events])
        question = (
            f"{story}\n\nHow many {plural(category)} do I have now? Count every item of "
            "that kind.\n\nGive the number inside answer tags, for example "
            "<answer>7</answer>."
        )
        spec = {"count": total}
        return Item(question, str(total), spec, difficulty=float(config.items + 2 * config.changes))

    def parse(self, spec: Mapping[str, Any], text: str) -> int:
        """A count in digits or as a number word (with its noun, or alone in a short sentence)."""
        plain = _NUMBERING.sub("", text.strip().lower())
        m = _COUNT.fullmatch(plain)
        counts = _COUNT_WORD.findall(plain)
        if m:
            token = m.group(1)
        elif len(counts) == 1 and _SENTENCE.fullmatch(plain):
            token = counts[0]  # one count in a counting sentence: "You have 6 vegetables."
        else:
            if len(counts) > 1:
                refuse_hedge(text, "counts")
            raise ValueError(f"not a count: {text[:50]!r}")
        return NUMBER_WORDS.index(token) if token in NUMBER_WORDS else int(token)

    def judge(self, spec: Mapping[str, Any], value: int) -> float:
        """1.0 if the answer is the right count."""
        return 1.0 if value == int(spec["count"]) else 0.0


__all__ = ["ObjectCounting"]
