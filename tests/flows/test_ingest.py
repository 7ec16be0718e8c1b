import json

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
    (tmp_path / "b.csv").write_text("problem,ref,uid\np3,3,007\n\"p4, quoted\",4,8\n")
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
        got = {r["question"]: (r["answer"], r["source_id"]) for r in store.read("problems").to_pylist()}  # noqa: E501
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
    assert (first["role"], first["origin"], first["backend"]) == ("reference", "ingest:chat", "ingest")
    assert (first["reasoning"], first["final"], first["extracted_answer"]) == ("3 times 3", "\\boxed{9}", "9")
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
