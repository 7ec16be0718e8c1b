"""Curate the catalog's problems: exact, near and semantic dedup, then decontamination.

The ``curate`` stage reads problems (with their latest passing verdicts and grades, for
the keep policy) from the catalog, runs the chosen methods in the order
exact → near → semantic (all three by default), each over the problems the earlier ones
kept, decontaminates every selected problem against the configured benchmarks, and
appends all ``dedup`` rows in one transaction.

Before any work the benchmark files are read (a missing or malformed one fails at once).
Near and semantic dedup compare matching texts (folded, instruction boilerplate
stripped, recurring boilerplate found per source), built once per run over every
selected problem (:mod:`tracemill.pipelines.curate.matching`).

Semantic dedup encodes with the static model distilled from the packaged
all-MiniLM-L6-v2 on a CPU, and with all-MiniLM-L6-v2 itself on a GPU (``encoder``
chooses: ``static``, ``minilm``, a model2vec folder or a sentence-transformers model).
Each encoder has calibrated thresholds (``benchmarks/dedup.py``; see the README), used
unless ``semantic_threshold`` / ``same_numbers_threshold`` are set.

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
  every selected problem (earlier matches are read back from their rows).

Semantic vectors are cached beside the catalog (:mod:`tracemill.stores.embeddings`): a rerun or a
new threshold encodes nothing already encoded.

The curated set is the ``kept_problems`` view (:mod:`tracemill.catalogs.views`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field, model_validator
from tracemill.flows.executor import ExecutorFields
from tracemill.flows.options import Flag
from tracemill.flows.reporting import Report
from tracemill.flows.stages import StageContext, register_stage

if TYPE_CHECKING:
    from tracemill.pipelines.curate.progress import Progress

log = logging.getLogger(__name__)

Method = Literal["exact", "near", "semantic", "decontam"]
DEDUP_ORDER: tuple[str, ...] = ("exact", "near", "semantic")
EXACT, NEAR, SEMANTIC, DECONTAM = "Exact", "Near", "Semantic", "Decontamination"


class CurateStage(ExecutorFields):
    """Dedup (exact, near, semantic) and decontaminate problems; reruns add nothing new."""

    methods: Annotated[list[Method], Flag(old=("-m",))] = Field(
        default_factory=lambda: ["exact", "near", "semantic"],
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
    number_guard: bool = Field(
        True, description="never merge problems whose numbers (or their order/roles) differ"
    )
    boilerplate: bool = Field(
        True, description="near/semantic: strip instruction boilerplate before comparing"
    )
    semantic_threshold: Annotated[float | None, Flag(panel=SEMANTIC)] = Field(
        None, ge=-1, le=1, description="minimum cosine (default: the encoder's calibrated one)"
    )
    same_numbers_threshold: Annotated[float | None, Flag(panel=SEMANTIC)] = Field(
        None,
        ge=-1,
        le=1,
        description="minimum cosine when the numbers match in order (default: the encoder's)",
    )
    no_numbers_threshold: Annotated[float | None, Flag(panel=SEMANTIC)] = Field(
        None,
        ge=-1,
        le=1,
        description="minimum cosine when neither problem has a number (default: the "
        "encoder's)",
    )
    semantic_k: Annotated[int, Flag(panel=SEMANTIC)] = Field(
        16, ge=1, description="neighbours kept per problem"
    )
    exact_below: Annotated[int, Flag(panel=DECONTAM)] = Field(
        20_000, ge=0, description="embedding matches: exact search below N benchmark items"
    )
    encoder: Annotated[str | None, Flag(panel=SEMANTIC)] = Field(
        None,
        description="static, minilm, a model2vec folder or a sentence-transformers model "
        "(default: static on CPU, minilm on GPU)",
    )
    device: Annotated[str | None, Flag(panel=SEMANTIC)] = Field(
        None, description="encoder device: cpu, cuda, …"
    )
    batch_size: Annotated[int, Flag(panel=SEMANTIC)] = Field(
        64, ge=1, description="encoder batch size (sentence-transformers)"
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
    decisions: dict[str, pa.Table] = field(default_factory=dict)
    """Per method, the ``dedup`` rows it computed for clustered problems (with
    ``keep_decisions``; not in :meth:`as_dict`)."""

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


@dataclass(frozen=True)
class EncoderChoice:
    """Which encoder semantic dedup uses, under which name, with which thresholds."""

    kind: Literal["static", "sentence-transformers", "injected"]
    name: str
    """The model name vectors are cached and configs hashed under."""
    threshold: float
    same_numbers_threshold: float
    no_numbers_threshold: float
    path: str | None = None
    """The static model folder or the sentence-transformers model (None: packaged)."""


def _on_gpu(device: str | None) -> bool:
    if device is not None:
        return device.startswith("cuda")
    import torch

    return bool(torch.cuda.is_available())


def _is_model2vec(path: str) -> bool:
    config = Path(path).expanduser() / "config.json"
    if not config.exists():
        return False
    try:
        return json.loads(config.read_text()).get("model_type") == "model2vec"
    except (OSError, ValueError):
        return False


def choose_encoder(cfg: CurateStage, *, injected: bool = False) -> EncoderChoice:
    """The encoder ``cfg`` asks for (see :class:`CurateStage` ``encoder``)."""
    from tracemill.pipelines.curate.semantic import (
        MINILM_NO_NUMBERS_THRESHOLD,
        MINILM_SAME_NUMBERS_THRESHOLD,
        MINILM_THRESHOLD,
        STATIC_NO_NUMBERS_THRESHOLD,
        STATIC_SAME_NUMBERS_THRESHOLD,
        STATIC_THRESHOLD,
    )
    from tracemill.stores.embeddings import MINILM_NAME, static_name

    static = (STATIC_THRESHOLD, STATIC_SAME_NUMBERS_THRESHOLD, STATIC_NO_NUMBERS_THRESHOLD)
    minilm = (MINILM_THRESHOLD, MINILM_SAME_NUMBERS_THRESHOLD, MINILM_NO_NUMBERS_THRESHOLD)
    if injected:
        assert cfg.encoder is not None
        return EncoderChoice("injected", cfg.encoder, *minilm)
    name = cfg.encoder
    if name is None:
        name = "minilm" if _on_gpu(cfg.device) else "static"
    if name == "static":
        return EncoderChoice("static", static_name(), *static)
    if name == "minilm":
        return EncoderChoice("sentence-transformers", MINILM_NAME, *minilm)
    if _is_model2vec(name):
        return EncoderChoice("static", name, *static, path=name)
    return EncoderChoice("sentence-transformers", name, *minilm, path=name)


def build_encoder(choice: EncoderChoice, cfg: CurateStage, catalog_root: Path | None) -> Any:
    """The encoder of ``choice`` (the static model is distilled here on first use)."""
    from tracemill.pipelines.curate import SentenceTransformerEncoder, StaticModelEncoder
    from tracemill.stores.embeddings import packaged_minilm_path, static_model_path

    if choice.kind == "static":
        return StaticModelEncoder(choice.path or str(static_model_path(catalog_root)))
    if cfg.executor == "ray":
        from tracemill.flows.executor import RayEncoder
        from tracemill.stores.embeddings import MINILM_NAME

        # encoder actors on the cluster: the packaged model is unpacked on each worker (by
        # name); another model path must exist on every node
        return RayEncoder(choice.path or MINILM_NAME, device=cfg.device,
                          batch_size=cfg.batch_size, address=cfg.ray_address,
                          workers=cfg.ray_workers)  # fmt: skip
    path = choice.path or str(packaged_minilm_path())
    return SentenceTransformerEncoder(path, device=cfg.device, batch_size=cfg.batch_size)


class _Vectors:
    """Embeds matching texts once per run through the cache (semantic and decontam share)."""

    def __init__(
        self,
        cfg: CurateStage,
        store: Any,
        encoder: Any,
        *,
        dry_run: bool,
        progress: Progress,
    ) -> None:
        self.cfg = cfg
        self.store = store
        self._encoder = encoder
        self.dry_run = dry_run
        self.progress = progress
        self._choice: EncoderChoice | None = None
        self.encoded = 0
        self.reused = 0

    @property
    def choice(self) -> EncoderChoice:
        if self._choice is None:
            self._choice = choose_encoder(self.cfg, injected=self._encoder is not None)
        return self._choice

    def encoder(self) -> Any:
        if self._encoder is None:
            self.progress("load encoder", 0, 1)
            self._encoder = build_encoder(self.choice, self.cfg, self.store.config.root)
            self._encoder.encode(["warm up"])  # loads the model (distills it the first time)
            self.progress("load encoder", 1, 1)
        return self._encoder

    def model_name(self) -> str:
        return self.choice.name

    def cache(self) -> Any:
        from tracemill.stores.embeddings import EmbeddingCache, embeddings_root

        return EmbeddingCache(embeddings_root(self.store.config.root), self.model_name())

    def embed(self, problems: pa.Table, *, allow_encode: bool = True) -> Any:
        """Vectors of ``problems``' matching texts (an :class:`EmbedResult`)."""
        from tracemill.pipelines.curate import embed_step, text_keys

        texts = problems.column("matching").to_pylist()
        keys = text_keys(texts)
        table = pa.table(
            {
                "problem_id": problems.column("problem_id"),
                "matching": pa.array(texts, pa.string()),
                "key": pa.array(keys, pa.string()),
            }
        )
        cache = self.cache()
        known = cache.read(sorted(set(keys)))
        missing = len(set(keys)) - (known.num_rows if known is not None else 0)
        if missing and not allow_encode:
            raise ValueError(
                f"{missing} problem(s) have no cached {self.model_name()} vector; run curate "
                "with the semantic method first"
            )
        encoder = self.encoder() if missing else None
        result = embed_step(
            table,
            encoder,
            known=known,
            batch_size=4096 if self.choice.kind == "static" else 1024,
            text_column="matching",
            key_column="key",
            progress=self.progress,
        )
        if not self.dry_run:
            for part in result.new_parts():
                cache.write(part)
        self.encoded += result.encoded
        self.reused += result.reused
        return result

    def encode_texts(self, texts: list[str]) -> Any:
        import numpy as np
        from tracemill.pipelines.curate.semantic import _normalize

        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        return _normalize(np.asarray(self.encoder().encode(texts), dtype=np.float32))


@dataclass
class _MethodRun:
    """What one method decided in this run."""

    rows: pa.Table
    """``dedup`` rows of problems without one under this config (empty when skipped)."""
    dropped: set[str]
    """Input problems this method drops, by earlier runs or this one."""
    counts: dict[str, Any]
    decisions: pa.Table | None = None
    """Every clustered problem's ``dedup`` row computed in this run (previews)."""


def _match_config(cfg: CurateStage) -> Any:
    from tracemill.pipelines.curate import MatchConfig

    return MatchConfig(boilerplate=cfg.boilerplate)


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
            match=_match_config(cfg),
        )
    choice = vectors.choice
    threshold = choice.threshold if cfg.semantic_threshold is None else cfg.semantic_threshold
    # an explicit threshold applies to every pair unless the others are set too
    same = cfg.same_numbers_threshold
    if same is None:
        same = choice.same_numbers_threshold if cfg.semantic_threshold is None else threshold
    none = cfg.no_numbers_threshold
    if none is None:
        none = choice.no_numbers_threshold if cfg.semantic_threshold is None else threshold
    return SemanticConfig(
        model=choice.name,
        threshold=threshold,
        same_numbers_threshold=same,
        no_numbers_threshold=none,
        k=cfg.semantic_k,
        exact_below=cfg.exact_below,
        number_guard=cfg.number_guard,
        match=_match_config(cfg),
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
    progress: Progress,
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
            counts.update(encoded=0, reused=0, model=vectors.model_name())
        counts["config_id"] = cid
        return _MethodRun(_empty_rows(), dropped, counts)
    features = problems.append_column(
        "prior_kept",
        pc.is_in(
            problems.column("problem_id"), value_set=pa.array(sorted(prior.kept), pa.string())
        ),
    )
    if method == "exact":
        progress("exact", 0, n)
        result = run_exact(problems, method_cfg, features=features, policy=policy, run_id=run_id)
        progress("exact", n, n)
    elif method == "near":
        result = run_near(
            problems, method_cfg, features=features, policy=policy, run_id=run_id,
            progress=progress,
        )  # fmt: skip
    else:
        vecs = vectors.embed(problems, allow_encode=allow_encode)
        result = run_semantic(
            problems, vecs, method_cfg, features=features, policy=policy, run_id=run_id,
            progress=progress,
        )  # fmt: skip
    clustered = set(result.rows.column("problem_id").to_pylist())
    alone = unclustered_rows(
        [pid for pid in ids if pid not in clustered],
        method=method,
        config_id=cid,
        detail={"params": result.params, "keep": policy.params()},
        run_id=run_id,
    )
    decisions = _stable_clusters(result.rows, prior)
    rows = pa.concat_tables([decisions, alone])
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
        counts.update(
            encoded=vectors.encoded,
            reused=vectors.reused,
            model=vectors.model_name(),
            threshold=method_cfg.threshold,
            same_numbers_threshold=method_cfg.same_numbers_threshold,
            no_numbers_threshold=method_cfg.no_numbers_threshold,
        )
    counts["config_id"] = cid
    return _MethodRun(rows, dropped, counts, decisions)


def _empty_rows() -> pa.Table:
    """An empty ``dedup`` table."""
    from tracemill.catalogs import conform

    return conform("dedup", [])


def load_benchmark_files(cfg: CurateStage, base_dir: Path | None) -> list[Any]:
    """Read every benchmark file of ``cfg`` (fails on a missing or malformed one)."""
    from tracemill.pipelines.curate import Benchmark
    from tracemill.stores.benchmarks import load_benchmarks

    assert cfg.benchmarks is not None
    path = Path(cfg.benchmarks).expanduser()
    if base_dir is not None and not path.is_absolute():
        path = base_dir / path
    benchmarks = [Benchmark(b.name, b.questions, b.source) for b in load_benchmarks(path)]
    empty = [b.name for b in benchmarks if not b.questions]
    if empty:
        raise ValueError(f"benchmark(s) {', '.join(empty)} hold no questions ({path})")
    return benchmarks


def _decontaminate(
    cfg: CurateStage,
    benchmarks: list[Any],
    problems: pa.Table,
    store: Any,
    vectors: _Vectors,
    run_id: str | None,
    *,
    allow_encode: bool,
    progress: Progress,
) -> tuple[_MethodRun, list[dict[str, Any]]]:
    """Check the problems without a ``decontam`` row under this config; report them all."""
    from tracemill.catalogs import config_id as hash_config
    from tracemill.pipelines.curate import (
        MATCHES,
        DecontamConfig,
        contamination_report,
        contamination_rows,
        embedding_matches,
        ngram_matches,
    )
    from tracemill.pipelines.curate.decontam import stored_matches
    from tracemill.pipelines.curate.matching import matching_texts
    from tracemill.pipelines.curate.select import unclustered_rows

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
        params["match"] = _match_config(cfg).params()
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
        matches = ngram_matches(todo, benchmarks, dcfg, progress=progress)
        if dcfg.embedding_threshold is not None:
            vecs = vectors.embed(todo, allow_encode=allow_encode)
            bench_texts = [matching_texts(list(b.questions), None, _match_config(cfg))
                           for b in benchmarks]  # fmt: skip
            emb = embedding_matches(
                vecs.ids,
                vecs.matrix,
                benchmarks,
                [vectors.encode_texts(t) for t in bench_texts],
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
    # the report covers every selected problem: earlier matches come from their rows
    earlier = sorted(prior.dropped.intersection(ids))
    if earlier:
        stored = store.sql(
            "SELECT problem_id, detail FROM dedup WHERE method = 'decontam' AND config_id = ? "
            "AND NOT kept",
            [cid],
        )
        stored = stored.filter(
            pc.is_in(stored.column("problem_id"), value_set=pa.array(earlier, pa.string()))
        )
        matches = pa.concat_tables([stored_matches(stored, benchmarks), matches])
    report = [r.as_dict() for r in contamination_report(matches, benchmarks)]
    counts = {
        "input": len(ids),
        "checked": todo.num_rows,
        "earlier": len(ids) - todo.num_rows,
        "matches": matches.num_rows,
        "dropped": len(dropped),
        "status": "ran" if todo.num_rows else "skipped",
        "config_id": cid,
    }
    return _MethodRun(rows, dropped, counts), report


def _with_matching(problems: pa.Table, cfg: CurateStage, progress: Progress) -> pa.Table:
    """``problems`` with the ``matching`` column (matching texts) near and semantic read."""
    from tracemill.pipelines.curate.matching import matching_texts, number_profile_columns

    n = problems.num_rows
    progress("matching", 0, n)
    sources = problems.column("source") if "source" in problems.column_names else None
    texts = matching_texts(problems.column("question"), sources, _match_config(cfg))
    problems = problems.append_column("matching", pa.array(texts, pa.string()))
    for name, column in number_profile_columns(texts).items():
        problems = problems.append_column(name, column)
    progress("matching", n, n)
    return problems


def _problems_sql(where: str | None) -> str:
    """The keep policy's features plus each problem's source (recurring boilerplate)."""
    from tracemill.catalogs.views import problem_features_sql

    return (
        f"SELECT f.*, p.source FROM ({problem_features_sql(where)}) f "
        "JOIN problems p USING (problem_id) ORDER BY f.problem_id"
    )


def curate(
    cfg: CurateStage,
    *,
    catalog: str | None = None,
    run_id: str | None = None,
    base_dir: Path | None = None,
    encoder: Any = None,
    dry_run: bool = False,
    allow_encode: bool = True,
    progress: Progress | None = None,
    keep_decisions: bool = False,
) -> CurateReport:
    """Run the configured curation (see the module docstring).

    ``encoder`` (an :class:`~tracemill.pipelines.curate.Encoder`) replaces the one
    ``cfg.encoder`` names; its vectors are cached under ``cfg.encoder``. ``dry_run``
    computes and reports without writing rows or cache files; ``allow_encode=False`` fails
    instead of encoding (re-thresholding from the cache). ``progress`` receives
    ``(phase, done, total)`` calls; ``keep_decisions`` keeps each method's computed rows
    in :attr:`CurateReport.decisions` (previews).
    """
    from tracemill.pipelines.curate import no_progress
    from tracemill.stores.catalog import open_catalog

    if encoder is not None and cfg.encoder is None:
        raise ValueError("an injected encoder needs a name: set `encoder` in the config")
    progress = progress or no_progress
    # benchmark files are read before any work: a bad one fails at once
    benchmarks = load_benchmark_files(cfg, base_dir) if cfg.benchmarks else []
    report = CurateReport(dry_run=dry_run)
    progress("read", 0, 1)
    # locked only while curate reads or commits, never while it encodes
    with open_catalog(catalog, read_only=dry_run, release=True) as store:
        problems = store.sql(_problems_sql(cfg.where))
        report.problems = problems.num_rows
        progress("read", 1, 1)
        chosen = cfg.chosen()
        if {"near", "semantic"} & set(chosen) or (
            "decontam" in chosen and cfg.decontam_embedding_threshold is not None
        ):
            problems = _with_matching(problems, cfg, progress)
        vectors = _Vectors(cfg, store, encoder, dry_run=dry_run, progress=progress)
        tables: list[pa.Table] = []
        current = problems
        contaminated: set[str] = set()
        for method in chosen:
            if method == "decontam":
                run, report.benchmarks = _decontaminate(
                    cfg, benchmarks, problems, store, vectors, run_id,
                    allow_encode=allow_encode, progress=progress,
                )  # fmt: skip
                contaminated = run.dropped
            else:
                run = _run_method(
                    method, cfg, current, store, vectors, run_id,
                    allow_encode=allow_encode, progress=progress,
                )  # fmt: skip
                keep_mask = pc.invert(
                    pc.is_in(
                        current.column("problem_id"),
                        value_set=pa.array(sorted(run.dropped), pa.string()),
                    )
                )
                current = current.filter(keep_mask)
                if keep_decisions and run.decisions is not None:
                    report.decisions[method] = run.decisions
            tables.append(run.rows)
            report.methods[method] = run.counts
        report.kept = len(set(current.column("problem_id").to_pylist()) - contaminated)
        ray_nodes = getattr(vectors._encoder, "nodes", None)
        if ray_nodes is not None:
            report.methods.setdefault("encode", {})["ray_nodes"] = len(ray_nodes)
        rows = pa.concat_tables(tables) if tables else _empty_rows()
        if not dry_run and rows.num_rows:
            progress("write", 0, rows.num_rows)
            result = store.append({"dedup": rows}, message="curate")["dedup"]
            progress("write", rows.num_rows, rows.num_rows)
            report.inserted, report.skipped = result.inserted, result.skipped
    if cfg.report:
        target = Path(cfg.report).expanduser()
        if base_dir is not None and not target.is_absolute():
            target = base_dir / target
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(report.as_dict(), indent=2, ensure_ascii=False) + "\n")
    return report


PHASES: dict[str, str] = {
    "read": "reading problems",
    "matching": "matching texts",
    "exact": "exact dedup",
    "minhash": "shingling + MinHash",
    "lsh": "LSH bands",
    "load encoder": "loading the encoder",
    "encode": "encoding",
    "neighbours": "neighbour search",
    "decontam": "decontamination",
    "write": "writing rows",
}
"""Progress bar labels of the curation phases."""


class PhaseBars:
    """One progress bar per curation phase, fed by ``(phase, done, total)`` calls.

    ``open_bar`` is :func:`tracemill.flows.progress.progress` (or a stage context's
    ``progress``); bars stay until the run ends.
    """

    def __init__(self, open_bar: Callable[..., Any]) -> None:
        self._open = open_bar
        self._stack = ExitStack()
        self._ticks: dict[str, Any] = {}

    def __enter__(self) -> PhaseBars:
        self._stack.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.__exit__(*exc)

    def __call__(self, phase: str, done: int, total: int) -> None:
        """Show ``done`` of ``total`` for ``phase`` (a new bar for a new phase)."""
        tick = self._ticks.get(phase)
        if tick is None:
            bar = self._open(PHASES.get(phase, phase), total)
            tick = self._ticks[phase] = self._stack.enter_context(bar)
        tick(done, total)


def _notes(method: str, counts: dict[str, Any]) -> str:
    notes = []
    if counts.get("status") == "skipped":
        notes.append("up to date: skipped")
    elif "new" in counts:
        notes.append(f"{counts['new']:,} new")
    if method == "semantic" and counts.get("status") != "skipped":
        notes.append(
            f"{counts.get('model', '')} cos>={counts.get('threshold')}"
            f" (same numbers {counts.get('same_numbers_threshold')}, no numbers "
            f"{counts.get('no_numbers_threshold')}); "
            f"encoded {counts.get('encoded', 0):,}, cached {counts.get('reused', 0):,}"
        )
    if method == "decontam":
        notes.append(
            f"checked {counts.get('checked', 0):,} now, {counts.get('earlier', 0):,} "
            f"earlier; {counts.get('matches', 0):,} matches"
        )
    return "; ".join(notes)


def curate_report(report: Report, result: CurateReport) -> None:
    """Fill a curate run's report: per-method and per-benchmark tables, totals."""
    rows = [
        [method, counts.get("input", 0), counts.get("clusters"), counts.get("dropped", 0),
         _notes(method, counts)]
        for method, counts in result.methods.items()
    ]  # fmt: skip
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
            f"decontamination of all {result.problems:,} problems",
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
    """Curate with a progress bar per phase and fill the stage's report; the counters."""
    with PhaseBars(ctx.progress) as bars:
        result = curate(
            cfg, catalog=ctx.catalog, run_id=ctx.run_id, base_dir=ctx.base_dir,
            dry_run=dry_run, allow_encode=allow_encode, progress=bars,
        )  # fmt: skip
    curate_report(ctx.report, result)
    return result.counts()


@register_stage("curate", CurateStage)
def curate_stage(ctx: StageContext, cfg: CurateStage) -> dict[str, Any]:
    """Dedup (exact, near, semantic) and decontaminate problems into ``dedup`` rows."""
    return run_curate(ctx, cfg)
