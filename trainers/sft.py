"""Supervised fine-tuning on an ``sft`` build with TRL's ``SFTTrainer``.

Rows become conversational prompt/completion pairs (every turn but the last is the
prompt, the assistant turn is the completion), so by default the loss covers the
assistant's reasoning and answer only. With ``curriculum`` the data are split into
stages trained one after the other, each continuing from the previous one's weights
(``max_steps`` applies per stage). ``curriculum_by`` says what makes the stages:

- ``stage``: the dataset's own curriculum (a build from a ``select --curriculum``
  selection carries ``position`` and ``stage``; an export keeps them), stages in order;
- ``graded``: the graded ``level``, easiest first (rows without a grade first);
- ``source``: ``source_level``, the level the source data or generator gave;
- ``auto`` (default): ``stage`` when the dataset has one, else ``graded``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from tracemill.trainers.common import (
    TrainConfig,
    TrainResult,
    load_model_and_tokenizer,
    opt,
    quiet_trainer,
    read_training_table,
    save_final,
    to_hf_dataset,
    trl_common_args,
)

log = logging.getLogger(__name__)


@dataclass
class SftConfig(TrainConfig):
    """Config of ``tracemill train sft``."""

    learning_rate: float = opt(2e-5, "Peak learning rate.")
    completion_only_loss: bool = opt(True, "Train on the assistant turn only, not the prompt.")
    curriculum: bool = opt(False, "Train stage by stage, easiest first (see curriculum_by).")
    curriculum_by: str = opt(
        "auto",
        "Curriculum stages: stage (the dataset's), graded (`level`), source "
        "(`source_level`), or auto (stage if the dataset has one, else graded).",
    )

    def check(self) -> None:
        """Raise ValueError on bad fields."""
        super().check()
        if self.curriculum_by not in CURRICULUM_BY:
            raise ValueError(
                f"curriculum_by must be one of {', '.join(CURRICULUM_BY)}, "
                f"got {self.curriculum_by!r}"
            )
    packing: bool = opt(False, "Pack several short examples into one sequence.")


def _prompt_completion(table: Any) -> Any:
    """Split ``messages`` into conversational ``prompt`` / ``completion`` columns."""
    import pyarrow as pa

    prompts, completions = [], []
    for messages in table.column("messages").to_pylist():
        if not messages or messages[-1]["role"] != "assistant":
            raise ValueError("every sft row must end with an assistant message")
        prompts.append(messages[:-1])
        completions.append(messages[-1:])
    typ = table.schema.field("messages").type
    return table.append_column("prompt", pa.array(prompts, typ)).append_column(
        "completion", pa.array(completions, typ)
    )


CURRICULUM_BY = ("auto", "stage", "graded", "source")
_COLUMNS = {"stage": "stage", "graded": "level", "source": "source_level"}


def curriculum_column(table: Any, by: str = "auto") -> str:
    """The column whose values make the curriculum's stages (see the module docstring)."""
    if by not in CURRICULUM_BY:
        raise ValueError(f"curriculum_by must be one of {', '.join(CURRICULUM_BY)}, got {by!r}")
    if by == "auto":
        has_stage = "stage" in table.column_names and table.column("stage").null_count < len(
            table
        )
        by = "stage" if has_stage else "graded"
    column = _COLUMNS[by]
    if column not in table.column_names:
        hint = " (build from a curriculum selection)" if by == "stage" else ""
        raise ValueError(f"curriculum_by {by}: the dataset has no {column} column{hint}")
    return column


def curriculum_stages(table: Any, by: str = "auto") -> list[tuple[int | None, Any]]:
    """(value, rows) per stage in training order; rows without a value form the first stage.

    Rows keep their order within a stage (a selection's ``position`` order).
    """
    import pyarrow.compute as pc

    values = table.column(curriculum_column(table, by))
    stages: list[tuple[int | None, Any]] = []
    if values.null_count:
        stages.append((None, table.filter(pc.is_null(values))))
    for value in sorted({v for v in values.to_pylist() if v is not None}):
        stages.append((value, table.filter(pc.equal(values, value))))
    return stages


def main(config: SftConfig) -> TrainResult:
    """Fine-tune ``config.model`` on dataset ``config.dataset``."""
    config.check()
    table = read_training_table(config)  # before TRL loads: a bad dataset fails fast
    from trl import SFTConfig, SFTTrainer

    if "messages" not in table.column_names:
        raise ValueError(f"dataset {config.dataset!r} has no messages: build it with kind sft")
    stages: list[tuple[int | None, Any]] = [(None, table)]
    key = "level"
    if config.curriculum:
        stages = curriculum_stages(table, config.curriculum_by)
        key = curriculum_column(table, config.curriculum_by)
    model, tokenizer = load_model_and_tokenizer(config.model)
    steps = 0
    metrics: dict[str, Any] = {}
    trainer = None
    for i, (value, rows) in enumerate(stages):
        if config.completion_only_loss:
            data = to_hf_dataset(_prompt_completion(rows), ["prompt", "completion"])
        else:
            data = to_hf_dataset(rows, ["messages"])
        args = SFTConfig(
            **trl_common_args(config),
            max_length=config.max_length,
            packing=config.packing,
            completion_only_loss=config.completion_only_loss,
        )
        log.info("sft stage %d/%d (%s %s): %d rows", i + 1, len(stages), key, value, len(data))
        trainer = quiet_trainer(
            SFTTrainer(model=model, args=args, train_dataset=data, processing_class=tokenizer)
        )
        out = trainer.train()
        model = trainer.model
        steps += int(out.global_step)
        metrics[f"stage{i}_{key}"] = value
        metrics[f"stage{i}_loss"] = float(out.training_loss)
    assert trainer is not None
    save_final(trainer, tokenizer, config)
    return TrainResult(config.output_dir, steps, len(stages), metrics)
