"""The contract every registered synthetic family keeps (levels 1, 5 and 10)."""

import dataclasses
import json

import pytest
from tracemill.catalogs.schemas import DOMAINS
from tracemill.pipelines.synth import (
    generate_item,
    generate_problems,
    get_task,
    make_config,
    task_names,
)
from tracemill.pipelines.verify import REASONS, get_verifier

FAMILIES = task_names(source="tracemill")  # reasoning-gym: tests/pipelines/test_synth_rg.py
LEVELS = (1, 5, 10)
SEED = 11
ITEMS = 2

GARBAGE = [
    "",
    "   ",
    "<answer></answer>",
    "<answer>   </answer>",
    "<think>still thinking, never closed",
    "no tags at all, just words",
    "<answer>((((]]]]</answer>",
    "<answer>\x00\x01\xff\ufffd</answer>",
    "<answer>" + "9 " * 30_000 + "</answer>",
    "<answer>" + "(" * 5000 + "</answer>",
    "<answer>x1=1, x1=0</answer>",
    "<answer>-1 -2 -3 -4 -5 -6 -7 -8 -9 -10 0</answer>",
    "<answer>SAT UNSAT</answer>",
    "\\boxed{}",
    "<answer>None</answer>",
    "<answer>[[1, 2], [3, 99]]</answer>",
    "<answer>-9999" + " " * 9000 + "?</answer>",
    "<answer>not" + " \n" * 4000 + "</answer>",
    "<answer>" + "r1c" * 3000 + "</answer>",
]


def respond(answer: str) -> str:
    return f"<think>Working through the constraints.</think> <answer>{answer}</answer>"


_FLIPS = {
    "true": "False",
    "false": "True",
    "yes": "no",
    "no": "yes",
    "sat": "UNSAT",
    "unsat": "SAT",
}
_SWAPS = {"*": ".", ".": "*", "#": ".", "T": "*", "(": "[", ")": "]", "]": ")", "}": ")", ">": ")"}


def corrupt(answer: str) -> str:
    """A small change that makes a correct answer wrong (labels flip, one digit/cell changes)."""
    low = answer.strip().lower()
    if low in _FLIPS:
        return _FLIPS[low]
    for i, ch in enumerate(answer):
        if ch.isdigit():
            return answer[:i] + str((int(ch) + 1) % 10) + answer[i + 1 :]
    for i, ch in enumerate(answer):
        if ch in _SWAPS:
            return answer[:i] + _SWAPS[ch] + answer[i + 1 :]
    for i, ch in enumerate(answer):
        if ch.isalpha():
            new = "b" if ch.lower() == "a" else "a"
            return answer[:i] + new + answer[i + 1 :]
    return answer + "!"


_CACHE: dict = {}


def rows(family: str, level: int) -> list[dict]:
    key = (family, level)
    if key not in _CACHE:
        _CACHE[key] = generate_problems(family, ITEMS, level=level, seed=SEED).to_pylist()
    return _CACHE[key]


CASES = [pytest.param(f, lv, id=f"{f}-{lv}") for f in FAMILIES for lv in LEVELS]


def test_registry_has_the_sat_and_grid_families():
    expected = {
        "sat",
        "sat_decision",
        "sudoku",
        "futoshiki",
        "skyscrapers",
        "kakurasu",
        "star_battle",
        "minesweeper",
        "nonogram",
        "hitori",
        "binairo",
        "campsite",
        "norinori",
    }
    assert expected <= set(FAMILIES)


@pytest.mark.parametrize("family", FAMILIES)
def test_family_metadata_and_verifier_registered(family):
    task = get_task(family)
    assert task.name == family
    assert task.domain in DOMAINS
    assert task.description
    assert get_verifier(family).version == task.version
    for level in range(1, 11):
        config = task.config_for_level(level)
        assert dataclasses.is_dataclass(config)
        json.dumps(dataclasses.asdict(config))  # knobs are stored as JSON


@pytest.mark.parametrize(("family", "level"), CASES)
def test_same_seed_and_index_give_the_same_item(family, level):
    first = rows(family, level)
    config = make_config(family, level)
    item = generate_item(family, config, SEED, 1)  # item 1 alone, without item 0 before it
    assert (item.question, item.answer) == (first[1]["question"], first[1]["answer"])
    assert json.dumps(item.spec, sort_keys=True) == first[1]["verifier_spec"]
    assert first[0]["source_id"] != first[1]["source_id"]


@pytest.mark.parametrize(("family", "level"), CASES)
def test_reference_passes_and_corruption_fails(family, level):
    verifier = get_verifier(family)
    for row in rows(family, level):
        assert row["answer"] and "<answer>" in row["question"]
        verdict = verifier(row, respond(row["answer"]))
        assert verdict.passed, (verdict, row["answer"])
        assert verdict.score == 1.0 and verdict.reason == "ok"
        bad = corrupt(row["answer"])
        assert bad != row["answer"]
        verdict = verifier(row, respond(bad))
        assert not verdict.passed, (bad, row["answer"])
        assert verdict.score < 1.0


@pytest.mark.timeout(60)
@pytest.mark.parametrize("family", FAMILIES)
def test_garbage_never_raises_and_never_passes(family):
    verifier = get_verifier(family)
    row = rows(family, 1)[0]
    for response in GARBAGE:
        verdict = verifier(row, response)
        assert not verdict.passed, response[:50]
        assert verdict.reason in REASONS and verdict.reason != "verifier_error", verdict
    assert verifier(row, None).reason == "no_answer"  # type: ignore[arg-type]
    assert verifier({}, respond(row["answer"])).reason == "no_reference"


@pytest.mark.parametrize("family", FAMILIES)
def test_config_validation_raises_value_error(family):
    task = get_task(family)
    for level in (0, 11, -1):
        with pytest.raises(ValueError):
            make_config(family, level)
    with pytest.raises(ValueError):
        make_config(family, 1, no_such_knob=1)
    config = task.config_for_level(1)
    numeric = [
        f.name
        for f in dataclasses.fields(config)
        if isinstance(getattr(config, f.name), int | float)
        and not isinstance(getattr(config, f.name), bool)
    ]
    assert numeric, "a family should expose numeric difficulty knobs"
    rejected = 0
    for name in numeric:
        try:
            dataclasses.replace(config, **{name: -1000})
        except ValueError:
            rejected += 1
    assert rejected, f"{family}: no knob rejects -1000"
