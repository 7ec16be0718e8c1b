"""One reporting module for every stage; progress bars that stay off stdout."""

import json

import pytest
from tracemill.flows import progress as progress_mod
from tracemill.flows.reporting import Report, markdown, publish_markdown, write_report


def test_report_markdown_escapes_cells_and_flattens_counters():
    report = Report("grade m", counters={"graded": 3, "levels": {"1": 2, "2": 1},
                                         "tags": ["a|b", "c"], "report": "x"})  # fmt: skip
    report.note("3 problem(s) graded", "bold")
    report.table("levels", ["level", "problems", "note"], [[1, 2, "a|b\nc"], [2, 1, None]])
    text = markdown(report)
    assert text.startswith("# grade m\n\n3 problem(s) graded\n")
    assert "| level | problems | note |\n|---:|---:|---|" in text
    assert "| 1 | 2 | a\\|b c |" in text and "| 2 | 1 |  |" in text
    assert "| levels.1 | 2 |" in text and "| tags | a\\|b, c |" in text
    assert "| report |" not in text


def test_write_report_files_plots_and_no_artifact_outside_prefect(tmp_path):
    report = Report("demo", counters={"rows": 2})
    report.plot("bars.png", "bars", lambda ax: ax.bar([1, 2], [3, 4]))
    report.plot("broken.png", "broken", lambda ax: 1 / 0)  # a plot never fails the stage
    report.file("extra.md", "# extra\n")
    path = write_report(report, tmp_path / "r")
    assert path == tmp_path / "r" / "summary.md"
    assert "![bars](bars.png)" in path.read_text() and "broken" not in path.read_text()
    assert (tmp_path / "r" / "bars.png").stat().st_size > 1000
    assert json.loads((tmp_path / "r" / "summary.json").read_text()) == {"rows": 2}
    assert (tmp_path / "r" / "extra.md").read_text() == "# extra\n"
    write_report(report, tmp_path / "np", plots=False)
    assert not (tmp_path / "np" / "bars.png").exists()
    assert publish_markdown("demo", "# not in a flow run") is False


def test_every_stage_of_a_run_writes_its_report(tmp_path, catalog_dir):
    from tracemill.flows.runner import run_recipe

    (tmp_path / "p.jsonl").write_text('{"question": "q1", "answer": "1"}\n')
    recipe = tmp_path / "r.yaml"
    recipe.write_text("name: small\nprefect: false\nstages:\n"
                      "  - {stage: ingest, name: in, paths: [p.jsonl], source: s}\n"
                      "  - {stage: synth, family: sat, count: 2}\n"
                      "  - {stage: summary, report_dir: mine}\n")  # fmt: skip
    result = run_recipe(recipe)
    reports = {s.label: s.counts["report"] for s in result.stages}
    assert reports["in"].endswith(f"reports/in-{result.run_id}/summary.md")
    assert reports["summary"] == str(tmp_path / "mine" / "summary.md")
    for label, path in reports.items():
        text = open(path).read()
        assert text.startswith("# ") and "## Counters" in text, label
    assert "| generated | inserted | skipped |" in open(reports["synth"]).read()


def test_progress_is_silent_off_a_terminal_and_nests_on_one(monkeypatch, capsys):
    assert not progress_mod.enabled()  # pytest's stderr is no terminal
    with progress_mod.progress("x", 3) as tick:
        tick(1)
    monkeypatch.setattr(progress_mod, "enabled", lambda: True)
    with progress_mod.progress("outer", 2) as outer:
        with progress_mod.progress("inner", None) as inner:  # a second bar, same display
            inner(5)
        outer(2, 2)
    assert progress_mod._live is None and progress_mod._users == 0
    assert capsys.readouterr().out == ""  # bars never touch stdout


def test_quiet_turns_bars_off(monkeypatch):
    monkeypatch.setattr("sys.stderr.isatty", lambda: True, raising=False)
    progress_mod.set_quiet(True)
    try:
        assert not progress_mod.enabled()
    finally:
        progress_mod.set_quiet(False)
    monkeypatch.setenv("TRACEMILL_QUIET", "1")
    assert not progress_mod.enabled()


@pytest.mark.parametrize("value, text", [(1234, "1,234"), (0.123456, "0.1235"), (None, ""),
                                         (True, "true"), ([1, "a"], "1, a")])  # fmt: skip
def test_format_value(value, text):
    from tracemill.flows.reporting import format_value

    assert format_value(value) == text
