"""Web of lies: from one known truth-teller or liar, follow who says who lies.

Each person speaks about people already determined, so the answer is unique by
construction; the generator still checks it by enumerating all assignments.
"""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tracemill.pipelines.synth.base import Item, Task, check_level, register_task
from tracemill.pipelines.synth.textutil import (
    normalize_token,
    parse_list,
    refuse_hedge,
    remarks,
    strip_remarks,
)
from tracemill.pipelines.synth.wordlists import NAMES
from tracemill.pipelines.verify.answers import AmbiguousAnswer

_YES = {"yes", "true", "truthful", "honest", "truth-teller", "truthteller", "tells the truth"}
_NO = {"no", "false", "liar", "lies", "lying", "is lying", "is a liar", "does not tell the truth"}
_WORDS = "|".join(sorted((w.replace(" ", r"\s+") for w in _YES | _NO), key=len, reverse=True))
_VERDICT = re.compile(
    rf"(?:[a-z]+(?:\s+\d{{1,2}})?\s*[:=\-]\s*)?({_WORDS})|[a-z]+\s+(?:is\s+(?:a\s+)?)?({_WORDS})",
    re.I,
)

Claim = tuple[int, str, Callable[[tuple[bool, ...]], bool]]


_NAME_DASH = re.compile(rf"\b([A-Za-z]+)\s+-\s+(?=(?:{_WORDS})\b)", re.I)
"""``Rosa - liar``: a name and its verdict joined by a dash (not a list separator)."""


def _verdict(item: str) -> str | None:
    """``yes``/``no`` for one verdict item ("Rosa: yes", "lies"), None if it is not one."""
    m = _VERDICT.fullmatch(normalize_token(item))
    if not m:
        return None
    return "yes" if next(g for g in m.groups() if g) in _YES else "no"


def _claim(speaker: int, pool: list[int], names: list[str], rng: random.Random, two: bool) -> Claim:
    if not two or len(pool) < 2:
        a = rng.choice(pool)
        if rng.random() < 0.5:
            return speaker, f"{names[a]} lies.", lambda s: not s[a]
        return speaker, f"{names[a]} tells the truth.", lambda s: s[a]
    a, b = rng.sample(pool, 2)
    kind = rng.choice(["both", "neither", "one", "atleast"])
    x, y = names[a], names[b]
    if kind == "both":
        return speaker, f"{x} and {y} both tell the truth.", lambda s: s[a] and s[b]
    if kind == "neither":
        return speaker, f"{x} and {y} both lie.", lambda s: not s[a] and not s[b]
    if kind == "one":
        return speaker, f"exactly one of {x} and {y} tells the truth.", lambda s: s[a] != s[b]
    return speaker, f"at least one of {x} and {y} lies.", lambda s: not (s[a] and s[b])


@register_task
class WebOfLies(Task):
    """Decide who tells the truth in a chain of accusations."""

    name = "web_of_lies"
    version = "3"
    description = "Truth-tellers and liars accusing each other; answer yes/no per person."

    @dataclass(frozen=True)
    class Config:
        """Difficulty knobs."""

        people: int = 4
        """People in the web (one of them is stated directly)."""
        questions: int = 1
        """How many people the question asks about."""
        compound: float = 0.0
        """Share of statements about two people (both / neither / exactly one / one lies)."""
        shuffle: bool = False
        """Present statements in random order instead of dependency order."""

        def __post_init__(self) -> None:
            if not 2 <= self.people <= 16:
                raise ValueError("people must be 2..16")
            if not 1 <= self.questions <= self.people:
                raise ValueError("questions must be 1..people")
            if not 0.0 <= self.compound <= 1.0:
                raise ValueError("compound must be in [0, 1]")

    @classmethod
    def config_for_level(cls, level: int) -> Config:
        """Longer webs, more compound statements, shuffled order with the level."""
        level = check_level(level)
        people = [3, 4, 5, 6, 7, 8, 9, 10, 12, 14][level - 1]
        questions = [1, 1, 1, 2, 2, 3, 3, 3, 3, 3][level - 1]
        compound = [0.0, 0.0, 0.2, 0.3, 0.4, 0.5, 0.5, 0.6, 0.6, 0.7][level - 1]
        return cls.Config(people=people, questions=questions, compound=compound, shuffle=level >= 5)

    def generate(self, config: Config, rng: random.Random) -> Item:
        """A dependency chain of claims from one stated fact."""
        n = config.people
        names = rng.sample(NAMES, n)
        truth = [rng.random() < 0.5] + [False] * (n - 1)
        claims: list[Claim] = []
        for i in range(1, n):
            pool = list(range(max(0, i - 3), i))
            claim = _claim(i, pool, names, rng, rng.random() < config.compound)
            truth[i] = claim[2](tuple(truth))
            claims.append(claim)
        state = tuple(truth)
        models = [
            s
            for s in itertools.product((True, False), repeat=n)
            if s[0] == state[0] and all(fn(s) == s[who] for who, _, fn in claims)
        ]
        if models != [state]:  # pragma: no cover - holds by construction
            raise RuntimeError("web of lies is not uniquely determined")
        if config.shuffle:
            rng.shuffle(claims)
        asked = sorted(rng.sample(range(1, n), min(config.questions, n - 1)))
        asked = asked or [0]
        fact = f"{names[0]} {'tells the truth' if state[0] else 'lies'}."
        lines = [fact] + [f"{names[who]} says {text}" for who, text, _ in claims]
        who_list = ", ".join(names[i] for i in asked)
        example = ", ".join(["yes", "no", "yes"][: len(asked)])
        question = (
            "Each person below either always tells the truth or always lies.\n\n"
            + "\n".join(lines)
            + f"\n\nDoes each of these people tell the truth: {who_list}? Answer yes or no for "
            "each, in that order, separated by commas, inside answer tags, for example "
            f"<answer>{example}</answer>."
        )
        answer = ", ".join("yes" if state[i] else "no" for i in asked)
        spec = {"answers": ["yes" if state[i] else "no" for i in asked]}
        return Item(question, answer, spec, difficulty=float(n + 2 * len(asked)))

    def parse(self, spec: Mapping[str, Any], text: str) -> tuple[str, ...]:
        """One yes/no per person asked, in order (``Rosa: yes``, "Rosa lies" also read).

        A remark after a verdict ("Rosa: yes (truth-teller)", "Yes - Rosa tells the truth.")
        is dropped; one that says the opposite makes the answer ambiguous.
        """
        wanted = len(spec["answers"])
        if len(text) > 60 * wanted + 100:
            raise ValueError("answer too long")
        refuse_hedge(text, "verdicts")
        lines = []
        for line in text.split("\n"):
            # "Rosa: yes (liar)" and "Yes - Rosa lies" contradict themselves
            parts = [strip_remarks(line), *remarks(line)]
            head, dash, explained = parts[0].partition(" - ")
            said = {_verdict(p) for p in parts[1:]} | {_verdict(parts[0])}
            if dash and _verdict(head) and _verdict(explained):  # "Yes - Rosa tells the truth."
                said |= {_verdict(head), _verdict(explained)}
                parts[0] = head
            if {"yes", "no"} <= said:
                raise AmbiguousAnswer("a verdict and its explanation disagree")
            lines.append(_NAME_DASH.sub(r"\1: ", parts[0]))
        plain = "\n".join(lines)
        items = parse_list(plain, max_items=wanted + 10)
        if len(items) == 1 and wanted > 1:
            items = parse_list(plain, split_spaces=True, max_items=wanted + 10)
        verdicts = []
        for item in items:
            verdict = _verdict(item)
            if verdict is None:
                raise ValueError(f"{item[:30]!r} is not yes or no")
            verdicts.append(verdict)
        if len(verdicts) != wanted:
            raise ValueError(f"expected {wanted} yes/no answers, found {len(verdicts)}")
        return tuple(verdicts)

    def judge(self, spec: Mapping[str, Any], value: tuple[str, ...]) -> float:
        """1.0 if every yes/no matches, in order."""
        return 1.0 if list(value) == [str(x) for x in spec["answers"]] else 0.0


__all__ = ["WebOfLies"]
