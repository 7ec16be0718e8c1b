"""Command ``train``: run a trainer (sft, dpo, redi, grpo) from a YAML/JSON config file.

Here ``--config FILE`` holds the *trainer's* config fields (see the trainer's config
dataclass) and ``--set KEY=VALUE`` overrides any of them; the run goes through the
``train`` stage, so it writes the same report as a recipe's ``train`` stage.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from tracemill.flows.command import invocation
from tracemill.flows.common import CatalogOption, UsageError


def train_command(
    trainer: Annotated[str, typer.Argument(help="sft, dpo, redi or grpo.")],
    config: Annotated[
        Path,
        typer.Option("--config", metavar="FILE",
                     help="YAML or JSON file of the trainer's config fields."),
    ],  # fmt: skip
    dataset: Annotated[str | None, typer.Option(help="Override the config's dataset.")] = None,
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="Override the config's model.")
    ] = None,
    output_dir: Annotated[str | None, typer.Option(help="Override the output folder.")] = None,
    max_steps: Annotated[int | None, typer.Option(help="Override max_steps.")] = None,
    sets: Annotated[
        list[str] | None,
        typer.Option("--set", metavar="KEY=VALUE",
                     help="Override a trainer config field (repeatable; dotted keys reach "
                          "into sections: curriculum.threshold=0.8)."),
    ] = None,  # fmt: skip
    curriculum_family: Annotated[
        str | None,
        typer.Option(
            help="grpo: SATURN curriculum over this synthetic family instead of a dataset "
            "(other curriculum keys: the config's `curriculum` section or --set).",
            rich_help_panel="Curriculum",
        ),
    ] = None,
    start_level: Annotated[
        int | None,
        typer.Option(min=1, max=10, help="grpo curriculum: the level to start at.",
                     rich_help_panel="Curriculum"),
    ] = None,  # fmt: skip
    report_dir: Annotated[
        str | None, typer.Option(help="Where the report goes.", rich_help_panel="Output")
    ] = None,
    catalog: CatalogOption = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress bars.", metavar="")
    ] = False,
) -> None:
    """Train a model on a built dataset (fields: see the trainer's config dataclass).

    GRPO can run SATURN's curriculum over a synthetic family instead (``curriculum``
    section or ``--curriculum-family``). The run's ``runs`` row (flow ``train``) holds its
    counters: for a curriculum, the level trajectory.
    """
    with invocation("train", catalog=catalog, quiet=quiet) as run:
        import logging

        import yaml
        from tracemill.flows.options import OptionError, parse_assignment
        from tracemill.flows.reporting import print_report
        from tracemill.flows.stages import StageContext, execute_stage, get_stage
        from tracemill.flows.train import TRAINERS, TrainStage, make_config

        # one line per logged step on stderr (the trainers log them, never print them)
        train_log = logging.getLogger("tracemill.train")
        if train_log.getEffectiveLevel() > logging.INFO:
            train_log.setLevel(logging.INFO)
        if trainer not in TRAINERS:  # an unknown trainer fails before anything else
            raise UsageError(f"unknown trainer {trainer!r}; trainers are {', '.join(TRAINERS)}")
        if not config.is_file():
            raise FileNotFoundError(f"--config: no such file {config}")
        fields = {"dataset": dataset, "model": model, "output_dir": output_dir,
                  "max_steps": max_steps}  # fmt: skip
        overrides = {k: v for k, v in fields.items() if v is not None}
        for item in sets or []:
            key, value = parse_assignment(item)
            overrides[key] = value
        if curriculum_family is not None or start_level is not None:
            if trainer != "grpo":
                raise UsageError("--curriculum-family and --start-level are grpo options")
            if curriculum_family is not None:
                overrides["curriculum.family"] = curriculum_family
                overrides.setdefault("dataset", "")  # the curriculum replaces the dataset
            if start_level is not None:
                overrides["curriculum.start_level"] = start_level
        cfg = TrainStage(
            trainer=trainer, config=overrides, config_file=str(config), report_dir=report_dir
        )
        try:  # the trainer's fields are the config: unknown or bad ones are usage errors
            make_config(trainer, dict(overrides), config_file=str(config)).check()
        except (ValueError, TypeError, yaml.YAMLError) as e:
            raise OptionError(f"{config}: {e}") from None
        ctx = StageContext(catalog=run.catalog, run_id=run.run_id, label="train")
        run.counters_so_far = ctx.counters_so_far
        run.config = cfg.model_dump(mode="json")
        run.record = True
        run.counts = execute_stage(get_stage("train"), ctx, cfg)
        print_report(ctx.report)


def register(app: typer.Typer) -> None:
    """Add the ``train`` command."""
    app.command("train")(train_command)
