"""``tracemill verify`` (samples → verdicts), ``verifiers`` (the registry), ``check`` (one case)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from tracemill.flows.common import (
    CatalogOption,
    catalog_location,
    console,
    err_console,
    user_errors,
)


def verify_command(
    verifier: Annotated[
        str | None,
        typer.Option(
            "--verifier", help="Use this verifier for every sample (default: the problem's own)."
        ),
    ] = None,
    where: Annotated[
        str | None, typer.Option("--where", help="SQL condition over samples columns.")
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option("--workers", min=1, help="Math worker processes / parallel sandboxes."),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Verify again where a verdict exists (stored rows "
            "stay; bump a verifier version to record new ones).",
        ),
    ] = False,
    catalog: CatalogOption = None,
) -> None:
    """Verify samples that have no verdict for their verifier's current version."""
    with user_errors():
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )
        from tracemill.catalogs import new_run_id
        from tracemill.flows.verify import pending_samples, verify_pending
        from tracemill.stores.catalog import open_catalog

        with open_catalog(catalog_location(catalog)) as store:
            todo, skipped = pending_samples(store, verifier=verifier, where=where, force=force)
            with Progress(
                TextColumn("verify"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=console,
                transient=True,
            ) as bar:
                task = bar.add_task("verify", total=todo.num_rows)
                counts = verify_pending(
                    store,
                    todo,
                    verifier=verifier,
                    workers=workers,
                    run_id=new_run_id(),
                    progress=lambda n: bar.update(task, completed=n),
                )
        _print_summary({**counts, **skipped})


def _print_summary(counts: dict[str, Any]) -> None:
    from rich.table import Table

    view = Table(title=f"verified {counts['verified']:,} sample(s), {counts['inserted']:,} new")
    view.add_column("verifier")
    view.add_column("reason")
    view.add_column("samples", justify="right")
    view.add_column("pass rate", justify="right")
    for name, entry in sorted(counts["by_verifier"].items()):
        rate = entry["passed"] / entry["verified"] if entry["verified"] else 0.0
        view.add_row(name, "all", f"{entry['verified']:,}", f"{rate:.1%}", style="bold")
        for reason, n in sorted(entry["reasons"].items(), key=lambda kv: -kv[1]):
            view.add_row("", reason, f"{n:,}", "")
    console.print(view)
    for key in ("no_verifier", "unknown_verifier"):
        if counts.get(key):
            console.print(f"[yellow]{counts[key]:,} sample(s) skipped: {key.replace('_', ' ')}[/]")


def verifiers_command() -> None:
    """List the registered verifiers and their versions."""
    with user_errors():
        from rich.table import Table
        from tracemill.pipelines.verify import get_verifier, verifier_names

        view = Table(title="verifiers")
        view.add_column("name")
        view.add_column("version")
        view.add_column("description", overflow="fold")
        for name in verifier_names():
            reg = get_verifier(name)
            view.add_row(name, reg.version, reg.doc.splitlines()[0] if reg.doc else "")
        console.print(view)


def _read_arg(value: str) -> str:
    """`value` itself, or the text of file FILE for ``@FILE`` (``@-``: standard input)."""
    import sys

    if not value.startswith("@"):
        return value
    if value == "@-":
        return sys.stdin.read()
    path = value[1:]
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        raise FileNotFoundError(f"no such file: {path}") from None


def _check_problem(
    reference: str | None, problem_json: str | None, spec: str | None
) -> dict[str, Any]:
    """The problem row a one-shot check verifies against."""
    import json

    if (reference is None) == (problem_json is None):
        raise ValueError("give exactly one of --reference TEXT and --problem-json FILE")
    if problem_json is not None:
        try:
            row = json.loads(_read_arg("@" + problem_json))
        except ValueError as e:
            raise ValueError(f"--problem-json: not valid JSON: {e}") from None
        if not isinstance(row, dict):
            raise ValueError("--problem-json must hold one JSON object (a problem row)")
    else:
        row = {"problem_id": None, "answer": reference}
    if spec is not None:
        try:
            row["verifier_spec"] = json.loads(spec)
        except ValueError as e:
            raise ValueError(f"--spec: not valid JSON: {e}") from None
    if row.get("verifier_spec") is not None and not isinstance(row["verifier_spec"], str):
        row["verifier_spec"] = json.dumps(row["verifier_spec"])  # verifiers read JSON text
    return row


def check_command(
    response: Annotated[
        str,
        typer.Option(
            "--response", help="The response to verify, or @FILE to read it (@- for stdin)."
        ),
    ],
    verifier: Annotated[
        str | None,
        typer.Option("--verifier", help="Verifier name (default: the problem row's verifier)."),
    ] = None,
    reference: Annotated[
        str | None, typer.Option("--reference", help="Reference answer (a minimal problem row).")
    ] = None,
    problem_json: Annotated[
        str | None,
        typer.Option("--problem-json", help="JSON file holding one problem row (- for stdin)."),
    ] = None,
    spec: Annotated[
        str | None,
        typer.Option("--spec", help="verifier_spec JSON (e.g. code tests), overriding the row's."),
    ] = None,
    deadline_s: Annotated[
        float,
        typer.Option("--deadline", min=0.1, help="Math: hard deadline in seconds."),
    ] = 10.0,
) -> None:
    """Verify one response; the verdict is one JSON object on the last line of stdout.

    Keys: passed, score, reason, extracted, detail. Exit code 0 whether or not the
    response passed, 2 on usage errors.
    """
    with user_errors():
        import json

        from tracemill.pipelines.verify import verify_one

        problem = _check_problem(reference, problem_json, spec)
        name = verifier or problem.get("verifier")
        if not name:
            raise ValueError("--verifier is required (the problem row names no verifier)")
        text = _read_arg(response)
        reg, verdict = verify_one(str(name), problem, text, deadline_s=deadline_s)
    status = "passed" if verdict.passed else "failed"
    err_console.print(f"{reg.name}@{reg.version}: {status} ({verdict.reason})", highlight=False)
    out = {
        "passed": verdict.passed,
        "score": verdict.score,
        "reason": verdict.reason,
        "extracted": verdict.detail.get("extracted"),
        "detail": verdict.detail,
    }
    line = json.dumps(out, ensure_ascii=False, default=str, sort_keys=False)
    typer.echo(line.encode("utf-8", "replace").decode("utf-8"))


def register(app: typer.Typer) -> None:
    """Add ``verify``, ``verifiers`` and ``check``."""
    app.command("verify")(verify_command)
    app.command("verifiers")(verifiers_command)
    app.command("check")(check_command)
