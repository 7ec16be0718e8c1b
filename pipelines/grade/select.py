"""Selection by difficulty, curricula, and the query that re-reads a selection.

Input: one row per graded problem with at least ``problem_id``, ``level`` and
``pass_rate`` (optionally ``domain`` and ``source`` for filters). Output: the chosen
rows in order, each with its ``position`` and curriculum ``stage``.

Rules:

- **Band** ``(lo, hi)``: keep problems with ``lo <= pass_rate <= hi`` (before anything
  else).
- **Order within a level** is a seeded hash of the problem id, so a selection does not
  depend on the order rows come in, and a new seed draws a different sample.
- **Distribution** ``{level: weight}``: weights are normalized; quotas are
  ``size * weight`` rounded by largest remainder (ties go to the harder level), so they
  sum to ``size`` exactly. Each level gives up to its quota.
- **Fill rule** (``fill="nearest"``, the default): a level short of its quota is topped
  up from the nearest levels with problems left over, at distance 1, 2, …, the harder
  neighbour first (harder problems are the scarcer and more useful ones for
  distillation). Short levels are served from the easiest up. Whatever still cannot be
  filled is reported as ``shortfall``. With ``fill="none"`` short levels stay short.
- Without a distribution, the first ``size`` problems in hash order are taken (all of
  them when ``size`` is None).
- **Curriculum**: rows are ordered easy → hard (level, then pass rate descending, then
  hash) and cut into stages that never split a level: by default one stage per level,
  or ``stages`` groups of contiguous levels with row counts as even as possible.
  Without a curriculum the rows are in hash order, all in stage 1.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

FILL_RULES = ("nearest", "none")


def parse_distribution(text: str) -> dict[int, float]:
    """``"1:0.1,2:0.2"`` → ``{1: 0.1, 2: 0.2}`` (weights, not yet normalized)."""
    out: dict[int, float] = {}
    for part in text.replace(" ", "").split(","):
        if not part:
            continue
        level, sep, weight = part.partition(":")
        try:
            if not sep:
                raise ValueError
            lv, w = int(level), float(weight)
        except ValueError:
            raise ValueError(
                f"distribution entries look like LEVEL:WEIGHT (e.g. 1:0.2), got {part!r}"
            ) from None
        if w < 0:
            raise ValueError(f"distribution weight of level {lv} is negative")
        if lv in out:
            raise ValueError(f"level {lv} appears twice in the distribution")
        out[lv] = w
    if not out or sum(out.values()) <= 0:
        raise ValueError(f"distribution {text!r} has no positive weight")
    return out


def parse_band(text: str) -> tuple[float, float]:
    """``"0.2:0.8"`` → ``(0.2, 0.8)``, a closed pass-rate band."""
    lo_text, sep, hi_text = text.replace(" ", "").partition(":")
    try:
        if not sep:
            raise ValueError
        lo, hi = float(lo_text), float(hi_text)
    except ValueError:
        raise ValueError(f"band looks like LO:HI (e.g. 0.2:0.8), got {text!r}") from None
    if not 0.0 <= lo <= hi <= 1.0:
        raise ValueError(f"band needs 0 <= LO <= HI <= 1, got {text!r}")
    return lo, hi


def quotas(size: int, distribution: Mapping[int, float]) -> dict[int, int]:
    """Rows per level for ``size`` rows: largest remainder, ties to the harder level."""
    if size < 0:
        raise ValueError("size must be >= 0")
    total = sum(distribution.values())
    if total <= 0:
        raise ValueError("distribution has no positive weight")
    exact = {lv: size * w / total for lv, w in distribution.items()}
    out = {lv: int(x) for lv, x in exact.items()}
    left = size - sum(out.values())
    by_remainder = sorted(exact, key=lambda lv: (-(exact[lv] - out[lv]), -lv))
    for lv in by_remainder[:left]:
        out[lv] += 1
    return dict(sorted(out.items()))


def hash_key(seed: int, problem_id: str) -> str:
    """The seeded order key of a problem."""
    return hashlib.md5(f"{int(seed)}\x00{problem_id}".encode(), usedforsecurity=False).hexdigest()


@dataclass(frozen=True)
class Stage:
    """A curriculum stage: its levels and its rows ``[start, stop)`` in the order."""

    stage: int
    levels: tuple[int, ...]
    start: int
    stop: int

    @property
    def rows(self) -> int:
        """Rows in the stage."""
        return self.stop - self.start


@dataclass
class Selection:
    """The chosen rows (in order) and how they were chosen."""

    rows: list[dict[str, Any]]
    supply: dict[int, int] = field(default_factory=dict)
    """Problems per level after filters and band."""
    requested: dict[int, int] = field(default_factory=dict)
    """Quota per level (empty without a distribution)."""
    taken: dict[int, int] = field(default_factory=dict)
    """Rows per level in the result (fill included)."""
    fills: list[tuple[int, int, int]] = field(default_factory=list)
    """``(short level, donor level, rows)`` moves made by the fill rule."""
    shortfall: int = 0
    """Rows asked for but not available at all."""
    stages: list[Stage] = field(default_factory=list)

    @property
    def problem_ids(self) -> list[str]:
        """Chosen problem ids, in order."""
        return [r["problem_id"] for r in self.rows]

    def report(self) -> dict[str, Any]:
        """A JSON-ready account of the selection (for ``datasets.params``)."""
        return {
            "supply": {str(k): v for k, v in sorted(self.supply.items())},
            "requested": {str(k): v for k, v in sorted(self.requested.items())},
            "taken": {str(k): v for k, v in sorted(self.taken.items())},
            "fills": [{"short": a, "from": b, "rows": n} for a, b, n in self.fills],
            "shortfall": self.shortfall,
            "stages": [
                {"stage": s.stage, "levels": list(s.levels), "start": s.start, "stop": s.stop}
                for s in self.stages
            ],
        }


def _rows(candidates: pa.Table | Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    rows = candidates.to_pylist() if isinstance(candidates, pa.Table) else list(candidates)
    for needed in ("problem_id", "level", "pass_rate"):
        if rows and needed not in rows[0]:
            raise ValueError(f"selection candidates need a {needed!r} column")
    return [dict(r) for r in rows]


def select_by_difficulty(
    candidates: pa.Table | Sequence[Mapping[str, Any]],
    *,
    size: int | None = None,
    distribution: Mapping[int, float] | None = None,
    band: tuple[float, float] | None = None,
    domains: Sequence[str] | None = None,
    sources: Sequence[str] | None = None,
    seed: int = 0,
    fill: str = "nearest",
    curriculum: bool = False,
    stages: int | None = None,
) -> Selection:
    """Choose problems by level distribution and/or pass-rate band (module docstring)."""
    if fill not in FILL_RULES:
        raise ValueError(f"fill must be one of {', '.join(FILL_RULES)}, got {fill!r}")
    if distribution is not None and size is None:
        raise ValueError("a distribution needs a size")
    if size is not None and size < 0:
        raise ValueError("size must be >= 0")
    rows = _rows(candidates)
    if len({r["problem_id"] for r in rows}) != len(rows):
        raise ValueError("selection candidates must have one row per problem_id")
    if domains:
        rows = [r for r in rows if r.get("domain") in set(domains)]
    if sources:
        rows = [r for r in rows if r.get("source") in set(sources)]
    if band is not None:
        lo, hi = band
        rows = [r for r in rows if lo <= r["pass_rate"] <= hi]
    for r in rows:
        r["_key"] = hash_key(seed, r["problem_id"])
    rows.sort(key=lambda r: r["_key"])
    by_level: dict[int, list[dict[str, Any]]] = {}
    for r in rows:
        by_level.setdefault(int(r["level"]), []).append(r)
    sel = Selection([], supply={lv: len(v) for lv, v in sorted(by_level.items())})

    if distribution is None:
        chosen = rows if size is None else rows[:size]
        sel.shortfall = 0 if size is None else max(0, size - len(chosen))
    else:
        assert size is not None
        sel.requested = quotas(size, distribution)
        chosen = []
        left = {lv: list(v) for lv, v in by_level.items()}
        short: dict[int, int] = {}
        for lv, quota in sel.requested.items():
            pool = left.get(lv, [])
            take, left[lv] = pool[:quota], pool[quota:]
            chosen.extend(take)
            if quota > len(take):
                short[lv] = quota - len(take)
        for lv, missing in sorted(short.items()):
            if fill == "none":
                break
            for donor in _nearest(lv, sorted(left)):
                if not missing:
                    break
                pool = left[donor]
                take, left[donor] = pool[:missing], pool[missing:]
                if take:
                    chosen.extend(take)
                    sel.fills.append((lv, donor, len(take)))
                    missing -= len(take)
            short[lv] = missing
        sel.shortfall = sum(short.values())

    ordered, sel.stages = order_rows(chosen, curriculum=curriculum, stages=stages)
    for pos, r in enumerate(ordered):
        r.pop("_key", None)
        r["position"] = pos
    sel.rows = ordered
    counts: dict[int, int] = {}
    for r in ordered:
        counts[int(r["level"])] = counts.get(int(r["level"]), 0) + 1
    sel.taken = dict(sorted(counts.items()))
    return sel


def _nearest(level: int, levels: Sequence[int]) -> list[int]:
    """Other levels by distance from ``level``, the harder one first on ties."""
    others = [lv for lv in levels if lv != level]
    return sorted(others, key=lambda lv: (abs(lv - level), -lv))


def order_rows(
    rows: list[dict[str, Any]], *, curriculum: bool = False, stages: int | None = None
) -> tuple[list[dict[str, Any]], list[Stage]]:
    """Order rows (curriculum easy → hard, else hash order) and set their ``stage``."""
    if stages is not None and stages < 1:
        raise ValueError("stages must be >= 1")
    for r in rows:
        r.setdefault("_key", hash_key(0, r["problem_id"]))
    if not curriculum:
        ordered = sorted(rows, key=lambda r: r["_key"])
        for r in ordered:
            r["stage"] = 1
        levels = tuple(sorted({int(r["level"]) for r in ordered}))
        return ordered, ([Stage(1, levels, 0, len(ordered))] if ordered else [])
    ordered = sorted(rows, key=lambda r: (int(r["level"]), -float(r["pass_rate"]), r["_key"]))
    counts: dict[int, int] = {}
    for r in ordered:
        counts[int(r["level"])] = counts.get(int(r["level"]), 0) + 1
    groups = _group_levels(counts, stages)
    out_stages = []
    start = 0
    stage_of = {}
    for i, group in enumerate(groups, start=1):
        n = sum(counts[lv] for lv in group)
        out_stages.append(Stage(i, tuple(group), start, start + n))
        start += n
        for lv in group:
            stage_of[lv] = i
    for r in ordered:
        r["stage"] = stage_of[int(r["level"])]
    return ordered, out_stages


def _group_levels(counts: Mapping[int, int], stages: int | None) -> list[list[int]]:
    """Contiguous groups of levels; ``stages`` groups with even row counts if given."""
    levels = sorted(counts)
    if stages is None or stages >= len(levels):
        return [[lv] for lv in levels]
    total = sum(counts.values())
    cum = []
    acc = 0
    for lv in levels:
        acc += counts[lv]
        cum.append(acc)
    # cut i closes a group after level index j: nearest to an even share, every group
    # keeping at least one level
    ends = []
    prev = -1
    for i in range(1, stages):
        last = len(levels) - 1 - (stages - i)
        j = min(range(prev + 1, last + 1), key=lambda j: (abs(cum[j] - total * i / stages), j))
        ends.append(j)
        prev = j
    ends.append(len(levels) - 1)
    groups, begin = [], 0
    for j in ends:
        groups.append(levels[begin : j + 1])
        begin = j + 1
    return groups


_PLAIN_ID = re.compile(r"[0-9A-Za-z_.-]+")


def selection_query(rows: Sequence[Mapping[str, Any]], snapshot: int | None) -> str:
    """SQL that re-reads exactly these rows (in order) from ``problems`` at ``snapshot``.

    The rows travel inside the query as one ``'id:stage:level,…'`` string split by
    DuckDB (parsing that is ~10x faster than a ``VALUES`` list of 100 k rows); ids with
    other characters than letters, digits, ``_ . -`` use a ``VALUES`` list instead.
    ``rows`` must be in order (``position`` 0, 1, …). Columns: ``position``, ``stage``,
    ``level``, then every ``problems`` column.
    """
    at = f" AT (VERSION => {int(snapshot)})" if snapshot is not None else ""
    head = "SELECT s.position, s.stage, s.level, p.*"
    if not rows:
        return (
            "SELECT NULL::INTEGER AS position, NULL::INTEGER AS stage, "
            f"NULL::INTEGER AS level, p.* FROM problems AS p{at} WHERE false"
        )
    if all(_PLAIN_ID.fullmatch(str(r["problem_id"])) for r in rows):
        items = ",".join(f"{r['problem_id']}:{int(r['stage'])}:{int(r['level'])}" for r in rows)
        source = (
            "(SELECT (i - 1)::INTEGER AS position, split_part(e, ':', 1) AS problem_id, "
            "split_part(e, ':', 2)::INTEGER AS stage, split_part(e, ':', 3)::INTEGER AS level "
            "FROM (SELECT unnest(l) AS e, generate_subscripts(l, 1) AS i "
            f"FROM (SELECT string_split('{items}', ',') AS l))) AS s"
        )
    else:
        values = ",\n".join(
            f"({int(r['position'])}, {int(r['stage'])}, {int(r['level'])}, "
            f"'{_sql_id(r['problem_id'])}')"
            for r in rows
        )
        source = f"(VALUES\n{values}\n) AS s(position, stage, level, problem_id)"
    return (
        f"{head}\nFROM {source}\n"
        f"JOIN problems AS p{at} ON p.problem_id = s.problem_id\nORDER BY s.position"
    )


def _sql_id(value: str) -> str:
    return str(value).replace("'", "''")
