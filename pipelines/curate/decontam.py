"""Decontamination: find problems that leak benchmark items.

Two detectors, each producing a :data:`MATCHES` table (one row per problem × benchmark
item that matched):

* :func:`ngram_matches` — n-gram overlap (default: word 8-grams, as open-r1 does). Word
  n-grams are over :func:`~tracemill.pipelines.curate.normalize.word_tokens` (NFKC, lower case,
  punctuation and LaTeX markup dropped), character n-grams over the exact-dedup
  normalization. A problem matches an item when they share at least ``min_matches``
  n-grams. A benchmark item shorter than ``n`` words matches a problem that contains
  its whole word sequence. ``score`` is the share of the item's n-grams found. The
  problems are first screened in blocks with the vectorized CRC-32 n-gram hashes of near
  dedup (a problem none of whose hashed n-grams is a benchmark item's is clean); only the
  few that pass are compared n-gram by n-gram, so a million problems take seconds.
* :func:`embedding_matches` — cosine similarity of the problem's vector to its nearest
  benchmark item (same index machinery as semantic dedup) at least a threshold.

:func:`contamination_rows` turns matches into ``dedup`` rows (method ``decontam``,
``kept`` false, ``contamination`` = the best-matching benchmark; ``detail`` lists every
match), and :func:`contamination_report` summarizes per benchmark.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from tracemill.catalogs import conform
from tracemill.pipelines.curate.normalize import (
    NormalizeConfig,
    char_texts,
    normalize_texts,
    word_texts,
    word_tokens,
)
from tracemill.pipelines.curate.progress import Progress, no_progress

_SCREEN_ROWS = 16_384

MATCHES = pa.schema(
    [
        pa.field("problem_id", pa.string(), nullable=False),
        pa.field("benchmark", pa.string(), nullable=False),
        pa.field("item", pa.int64(), nullable=False),
        pa.field("how", pa.string(), nullable=False),
        pa.field("score", pa.float64(), nullable=False),
        pa.field("shared", pa.int64()),
        pa.field("evidence", pa.string()),
        pa.field("benchmark_question", pa.string()),
    ]
)
"""One detected leak: problem, benchmark item, detector (``ngram``/``embedding``), score."""


@dataclass(frozen=True)
class Benchmark:
    """A benchmark's questions (the decontamination reference)."""

    name: str
    questions: tuple[str, ...]
    source: str = ""
    """Where the questions came from (file path and field), for reports."""


@dataclass(frozen=True)
class DecontamConfig:
    """Parameters of decontamination."""

    ngram: int = 8
    unit: Literal["word", "char"] = "word"
    min_matches: int = 1
    """Shared n-grams needed for a match."""
    embedding_threshold: float | None = None
    """Cosine similarity for an embedding match (None: n-grams only)."""
    normalize: NormalizeConfig = field(default_factory=NormalizeConfig)

    def __post_init__(self) -> None:
        if self.ngram < 1:
            raise ValueError(f"decontamination ngram must be at least 1, got {self.ngram}")
        if self.unit not in ("word", "char"):
            raise ValueError(f"unit must be 'word' or 'char', got {self.unit!r}")
        if self.min_matches < 1:
            raise ValueError(f"min_matches must be at least 1, got {self.min_matches}")

    def params(self) -> dict[str, object]:
        """JSON-able parameters (hashed, with the benchmarks' content, into the config id)."""
        return {
            "method": "decontam",
            "ngram": self.ngram,
            "unit": self.unit,
            "min_matches": self.min_matches,
            "embedding_threshold": self.embedding_threshold,
            "normalize": self.normalize.params() if self.unit == "char" else None,
        }


def _units(texts: list[str], cfg: DecontamConfig) -> list[list[str]] | list[str]:
    if cfg.unit == "word":
        return word_tokens(texts)
    return char_texts(texts, cfg.normalize)


def _grams(unit: list[str] | str, n: int) -> list[str]:
    if isinstance(unit, str):
        return [unit[i : i + n] for i in range(len(unit) - n + 1)]
    return [" ".join(unit[i : i + n]) for i in range(len(unit) - n + 1)]


def _join(unit: list[str] | str) -> str:
    return unit if isinstance(unit, str) else " ".join(unit)


def _prepared(texts: pa.Array | pa.ChunkedArray | list[str], cfg: DecontamConfig) -> pa.Array:
    """Texts as near dedup shingles them: words joined by spaces, or normalized chars."""
    if isinstance(texts, list):
        texts = pa.array(texts, pa.string())
    if cfg.unit == "word":
        return word_texts(texts)
    return normalize_texts(texts, cfg.normalize)


def _hashed_grams(texts: pa.Array, cfg: DecontamConfig, n: int) -> pa.Array:
    """CRC-32 hashes of each prepared text's n-grams (a list per text)."""
    from tracemill.pipelines.curate.near import _shingle_block

    return _shingle_block(texts, cfg.unit, n)


def _screen(
    problems: pa.Table,
    benchmarks: list[Benchmark],
    cfg: DecontamConfig,
    lengths: list[int],
    progress: Progress,
) -> pa.Table:
    """The problems sharing a hashed n-gram (of any needed length) with some item."""
    wanted: dict[int, np.ndarray] = {}
    for length in lengths:
        hashes = [
            pc.list_flatten(_hashed_grams(_prepared(list(b.questions), cfg), cfg, length))
            for b in benchmarks
        ]
        flat = np.concatenate([h.to_numpy(zero_copy_only=False) for h in hashes])
        wanted[length] = np.unique(flat.astype(np.uint32))
    questions = problems.column("question")
    keep = np.zeros(problems.num_rows, dtype=bool)
    total = problems.num_rows
    for start in range(0, total, _SCREEN_ROWS):
        part = _prepared(questions.slice(start, _SCREEN_ROWS), cfg)
        for length in lengths:
            grams = _hashed_grams(part, cfg, length)
            values = pc.list_flatten(grams).to_numpy(zero_copy_only=False)
            if not len(values):
                continue
            rows = pc.list_parent_indices(grams).to_numpy(zero_copy_only=False)
            hit = np.isin(values.astype(np.uint32), wanted[length], assume_unique=False)
            keep[start + np.unique(rows[hit])] = True
        progress("decontam", min(start + _SCREEN_ROWS, total), total)
    return problems.filter(pa.array(keep))


def ngram_matches(
    problems: pa.Table,
    benchmarks: list[Benchmark],
    config: DecontamConfig | None = None,
    *,
    progress: Progress = no_progress,
) -> pa.Table:
    """Problems sharing n-grams with benchmark items (:data:`MATCHES`)."""
    cfg = config or DecontamConfig()
    n = cfg.ngram
    # n-gram → [(benchmark index, item index)]; short items are indexed whole
    index: dict[str, list[tuple[int, int]]] = defaultdict(list)
    totals: dict[tuple[int, int], int] = {}
    short_lengths: set[int] = set()
    for b, bench in enumerate(benchmarks):
        for i, unit in enumerate(_units(list(bench.questions), cfg)):
            if not unit:
                continue
            if len(unit) < n:
                grams = [_join(unit)]
                short_lengths.add(len(unit))
            else:
                grams = sorted(set(_grams(unit, n)))
            totals[(b, i)] = len(grams)
            for g in grams:
                index[g].append((b, i))
    out: dict[str, list] = {name: [] for name in MATCHES.names}
    if not index or problems.num_rows == 0:
        return MATCHES.empty_table()
    lengths = sorted(short_lengths | {n})
    problems = _screen(problems, benchmarks, cfg, lengths, progress)
    ids = problems.column("problem_id").to_pylist()
    for pid, unit in zip(ids, _units(problems.column("question").to_pylist(), cfg), strict=True):
        if not unit:
            continue
        shared: dict[tuple[int, int], int] = defaultdict(int)
        evidence: dict[tuple[int, int], str] = {}
        for length in lengths:
            for g in set(_grams(unit, length)) if len(unit) >= length else ():
                for key in index.get(g, ()):
                    shared[key] += 1
                    evidence.setdefault(key, g)
        for key, count in shared.items():
            if count < cfg.min_matches and count < totals[key]:
                continue
            b, i = key
            out["problem_id"].append(pid)
            out["benchmark"].append(benchmarks[b].name)
            out["item"].append(i)
            out["how"].append("ngram")
            out["score"].append(min(1.0, count / totals[key]))
            out["shared"].append(count)
            out["evidence"].append(evidence[key])
            out["benchmark_question"].append(benchmarks[b].questions[i])
    return pa.table(out, schema=MATCHES)


def embedding_matches(
    problem_ids: list[str],
    problem_vectors: np.ndarray,
    benchmarks: list[Benchmark],
    benchmark_vectors: list[np.ndarray],
    threshold: float,
) -> pa.Table:
    """Problems whose nearest item of a benchmark has cosine at least ``threshold``."""
    from tracemill.pipelines.curate.semantic import search_neighbours

    out: dict[str, list] = {name: [] for name in MATCHES.names}
    for bench, matrix in zip(benchmarks, benchmark_vectors, strict=True):
        if len(matrix) == 0 or len(problem_ids) == 0:
            continue
        keys, sims = search_neighbours(matrix, problem_vectors, 1)
        for p, (key, sim) in enumerate(zip(keys[:, 0], sims[:, 0], strict=True)):
            if key < 0 or sim < threshold:
                continue
            out["problem_id"].append(problem_ids[p])
            out["benchmark"].append(bench.name)
            out["item"].append(int(key))
            out["how"].append("embedding")
            out["score"].append(float(min(sim, 1.0)))
            out["shared"].append(None)
            out["evidence"].append(None)
            out["benchmark_question"].append(bench.questions[int(key)])
    return pa.table(out, schema=MATCHES)


def contamination_rows(
    matches: pa.Table, *, config_id: str, run_id: str | None = None, max_listed: int = 50
) -> pa.Table:
    """One ``dedup`` row per contaminated problem (its best match; detail lists matches).

    ``detail`` holds the best ``max_listed`` matches and ``match_count`` (all of them);
    :func:`stored_matches` reads the listed ones back for reports.
    """
    if matches.num_rows == 0:
        return conform("dedup", [])
    ranked = matches.sort_by(
        [
            ("problem_id", "ascending"),
            ("score", "descending"),
            ("benchmark", "ascending"),
            ("item", "ascending"),
        ]
    ).to_pylist()
    grouped: dict[str, list[dict]] = defaultdict(list)
    for row in ranked:
        grouped[row["problem_id"]].append(row)
    rows = []
    for pid, found in grouped.items():
        best = found[0]
        listed = [
            {
                "benchmark": m["benchmark"],
                "item": m["item"],
                "how": m["how"],
                "score": round(m["score"], 6),
                "shared": m["shared"],
                "evidence": m["evidence"],
            }
            for m in found[:max_listed]
        ]
        detail = {
            "matches": listed,
            "match_count": len(found),
            "benchmark_question": best["benchmark_question"],
        }
        rows.append(
            {
                "problem_id": pid,
                "method": "decontam",
                "config_id": config_id,
                "cluster": f"{best['benchmark']}:{best['item']}",
                "representative": None,
                "similarity": round(best["score"], 6),
                "kept": False,
                "contamination": best["benchmark"],
                "detail": json.dumps(detail, sort_keys=True, ensure_ascii=False),
                "run_id": run_id,
            }
        )
    return conform("dedup", rows)


def stored_matches(rows: pa.Table, benchmarks: list[Benchmark]) -> pa.Table:
    """The matches listed in stored ``decontam`` rows (``problem_id``, ``detail``).

    Matches of benchmarks not in ``benchmarks`` are left out.
    """
    by_name = {b.name: b for b in benchmarks}
    out: dict[str, list] = {name: [] for name in MATCHES.names}
    for pid, detail in zip(
        rows.column("problem_id").to_pylist(), rows.column("detail").to_pylist(), strict=True
    ):
        for m in json.loads(detail or "{}").get("matches", []):
            bench = by_name.get(m.get("benchmark"))
            item = m.get("item")
            if bench is None or not isinstance(item, int) or not 0 <= item < len(bench.questions):
                continue
            out["problem_id"].append(pid)
            out["benchmark"].append(bench.name)
            out["item"].append(item)
            out["how"].append(m.get("how") or "ngram")
            out["score"].append(float(m.get("score") or 0.0))
            out["shared"].append(m.get("shared"))
            out["evidence"].append(m.get("evidence"))
            out["benchmark_question"].append(bench.questions[item])
    return pa.table(out, schema=MATCHES)


@dataclass
class BenchmarkReport:
    """Per-benchmark decontamination summary."""

    name: str
    items: int
    matches: int
    """Problem × item matches."""
    problems: int
    """Distinct contaminated problems."""
    items_leaked: int
    """Distinct benchmark items found in some problem."""
    examples: list[dict[str, object]]

    def as_dict(self) -> dict[str, object]:
        """JSON-able form."""
        return {
            "name": self.name,
            "items": self.items,
            "matches": self.matches,
            "problems": self.problems,
            "items_leaked": self.items_leaked,
            "examples": self.examples,
        }


def contamination_report(
    matches: pa.Table, benchmarks: list[Benchmark], *, examples: int = 3
) -> list[BenchmarkReport]:
    """Matches, contaminated problems and a few examples for every benchmark."""
    rows = matches.sort_by([("score", "descending"), ("problem_id", "ascending")]).to_pylist()
    out = []
    for bench in benchmarks:
        mine = [r for r in rows if r["benchmark"] == bench.name]
        out.append(
            BenchmarkReport(
                name=bench.name,
                items=len(bench.questions),
                matches=len(mine),
                problems=len({r["problem_id"] for r in mine}),
                items_leaked=len({r["item"] for r in mine}),
                examples=[
                    {
                        "problem_id": r["problem_id"],
                        "item": r["item"],
                        "how": r["how"],
                        "score": round(r["score"], 4),
                        "evidence": r["evidence"],
                        "benchmark_question": r["benchmark_question"][:200],
                    }
                    for r in mine[:examples]
                ],
            )
        )
    return out
