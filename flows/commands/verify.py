"""``tracemill verify`` (samples → verdicts), ``verifiers`` (the registry), ``check`` (one case)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from tracemill.flows.command import invocation, stage_command
from tracemill.flows.common import UsageError, err_console
from tracemill.flows.listing import Format, FormatOption, emit


def verifiers_command(fmt: FormatOption = Format.table) -> None:
    """List the registered verifiers and their versions."""
    with invocation("verifiers"):
        from tracemill.pipelines.verify import get_verifier, verifier_names

        rows = []
        for name in verifier_names():
            reg = get_verifier(name)
            rows.append({"name": name, "version": reg.version,
                         "description": reg.doc.splitlines()[0] if reg.doc else ""})  # fmt: skip
        emit(rows, fmt, title="verifiers")


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
        raise UsageError("give exactly one of --reference TEXT and --problem-json FILE")
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
            raise UsageError(f"--spec: not valid JSON: {e}") from None
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
        typer.Option("--deadline", min=0.1, help="Math: hard per-item deadline in seconds."),
    ] = 10.0,
    judge_backend: Annotated[
        str, typer.Option("--judge-backend", help="Judge model backend: openai, transformers, …")
    ] = "openai",
    judge_model: Annotated[
        str | None,
        typer.Option("--judge-model", help="Judge model (a server's model name or a local path)."),
    ] = None,
    judge_base_url: Annotated[
        str | None,
        typer.Option("--judge-base-url", help="openai judge: server URL, e.g. http://host/v1."),
    ] = None,
    judge_max_tokens: Annotated[
        int, typer.Option("--judge-max-tokens", min=1, help="Longest judge reply (tokens).")
    ] = 1024,
    judge_option: Annotated[
        list[str] | None,
        typer.Option(
            "--judge-option", metavar="KEY=VALUE", help="Judge backend option (repeatable)."
        ),
    ] = None,
) -> None:
    """Verify one response; the verdict is one JSON object on the last line of stdout.

    Keys: passed, score, reason, extracted, detail. Exit code 0 whether or not the
    response passed, 1 when a file given cannot be read, 2 on usage errors.
    """
    with invocation("check"):
        import json

        from tracemill.flows.options import OptionError, parse_assignment, registered
        from tracemill.flows.verify import JudgeConfig, make_judge
        from tracemill.pipelines.verify import get_verifier, verify_one
        from tracemill.pipelines.verify.judge import judge_client

        problem = _check_problem(reference, problem_json, spec)
        name = verifier or problem.get("verifier")
        if not name:
            raise UsageError("--verifier is required (the problem row names no verifier)")
        try:
            registered(str(name), get_verifier)
        except ValueError as e:
            raise OptionError(str(e)) from None
        text = _read_arg(response)
        judge = None
        if judge_model is not None:
            options = dict(parse_assignment(o, what="--judge-option KEY=VALUE")
                           for o in judge_option or [])  # fmt: skip
            judge = make_judge(
                JudgeConfig(backend=judge_backend, model=judge_model, base_url=judge_base_url,
                            max_tokens=judge_max_tokens, options=options)
            )  # fmt: skip
        elif judge_base_url or judge_option:
            raise ValueError("--judge-base-url and --judge-option need --judge-model")
        with judge_client(judge):
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
    stage_command(
        app, "verify", config="tracemill.flows.verify:VerifyStage",
        help="Verify samples that have no verdict for their verifier's current version.",
    )  # fmt: skip
    app.command("verifiers")(verifiers_command)
    app.command("check")(check_command)
