"""Supervised fine-tuning on an ``sft`` build with TRL's ``SFTTrainer``.

Rows become conversational prompt/completion pairs (every turn but the last is the
prompt, the assistant turn is the completion), so by default the loss covers the
assistant's reasoning and answer only. With ``curriculum`` the data are split by
difficulty level and trained stage by stage from the easiest level up (rows without a
level come first); each stage continues from the previous one's weights, and
``max_steps`` applies per stage.
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
    curriculum: bool = opt(False, "Train stage by stage from the easiest level to the hardest.")
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


def curriculum_stages(table: Any) -> list[tuple[int | None, Any]]:
    """(level, rows) per stage, easiest first; rows without a level form the first stage."""
    import pyarrow.compute as pc

    if "level" not in table.column_names:
        return [(None, table)]
    levels = table.column("level")
    stages: list[tuple[int | None, Any]] = []
    if levels.null_count:
        stages.append((None, table.filter(pc.is_null(levels))))
    for level in sorted({v for v in levels.to_pylist() if v is not None}):
        stages.append((level, table.filter(pc.equal(levels, level))))
    return stages


def main(config: SftConfig) -> TrainResult:
    """Fine-tune ``config.model`` on dataset ``config.dataset``."""
    from trl import SFTConfig, SFTTrainer

    config.check()
    table = read_training_table(config)
    if "messages" not in table.column_names:
        raise ValueError(f"dataset {config.dataset!r} has no messages: build it with kind sft")
    stages = curriculum_stages(table) if config.curriculum else [(None, table)]
    model, tokenizer = load_model_and_tokenizer(config.model)
    steps = 0
    metrics: dict[str, Any] = {}
    trainer = None
    for i, (level, rows) in enumerate(stages):
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
        log.info("sft stage %d/%d (level %s): %d rows", i + 1, len(stages), level, len(data))
        trainer = quiet_trainer(
            SFTTrainer(model=model, args=args, train_dataset=data, processing_class=tokenizer)
        )
        out = trainer.train()
        model = trainer.model
        steps += int(out.global_step)
        metrics[f"stage{i}_level"] = level
        metrics[f"stage{i}_loss"] = float(out.training_loss)
    assert trainer is not None
    save_final(trainer, tokenizer, config)
    return TrainResult(config.output_dir, steps, len(stages), metrics)
