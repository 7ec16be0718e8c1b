"""What every trainer shares: the base config, config files, reading a built dataset.

Each trainer's config is a dataclass whose fields carry their help text in
``metadata["help"]``; one class serves Python, YAML/JSON files and the CLI. Fields not
declared by tracemill can be handed to TRL's own config through ``trl_args``.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


def opt(default: Any, help: str, **kwargs: Any) -> Any:  # noqa: A002 - mirrors TRL's metadata key
    """A dataclass field with help text (``default_factory`` for mutable defaults)."""
    if isinstance(default, list | dict):
        return field(default_factory=lambda: type(default)(default), metadata={"help": help})
    return field(default=default, metadata={"help": help}, **kwargs)


@dataclass
class TrainConfig:
    """Fields every trainer takes."""

    dataset: str = opt(
        "", "A built dataset's name in the catalog (tracemill build …), or an export's folder."
    )
    model: str = opt("", "Model to train: a local path (or a Hub id when online).")
    output_dir: str = opt("trainer-output", "Where checkpoints and the final model go.")
    dataset_version: int | None = opt(None, "Dataset version (default: the latest).")
    catalog: str | None = opt(None, "Catalog location (default: $TRACEMILL_CATALOG).")
    learning_rate: float = opt(1e-5, "Peak learning rate.")
    num_train_epochs: float = opt(1.0, "Epochs over the dataset (ignored when max_steps > 0).")
    max_steps: int = opt(-1, "Stop after this many optimizer steps (-1: run the epochs).")
    per_device_train_batch_size: int = opt(2, "Examples per device and step.")
    gradient_accumulation_steps: int = opt(1, "Steps accumulated per optimizer update.")
    max_length: int | None = opt(1024, "Longest tokenized example (longer ones are cut).")
    seed: int = opt(0, "Seed of data order and initialization.")
    logging_steps: int = opt(10, "Log every N steps.")
    save_model: bool = opt(True, "Save the final model and tokenizer to output_dir.")
    bf16: bool | None = opt(None, "bf16 mixed precision (default: on when CUDA supports it).")
    trl_args: dict[str, Any] = opt({}, "Extra keyword arguments for TRL's config class.")

    def check(self) -> None:
        """Raise ValueError on missing or inconsistent fields."""
        if not self.dataset:
            raise ValueError("config needs `dataset` (the name of a built dataset)")
        if not self.model:
            raise ValueError("config needs `model` (a model path)")


def field_help(cls: type) -> dict[str, str]:
    """Field name → help text of a config dataclass."""
    return {f.name: f.metadata.get("help", "") for f in dataclasses.fields(cls)}


def config_from_dict(cls: type[T], data: dict[str, Any]) -> T:
    """Build config ``cls`` from a mapping; unknown keys are an error naming them.

    Dotted keys set one key of a section (see :func:`merge_fields`).
    """
    if any("." in key for key in data):
        data = merge_fields({k: v for k, v in data.items() if "." not in k},
                            {k: v for k, v in data.items() if "." in k})  # fmt: skip
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - names)
    if unknown:
        raise ValueError(
            f"unknown {cls.__name__} field(s): {', '.join(unknown)}; "
            f"known: {', '.join(sorted(names))}"
        )
    return cls(**data)


def load_config(cls: type[T], path: str | Path, **overrides: Any) -> T:
    """Read a YAML or JSON config file into ``cls`` (``overrides`` win)."""
    import yaml

    p = Path(path)
    text = p.read_text(encoding="utf-8")
    data = json.loads(text) if p.suffix == ".json" else yaml.safe_load(text)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ValueError(f"{p}: a config file holds a mapping of field: value")
    return config_from_dict(cls, merge_fields(data, overrides))


def merge_fields(data: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """``data`` with ``overrides`` applied (None values skipped).

    A dotted key sets one key inside a section: ``{"curriculum.threshold": 0.8}`` keeps
    the rest of ``curriculum``.

    Example:
        >>> merge_fields({"curriculum": {"family": "sat", "threshold": 0.5}},
        ...              {"curriculum.threshold": 0.8, "max_steps": None})
        {'curriculum': {'family': 'sat', 'threshold': 0.8}}
    """
    out = dict(data)
    for key, value in overrides.items():
        if value is None:
            continue
        head, dot, rest = key.partition(".")
        if not dot:
            out[key] = value
            continue
        section = out.get(head)
        if section is None:
            section = {}
        if not isinstance(section, dict):
            raise ValueError(f"{key}: {head!r} is not a section of fields")
        out[head] = merge_fields(section, {rest: value})
    return out


def read_training_table(config: TrainConfig) -> Any:
    """The rows of the config's dataset, in their order (an Arrow table).

    ``dataset`` names a built dataset in the catalog (read exactly as built), or is the
    folder of an export (``tracemill export NAME --to DIR``): its shards, in order. An
    empty dataset is an error naming it (there is nothing to train on).
    """
    folder = Path(config.dataset).expanduser()
    if (folder / "data").is_dir():
        table = read_export_folder(folder)
        what = f"export {folder}"
    else:
        from tracemill.pipelines.build import read_dataset
        from tracemill.stores.catalog import open_catalog

        with open_catalog(config.catalog, read_only=True) as store:
            table = read_dataset(store, config.dataset, config.dataset_version)
        what = f"dataset {config.dataset!r}" + (
            f" version {config.dataset_version}" if config.dataset_version else ""
        )
    if table.num_rows == 0:
        raise ValueError(f"{what} has no rows: nothing to train on (check the build's filters)")
    return table


def read_export_folder(folder: Path) -> Any:
    """The rows of an exported dataset folder (``data/train-*.parquet``, in shard order)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    shards = sorted((folder / "data").glob("train-*.parquet"))
    if not shards:
        raise FileNotFoundError(f"{folder}: no data/train-*.parquet shards (not an export?)")
    return pa.concat_tables([pq.read_table(p) for p in shards])


def to_hf_dataset(table: Any, columns: list[str]) -> Any:
    """A ``datasets.Dataset`` of the given columns of an Arrow table (must exist)."""
    from datasets import Dataset

    missing = [c for c in columns if c not in table.column_names]
    if missing:
        raise ValueError(
            f"dataset lacks column(s) {', '.join(missing)}: is it the right kind of build?"
        )
    if table.num_rows == 0:
        raise ValueError("the dataset has no rows")
    return Dataset(table.select(columns))


def use_bf16(flag: bool | None) -> bool:
    """The bf16 setting: the config's, else whether CUDA supports bf16."""
    if flag is not None:
        return flag
    import torch

    return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())


def trl_common_args(config: TrainConfig) -> dict[str, Any]:
    """Keyword arguments every TRL config gets from a tracemill config."""
    args = {
        "output_dir": config.output_dir,
        "learning_rate": config.learning_rate,
        "num_train_epochs": config.num_train_epochs,
        "max_steps": config.max_steps,
        "per_device_train_batch_size": config.per_device_train_batch_size,
        "gradient_accumulation_steps": config.gradient_accumulation_steps,
        "seed": config.seed,
        "data_seed": config.seed,
        "logging_steps": config.logging_steps,
        "bf16": use_bf16(config.bf16),
        "save_strategy": "no",
        "report_to": "none",
        "disable_tqdm": True,
    }
    args.update(config.trl_args)
    return args


def quiet_trainer(trainer: Any) -> Any:
    """Route a Trainer's step logs to ``logging`` instead of stdout.

    With ``disable_tqdm`` transformers adds a ``PrinterCallback`` that prints every log
    dict (loss, learning rate, runtime) to stdout; library code must not print, so it is
    replaced by a callback that logs each record at INFO on ``tracemill.train``.
    """
    from transformers import PrinterCallback, ProgressCallback, TrainerCallback

    class LogCallback(TrainerCallback):
        """Each Trainer log record as one INFO line."""

        def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kw: Any) -> None:
            if logs and state.is_local_process_zero:
                _train_log.info("step %d: %s", state.global_step, json.dumps(logs, default=str))

    trainer.remove_callback(PrinterCallback)
    trainer.remove_callback(ProgressCallback)
    trainer.add_callback(LogCallback())
    return trainer


_train_log = logging.getLogger("tracemill.train")


def load_model_and_tokenizer(path: str) -> tuple[Any, Any]:
    """A causal LM and its tokenizer (pad token falls back to eos)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(path)
    return model, tokenizer


def save_final(trainer: Any, tokenizer: Any, config: TrainConfig) -> None:
    """Save the trained model and tokenizer when the config asks for it."""
    if config.save_model:
        trainer.save_model(config.output_dir)
        tokenizer.save_pretrained(config.output_dir)


@dataclass
class TrainResult:
    """What a training run did."""

    output_dir: str
    steps: int
    stages: int = 1
    metrics: dict[str, Any] = field(default_factory=dict)
    curriculum: dict[str, Any] | None = None
    """GRPO with a curriculum: settings, final level and the level trajectory."""

    def counts(self) -> dict[str, Any]:
        """Counters for a run summary (with the curriculum trajectory when there is one)."""
        out: dict[str, Any] = {
            "output_dir": self.output_dir, "steps": self.steps, "stages": self.stages
        }  # fmt: skip
        if self.curriculum is not None:
            out["curriculum"] = self.curriculum
        return out
