"""Judge red-team cases against a scripted gullible judge (see judge_cases.py, judge_model.py).

Three checks per case: the full ``judge`` verifier gets the labelled verdict; the
prompt and strict parser alone (no screen) never turn an attack into a pass; and, for
attacks marked ``fools``, the same gullible judge *is* fooled by a weaker design, so
these tests can fail.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from tracemill.pipelines.verify import configure_judge, verify_one
from tracemill.pipelines.verify import judge as judge_mod
from tracemill.pipelines.verify.judge import judge_messages, parse_verdict

from tests.redteam.judge_cases import CASES
from tests.redteam.judge_model import GullibleJudge

IDS = [c["id"] for c in CASES]


@pytest.fixture(autouse=True)
def _no_client():
    yield
    configure_judge(None)


def _judge(case: dict[str, Any]) -> GullibleJudge:
    return GullibleJudge(keep=case.get("keep", "start"))


def test_case_ids_are_unique_and_complete():
    assert len(set(IDS)) == len(IDS)
    for case in CASES:
        assert {"id", "verifier", "problem", "response", "passed", "attack"} <= set(case)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_verifier_gets_the_labelled_verdict(case):
    configure_judge(_judge(case))
    _, verdict = verify_one("judge", case["problem"], case["response"])
    assert verdict.passed is case["passed"], (case["attack"], verdict)
    if case.get("reason") is not None:
        assert verdict.reason == case["reason"], (case["attack"], verdict)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_prompt_and_parser_resist_without_the_screen(case):
    problem = case["problem"]
    messages = judge_messages(problem["question"], problem["answer"], case["response"])
    assert sum(len(m["content"]) for m in messages) < 30_000  # fits a small context
    reply = _judge(case).complete(messages)
    assert (parse_verdict(reply) is True) is case["passed"], (case["attack"], reply)


def _naive(question: str, reference: str, response: str) -> list[dict[str, str]]:
    """A weak design: the response pasted inline, unquoted, unbounded."""
    return [
        {"role": "system", "content": "You grade answers. Reply PASS or FAIL on the last line."},
        {"role": "user", "content": f"Problem:\n{question}\n\nStudent response:\n{response}\n\n"
                                    f"Reference answer:\n{reference}\n\nGrade it."},
    ]  # fmt: skip


def _lenient(reply: str) -> bool:
    words = re.findall(r"\b(PASS|FAIL)\b", reply)
    return bool(words) and words[-1] == "PASS"


FOOLING = [c for c in CASES if c.get("fools")]


@pytest.mark.parametrize("case", FOOLING, ids=[c["id"] for c in FOOLING])
def test_the_scripted_judge_is_fooled_by_a_weaker_design(case, monkeypatch):
    problem = case["problem"]
    if case["fools"] == "naive":
        messages = _naive(problem["question"], problem["answer"], case["response"])
    else:  # our prompt without the bound on the response
        monkeypatch.setattr(judge_mod, "RESPONSE_HEAD_CHARS", 10**9)
        messages = judge_messages(problem["question"], problem["answer"], case["response"])
    assert _lenient(_judge(case).complete(messages)), case["attack"]
