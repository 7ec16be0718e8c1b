r"""REDI (Reinforcement Distillation) on a ``pairs`` build: the reference-free second stage.

REDI runs after an SFT stage on positive traces (``tracemill train sft``; point
``model`` at its output). On pairs of a passing (y+) and a failing (y−) trace of the
same problem x it minimizes, averaged over the batch,

.. math::

    L(\theta) = -\frac{1}{|y^+|}\log \pi_\theta(y^+ \mid x)
                + \alpha \, \frac{1}{|y^-|}\log \pi_\theta(y^- \mid x)

where :math:`\log\pi_\theta(y \mid x)` is the sum of the completion's token
log-probabilities, :math:`|y|` its number of tokens (so both terms are
length-normalized), and :math:`0 \le \alpha < 1` the asymmetric weight that lowers the
negative's likelihood more gently than it raises the positive's. No reference model is
used (unlike DPO). Prompt tokens and padding are not scored.

:func:`sequence_logps` and :func:`redi_loss` are the whole objective; :class:`RediTrainer`
is a plain ``transformers.Trainer`` whose ``compute_loss`` scores the positive and the
negative of each pair in one forward pass.
"""

from __future__ import annotations

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


@dataclass
class RediConfig(TrainConfig):
    """Config of ``tracemill train redi``."""

    learning_rate: float = opt(1e-6, "Peak learning rate.")
    alpha: float = opt(0.8, "Weight of the negative term (asymmetric: 0 <= alpha < 1).")

    def check(self) -> None:
        """Raise ValueError on bad fields."""
        super().check()
        if not 0.0 <= self.alpha < 1.0:
            raise ValueError(f"REDI's alpha must be in [0, 1), got {self.alpha}")


def sequence_logps(logits: Any, input_ids: Any, loss_mask: Any) -> tuple[Any, Any]:
    """(sum of scored token log-probs, number of scored tokens) per sequence.

    ``loss_mask[b, t]`` marks token ``input_ids[b, t]`` as scored; it is predicted by
    ``logits[b, t - 1]``.
    """
    import torch

    targets = input_ids[:, 1:]
    mask = loss_mask[:, 1:].to(torch.float32)
    logp = torch.log_softmax(logits[:, :-1].float(), dim=-1)
    token = logp.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    return (token * mask).sum(-1), mask.sum(-1)


def redi_loss(pos_sum: Any, pos_n: Any, neg_sum: Any, neg_n: Any, alpha: float) -> Any:
    """The REDI loss (see the module docstring) from per-sequence sums and lengths."""
    pos = pos_sum / pos_n.clamp(min=1)
    neg = neg_sum / neg_n.clamp(min=1)
    return (-pos + alpha * neg).mean()


def encode_completion(
    tokenizer: Any, prompt: list[dict], completion: list[dict], max_length: int | None
) -> tuple[list[int], list[int]]:
    """(input ids, completion mask) of a conversational prompt + completion."""
    prompt_text = tokenizer.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True)
    full_text = tokenizer.apply_chat_template(prompt + completion, tokenize=False)
    if not full_text.startswith(prompt_text):
        raise ValueError("the chat template renders the prompt differently inside the dialog")
    p = tokenizer(prompt_text, add_special_tokens=False)["input_ids"]
    c = tokenizer(full_text[len(prompt_text) :], add_special_tokens=False)["input_ids"]
    if max_length is not None and len(p) + len(c) > max_length:
        p = p[-max(1, max_length // 2) :] if len(p) >= max_length // 2 else p
        c = c[: max(1, max_length - len(p))]
    return p + c, [0] * len(p) + [1] * len(c)


class PairCollator:
    """Pads the positives then the negatives of a batch into one (2B, T) batch."""

    def __init__(self, pad_token_id: int) -> None:
        self.pad = pad_token_id

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, Any]:
        """Collate pairs: rows [0, B) are the positives, [B, 2B) the negatives."""
        import torch

        seqs = [f["pos_ids"] for f in features] + [f["neg_ids"] for f in features]
        masks = [f["pos_mask"] for f in features] + [f["neg_mask"] for f in features]
        width = max(len(s) for s in seqs)
        ids = torch.full((len(seqs), width), self.pad, dtype=torch.long)
        attn = torch.zeros((len(seqs), width), dtype=torch.long)
        loss = torch.zeros((len(seqs), width), dtype=torch.long)
        for i, (s, m) in enumerate(zip(seqs, masks, strict=True)):
            ids[i, : len(s)] = torch.tensor(s)
            attn[i, : len(s)] = 1
            loss[i, : len(m)] = torch.tensor(m)
        return {"input_ids": ids, "attention_mask": attn, "loss_mask": loss}


def _trainer_class() -> type:
    from transformers import Trainer

    class RediTrainer(Trainer):
        """A plain Trainer whose loss is REDI's."""

        def __init__(self, *args: Any, alpha: float = 0.8, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.alpha = alpha

        def compute_loss(
            self,
            model: Any,
            inputs: dict[str, Any],
            return_outputs: bool = False,
            num_items_in_batch: Any = None,
        ) -> Any:
            """REDI loss of a collated batch (positives first, then negatives)."""
            out = model(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"])
            sums, counts = sequence_logps(out.logits, inputs["input_ids"], inputs["loss_mask"])
            b = sums.shape[0] // 2
            loss = redi_loss(sums[:b], counts[:b], sums[b:], counts[b:], self.alpha)
            return (loss, out) if return_outputs else loss

    return RediTrainer


def main(config: RediConfig) -> TrainResult:
    """Train ``config.model`` (an SFT checkpoint) with REDI on dataset ``config.dataset``."""
    from transformers import TrainingArguments

    config.check()
    data = to_hf_dataset(read_training_table(config), ["prompt", "chosen", "rejected"])
    model, tokenizer = load_model_and_tokenizer(config.model)

    def encode(row: dict[str, Any]) -> dict[str, Any]:
        pos_ids, pos_mask = encode_completion(
            tokenizer, row["prompt"], row["chosen"], config.max_length
        )
        neg_ids, neg_mask = encode_completion(
            tokenizer, row["prompt"], row["rejected"], config.max_length
        )
        return {"pos_ids": pos_ids, "pos_mask": pos_mask, "neg_ids": neg_ids, "neg_mask": neg_mask}

    data = data.map(encode, remove_columns=data.column_names)
    args = TrainingArguments(**trl_common_args(config), remove_unused_columns=False)
    trainer = _trainer_class()(
        model=model,
        args=args,
        train_dataset=data,
        data_collator=PairCollator(tokenizer.pad_token_id),
        processing_class=tokenizer,
        alpha=config.alpha,
    )
    quiet_trainer(trainer)
    out = trainer.train()
    save_final(trainer, tokenizer, config)
    return TrainResult(config.output_dir, int(out.global_step), 1, {"loss": out.training_loss})
