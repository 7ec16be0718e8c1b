"""The sample data under examples/: shape, distinctness, and correctness of references."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _load(name: str) -> list[dict]:
    lines = (EXAMPLES / name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _norm(text: str) -> str:
    return " ".join(text.split())


def _last_boxed(text: str) -> str:
    start = text.rindex("\\boxed{") + len("\\boxed{")
    depth, i = 1, start
    while depth:
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        i += 1
    return text[start : i - 1]


def _lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.strip().splitlines()]


def test_math_rows_shape_and_distinct():
    rows = _load("math.jsonl")
    assert len(rows) >= 200
    fields = {"id", "question", "answer", "solution", "topic", "level"}
    for row in rows:
        assert set(row) == fields, row["id"]
        assert row["id"].startswith("ex-math-")
        assert 1 <= row["level"] <= 5
        assert row["answer"].strip()
        assert "\\boxed{}" in row["question"]
        assert _last_boxed(row["solution"]) == row["answer"], row["id"]
    assert len({r["id"] for r in rows}) == len(rows)
    assert len({_norm(r["question"]) for r in rows}) == len(rows)
    assert len({r["topic"] for r in rows}) >= 15


def test_math_answers_parse_and_match_solutions():
    # math_verify uses signal.alarm for timeouts, so this must stay in the main thread.
    math_verify = pytest.importorskip("math_verify")
    for row in _load("math.jsonl"):
        gold = math_verify.parse(f"${row['answer']}$")
        assert gold, f"{row['id']}: unparseable answer {row['answer']!r}"
        boxed = math_verify.parse(f"$\\boxed{{{_last_boxed(row['solution'])}}}$")
        assert math_verify.verify(gold, boxed), row["id"]


def test_code_rows_shape_and_distinct():
    rows = _load("code.jsonl")
    assert len(rows) >= 20
    fields = {"id", "question", "test_cases", "solution", "difficulty"}
    for row in rows:
        assert set(row) == fields, row["id"]
        assert row["id"].startswith("ex-code-")
        assert row["difficulty"] in {"easy", "medium"}
        assert 4 <= len(row["test_cases"]) <= 8
        assert all(set(case) == {"input", "output"} for case in row["test_cases"])
        assert "Python 3" in row["question"]
    assert len({_norm(r["question"]) for r in rows}) == len(rows)


def _run(solution: str, stdin: str) -> str:
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", solution],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=10,
        check=True,
    )
    return done.stdout


def test_code_reference_solutions_pass_their_tests():
    jobs = [
        (row["id"], row["solution"], case["input"], case["output"])
        for row in _load("code.jsonl")
        for case in row["test_cases"]
    ]
    with ThreadPoolExecutor(max_workers=8) as pool:
        outs = list(pool.map(lambda job: _run(job[1], job[2]), jobs))
    failures = [
        (pid, stdin, got, want)
        for (pid, _, stdin, want), got in zip(jobs, outs, strict=True)
        if _lines(got) != _lines(want)
    ]
    assert not failures


def test_chat_rows_layout_and_negatives():
    math_verify = pytest.importorskip("math_verify")
    rows = _load("chat.jsonl")
    assert len(rows) == 12
    wrong = 0
    for row in rows:
        assert set(row) == {"messages", "model", "answer"}
        user, assistant = row["messages"]
        assert user["role"] == "user" and assistant["role"] == "assistant"
        content = assistant["content"]
        assert content.startswith("<think>") and "</think>\n\n" in content
        final = content.split("</think>", 1)[1]
        gold = math_verify.parse(f"${row['answer']}$")
        pred = math_verify.parse(f"$\\boxed{{{_last_boxed(final)}}}$")
        wrong += not math_verify.verify(gold, pred)
    assert 1 <= wrong < len(rows)


def test_openr1_rows_layout():
    rows = _load("openr1.jsonl")
    assert len(rows) == 10
    for row in rows:
        assert set(row) == {"problem", "solution", "answer", "uuid", "problem_type", "source"}
        assert _last_boxed(row["solution"]) == row["answer"]
    assert len({r["uuid"] for r in rows}) == len(rows)
