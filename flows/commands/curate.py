"""Commands ``curate``, ``dedup explain`` and ``dedup rethreshold``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import typer
from tracemill.flows.command import invocation, stage_command, warn
from tracemill.flows.common import CatalogOption, console


def _thresholds(values: dict[str, Any], extras: Mapping[str, Any]) -> None:
    """``--threshold`` is the threshold of the one similarity method chosen; ``--char``."""
    threshold = extras.get("threshold")
    if threshold is not None:
        methods = values.get("methods") or ["exact", "near"]
        similar = [m for m in methods if m in ("near", "semantic")]
        if len(similar) != 1:
            raise ValueError(
                "--threshold applies to exactly one of near/semantic; "
                "use --near-threshold / --semantic-threshold"
            )
        values.setdefault(f"{similar[0]}_threshold", threshold)
    if extras.get("char"):
        warn("--char is deprecated; use --near-unit char")
        values.setdefault("near_unit", "char")


def _dry_run(ctx: Any, cfg: Any, extras: Mapping[str, Any]) -> dict[str, Any]:
    from tracemill.flows.curate import run_curate

    return run_curate(ctx, cfg, dry_run=bool(extras.get("dry_run")))


def explain_command(
    problem_id: Annotated[str, typer.Argument(help="The problem to explain.")],
    catalog: CatalogOption = None,
) -> None:
    """Show every dedup decision about a problem and the other members of its clusters."""
    with invocation("dedup explain", catalog=catalog) as run:
        from tracemill.flows.summary import arrow_to_rich
        from tracemill.stores.catalog import open_catalog

        with open_catalog(run.catalog, read_only=True) as store:
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
    with invocation("dedup rethreshold", catalog=catalog) as run:
        from tracemill.flows.curate import DEDUP_ORDER, CurateStage, curate, curate_report
        from tracemill.flows.reporting import Report, print_report

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
        result = curate(cfg, catalog=run.catalog, dry_run=True, allow_encode=False)
        report = Report("dedup rethreshold")
        curate_report(report, result)
        print_report(report)


def register(app: typer.Typer) -> None:
    """Add ``curate`` and the ``dedup`` group."""
    extras = {
        "threshold": (Annotated[float | None, typer.Option(
            help="Threshold of the one similarity method chosen (near or semantic).")], None),
        "dry_run": (Annotated[bool, typer.Option(
            "--dry-run", help="Compute and print; write nothing.")], False),
        "char": (Annotated[bool, typer.Option("--char", hidden=True)], False),
    }  # fmt: skip
    stage_command(app, "curate", config="tracemill.flows.curate:CurateStage", extras=extras,
                  prepare=_thresholds, run=_dry_run)  # fmt: skip
    dedup = typer.Typer(help="Inspect and preview dedup decisions.", no_args_is_help=True)
    dedup.command("explain")(explain_command)
    dedup.command("rethreshold")(rethreshold_command)
    app.add_typer(dedup, name="dedup")
