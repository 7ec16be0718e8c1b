"""Selecting graded problems by difficulty into a versioned, re-readable ``datasets`` row."""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa
from tracemill.flows.grade.config import SelectStage
from tracemill.flows.reporting import Report, levels_plot
from tracemill.flows.stages import StageContext, register_stage


def selection_candidates(
    store: Any,
    *,
    model: str | None = None,
    params_id: str | None = None,
    method: str | None = None,
    snapshot: int | None = None,
) -> pa.Table:
    """One grade per problem (the latest) joined with domain and source, at ``snapshot``."""
    at = f" AT (VERSION => {int(snapshot)})" if snapshot is not None else ""
    conds, args = [], []
    for col, value in (("grader_model", model), ("params_id", params_id), ("method", method)):
        if value is not None:
            conds.append(f"{col} = ?")
            args.append(value)
    where = (" WHERE " + " AND ".join(conds)) if conds else ""
    grades = store.sql(f"SELECT * FROM grades{at}{where}", args)
    models = sorted(set(grades.column("grader_model").to_pylist()))
    if len(models) > 1:
        raise ValueError(
            f"grades from several grader models ({', '.join(models)}); choose one with model"
        )
    return store.sql_with(
        "_tm_sel_grades",
        grades,
        "SELECT g.problem_id, g.level, g.pass_rate, g.k, g.grader_model, g.params_id, "
        "g.method, p.domain, p.source FROM (SELECT * FROM _tm_sel_grades QUALIFY "
        "row_number() OVER (PARTITION BY problem_id ORDER BY created_at DESC, params_id) "
        f"= 1) g JOIN problems AS p{at} USING (problem_id) ORDER BY g.problem_id",
    )


def select(cfg: SelectStage, *, store: Any, run_id: str | None) -> tuple[dict[str, Any], Any]:
    """Choose problems and record the selection as a ``datasets`` row."""
    from tracemill.catalogs import config_id
    from tracemill.pipelines.grade import (
        parse_band,
        parse_distribution,
        select_by_difficulty,
        selection_query,
    )

    distribution = cfg.distribution
    if isinstance(distribution, str):
        distribution = parse_distribution(distribution)
    if cfg.size is None and distribution is not None:
        raise ValueError("a distribution needs a size")
    band = parse_band(cfg.band) if cfg.band else None
    snapshot = store.current_snapshot()
    candidates = selection_candidates(
        store, model=cfg.model, params_id=cfg.params_id, method=cfg.method, snapshot=snapshot
    )
    if candidates.num_rows == 0:
        raise ValueError("no graded problems to select from (run `tracemill grade` first)")
    sel = select_by_difficulty(
        candidates,
        size=cfg.size,
        distribution=distribution,
        band=band,
        domains=cfg.domain,
        sources=cfg.source,
        seed=cfg.seed,
        fill=cfg.fill,
        curriculum=cfg.curriculum,
        stages=cfg.stages,
    )
    order = [(r["problem_id"], r["stage"]) for r in sel.rows]
    selection_id = config_id(order)
    params = {
        "size": cfg.size,
        "distribution": {str(k): v for k, v in (distribution or {}).items()} or None,
        "band": list(band) if band else None,
        "model": sorted(set(candidates.column("grader_model").to_pylist())),
        "params_id": cfg.params_id,
        "method": cfg.method,
        "source": cfg.source,
        "domain": cfg.domain,
        "seed": cfg.seed,
        "fill": cfg.fill,
        "curriculum": cfg.curriculum,
        "stages": cfg.stages,
        "selection_id": selection_id,
        **sel.report(),
    }
    latest = store.sql(
        "SELECT version, params FROM datasets WHERE name = ? ORDER BY version DESC LIMIT 1",
        [cfg.dataset],
    ).to_pylist()
    counters: dict[str, Any] = {"rows": len(sel.rows), "shortfall": sel.shortfall}
    if latest and json.loads(latest[0]["params"] or "{}").get("selection_id") == selection_id:
        counters.update(version=latest[0]["version"], new_version=False)
    else:
        version = (latest[0]["version"] + 1) if latest else 1
        row = {
            "name": cfg.dataset,
            "version": version,
            "kind": "selection",
            "query": selection_query(sel.rows, snapshot),
            "rows": len(sel.rows),
            "snapshot_id": snapshot,
            "params": json.dumps(params, sort_keys=True),
            "run_id": run_id,
        }
        store.append({"datasets": [row]}, message=f"select {cfg.dataset} v{version}")
        counters.update(version=version, new_version=True)
    counters["snapshot"] = snapshot
    counters["levels"] = {str(k): v for k, v in sel.taken.items()}
    if sel.requested:
        counters["requested"] = {str(k): v for k, v in sel.requested.items()}
    if sel.fills:
        counters["fills"] = [f"{a}<-{b}:{n}" for a, b, n in sel.fills]
    if cfg.curriculum:
        counters["stages"] = [f"{s.stage}:L{','.join(map(str, s.levels))}[{s.start}:{s.stop})"
                              for s in sel.stages]  # fmt: skip
    return counters, sel


def read_selection(store: Any, name: str, version: int | None = None) -> pa.Table:
    """Re-read a recorded selection (latest version unless given) with its query."""
    args: list[Any] = [name]
    query = "SELECT query FROM datasets WHERE name = ? AND kind = 'selection'"
    if version is not None:
        query += " AND version = ?"
        args.append(version)
    found = store.sql(query + " ORDER BY version DESC LIMIT 1", args).to_pylist()
    if not found:
        raise KeyError(f"no selection named {name!r}" + (f" v{version}" if version else ""))
    return store.sql(found[0]["query"])


def selection_report(report: Report, sel: Any, name: str, counters: dict[str, Any]) -> None:
    """Fill a selection's report: supply, request and take per level; fills; stages."""
    rows = []
    for lv in sorted(set(sel.supply) | set(sel.requested) | set(sel.taken)):
        req = sel.requested.get(lv) if sel.requested else None
        rows.append([lv, sel.supply.get(lv, 0), req, sel.taken.get(lv, 0)])
    report.table(f"selection {name} v{counters.get('version')}",
                 ["level", "supply", "requested", "taken"], rows,
                 right=["level", "supply", "requested", "taken"])  # fmt: skip
    if sel.fills:
        report.note("fill (short level ← donor level: rows): "
                    + ", ".join(f"{a} ← {b}: {n}" for a, b, n in sel.fills))  # fmt: skip
    if len(sel.stages) > 1:
        report.table("curriculum stages", ["stage", "levels", "rows"],
                     [[s.stage, ", ".join(map(str, s.levels)), s.rows] for s in sel.stages],
                     right=["stage", "rows"])  # fmt: skip
    report.note(
        f"{counters['rows']:,} row(s), version {counters.get('version')}"
        + ("" if counters.get("new_version") else " (unchanged: no new version)")
    )
    if sel.shortfall:
        report.note(f"shortfall: {sel.shortfall} row(s) could not be selected", "yellow")
    levels = {str(k): v for k, v in sel.taken.items()}
    if levels:
        report.plot("levels.png", "level histogram", levels_plot(levels, f"selection {name}"))


@register_stage("select", SelectStage)
def select_stage(ctx: StageContext, cfg: SelectStage) -> dict[str, Any]:
    """Select graded problems by difficulty into a versioned ``datasets`` row."""
    from tracemill.stores.catalog import open_catalog

    with ctx.progress(f"select {cfg.dataset}"), open_catalog(ctx.catalog) as store:
        counters, sel = select(cfg, store=store, run_id=ctx.run_id)
    selection_report(ctx.report, sel, cfg.dataset, counters)
    return counters
