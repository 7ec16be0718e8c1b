"""Commands ``curate``, ``dedup explain`` and ``dedup rethreshold``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import typer
from tracemill.flows.command import invocation, stage_command, warn
from tracemill.flows.common import CatalogOption, UsageError, console


def _thresholds(values: dict[str, Any], extras: Mapping[str, Any]) -> None:
    """``--threshold`` is the threshold of the one similarity method chosen; ``--char``."""
    threshold = extras.get("threshold")
    if threshold is not None:
        methods = values.get("methods") or ["exact", "near", "semantic"]
        similar = [m for m in methods if m in ("near", "semantic")]
        if len(similar) != 1:
            raise UsageError(
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


def _quoted(ids: list[str]) -> str:
    return ", ".join("'" + i.replace("'", "''") + "'" for i in ids)


def _feature_text(criterion: str, row: dict[str, Any] | None) -> str:
    """What a problem has for one keep criterion, in words."""
    if row is None:
        return "?"
    if criterion == "answer":
        return "has a reference answer" if (row.get("answer") or "").strip() else "no answer"
    if criterion == "passing":
        return "has a passing verdict" if row.get("has_passing") else "no passing verdict"
    if criterion == "level":
        return f"level {row['level']}" if row.get("level") is not None else "level unknown"
    if criterion in ("shortest", "longest"):
        return f"{len(row.get('question') or ''):,} characters"
    if criterion in ("oldest", "newest"):
        return f"created {row.get('created_at')}"
    if criterion == "prior":
        return "kept by an earlier run"
    return f"id {row['problem_id'][:16]}…"


def _reasons(store: Any, problem_id: str, mine: Any) -> list[str]:
    """One sentence per dedup decision: kept or dropped, and the deciding criterion."""
    import json

    from tracemill.catalogs.views import problem_features_sql
    from tracemill.pipelines.curate import CRITERIA
    from tracemill.pipelines.curate.select import PRIOR, TIE

    rows = mine.to_pylist()
    others = {r["representative"] for r in rows if r["representative"]}
    details = [json.loads(r["detail"] or "{}") for r in rows]
    others |= {d.get("neighbour") for d in details if d.get("neighbour")}
    feats = store.sql(problem_features_sql(f"problem_id IN ({_quoted([problem_id, *others])})"))
    by_id = {f["problem_id"]: f for f in feats.to_pylist()}
    names = {**CRITERIA, PRIOR: "a problem kept by an earlier run first", TIE: "smaller id"}
    out = []
    for row, detail in zip(rows, details, strict=True):
        method = row["method"]
        if method == "decontam":
            if row["kept"]:
                out.append("decontam: clean (no benchmark match)")
            else:
                out.append(
                    f"decontam: dropped, leaks {row['contamination']} item "
                    f"{row['cluster']} (score {row['similarity']})"
                )
            continue
        if row["cluster"] is None:
            out.append(f"{method}: kept, in no cluster")
            continue
        size = detail.get("cluster_size")
        decided = detail.get("decided_by")
        if row["kept"]:
            runner = None
            text = f"{method}: kept as the representative of a cluster of {size}"
        else:
            runner = row["representative"]
            text = (
                f"{method}: dropped for {runner[:16]}… (similarity {row['similarity']}, "
                f"cluster of {size})"
            )
        if decided is None:
            out.append(text + "; deciding criterion not recorded (curated before it was)")
            continue
        text += f"; deciding keep criterion: {decided} ({names.get(decided, decided)})"
        if runner is not None:
            text += (
                f": the representative {_feature_text(decided, by_id.get(runner))}, this one "
                f"{_feature_text(decided, by_id.get(problem_id))}"
            )
        out.append(text)
    return out


def explain_command(
    problem_id: Annotated[str, typer.Argument(help="The problem to explain.")],
    catalog: CatalogOption = None,
) -> None:
    """Show a problem's dedup decisions, the keep criterion behind each, its clusters."""
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
            for line in _reasons(store, problem_id, mine):
                console.print(f"• {line}", highlight=False)
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


def threshold_changes(store: Any, method: str, preview: Any) -> list[dict[str, Any]]:
    """Pairs whose decision a preview changes, against the method's latest stored config.

    Each change: ``change`` (``drop``: newly dropped for a representative; ``keep``: no
    longer dropped; ``move``: dropped for another representative), ``problem_id``,
    ``representative`` (the new one, else the old), ``similarity``, ``before``.
    """
    import pyarrow.compute as pc

    latest = store.sql(
        "SELECT config_id FROM dedup WHERE method = ? ORDER BY created_at DESC LIMIT 1",
        [method],
    )
    stored: dict[str, tuple[str, float]] = {}
    if latest.num_rows:
        cid = latest.column("config_id")[0].as_py()
        for r in store.sql(
            "SELECT problem_id, representative, similarity FROM dedup "
            "WHERE method = ? AND config_id = ? AND NOT kept",
            [method, cid],
        ).to_pylist():
            stored[r["problem_id"]] = (r["representative"], r["similarity"])
    now: dict[str, tuple[str, float]] = {}
    if preview is not None:
        for r in preview.filter(pc.invert(preview.column("kept"))).to_pylist():
            now[r["problem_id"]] = (r["representative"], r["similarity"])
    changes = []
    for pid in sorted(set(stored) | set(now)):
        old, new = stored.get(pid), now.get(pid)
        if old is not None and new is not None and old[0] == new[0]:
            continue
        if new is None:
            assert old is not None
            change, rep, sim = "keep", old[0], old[1]
        else:
            change, rep, sim = ("drop" if old is None else "move"), new[0], new[1]
        changes.append(
            {
                "change": change,
                "problem_id": pid,
                "representative": rep,
                "similarity": sim,
                "before": old[0] if old else None,
            }
        )
    return changes


def rethreshold_command(
    threshold: Annotated[float, typer.Option(help="The new threshold.")],
    method: Annotated[str, typer.Option(help="semantic or near.")] = "semantic",
    same_numbers_threshold: Annotated[
        float | None,
        typer.Option(help="Semantic: the new threshold for problems whose numbers match."),
    ] = None,
    no_numbers_threshold: Annotated[
        float | None,
        typer.Option(help="Semantic: the new threshold between problems without numbers."),
    ] = None,
    encoder: Annotated[
        str | None,
        typer.Option(help="Encoder whose cached vectors to use (default: as curate)."),
    ] = None,
    where: Annotated[str | None, typer.Option(help="SQL filter on problems.")] = None,
    limit: Annotated[int, typer.Option(help="Changed pairs to list.")] = 20,
    out: Annotated[
        Path | None, typer.Option(help="Write every changed pair to this JSONL file.")
    ] = None,
    catalog: CatalogOption = None,
) -> None:
    """Preview a new threshold: the pairs that would change (semantic: cached vectors only).

    The preview covers the problems that no earlier method of the chain (exact, then
    near) dropped, under any config: the problems the method saw when curate ran it. It
    lists the problems that would be dropped (and for which representative), that would
    no longer be dropped, or that would join another representative, against the
    method's latest stored decisions. A threshold given alone applies to every pair.
    """
    with invocation("dedup rethreshold", catalog=catalog) as run:
        import json

        from tracemill.flows.curate import DEDUP_ORDER, CurateStage, curate, curate_report
        from tracemill.flows.reporting import Report, print_report
        from tracemill.stores.catalog import open_catalog

        if method not in ("semantic", "near"):
            raise UsageError("--method must be semantic or near")
        earlier = ", ".join(f"'{m}'" for m in DEDUP_ORDER[: DEDUP_ORDER.index(method)])
        survivors = (
            "problem_id NOT IN (SELECT problem_id FROM dedup "
            f"WHERE NOT kept AND method IN ({earlier}))"
        )
        options: dict[str, Any] = {f"{method}_threshold": threshold}
        if same_numbers_threshold is not None:
            options["same_numbers_threshold"] = same_numbers_threshold
        if no_numbers_threshold is not None:
            options["no_numbers_threshold"] = no_numbers_threshold
        cfg = CurateStage(
            methods=[method],
            encoder=encoder,
            where=f"({where}) AND {survivors}" if where else survivors,
            **options,
        )
        result = curate(
            cfg, catalog=run.catalog, dry_run=True, allow_encode=False, keep_decisions=True
        )
        report = Report("dedup rethreshold")
        curate_report(report, result)
        with open_catalog(run.catalog, read_only=True) as store:
            changes = threshold_changes(store, method, result.decisions.get(method))
            shown = changes[:limit]
            ids = sorted({c["problem_id"] for c in shown} | {c["representative"] for c in shown})
            questions: dict[str, str] = {}
            if ids:
                found = store.sql(
                    f"SELECT problem_id, question FROM problems WHERE problem_id IN "
                    f"({_quoted(ids)})"
                )
                questions = dict(
                    zip(
                        found.column("problem_id").to_pylist(),
                        found.column("question").to_pylist(),
                        strict=True,
                    )
                )
        counts = {k: sum(c["change"] == k for c in changes) for k in ("drop", "keep", "move")}
        report.note(
            f"{len(changes):,} changed pairs at {method} threshold {threshold}: "
            f"{counts['drop']:,} newly dropped, {counts['keep']:,} no longer dropped, "
            f"{counts['move']:,} with another representative"
        )
        if shown:
            report.table(
                f"changed pairs (first {len(shown)})",
                ["change", "problem", "representative", "sim", "question", "its pair"],
                [
                    [c["change"], c["problem_id"][:12] + "…", c["representative"][:12] + "…",
                     f"{c['similarity']:.3f}" if c["similarity"] is not None else "",
                     (questions.get(c["problem_id"]) or "")[:80],
                     (questions.get(c["representative"]) or "")[:80]]
                    for c in shown
                ],
            )  # fmt: skip
        if out is not None:
            out.parent.mkdir(parents=True, exist_ok=True)
            with out.open("w", encoding="utf-8") as f:
                for c in changes:
                    f.write(json.dumps(c, ensure_ascii=False) + "\n")
            report.note(f"wrote {len(changes):,} changed pairs to {out}")
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
                  prepare=_thresholds, run=_dry_run,
                  records=lambda extras: not extras.get("dry_run"))  # fmt: skip
    dedup = typer.Typer(help="Inspect and preview dedup decisions.", no_args_is_help=True)
    dedup.command("explain")(explain_command)
    dedup.command("rethreshold")(rethreshold_command)
    app.add_typer(dedup, name="dedup")
