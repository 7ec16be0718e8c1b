"""Direct preference optimization on a ``pairs`` build with TRL's ``DPOTrainer``.

The pairs are conversational (``prompt``, ``chosen``, ``rejected``); the reference
model is a frozen copy of the starting model (TRL's default when none is given), as in
Light-R1's DPO stage on the model's own correct/incorrect answers.
"""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass
class DpoConfig(TrainConfig):
    """Config of ``tracemill train dpo``."""

    learning_rate: float = opt(5e-7, "Peak learning rate.")
    beta: float = opt(0.1, "DPO temperature: how far the policy may move from the reference.")
    loss_type: str = opt("sigmoid", "TRL DPO loss (sigmoid, ipo, …).")


def main(config: DpoConfig) -> TrainResult:
    """Train ``config.model`` with DPO on dataset ``config.dataset``."""
    config.check()
    data = to_hf_dataset(read_training_table(config), ["prompt", "chosen", "rejected"])
    from trl import DPOConfig, DPOTrainer

    model, tokenizer = load_model_and_tokenizer(config.model)
    args = DPOConfig(
        **trl_common_args(config),
        beta=config.beta,
        loss_type=[config.loss_type],
        max_length=config.max_length,
    )
    trainer = quiet_trainer(
        DPOTrainer(model=model, args=args, train_dataset=data, processing_class=tokenizer)
    )
    out = trainer.train()
    save_final(trainer, tokenizer, config)
    return TrainResult(config.output_dir, int(out.global_step), 1, {"loss": out.training_loss})
