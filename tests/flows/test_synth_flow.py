"""The ``synth`` stage and CLI: problems land in the catalog, reruns add nothing."""

import json

import pytest
from pydantic import ValidationError
from tracemill.flows.stages import StageContext, get_stage
from tracemill.flows.synth import SynthStage, synthesize
from tracemill.pipelines.verify import get_verifier
from tracemill.stores.catalog import open_catalog
from typer.testing import CliRunner


def test_stage_writes_problems_in_chunks_and_reruns_insert_nothing(catalog):
    cfg = SynthStage(family="sudoku", count=5, level=1, seed=3, chunk_size=2)
    counts = synthesize(cfg, store=catalog, run_id="run-1")
    assert (counts["generated"], counts["inserted"], counts["skipped"]) == (5, 5, 0)
    assert counts["chunks"] == 3
    again = synthesize(cfg, store=catalog, run_id="run-2")
    assert (again["generated"], again["inserted"], again["skipped"]) == (5, 0, 5)
    rows = catalog.read("problems").to_pylist()
    assert len(rows) == 5
    assert {r["source_id"] for r in rows} == {f"sudoku/3/{i}" for i in range(5)}
    assert {r["run_id"] for r in rows} == {"run-1"}
    verifier = get_verifier("sudoku")
    for row in rows:
        assert row["task"] == "sudoku" and row["verifier"] == "sudoku"
        assert row["source_level"] == 1 and row["domain"] == "logic"
        assert verifier(row, f"<answer>{row['answer']}</answer>").passed
        assert json.loads(row["generator"])["knobs"] == {"size": 4, "extra_givens": 4}
    # one snapshot per chunk that added rows
    messages = [m for m in catalog.snapshots().column("commit_message").to_pylist() if m]
    assert sum("synth sudoku" in m for m in messages) == 3


def test_extending_a_run_adds_only_the_new_items(catalog):
    synthesize(SynthStage(family="sat", count=4, level=2), store=catalog)
    counts = synthesize(SynthStage(family="sat", count=6, level=2), store=catalog)
    assert (counts["inserted"], counts["skipped"]) == (2, 4)
    assert catalog.count("problems") == 6


def test_registered_stage_with_knobs(catalog_dir):
    spec = get_stage("synth")
    cfg = spec.config(family="minesweeper", count=3, level=2, knobs={"mines": 2})
    counts = spec.fn(StageContext(catalog=str(catalog_dir), run_id="r"), cfg)
    assert counts["inserted"] == 3
    with open_catalog(catalog_dir) as store:
        rows = store.read("problems").to_pylist()
    assert all(len(json.loads(r["verifier_spec"])["mines"]) == 2 for r in rows)


def test_bad_config_fails_before_writing(catalog):
    with pytest.raises(ValidationError, match="unknown task family 'no_such_family'"):
        SynthStage(family="no_such_family", count=2)  # refused by the config itself
    with pytest.raises(ValueError):
        synthesize(SynthStage(family="sat", count=2, knobs={"n": -1}), store=catalog)
    with pytest.raises(ValidationError):
        SynthStage(family="sat", count=2, level=11)
    with pytest.raises(ValidationError):
        SynthStage(family="sat", count=2, colour="blue")
    assert catalog.count("problems") == 0


def test_cli_synth_and_families(catalog_dir):
    from tracemill.flows.cli import app

    runner = CliRunner()
    result = runner.invoke(
        app, ["synth", "sat", "--count", "3", "--level", "2", "--seed", "4", "--knob", "m=5"]
    )
    assert result.exit_code == 0, result.output
    assert "inserted" in result.output
    with open_catalog(catalog_dir) as store:
        rows = store.read("problems").to_pylist()
    assert len(rows) == 3
    assert all(len(json.loads(r["verifier_spec"])["clauses"]) == 5 for r in rows)
    again = runner.invoke(app, ["synth", "sat", "-n", "3", "-l", "2", "--seed", "4", "-k", "m=5"])
    assert again.exit_code == 0, again.output
    with open_catalog(catalog_dir) as store:
        assert store.count("problems") == 3
    bad = runner.invoke(app, ["synth", "sat", "-n", "1", "--knob", "oops"])
    assert bad.exit_code == 2 and "NAME=VALUE" in bad.output
    unknown = runner.invoke(app, ["synth", "nope", "-n", "1"])
    assert unknown.exit_code == 2 and "unknown task family" in unknown.output
    listing = runner.invoke(app, ["families"])
    assert listing.exit_code == 0
    for name in ("sat_decision", "sudoku", "campsite"):
        assert name in listing.output


def test_stage_levels_spread_the_count_and_keep_level_and_knobs(catalog):
    from tracemill.pipelines.synth import level_table

    cfg = SynthStage(family="sat", count=23, levels="1-10", seed=5, chunk_size=2)
    assert cfg.levels == list(range(1, 11))
    counts = synthesize(cfg, store=catalog, run_id="run-1")
    assert (counts["generated"], counts["inserted"]) == (23, 23)
    per_level = {lv: c["generated"] for lv, c in counts["per_level"].items()}
    assert per_level == {"1": 3, "2": 3, "3": 3, **{str(lv): 2 for lv in range(4, 11)}}
    rows = catalog.read("problems").to_pylist()
    assert len({r["source_id"] for r in rows}) == 23
    assert {r["source_level"] for r in rows} == set(range(1, 11))
    table = {row.pop("level"): row for row in level_table("sat")}
    verifier = get_verifier("sat")
    for row in rows:
        generator = json.loads(row["generator"])
        assert generator["level"] == row["source_level"]
        assert generator["knobs"] == table[row["source_level"]]
        assert verifier(row, f"<answer>{row['answer']}</answer>").passed
    again = synthesize(cfg, store=catalog)
    assert (again["inserted"], again["skipped"]) == (0, 23)


def test_stage_levels_with_knobs_and_validation(catalog):
    cfg = SynthStage(family="sat", count=4, levels=[9, 2], knobs={"k": 2})
    synthesize(cfg, store=catalog)
    rows = catalog.read("problems").to_pylist()
    assert sorted(r["source_level"] for r in rows) == [2, 2, 9, 9]
    assert {json.loads(r["generator"])["knobs"]["k"] for r in rows} == {2}
    assert {json.loads(r["generator"])["knobs"]["n"] for r in rows} == {4, 16}
    with pytest.raises(ValidationError, match="not both"):
        SynthStage(family="sat", count=2, level=2, levels="1-3")
    for bad in ("0-3", "3-1", "x"):
        with pytest.raises(ValidationError):
            SynthStage(family="sat", count=2, levels=bad)


def test_cli_list_one_family_per_line_name_then_knobs():
    from tracemill.flows.cli import app
    from tracemill.pipelines.synth import task_names

    result = CliRunner().invoke(app, ["synth", "--list"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line.split()[0] for line in lines] == task_names()
    sat = next(line for line in lines if line.split()[0] == "sat")
    assert sat.split()[1:] == ["tracemill", "k=3", "n=3..20", "m=4..84"]
    sudoku = next(line for line in lines if line.split()[0] == "sudoku")
    assert sudoku.split()[1:] == ["tracemill", "size=4..9", "extra_givens=4..0"]
    if "rg:chain_sum" in task_names():
        chain = next(line for line in lines if line.split()[0] == "rg:chain_sum")
        assert chain.split()[1] == "reasoning-gym" and "min_terms=2..12" in chain


def test_cli_levels_table():
    from tracemill.flows.cli import app

    result = CliRunner().invoke(app, ["synth", "sat", "--levels-table"])
    assert result.exit_code == 0, result.output
    cells = [
        [c.strip() for c in line.split("│")[1:-1]]
        for line in result.output.splitlines()
        if line.startswith("│")
    ]
    assert cells[0] == ["1", "3", "3", "4"] and cells[-1] == ["10", "3", "20", "84"]
    assert [c[0] for c in cells] == [str(lv) for lv in range(1, 11)]
    assert "rises: n, m" in result.output and "fixed: k" in result.output
    unknown = CliRunner().invoke(app, ["synth", "nope", "--levels-table"])
    assert unknown.exit_code == 2 and "unknown task family" in unknown.output


def test_cli_levels_writes_rows_at_every_level(catalog_dir):
    from tracemill.flows.cli import app
    from tracemill.pipelines.synth import level_table

    sizes = {row["level"]: row["size"] for row in level_table("sudoku")}

    runner = CliRunner()
    args = [
        "synth",
        "sudoku",
        "-n",
        "10",
        "--levels",
        "1-10",
        "--seed",
        "2",
        "-k",
        "extra_givens=1",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "all" in result.output
    with open_catalog(catalog_dir) as store:
        rows = store.read("problems").to_pylist()
    assert sorted(r["source_level"] for r in rows) == list(range(1, 11))
    for row in rows:
        generator = json.loads(row["generator"])
        assert generator["level"] == row["source_level"]
        assert generator["knobs"]["extra_givens"] == 1
        assert generator["knobs"]["size"] == sizes[row["source_level"]]
    again = runner.invoke(app, args)
    assert again.exit_code == 0, again.output
    with open_catalog(catalog_dir) as store:
        assert store.count("problems") == 10


@pytest.mark.parametrize(
    "args, message",
    [
        (["synth"], "give a FAMILY"),
        (["synth", "sat"], "--count is required"),
        (["synth", "sat", "-n", "2", "--level", "2", "--levels", "1-3"], "not both"),
        (["synth", "sat", "-n", "2", "--levels", "4-1"], "runs backwards"),
        (["synth", "sat", "-n", "2", "--levels", "1-11"], "level must be"),
    ],
)
def test_cli_synth_errors(args, message):
    from tracemill.flows.cli import app

    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert message in result.output
