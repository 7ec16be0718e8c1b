"""CLI conventions every command keeps: readable help at 80 columns, one meaning per short
flag, hidden deprecated spellings that still work, --config/--set/--print-config, and
--format table|json|csv on listing commands."""

import json
import re

import pytest
import typer.main
import yaml
from rich.cells import cell_len
from tracemill.flows.cli import app
from typer.testing import CliRunner

runner = CliRunner()

LISTINGS = ["tables", "snapshots", "datasets", "verifiers", "families", "stages"]
"""Listing commands (each takes --format table|json|csv)."""

RETIRED = {"--option", "--n", "--k", "--report", "--ngram", "--char", "--no-fill",
           "--keep-dropped", "--include-truncated", "--allow-no-verifier", "--price-in",
           "--price-out", "--format-in"}  # fmt: skip
"""Old spellings: still accepted, never shown."""


def _commands():
    """(path, click command) for every command and subcommand."""
    group = typer.main.get_command(app)
    out = []
    for name in group.list_commands(None):
        cmd = group.get_command(None, name)
        subs = getattr(cmd, "commands", None)
        if subs:
            out += [((name, sub), c) for sub, c in subs.items()]
        else:
            out.append(((name,), cmd))
    return out


COMMANDS = _commands()


def _visible_options(cmd):
    return [p for p in cmd.params if p.param_type_name == "option" and not p.hidden]


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS] + [()], ids=lambda p: " ".join(p))
def test_help_is_readable_at_80_columns(path):
    result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert max(cell_len(line) for line in lines) <= 80
    if not path:
        return
    cmd = dict(COMMANDS)[path]
    for param in _visible_options(cmd):
        for opt in [*param.opts, *param.secondary_opts]:
            # an option row: the name whole, in the left columns (not in some help text)
            pattern = re.compile(rf"^│(?: \*)? {{1,4}}(?:-\S* +)?{re.escape(opt)}(?![\w-])")
            found = [line for line in lines if pattern.search(line)]
            assert found, f"{' '.join(path)}: {opt} is not shown whole"
        if not param.help:
            continue
        # the description starts on the option's own line, with room to read it
        line = found[0]
        word = param.help.split()[0]
        start = line.find(word, pattern.search(line).end())
        assert 0 < start <= 50, f"{' '.join(path)}: help of {param.opts[0]} squeezed: {line!r}"


def test_short_flags_mean_one_thing_and_old_spellings_are_hidden():
    meaning: dict[str, set[str]] = {}
    shown: set[str] = set()
    for _path, cmd in COMMANDS:
        for param in _visible_options(cmd):
            longs = [o for o in param.opts if o.startswith("--")]
            shown.update(longs + list(param.secondary_opts))
            for short in (o for o in param.opts if not o.startswith("--")):
                meaning.setdefault(short, set()).update(longs)
    clashes = {s: sorted(longs) for s, longs in meaning.items() if len(longs) > 1}
    assert not clashes, clashes
    assert not RETIRED & shown, sorted(RETIRED & shown)
    # the concepts the issue named: one spelling everywhere
    for path in (("grade",), ("calibrate",), ("distill",)):
        opts = {o for p in dict(COMMANDS)[path].params if not p.hidden for o in p.opts}
        assert {"--samples", "--backend", "--backend-option", "--report-dir"} <= opts, path


def _config(args):
    result = runner.invoke(app, [*args, "--print-config"])
    assert result.exit_code == 0, result.output
    text = result.output[result.output.index("report_dir"):]  # after any warning lines
    return yaml.safe_load(text), result.output


def test_deprecated_spellings_still_work_and_warn():
    cfg, out = _config(["grade", "-m", "m", "--k", "3", "--fixed"])
    assert cfg["k"] == 3 and cfg["method"] == "fixed_k"
    assert "--k" in out and "deprecated" in out
    cfg, out = _config(["distill", "-m", "m", "-n", "2", "--option", "device=cpu",
                        "--price-in", "1.5"])  # fmt: skip
    assert cfg["n"] == 2 and cfg["backend_options"] == {"device": "cpu"}
    assert cfg["prices"] == {"input": 1.5}
    cfg, _ = _config(["curate", "--ngram", "3", "--char", "-m", "exact", "--report", "r.json"])
    assert (cfg["near_ngram"], cfg["near_unit"], cfg["methods"]) == (3, "char", ["exact"])
    assert cfg["report"] == "r.json"
    cfg, _ = _config(["select", "-n", "x", "-s", "4", "--no-fill"])
    assert (cfg["dataset"], cfg["size"], cfg["fill"]) == ("x", 4, "none")
    cfg, _ = _config(["build", "sft", "--name", "d", "--keep-dropped", "--per-problem", "0"])
    assert cfg["options"] == {"exclude_dropped": False, "per_problem": None}
    cfg, _ = _config(["ingest", "a.jsonl", "-s", "s", "--format", "csv", "-m", "question=q"])
    assert cfg["format"] == "csv" and cfg["map"] == {"question": "q"} and cfg["model"] is None


def test_bools_show_the_flag_that_changes_the_default():
    cfg, _ = _config(["grade", "-m", "m", "--no-plots"])
    assert cfg["plots"] is False
    cfg, _ = _config(["grade", "-m", "m", "--plots"])  # the other spelling, hidden
    assert cfg["plots"] is True
    cfg, _ = _config(["ingest", "a.jsonl", "-s", "s", "--no-metadata"])
    assert cfg["keep_metadata"] is False
    cfg, _ = _config(["distill", "-m", "m", "--allow-download", "--no-verify"])
    assert cfg["allow_download"] is True and cfg["verify"] is False


def test_config_file_then_flags_then_set(tmp_path):
    path = tmp_path / "grade.yaml"
    path.write_text("stage: grade\nmodel: from-file\nk: 4\ntemperature: 0.2\n"
                    "backend_options: {device: cpu}\n")  # fmt: skip
    cfg, _ = _config(["grade", "--config", str(path), "--samples", "8", "--set", "k=12",
                      "--set", "backend_options.batch_size=16"])  # fmt: skip
    assert cfg["model"] == "from-file" and cfg["temperature"] == 0.2
    assert cfg["k"] == 12  # --set wins over the flag, the flag over the file
    assert cfg["backend_options"] == {"device": "cpu", "batch_size": 16}
    # what --print-config prints is a config file the command reads back
    again = tmp_path / "again.yaml"
    again.write_text(yaml.safe_dump(cfg))
    assert _config(["grade", "--config", str(again)])[0] == cfg


@pytest.mark.parametrize(
    "args, message",
    [
        (["grade"], "--model is required"),
        (["grade", "-m", "m", "--samples", "0"], "--samples: Input should be greater"),
        (["grade", "-m", "m", "--set", "kk=1"], "--set kk: unknown key"),
        (["grade", "-m", "m", "--set", "k"], "--set expected KEY=VALUE"),
        (["grade", "-m", "m", "--backend-option", "device"], "--backend-option expected"),
        (["synth", "sat", "-n", "1", "--knob", "oops"], "--knob expected NAME=VALUE"),
        (["select", "--name", "x", "--method", "best"], "Invalid value for '--method'"),
    ],
)
def test_option_errors_are_one_line_naming_the_flag(args, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_missing_config_file_is_a_failure_not_a_usage_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["grade", "--config", "missing.yaml"])
    assert result.exit_code == 1 and "no such file" in result.output


def test_config_file_of_another_stage_is_refused(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("stage: select\ndataset: x\n")
    result = runner.invoke(app, ["grade", "--config", str(path)])
    assert result.exit_code == 2 and "holds a 'select' stage" in result.output


@pytest.mark.parametrize("command", LISTINGS)
def test_listing_commands_take_format(command, catalog):
    catalog.close()
    outputs = {}
    for fmt in ("table", "json", "csv"):
        result = runner.invoke(app, [command, "--format", fmt])
        assert result.exit_code == 0, (command, fmt, result.output)
        outputs[fmt] = result.output
    rows = [json.loads(line) for line in outputs["json"].splitlines()]
    if rows:
        assert outputs["csv"].splitlines()[0] == ",".join(f'"{k}"' for k in rows[0])
    if command not in ("snapshots", "datasets"):
        assert rows and all(isinstance(r, dict) for r in rows)
    bad = runner.invoke(app, [command, "--format", "xml"])
    assert bad.exit_code == 2


def test_tables_show_markup_as_text_and_csv_flattens_lists(catalog):
    catalog.close()
    query = "SELECT '[math]' AS tag, [1, 2] AS xs, {'a': 1} AS s"
    table = runner.invoke(app, ["sql", query])
    assert table.exit_code == 0 and "[math]" in table.output, table.output
    csv = runner.invoke(app, ["sql", query, "--format", "csv"])
    assert csv.exit_code == 0, csv.output
    assert csv.output.splitlines() == ['"tag","xs","s"', '"[math]","[1, 2]","{""a"": 1}"']
    verifiers = runner.invoke(app, ["verifiers", "-f", "csv"]).output.splitlines()
    assert verifiers[0] == '"name","version","description"'


def test_synth_levels_table_explains_itself():
    result = runner.invoke(app, ["synth", "sat", "--levels-table"], env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    assert "n (rises): Number of variables." in result.output
    rows = [json.loads(line) for line in
            runner.invoke(app, ["synth", "sat", "--levels-table", "-f", "json"]).output.splitlines()]
    assert [r["knob"] for r in rows] == ["k", "n", "m"]
    assert rows[1]["description"] == "Number of variables." and rows[1]["L10"] == 20


def test_stages_lists_a_stages_keys():
    rows = [json.loads(line) for line in
            runner.invoke(app, ["stages", "grade", "-f", "json"]).output.splitlines()]
    by_key = {r["key"]: r for r in rows}
    assert by_key["k"]["flag"] == "--samples" and by_key["k"]["default"] == 16
    assert by_key["model"]["default"] == "(required)"
    assert rows[-1]["key"] == "report_dir"  # keys every stage shares come last
