"""Knights and knaves: knights always tell the truth, knaves always lie. Who is which.

Statements are drawn to be consistent with a hidden assignment; more are added until
enumerating all 2^n assignments leaves exactly one.
"""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tracemill.pipelines.synth.base import Item, Task, check_level, register_task
from tracemill.pipelines.synth.wordlists import NAMES
from tracemill.pipelines.verify.answers import AmbiguousAnswer

_ROLE = re.compile(
    r"\b([A-Za-z]+)\s*(?::|=|-|→|->|\||\(|\bis\s+(?:an?\s+)?|\bwas\s+(?:an?\s+)?)\s*(knight|knave)s?\b(?!\s*:)",
    re.I,
)
_GROUP = re.compile(
    r"\b(knight|knave)s?\s*(?:are|is|:|-|=)\s*\[?([A-Za-z ,;&]+?)\]?"
    r"(?=$|\n|[.;|]|\b(?:and\s+)?knaves?\b|\b(?:and\s+)?knights?\b)",
    re.I,
)
_PLURAL = re.compile(
    r"\b((?:[A-Za-z]+\s*(?:,\s*(?:and\s+)?|\band\s+))+[A-Za-z]+)\s+(?:are|were)\s+"
    r"(?:both\s+|all\s+)?(knight|knave)s\b",
    re.I,
)
_BEHAVIOUR = re.compile(
    r"\b([A-Za-z]+)\s+(?:is\s+|was\s+)?(?:(telling\s+the\s+truth|tells\s+the\s+truth|truthful|honest)"
    r"|(lying|lies|a\s+liar))\b",
    re.I,
)
"""Roles said through behaviour: "Uma is telling the truth" (knight), "Carol lies" (knave)."""
_ROLE_HEDGE = re.compile(
    r"(?i)\b(knight|knave)s?\s+(?:or|and/or|/)\s+(?:an?\s+)?(knight|knave)"
    r"|\b(?:either|maybe|possibly|perhaps|could be|might be)\b"
)

Assignment = tuple[bool, ...]
Statement = tuple[str, Callable[[Assignment], bool]]


def _kind(knight: bool) -> str:
    return "a knight" if knight else "a knave"


def _statement(speaker: int, names: list[str], rng: random.Random, level: int) -> Statement:
    n = len(names)
    others = [i for i in range(n) if i != speaker]
    kinds = ["is", "both", "either", "same", "different"]
    if level >= 4:
        kinds += ["implies", "count"]
    kind = rng.choice(kinds)
    a = rng.choice(others)
    b = rng.choice([i for i in range(n) if i != a])
    ka, kb = rng.random() < 0.5, rng.random() < 0.5
    you = "I" if b == speaker else names[b]
    if kind == "is":
        return f"{names[a]} is {_kind(ka)}.", lambda s: s[a] == ka
    if kind == "both":
        text = f"{names[a]} is {_kind(ka)} and {you} {'am' if b == speaker else 'is'} {_kind(kb)}."
        return text, lambda s: s[a] == ka and s[b] == kb
    if kind == "either":
        text = f"{names[a]} is {_kind(ka)} or {you} {'am' if b == speaker else 'is'} {_kind(kb)}."
        return text, lambda s: s[a] == ka or s[b] == kb
    if kind == "same":
        return f"{names[a]} and I are the same kind.", lambda s: s[a] == s[speaker]
    if kind == "different":
        return f"{names[a]} and I are different kinds.", lambda s: s[a] != s[speaker]
    if kind == "implies":
        verb = "am" if b == speaker else "is"
        text = f"If {names[a]} is {_kind(ka)}, then {you} {verb} {_kind(kb)}."
        return text, lambda s: (s[a] != ka) or (s[b] == kb)
    k = rng.randint(0, n)
    word = "knight" if ka else "knave"
    plural = word if k == 1 else word + "s"
    return f"Exactly {k} of us {'is a' if k == 1 else 'are'} {plural}.", (
        lambda s: sum(1 for x in s if x == ka) == k
    )


def consistent(assignment: Assignment, claims: list[tuple[int, Statement]]) -> bool:
    """Whether every speaker's statement is true exactly when the speaker is a knight."""
    return all(fn(assignment) == assignment[who] for who, (_, fn) in claims)


@register_task
class KnightsAndKnaves(Task):
    """Decide who is a knight and who is a knave (unique solution)."""

    name = "knights_and_knaves"
    version = "3"
    description = "Knights tell the truth, knaves lie: classify every islander."

    @dataclass(frozen=True)
    class Config:
        """Difficulty knobs."""

        people: int = 2
        """Number of islanders."""
        complexity: int = 1
        """1–10: richer statement forms (implications, counts) from 4 on."""

        def __post_init__(self) -> None:
            if not 2 <= self.people <= 12:
                raise ValueError("people must be 2..12")
            if not 1 <= self.complexity <= 10:
                raise ValueError("complexity must be 1..10")

    @classmethod
    def config_for_level(cls, level: int) -> Config:
        """More islanders and richer statements with the level."""
        level = check_level(level)
        people = [2, 3, 3, 4, 4, 5, 6, 7, 8, 9][level - 1]
        return cls.Config(people=people, complexity=level)

    def generate(self, config: Config, rng: random.Random) -> Item:
        """Random identities and consistent statements until the solution is unique."""
        n = config.people
        names = rng.sample(NAMES, n)
        truth = tuple(rng.random() < 0.5 for _ in range(n))
        claims: list[tuple[int, Statement]] = []
        speakers = list(range(n))
        rng.shuffle(speakers)
        while True:
            who = speakers[len(claims) % n] if len(claims) < n else rng.randrange(n)
            for _ in range(100):
                stmt = _statement(who, names, rng, config.complexity)
                if stmt[1](truth) == truth[who]:
                    break
            claims.append((who, stmt))
            if len(claims) < n:
                continue
            models = [
                s for s in itertools.product((True, False), repeat=n) if consistent(s, claims)
            ]
            if len(models) == 1:
                break
        claims.sort(key=lambda c: c[0])
        lines = "\n".join(f'{names[who]} says: "{text}"' for who, (text, _) in claims)
        question = (
            "On an island every inhabitant is either a knight, who always tells the truth, "
            "or a knave, who always lies. You meet "
            f"{', '.join(names[:-1])} and {names[-1]}.\n\n{lines}\n\n"
            "Exactly one assignment is consistent. Who is a knight and who is a knave? "
            "Give every inhabitant inside answer tags in the form "
            f"<answer>{names[0]}: knight, {names[1]}: knave, ...</answer>."
        )
        answer = ", ".join(
            f"{name}: {'knight' if k else 'knave'}" for name, k in zip(names, truth, strict=True)
        )
        spec = {"roles": {name: bool(k) for name, k in zip(names, truth, strict=True)}}
        return Item(question, answer, spec, difficulty=float(n + len(claims)))

    def parse(self, spec: Mapping[str, Any], text: str) -> dict[str, bool]:
        """Each inhabitant's role, everyone named.

        Read: ``Nora: knight``, "Nora is a knight", ``Nora (knight)``, "Nora is telling the
        truth" / "Nora lies", table rows, groups ("Knights: Nora,
        Tina"). Two roles for one name, or "knight or knave", are ambiguous.
        """
        if len(text) > 3000:
            raise ValueError("answer too long")
        names = {str(k).lower() for k in spec["roles"]}
        if _ROLE_HEDGE.search(text):
            raise AmbiguousAnswer("an inhabitant is given two possible roles")
        given: dict[str, bool] = {}

        def assign(name: str, role: str) -> None:
            key, value = name.lower(), role.lower().startswith("knight")
            if key not in names:
                return
            if given.setdefault(key, value) != value:
                raise AmbiguousAnswer(f"{name} is called both a knight and a knave")

        for name, role in _ROLE.findall(text):
            assign(name, role)
        for name, truthful, _ in _BEHAVIOUR.findall(text):
            assign(name, "knight" if truthful else "knave")
        for role, group in _GROUP.findall(text):
            for name in re.findall(r"[A-Za-z]+", group):
                assign(name, role)
        for group, role in _PLURAL.findall(text):
            for name in re.findall(r"[A-Za-z]+", group):
                assign(name, role)
        missing = sorted(names - set(given))
        if missing:
            raise ValueError(f"no role given for {', '.join(missing[:5])}")
        return given

    def judge(self, spec: Mapping[str, Any], value: dict[str, bool]) -> float:
        """1.0 if every inhabitant is classified correctly."""
        roles = {str(k).lower(): bool(v) for k, v in spec["roles"].items()}
        return 1.0 if value == roles else 0.0


__all__ = ["KnightsAndKnaves", "consistent"]
