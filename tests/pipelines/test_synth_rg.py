"""reasoning-gym's generators as ``rg:`` families: the registry-wide contract, levels,
seeding, storage round trips and the excluded list.

Cheap by design: one item per generator at levels 1 and 10 (a lower top level for the
few generators whose level 10 takes seconds per item; see ``TOP_TESTED``).
"""

import dataclasses
import json
import random

import pytest

rg = pytest.importorskip("tracemill.pipelines.synth.rg")

from tracemill.pipelines.synth import (  # noqa: E402
    generate_item,
    generate_problems,
    get_task,
    knob_trends,
    level_table,
    make_config,
    task_names,
)
from tracemill.pipelines.verify import REASONS, get_verifier, verifier_names  # noqa: E402

from tests.pipelines.test_synth_registry import GARBAGE  # noqa: E402

NAMES = rg.registered_names()
HOSTILE = [g for g in GARBAGE if len(g) <= 10_000]
"""The native families' garbage, without the few huge strings that only test the shared
reader (refused as too long before any scorer sees them)."""
SEED = 7
TOP_TESTED = {"bf": 7, "countdown": 5, "futoshiki": 7, "n_queens": 7, "zebra_puzzles": 7}
"""Generators whose level 10 takes seconds per item: their contract is checked at this
level instead (they work at 10, only slowly: ``tracemill synth`` has no time limit)."""


def respond(answer):
    return f"<think>worked it out</think>\n<answer>{answer}</answer>"


def one_row(family, level, start=0):
    return generate_problems(family, 1, level=level, seed=SEED, start=start).to_pylist()[0]


def test_registry_holds_every_generator_but_the_excluded_ones():
    shipped = rg.generator_names()
    assert set(rg.EXCLUDED) <= set(shipped)
    assert NAMES == [n for n in shipped if n not in rg.EXCLUDED]
    assert len(NAMES) >= 90
    assert task_names(source="reasoning-gym") == [f"rg:{n}" for n in NAMES]
    assert set(task_names(source="tracemill")).isdisjoint(task_names(source="reasoning-gym"))
    assert {f"rg:{n}" for n in NAMES} <= set(verifier_names())
    with pytest.raises(KeyError, match="excluded: no reference answer"):
        get_task("rg:boxnet")
    with pytest.raises(KeyError, match="unknown task family 'rg:nope'"):
        get_task("rg:nope")


@pytest.mark.parametrize("name", sorted(set(rg.EXCLUDED) - {"composite"}))
def test_excluded_generators_still_break_the_contract(name):
    """If a reasoning-gym release fixes one, this fails: then take it off the list."""
    from reasoning_gym import create_dataset

    dataset = create_dataset(name, seed=SEED, size=3)
    broken = False
    for entry in dataset:
        gold = entry["answer"]
        broken |= gold is None or dataset.score_answer(gold, entry) < 1.0
        broken |= dataset.score_answer("zzzz garbage qq", entry) >= 1.0
    assert broken


SLOW = {"knight_swap"}
"""Generators whose items take seconds now and then at any level (heavy-tailed search)."""


def _marks(name):
    return [pytest.mark.slow] if name in SLOW else []


CASES = [
    pytest.param(n, lv, id=f"{n}-{lv}", marks=_marks(n))
    for n in NAMES
    for lv in (1, TOP_TESTED.get(n, 10))
]
NAME_CASES = [pytest.param(n, id=n, marks=_marks(n)) for n in NAMES]


@pytest.mark.parametrize(("name", "level"), CASES)
def test_reference_passes_and_garbage_fails(name, level):
    family = f"rg:{name}"
    row = one_row(family, level, start=level)
    verifier = get_verifier(family)
    assert row["source"] == f"synth:{family}" and row["source_level"] == level
    assert "<answer></answer>" in row["question"]
    verdict = verifier(row, respond(row["answer"]))
    assert (verdict.passed, verdict.score, verdict.reason) == (True, 1.0, "ok"), (verdict, row)
    for bad in ("<answer>zzzz garbage qq</answer>", "<answer></answer>", "no answer at all"):
        verdict = verifier(row, bad)
        assert not verdict.passed and verdict.reason in REASONS, (bad, verdict)
    spec = json.loads(row["verifier_spec"])
    assert spec["dataset"] == name and json.loads(row["generator"])["family"] == family


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", NAME_CASES)
def test_hostile_answers_never_raise_and_never_pass(name):
    family = f"rg:{name}"
    row = one_row(family, 1)
    verifier = get_verifier(family)
    for response in HOSTILE:
        verdict = verifier(row, response)
        assert not verdict.passed, response[:60]
        assert verdict.reason in REASONS and verdict.reason != "verifier_error", verdict
    assert verifier({}, respond(row["answer"])).reason == "no_reference"


@pytest.mark.parametrize("name", NAME_CASES)
def test_an_item_is_reproducible_alone(name):
    family = f"rg:{name}"
    first = generate_problems(family, 2, level=2, seed=SEED).to_pylist()
    rg._dataset.cache_clear()  # no cached generator state from the items before
    random.seed(SEED + 2)  # the global generators moved on (see the shared-state test)
    alone = generate_item(family, make_config(family, 2), SEED, 1)
    assert (alone.question, alone.answer) == (first[1]["question"], first[1]["answer"])
    assert json.dumps(alone.spec, sort_keys=True) == first[1]["verifier_spec"]


def _ids(family, level, count, global_seed):
    random.seed(global_seed)
    return generate_problems(family, count, level=level, seed=SEED).column("problem_id").to_pylist()


def test_items_do_not_depend_on_shared_state_other_work_leaves_behind():
    """Regressions: list_functions draws some numbers from the global ``random``, and
    codeio's items come from data on its class that the dataset built last overwrites."""
    assert _ids("rg:list_functions", 1, 12, 1) == _ids("rg:list_functions", 1, 12, 2)
    before = _ids("rg:codeio", 1, 3, 1)
    generate_problems("rg:codeio", 1, level=10, seed=SEED)  # another difficulty's data
    assert _ids("rg:codeio", 1, 3, 1) == before
    state = random.getstate()
    generate_problems("rg:list_functions", 2, level=1, seed=SEED)
    assert random.getstate() == state  # the caller's global generator is left as it was


def test_seeds_do_not_collide_the_way_seed_plus_index_does():
    """reasoning-gym's seed 8, item 0 is its seed 7, item 1; here they differ."""
    one = generate_item("rg:chain_sum", make_config("rg:chain_sum", 3), SEED, 1)
    other = generate_item("rg:chain_sum", make_config("rg:chain_sum", 3), SEED + 1, 0)
    assert one.metadata["rg_seed"] != other.metadata["rg_seed"]
    assert one.question != other.question


def test_a_stored_row_is_rescored_from_the_row_alone():
    row = one_row("rg:arc_agi", 3)
    rg._dataset.cache_clear()
    spec = json.loads(row["verifier_spec"])
    # the grids are tuples in reasoning-gym's metadata; they come back as tuples
    assert "$tuple" in json.dumps(spec["entry"]["metadata"])
    entry = rg.decode(spec["entry"])
    assert isinstance(entry["metadata"]["output"], tuple)
    assert get_verifier("rg:arc_agi")(row, respond(row["answer"])).passed
    # a row from another generator's spec is no reference
    other = {**row, "verifier_spec": one_row("rg:chain_sum", 1)["verifier_spec"]}
    assert get_verifier("rg:arc_agi")(other, respond(row["answer"])).reason == "no_reference"


def test_type_preserving_json_round_trip_and_refusals():
    import datetime
    from fractions import Fraction

    from reasoning_gym.logic.aiw import TaskType

    value = {
        "t": (1, (2, 3)), "s": {3, 1}, "f": frozenset({"a"}), "d": {1: "x", "$k": 2},
        "e": [TaskType.FRIENDS], "when": datetime.date(2024, 2, 29), "q": Fraction(3, 7),
        "inf": float("inf"), "plain": [1, "a", None, 2.5],
    }  # fmt: skip
    back = rg.decode(json.loads(json.dumps(rg.encode(value))))
    assert back == value and isinstance(back["t"][1], tuple) and back["e"][0] is TaskType.FRIENDS
    with pytest.raises(ValueError, match="only reasoning_gym classes"):
        rg.decode({"$enum": "os:PathLike", "name": "X"})
    with pytest.raises(TypeError, match="cannot store"):
        rg.encode(object())


def test_levels_follow_the_curriculum_attributes():
    table = level_table("rg:chain_sum")
    assert [(r["min_terms"], r["max_terms"]) for r in (table[0], table[-1])] == [(2, 2), (12, 12)]
    assert knob_trends("rg:chain_sum")["max_terms"] == "rises"
    config = make_config("rg:chain_sum", 10)
    described = {f.name: f.metadata["description"] for f in dataclasses.fields(config)}
    assert "terms" in described["max_terms"]
    # curricula whose own ends are invalid stay inside the valid range
    assert rg.attribute_ranges("knight_swap")["nodes"][0] == 1  # 4 squares: under the minimum
    assert rg.attribute_ranges("caesar_cipher")["rotation"][1] < 3  # rotations over 25
    assert make_config("rg:caesar_cipher", 10).max_rotation <= 25
    # no curriculum: every level has the generator's defaults
    assert len({json.dumps(r, default=str, sort_keys=True) for r in
                [{k: v for k, v in row.items() if k != "level"} for row in
                 level_table("rg:gsm_symbolic")]}) == 1  # fmt: skip


def test_bad_knobs_are_value_errors_naming_the_family():
    with pytest.raises(ValueError, match="rg:chain_sum: bad knobs"):
        make_config("rg:chain_sum", 1, min_terms=5, max_terms=2)
    with pytest.raises(ValueError, match="unknown knob"):
        make_config("rg:chain_sum", 1, seed=3)  # seeds are per item, not knobs


def test_version_names_the_reasoning_gym_release_and_sorts_after_older_ones():
    from importlib.metadata import version

    task = get_task("rg:chain_sum")
    assert task.version == get_verifier("rg:chain_sum").version == f"1.rg{version('reasoning-gym')}"
    assert task.source == "reasoning-gym" and task.license == "Apache-2.0"
    import duckdb
    from tracemill.catalogs.views import version_sort_key

    key = version_sort_key("v")
    newest = duckdb.sql(
        f"SELECT v FROM (VALUES ('1.rg0.1.9'), ('{task.version}'), ('1.rg0.1.24')) t(v) "
        f"ORDER BY {key} DESC LIMIT 1"
    ).fetchone()[0]
    assert newest == task.version
