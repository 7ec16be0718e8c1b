"""Each trainer runs two steps on a tiny local model and changes its weights."""

import pytest
import torch
from tracemill.pipelines.build import build_dataset

from tests.pipelines.build_rows import fill_catalog

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    from tracemill.trainers.tiny import build_tiny_model

    return str(build_tiny_model(tmp_path_factory.mktemp("tiny") / "model"))


@pytest.fixture
def built(catalog_dir):
    from tracemill.stores.catalog import open_catalog

    with open_catalog(catalog_dir) as store:
        fill_catalog(store)
        build_dataset(store, "sft", "sft", {"per_problem": None, "exclude_truncated": False})
        build_dataset(store, "pairs", "pairs", {"roles": None})
        build_dataset(store, "rl", "rl")
    return str(catalog_dir)


def _weights(path):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(path)
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _changed(before, after_path):
    after = _weights(after_path)
    return [k for k, v in before.items() if not torch.equal(v, after[k])]


def _common(built, tiny_model, tmp_path, dataset):
    return {
        "dataset": dataset,
        "model": tiny_model,
        "catalog": built,
        "output_dir": str(tmp_path / "out"),
        "max_steps": 2,
        "learning_rate": 1e-2,
        "per_device_train_batch_size": 2,
        "logging_steps": 1,
        "max_length": 128,
        "bf16": False,
    }


def test_sft_two_steps(built, tiny_model, tmp_path, capsys, caplog):
    import logging

    from tracemill.trainers.sft import SftConfig, main

    with caplog.at_level(logging.INFO, logger="tracemill.train"):
        result = main(SftConfig(**_common(built, tiny_model, tmp_path, "sft")))
    assert result.steps == 2
    assert _changed(_weights(tiny_model), result.output_dir)
    # step logs go to logging, not stdout (transformers' PrinterCallback prints dicts)
    out = capsys.readouterr().out
    assert "'loss'" not in out and "train_runtime" not in out
    logged = [r.getMessage() for r in caplog.records if r.name == "tracemill.train"]
    assert any("train_runtime" in m for m in logged) and any('"loss"' in m for m in logged)


def test_sft_curriculum_stages_by_level(built, tiny_model, tmp_path):
    from tracemill.trainers.sft import SftConfig, main

    cfg = SftConfig(**{**_common(built, tiny_model, tmp_path, "sft"), "max_steps": 1},
                    curriculum=True)
    result = main(cfg)
    # graded levels: p2 is ungraded (first), then 1 (p1) and 2 (p3): one step each
    assert result.stages == 3 and result.steps == 3
    assert [result.metrics[f"stage{i}_level"] for i in range(3)] == [None, 1, 2]
    assert _changed(_weights(tiny_model), result.output_dir)
    # by the source's levels instead: p1 and p3 have none (first), then 3 (p2)
    cfg.curriculum_by, cfg.output_dir = "source", str(tmp_path / "by-source")
    result = main(cfg)
    assert [result.metrics[f"stage{i}_source_level"] for i in range(2)] == [None, 3]


def test_dpo_two_steps(built, tiny_model, tmp_path):
    from tracemill.trainers.dpo import DpoConfig, main

    result = main(DpoConfig(**_common(built, tiny_model, tmp_path, "pairs")))
    assert result.steps == 2
    assert _changed(_weights(tiny_model), result.output_dir)


def test_redi_two_steps(built, tiny_model, tmp_path):
    from tracemill.trainers.redi import RediConfig, main

    result = main(RediConfig(**_common(built, tiny_model, tmp_path, "pairs"), alpha=0.5))
    assert result.steps == 2
    assert _changed(_weights(tiny_model), result.output_dir)


def test_grpo_two_steps_with_laser_d(built, tiny_model, tmp_path):
    from tracemill.trainers.grpo import GrpoConfig, main

    cfg = GrpoConfig(
        **_common(built, tiny_model, tmp_path, "rl"),
        num_generations=2,
        max_completion_length=8,
        temperature=1.0,
        length_reward="laser_d",
        target_length=8,
        laser_min_rollouts=2,
    )
    result = main(cfg)
    assert result.steps == 2
    assert result.metrics["length_targets"]  # LASER-D re-estimated some level's target
    assert _changed(_weights(tiny_model), result.output_dir)


def test_config_errors(built, tiny_model, tmp_path):
    from tracemill.trainers.common import config_from_dict
    from tracemill.trainers.grpo import GrpoConfig, main
    from tracemill.trainers.redi import RediConfig
    from tracemill.trainers.redi import main as redi_main

    with pytest.raises(ValueError, match="unknown GrpoConfig field"):
        config_from_dict(GrpoConfig, {"dataset": "rl", "nope": 1})
    with pytest.raises(ValueError, match="length_reward"):
        main(GrpoConfig(dataset="rl", model=tiny_model, length_reward="short"))
    with pytest.raises(ValueError, match="alpha"):
        redi_main(RediConfig(dataset="pairs", model=tiny_model, alpha=1.5))
    with pytest.raises(ValueError, match="chosen"):
        redi_main(RediConfig(**_common(built, tiny_model, tmp_path, "sft")))
