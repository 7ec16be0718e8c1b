"""Zebra (Einstein) puzzle: houses in a row, attributes to place, clues that pin them.

Clues true of a random solution are added until a SAT solver proves the solution
unique, then clues that became redundant are removed one at a time.
"""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tracemill.pipelines.synth.base import Item, Task, check_level, register_task
from tracemill.pipelines.synth.textutil import (
    count_models,
    normalize_token,
    refuse_hedge,
    strip_remarks,
)
from tracemill.pipelines.verify.answers import AmbiguousAnswer

ATTRIBUTES: dict[str, tuple[str, tuple[str, ...]]] = {
    "name": ("{v}", ("Alice", "Bob", "Carol", "David", "Emma", "Frank", "Grace")),
    "color": (
        "the person in the {v} house",
        ("red", "green", "blue", "yellow", "white", "purple", "orange"),
    ),
    "pet": ("the {v} owner", ("dog", "cat", "bird", "fish", "horse", "rabbit", "hamster")),
    "drink": (
        "the person who drinks {v}",
        ("tea", "coffee", "milk", "juice", "water", "cocoa", "lemonade"),
    ),
    "nationality": (
        "the {v}",
        ("Brit", "Swede", "Dane", "German", "Norwegian", "Spaniard", "Italian"),
    ),
    "hobby": (
        "the person who enjoys {v}",
        ("chess", "painting", "hiking", "cooking", "gardening", "reading", "dancing"),
    ),
    "food": (
        "the person who eats {v}",
        ("pizza", "pasta", "sushi", "tacos", "curry", "soup", "salad"),
    ),
}
"""Attribute → (description template, values); all values are distinct across attributes."""

Clue = tuple[str, tuple[int, int], tuple[int, int] | None, int]
"""(kind, (attribute, value), other (attribute, value) or None, house)."""


def _var(n: int, a: int, v: int, h: int) -> int:
    return 1 + (a * n + v) * n + h


def _base_cnf(n: int, m: int) -> list[list[int]]:
    clauses: list[list[int]] = []
    for a in range(m):
        for x in range(n):
            for lits in (
                [_var(n, a, x, h) for h in range(n)],
                [_var(n, a, v, x) for v in range(n)],
            ):
                clauses.append(lits)
                clauses += [[-p, -q] for p, q in itertools.combinations(lits, 2)]
    return clauses


def clue_cnf(n: int, clue: Clue) -> list[list[int]]:
    """CNF clauses of one clue."""
    kind, (a, v), other, house = clue
    x = [_var(n, a, v, h) for h in range(n)]
    if kind == "at":
        return [[x[house]]]
    if kind == "not_at":
        return [[-x[house]]]
    assert other is not None
    y = [_var(n, other[0], other[1], h) for h in range(n)]
    if kind == "same":
        return [c for h in range(n) for c in ([-x[h], y[h]], [x[h], -y[h]])]
    if kind == "not_same":
        return [[-x[h], -y[h]] for h in range(n)]
    if kind == "left":  # x directly left of y
        return [[-x[h], y[h + 1]] if h + 1 < n else [-x[h]] for h in range(n)]
    if kind == "before":  # x somewhere left of y
        return [[-x[h], *y[h + 1 :]] for h in range(n)]
    if kind == "next":
        return [[-x[h], *[y[k] for k in (h - 1, h + 1) if 0 <= k < n]] for h in range(n)]
    raise ValueError(f"unknown clue kind {kind!r}")


def _holds(kind: str, hx: int, hy: int, house: int) -> bool:
    return {
        "at": hx == house,
        "not_at": hx != house,
        "same": hx == hy,
        "not_same": hx != hy,
        "left": hy == hx + 1,
        "before": hx < hy,
        "next": abs(hx - hy) == 1,
    }[kind]


@register_task
class ZebraPuzzle(Task):
    """Place every attribute value in a row of houses (unique solution)."""

    name = "zebra_puzzle"
    version = "3"
    description = "Einstein-style puzzle: deduce the full house/attribute table from clues."

    @dataclass(frozen=True)
    class Config:
        """Difficulty knobs."""

        houses: int = 3
        """Houses in the row."""
        attributes: int = 2
        """Attributes besides the house number (name is always one of them)."""
        relational: float = 0.3
        """Share of candidate clues that are positional relations (left of, next to…)."""

        def __post_init__(self) -> None:
            if not 2 <= self.houses <= 7:
                raise ValueError("houses must be 2..7")
            if not 2 <= self.attributes <= len(ATTRIBUTES):
                raise ValueError(f"attributes must be 2..{len(ATTRIBUTES)}")
            if not 0.0 <= self.relational <= 1.0:
                raise ValueError("relational must be in [0, 1]")

    @classmethod
    def config_for_level(cls, level: int) -> Config:
        """More houses, attributes and relational clues with the level."""
        level = check_level(level)
        table = {
            1: (2, 2, 0.2),
            2: (3, 2, 0.3),
            3: (3, 3, 0.4),
            4: (4, 3, 0.5),
            5: (4, 4, 0.5),
            6: (5, 3, 0.6),
            7: (5, 4, 0.6),
            8: (5, 5, 0.7),
            9: (6, 4, 0.7),
            10: (6, 5, 0.8),
        }
        houses, attributes, relational = table[level]
        return cls.Config(houses=houses, attributes=attributes, relational=relational)

    def _random_clue(
        self, n: int, m: int, where: list[list[int]], rel: float, rng: random.Random
    ) -> Clue:
        a = rng.randrange(m)
        v = rng.randrange(n)
        hx = where[a][v]
        if rng.random() >= rel:
            kind = rng.choice(["at", "not_at", "same", "not_same"])
        else:
            kind = rng.choice(["left", "before", "next"])
        while True:
            b = rng.randrange(m)
            w = rng.randrange(n)
            house = rng.randrange(n)
            if kind in ("at", "not_at") and _holds(kind, hx, 0, house):
                return (kind, (a, v), None, house)
            if kind not in ("at", "not_at") and (a, v) != (b, w) and (kind != "same" or a != b):
                if kind == "not_same" and a == b:
                    continue
                if _holds(kind, hx, where[b][w], 0):
                    return (kind, (a, v), (b, w), 0)
                if kind in ("left", "before", "next") and rng.random() < 0.9:
                    continue
                kind = rng.choice(["same", "not_same", "left", "before", "next"])

    def generate(self, config: Config, rng: random.Random) -> Item:
        """Random solution; add true clues until unique; drop redundant ones."""
        n, m = config.houses, config.attributes
        keys = ["name", *rng.sample([k for k in ATTRIBUTES if k != "name"], m - 1)]
        values = [rng.sample(ATTRIBUTES[k][1], n) for k in keys]
        where = [rng.sample(range(n), n) for _ in range(m)]  # where[a][v] = house of value v
        base = _base_cnf(n, m)
        project = list(range(1, m * n * n + 1))
        clues: list[Clue] = []

        def unique(selected: list[Clue]) -> bool:
            cnf = base + [c for clue in selected for c in clue_cnf(n, clue)]
            return len(count_models(cnf, limit=2, project=project)) == 1

        while not unique(clues):
            for _ in range(max(1, n // 2)):
                clues.append(self._random_clue(n, m, where, config.relational, rng))
        for clue in list(reversed(clues)):
            trial = [c for c in clues if c is not clue]
            if unique(trial):
                clues = trial
        rng.shuffle(clues)

        def desc(av: tuple[int, int]) -> str:
            return ATTRIBUTES[keys[av[0]]][0].format(v=values[av[0]][av[1]])

        def sentence(clue: Clue) -> str:
            kind, x, y, house = clue
            text = {
                "at": "{x} lives in house {h}.",
                "not_at": "{x} does not live in house {h}.",
                "same": "{x} and {y} are the same person.",
                "not_same": "{x} and {y} are different people.",
                "left": "{x} lives directly left of {y}.",
                "before": "{x} lives somewhere to the left of {y}.",
                "next": "{x} and {y} live next to each other.",
            }[kind].format(x=desc(x), y=desc(y) if y else "", h=house + 1)
            return text[0].upper() + text[1:]

        table = [[values[a][where[a].index(h)] for a in range(m)] for h in range(n)]
        attr_lines = "\n".join(
            f"- {k}: {', '.join(sorted(vals))}" for k, vals in zip(keys, values, strict=True)
        )
        clue_lines = "\n".join(f"{i + 1}. {sentence(c)}" for i, c in enumerate(clues))
        example = "\n".join(
            f"House {h + 1}: " + ", ".join(f"<{k}>" for k in keys) for h in range(min(n, 2))
        )
        question = (
            f"There are {n} houses in a row, numbered 1 to {n} from left to right. Each house "
            "has one occupant, and every attribute value below belongs to exactly one "
            f"house.\n\nAttributes:\n{attr_lines}\n\nClues:\n{clue_lines}\n\n"
            "The solution is unique. Give the full table inside answer tags, one line per "
            f"house with its values in the order {', '.join(keys)}, like:\n"
            f"<answer>\n{example}\n...\n</answer>"
        )
        answer = "\n".join(f"House {h + 1}: {', '.join(row)}" for h, row in enumerate(table))
        spec = {"houses": [[v.lower() for v in row] for row in table]}
        metadata = {"clues": [list(c) for c in clues], "attributes": keys}
        return Item(question, answer, spec, float(n * m + len(clues)), metadata)

    def parse(self, spec: Mapping[str, Any], text: str) -> tuple[tuple[str, ...], ...]:
        """Each house's values, houses 1…n.

        Read: one line per house (``House 1: Emma, reading, dog``; ``1 | Emma | …`` table
        rows; ``House 1 - name: Emma, hobby: reading``), a ``House 1`` heading followed by
        one ``attribute: value`` line each, a table with one column per house (``| |
        House 1 | House 2 |`` then a row per attribute), or n unlabelled rows in order.
        Every value must be one of the puzzle's and every house must have all of its
        values; a house given twice differently or "Emma or Alice" is ambiguous.
        """
        expected = spec["houses"]
        n = len(expected)
        if len(text) > 200 * n + 500:
            raise ValueError("answer too long")
        vocabulary = {str(v).lower() for row in expected for v in row}
        refuse_hedge(text, "values")
        text = _HOUSE_START.sub("\n", text)
        lines = [line for line in text.split("\n") if line.strip()]
        houses = _by_columns(lines, n, vocabulary)
        if houses is None:
            houses = _by_rows(lines, n, vocabulary)
        m = len(expected[0]) if expected else 0
        if sorted(houses) != list(range(1, n + 1)):
            raise ValueError(f"expected values for houses 1 to {n}")
        short = next((h for h in range(1, n + 1) if len(houses[h]) != m), None)
        if short is not None:
            raise ValueError(f"house {short} has {len(houses[short])} values, expected {m}")
        return tuple(tuple(sorted(houses[h])) for h in range(1, n + 1))

    def judge(self, spec: Mapping[str, Any], value: tuple[tuple[str, ...], ...]) -> float:
        """1.0 if every house holds exactly the right set of values."""
        expected = [tuple(sorted(str(v).lower() for v in row)) for row in spec["houses"]]
        return 1.0 if list(value) == expected else 0.0


_HOUSE_LINE = re.compile(
    r"^\s*(?:house\s*(?:#|[:=]|number)?\s*)?(\d{1,2})\s*(?:[:=)|.,\-]|\s)\s*(.+)$", re.I
)
_HOUSE_START = re.compile(r"[.;]?[ \t]+(?=house\s*#?\s*\d{1,2}\s*[:=\-])", re.I)
"""Where a second house starts on the same line ("House 1: Emma, tea. House 2: …")."""
_HOUSE_HEADING = re.compile(r"^\s*house\s*#?\s*(\d{1,2})\s*[:.]?\s*$", re.I)
_HOUSE_CELL = re.compile(r"^\s*(?:house\s*#?\s*)?(\d{1,2})\s*$", re.I)
_ATTRIBUTE_PREFIX = re.compile(r"^[a-z][a-z ]{0,20}\s*[:=\-]\s*")
_ITEM_SPLIT = re.compile(r"\s*(?:[,|;/]|\band\b)\s*", re.I)
_DASH_SPLIT = re.compile(r"\s+-\s+|\s*(?:[,|;/]|\band\b)\s*", re.I)


def _values(cells: list[str], vocabulary: set[str]) -> list[str] | None:
    """The puzzle values of some cells (attribute labels dropped), None if one is not a value."""
    out = []
    for cell in cells:
        item = normalize_token(cell)
        if not item:
            continue
        if item not in vocabulary:
            item = normalize_token(_ATTRIBUTE_PREFIX.sub("", item))
        if item not in vocabulary:  # "Grace (name)": the attribute named after the value
            item = normalize_token(_ATTRIBUTE_PREFIX.sub("", strip_remarks(cell.strip()).lower()))
        if item not in vocabulary:
            return None
        out.append(item)
    return out


def _split_values(text: str, vocabulary: set[str]) -> list[str] | None:
    """A house's values: split at commas, ``|``, ``;``, "and", or else at spaced dashes."""
    values = _values(_ITEM_SPLIT.split(text), vocabulary)
    if " - " in text:  # "1) Alice - red - tea" (not "name - Alice")
        dashed = _values(_DASH_SPLIT.split(text), vocabulary)
        if dashed is not None and len(dashed) > len(values or []):
            return dashed
    return values


def _assign(houses: dict[int, list[str]], house: int, values: list[str]) -> None:
    if house in houses and sorted(houses[house]) != sorted(values):
        raise AmbiguousAnswer(f"house {house} is given twice with different values")
    houses[house] = values


def _by_rows(lines: list[str], n: int, vocabulary: set[str]) -> dict[int, list[str]]:
    """One line per house, labelled with its number (or n unlabelled lines in order)."""
    houses: dict[int, list[str]] = {}
    unlabelled: list[list[str]] = []
    heading: int | None = None  # a "House 2" line whose values follow on their own lines
    for line in lines:
        h = _HOUSE_HEADING.match(line)
        if h:
            heading = int(h.group(1))
            if heading in houses:
                raise AmbiguousAnswer(f"house {heading} is given twice")
            houses[heading] = []
            continue
        m = _HOUSE_LINE.match(line)
        if m:
            values = _split_values(m.group(2), vocabulary)
            if values is None:
                raise ValueError(f"house {m.group(1)}: {m.group(2)[:60]!r} holds unknown values")
            _assign(houses, int(m.group(1)), values)
            heading = None
            continue
        values = _split_values(line, vocabulary)
        if values and heading is not None:
            houses[heading].extend(values)
        elif values:
            unlabelled.append(values)
        elif not _is_header(line, vocabulary):
            raise ValueError(f"{line[:60]!r} is not a line of the table")
    if not houses and len(unlabelled) == n:
        return {h + 1: values for h, values in enumerate(unlabelled)}
    if unlabelled:
        raise ValueError("some lines name no house")
    return houses


def _is_header(line: str, vocabulary: set[str]) -> bool:
    """A header line: a few words (attribute names), none of them a value."""
    words = [normalize_token(w) for w in _ITEM_SPLIT.split(line) if w.strip()]
    return 0 < len(words) <= 10 and not any(w in vocabulary for w in words)


def _by_columns(lines: list[str], n: int, vocabulary: set[str]) -> dict[int, list[str]] | None:
    """A table with one column per house (header ``House 1 | House 2 | …``), or None."""
    for i, line in enumerate(lines):
        cells = [c.strip() for c in line.split("|")]
        numbers = [m.group(1) for c in cells if (m := _HOUSE_CELL.match(c))]
        if len(numbers) != n or "|" not in line or not re.search(r"(?i)house", line):
            continue
        order = [int(x) for x in numbers]
        skip = len(cells) - n  # leading label column(s)
        houses: dict[int, list[str]] = {h: [] for h in order}
        for row in lines[i + 1 :]:
            values = _values([c for c in row.split("|")][skip:], vocabulary)
            if values is None or len(values) != n:
                raise ValueError(f"{row[:60]!r} is not a row of the table")
            for house, value in zip(order, values, strict=True):
                houses[house].append(value)
        return houses
    return None


__all__ = ["ZebraPuzzle", "clue_cnf"]
