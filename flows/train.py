"""Recipe stage ``train``: run one trainer (sft, dpo, redi, grpo) on a built dataset.

```yaml
  - stage: train
    trainer: sft
    config: {dataset: quickstart-sft, model: ../models/tiny, output_dir: ../runs/sft,
             max_steps: 2}
```

``config`` holds the trainer's config fields (or ``config_file`` names a YAML/JSON file
of them); relative ``model``/``output_dir`` paths resolve against the recipe, and the
catalog defaults to the recipe's. Heavy libraries load only when the stage runs.
"""

from __future__ import annotations

import importlib
from typing import Any, Literal

from pydantic import Field, model_validator
from tracemill.flows.stages import StageConfig, StageContext, register_stage

TRAINERS: dict[str, tuple[str, str]] = {
    "sft": ("tracemill.trainers.sft", "SftConfig"),
    "dpo": ("tracemill.trainers.dpo", "DpoConfig"),
    "redi": ("tracemill.trainers.redi", "RediConfig"),
    "grpo": ("tracemill.trainers.grpo", "GrpoConfig"),
}
"""Trainer name → (module, config class)."""


def trainer_parts(name: str) -> tuple[Any, type]:
    """(``main`` function, config class) of trainer ``name``."""
    if name not in TRAINERS:
        raise ValueError(f"unknown trainer {name!r}; trainers are {', '.join(TRAINERS)}")
    module_name, cls_name = TRAINERS[name]
    module = importlib.import_module(module_name)
    return module.main, getattr(module, cls_name)


class TrainStage(StageConfig):
    """Recipe stage ``train``."""

    trainer: Literal["sft", "dpo", "redi", "grpo"] = Field(description="sft, dpo, redi or grpo")
    config: dict[str, Any] = Field(default_factory=dict, description="trainer config fields")
    config_file: str | None = Field(None, description="YAML/JSON file of config fields")

    @model_validator(mode="after")
    def _one_source(self) -> TrainStage:
        if self.config_file is None and not self.config:
            raise ValueError("train needs `config` fields or a `config_file`")
        if self.trainer == "grpo" and self.config.get("curriculum"):
            # a recipe's curriculum is checked with the recipe (`tracemill run --check`),
            # not after the stages before it ran
            from tracemill.trainers.curriculum import CurriculumSettings

            try:
                CurriculumSettings.from_dict(self.config["curriculum"])
            except KeyError as e:  # an unknown family: its message names the known ones
                raise ValueError(str(e.args[0]) if e.args else str(e)) from None
        return self


def make_config(
    trainer: str,
    fields: dict[str, Any],
    *,
    config_file: str | None = None,
    catalog: str | None = None,
    resolve: Any = None,
) -> Any:
    """The trainer's config from a file and/or fields (fields win); paths resolved."""
    from tracemill.trainers.common import config_from_dict, load_config

    _, cls = trainer_parts(trainer)
    config = (
        load_config(cls, config_file, **fields) if config_file else config_from_dict(cls, fields)
    )
    if config.catalog is None and catalog is not None:
        config.catalog = catalog
    if resolve is not None:
        config.output_dir = str(resolve(config.output_dir))
        model_path = resolve(config.model) if config.model else None
        if model_path is not None and model_path.exists():
            config.model = str(model_path)
        export = resolve(config.dataset) if config.dataset else None
        if export is not None and (export / "data").is_dir():  # an export's folder
            config.dataset = str(export)
    return config


def run_training(trainer: str, config: Any) -> dict[str, Any]:
    """Run a trainer's ``main``; returns its counters."""
    main, _ = trainer_parts(trainer)
    result = main(config)
    return {"trainer": trainer, **result.counts()}


@register_stage("train", TrainStage)
def train_stage(ctx: StageContext, cfg: TrainStage) -> dict[str, Any]:
    """Train a model on a built dataset (SFT, DPO, REDI or GRPO)."""
    config = make_config(
        cfg.trainer,
        dict(cfg.config),
        config_file=str(ctx.path(cfg.config_file)) if cfg.config_file else None,
        catalog=ctx.catalog,
        resolve=ctx.path,
    )
    return run_training(cfg.trainer, config)


class TinyModelStage(StageConfig):
    """Recipe stage ``tiny_model``: a random 2-layer model saved locally (for smoke runs)."""

    path: str = Field(description="folder to save the model in (relative to the recipe)")
    arch: Literal["qwen2", "llama"] = "qwen2"
    seed: int = 0
    overwrite: bool = Field(False, description="rebuild even when the folder has a model")


@register_stage("tiny_model", TinyModelStage)
def tiny_model_stage(ctx: StageContext, cfg: TinyModelStage) -> dict[str, Any]:
    """Build a tiny random causal LM with a chat template (skipped when already there)."""
    path = ctx.path(cfg.path)
    if (path / "config.json").exists() and not cfg.overwrite:
        return {"path": str(path), "built": False}
    from tracemill.trainers.tiny import build_tiny_model

    build_tiny_model(path, arch=cfg.arch, seed=cfg.seed)
    return {"path": str(path), "built": True}
