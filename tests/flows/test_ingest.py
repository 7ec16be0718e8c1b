import json
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tracemill.catalogs.records import IngestError
from tracemill.flows.ingest import IngestStage, ingest
from tracemill.stores.catalog import open_catalog


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def run(catalog_dir, **kw):
    return ingest(IngestStage(**kw), catalog=str(catalog_dir), run_id="test-run")


def counts(catalog_dir):
    with open_catalog(catalog_dir) as store:
        return store.count("problems"), store.count("samples")


MATH = [
    {"id": 1, "question": "What is $1+1$?", "answer": 2, "topic": "arith"},
    {"id": "b", "question": "Solve $x^2=4$, x>0.", "answer": "2"},
    {"id": "c", "question": "What is $\\frac{1}{2}+\\frac{1}{2}$?", "answer": "1"},
]


def test_default_fields_and_idempotent_reingest(tmp_path, catalog_dir):
    src = write_jsonl(tmp_path / "m.jsonl", MATH)
    r1 = run(catalog_dir, paths=[str(src)], source="m", domain="math")
    assert (r1.records, r1.problems_inserted, r1.problems_skipped) == (3, 3, 0)
    r2 = run(catalog_dir, paths=[str(src)], source="m", domain="math")
    assert (r2.problems_inserted, r2.problems_skipped) == (0, 3)
    assert counts(catalog_dir) == (3, 0)
    with open_catalog(catalog_dir) as store:
        rows = {r["source_id"]: r for r in store.read("problems").to_pylist()}
    assert rows["1"]["answer"] == "2"
    assert rows["1"]["verifier"] == "math"
    assert json.loads(rows["1"]["metadata"]) == {"topic": "arith"}
    assert rows["b"]["metadata"] is None


def test_whitespace_variant_is_the_same_problem(tmp_path, catalog_dir):
    src = write_jsonl(tmp_path / "m.jsonl", [{"question": "What is  2+2?"},
                                             {"question": " What is 2+2? "}])  # fmt: skip
    report = run(catalog_dir, paths=[str(src)], source="m", domain="math")
    assert (report.problems_inserted, report.problems_skipped) == (1, 1)


def test_map_and_formats_parquet_csv_saved_dataset(tmp_path, catalog_dir):
    table = pa.table({"problem": ["p1", "p2"], "ref": ["1", "2"], "uid": [10, 11]})
    pq.write_table(table, tmp_path / "a.parquet")
    (tmp_path / "b.csv").write_text('problem,ref,uid\np3,3,007\n"p4, quoted",4,8\n')
    from datasets import Dataset, DatasetDict

    DatasetDict(
        {"train": Dataset.from_dict({"problem": ["p5"], "ref": ["5"], "uid": ["x"]}),
         "test": Dataset.from_dict({"problem": ["p6"], "ref": ["6"], "uid": ["y"]})}
    ).save_to_disk(str(tmp_path / "saved"))  # fmt: skip
    report = run(
        catalog_dir,
        paths=[str(tmp_path / "a.parquet"), str(tmp_path / "b.csv"), str(tmp_path / "saved")],
        source="mix", domain="math", map={"question": "problem", "answer": "ref",
                                          "source_id": "uid"},
    )  # fmt: skip
    assert report.problems_inserted == 6
    with open_catalog(catalog_dir) as store:
        got = {
            r["question"]: (r["answer"], r["source_id"]) for r in store.read("problems").to_pylist()
        }  # noqa: E501
    assert got["p1"] == ("1", "10")
    assert got["p3"] == ("3", "007")  # CSV is read as text
    assert got["p4, quoted"] == ("4", "8")
    assert got["p6"] == ("6", "y")


def test_messages_preset_splits_think_and_keeps_response(tmp_path, catalog_dir):
    rows = [
        {"messages": [
            {"role": "user", "content": "What is 3*3?",
             "info": {"reference_answer": "9", "source": "x"}},
            {"role": "assistant", "content": "<think>3 times 3</think>\n\\boxed{9}",
             "info": {"model_name": "r1"}}]},
        {"conversations": [{"from": "human", "value": "Name 2."},
                           {"from": "gpt", "value": "<|begin_of_thought|>hm<|end_of_thought|>"
                            "<|begin_of_solution|>The answer is 2<|end_of_solution|>"}],
         "answer": 2},
    ]  # fmt: skip
    src = write_jsonl(tmp_path / "chat.jsonl", rows)
    report = run(catalog_dir, paths=[str(src)], source="chat", preset="messages", domain="math")
    assert (report.problems_inserted, report.samples_inserted) == (2, 2)
    again = run(catalog_dir, paths=[str(src)], source="chat", preset="messages", domain="math")
    assert (again.problems_inserted, again.samples_inserted, again.samples_skipped) == (0, 0, 2)
    with open_catalog(catalog_dir) as store:
        p = {r["question"]: r for r in store.read("problems").to_pylist()}
        s = {r["problem_id"]: r for r in store.read("samples").to_pylist()}
    first = s[p["What is 3*3?"]["problem_id"]]
    assert p["What is 3*3?"]["answer"] == "9"
    assert (first["role"], first["origin"], first["backend"]) == (
        "reference",
        "ingest:chat",
        "ingest",
    )
    assert (first["reasoning"], first["final"], first["extracted_answer"]) == (
        "3 times 3",
        "\\boxed{9}",
        "9",
    )
    assert first["model"] == "r1"
    assert first["prompt"] == [{"role": "user", "content": "What is 3*3?"}]
    second = s[p["Name 2."]["problem_id"]]
    assert second["reasoning"] == "hm" and second["final"] == "The answer is 2"


def test_openr1_preset_generations_become_samples(tmp_path, catalog_dir):
    rows = [{"problem": "Find 2+3.", "solution": "It is \\boxed{5}.", "answer": "5",
             "uuid": "u1", "problem_type": "Algebra",
             "generations": ["<think>a</think>\\boxed{5}", "<think>b</think>\\boxed{6}"]}]  # fmt: skip
    src = write_jsonl(tmp_path / "o.jsonl", rows)
    report = run(catalog_dir, paths=[str(src)], source="openr1", preset="openr1")
    assert (report.problems_inserted, report.samples_inserted) == (1, 2)
    with open_catalog(catalog_dir) as store:
        prob = store.read("problems").to_pylist()[0]
        samples = store.read("samples").to_pylist()
    assert (prob["domain"], prob["task"], prob["source_id"], prob["solution"]) == (
        "math", "Algebra", "u1", "It is \\boxed{5}.")  # fmt: skip
    assert sorted(s["extracted_answer"] for s in samples) == ["5", "6"]
    assert sorted(s["sample_index"] for s in samples) == [0, 1]


@pytest.mark.parametrize(
    "tests_value, expected",
    [
        ([{"input": "1\n", "output": "2\n"}], {"tests": [{"input": "1\n", "output": "2\n"}]}),
        (json.dumps({"language": "python", "test_cases": [
            {"type": "stdin_stdout", "input": "3", "output": "4"}]}),
         {"language": "python", "tests": [{"input": "3", "output": "4"}]}),
        ({"inputs": ["5"], "outputs": ["6"]}, {"tests": [{"input": "5", "output": "6"}]}),
        (json.dumps({"fn_name": "f", "inputs": [[1, 2]], "outputs": [3]}),
         {"fn_name": "f", "tests": [{"args": [1, 2], "expected": 3}]}),
    ],
)  # fmt: skip
def test_code_preset_test_case_layouts(tmp_path, catalog_dir, tests_value, expected):
    key = "input_output" if isinstance(tests_value, dict) else "test_cases"
    src = write_jsonl(tmp_path / "c.jsonl", [{"question": "Add one.", key: tests_value}])
    run(catalog_dir, paths=[str(src)], source="code", preset="code")
    with open_catalog(catalog_dir) as store:
        row = store.read("problems").to_pylist()[0]
    assert (row["domain"], row["verifier"]) == ("code", "code")
    assert json.loads(row["verifier_spec"]) == expected


# --- bad input: clear error naming file, line and field; nothing committed -----------

BAD_CASES = {
    "invalid_json": (b'{"question": "ok"}\n{"question": broken}\n', {}, "line 2", "invalid JSON"),
    "missing_mapped_field": (
        b'{"problem": "ok"}\n{"other": "x"}\n', {"map": {"question": "problem"}}, "line 2",
        "'problem' (mapped to 'question'): missing"),
    "wrong_type": (b'{"question": "ok"}\n{"question": ["a", "list"]}\n', {}, "line 2",
                   "field 'question': expected text, got list"),
    "non_utf8": (b'{"question": "ok"}\n{"question": "caf\xe9"}\n', {}, "line 2", "not valid UTF-8"),
    "empty_file": (b"", {}, "m.jsonl", "empty"),
    "empty_question": (b'{"question": "ok"}\n{"question": "   "}\n', {}, "line 2", "empty question"),
    "unicode_blank_question": ('{"question": "ok"}\n{"question": "\u3000\\t\u2003"}\n'.encode(),
                               {}, "line 2", "empty question"),
    "empty_string_question": (b'{"question": "ok"}\n{"question": ""}\n', {}, "line 2",
                              "empty question"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_input_commits_nothing(tmp_path, catalog_dir, case):
    content, extra, where, what = BAD_CASES[case]
    good = write_jsonl(tmp_path / "good.jsonl", [{**r, "problem": r["question"]} for r in MATH])
    bad = tmp_path / "m.jsonl"
    bad.write_bytes(content)
    with pytest.raises(IngestError) as info:
        run(catalog_dir, paths=[str(good), str(bad)], source="m", domain="math", **extra)
    message = str(info.value)
    assert str(bad) in message and where in message and what in message, message
    assert counts(catalog_dir) == (0, 0)


def test_bad_parquet_column_type_names_row_and_field(tmp_path, catalog_dir):
    pq.write_table(pa.table({"question": ["a", None, "c"]}), tmp_path / "p.parquet")
    with pytest.raises(IngestError, match=r"p.parquet: line 2: field 'question'"):
        run(catalog_dir, paths=[str(tmp_path / "p.parquet")], source="p", domain="math")
    pq.write_table(pa.table({"question": [1.5, 2.5]}), tmp_path / "q.parquet")
    with pytest.raises(IngestError, match="expected text, got double"):
        run(catalog_dir, paths=[str(tmp_path / "q.parquet")], source="p", domain="math")
    assert counts(catalog_dir) == (0, 0)


def test_skip_bad_commits_good_rows_and_writes_rejects(tmp_path, catalog_dir):
    bad = tmp_path / "m.jsonl"
    bad.write_bytes(b'{"question": "ok 1"}\n{"question": broken}\n{"question": 5}\n'
                    b'{"question": "caf\xe9"}\n{"question": "ok 2"}\n')  # fmt: skip
    rejects = tmp_path / "rejects.jsonl"
    report = run(catalog_dir, paths=[str(bad)], source="m", skip_bad=True, rejects=str(rejects))
    assert (report.problems_inserted, report.rejected) == (2, 3)
    lines = [json.loads(x) for x in rejects.read_text().splitlines()]
    assert [x["line"] for x in lines] == [2, 4, 3] or sorted(x["line"] for x in lines) == [2, 3, 4]
    assert all(x["file"] == str(bad) and x["reason"] for x in lines)


def test_unknown_preset_field_and_domain_are_errors(tmp_path, catalog_dir):
    src = write_jsonl(tmp_path / "m.jsonl", MATH)
    with pytest.raises(ValueError, match="unknown preset"):
        run(catalog_dir, paths=[str(src)], source="m", preset="nope")
    with pytest.raises(ValueError, match="cannot map"):
        run(catalog_dir, paths=[str(src)], source="m", map={"nonsense": "x"})
    with pytest.raises(ValueError, match="unknown domain"):
        run(catalog_dir, paths=[str(src)], source="m", domain="poetry")
    with pytest.raises(IngestError, match="no such file"):
        run(catalog_dir, paths=[str(tmp_path / "missing.jsonl")], source="m")


# --- JSON documents, chosen by content -----------------------------------------------------


@pytest.mark.parametrize(
    "name, content",
    [
        ("a.json", '[\n  {"question": "q1", "answer": 1},\n  {"question": "q2"}\n]\n'),
        ("b.jsonl", '[{"question": "q1", "answer": 1}, {"question": "q2"}]'),
        ("c.json", '{"version": 2, "data": [{"question": "q1", "answer": 1},\n {"question": "q2"}]}'),
        ("d.json", '{"question": "q1", "answer": 1}\n{"question": "q2"}\n'),
        ("e.json", '\ufeff{"question": "q1", "answer": 1}\n{"question": "q2"}\n'),
    ],
)  # fmt: skip
def test_json_arrays_objects_and_lines_by_content(tmp_path, catalog_dir, name, content):
    src = tmp_path / name
    src.write_text(content, encoding="utf-8")
    report = run(catalog_dir, paths=[str(src)], source="j", domain="math")
    assert (report.records, report.problems_inserted) == (2, 2)
    with open_catalog(catalog_dir) as store:
        answers = {r["question"]: r["answer"] for r in store.read("problems").to_pylist()}
    assert answers == {"q1": "1", "q2": None}


def test_json_array_errors_name_the_line_of_the_record(tmp_path, catalog_dir):
    import gzip

    src = tmp_path / "arr.json.gz"
    src.write_bytes(gzip.compress(b'[\n {"question": "ok"},\n\n {"question": ["x"]}\n]'))
    with pytest.raises(IngestError, match=r"arr.json.gz: line 4: field 'question'"):
        run(catalog_dir, paths=[str(src)], source="j")
    src.write_bytes(gzip.compress(b'[{"question": "ok"},\n {"question": "unclosed"'))
    with pytest.raises(IngestError, match=r"arr.json.gz: line 2: invalid JSON"):
        run(catalog_dir, paths=[str(src)], source="j")
    assert counts(catalog_dir) == (0, 0)


# --- bad input found when tried: file, line, field; nothing committed ----------------------


def _gz(data: bytes) -> bytes:
    import gzip

    return gzip.compress(data)


GOOD_LINES = b'{"question": "good one", "answer": 1}\n'
FILE_ERRORS = {
    "truncated_gz": ("t.jsonl.gz", _gz(GOOD_LINES * 200)[:-30], "truncated gzip file"),
    "not_gzip": ("n.jsonl.gz", GOOD_LINES, "not a gzip file"),
    "deep_json_array": ("d.json", b'[{"q": ' + b"[" * 200_000 + b"]" * 200_000 + b"}]",
                        "line 1: JSON nested too deeply"),
    "ragged_csv": ("r.csv", b"question,answer\nq1,1\nq2,2,3\nq3,3\n",
                   "line 3: row has 3 fields but the header has 2"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(FILE_ERRORS))
def test_bad_files_are_clear_errors_even_when_skipping(tmp_path, catalog_dir, case):
    name, content, what = FILE_ERRORS[case]
    good = write_jsonl(tmp_path / "good.jsonl", MATH)
    bad = tmp_path / name
    bad.write_bytes(content)
    for skip in (False, True):
        with pytest.raises(IngestError) as info:
            run(catalog_dir, paths=[str(good), str(bad)], source="m", skip_bad=skip)
        assert str(bad) in str(info.value) and what in str(info.value), str(info.value)
    assert counts(catalog_dir) == (0, 0)


ROW_ERRORS = {
    "deep_json_line": (b'{"question": ' + b"[" * 200_000 + b"]" * 200_000 + b"}",
                       "line 2: JSON nested too deeply"),
    "lone_surrogate": (b'{"question": "bad \\ud800 text"}',
                       "line 2: field 'question': holds a lone UTF-16 surrogate"),
    "long_integer": (b'{"question": "q", "answer": ' + b"7" * 5000 + b"}",
                     "line 2: field 'answer': a number with 5000 digits is too long"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(ROW_ERRORS))
def test_bad_rows_name_line_and_field_and_are_skippable(tmp_path, catalog_dir, case):
    line, what = ROW_ERRORS[case]
    src = tmp_path / "rows.jsonl"
    src.write_bytes(b'{"question": "fine", "answer": 2}\n' + line + b'\n{"question": "fine 2"}\n')
    with pytest.raises(IngestError) as info:
        run(catalog_dir, paths=[str(src)], source="m")
    assert f"{src}: {what}" in str(info.value), str(info.value)
    assert counts(catalog_dir) == (0, 0)
    report = run(catalog_dir, paths=[str(src)], source="m", skip_bad=True,
                 rejects=str(tmp_path / "rejects.jsonl"))  # fmt: skip
    assert (report.problems_inserted, report.rejected) == (2, 1)


def test_valid_surrogate_pairs_are_text(tmp_path, catalog_dir):
    src = tmp_path / "e.jsonl"
    src.write_bytes(b'{"question": "smile \\ud83d\\ude00"}\n')
    run(catalog_dir, paths=[str(src)], source="m")
    with open_catalog(catalog_dir) as store:
        assert store.read("problems").column("question").to_pylist() == ["smile \U0001f600"]


def test_skip_bad_that_rejects_everything_fails_and_commits_nothing(tmp_path, catalog_dir):
    src = tmp_path / "all_bad.jsonl"
    src.write_bytes(b'{"question": 1}\n{"question": ""}\nnot json\n')
    rejects = tmp_path / "rejects.jsonl"
    with pytest.raises(IngestError, match=r"every record was rejected \(3\)"):
        run(catalog_dir, paths=[str(src)], source="m", skip_bad=True, rejects=str(rejects))
    assert len(rejects.read_text().splitlines()) == 3
    assert counts(catalog_dir) == (0, 0)


def test_cli_skip_bad_all_rejected_exits_nonzero(tmp_path):
    from tracemill.flows.cli import app
    from typer.testing import CliRunner

    src = tmp_path / "all_bad.jsonl"
    src.write_bytes(b'{"question": 1}\n')
    result = CliRunner().invoke(
        app, ["ingest", str(src), "--source", "m", "--skip-bad", "--catalog", str(tmp_path / "c")]
    )
    assert result.exit_code == 1 and "every record was rejected" in result.output


def test_same_source_id_different_content_is_reported(tmp_path, catalog_dir):
    first = write_jsonl(tmp_path / "a.jsonl", [{"id": 7, "question": "q7", "answer": "1"},
                                               {"id": 8, "question": "q8"}])  # fmt: skip
    second = write_jsonl(tmp_path / "b.jsonl", [{"id": 8, "question": "q8"},
                                                {"id": 7, "question": "q7", "answer": "2"}])  # fmt: skip
    with pytest.raises(IngestError) as info:
        run(catalog_dir, paths=[str(first), str(second)], source="m")
    message = str(info.value)
    assert f"{second}: line 2: field 'id' (mapped to 'source_id')" in message
    assert f"source_id '7' was already used by {first} line 1 for different content" in message
    assert counts(catalog_dir) == (0, 0)
    report = run(catalog_dir, paths=[str(first), str(second)], source="m", skip_bad=True,
                 rejects=str(tmp_path / "r.jsonl"))  # fmt: skip
    assert (report.problems_inserted, report.rejected, report.duplicate_rows) == (2, 1, 1)


def test_same_source_id_in_a_parquet_table(tmp_path, catalog_dir):
    table = pa.table({"id": ["a", "b", "a"], "question": ["q1", "q2", "q1 changed"]})
    pq.write_table(table, tmp_path / "t.parquet")
    with pytest.raises(IngestError, match=r"t.parquet: line 3: .*'a' was already used by line 1"):
        run(catalog_dir, paths=[str(tmp_path / "t.parquet")], source="p")


# --- held-out shapes: numbers, NaN, nested Parquet, answers from solutions ----------------


def test_numbers_nan_and_nested_parquet_columns(tmp_path, catalog_dir):
    table = pa.table(
        {
            "problem": ["p1", "p2", "p3"],
            "answer": [27.0, float("nan"), 0.5],
            "final_answer": [["$2$"], ["$3$", "$4$"], []],
            "info": [{"level": 2}, {"level": None}, {"level": 5}],
        }
    )
    pq.write_table(table, tmp_path / "n.parquet")
    run(catalog_dir, paths=[str(tmp_path / "n.parquet")], source="a", domain="math")
    with open_catalog(catalog_dir) as store:
        got = {r["question"]: r["answer"] for r in store.read("problems").to_pylist()}
    assert got == {"p1": "27", "p2": None, "p3": "0.5"}
    catalog2 = tmp_path / "c2"
    run(catalog2, paths=[str(tmp_path / "n.parquet")], source="b", domain="math",
        map={"answer": "final_answer.0", "source_level": "info.level"}, skip_bad=True,
        rejects=str(tmp_path / "r.jsonl"))  # fmt: skip
    with open_catalog(catalog2) as store:
        got = {r["question"]: (r["answer"], r["source_level"])
               for r in store.read("problems").to_pylist()}  # fmt: skip
    assert got == {"p1": ("$2$", 2), "p2": ("$3$", None)}  # p3 has no element 0: rejected


def test_answer_from_counts_rows_without_an_answer(tmp_path, catalog_dir):
    src = write_jsonl(tmp_path / "s.jsonl", [
        {"problem": "a", "solution": "so \\boxed{4}"},
        {"problem": "b", "solution": "no final answer given"},
        {"problem": "c", "solution": "x", "answer": "given"},
    ])  # fmt: skip
    report = run(catalog_dir, paths=[str(src)], source="s", domain="math",
                 answer_from="solution", map={"answer": "answer"}, skip_bad=True,
                 rejects=str(tmp_path / "r.jsonl"))  # fmt: skip
    assert report.answer_not_found == 1
    with open_catalog(catalog_dir) as store:
        rows = {
            r["question"]: (r["answer"], r["solution"]) for r in store.read("problems").to_pylist()
        }
    assert rows["b"] == (None, "no final answer given")
    assert rows["c"] == ("given", None)  # an explicit answer wins; no solution was mapped


def test_code_rows_without_readable_tests_are_errors(tmp_path, catalog_dir):
    src = write_jsonl(tmp_path / "c.jsonl", [
        {"question": "ok", "input_output": {"inputs": ["1"], "outputs": ["2"]}},
        {"question": "no tests"},
        {"question": "broken", "input_output": "{\"inputs\": [\"1\"]"},
    ])  # fmt: skip
    with pytest.raises(
        IngestError, match=r"line 2: field 'test_cases' \(mapped to 'tests'\): missing"
    ):
        run(catalog_dir, paths=[str(src)], source="c", preset="code")
    report = run(catalog_dir, paths=[str(src)], source="c", preset="code", skip_bad=True,
                 rejects=str(tmp_path / "r.jsonl"))  # fmt: skip
    assert (report.problems_inserted, report.rejected) == (1, 2)
    reasons = [json.loads(x) for x in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert {r["line"]: r["field"] for r in reasons} == {2: "test_cases", 3: "input_output"}


# --- --update: a corrected mapping fixes rows ingested earlier ---------------------------


def test_update_fixes_earlier_rows_in_one_snapshot(tmp_path, catalog_dir):
    src = write_jsonl(tmp_path / "u.jsonl", [
        {"id": 1, "question": "Add 2 and 2.", "final": ["4"], "hint": "x"},
        {"id": 2, "question": "Add 3 and 3.", "final": ["6"], "hint": "y"},
    ])  # fmt: skip
    run(catalog_dir, paths=[str(src)], source="u", domain="math", map={"answer": "hint"})
    with open_catalog(catalog_dir) as store:
        before = store.current_snapshot()
    again = run(catalog_dir, paths=[str(src)], source="u", domain="math",
                map={"answer": "final.0"})  # fmt: skip
    assert (again.problems_inserted, again.problems_skipped, again.updated) == (0, 2, 0)
    fixed = run(catalog_dir, paths=[str(src)], source="u", domain="math",
                map={"answer": "final.0"}, update=True)  # fmt: skip
    assert (fixed.updated, fixed.problems_inserted) == (2, 0)
    with open_catalog(catalog_dir) as store:
        now = {r["source_id"]: r for r in store.read("problems").to_pylist()}
        old = {r["source_id"]: r for r in store.read("problems", snapshot=before).to_pylist()}
        assert store.current_snapshot() == before + 1  # one transaction
    assert (now["1"]["answer"], now["2"]["answer"]) == ("4", "6")
    assert (old["1"]["answer"], old["2"]["answer"]) == ("x", "y")
    assert json.loads(now["1"]["metadata"]) == {"hint": "x"}
    unchanged = run(catalog_dir, paths=[str(src)], source="u", domain="math",
                    map={"answer": "final.0"}, update=True)  # fmt: skip
    assert unchanged.updated == 0


def test_update_leaves_other_sources_alone(tmp_path, catalog_dir):
    a = write_jsonl(tmp_path / "a.jsonl", [{"question": "shared", "answer": "1"}])
    run(catalog_dir, paths=[str(a)], source="first", domain="math")
    b = write_jsonl(tmp_path / "b.jsonl", [{"question": "shared", "answer": "2"}])
    report = run(catalog_dir, paths=[str(b)], source="second", domain="math", update=True)
    assert (report.updated, report.problems_skipped) == (0, 1)
    with open_catalog(catalog_dir) as store:
        assert store.read("problems").column("answer").to_pylist() == ["1"]


def test_cli_update_and_answer_from_flags(tmp_path):
    from tracemill.flows.cli import app
    from typer.testing import CliRunner

    src = write_jsonl(tmp_path / "g.jsonl", [{"question": "q", "answer": "work\n#### 12"}])
    base = [
        "ingest",
        str(src),
        "--source",
        "g",
        "--domain",
        "math",
        "--catalog",
        str(tmp_path / "c"),
    ]
    assert CliRunner().invoke(app, base).exit_code == 0
    result = CliRunner().invoke(app, [*base, "--answer-from", "answer", "--update"])
    assert result.exit_code == 0, result.output
    assert re.search(r"updated\D+1\b", result.output), result.output
    with open_catalog(tmp_path / "c") as store:
        [row] = store.read("problems").to_pylist()
    assert (row["answer"], row["solution"]) == ("12", "work\n#### 12")


def test_python_api_and_recipe_keys(tmp_path, catalog_dir):
    from tracemill.flows.recipe import load_recipe

    import tracemill

    gsm8k = (
        Path(__file__).resolve().parents[1] / "data" / "public" / "qwen25_math_eval" / "gsm8k.jsonl"
    )
    report = tracemill.ingest(
        tracemill.IngestStage(paths=[str(gsm8k)], source="gsm8k", domain="math",
                              answer_from="answer"),
        catalog=str(catalog_dir),
    )  # fmt: skip
    assert report.problems_inserted == 3
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        "name: r\nstages:\n  - stage: ingest\n    paths: [x.jsonl]\n    source: s\n"
        "    answer_from: solution\n    all_turns: true\n    update: true\n"
        "    map: {answer: final_answer.0, choices: options}\n"
    )
    cfg = load_recipe(recipe).configs[0]
    assert (cfg.answer_from, cfg.all_turns, cfg.update) == ("solution", True, True)


def test_gzipped_csv_with_bom(tmp_path, catalog_dir):
    import gzip

    src = tmp_path / "c.csv.gz"
    src.write_bytes(gzip.compress("\ufeffquestion,answer\nq1,1\n\"q2, quoted\",2\n".encode()))
    report = run(catalog_dir, paths=[str(src)], source="c", domain="math")
    assert report.problems_inserted == 2
    with open_catalog(catalog_dir) as store:
        got = {r["question"]: r["answer"] for r in store.read("problems").to_pylist()}
    assert got == {"q1": "1", "q2, quoted": "2"}
