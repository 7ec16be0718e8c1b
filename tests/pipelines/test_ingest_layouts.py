"""Pure pieces of ingest: paths, templates, answers from solutions, choices, chat, tests."""

from __future__ import annotations

import ast
import base64
import json
import pickle
import shutil
import zlib
from pathlib import Path

import pytest
from tracemill.pipelines.ingest import (
    choice_label,
    extract_reference_answer,
    get_path,
    number_text,
    parse_options,
    parse_turns,
)
from tracemill.pipelines.ingest.testcases import (
    PlainUnpickler,
    UnreadableTests,
    decode_compressed,
    merge_specs,
    normalize_joined,
    normalize_tests,
)
from tracemill.pipelines.ingest.values import MISSING, PathError, render

needs_bwrap = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap not installed")


def compress(value: object) -> str:
    return base64.b64encode(zlib.compress(pickle.dumps(value))).decode()


# --- paths and templates -------------------------------------------------------------


def test_paths_index_lists_and_read_json_text():
    record = {
        "final_answer": ["$2$", "$3$"],
        "labels": '{"task_id": "leetcode/2727", "tags": ["a", "b"]}',
        "py": "{'name': 'a3', 'n': 1}",
        "info": {"answer": 0},
        "a.b": "dotted key",
        "text": "plain words",
    }
    assert get_path(record, "final_answer.0") == "$2$"
    assert get_path(record, "final_answer.-1") == "$3$"
    assert get_path(record, "final_answer.2") is MISSING
    assert get_path(record, "labels.task_id") == "leetcode/2727"
    assert get_path(record, "labels.tags.1") == "b"
    assert get_path(record, "py.name") == "a3"  # a Python literal, read with literal_eval
    assert get_path(record, "info.answer") == 0  # falsy values are values
    assert get_path(record, "a.b") == "dotted key"
    assert get_path(record, "missing.x") is MISSING
    with pytest.raises(PathError, match="'text' holds text, not JSON"):
        get_path(record, "text.x")


def test_python_literal_text_never_runs_code():
    record = {"labels": "{'x': __import__('os').system('echo hacked')}"}
    with pytest.raises(PathError, match="holds text, not JSON"):  # not a literal: refused
        get_path(record, "labels.x")


def test_templates_join_fields_and_skip_missing():
    record = {"Body": "There are 87 oranges.", "Question": "How many?", "n": 3.0}
    assert render(record, "{Body} {Question}") == "There are 87 oranges. How many?"
    assert render(record, "{Body} {Nope}") == "There are 87 oranges."
    assert render(record, "{{literal}} {n}") == "{literal} 3"
    assert render(record, "{Nope}") is MISSING


@pytest.mark.parametrize(
    "value, text",
    [(27.0, "27"), (0.1, "0.1"), (-3.5, "-3.5"), (1e20, "1e+20"), (float("nan"), None),
     (float("inf"), None)],
)  # fmt: skip
def test_number_text(value, text):
    assert number_text(value) == text


# --- answers from worked solutions -------------------------------------------------------


@pytest.mark.parametrize(
    "solution, answer",
    [
        ("so $x = \\boxed{\\frac{1}{2}}$. Also \\boxed{3} is last", "3"),
        ("nested $\\boxed{\\sqrt{\\frac{a}{b}}}$", "\\sqrt{\\frac{a}{b}}"),
        ("It is $\\fbox{12}$.", "12"),
        ("Janet sells 16 - 3 - 4 = <<16-3-4=9>>9 eggs.\n#### 18", "18"),
        ("total\n#### 1,600", "1600"),
        ("#### -7\n", "-7"),
        ("Step 1 ...\nThe answer is 42.", "42"),
        ("<answer>x=2</answer>", "x=2"),
        ("no answer anywhere", None),
        ("", None),
    ],
)
def test_extract_reference_answer(solution, answer):
    assert extract_reference_answer(solution) == answer


# --- multiple choice -----------------------------------------------------------------


def test_options_in_every_shape():
    assert parse_options(["A)5", "B)6(√3)", "C) 7"]) == (["5", "6(√3)", "7"], {})
    assert parse_options(["(A) x", "(B) y"]) == (["x", "y"], {})
    assert parse_options(["A)x", "C)y"]) == (["A)x", "C)y"], {})  # not A, B: kept as text
    assert parse_options({"B": "two", "A": "one"}) == (["one", "two"], {"A": "A", "B": "B"})
    assert parse_options({"1": "one", "2": "two"}) == (["one", "two"], {"1": "A", "2": "B"})
    assert parse_options("A) $f(-6)=0$ B) $f(6)=-6$ C) 7") == (["$f(-6)=0$", "$f(6)=-6$", "7"], {})
    assert parse_options('["x", "y"]') == (["x", "y"], {})
    assert parse_options([1, 2.5]) == (["1", "2.5"], {})
    for bad in (["only one"], "no labels here", [None, "x"], 5):
        with pytest.raises(TypeError):
            parse_options(bad)


@pytest.mark.parametrize(
    "answer, letter",
    [(2, "C"), (0, "A"), (2.0, "C"), ("C", "C"), ("c", "C"), ("(B)", "B"), ("Answer: D", "D"),
     ("mitochondria", "B"), ("3", "D")],
)  # fmt: skip
def test_choice_labels(answer, letter):
    options = ["nucleus", "mitochondria", "ribosome", "golgi"]
    assert choice_label(answer, options, {}) == letter


def test_choice_label_errors():
    options = ["x", "y"]
    for bad in (2, "E", True, None, "", "zzz"):
        with pytest.raises(TypeError):
            choice_label(bad, options, {})
    assert choice_label("2", options, {"1": "A", "2": "B"}) == "B"  # the source's own keys


# --- chat turns ------------------------------------------------------------------------


def test_turns_in_every_shape():
    turns = parse_turns(
        [
            {"from": "system", "value": "Be brief."},
            {"from": "human", "value": "hi"},
            {"from": "function_call", "value": '{"name": "f"}'},
            {"from": "observation", "value": "{}"},
            {"role": "assistant", "content": [
                {"type": "reasoning", "value": "think"}, {"type": "text", "text": "done"}]},
            {"role": "assistant", "content": None,
             "tool_calls": [{"type": "function", "function": {"name": "g"}}]},
        ]
    )  # fmt: skip
    assert [t.role for t in turns] == ["system", "user", "assistant", "tool", "assistant",
                                       "assistant"]  # fmt: skip
    assert turns[4].content == "<think>think</think>\ndone"
    assert turns[5].content.startswith("<tool_call>\n") and '"name": "g"' in turns[5].content
    assert parse_turns('[{"role": "user", "content": "q"}]')[0].content == "q"
    with pytest.raises(TypeError, match="unknown role"):
        parse_turns([{"role": "narrator", "content": "x"}])
    with pytest.raises(TypeError, match="image"):
        parse_turns([{"role": "user", "content": [{"type": "image", "image": "x.png"}]}])
    with pytest.raises(TypeError, match="list of chat turns"):
        parse_turns({"role": "user"})


# --- code test layouts -------------------------------------------------------------------


def test_apps_function_calls_keep_values_and_either_form_of_wrapped_outputs():
    spec = normalize_tests(
        json.dumps(
            {"fn_name": "maxScore", "inputs": [[[1, 2, 3], 3], [[5], 1]], "outputs": [[12], 5]}
        )  # fmt: skip
    )
    assert spec == {
        "fn_name": "maxScore",
        "tests": [
            {"args": [[1, 2, 3], 3], "expected": [12], "expected_any": [[12], 12]},
            {"args": [[5], 1], "expected": 5},
        ],
    }


def test_apps_stdin_lines_are_joined():
    spec = normalize_tests({"inputs": [["3 3 10", "4"]], "outputs": [["5", "6"]]})
    assert spec == {"tests": [{"input": "3 3 10\n4", "output": "5\n6"}]}


def test_livecodebench_functional_cases_decode_json_lines():
    cases = [{"input": "[2, 1, 3]\n1", "output": "[1, 2]", "testtype": "functional"},
             {"input": '"abc"', "output": "true", "testtype": "functional"}]  # fmt: skip
    spec = normalize_tests(json.dumps(cases), fn_name="solve")
    assert spec == {"fn_name": "solve", "tests": [
        {"args": [[2, 1, 3], 1], "expected": [1, 2]}, {"args": ["abc"], "expected": True}]}  # fmt: skip
    with pytest.raises(UnreadableTests, match="no function name"):
        normalize_tests(cases)


def test_compressed_private_tests_in_both_published_forms():
    cases = [{"input": "1\n", "output": "2\n", "testtype": "stdin"}]
    assert normalize_tests(compress(json.dumps(cases))) == {
        "tests": [{"input": "1\n", "output": "2\n"}]
    }
    packed = {"input_output": json.dumps({"inputs": ['["x"]'], "outputs": ["1"],
                                          "fn_name": "count"})}  # fmt: skip
    assert normalize_tests(compress(packed)) == {
        "fn_name": "count", "tests": [{"args": [["x"]], "expected": 1}]}  # fmt: skip


def test_joined_public_and_compressed_private_tests_are_not_setup_code():
    # regression: base64 text parses as a bare Python name and was taken for MBPP setup
    path = Path(__file__).parents[1] / "data/public/livecodebench/code_generation_lite.jsonl"
    row = json.loads(path.read_text(encoding="utf-8"))
    private = row["private_test_cases"]
    ast.parse(private)  # LiveCodeBench's real compressed text is valid Python: an expression
    spec = normalize_joined([row["public_test_cases"], private])
    assert len(spec["tests"]) == len(row["public_test_cases"]) + len(
        json.loads(decode_compressed(private)))  # fmt: skip
    setup = normalize_joined(["R = 3\nC = 3\nLIMIT = 100000", ["assert f(R) == 9"], []])
    assert setup["assert"]["setup"] == "R = 3\nC = 3\nLIMIT = 100000"


class _Exploit:
    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_compressed_tests_never_build_objects(tmp_path):
    marker = tmp_path / "pwned"
    evil = compress([{"input": _Exploit(str(marker)), "output": "x"}])
    with pytest.raises(UnreadableTests, match="refused"):
        normalize_tests(evil)
    assert not marker.exists()
    with pytest.raises(UnreadableTests, match="not plain data"):
        decode_compressed(compress({1, 2}))  # sets are not JSON-like data
    with pytest.raises(pickle.UnpicklingError):
        import io

        PlainUnpickler(io.BytesIO(pickle.dumps(_Exploit(str(marker))))).load()


def test_compressed_tests_bomb_and_garbage(monkeypatch):
    import tracemill.pipelines.ingest.testcases as tc

    monkeypatch.setattr(tc, "MAX_DECOMPRESSED_BYTES", 1000)
    with pytest.raises(UnreadableTests, match="more than 1000 bytes"):
        decode_compressed(compress("x" * 5000))
    with pytest.raises(UnreadableTests, match="not zlib"):
        decode_compressed(base64.b64encode(b"not compressed at all").decode())


@pytest.mark.parametrize(
    "value, expected",
    [
        ({"input": ["1\n", "2\n"], "output": ["a\n", "b\n"]},
         {"tests": [{"input": "1\n", "output": "a\n"}, {"input": "2\n", "output": "b\n"}]}),
        ([{"input": {"stdin": "3"}, "output": {"stdout": "4"}}],
         {"tests": [{"input": "3", "output": "4"}]}),
        (json.dumps({"language": "python", "test_cases": [
            {"fn_name": None, "input": "5", "output": "6", "type": "stdin_stdout"}]}),
         {"language": "python", "tests": [{"input": "5", "output": "6"}]}),
    ],
)  # fmt: skip
def test_code_contests_sandboxfusion_and_verification_info(value, expected):
    assert normalize_tests(value) == expected


@pytest.mark.parametrize(
    "value, reason",
    [
        ({"inputs": ["1"], "outputs": []}, "1 inputs but 0 outputs"),
        ([], "no test cases"),
        ([{"input": "1"}], "needs 'input' and 'output'"),
        ([{"input": {"stdin": "1", "in.txt": "x"}, "output": {"stdout": "2"}}], "uses files"),
        ({"language": "cpp", "test_cases": [{"input": "1", "output": "1"}]}, "language 'cpp'"),
        ("def test_x(:\n    assert f(1) == 2", "test code is not valid Python"),
        ("def test_x(mocker):\n    assert f(1) == 2", "asks for fixture 'mocker'"),
        ("def check(candidate):\n    assert candidate(1) == 2", "map fn_name"),
        ("def helper():\n    return 1\n", "neither JSON, compressed tests nor Python test code"),
        ({"test_list": "assert f(1) == 2"}, "list of assert statements"),
        ({"test_list": ["assert f(1) ==="]}, "assert 0 is not valid Python"),
        ("{not json", "not valid JSON"),
        ({"what": 1}, "unrecognized test layout"),
        (42, "unrecognized"),
    ],
)
def test_unreadable_tests_say_why(value, reason):
    with pytest.raises(UnreadableTests, match=reason):
        normalize_tests(value)


def test_merge_public_and_private():
    a = normalize_tests([{"input": "1", "output": "2"}])
    b = normalize_tests([{"input": "3", "output": "4"}])
    assert merge_specs([a, b]) == {"tests": a["tests"] + b["tests"]}
    call = normalize_tests({"inputs": [[1]], "outputs": [2], "fn_name": "f"})
    with pytest.raises(UnreadableTests, match="disagree"):
        merge_specs([a, call])


@needs_bwrap
def test_code_verifier_accepts_either_form_of_an_apps_wrapped_output():
    from tracemill.pipelines.verify.code import verify_code

    spec = normalize_tests({"fn_name": "f", "inputs": [[2], [3]], "outputs": [[4], [[9]]]})
    problem = {"verifier_spec": json.dumps(spec)}

    def run(body: str) -> object:
        return verify_code(problem, f"```python\ndef f(x):\n    {body}\n```")

    assert run("return x * x if x == 2 else [x * x]").passed  # element / wrapped list
    assert run("return [x * x] if x == 2 else [[x * x]]").passed
    assert not run("return x + 2 if x == 2 else [x]").passed


# --- held-out shapes (field names as the dataset cards document them; not real rows) -----

from tracemill.catalogs.records import IngestError, SourceData  # noqa: E402
from tracemill.pipelines.ingest import IngestOptions, map_source  # noqa: E402


def mapped(records, **options):
    data = SourceData("rows.jsonl", records=records, lines=list(range(1, len(records) + 1)))
    out = map_source(data, IngestOptions(source="s", **options))
    return out.problems.to_pylist(), out.samples.to_pylist(), out


def test_system_field_and_thought_markers_of_chat_rows():
    rows = [{"system": "Think first.", "conversations": [
        {"from": "user", "value": "What is 2+2?"},
        {"from": "assistant", "value": "<|begin_of_thought|>add<|end_of_thought|>"
                                       "<|begin_of_solution|>\\boxed{4}<|end_of_solution|>"}]}]  # fmt: skip
    problems, samples, _ = mapped(rows, preset="messages", domain="math",
                                  answer_from="conversations.-1.value")  # fmt: skip
    assert problems[0]["answer"] == "4" and problems[0]["metadata"] is None
    assert samples[0]["prompt"] == [{"role": "system", "content": "Think first."},
                                    {"role": "user", "content": "What is 2+2?"}]  # fmt: skip
    assert (samples[0]["reasoning"], samples[0]["final"]) == ("add", "\\boxed{4}")


def test_code_contests_hub_layout_with_empty_generated_tests():
    row = {"name": "1A. Theatre Square", "description": "Cover the square.",
           "public_tests": {"input": ["6 6 4\n"], "output": ["4\n"]},
           "private_tests": {"input": ["1 1 1\n"], "output": ["1\n"]},
           "generated_tests": {"input": [], "output": []}}  # fmt: skip
    problems, _, _ = mapped([row], preset="code")
    assert problems[0]["source_id"] == "1A. Theatre Square"
    assert json.loads(problems[0]["verifier_spec"])["tests"] == [
        {"input": "6 6 4\n", "output": "4\n"}, {"input": "1 1 1\n", "output": "1\n"}]  # fmt: skip


def test_apps_rows_and_rows_without_tests():
    rows = [
        {"problem_id": 1, "question": "Sum.", "solutions": '["print(3)"]', "difficulty":
         "interview", "input_output": json.dumps(
             {"fn_name": "add", "inputs": [[1, 2]], "outputs": [[3]]})},
        {"problem_id": 2, "question": "No tests here.", "input_output": ""},
    ]  # fmt: skip
    with pytest.raises(IngestError, match=r"line 2: field 'input_output' \(mapped to 'tests'\)"):
        mapped(rows, preset="code")
    data = SourceData("apps.jsonl", records=rows, lines=[1, 2])
    rejects = []
    result = map_source(data, IngestOptions(source="apps", preset="code"), on_error=rejects.append)
    [problem] = result.problems.to_pylist()
    assert (problem["source_id"], problem["task"]) == ("1", "interview")
    assert json.loads(problem["verifier_spec"]) == {
        "fn_name": "add", "tests": [{"args": [1, 2], "expected": [3], "expected_any": [[3], 3]}]}  # fmt: skip
    assert json.loads(problem["metadata"]) == {"solutions": '["print(3)"]'}
    assert [r.line for r in rejects] == [2]


def test_arc_style_choices_and_yes_no_answers():
    row = {"question": "Which is a metal?", "answerKey": "2",
           "choices": {"text": ["wood", "iron", "glass"], "label": ["1", "2", "3"]}}  # fmt: skip
    problems, _, _ = mapped([row], mapping={"choices": "choices", "answer": "answerKey"})
    assert problems[0]["answer"] == "B" and problems[0]["verifier"] == "choice"
    assert problems[0]["question"].endswith("A. wood\nB. iron\nC. glass")
    problems, _, _ = mapped([{"question": "Is 7 prime?", "answer": True}])
    assert problems[0]["answer"] == "True"


def test_helpful_errors_for_misread_shapes():
    with pytest.raises(IngestError, match="got a chat .* map it as messages"):
        mapped([{"question": [{"role": "user", "content": "hi"}]}])
    with pytest.raises(IngestError, match=r"got list of 2 \(map one element"):
        mapped([{"question": "q", "answer": ["1", "2"]}])


def test_json_object_with_several_arrays_is_an_error(tmp_path):
    from tracemill.stores.sources import read_jsonl

    path = tmp_path / "splits.json"
    path.write_text('{"train": [{"question": "a"}], "test": [{"question": "b"}]}')
    with pytest.raises(IngestError, match="several arrays of records"):
        read_jsonl(path)


def test_columnar_path_numbers_and_categorical_columns():
    import numpy as np
    import pyarrow as pa

    table = pa.table({
        "question": pa.array(["a", "b", "c"]).dictionary_encode(),
        "answer": pa.array(np.array([1.0, 2.5, np.nan])),
        "id": pa.array([10, 11, 12], pa.int64()),
    })  # fmt: skip
    out = map_source(SourceData("t.parquet", table=table), IngestOptions(source="s"))
    got = {r["question"]: (r["answer"], r["source_id"]) for r in out.problems.to_pylist()}
    assert got == {"a": ("1", "10"), "b": ("2.5", "11"), "c": (None, "12")}


def test_templates_and_list_indexes_on_tables_use_the_record_path():
    import pyarrow as pa

    table = pa.table({"Body": ["Ann has 3 apples."], "Question": ["How many?"],
                      "final_answer": [["3"]]})  # fmt: skip
    out = map_source(
        SourceData("t.parquet", table=table),
        IngestOptions(source="s", mapping={"question": "{Body} {Question}",
                                           "answer": "final_answer.0"}),
    )  # fmt: skip
    [row] = out.problems.to_pylist()
    assert (row["question"], row["answer"]) == ("Ann has 3 apples. How many?", "3")


def test_compressed_tests_that_share_or_loop_are_refused():
    layer: list = ["x"]
    for _ in range(60):  # 2**60 values once expanded, a few hundred bytes pickled
        layer = [layer, layer]
    with pytest.raises(UnreadableTests, match="more than"):
        decode_compressed(compress(layer))
    loop: list = []
    loop.append(loop)
    with pytest.raises(UnreadableTests, match="nest deeper|more than"):
        decode_compressed(compress(loop))


def test_metadata_is_valid_json_with_nan_values():
    problems, _, _ = mapped(
        [{"question": "q", "score": float("nan"), "deep": [{"x": float("inf")}]}]
    )
    assert json.loads(problems[0]["metadata"]) == {"score": None, "deep": [{"x": None}]}
