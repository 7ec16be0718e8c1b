"""GRPO on an ``rl`` build with TRL's ``GRPOTrainer`` and verifier rewards.

The reward is the verifier registry's verdict on each rollout (the problem row comes
from the dataset's columns), optionally shaped by length: ``length_reward: laser``
adds a bonus to correct answers within ``target_length`` tokens, ``laser_d`` does so
with per-difficulty-level targets re-estimated from the lengths of correct rollouts
during training (see :mod:`tracemill.trainers.rewards`). ``level_from`` says which level
LASER-D's targets follow: ``graded`` (the build's ``level``, from the grader; ungraded
problems share one target) or ``source`` (``source_level``, the source's or generator's
level). Generation uses TRL's vLLM integration
when ``use_vllm`` is set (GPU machines with vLLM installed), else transformers.

With a ``curriculum`` section (SATURN's loop, :mod:`tracemill.trainers.curriculum`) no
built dataset is read: rollouts are drawn fresh from a synthetic family at the current
level, the level's held-out test slice is evaluated every ``eval_every`` steps, and the
level moves up when pass@1 clears the threshold; the level trajectory is logged and
returned in :attr:`TrainResult.curriculum` (and so in the run's ``runs`` row).
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

LENGTH_REWARDS = ("none", "laser", "laser_d")
RL_COLUMNS = (
    "prompt",
    "problem_id",
    "question",
    "answer",
    "solution",
    "verifier",
    "verifier_spec",
    "generator",
    "domain",
    "task",
    "level",
    "source_level",
)
LEVEL_FROM = {"graded": "level", "source": "source_level"}
"""``level_from`` → the column LASER-D's per-level targets follow."""


@dataclass
class GrpoConfig(TrainConfig):
    """Config of ``tracemill train grpo``."""

    learning_rate: float = opt(1e-6, "Peak learning rate.")
    num_generations: int = opt(8, "Rollouts per prompt (the GRPO group size).")
    max_completion_length: int = opt(1024, "Longest generated completion, in tokens.")
    temperature: float = opt(1.0, "Sampling temperature of the rollouts.")
    beta: float = opt(0.0, "KL coefficient against the reference model (0: no reference).")
    use_vllm: bool = opt(False, "Generate with vLLM (needs a GPU and vLLM installed).")
    length_reward: str = opt("none", "Length shaping: none, laser or laser_d.")
    target_length: int = opt(4096, "LASER target / LASER-D initial and largest target (tokens).")
    length_bonus: float = opt(0.5, "Bonus for a correct answer within its target length.")
    partial_credit: bool = opt(
        False, "Reward the verifier's score (e.g. share of tests passed), not pass/fail."
    )
    ecr: float = opt(1.0, "LASER-D: expected correct responses a target must keep.")
    laser_window: int = opt(512, "LASER-D: recent rollouts per level used to re-estimate.")
    laser_update_every: int = opt(1, "LASER-D: re-estimate targets every N reward calls.")
    laser_min_rollouts: int = opt(8, "LASER-D: rollouts a level needs before re-estimating.")
    level_from: str = opt(
        "graded", "LASER-D: the level its targets follow: graded (`level`) or source "
        "(`source_level`).",
    )
    curriculum: dict[str, Any] = opt(
        {},
        "SATURN curriculum over a synthetic family instead of a dataset: {family, "
        "start_level, max_level, threshold, eval_every, eval_size, eval_samples, "
        "eval_temperature, seed, knobs, system_prompt, save_on_advance} (empty: off).",
    )

    def check(self) -> None:
        """Raise ValueError on bad fields."""
        if self.curriculum:
            from tracemill.trainers.curriculum import CurriculumSettings

            if not self.model:
                raise ValueError("config needs `model` (a model path)")
            if self.dataset:
                raise ValueError("give a `dataset` or a `curriculum`, not both")
            if self.max_steps < 1:
                raise ValueError("a curriculum run needs max_steps > 0 (its items never end)")
            CurriculumSettings.from_dict(self.curriculum)
        else:
            super().check()
        if self.length_reward not in LENGTH_REWARDS:
            raise ValueError(
                f"length_reward must be one of {', '.join(LENGTH_REWARDS)}, "
                f"got {self.length_reward!r}"
            )
        if self.num_generations < 2:
            raise ValueError("GRPO needs num_generations >= 2")
        if self.level_from not in LEVEL_FROM:
            raise ValueError(
                f"level_from must be one of {', '.join(LEVEL_FROM)}, got {self.level_from!r}"
            )


def make_reward(config: GrpoConfig) -> Any:
    """The reward function a config asks for (truncation = ``max_completion_length``)."""
    from tracemill.trainers.rewards import (
        LaserDReward,
        LaserReward,
        partial_verifier_reward,
        verifier_reward,
    )

    shared = {"max_length": config.max_completion_length, "partial_credit": config.partial_credit}
    if config.length_reward == "laser":
        return LaserReward(config.target_length, config.length_bonus, **shared)
    if config.length_reward == "laser_d":
        return LaserDReward(
            config.target_length,
            bonus=config.length_bonus,
            group_size=config.num_generations,
            ecr=config.ecr,
            window=config.laser_window,
            update_every=config.laser_update_every,
            min_rollouts=config.laser_min_rollouts,
            **shared,
            level_column=LEVEL_FROM[config.level_from],
        )
    return partial_verifier_reward if config.partial_credit else verifier_reward


def main(config: GrpoConfig) -> TrainResult:
    """Train ``config.model`` with GRPO on dataset ``config.dataset``."""
    from trl import GRPOConfig, GRPOTrainer

    config.check()
    controller = None
    extra_args: dict[str, Any] = {}
    if config.curriculum:
        from tracemill.trainers.curriculum import (
            CurriculumController,
            CurriculumSettings,
            curriculum_dataset,
        )

        controller = CurriculumController(CurriculumSettings.from_dict(config.curriculum))
        data = curriculum_dataset(controller)
        # items are drawn at the current level as training goes: no shuffle buffer
        # pulling rows ahead, no worker processes holding their own controller
        extra_args = {"shuffle_dataset": False, "dataloader_num_workers": 0}
    else:
        table = read_training_table(config)
        data = to_hf_dataset(table, [c for c in RL_COLUMNS if c in table.column_names])
        if "verifier" not in data.column_names:
            raise ValueError(f"dataset {config.dataset!r} has no verifier column: build kind rl")
    model, tokenizer = load_model_and_tokenizer(config.model)
    args = GRPOConfig(
        **{**trl_common_args(config), **extra_args},
        num_generations=config.num_generations,
        max_completion_length=config.max_completion_length,
        temperature=config.temperature,
        beta=config.beta,
        use_vllm=config.use_vllm,
    )
    reward = make_reward(config)
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=[reward],
        args=args,
        train_dataset=data,
        processing_class=tokenizer,
    )
    quiet_trainer(trainer)
    if controller is not None:
        from tracemill.trainers.curriculum import make_callback

        trainer.add_callback(
            make_callback(
                controller,
                tokenizer,
                max_new_tokens=config.max_completion_length,
                temperature=config.temperature,
            )
        )
    out = trainer.train()
    save_final(trainer, tokenizer, config)
    metrics: dict[str, Any] = {"loss": out.training_loss}
    if hasattr(reward, "targets"):
        metrics["length_targets"] = dict(reward.targets)
    result = TrainResult(config.output_dir, int(out.global_step), 1, metrics)
    if controller is not None:
        result.curriculum = controller.summary()
    return result
