"""Word ladder: change one letter at a time from a start word to a target word.

Every rung must be a word from the allowed list printed in the prompt (and stored in the
spec), and the ladder must be as short as possible. The allowed list holds one shortest
ladder plus random distractors; a breadth-first search over the allowed list fixes the
shortest length, and ``check`` accepts any ladder of that length.
"""

from __future__ import annotations

import random
import re
import string
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tracemill.pipelines.synth.base import Item, Task, check_level, register_task
from tracemill.pipelines.synth.grid import positive_int, wrong
from tracemill.pipelines.synth.textutil import parse_list, refuse_hedge, strip_remarks
from tracemill.pipelines.synth.wordlists import FOUR_LETTER_WORDS
from tracemill.pipelines.verify.registry import Verdict

_WORD = re.compile(r"[a-z]+")
_JOINER = re.compile(r"(?<=[A-Za-z])-(?=[A-Za-z])|\s+>\s+|\s*\\to\s*")
"""Rungs joined by a hyphen (``SEED-DEED-DEAD``), ``>`` or LaTeX ``\to``."""

_LEVELS = {
    1: (2, 10),
    2: (3, 15),
    3: (3, 25),
    4: (4, 30),
    5: (4, 40),
    6: (5, 50),
    7: (5, 60),
    8: (6, 70),
    9: (6, 80),
    10: (7, 100),
}


@dataclass(frozen=True)
class WordLadderConfig:
    """Knobs: shortest ladder length (letter changes) and distractor words listed."""

    steps: int = 2
    """Letter changes in a shortest ladder (1–8)."""
    distractors: int = 10
    """Allowed words beyond one shortest ladder (0–300)."""

    def __post_init__(self) -> None:
        positive_int("steps", self.steps, 1, 8)
        positive_int("distractors", self.distractors, 0, 300)


def one_apart(a: str, b: str) -> bool:
    """Whether two equal-length words differ in exactly one position."""
    return len(a) == len(b) and sum(x != y for x, y in zip(a, b, strict=True)) == 1


def neighbours(word: str, allowed: set[str]) -> list[str]:
    """Allowed words one letter away from ``word``."""
    out = []
    for i in range(len(word)):
        for ch in string.ascii_lowercase:
            cand = word[:i] + ch + word[i + 1 :]
            if ch != word[i] and cand in allowed:
                out.append(cand)
    return out


def distances(start: str, allowed: Iterable[str]) -> dict[str, int]:
    """Breadth-first distances from ``start`` within the ``allowed`` words."""
    pool = set(allowed)
    dist = {start: 0}
    queue = deque([start])
    while queue:
        word = queue.popleft()
        for nxt in neighbours(word, pool):
            if nxt not in dist:
                dist[nxt] = dist[word] + 1
                queue.append(nxt)
    return dist


@register_task
class WordLadderTask(Task):
    """Find a shortest word ladder through a given list of allowed words."""

    name = "word_ladder"
    domain = "logic"
    version = "3"
    description = "Shortest one-letter-at-a-time ladder between two words from a given list."
    Config = WordLadderConfig

    @classmethod
    def config_for_level(cls, level: int) -> WordLadderConfig:
        """Longer ladders among more distractor words as levels rise."""
        steps, distractors = _LEVELS[check_level(level)]
        return WordLadderConfig(steps=steps, distractors=distractors)

    def generate(self, config: WordLadderConfig, rng: random.Random) -> Item:
        """A random start, a target at exactly ``steps`` away, one shortest path + extras."""
        words = list(FOUR_LETTER_WORDS)
        while True:
            start = rng.choice(words)
            dist = distances(start, words)
            far = sorted(w for w, d in dist.items() if d == config.steps)
            if far:
                break
        target = rng.choice(far)
        path = [target]
        while path[-1] != start:
            back = sorted(
                w for w in neighbours(path[-1], set(dist)) if dist[w] == dist[path[-1]] - 1
            )
            path.append(rng.choice(back))
        path.reverse()
        others = sorted(set(words) - set(path))
        allowed = sorted(set(path) | set(rng.sample(others, min(config.distractors, len(others)))))
        shortest = distances(start, allowed).get(target)
        if shortest != config.steps:  # pragma: no cover - a subset keeps the planted path
            raise RuntimeError("word ladder length changed")
        question = (
            f"Turn the word {start.upper()} into {target.upper()} by changing exactly one "
            "letter at a time (no adding, removing or reordering letters). Every word along "
            "the way, including the first and the last, must come from this list:\n\n"
            f"{', '.join(allowed)}\n\n"
            f"Use as few changes as possible. List the words from {start} to {target} in "
            "order, separated by commas, inside answer tags, for example "
            "<answer>cold, cord, card, ward, warm</answer>."
        )
        return Item(
            question=question,
            answer=", ".join(path),
            spec={"start": start, "target": target, "steps": config.steps, "words": allowed},
            difficulty=float(2 * config.steps + len(allowed) / 20),
        )

    def parse(self, spec: Mapping[str, Any], text: str) -> tuple[str, ...]:
        r"""The rungs in order: words as long as the start word, separated by commas or arrows.

        Rungs may also be joined by ``-``, ``>`` or ``\to``; a remark after a rung ("PACK
        (change R to P)") is not a rung.
        """
        steps = int(spec["steps"])
        if len(text) > 20 * (steps + 1) + 200:
            raise ValueError("answer too long")
        refuse_hedge(text, "ladders")
        size = len(str(spec["start"]))
        plain = _JOINER.sub(", ", strip_remarks(text))
        ladder = parse_list(plain, split_spaces=True, max_items=4 * (steps + 1) + 10)
        bad = next((w for w in ladder if not _WORD.fullmatch(w) or len(w) != size), None)
        if bad is not None or len(ladder) < 2:
            raise ValueError(f"{(bad or '')[:30]!r} is not a ladder of {size}-letter words")
        return tuple(ladder)

    def judge(self, spec: Mapping[str, Any], ladder: tuple[str, ...]) -> Verdict | float:
        """A ladder from start to target of the shortest length, all rungs allowed."""
        steps = int(spec["steps"])
        allowed = {str(w) for w in spec["words"]}
        if not ladder or ladder[0] != spec["start"]:
            return wrong(f"the ladder must start at {spec['start']}")
        if ladder[-1] != spec["target"]:
            return wrong(f"the ladder must end at {spec['target']}")
        for word in ladder:
            if word not in allowed:
                return wrong(f"{word!r} is not in the list")
        for a, b in zip(ladder, ladder[1:], strict=False):
            if not one_apart(a, b):
                return wrong(f"{a} -> {b} does not change exactly one letter")
        if len(ladder) - 1 != steps:
            return wrong(f"{len(ladder) - 1} changes, the shortest ladder has {steps}")
        return 1.0
