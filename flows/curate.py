"""Curate the catalog's problems: exact, near and semantic dedup, then decontamination.

The ``curate`` stage reads problems (with their latest passing verdicts and grades, for
the keep policy) from the catalog, runs the chosen methods in the order
exact → near → semantic, each over the problems the earlier ones kept, decontaminates
every selected problem against the configured benchmarks, and appends all ``dedup``
rows in one transaction.

Every problem a method examines gets exactly one ``dedup`` row under that method's config
id (the hash of its parameters and keep policy; for ``decontam``, of the benchmark
questions too): cluster members as chosen by the keep policy, problems in no cluster as
``kept`` rows with a null ``cluster`` (representing themselves), clean problems as
``kept`` ``decontam`` rows with a null ``contamination``. So "already curated under
these parameters" is a row lookup, and only ``kept = false`` rows drop a problem.

Methods run over problems not yet curated under the same parameters:

* a method whose every input problem already has a row under its config id does no
  work at all (no encoding, no LSH) and reports ``status: skipped``;
* otherwise a dedup method runs over old and new problems together (a new problem may
  join an old cluster), but earlier decisions stand: a problem kept earlier ranks first
  in its cluster, new rows of a cluster reuse the cluster id its earlier representative
  recorded, and only problems without a row get one (stored rows are never rewritten);
  ``decontam`` checks only the problems without a row, and its benchmark report covers
  those.

Semantic vectors are cached beside the catalog (:mod:`tracemill.stores.embeddings`): a rerun or a
new threshold encodes nothing already encoded.

The curated set is the ``kept_problems`` view (:mod:`tracemill.catalogs.views`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field, model_validator
from tracemill.flows.options import Flag
from tracemill.flows.reporting import Report
from tracemill.flows.stages import StageConfig, StageContext, register_stage

log = logging.getLogger(__name__)

Method = Literal["exact", "near", "semantic", "decontam"]
DEDUP_ORDER: tuple[str, ...] = ("exact", "near", "semantic")
EXACT, NEAR, SEMANTIC, DECONTAM = "Exact", "Near", "Semantic", "Decontamination"


class CurateStage(StageConfig):
    """Dedup (exact, near, semantic) and decontaminate problems; reruns add nothing new."""

    methods: Annotated[list[Method], Flag(old=("-m",))] = Field(
        default_factory=lambda: ["exact", "near"],
        description="exact, near, semantic or decontam (decontam is added by benchmarks)",
    )
    where: str | None = Field(None, description="SQL filter on problems (columns unqualified)")
    keep: list[str] = Field(
        default_factory=lambda: ["answer", "passing", "level", "shortest", "oldest"],
        description="keep policy criteria in order: answer, passing, level, "
        "shortest/longest, oldest/newest",
    )
    case_sensitive: Annotated[bool, Flag(panel=EXACT)] = Field(
        False, description="keep case when comparing"
    )
    strip_digits: Annotated[bool, Flag(panel=EXACT)] = Field(
        False, description="remove digits first (Light-R1 style)"
    )
    near_threshold: Annotated[float, Flag(panel=NEAR)] = Field(
        0.8, gt=0, le=1, description="minimum estimated Jaccard"
    )
    num_perm: Annotated[int, Flag(panel=NEAR)] = Field(
        128, ge=2, description="MinHash permutations"
    )
    near_ngram: Annotated[int, Flag(old=("--ngram",), panel=NEAR)] = Field(
        5, ge=1, description="n-gram size"
    )
    near_unit: Annotated[Literal["word", "char"], Flag(panel=NEAR)] = Field(
        "word", description="n-grams of words or characters"
    )
    number_guard: bool = Field(True, description="never merge problems whose numbers differ")
    semantic_threshold: Annotated[float, Flag(panel=SEMANTIC)] = Field(
        0.95, ge=-1, le=1, description="minimum cosine"
    )
    semantic_k: Annotated[int, Flag(panel=SEMANTIC)] = Field(
        16, ge=1, description="neighbours searched per problem"
    )
    exact_below: Annotated[int, Flag(panel=SEMANTIC)] = Field(
        20_000, ge=0, description="exact search below this many rows"
    )
    encoder: Annotated[str | None, Flag(panel=SEMANTIC)] = Field(
        None, description="sentence-transformers model name or path (default: packaged MiniLM)"
    )
    device: Annotated[str | None, Flag(panel=SEMANTIC)] = Field(
        None, description="encoder device: cpu, cuda, …"
    )
    batch_size: Annotated[int, Flag(panel=SEMANTIC)] = Field(
        64, ge=1, description="encoder batch size"
    )
    benchmarks: Annotated[str | None, Flag(panel=DECONTAM)] = Field(
        None, description="benchmark config (YAML/JSON): decontaminate too"
    )
    decontam_ngram: Annotated[int, Flag(panel=DECONTAM)] = Field(
        8, ge=1, description="n-gram size"
    )
    decontam_unit: Annotated[Literal["word", "char"], Flag(panel=DECONTAM)] = Field(
        "word", description="n-grams of words or characters"
    )
    decontam_min_matches: Annotated[int, Flag(panel=DECONTAM)] = Field(
        1, ge=1, description="shared n-grams that make a match"
    )
    decontam_embedding_threshold: Annotated[
        float | None, Flag("--decontam-embedding", panel=DECONTAM)
    ] = Field(None, description="also match benchmarks by embedding cosine at least this")
    report: Annotated[str | None, Flag("--report-json", old=("--report",), panel="Output")] = Field(
        None, description="write a JSON report to this file"
    )

    @model_validator(mode="after")
    def _check(self) -> CurateStage:
        if "decontam" in self.methods and not self.benchmarks:
            raise ValueError("method decontam needs `benchmarks` (a benchmark config file)")
        from tracemill.pipelines.curate import KeepPolicy

        KeepPolicy.of(self.keep)
        return self

    def chosen(self) -> list[str]:
        """Methods to run, in running order."""
        wanted = set(self.methods) | ({"decontam"} if self.benchmarks else set())
        return [m for m in (*DEDUP_ORDER, "decontam") if m in wanted]


@dataclass
class CurateReport:
    """What a curate run found and wrote."""

    problems: int = 0
    methods: dict[str, dict[str, Any]] = field(default_factory=dict)
    benchmarks: list[dict[str, Any]] = field(default_factory=list)
    kept: int = 0
    inserted: int = 0
    skipped: int = 0
    dry_run: bool = False

    def counts(self) -> dict[str, Any]:
        """Flat counters for the run summary."""
        out: dict[str, Any] = {"problems": self.problems}
        for method, counts in self.methods.items():
            for key, value in counts.items():
                if key != "config_id":
                    out[f"{method}.{key}"] = value
        for bench in self.benchmarks:
            out[f"decontam.{bench['name']}.problems"] = bench["problems"]
        out.update(kept=self.kept, inserted=self.inserted, skipped=self.skipped)
        return out

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form (the ``--report`` file)."""
        return {
            "problems": self.problems,
            "methods": self.methods,
            "benchmarks": self.benchmarks,
            "kept": self.kept,
            "inserted": self.inserted,
            "skipped": self.skipped,
            "dry_run": self.dry_run,
        }


@dataclass
class _Prior:
    """Rows stored by earlier runs under one ``(method, config_id)``."""

    kept: set[str] = field(default_factory=set)
    dropped: set[str] = field(default_factory=set)
    cluster: dict[str, str | None] = field(default_factory=dict)
    contamination: dict[str, str | None] = field(default_factory=dict)

    def covers(self, ids: list[str]) -> bool:
        """True when every problem of ``ids`` already has a row."""
        return all(pid in self.cluster for pid in ids)


def _prior(store: Any, method: str, config_id: str) -> _Prior:
    """Problems kept / dropped by earlier runs under ``(method, config_id)``."""
    rows = store.sql(
        "SELECT problem_id, kept, cluster, contamination FROM dedup "
        "WHERE method = ? AND config_id = ?",
        [method, config_id],
    ).to_pylist()
    prior = _Prior()
    for r in rows:
        (prior.kept if r["kept"] else prior.dropped).add(r["problem_id"])
        prior.cluster[r["problem_id"]] = r["cluster"]
        prior.contamination[r["problem_id"]] = r["contamination"]
    return prior


def build_encoder(cfg: CurateStage) -> tuple[str, Any]:
    """``(model name for the cache, encoder)`` for ``cfg.encoder`` (default: packaged MiniLM)."""
    from tracemill.pipelines.curate import SentenceTransformerEncoder
    from tracemill.stores.embeddings import MINILM_NAME, packaged_minilm_path

    if cfg.encoder is None:
        path = str(packaged_minilm_path())
        return MINILM_NAME, SentenceTransformerEncoder(
            path, device=cfg.device, batch_size=cfg.batch_size
        )
    return cfg.encoder, SentenceTransformerEncoder(
        cfg.encoder, device=cfg.device, batch_size=cfg.batch_size
    )


class _Vectors:
    """Embeds problems once per run through the cache (semantic dedup and decontam share)."""

    def __init__(
        self, cfg: CurateStage, store: Any, encoder: Any, model: str | None, *, dry_run: bool
    ) -> None:
        self.cfg = cfg
        self.store = store
        self._encoder = encoder
        self.model = model or cfg.encoder
        self.dry_run = dry_run
        self.encoded = 0
        self.reused = 0

    def encoder(self) -> Any:
        if self._encoder is None:
            self.model, self._encoder = build_encoder(self.cfg)
        return self._encoder

    def model_name(self) -> str:
        if self.model is None:
            from tracemill.stores.embeddings import MINILM_NAME

            return MINILM_NAME
        return self.model

    def cache(self) -> Any:
        from tracemill.stores.embeddings import EmbeddingCache, embeddings_root

        return EmbeddingCache(embeddings_root(self.store.config.root), self.model_name())

    def embed(self, problems: pa.Table, *, allow_encode: bool = True) -> pa.Table:
        from tracemill.pipelines.curate import embed_step

        cache = self.cache()
        known = cache.read(problems.column("problem_id").to_pylist())
        missing = problems.num_rows - (known.num_rows if known is not None else 0)
        if missing and not allow_encode:
            raise ValueError(
                f"{missing} problem(s) have no cached {self.model_name()} vector; run curate "
                "with the semantic method first"
            )
        encoder = self.encoder() if missing else None
        result = embed_step(problems, encoder, known=known, batch_size=1024)
        if not self.dry_run:
            cache.write(result.new)
        self.encoded += result.encoded
        self.reused += result.reused
        return result.vectors

    def encode_texts(self, texts: list[str]) -> Any:
        import numpy as np

        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        vectors = np.asarray(self.encoder().encode(texts), dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return vectors / norms


@dataclass
class _MethodRun:
    """What one method decided in this run."""

    rows: pa.Table
    """``dedup`` rows of problems without one under this config (empty when skipped)."""
    dropped: set[str]
    """Input problems this method drops, by earlier runs or this one."""
    counts: dict[str, Any]


def _method_config(method: str, cfg: CurateStage, vectors: _Vectors) -> Any:
    from tracemill.pipelines.curate import ExactConfig, NearConfig, NormalizeConfig, SemanticConfig

    norm = NormalizeConfig(case=cfg.case_sensitive, strip_digits=cfg.strip_digits)
    if method == "exact":
        return ExactConfig(normalize=norm)
    if method == "near":
        return NearConfig(
            threshold=cfg.near_threshold,
            num_perm=cfg.num_perm,
            ngram=cfg.near_ngram,
            unit=cfg.near_unit,
            number_guard=cfg.number_guard,
            normalize=norm,
        )
    return SemanticConfig(
        model=vectors.model_name(),
        threshold=cfg.semantic_threshold,
        k=cfg.semantic_k,
        exact_below=cfg.exact_below,
        number_guard=cfg.number_guard,
    )


def _stable_clusters(rows: pa.Table, prior: _Prior) -> pa.Table:
    """Give new rows the cluster id their representative recorded in an earlier run."""
    if not rows.num_rows or not prior.kept:
        return rows
    clusters = [
        prior.cluster.get(rep) or cluster
        for cluster, rep in zip(
            rows.column("cluster").to_pylist(),
            rows.column("representative").to_pylist(),
            strict=True,
        )
    ]
    idx = rows.schema.get_field_index("cluster")
    return rows.set_column(idx, rows.schema.field(idx), pa.array(clusters, pa.string()))


def _run_method(
    method: str,
    cfg: CurateStage,
    problems: pa.Table,
    store: Any,
    vectors: _Vectors,
    run_id: str | None,
    *,
    allow_encode: bool,
) -> _MethodRun:
    """Run one dedup method over ``problems`` unless all of them are curated already."""
    from tracemill.pipelines.curate import (
        KeepPolicy,
        method_config_id,
        run_exact,
        run_near,
        run_semantic,
    )
    from tracemill.pipelines.curate.select import unclustered_rows

    policy = KeepPolicy.of(cfg.keep)
    method_cfg = _method_config(method, cfg, vectors)
    cid = method_config_id(method_cfg.params(), policy)
    prior = _prior(store, method, cid)
    ids = problems.column("problem_id").to_pylist()
    n = len(ids)
    if prior.covers(ids):
        dropped = prior.dropped.intersection(ids)
        counts: dict[str, Any] = {
            "input": n,
            "clusters": len({c for c in (prior.cluster[p] for p in ids) if c is not None}),
            "dropped": len(dropped),
            "drop_ratio": round(len(dropped) / n, 4) if n else 0.0,
            "new": 0,
            "status": "skipped",
        }
        if method == "semantic":
            counts.update(encoded=0, reused=0)
        counts["config_id"] = cid
        return _MethodRun(_empty_rows(), dropped, counts)
    features = problems.append_column(
        "prior_kept",
        pc.is_in(
            problems.column("problem_id"), value_set=pa.array(sorted(prior.kept), pa.string())
        ),
    )
    if method == "exact":
        result = run_exact(problems, method_cfg, features=features, policy=policy, run_id=run_id)
    elif method == "near":
        result = run_near(problems, method_cfg, features=features, policy=policy, run_id=run_id)
    else:
        vecs = vectors.embed(problems, allow_encode=allow_encode)
        result = run_semantic(
            problems, vecs, method_cfg, features=features, policy=policy, run_id=run_id
        )
    clustered = set(result.rows.column("problem_id").to_pylist())
    alone = unclustered_rows(
        [pid for pid in ids if pid not in clustered],
        method=method,
        config_id=cid,
        detail={"params": result.params, "keep": policy.params()},
        run_id=run_id,
    )
    rows = pa.concat_tables([_stable_clusters(result.rows, prior), alone])
    if prior.cluster:  # earlier decisions stand: write rows for new problems only
        seen = pa.array(sorted(prior.cluster), pa.string())
        rows = rows.filter(pc.invert(pc.is_in(rows.column("problem_id"), value_set=seen)))
    dropped = ((set(result.dropped_ids) - prior.kept) | prior.dropped).intersection(ids)
    counts = result.counts()
    counts.update(
        dropped=len(dropped),
        drop_ratio=round(len(dropped) / n, 4) if n else 0.0,
        new=sum(pid not in prior.cluster for pid in ids),
        status="ran",
    )
    if method == "semantic":
        counts.update(encoded=vectors.encoded, reused=vectors.reused)
    counts["config_id"] = cid
    return _MethodRun(rows, dropped, counts)


def _empty_rows() -> pa.Table:
    """An empty ``dedup`` table."""
    from tracemill.catalogs import conform

    return conform("dedup", [])


def _decontaminate(
    cfg: CurateStage,
    problems: pa.Table,
    store: Any,
    vectors: _Vectors,
    base_dir: Path | None,
    run_id: str | None,
    *,
    allow_encode: bool,
) -> tuple[_MethodRun, list[dict[str, Any]]]:
    """Check the problems without a ``decontam`` row under this config; report per benchmark."""
    from tracemill.catalogs import config_id as hash_config
    from tracemill.pipelines.curate import (
        MATCHES,
        Benchmark,
        DecontamConfig,
        contamination_report,
        contamination_rows,
        embedding_matches,
        ngram_matches,
    )
    from tracemill.pipelines.curate.select import unclustered_rows
    from tracemill.pipelines.curate.semantic import vector_matrix
    from tracemill.stores.benchmarks import load_benchmarks

    assert cfg.benchmarks is not None
    path = Path(cfg.benchmarks).expanduser()
    if base_dir is not None and not path.is_absolute():
        path = base_dir / path
    benchmarks = [Benchmark(b.name, b.questions, b.source) for b in load_benchmarks(path)]
    dcfg = DecontamConfig(
        ngram=cfg.decontam_ngram,
        unit=cfg.decontam_unit,
        min_matches=cfg.decontam_min_matches,
        embedding_threshold=cfg.decontam_embedding_threshold,
    )
    params: dict[str, Any] = dict(dcfg.params())
    params["benchmarks"] = {
        b.name: hash_config(list(b.questions)) for b in sorted(benchmarks, key=lambda b: b.name)
    }
    if dcfg.embedding_threshold is not None:
        params["model"] = vectors.model_name()
    cid = hash_config(params)
    prior = _prior(store, "decontam", cid)
    ids = problems.column("problem_id").to_pylist()
    todo = problems.filter(
        pc.invert(
            pc.is_in(
                problems.column("problem_id"),
                value_set=pa.array(sorted(prior.cluster), pa.string()),
            )
        )
    )
    matches = MATCHES.empty_table()
    rows = _empty_rows()
    if todo.num_rows:
        matches = ngram_matches(todo, benchmarks, dcfg)
        if dcfg.embedding_threshold is not None:
            vecs = vectors.embed(todo, allow_encode=allow_encode)
            emb = embedding_matches(
                vecs.column("problem_id").to_pylist(),
                vector_matrix(vecs),
                benchmarks,
                [vectors.encode_texts(list(b.questions)) for b in benchmarks],
                dcfg.embedding_threshold,
            )
            matches = pa.concat_tables([matches, emb])
        rows = contamination_rows(matches, config_id=cid, run_id=run_id)
        hit = set(rows.column("problem_id").to_pylist())
        clean = unclustered_rows(
            [pid for pid in todo.column("problem_id").to_pylist() if pid not in hit],
            method="decontam",
            config_id=cid,
            run_id=run_id,
            representative=False,
        )
        rows = pa.concat_tables([rows, clean])
    new_dropped = set(rows.filter(pc.invert(rows.column("kept"))).column("problem_id").to_pylist())
    dropped = (prior.dropped | new_dropped).intersection(ids)
    report = [r.as_dict() for r in contamination_report(matches, benchmarks)]
    counts = {
        "input": len(ids),
        "checked": todo.num_rows,
        "matches": matches.num_rows,
        "dropped": len(dropped),
        "status": "ran" if todo.num_rows else "skipped",
        "config_id": cid,
    }
    return _MethodRun(rows, dropped, counts), report


def curate(
    cfg: CurateStage,
    *,
    catalog: str | None = None,
    run_id: str | None = None,
    base_dir: Path | None = None,
    encoder: Any = None,
    dry_run: bool = False,
    allow_encode: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> CurateReport:
    """Run the configured curation (see the module docstring).

    ``encoder`` (an :class:`~tracemill.pipelines.curate.Encoder`) replaces the one ``cfg.encoder``
    names; its vectors are cached under ``cfg.encoder`` (or the packaged MiniLM's name).
    ``dry_run`` computes and reports without writing rows or cache files;
    ``allow_encode=False`` fails instead of encoding (re-thresholding from the cache).
    ``progress(methods_done, methods)`` is called as each method finishes.
    """
    from tracemill.catalogs.views import problem_features_sql
    from tracemill.stores.catalog import open_catalog

    if encoder is not None and cfg.encoder is None:
        raise ValueError("an injected encoder needs a name: set `encoder` in the config")
    report = CurateReport(dry_run=dry_run)
    with open_catalog(catalog, read_only=dry_run) as store:
        problems = store.sql(problem_features_sql(cfg.where))
        report.problems = problems.num_rows
        vectors = _Vectors(cfg, store, encoder, cfg.encoder, dry_run=dry_run)
        tables: list[pa.Table] = []
        current = problems
        contaminated: set[str] = set()
        chosen = cfg.chosen()
        for done, method in enumerate(chosen):
            if progress is not None:
                progress(done, len(chosen))
            if method == "decontam":
                run, report.benchmarks = _decontaminate(
                    cfg, problems, store, vectors, base_dir, run_id, allow_encode=allow_encode
                )
                contaminated = run.dropped
            else:
                run = _run_method(
                    method, cfg, current, store, vectors, run_id, allow_encode=allow_encode
                )
                keep_mask = pc.invert(
                    pc.is_in(
                        current.column("problem_id"),
                        value_set=pa.array(sorted(run.dropped), pa.string()),
                    )
                )
                current = current.filter(keep_mask)
            tables.append(run.rows)
            report.methods[method] = run.counts
        if progress is not None:
            progress(len(chosen), len(chosen))
        report.kept = len(set(current.column("problem_id").to_pylist()) - contaminated)
        rows = pa.concat_tables(tables) if tables else _empty_rows()
        if not dry_run and rows.num_rows:
            result = store.append({"dedup": rows}, message="curate")["dedup"]
            report.inserted, report.skipped = result.inserted, result.skipped
    if cfg.report:
        target = Path(cfg.report).expanduser()
        if base_dir is not None and not target.is_absolute():
            target = base_dir / target
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(report.as_dict(), indent=2, ensure_ascii=False) + "\n")
    return report


def curate_report(report: Report, result: CurateReport) -> None:
    """Fill a curate run's report: per-method and per-benchmark tables, totals."""
    rows = []
    for method, counts in result.methods.items():
        notes = []
        if counts.get("status") == "skipped":
            notes.append("up to date: skipped")
        elif "new" in counts:
            notes.append(f"{counts['new']:,} new")
        if method == "semantic" and counts.get("status") != "skipped":
            notes.append(
                f"encoded {counts.get('encoded', 0):,}, cached {counts.get('reused', 0):,}"
            )
        if method == "decontam" and counts.get("status") != "skipped":
            notes.append(
                f"checked {counts.get('checked', 0):,}, {counts.get('matches', 0):,} matches"
            )
        rows.append([method, counts.get("input", 0), counts.get("clusters"),
                     counts.get("dropped", 0), "; ".join(notes)])  # fmt: skip
    title = "curate (dry run: nothing written)" if result.dry_run else "curate"
    report.table(title, ["method", "input", "clusters", "dropped", "note"], rows,
                 right=["input", "clusters", "dropped"])  # fmt: skip
    if result.benchmarks:
        bench = []
        for b in result.benchmarks:
            ex = b["examples"][0] if b["examples"] else None
            example = f"{ex['problem_id'][:12]}… ~ {ex['benchmark_question'][:60]}" if ex else ""
            bench.append([b["name"], b["items"], b["matches"], b["problems"],
                          b["items_leaked"], example])  # fmt: skip
        report.table(
            "decontamination",
            ["benchmark", "items", "matches", "problems", "items leaked", "example"], bench,
            right=["items", "matches", "problems", "items leaked"],
        )  # fmt: skip
    report.note(
        f"problems {result.problems:,} · kept {result.kept:,} · "
        f"dedup rows inserted {result.inserted:,}, already there {result.skipped:,}"
    )


def run_curate(
    ctx: StageContext, cfg: CurateStage, *, dry_run: bool = False, allow_encode: bool = True
) -> dict[str, Any]:
    """Curate with a progress bar and fill the stage's report; returns the counters."""
    with ctx.progress("curate", len(cfg.chosen()), unit="methods") as tick:
        result = curate(
            cfg, catalog=ctx.catalog, run_id=ctx.run_id, base_dir=ctx.base_dir,
            dry_run=dry_run, allow_encode=allow_encode, progress=tick,
        )  # fmt: skip
    curate_report(ctx.report, result)
    return result.counts()


@register_stage("curate", CurateStage)
def curate_stage(ctx: StageContext, cfg: CurateStage) -> dict[str, Any]:
    """Dedup (exact, near, semantic) and decontaminate problems into ``dedup`` rows."""
    return run_curate(ctx, cfg)
