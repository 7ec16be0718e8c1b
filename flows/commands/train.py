"""Command ``train``: run a trainer (sft, dpo, redi, grpo) from a YAML/JSON config file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from tracemill.flows.common import CatalogOption, catalog_location, user_errors


def train_command(
    trainer: Annotated[str, typer.Argument(help="sft, dpo, redi or grpo.")],
    config: Annotated[
        Path, typer.Option("--config", help="YAML or JSON file of the trainer's config fields.")
    ],
    dataset: Annotated[str | None, typer.Option(help="Override the config's dataset.")] = None,
    model: Annotated[str | None, typer.Option(help="Override the config's model.")] = None,
    output_dir: Annotated[str | None, typer.Option(help="Override the output folder.")] = None,
    max_steps: Annotated[int | None, typer.Option(help="Override max_steps.")] = None,
    catalog: CatalogOption = None,
) -> None:
    """Train a model on a built dataset (fields: see the trainer's config dataclass)."""
    with user_errors():
        import logging

        from tracemill.flows.summary import print_counts

        # one line per logged step on stderr (the trainers log them, never print them)
        train_log = logging.getLogger("tracemill.train")
        if train_log.getEffectiveLevel() > logging.INFO:
            train_log.setLevel(logging.INFO)
        from tracemill.flows.train import make_config, run_training

        if not config.exists():
            raise FileNotFoundError(f"no config file {config}")
        fields = {
            "dataset": dataset,
            "model": model,
            "output_dir": output_dir,
            "max_steps": max_steps,
        }
        cfg = make_config(
            trainer,
            {k: v for k, v in fields.items() if v is not None},
            config_file=str(config),
            catalog=catalog_location(catalog),
        )
        print_counts(f"train {trainer}", run_training(trainer, cfg))


def register(app: typer.Typer) -> None:
    """Add the ``train`` command."""
    app.command("train")(train_command)
