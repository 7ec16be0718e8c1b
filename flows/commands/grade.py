"""``tracemill grade``, ``select`` and ``calibrate``: difficulty adapted to a model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from tracemill.flows.common import CatalogOption, catalog_location, console, user_errors

_SAMPLING_HELP = "Student sampling"


def _bins(text: str | None) -> list[float] | None:
    if not text:
        return None
    from tracemill.pipelines.grade import LevelBins

    return list(LevelBins.parse(text).lower)


def _options(values: list[str] | None) -> dict[str, Any]:
    import yaml

    out: dict[str, Any] = {}
    for item in values or []:
        if "=" not in item:
            raise ValueError(f"--backend-option expects KEY=VALUE, got {item!r}")
        key, value = item.split("=", 1)
        out[key.strip()] = yaml.safe_load(value)
    return out


def _method(method: str | None, adaptive: bool) -> str:
    if method is not None:
        return method
    return "adaptive_k" if adaptive else "fixed_k"


def _print_grade_summary(title: str, counters: dict[str, Any]) -> None:
    from rich.table import Table

    drawn, fixed = counters.get("samples_drawn", 0), counters.get("fixed_k_samples", 0)
    console.print(
        f"[bold]{title}[/]: {counters.get('problems', 0):,} problem(s), "
        f"{counters.get('graded', 0):,} graded now, "
        f"{counters.get('already_graded', 0):,} already graded"
    )
    if fixed:
        new, reused = counters.get("samples_generated", 0), counters.get("samples_reused", 0)
        console.print(
            f"samples drawn {drawn:,} vs fixed k {fixed:,} "
            f"({100 * (1 - drawn / fixed):.1f}% fewer); new {new:,}, reused {reused:,}"
        )
    if counters.get("agreement_problems"):
        console.print(
            f"levels agree with {counters['agreement_with']} on "
            f"{100 * counters['level_agreement']:.1f}% of the "
            f"{counters['agreement_problems']:,} problem(s) graded both ways"
        )
    elif counters.get("method") == "adaptive_k":
        console.print(
            "[dim]agreement with fixed k: grade the same problems with --fixed (it reuses "
            "these samples)[/]"
        )
    if counters.get("generation_errors") or counters.get("incomplete"):
        console.print(
            f"[yellow]{counters.get('generation_errors', 0)} generation error(s); "
            f"{counters.get('incomplete', 0)} problem(s) left ungraded (rerun to retry)[/]"
        )
    levels = counters.get("levels") or {}
    total = sum(levels.values()) or 1
    view = Table(title="levels (1 = easiest)")
    view.add_column("level", justify="right")
    view.add_column("problems", justify="right")
    view.add_column("", overflow="crop")
    for lv, n in sorted(levels.items(), key=lambda kv: int(kv[0])):
        view.add_row(str(lv), f"{n:,}", "█" * round(30 * n / total))
    console.print(view)
    if counters.get("report"):
        console.print(f"[dim]report: {counters['report']}[/]")


def grade_command(
    model: Annotated[str, typer.Option("--model", "-m", help="Student (grader) model.")],
    k: Annotated[
        int, typer.Option("--k", "-k", help="Samples per problem (most, if adaptive).")
    ] = 16,
    backend: Annotated[
        str, typer.Option(help="Generation backend: transformers, vllm, openai or fake.")
    ] = "transformers",
    backend_option: Annotated[
        list[str] | None,
        typer.Option("--backend-option", "-o", help="Backend option KEY=VALUE (repeatable)."),
    ] = None,
    adaptive: Annotated[
        bool, typer.Option("--adaptive/--fixed", help="Adaptive k (default) or fixed k.")
    ] = True,
    method: Annotated[
        str | None,
        typer.Option(help="fixed_k, adaptive_k or answer_first (overrides --adaptive/--fixed)."),
    ] = None,
    source: Annotated[list[str] | None, typer.Option(help="Only these sources.")] = None,
    domain: Annotated[list[str] | None, typer.Option(help="Only these domains.")] = None,
    where: Annotated[str | None, typer.Option(help="SQL condition over problems.")] = None,
    limit: Annotated[int | None, typer.Option(help="At most this many problems.")] = None,
    first_round: Annotated[int, typer.Option(help="Adaptive: first round size.")] = 4,
    round_size: Annotated[int, typer.Option(help="Adaptive: later round size.")] = 4,
    stop_rule: Annotated[
        str,
        typer.Option(
            help="Adaptive: 'predictive' (stop once a full-k grade would agree with "
            "probability --stop-confidence) or 'interval' (once the Wilson interval fits a bin)."
        ),
    ] = "predictive",
    stop_confidence: Annotated[
        float | None,
        typer.Option(help="Adaptive: stopping confidence (default 0.95 predictive, 0.8 interval)."),
    ] = None,
    bins: Annotated[
        str | None,
        typer.Option(help="Lower pass-rate bounds of levels 1, 2, … (default 0.9,0.8,…,0.1,0)."),
    ] = None,
    temperature: Annotated[float, typer.Option(help=_SAMPLING_HELP + " temperature.")] = 0.6,
    top_p: Annotated[float, typer.Option(help=_SAMPLING_HELP + " top-p.")] = 0.95,
    max_tokens: Annotated[int, typer.Option(help=_SAMPLING_HELP + " token limit.")] = 4096,
    seed: Annotated[int, typer.Option(help=_SAMPLING_HELP + " seed.")] = 0,
    system_prompt: Annotated[str | None, typer.Option(help="System prompt.")] = None,
    judge_model: Annotated[str | None, typer.Option(help="answer_first: judge model.")] = None,
    judge_backend: Annotated[str | None, typer.Option(help="answer_first: judge backend.")] = None,
    report_dir: Annotated[Path | None, typer.Option(help="Where the report goes.")] = None,
    catalog: CatalogOption = None,
) -> None:
    """Grade problems by a student model's pass rate; samples are kept (role student)."""
    with user_errors():
        from tracemill.catalogs import new_run_id
        from tracemill.flows.grade import GradeStage, grade_stage
        from tracemill.flows.stages import StageContext

        cfg = GradeStage(
            model=model,
            backend=backend,
            backend_options=_options(backend_option),
            method=_method(method, adaptive),
            k=k,
            first_round=first_round,
            round_size=round_size,
            stop_confidence=stop_confidence,
            stop_rule=stop_rule,
            bins=_bins(bins),
            temperature=temperature,
            top_p=top_p,
            max_tokens=max_tokens,
            seed=seed,
            system_prompt=system_prompt,
            judge_model=judge_model,
            judge_backend=judge_backend,
            source=source or None,
            domain=domain or None,
            where=where,
            limit=limit,
            report_dir=str(report_dir) if report_dir else None,
        )
        ctx = StageContext(catalog=catalog_location(catalog), run_id=new_run_id())
        counters = grade_stage(ctx, cfg)
        _print_grade_summary(f"grade {model}", counters)


def select_command(
    name: Annotated[str, typer.Option("--name", "-n", help="Selection (dataset) name.")],
    size: Annotated[int | None, typer.Option("--size", "-s", help="Rows to select.")] = None,
    distribution: Annotated[
        str | None, typer.Option(help='Level distribution, e.g. "1:0.1,2:0.2,3:0.7".')
    ] = None,
    band: Annotated[str | None, typer.Option(help='Pass-rate band "LO:HI", e.g. 0.2:0.8.')] = None,
    curriculum: Annotated[
        bool, typer.Option("--curriculum", help="Order easy → hard with stage boundaries.")
    ] = False,
    stages: Annotated[
        int | None, typer.Option(help="Curriculum stages (default: one per level).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the draw within a level.")] = 0,
    model: Annotated[str | None, typer.Option(help="Grader model (if several).")] = None,
    params_id: Annotated[str | None, typer.Option(help="Only grades with this params id.")] = None,
    source: Annotated[list[str] | None, typer.Option(help="Only these sources.")] = None,
    domain: Annotated[list[str] | None, typer.Option(help="Only these domains.")] = None,
    no_fill: Annotated[
        bool, typer.Option("--no-fill", help="Leave short levels short (default: fill).")
    ] = False,
    report_dir: Annotated[Path | None, typer.Option(help="Where the report goes.")] = None,
    catalog: CatalogOption = None,
) -> None:
    """Select graded problems by difficulty into a versioned, re-readable selection."""
    with user_errors():
        from tracemill.catalogs import new_run_id
        from tracemill.flows.grade import SelectStage, select_stage
        from tracemill.flows.stages import StageContext
        from tracemill.flows.summary import print_counts

        cfg = SelectStage(
            dataset=name,
            size=size,
            distribution=distribution,
            band=band,
            curriculum=curriculum,
            stages=stages,
            seed=seed,
            model=model,
            params_id=params_id,
            source=source or None,
            domain=domain or None,
            fill="none" if no_fill else "nearest",
            report_dir=str(report_dir) if report_dir else None,
        )
        ctx = StageContext(catalog=catalog_location(catalog), run_id=new_run_id())
        counters = select_stage(ctx, cfg)
        print_counts(f"select {name}", counters)
        if counters.get("shortfall"):
            console.print(f"[yellow]shortfall: {counters['shortfall']} row(s) not available[/]")


def calibrate_command(
    family: Annotated[str, typer.Argument(help="Synthetic family (see `tracemill synth`).")],
    model: Annotated[str, typer.Option("--model", "-m", help="Model to calibrate for.")],
    backend: Annotated[str, typer.Option(help="Generation backend.")] = "transformers",
    backend_option: Annotated[
        list[str] | None,
        typer.Option("--backend-option", "-o", help="Backend option KEY=VALUE (repeatable)."),
    ] = None,
    levels: Annotated[str, typer.Option(help="Levels, e.g. 1-10 or 1,3,5.")] = "1-10",
    per_level: Annotated[int, typer.Option(help="Items generated per level.")] = 20,
    k: Annotated[int, typer.Option("--k", "-k", help="Samples per item (most, if adaptive).")] = 8,
    adaptive: Annotated[bool, typer.Option("--adaptive/--fixed")] = False,
    temperature: Annotated[float, typer.Option(help=_SAMPLING_HELP + " temperature.")] = 0.6,
    max_tokens: Annotated[int, typer.Option(help=_SAMPLING_HELP + " token limit.")] = 4096,
    seed: Annotated[int, typer.Option(help="Item generation seed.")] = 0,
    target: Annotated[
        float | None,
        typer.Option(
            "--target",
            min=0.0,
            max=1.0,
            help="Also print the level whose measured pass rate is nearest this one.",
        ),
    ] = None,
    report_dir: Annotated[Path | None, typer.Option(help="Where the table goes.")] = None,
    catalog: CatalogOption = None,
) -> None:
    """Measure a model's pass rate per nominal level of a synthetic family.

    Rerunning with the same settings samples nothing new (the grades are in the
    catalog); ``tracemill sql "SELECT * FROM calibration"`` reads the table back.
    """
    with user_errors():
        from rich.table import Table
        from tracemill.catalogs import new_run_id
        from tracemill.flows.grade import CalibrateStage, calibrate_stage
        from tracemill.flows.stages import StageContext

        cfg = CalibrateStage(
            family=family,
            model=model,
            backend=backend,
            backend_options=_options(backend_option),
            levels=levels,
            per_level=per_level,
            k=k,
            method="adaptive_k" if adaptive else "fixed_k",
            temperature=temperature,
            max_tokens=max_tokens,
            item_seed=seed,
            target_pass_rate=target,
            report_dir=str(report_dir) if report_dir else None,
        )
        ctx = StageContext(catalog=catalog_location(catalog), run_id=new_run_id())
        counters = calibrate_stage(ctx, cfg)
        view = Table(title=f"{family} for {model}: measured pass rate per level")
        view.add_column("level", justify="right")
        view.add_column("pass rate", justify="right")
        for lv, rate in counters.get("calibration", {}).items():
            view.add_row(lv, "" if rate is None else f"{rate:.3f}")
        console.print(view)
        console.print(f"[dim]table: {counters.get('calibration_table')}[/]")
        if counters.get("target_level") is not None:
            console.print(
                f"level nearest pass rate {counters['target_pass_rate']:g}: "
                f"[bold]{counters['target_level']}[/] (measured "
                f"{counters['target_level_pass_rate']:.3f})"
            )


def register(app: typer.Typer) -> None:
    """Add ``grade``, ``select`` and ``calibrate``."""
    app.command("grade")(grade_command)
    app.command("select")(select_command)
    app.command("calibrate")(calibrate_command)
