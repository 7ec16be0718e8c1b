"""SATURN's curriculum loop: the controller with scripted policies, then a real GRPO run."""

import random

import pytest
from tracemill.pipelines.synth.base import Item, Task, register_task
from tracemill.trainers.curriculum import CurriculumController, CurriculumSettings


def answer(row):
    return f"<think>checked every clause</think><answer>{row['answer']}</answer>"


def scripted(skill):
    """A policy that solves a test item when ``skill(level, item_number)`` says so."""

    def policy(rows, k):
        return [
            [answer(r) if skill(r["level"], i) else "<answer>no idea</answer>"] * k
            for i, r in enumerate(rows)
        ]

    return policy


def test_settings_are_checked_and_unknown_keys_named():
    with pytest.raises(ValueError, match="unknown curriculum key.*eval_evry"):
        CurriculumSettings.from_dict({"family": "sat", "eval_evry": 3})
    with pytest.raises(ValueError, match="needs a `family`"):
        CurriculumSettings.from_dict({"threshold": 0.5})
    with pytest.raises(KeyError, match="unknown task family"):
        CurriculumSettings(family="no_such_family")
    with pytest.raises(ValueError, match="start_level <= max_level"):
        CurriculumSettings(family="sat", start_level=5, max_level=3)
    with pytest.raises(ValueError, match="threshold"):
        CurriculumSettings(family="sat", threshold=0.0)
    with pytest.raises(ValueError, match="unknown knob"):
        CurriculumSettings(family="sat", knobs={"nope": 1})


def test_training_rows_follow_the_level_and_never_touch_the_test_slice():
    ctl = CurriculumController(CurriculumSettings(family="sat", eval_size=6, seed=3))
    test = {r["problem_id"] for r in ctl.test_slice()}
    first = ctl.next_rows(10)
    assert len(test) == 6 and not test & {r["problem_id"] for r in first}
    assert {r["level"] for r in first} == {1} and first[0]["prompt"][-1]["role"] == "user"
    again = ctl.next_rows(5)  # fresh items, not the same ones again
    assert not {r["problem_id"] for r in first} & {r["problem_id"] for r in again}
    ctl.record(10, 1.0)
    assert ctl.level == 2 and {r["level"] for r in ctl.next_rows(3)} == {2}
    assert not {r["problem_id"] for r in ctl.test_slice()} & test  # level 2 has its own slice
    # the test slice of a level is fixed: the same items every time it is asked for
    assert [r["problem_id"] for r in ctl.test_slice(1)] == [
        r["problem_id"] for r in CurriculumController(ctl.settings).test_slice(1)]  # fmt: skip


def test_scripted_learner_climbs_level_by_level_and_never_goes_back():
    settings = CurriculumSettings(
        family="sat", threshold=0.75, eval_every=10, eval_size=8, eval_samples=2, max_level=4
    )
    ctl = CurriculumController(settings)
    practice: dict[int, int] = {}

    def skill(level, i):  # learns a level in about 30 steps: solves more items each time
        return i < practice.get(level, 0)

    levels = []
    for step in range(1, 201):
        practice[ctl.level] = practice.get(ctl.level, 0) + 1 if step % 4 == 0 else practice.get(
            ctl.level, 0)  # fmt: skip
        if step % settings.eval_every == 0:
            ctl.evaluate(step, scripted(skill))
        levels.append(ctl.level)
    assert all(a <= b for a, b in zip(levels, levels[1:], strict=False))  # never regresses
    assert ctl.level == 4 and levels[0] == 1
    moves = [e for e in ctl.trajectory if e.advanced_to]
    assert [e.advanced_to for e in moves] == [2, 3, 4]
    assert all(e.pass_at_1 >= 0.75 for e in moves)
    assert all(e.pass_at_1 < 0.75 for e in ctl.trajectory if not e.advanced_to and e.level < 4)
    # at the top level a pass is recorded but the level stays
    assert ctl.trajectory[-1].level == 4 and ctl.trajectory[-1].advanced_to is None
    summary = ctl.summary()
    assert summary["final_level"] == 4 and summary["max_level_reached"] == 4
    assert summary["trajectory"][0]["step"] == 10 and summary["settings"]["threshold"] == 0.75


def test_pass_at_1_is_the_mean_over_samples_with_the_same_verifier():
    ctl = CurriculumController(CurriculumSettings(family="sat", eval_size=4, eval_samples=4))
    rng = random.Random(0)
    rows = ctl.test_slice()

    def half(rows_, k):
        return [[answer(r) if j % 2 == 0 else "<answer>x1=7</answer>" for j in range(k)]
                for r in rows_]  # fmt: skip

    assert ctl.pass_at_1(half)[0] == pytest.approx(0.5)
    assert ctl.pass_at_1(scripted(lambda level, i: i == 0)) == (0.25, 4, 16)
    with pytest.raises(ValueError, match="answered 1 of 4"):
        ctl.pass_at_1(lambda rows_, k: [["?"]])
    assert len(rows) == 4 and rng  # the slice was built once and reused
    final = ctl.record(99, 1.0, final=True)
    assert final.advanced_to is None and ctl.level == 1  # the end-of-run test never moves


def test_an_rg_family_drives_the_curriculum_too():
    pytest.importorskip("reasoning_gym")
    ctl = CurriculumController(CurriculumSettings(family="rg:chain_sum", eval_size=3))
    ctl.evaluate(5, scripted(lambda level, i: True))
    assert ctl.level == 2 and {r["level"] for r in ctl.next_rows(2)} == {2}


# -- a real GRPO run on a toy family a random tiny model can learn ------------------------


@register_task
class DigitsTask(Task):
    """Test family: the answer must contain at least ``level`` digits (learnable quickly)."""

    name = "tm_test_digits"
    source = "tests"

    class Config:  # noqa: D106 - a knob-less config
        pass

    @classmethod
    def config_for_level(cls, level):
        import dataclasses

        return dataclasses.make_dataclass("DigitsConfig", [("digits", int)], frozen=True)(level)

    def generate(self, config, rng):
        word = "".join(rng.choice("abcdefgh") for _ in range(6))
        return Item(f"Write {config.digits} digits after {word}.", "0" * config.digits,
                    {"digits": config.digits})  # fmt: skip

    def read(self, spec, response):
        from tracemill.pipelines.verify.answers import Reading

        return Reading("ok", value=response or "", text=response or "", source="whole")

    def parse(self, spec, text):
        return text

    def judge(self, spec, value):
        return min(1.0, sum(ch.isdigit() for ch in value) / spec["digits"])


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    from tracemill.trainers.tiny import build_tiny_model

    return str(build_tiny_model(tmp_path_factory.mktemp("tiny") / "model"))


def test_grpo_config_takes_a_curriculum_instead_of_a_dataset():
    from tracemill.flows.train import make_config

    cfg = make_config("grpo", {"model": "m", "max_steps": 5, "curriculum": {"family": "sat"}})
    cfg.check()
    with pytest.raises(ValueError, match="not both"):
        make_config("grpo", {"model": "m", "dataset": "rl", "max_steps": 5,
                             "curriculum": {"family": "sat"}}).check()  # fmt: skip
    with pytest.raises(ValueError, match="max_steps > 0"):
        make_config("grpo", {"model": "m", "curriculum": {"family": "sat"}}).check()
    with pytest.raises(ValueError, match="unknown curriculum key"):
        make_config("grpo", {"model": "m", "max_steps": 5,
                             "curriculum": {"family": "sat", "every": 2}}).check()  # fmt: skip


def test_a_recipe_curriculum_is_checked_with_the_recipe(tmp_path):
    from tracemill.flows.recipe import RecipeError, load_recipe

    def recipe(curriculum):
        path = tmp_path / "saturn.yaml"
        path.write_text(
            "name: saturn\nstages:\n  - stage: train\n    trainer: grpo\n    config:\n"
            f"      model: ./m\n      max_steps: 10\n      curriculum: {curriculum}\n"
        )
        return path

    assert load_recipe(recipe("{family: sat, threshold: 0.8}")).configs
    with pytest.raises(RecipeError, match=r"stages\.0\(train\).*unknown curriculum key.*evry"):
        load_recipe(recipe("{family: sat, evry: 3}"))
    with pytest.raises(RecipeError, match="unknown task family 'nosuch'"):
        load_recipe(recipe("{family: nosuch}"))


@pytest.mark.slow
def test_grpo_with_curriculum_advances_on_a_learnable_toy_family(tmp_path, tiny_model):
    from tracemill.trainers.grpo import GrpoConfig, main

    cfg = GrpoConfig(
        model=tiny_model,
        output_dir=str(tmp_path / "out"),
        max_steps=16,
        learning_rate=3e-2,
        per_device_train_batch_size=4,
        num_generations=4,
        max_completion_length=8,
        temperature=1.0,
        logging_steps=4,
        bf16=False,
        save_model=False,
        curriculum={"family": "tm_test_digits", "threshold": 0.6, "eval_every": 4,
                    "eval_size": 4, "eval_samples": 4, "max_level": 3,
                    "save_on_advance": True},  # fmt: skip
    )
    result = main(cfg)
    summary = result.counts()["curriculum"]
    levels = [e["level"] for e in summary["trajectory"]]
    assert result.steps == 16 and summary["family"] == "tm_test_digits"
    assert summary["max_level_reached"] >= 2, summary["trajectory"]
    # level 1 was learned, not passed by luck: the first test fell short of the threshold
    assert summary["trajectory"][0]["pass_at_1"] < 0.6
    # the model that cleared each level was saved when the level moved up
    moved = [e["step"] for e in summary["trajectory"] if e["advanced_to"]]
    assert moved and all((tmp_path / "out" / f"checkpoint-{s}").is_dir() for s in moved)
    assert all(a <= b for a, b in zip(levels, levels[1:], strict=False))  # never regressed


@pytest.mark.slow
def test_cli_curriculum_run_is_recorded_with_its_trajectory(tmp_path, tiny_model, catalog_dir):
    import json

    import yaml
    from tracemill.flows.cli import app
    from tracemill.stores.catalog import open_catalog
    from typer.testing import CliRunner

    config = tmp_path / "grpo.yaml"
    config.write_text(yaml.safe_dump({
        "model": tiny_model, "output_dir": str(tmp_path / "out"), "max_steps": 2,
        "per_device_train_batch_size": 2, "num_generations": 2, "max_completion_length": 4,
        "bf16": False, "save_model": False, "logging_steps": 1,
        "curriculum": {"eval_every": 1, "eval_size": 5, "eval_samples": 1, "threshold": 1.0},
    }))  # fmt: skip
    with open_catalog(catalog_dir):  # runs rows go to an existing catalog only
        pass
    result = CliRunner().invoke(app, [
        "train", "grpo", "--config", str(config), "--curriculum-family", "tm_test_digits",
        "--start-level", "2", "--set", "curriculum.eval_size=2",
        "--catalog", str(catalog_dir)])  # fmt: skip
    assert result.exit_code == 0, result.output
    with open_catalog(catalog_dir, read_only=True) as store:
        runs = store.sql("SELECT flow, status, counts FROM runs").to_pylist()
    assert [(r["flow"], r["status"]) for r in runs] == [("train", "completed")]
    curriculum = json.loads(runs[0]["counts"])["curriculum"]
    assert curriculum["start_level"] == 2 and curriculum["family"] == "tm_test_digits"
    assert [e["step"] for e in curriculum["trajectory"]] == [1, 2]
    assert curriculum["settings"]["eval_size"] == 2  # --set reached into the section
    assert {e["items"] for e in curriculum["trajectory"]} == {2}
