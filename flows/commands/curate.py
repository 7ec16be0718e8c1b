"""Commands ``curate``, ``dedup explain`` and ``dedup rethreshold``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from tracemill.flows.common import CatalogOption, catalog_location, console, user_errors

METHODS = ("exact", "near", "semantic", "decontam")

MethodOption = Annotated[
    list[str] | None,
    typer.Option(
        "--method",
        "-m",
        help="exact, near, semantic or decontam (repeatable; default: exact and near).",
    ),
]


def _thresholds(
    methods: list[str], threshold: float | None, near: float | None, semantic: float | None
) -> dict[str, float]:
    out: dict[str, float] = {}
    if threshold is not None:
        similar = [m for m in methods if m in ("near", "semantic")]
        if len(similar) != 1:
            raise ValueError(
                "--threshold applies to exactly one of near/semantic; "
                "use --near-threshold / --semantic-threshold"
            )
        out[f"{similar[0]}_threshold"] = threshold
    if near is not None:
        out["near_threshold"] = near
    if semantic is not None:
        out["semantic_threshold"] = semantic
    return out


def print_curate_report(report: Any) -> None:
    """Per-method and per-benchmark tables of a curate report."""
    from rich.table import Table

    title = "curate (dry run: nothing written)" if report.dry_run else "curate"
    view = Table(title=title)
    for col in ("method", "input", "clusters", "dropped", "note"):
        view.add_column(col, justify="left" if col in ("method", "note") else "right")
    for method, counts in report.methods.items():
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
        note = "; ".join(notes)
        view.add_row(
            method,
            f"{counts.get('input', 0):,}",
            f"{counts['clusters']:,}" if "clusters" in counts else "",
            f"{counts.get('dropped', 0):,}",
            note,
        )
    console.print(view)
    if report.benchmarks:
        bench = Table(title="decontamination")
        for col in ("benchmark", "items", "matches", "problems", "items leaked", "example"):
            bench.add_column(col, justify="left" if col in ("benchmark", "example") else "right")
        for b in report.benchmarks:
            ex = b["examples"][0] if b["examples"] else None
            example = f"{ex['problem_id'][:12]}… ~ {ex['benchmark_question'][:60]}" if ex else ""
            bench.add_row(
                b["name"],
                f"{b['items']:,}",
                f"{b['matches']:,}",
                f"{b['problems']:,}",
                f"{b['items_leaked']:,}",
                example,
            )
        console.print(bench)
    console.print(
        f"problems {report.problems:,} · kept {report.kept:,} · "
        f"dedup rows inserted {report.inserted:,}, already there {report.skipped:,}",
        highlight=False,
    )


def curate_command(
    method: MethodOption = None,
    threshold: Annotated[
        float | None, typer.Option(help="Threshold of the one similarity method chosen.")
    ] = None,
    near_threshold: Annotated[
        float | None, typer.Option(help="Near: minimum estimated Jaccard (default 0.8).")
    ] = None,
    semantic_threshold: Annotated[
        float | None, typer.Option(help="Semantic: minimum cosine (default 0.95).")
    ] = None,
    num_perm: Annotated[int, typer.Option(help="Near: MinHash permutations.")] = 128,
    ngram: Annotated[int, typer.Option(help="Near: n-gram size.")] = 5,
    char: Annotated[bool, typer.Option("--char", help="Near: character n-grams.")] = False,
    strip_digits: Annotated[bool, typer.Option(help="Exact: remove digits first.")] = False,
    number_guard: Annotated[
        bool, typer.Option(help="Never merge problems whose numbers differ.")
    ] = True,
    keep: Annotated[
        list[str] | None,
        typer.Option(
            help="Keep policy criteria in order (repeatable): answer, passing, "
            "level, shortest, longest, oldest, newest."
        ),
    ] = None,  # fmt: skip
    encoder: Annotated[
        str | None,
        typer.Option(
            help="Sentence-transformers model name or path (default: packaged all-MiniLM-L6-v2)."
        ),
    ] = None,  # fmt: skip
    device: Annotated[str | None, typer.Option(help="Encoder device: cpu, cuda, …")] = None,
    benchmarks: Annotated[
        Path | None, typer.Option(help="Benchmark config (YAML/JSON): decontaminate too.")
    ] = None,
    decontam_ngram: Annotated[int, typer.Option(help="Decontamination n-gram size.")] = 8,
    decontam_embedding: Annotated[
        float | None, typer.Option(help="Also match benchmarks by cosine at least this.")
    ] = None,
    where: Annotated[str | None, typer.Option(help="SQL filter on problems.")] = None,
    report: Annotated[Path | None, typer.Option(help="Write a JSON report here.")] = None,
    dry_run: Annotated[bool, typer.Option(help="Compute and print; write nothing.")] = False,
    catalog: CatalogOption = None,
) -> None:
    """Dedup (exact, near, semantic) and decontaminate problems; reruns add nothing new."""
    with user_errors():
        from tracemill.catalogs import new_run_id
        from tracemill.flows.curate import CurateStage, curate

        methods = list(method or ["exact", "near"])
        bad = [m for m in methods if m not in METHODS]
        if bad:
            raise ValueError(f"unknown method(s) {', '.join(bad)}; choose {', '.join(METHODS)}")
        options: dict[str, Any] = dict(
            methods=methods,
            num_perm=num_perm,
            near_ngram=ngram,
            near_unit="char" if char else "word",
            strip_digits=strip_digits,
            number_guard=number_guard,
            encoder=encoder,
            device=device,
            benchmarks=str(benchmarks) if benchmarks else None,
            decontam_ngram=decontam_ngram,
            decontam_embedding_threshold=decontam_embedding,
            where=where,
            report=str(report) if report else None,
        )
        options.update(_thresholds(methods, threshold, near_threshold, semantic_threshold))
        if keep:
            options["keep"] = keep
        cfg = CurateStage(**options)
        with console.status("curating…"):
            result = curate(
                cfg, catalog=catalog_location(catalog), run_id=new_run_id(), dry_run=dry_run
            )
        print_curate_report(result)


def explain_command(
    problem_id: Annotated[str, typer.Argument(help="The problem to explain.")],
    catalog: CatalogOption = None,
) -> None:
    """Show every dedup decision about a problem and the other members of its clusters."""
    with user_errors():
        from tracemill.flows.summary import arrow_to_rich
        from tracemill.stores.catalog import open_catalog

        with open_catalog(catalog_location(catalog), read_only=True) as store:
            mine = store.sql(
                "SELECT method, config_id, cluster, representative, similarity, kept, "
                "contamination, detail, run_id FROM dedup WHERE problem_id = ? "
                "ORDER BY method, created_at",
                [problem_id],
            )
            if mine.num_rows == 0:
                exists = store.sql("SELECT 1 FROM problems WHERE problem_id = ?", [problem_id])
                if exists.num_rows == 0:
                    raise ValueError(f"no problem {problem_id}")
                console.print(f"{problem_id}: not curated yet (no dedup decision)")
                return
            console.print(arrow_to_rich(mine, title=f"dedup decisions for {problem_id}"))
            # the same cluster, or the same representative (a problem kept alone by an
            # earlier run that new problems joined later)
            members = store.sql(
                "SELECT DISTINCT d.method, d.cluster, d.problem_id, d.kept, d.similarity, "
                "left(p.question, 120) AS question FROM dedup d "
                "JOIN problems p USING (problem_id) "
                "JOIN (SELECT method, config_id, cluster, representative FROM dedup "
                "      WHERE problem_id = ? AND method <> 'decontam') m "
                "ON d.method = m.method AND d.config_id = m.config_id "
                "AND (d.cluster = m.cluster OR d.representative = m.representative) "
                "ORDER BY d.method, d.kept DESC, d.similarity DESC NULLS FIRST",
                [problem_id],
            )
        if members.num_rows > 1:
            console.print(arrow_to_rich(members, title="cluster members"))


def rethreshold_command(
    threshold: Annotated[float, typer.Option(help="The new threshold.")],
    method: Annotated[str, typer.Option(help="semantic or near.")] = "semantic",
    encoder: Annotated[
        str | None, typer.Option(help="Model whose cached vectors to use (default: MiniLM).")
    ] = None,
    where: Annotated[str | None, typer.Option(help="SQL filter on problems.")] = None,
    catalog: CatalogOption = None,
) -> None:
    """Preview clusters and drops at a new threshold (semantic: cached vectors only).

    The preview covers the problems that no earlier method of the chain (exact, then
    near) dropped, under any config: the problems the method saw when curate ran it.
    """
    with user_errors():
        from tracemill.flows.curate import DEDUP_ORDER, CurateStage, curate

        if method not in ("semantic", "near"):
            raise ValueError("--method must be semantic or near")
        earlier = ", ".join(f"'{m}'" for m in DEDUP_ORDER[: DEDUP_ORDER.index(method)])
        survivors = (
            "problem_id NOT IN (SELECT problem_id FROM dedup "
            f"WHERE NOT kept AND method IN ({earlier}))"
        )
        cfg = CurateStage(
            methods=[method],
            encoder=encoder,
            where=f"({where}) AND {survivors}" if where else survivors,
            **{f"{method}_threshold": threshold},
        )
        result = curate(cfg, catalog=catalog_location(catalog), dry_run=True, allow_encode=False)
        print_curate_report(result)


def register(app: typer.Typer) -> None:
    """Add ``curate`` and the ``dedup`` group."""
    app.command("curate")(curate_command)
    dedup = typer.Typer(help="Inspect and preview dedup decisions.", no_args_is_help=True)
    dedup.command("explain")(explain_command)
    dedup.command("rethreshold")(rethreshold_command)
    app.add_typer(dedup, name="dedup")
