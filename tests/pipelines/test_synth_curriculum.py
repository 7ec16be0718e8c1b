"""The curriculum as data: level tables, knob trends, easy→hard walks, the benchmark."""

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest
from tracemill.pipelines.synth import (
    curriculum,
    generate_problems,
    get_task,
    knob_trends,
    level_table,
    make_config,
    parse_levels,
    spread_count,
    task_names,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", task_names(source="tracemill"))
def test_level_table_is_what_each_level_sets(name):
    task = get_task(name)
    table = level_table(name)
    assert [row["level"] for row in table] == list(range(1, 11))
    for row in table:
        config = task.config_for_level(row["level"])
        assert {k: v for k, v in row.items() if k != "level"} == dataclasses.asdict(config)
    trends = knob_trends(name)
    assert list(trends) == [f.name for f in dataclasses.fields(task.config_for_level(1))]
    assert set(trends.values()) <= {"fixed", "rises", "falls", "varies"}
    # every family gets harder along at least one knob that never moves back
    assert "rises" in trends.values() or "falls" in trends.values(), trends


@pytest.mark.parametrize(
    "name, knobs",
    [("sat", ("n", "m")), ("sat_decision", ("n", "m")), ("sudoku", ("size",)),
     ("nonogram", ("rows", "cols")), ("dyck_language", ("length", "max_depth"))],
)  # fmt: skip
def test_difficulty_knobs_never_decrease_from_level_to_level(name, knobs):
    walk = curriculum(name)
    assert [level for level, _ in walk] == list(range(1, 11))
    for knob in knobs:
        values = [getattr(config, knob) for _, config in walk]
        assert all(a <= b for a, b in zip(values, values[1:], strict=False)), (knob, values)
        assert values[-1] > values[0]
        assert knob_trends(name)[knob] == "rises"


def test_trends_name_the_knobs_that_change():
    assert knob_trends("sat") == {"k": "fixed", "n": "rises", "m": "rises"}
    assert knob_trends("sudoku") == {"size": "rises", "extra_givens": "varies"}
    assert knob_trends("time_sequence")["step"] == "falls"
    assert knob_trends("calcudoku")["ops"] == "rises"  # strings compare by length


def test_curriculum_walks_chosen_levels_easy_to_hard_with_knobs_over_each():
    walk = curriculum("sat", "7-9,2")
    assert [level for level, _ in walk] == [2, 7, 8, 9]
    assert [config for _, config in walk] == [make_config("sat", lv) for lv in (2, 7, 8, 9)]
    fixed = curriculum("sat", [10, 1], k=2)
    assert [(lv, c.k, c.n) for lv, c in fixed] == [(1, 2, 3), (10, 2, 20)]
    with pytest.raises(ValueError, match="unknown knob"):
        curriculum("sat", "1-2", colour=1)
    with pytest.raises(KeyError):
        curriculum("no_such_family")


@pytest.mark.parametrize(
    "spec, levels",
    [("1-10", list(range(1, 11))), ("1,5,10", [1, 5, 10]), (" 2-4, 8 ", [2, 3, 4, 8]),
     ("3", [3]), (7, [7]), ([10, 1, 1], [1, 10]), (range(1, 4), [1, 2, 3])],
)  # fmt: skip
def test_parse_levels(spec, levels):
    assert parse_levels(spec) == levels


@pytest.mark.parametrize("spec", ["0-3", "5-2", "a", "", "11", "1-", [0], "1,,2"])
def test_parse_levels_rejects(spec):
    with pytest.raises(ValueError):
        parse_levels(spec)


def test_spread_count_splits_the_total_evenly_lower_levels_first():
    assert spread_count(7, [3, 1, 2]) == [(1, 3), (2, 2), (3, 2)]
    assert spread_count(20, "1-10") == [(lv, 2) for lv in range(1, 11)]
    assert spread_count(2, "1-4") == [(1, 1), (2, 1), (3, 0), (4, 0)]
    assert sum(n for _, n in spread_count(1001, "1-10")) == 1001
    with pytest.raises(ValueError):
        spread_count(-1, "1-3")


def test_rows_carry_level_and_knobs():
    rows = generate_problems("sat", 2, level=4, seed=1).to_pylist()
    for row in rows:
        generator = json.loads(row["generator"])
        assert row["source_level"] == 4 and generator["level"] == 4
        assert generator["knobs"] == {"k": 3, "n": 6, "m": 18}


def test_benchmark_runs_on_a_tiny_setting():
    out = subprocess.run(
        [sys.executable, "benchmarks/synth.py", "--families", "sat,sudoku", "--per-cell", "2"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert "L1 items/s" in lines[0] and "L5 items/s" in lines[0] and "L10 items/s" in lines[0]
    assert [line.split()[0] for line in lines[2:4]] == ["sat", "sudoku"]
    assert "2 families x 3 levels, 12 items" in out.stdout
    bad = subprocess.run(
        [sys.executable, "benchmarks/synth.py", "--families", "nope"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert bad.returncode == 2 and "unknown families: nope" in bad.stderr


@pytest.mark.parametrize("name", task_names(source="tracemill"))
def test_level_tables_name_and_describe_every_knob(name):
    from tracemill.pipelines.synth import describe_levels

    table = describe_levels(name)
    assert table.rows() == level_table(name)
    assert table.description, f"{name}: config_for_level has no docstring"
    assert [k.name for k in table.knobs] == list(knob_trends(name))
    for knob in table.knobs:
        assert knob.description, f"{name}.{knob.name} has no description (a field docstring)"
        assert len(knob.values) == 10 and knob.trend == knob_trends(name)[knob.name]


def test_field_docs_reads_attribute_docstrings():
    import dataclasses

    from tracemill.pipelines.synth import field_docs

    @dataclasses.dataclass
    class Demo:
        a: int = 1
        """First
        knob."""
        b: int = 2
        c: int = 3
        """Third knob."""

    assert field_docs(Demo) == {"a": "First knob.", "c": "Third knob."}
