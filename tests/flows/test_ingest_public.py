"""Conformance: every README "Bringing public datasets in" command on real public rows.

Each command of the README table runs as written (through the CLI) on the sample rows in
``tests/data/public/`` and the catalog is checked for meaning: gold answers pass the math
verifier (and a wrong one fails), multiple-choice letters pass the choice verifier,
real solutions pass the code verifier and real wrong ones fail, chat turns pair up.
"""

from __future__ import annotations

import base64
import json
import pickle
import re
import shlex
import shutil
import zlib
from pathlib import Path
from typing import Any

import pytest
from tracemill.flows.cli import app
from tracemill.pipelines.verify.registry import get_verifier, run_verifier
from tracemill.stores.catalog import open_catalog
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "public"
needs_bwrap = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap not installed")


def readme_commands() -> dict[str, str]:
    """``--source`` → command, from the README table."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("### Bringing public datasets in", 1)[1].split("\n## ", 1)[0]
    out = {}
    for cmd in re.findall(r"^\|[^|]+\| `(tracemill ingest [^`]+)` \|$", section, re.M):
        out[shlex.split(cmd)[shlex.split(cmd).index("--source") + 1]] = cmd
    return out


COMMANDS = readme_commands()


def run_cli(command: str, catalog: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.chdir(ROOT)
    args = shlex.split(command)[1:] + ["--catalog", str(catalog)]
    return CliRunner().invoke(app, args)


_RESULTS: dict[str, tuple[list[dict[str, Any]], list[dict[str, Any]], str]] = {}


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One catalog for the commands of this module (each has its own ``--source``)."""
    return tmp_path_factory.mktemp("public") / "catalog"


def rows(path: str) -> list[dict[str, Any]]:
    text = (DATA / path).read_text(encoding="utf-8")
    if text.lstrip().startswith("["):
        return json.loads(text)
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def ingested(command: str, catalog: Path, monkeypatch: pytest.MonkeyPatch):
    """Problems, samples and CLI output of ``command`` (each command runs once per session)."""
    if command not in _RESULTS:
        result = run_cli(command, catalog, monkeypatch)
        assert result.exit_code == 0, result.output
        source = shlex.split(command)[shlex.split(command).index("--source") + 1]
        with open_catalog(catalog, read_only=True) as store:
            problems = store.read("problems", where=f"source = '{source}'").to_pylist()
            ids = {p["problem_id"] for p in problems}
            samples = [s for s in store.read("samples").to_pylist() if s["problem_id"] in ids]
        _RESULTS[command] = (problems, samples, result.output)
    problems, samples, output = _RESULTS[command]
    return [dict(p) for p in problems], [dict(s) for s in samples], output


def verdict(problem: dict[str, Any], response: str):
    return run_verifier(get_verifier(problem["verifier"]), problem, response)


def test_readme_table_covers_the_corpus():
    assert len(COMMANDS) >= 25
    used = {Path(shlex.split(c)[2]).resolve() for c in COMMANDS.values()}
    corpus = {p.resolve() for p in DATA.rglob("*") if p.is_file() and p.suffix != ".md"}
    for solutions in ("sandboxfusion/solutions.json", "kodcode/solutions.json"):
        corpus.discard((DATA / solutions).resolve())
    assert corpus <= used, sorted(str(p) for p in corpus - used)


# --- math: the stored answer is the source's gold, by the math verifier -----------------

MATH_GOLD = {
    # source → (file, how the source states its gold answer)
    "gsm8k": ("qwen25_math_eval/gsm8k.jsonl", lambda r: r["answer"].rsplit("####", 1)[1].strip()),
    "minerva-math": ("qwen25_math_eval/minerva_math.jsonl", None),  # boxed in the solution
    "olympiadbench": ("qwen25_math_eval/olympiadbench.jsonl", lambda r: r["final_answer"][0]),
    "olympiadbench-json": (
        "qwen25_math_eval/olympiadbench_array.json", lambda r: r["final_answer"][0]),
    "aime24": ("qwen25_math_eval/aime24.jsonl", lambda r: r["answer"]),
    "amc23": ("qwen25_math_eval/amc23.jsonl", lambda r: str(r["answer"])),
    "svamp": ("qwen25_math_eval/svamp.jsonl", lambda r: str(r["Answer"])),
    "college-math": ("qwen25_math_eval/college_math.jsonl", lambda r: r["answer"]),
    "deepscaler": ("deepscaler/aime.json", lambda r: r["answer"]),
    "omni-math": ("hf_first_rows/omni_math.jsonl", lambda r: r["answer"]),
    "reasoning-gym": ("reasoning_gym/dump.jsonl", lambda r: r["answer"]),
    "numinamath-cot": ("hf_first_rows/numinamath_cot.jsonl", None),
}  # fmt: skip
MINERVA_BOXED = ["1.6", "4.5e33", "41.8"]  # the \boxed{} of each sample solution
NUMINA_BOXED = ["\\frac{13}{6}", "\\frac{32}{25}"]


@pytest.mark.parametrize("source", sorted(MATH_GOLD))
def test_math_gold_answers_survive(shared, source, tmp_path, monkeypatch):
    path, gold_of = MATH_GOLD[source]
    problems, _, _ = ingested(COMMANDS[source], shared, monkeypatch)
    source_rows = rows(path)
    assert len(problems) == len(source_rows)
    golds = (
        [gold_of(r) for r in source_rows]
        if gold_of
        else (MINERVA_BOXED if source == "minerva-math" else NUMINA_BOXED)
    )
    by_question = {p["question"].strip(): p for p in problems}
    for record, gold in zip(source_rows, golds, strict=True):
        question = record.get("question") or record.get("problem")
        if source == "svamp":
            question = f"{record['Body']} {record['Question']}"
        problem = by_question[question.strip()]
        assert problem["verifier"] == "math" and problem["answer"] is not None
        ok = verdict(problem, f"The final answer is $\\boxed{{{gold.strip('$')}}}$.")
        assert ok.passed, (source, gold, problem["answer"], ok)
        assert not verdict(problem, "The final answer is $\\boxed{-987654321}$.").passed


def test_answer_text_is_exact_where_the_source_is_numeric(shared, tmp_path, monkeypatch):
    problems, _, _ = ingested(COMMANDS["amc23"], shared, monkeypatch)
    assert sorted(p["answer"] for p in problems) == ["27", "36", "45"]  # not "27.0"
    problems, _, _ = ingested(COMMANDS["gsm8k"], shared, monkeypatch)
    assert sorted(p["answer"] for p in problems) == ["18", "3", "70000"]
    assert all(p["solution"].rstrip().endswith(p["answer"]) for p in problems)


def test_verl_parquet_prompt_and_ground_truth(shared, tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    problems, samples, _ = ingested(COMMANDS["verl-amc"], shared, monkeypatch)
    source = pq.read_table(DATA / "deepscaler" / "verl_amc.parquet").to_pylist()
    by_q = {p["question"]: p for p in problems}
    assert samples == [] and len(problems) == len(source)
    for record in source:
        problem = by_q[record["prompt"][0]["content"]]
        gold = record["reward_model"]["ground_truth"]
        assert verdict(problem, f"\\boxed{{{gold}}}").passed
        assert problem["answer"] == str(int(gold))


def test_reasoning_gym_ids_from_a_template(shared, tmp_path, monkeypatch):
    problems, _, _ = ingested(COMMANDS["reasoning-gym"], shared, monkeypatch)
    assert sorted(p["source_id"] for p in problems) == [
        "basic_arithmetic/0", "basic_arithmetic/1", "chain_sum/0", "chain_sum/1",
        "letter_counting/0"]  # fmt: skip
    assert {p["task"] for p in problems} == {"basic_arithmetic", "chain_sum", "letter_counting"}


# --- multiple choice --------------------------------------------------------------------

CHOICE = {
    "mmlu-stem": ("qwen25_math_eval/mmlu_stem.jsonl", lambda r: "ABCD"[r["answer"]]),
    "aqua": ("qwen25_math_eval/aqua.jsonl", lambda r: r["correct"]),
    "sat-math": ("qwen25_math_eval/sat_math.jsonl", lambda r: r["Answer"]),
    "gaokao-qa": ("qwen25_math_eval/gaokao_math_qa.jsonl", lambda r: r["label"]),
    "gpqa": ("deepscaler/gpqa.json", lambda r: r["answer"]),
}


@pytest.mark.parametrize("source", sorted(CHOICE))
def test_multiple_choice_letters(shared, source, tmp_path, monkeypatch):
    path, letter_of = CHOICE[source]
    problems, _, _ = ingested(COMMANDS[source], shared, monkeypatch)
    source_rows = rows(path)
    assert len(problems) == len(source_rows)
    for record in source_rows:
        stem = (record.get("question") or record["problem"]).strip()
        [problem] = [p for p in problems if p["question"].startswith(stem)]
        letter = letter_of(record)
        assert problem["verifier"] == "choice" and problem["answer"] == letter
        assert verdict(problem, f"The answer is ({letter}).").passed
        other = "B" if letter != "B" else "C"
        assert not verdict(problem, f"The answer is ({other}).").passed
        if source != "gpqa":  # the question lists the options as "A. …"
            spec = json.loads(problem["verifier_spec"])
            assert f"\n\nA. {spec['options'][0]}" in problem["question"]


def test_choice_options_lose_only_their_labels(shared, tmp_path, monkeypatch):
    problems, _, _ = ingested(COMMANDS["aqua"], shared, monkeypatch)
    by_stem = {p["question"].split("\n\nA. ")[0]: p for p in problems}
    for record in rows("qwen25_math_eval/aqua.jsonl"):
        spec = json.loads(by_stem[record["question"]]["verifier_spec"])
        assert [f"{'ABCDE'[i]}){o}" for i, o in enumerate(spec["options"])] == record["options"]
        assert by_stem[record["question"]]["solution"] == record["rationale"]
    problems, _, _ = ingested(COMMANDS["sat-math"], shared, monkeypatch)
    spec = json.loads(next(p for p in problems if p["source_id"] == "0")["verifier_spec"])
    assert spec["options"] == ["$f(-6)=0$", "$f(6)=-6$", "$f(-6)=6$", "$f(0)=-6$"]


# --- chat ---------------------------------------------------------------------------------


def test_alpaca_instruction_input_and_output(shared, tmp_path, monkeypatch):
    problems, samples, _ = ingested(COMMANDS["alpaca-demo"], shared, monkeypatch)
    source = rows("llamafactory/alpaca_en_demo.json")
    assert len(problems) == len(samples) == len(source)
    pid = {p["problem_id"]: p for p in problems}
    pairs = {pid[s["problem_id"]]["question"]: s for s in samples}
    for record in source:
        question = "\n".join(x for x in (record["instruction"], record["input"]) if x)
        sample = pairs[question]
        assert sample["completion"] == record["output"]
        assert sample["prompt"] == [{"role": "user", "content": question}]


def _conversation(record: dict[str, Any]) -> list[dict[str, str]]:
    roles = {"human": "user", "gpt": "assistant", "function_call": "assistant",
             "observation": "tool"}  # fmt: skip
    return [{"role": roles[t["from"]], "content": t["value"]} for t in record["conversations"]]


def test_chat_first_exchange_pairs_turns_and_counts_the_rest(shared, tmp_path, monkeypatch):
    problems, samples, output = ingested(COMMANDS["glaive-first"], shared, monkeypatch)
    source = rows("llamafactory/glaive_toolcall_en_demo.json")
    assert len(problems) == len(source)
    by_q = {p["question"]: p for p in problems}
    dropped = 0
    for record in source:
        turns = _conversation(record)
        second_user = next(i for i, t in enumerate(turns) if t["role"] == "user" and i > 0)
        dropped += len(turns) - second_user
        problem = by_q[turns[0]["content"]]
        mine = sorted((s for s in samples if s["problem_id"] == problem["problem_id"]),
                      key=lambda s: s["sample_index"])  # fmt: skip
        expected = [(turns[:i], t["content"]) for i, t in enumerate(turns[:second_user])
                    if t["role"] == "assistant"]  # fmt: skip
        assert [(s["prompt"], s["completion"]) for s in mine] == expected
        assert problem["answer"] is None  # a later assistant turn is never a reference answer
    assert re.search(rf"turns_dropped\D+{dropped}\b", output), output


def test_chat_all_turns_keeps_every_turn_with_its_context(tmp_path, monkeypatch):
    problems, samples, _ = ingested(COMMANDS["glaive-all"], tmp_path / "c", monkeypatch)
    source = rows("llamafactory/glaive_toolcall_en_demo.json")
    users = sum(t["from"] == "human" for r in source for t in r["conversations"])
    assert len(problems) == users
    pid = {p["problem_id"]: p for p in problems}
    expected = set()
    for record in source:
        turns = _conversation(record)
        for i, t in enumerate(turns):
            if t["role"] == "assistant":
                expected.add((json.dumps(turns[:i]), t["content"]))
    got = {(json.dumps(s["prompt"]), s["completion"]) for s in samples}
    assert got == expected
    for s in samples:  # each later-turn problem states the conversation so far
        question = pid[s["problem_id"]]["question"]
        last_user = [m for m in s["prompt"] if m["role"] == "user"][-1]["content"]
        assert question.rstrip().endswith(last_user.strip())


def test_content_parts_keep_reasoning_and_system(shared, tmp_path, monkeypatch):
    problems, samples, _ = ingested(COMMANDS["reason-tool"], shared, monkeypatch)
    first = rows("llamafactory/reason_tool_use_demo.jsonl")[0]["messages"]
    [sample] = [s for s in samples if s["prompt"][-1]["content"] == first[1]["content"][0]["value"]]
    assert sample["prompt"][0] == {"role": "system", "content": first[0]["content"][0]["value"]}
    assert sample["reasoning"] == first[2]["content"][0]["value"].strip()
    assert sample["final"] == first[2]["content"][1]["value"].strip()


def test_numinamath_messages_sample_and_extracted_answer(shared, tmp_path, monkeypatch):
    problems, samples, _ = ingested(COMMANDS["numinamath-cot"], shared, monkeypatch)
    for record in rows("hf_first_rows/numinamath_cot.jsonl"):
        [problem] = [p for p in problems if p["question"] == record["problem"]]
        [sample] = [s for s in samples if s["problem_id"] == problem["problem_id"]]
        assert sample["completion"] == record["messages"][1]["content"]
        assert problem["solution"] == record["solution"]
        assert sample["extracted_answer"] == problem["answer"]


# --- code ---------------------------------------------------------------------------------

SOLUTIONS = json.loads((DATA / "sandboxfusion" / "solutions.json").read_text(encoding="utf-8"))


def _stored_tests(problem: dict[str, Any]) -> dict[str, Any]:
    return json.loads(problem["verifier_spec"])


def test_sandboxfusion_code_contests_tests_are_the_source_texts(shared, tmp_path, monkeypatch):
    problems, _, _ = ingested(COMMANDS["sf-code-contests"], shared, monkeypatch)
    for record in rows("sandboxfusion/code_contests.jsonl"):
        name = json.loads(record["labels"])["name"]
        [problem] = [p for p in problems if p["source_id"] == name]
        cases = json.loads(record["test"])
        assert _stored_tests(problem)["tests"] == [
            {"input": c["input"]["stdin"], "output": c["output"]["stdout"]} for c in cases
        ]


def _lcb_private(text: str) -> Any:
    """How LiveCodeBench itself reads the field (plain pickle: fine for our own check)."""
    return pickle.loads(zlib.decompress(base64.b64decode(text)))  # noqa: S301


def test_livecodebench_public_and_private_tests_all_kept(shared, tmp_path, monkeypatch):
    problems, _, _ = ingested(COMMANDS["livecodebench"], shared, monkeypatch)
    [record] = rows("livecodebench/code_generation_lite.jsonl")
    [problem] = problems
    private = json.loads(_lcb_private(record["private_test_cases"]))
    cases = record["public_test_cases"] + private
    assert _stored_tests(problem)["tests"] == [
        {"input": c["input"], "output": c["output"]} for c in cases
    ]
    assert problem["source_id"] == "1873_A" and problem["task"] == "easy"


def test_sandboxfusion_livecodebench_function_call_arguments_are_values(
    shared, tmp_path, monkeypatch
):
    problems, _, _ = ingested(COMMANDS["sf-livecodebench"], shared, monkeypatch)
    [leetcode] = [p for p in problems if p["source_id"] == "leetcode/2727"]
    spec = _stored_tests(leetcode)
    assert spec["fn_name"] == "countSeniors"
    first = spec["tests"][0]
    assert first == {"args": [["7868190130M7522", "5303914400F9211", "9273338290F4010"]],
                     "expected": 2}  # fmt: skip


@needs_bwrap
@pytest.mark.parametrize(
    "source, key, sid",
    [
        ("sf-livecodebench", "1", "codeforces/1873_A"),
        ("sf-livecodebench", "10", "leetcode/2727"),
        ("sf-livecodebench", "191", "atcoder/abc301_a"),
        ("livecodebench", "1", "1873_A"),
    ],
)
def test_real_solutions_pass_and_real_wrong_ones_fail(
    shared, source, key, sid, tmp_path, monkeypatch
):
    problems, _, _ = ingested(COMMANDS[source], shared, monkeypatch)
    [problem] = [p for p in problems if p["source_id"] == sid]
    solutions = SOLUTIONS["live_code_bench_v1"][key]
    accepted = verdict(problem, solutions["passed"])
    assert accepted.passed and accepted.reason == "ok", accepted
    rejected = verdict(problem, solutions["failed"])
    assert not rejected.passed and rejected.reason == "wrong", rejected


@needs_bwrap
def test_code_contests_real_wrong_solution_fails(shared, tmp_path, monkeypatch):
    problems, _, _ = ingested(COMMANDS["sf-code-contests"], shared, monkeypatch)
    [problem] = [p for p in problems if p["source_id"] == "12_B. Correct Solution?"]
    result = verdict(problem, SOLUTIONS["code_contests"]["17"]["failed"])
    assert not result.passed and result.reason == "wrong"
    assert 0 < result.score < 1  # it passes most cases: the comparison is per case


# --- assertion-code tests: KodCode pytest, MBPP asserts, HumanEval check -----------------

KODCODE_FAILED = json.loads((DATA / "kodcode" / "solutions.json").read_text(encoding="utf-8"))


def _fenced(code: str) -> str:
    return f"```python\n{code}\n```"


@needs_bwrap
@pytest.mark.parametrize("source", ["kodcode", "kodcode-r1"])
def test_kodcode_reference_solutions_pass_and_real_failed_trials_fail(
    shared, source, monkeypatch
):
    problems, _, _ = ingested(COMMANDS[source], shared, monkeypatch)
    assert len(problems) == 2
    checked = 0
    for problem in problems:
        assert _stored_tests(problem)["assert"]["style"] == "pytest"
        accepted = verdict(problem, _fenced(problem["solution"]))
        assert accepted.passed and accepted.reason == "ok", accepted
        assert accepted.detail["checks_open"] == 0 and accepted.detail["checks_sealed"] > 0
        failed = KODCODE_FAILED.get(problem["source_id"].removesuffix("_I"))
        if failed is not None:  # a trial KodCode's own pytest run marked "Fail"
            rejected = verdict(problem, _fenced(failed["failed"]))
            assert not rejected.passed and rejected.reason in ("wrong", "runtime_error"), rejected
            checked += 1
    assert checked >= 1


@needs_bwrap
def test_kodcode_r1_solutions_get_kodcodes_own_correctness_label(shared, monkeypatch):
    problems, _, _ = ingested(COMMANDS["kodcode-r1"], shared, monkeypatch)
    by_id = {r["question_id"]: r for r in rows("kodcode/sft_r1_algorithm.json")}
    labels = set()
    for problem in problems:
        record = by_id[problem["source_id"]]
        result = verdict(problem, _fenced(record["r1_solution"]))
        assert result.passed is (record["r1_correctness"] == "True"), (record["question_id"], result)
        labels.add(record["r1_correctness"])
    assert labels == {"True", "False"}  # 00000056: R1 raises TypeError where ValueError is tested


@needs_bwrap
def test_mbpp_reference_code_passes_with_setup_and_challenge_tests(shared, monkeypatch):
    problems, _, _ = ingested(COMMANDS["mbpp"], shared, monkeypatch)
    by_id = {str(r["task_id"]): r for r in rows("mbpp/mbpp.jsonl")}
    assert {p["source_id"] for p in problems} == set(by_id)
    for problem in problems:
        record = by_id[problem["source_id"]]
        spec = _stored_tests(problem)["assert"]
        assert spec["asserts"] == record["test_list"] + record["challenge_test_list"]
        assert record["test_list"][0] in problem["question"]
        accepted = verdict(problem, _fenced(record["code"]))
        assert accepted.passed, accepted
        if record["test_setup_code"].strip():  # task 367: the setup builds trees of Node
            assert "setup" in spec
            wrong = record["code"].replace("return True", "return False")
            assert wrong != record["code"]
            assert not verdict(problem, _fenced(wrong)).passed


@needs_bwrap
def test_humaneval_canonical_solutions_pass_after_the_prompt(shared, monkeypatch):
    problems, _, _ = ingested(COMMANDS["humaneval"], shared, monkeypatch)
    by_id = {r["task_id"]: r for r in rows("humaneval/humaneval.jsonl")}
    assert {p["source_id"] for p in problems} == set(by_id)
    for problem in problems:
        record = by_id[problem["source_id"]]
        spec = _stored_tests(problem)["assert"]
        assert spec["style"] == "check" and spec["entry_point"] == record["entry_point"]
        assert spec["prelude"] == record["prompt"]
        assert verdict(problem, _fenced(record["prompt"] + record["canonical_solution"])).passed
        # only the body, as HumanEval's completions are: it continues the prompt
        assert verdict(problem, _fenced(record["canonical_solution"])).passed
        assert not verdict(problem, _fenced("    return None")).passed


@needs_bwrap
def test_mapcoder_responses_get_the_verdicts_mapcoder_gave_them(shared, monkeypatch):
    problems, _, _ = ingested(COMMANDS["mbpp-typed"], shared, monkeypatch)
    by_id = {r["task_id"]: r for r in rows("mapcoder/mbpp_typed.jsonl")}
    assert {p["source_id"] for p in problems} == set(by_id)
    labels = set()
    for problem in problems:
        record = by_id[problem["source_id"]]
        result = verdict(problem, _fenced(record["source_codes"][0]))
        assert result.passed is record["is_solved"], (problem["source_id"], result)
        labels.add(record["is_solved"])
    assert labels == {True, False}
