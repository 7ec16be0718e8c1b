"""Export a built dataset as a Hugging Face Hub dataset folder, and upload it.

``export_dataset(store, name, "out/")`` re-reads dataset ``name`` exactly as built (its
stored query at its snapshot) and writes::

    out/README.md                                  dataset card (YAML front matter)
    out/data/train-00000-of-00002.parquet          size-bounded Parquet shards
    out/data/train-00001-of-00002.parquet

The folder loads offline with ``datasets.load_dataset("out/")``. The card's figures
(counts by source, domain and teacher; verifier versions and accept rates; dedup and
decontamination; difficulty histogram; licenses; lineage) are all read at the
dataset's snapshot, so exporting the same version twice gives the same card.

``export_dataset(store, name, "hub://ORG/NAME", private=True)`` writes the same folder
to a temporary directory and uploads it with ``huggingface_hub`` (``create_repo`` with
``exist_ok``, then ``upload_folder``); the token comes from the usual places
(``HF_TOKEN``, ``huggingface-cli login``).
"""

from __future__ import annotations

import functools
import json
import logging
import math
import subprocess
import tempfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa
from tracemill.catalogs.views import (
    INFRA_REASONS,
    table_at,
    verdict_disagreements_sql,
    verdict_roles_sql,
    version_sort_key,
)

log = logging.getLogger(__name__)

HUB_PREFIX = "hub://"
DEFAULT_SHARD_BYTES = 256 * 1024 * 1024
"""Upper bound of a shard's in-memory Arrow size (Parquet files come out smaller)."""
SHARD_GLOB = "data/train-*.parquet"
TEACHER_COLUMNS = ("model", "chosen_model")


class HubError(RuntimeError):
    """An upload to the Hugging Face Hub failed (unreachable, no token, no access, …)."""


class CatalogReader(Protocol):
    """The part of ``tracemill.stores.catalog.CatalogStore`` an export reads through."""

    def sql(self, query: str, params: list[Any] | None = None) -> pa.Table:
        """Run SQL."""


class HubApi(Protocol):
    """The part of ``huggingface_hub.HfApi`` an upload uses."""

    def create_repo(self, repo_id: str, **kwargs: Any) -> Any:
        """Create the repository (``exist_ok=True``)."""

    def upload_folder(self, **kwargs: Any) -> Any:
        """Upload a folder as one commit."""


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote (and where it uploaded)."""

    name: str
    version: int
    rows: int
    folder: str | None
    """The local folder (None after a hub upload from a temporary folder)."""
    shards: tuple[str, ...]
    target: str
    url: str | None = None

    def counts(self) -> dict[str, Any]:
        """Counters for a run summary."""
        return {
            "dataset": self.name,
            "version": self.version,
            "rows": self.rows,
            "shards": len(self.shards),
            "target": self.target,
        }


@dataclass
class CardStats:
    """Everything the dataset card reports."""

    name: str
    version: int
    kind: str
    rows: int
    snapshot_id: int
    created_at: str
    params: dict[str, Any]
    query: str
    code_version: str
    by_source: dict[str, int] = field(default_factory=dict)
    by_domain: dict[str, int] = field(default_factory=dict)
    by_teacher: dict[str, int] = field(default_factory=dict)
    verifiers: list[dict[str, Any]] = field(default_factory=list)
    roles: list[dict[str, Any]] = field(default_factory=list)
    """Latest verdicts per verifier and policy role (primary, fallback, audit)."""
    disagreements: int = 0
    """Samples whose verifiers disagree (``verdict_disagreements``)."""
    dedup: list[dict[str, Any]] = field(default_factory=list)
    levels: dict[str, int] = field(default_factory=dict)
    """Rows per graded level (``ungraded``: rows without a grade)."""
    source_levels: dict[str, int] = field(default_factory=dict)
    """Rows per source level (the level the source data or the generator gave)."""
    graders: list[dict[str, Any]] = field(default_factory=list)
    """The grades behind ``level``: grader model, method, k, params, problems."""
    curriculum: list[dict[str, Any]] = field(default_factory=list)
    """Per curriculum stage of a build from a selection: stage, rows, graded levels."""
    licenses: list[dict[str, Any]] = field(default_factory=list)


# -- helpers ---------------------------------------------------------------------


@functools.cache
def code_version() -> str:
    """``git rev-parse HEAD`` of the checkout tracemill runs from, else the package version."""
    root = Path(__file__).resolve().parent.parent
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
        if out.returncode == 0 and out.stdout.strip():
            return "git:" + out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        log.debug("git rev-parse failed", exc_info=True)
    from importlib.metadata import PackageNotFoundError, version

    try:
        return "tracemill " + version("tracemill")
    except PackageNotFoundError:
        return "unknown"


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def parse_hub_target(target: str) -> str | None:
    """``ORG/NAME`` of a ``hub://ORG/NAME`` target, None for a local folder."""
    if not target.startswith(HUB_PREFIX):
        return None
    repo = target[len(HUB_PREFIX) :].strip("/")
    if repo.count("/") != 1 or not all(repo.split("/")):
        raise ValueError(f"hub target must look like hub://ORG/NAME, got {target!r}")
    return repo


def _dataset_row(store: CatalogReader, name: str, version: int | None) -> dict[str, Any]:
    where = f"name = {_sql_str(name)}"
    if version is not None:
        where += f" AND version = {int(version)}"
    rows = store.sql(
        f"SELECT * FROM datasets WHERE {where} ORDER BY version DESC LIMIT 1"
    ).to_pylist()
    if not rows:
        what = f"{name!r} version {version}" if version is not None else repr(name)
        raise KeyError(f"no dataset {what} in the catalog (build it first)")
    return rows[0]


def _counts(table: pa.Table, column: str) -> dict[str, int]:
    if column not in table.column_names:
        return {}
    counter = Counter("(none)" if v is None else str(v) for v in table.column(column).to_pylist())
    return dict(sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))


def _level_histogram(
    table: pa.Table, column: str = "level", missing: str | None = "ungraded"
) -> dict[str, int]:
    """Rows per level of ``column``, rows without one under ``missing``.

    With ``missing=None`` there is no histogram when no row has a level.
    """
    if column not in table.column_names:
        return {}
    counter = Counter(table.column(column).to_pylist())
    known = sorted(k for k in counter if k is not None)
    if not known and missing is None:
        return {}
    missing = missing or "none"
    out = {str(k): counter[k] for k in known}
    if None in counter:
        out[missing] = counter[None]
    return out


def _curriculum(table: pa.Table) -> list[dict[str, Any]]:
    """Rows and graded levels per ``stage`` of a build that kept a selection's order."""
    if "stage" not in table.column_names or "position" not in table.column_names:
        return []
    levels = table.column("level").to_pylist() if "level" in table.column_names else []
    stages: dict[Any, dict[str, Any]] = {}
    for i, stage in enumerate(table.column("stage").to_pylist()):
        entry = stages.setdefault(stage, {"stage": stage, "rows": 0, "levels": set()})
        entry["rows"] += 1
        if levels and levels[i] is not None:
            entry["levels"].add(levels[i])
    return [
        {**e, "levels": ", ".join(str(v) for v in sorted(e["levels"])) or "-"}
        for e in stages.values()
    ]


def _graders(store: CatalogReader, row: dict[str, Any], table: pa.Table) -> list[dict[str, Any]]:
    """The grades behind the rows' ``level``: (grader, method, params) and problems each.

    Read at the dataset's snapshot through its own query, as the other figures are: the
    latest grade of each (problem, grader model) pair the rows name.
    """
    if not {"problem_id", "grader_model"} <= set(table.column_names):
        return []  # built before builds recorded the grader
    grades = table_at("grades", int(row["snapshot_id"]), "g")
    return store.sql(
        "SELECT grader_model, method, k, params, count(DISTINCT problem_id) AS problems "
        f"FROM (SELECT g.* FROM {grades} JOIN (SELECT DISTINCT problem_id, grader_model "
        f"FROM ({row['query']}) WHERE grader_model IS NOT NULL) d "
        "USING (problem_id, grader_model) QUALIFY row_number() OVER "
        "(PARTITION BY g.problem_id ORDER BY g.created_at DESC, g.params_id) = 1) "
        "GROUP BY ALL ORDER BY problems DESC, grader_model, method"
    ).to_pylist()


# -- statistics ------------------------------------------------------------------


def collect_stats(
    store: CatalogReader, row: dict[str, Any], table: pa.Table, code: str | None = None
) -> CardStats:
    """Figures for the card of dataset ``row`` whose rows are ``table``."""
    snap = int(row["snapshot_id"])
    at = f" AT (VERSION => {snap})"
    teacher = next((c for c in TEACHER_COLUMNS if c in table.column_names), None)
    stats = CardStats(
        name=row["name"],
        version=int(row["version"]),
        kind=row["kind"],
        rows=table.num_rows,
        snapshot_id=snap,
        created_at=str(row["created_at"]),
        params=json.loads(row["params"] or "{}"),
        query=row["query"],
        code_version=code or code_version(),
        by_source=_counts(table, "source"),
        by_domain=_counts(table, "domain"),
        by_teacher=_counts(table, teacher) if teacher else {},
        levels=_level_histogram(table),
        source_levels=_level_histogram(table, "source_level", None),
        curriculum=_curriculum(table),
    )
    stats.graders = _graders(store, row, table)
    # the dataset's problems: its own (snapshot-pinned) query, re-run inside DuckDB
    in_ids = (
        f"problem_id IN (SELECT problem_id FROM ({row['query']}))"
        if "problem_id" in table.column_names
        else "false"
    )
    stats.verifiers = store.sql(
        "SELECT verifier, verifier_version, count(*) AS verdicts, "
        "avg(CASE WHEN passed THEN 1.0 ELSE 0.0 END) AS accept_rate "
        f"FROM verdicts{at} WHERE {in_ids} "
        "GROUP BY verifier, verifier_version "
        f"ORDER BY verifier, {version_sort_key('verifier_version')}, verifier_version"
    ).to_pylist()
    timeouts_negative = bool(stats.params.get("timeouts_negative", False))
    roles = verdict_roles_sql(snap, timeouts_negative=timeouts_negative)
    stats.roles = store.sql(
        "SELECT verifier, role, count(*) AS samples, count(*) FILTER (WHERE passed) AS passed, "
        "count(*) FILTER (WHERE unknown) AS no_outcome, "
        "count(*) FILTER (WHERE decisive) AS deciding "
        f"FROM ({roles}) WHERE {in_ids} GROUP BY ALL ORDER BY role DESC, verifier"
    ).to_pylist()
    stats.disagreements = int(
        store.sql(
            f"SELECT count(*) AS n FROM ({verdict_disagreements_sql(snap)}) WHERE {in_ids}"
        ).column("n")[0].as_py()
    )
    stats.dedup = store.sql(
        "SELECT method, count(DISTINCT config_id) AS runs, count(DISTINCT problem_id) AS problems, "
        "count(DISTINCT problem_id) FILTER (WHERE NOT kept) AS dropped, "
        "count(DISTINCT problem_id) FILTER (WHERE contamination IS NOT NULL AND NOT kept) "
        f"AS contaminated FROM dedup{at} GROUP BY method ORDER BY method"
    ).to_pylist()
    stats.licenses = store.sql(
        "SELECT source, coalesce(license, 'unknown') AS license, count(*) AS problems "
        f"FROM problems{at} WHERE {in_ids} GROUP BY ALL ORDER BY source, license"
    ).to_pylist()
    return stats


# -- the card --------------------------------------------------------------------


def card_license(stats: CardStats) -> str:
    """One license id for the YAML header: the sources' common license, else ``other``."""
    names = {str(r["license"]).strip().lower() for r in stats.licenses}
    if len(names) == 1:
        (only,) = names
        if only and only != "unknown" and " " not in only:
            return only
    return "other"


def _table(headers: list[str], rows: Iterable[Iterable[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for r in rows:
        lines.append("| " + " | ".join(_cell(v) for v in r) + " |")
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def _count_section(title: str, counts: dict[str, int], total: int) -> str:
    if not counts:
        return ""
    rows = [(k, v, f"{100 * v / total:.1f}%" if total else "-") for k, v in counts.items()]
    return f"### By {title}\n\n" + _table([title, "rows", "share"], rows) + "\n"


def _policy_section(stats: CardStats) -> str:
    """How verdicts decided which samples count as correct (the verdict policy)."""
    infra = ", ".join(f"`{r}`" for r in INFRA_REASONS)
    timeouts = (
        "Timeouts count as negatives in this build (`timeouts_negative`)."
        if stats.params.get("timeouts_negative")
        else "Timeouts are treated the same way."
    )
    text = [
        "### Verdict policy\n",
        "Each problem has one *primary* verifier (its `verifier` column). A sample counts "
        "as correct when the latest verdict of that verifier (highest version; a retry of a "
        "timed-out verdict above the row it retried) passed, or, where the primary found no "
        "answer or had no usable reference, when an opt-in judge fallback verdict passed. "
        "Verdicts of other verifiers on the same sample are *audits*: recorded and reported "
        "here, they never remove or add a sample. Infrastructure failures "
        f"({infra}) say nothing about a response: such a sample is neither correct nor a "
        f"negative. {timeouts}\n",
    ]
    if stats.roles:
        text.append(
            "Latest verdicts on this dataset's problems by role (`deciding`: verdicts that "
            "decided their sample; `no outcome`: infrastructure failures and timeouts):\n\n"
            + _table(
                ["verifier", "role", "samples", "passed", "no outcome", "deciding"],
                [
                    (r["verifier"], r["role"], r["samples"], r["passed"], r["no_outcome"],
                     r["deciding"])
                    for r in stats.roles
                ],
            )  # fmt: skip
            + "\n"
        )
        text.append(
            f"Samples on which verifiers disagree (`verdict_disagreements`): "
            f"{stats.disagreements}.\n"
        )
    return "\n".join(text)


def render_card(
    stats: CardStats,
    features_yaml: list[dict[str, Any]],
    *,
    num_bytes: int,
    license: str | None = None,
    pretty_name: str | None = None,
) -> str:
    """The README.md text: YAML front matter, then the figures in Markdown."""
    import yaml

    header: dict[str, Any] = {
        "license": license or card_license(stats),
        "task_categories": ["text-generation"],
        "tags": ["reasoning", "tracemill", stats.kind],
        "pretty_name": pretty_name or stats.name,
        "configs": [
            {
                "config_name": "default",
                "data_files": [{"split": "train", "path": SHARD_GLOB}],
            }
        ],
        "dataset_info": {
            "features": features_yaml,
            "splits": [{"name": "train", "num_bytes": num_bytes, "num_examples": stats.rows}],
            "dataset_size": num_bytes,
        },
    }
    front = yaml.safe_dump(header, sort_keys=False, allow_unicode=True)
    parts = [
        f"---\n{front}---\n",
        f"# {pretty_name or stats.name}\n",
        f"A **{stats.kind}** dataset of {stats.rows} rows built by tracemill from a verified "
        f"reasoning catalog (dataset `{stats.name}` version {stats.version}).\n",
        "## Contents\n",
        _count_section("source", stats.by_source, stats.rows),
        _count_section("domain", stats.by_domain, stats.rows),
        _count_section("teacher", stats.by_teacher, stats.rows),
    ]
    parts.append(_difficulty_section(stats))
    parts.append("## Verification\n")
    if stats.verifiers:
        parts.append(
            "Verdicts on this dataset's problems at the catalog snapshot (all samples, all "
            "verifier versions; which of them decide a sample is the verdict policy below).\n\n"
            + _table(
                ["verifier", "version", "verdicts", "accept rate"],
                [
                    (r["verifier"], r["verifier_version"], r["verdicts"], r["accept_rate"])
                    for r in stats.verifiers
                ],
            )
            + "\n"
        )
    else:
        parts.append("No verdicts recorded for these problems.\n")
    parts.append(_policy_section(stats))
    parts.append("## Deduplication and decontamination\n")
    if stats.dedup:
        parts.append(
            "Catalog-wide decisions at the snapshot; problems not kept are excluded from "
            "builds by default.\n\n"
            + _table(
                ["method", "runs", "problems", "dropped", "contaminated"],
                [
                    (r["method"], r["runs"], r["problems"], r["dropped"], r["contaminated"])
                    for r in stats.dedup
                ],
            )
            + "\n"
        )
    else:
        parts.append("No deduplication or decontamination was recorded.\n")
    parts.append("## Licenses of sources\n")
    if stats.licenses:
        parts.append(
            _table(
                ["source", "license", "problems"],
                [(r["source"], r["license"], r["problems"]) for r in stats.licenses],
            )
            + "\n"
        )
    else:
        parts.append("No source licenses recorded.\n")
    parts.append(
        "## Lineage\n\n"
        + _table(
            ["field", "value"],
            [
                ("dataset", f"{stats.name} v{stats.version}"),
                ("kind", stats.kind),
                ("catalog snapshot", stats.snapshot_id),
                ("built at", stats.created_at),
                ("code version", stats.code_version),
            ],
        )
        + "\n\nBuild parameters:\n\n```json\n"
        + json.dumps(stats.params, indent=2, sort_keys=True)
        + "\n```\n\nDefining query (DuckDB SQL over the tracemill catalog):\n\n```sql\n"
        + stats.query
        + "\n```\n"
    )
    return "\n".join(p for p in parts if p)


def _histogram(counts: dict[str, int]) -> list[tuple[str, int, str]]:
    top = max(counts.values())
    return [(k, v, "#" * max(1, round(30 * v / top))) for k, v in counts.items()]


def _difficulty_section(stats: CardStats) -> str:
    """Graded levels with the grades behind them, source levels, curriculum stages."""
    parts = []
    if stats.levels:
        text = (
            "### Difficulty (graded)\n\n`level` is the graded difficulty: a grader model's "
            "pass rate over k samples of the problem, binned (level 1 = easiest); rows "
            "without a grade have none.\n\n"
            + _table(["level", "rows", ""], _histogram(stats.levels))
        )
        if stats.graders:
            text += "\n\nGrades behind `level` (the latest grade of each problem):\n\n" + _table(
                ["grader model", "method", "k", "problems", "params"],
                [(g["grader_model"], g["method"], g["k"], g["problems"], g["params"] or "")
                 for g in stats.graders],
            )  # fmt: skip
        parts.append(text + "\n")
    if stats.source_levels:
        parts.append(
            "### Source levels\n\n`source_level` is the level the source data or the "
            "synthetic generator gave (its own scale, not comparable with `level` or across "
            "sources).\n\n" + _table(["source_level", "rows", ""], _histogram(stats.source_levels))
            + "\n"
        )
    if stats.curriculum:
        parts.append(
            "### Curriculum\n\nRows are in curriculum order (`position`, easy → hard), in "
            f"{len(stats.curriculum)} stage(s) (`stage`); train stage by stage in this "
            "order.\n\n" + _table(
                ["stage", "rows", "graded levels"],
                [(c["stage"], c["rows"], c["levels"]) for c in stats.curriculum],
            ) + "\n"
        )  # fmt: skip
    return "\n".join(parts)


# -- writing ---------------------------------------------------------------------


def shard_plan(table: pa.Table, shard_rows: int | None, shard_bytes: int | None) -> int:
    """Rows per shard so that no shard exceeds ``shard_rows`` rows or ~``shard_bytes``."""
    limit = table.num_rows or 1
    if shard_rows is not None:
        if shard_rows < 1:
            raise ValueError("shard_rows must be at least 1")
        limit = min(limit, shard_rows)
    if shard_bytes is not None:
        if shard_bytes < 1:
            raise ValueError("shard_bytes must be at least 1")
        if table.num_rows:
            per_row = max(1.0, table.nbytes / table.num_rows)
            limit = min(limit, max(1, math.floor(shard_bytes / per_row)))
    return max(1, limit)


def write_shards(
    table: pa.Table, folder: Path, *, shard_rows: int | None, shard_bytes: int | None
) -> list[Path]:
    """Write ``data/train-0000i-of-0000N.parquet`` files (stale shards are removed first)."""
    import pyarrow.parquet as pq

    data = folder / "data"
    data.mkdir(parents=True, exist_ok=True)
    for old in data.glob("train-*.parquet"):
        old.unlink()
    per_shard = shard_plan(table, shard_rows, shard_bytes)
    n = max(1, math.ceil(table.num_rows / per_shard))
    paths = []
    for i in range(n):
        path = data / f"train-{i:05d}-of-{n:05d}.parquet"
        pq.write_table(table.slice(i * per_shard, per_shard), path, compression="zstd")
        paths.append(path)
    return paths


def write_dataset_folder(
    store: CatalogReader,
    name: str,
    folder: str | Path,
    *,
    version: int | None = None,
    shard_rows: int | None = None,
    shard_bytes: int | None = DEFAULT_SHARD_BYTES,
    license: str | None = None,
) -> tuple[dict[str, Any], pa.Table, list[Path]]:
    """Write the shards and README.md of dataset ``name`` into ``folder``."""
    from datasets import Features

    row = _dataset_row(store, name, version)
    table = store.sql(row["query"])
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    shards = write_shards(table, folder, shard_rows=shard_rows, shard_bytes=shard_bytes)
    features = Features.from_arrow_schema(table.schema)
    stats = collect_stats(store, row, table)
    card = render_card(
        stats,
        features._to_yaml_list(),
        num_bytes=int(table.nbytes),
        license=license,
    )
    (folder / "README.md").write_text(card, encoding="utf-8")
    return row, table, shards


def upload_to_hub(
    folder: str | Path,
    repo_id: str,
    *,
    private: bool = False,
    api: HubApi | None = None,
    commit_message: str = "tracemill export",
) -> str:
    """Create dataset repo ``repo_id`` if needed and upload ``folder``; returns its URL."""
    try:
        if api is None:
            from huggingface_hub import HfApi

            api = HfApi()
        api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
        api.upload_folder(
            repo_id=repo_id,
            folder_path=str(folder),
            repo_type="dataset",
            commit_message=commit_message,
            delete_patterns=[SHARD_GLOB],
        )
    except Exception as e:  # noqa: BLE001 - every Hub failure becomes one clear error
        lines = [line.strip() for line in str(e).splitlines() if line.strip()]
        reason = f"{type(e).__name__}: {lines[0]}" if lines else type(e).__name__
        raise HubError(
            f"cannot upload to {HUB_PREFIX}{repo_id} (Hub unreachable, no token or no write "
            f"access?): {reason}"
        ) from e
    return f"https://huggingface.co/datasets/{repo_id}"


def export_dataset(
    store: CatalogReader,
    name: str,
    to: str | Path,
    *,
    version: int | None = None,
    shard_rows: int | None = None,
    shard_bytes: int | None = DEFAULT_SHARD_BYTES,
    private: bool = False,
    license: str | None = None,
    api: HubApi | None = None,
) -> ExportResult:
    """Export dataset ``name`` to a local folder or to ``hub://ORG/NAME``."""
    target = str(to)
    repo_id = parse_hub_target(target)
    kwargs: dict[str, Any] = {
        "version": version,
        "shard_rows": shard_rows,
        "shard_bytes": shard_bytes,
        "license": license,
    }
    if repo_id is None:
        row, table, shards = write_dataset_folder(store, name, target, **kwargs)
        return ExportResult(
            name,
            int(row["version"]),
            table.num_rows,
            target,
            tuple(str(p) for p in shards),
            target,
        )
    with tempfile.TemporaryDirectory(prefix="tracemill-export-") as tmp:
        row, table, shards = write_dataset_folder(store, name, tmp, **kwargs)
        url = upload_to_hub(
            tmp,
            repo_id,
            private=private,
            api=api,
            commit_message=f"tracemill export {name} v{row['version']}",
        )
        rel = tuple(str(p.relative_to(tmp)) for p in shards)
    return ExportResult(name, int(row["version"]), table.num_rows, None, rel, target, url)
