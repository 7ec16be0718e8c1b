"""Peer graders' own equivalence cases plus ours (``math_equivalence_cases.py``).

Every case gets its recorded verdict reason; agreement with the peers' labels, where a
label is not a documented policy choice, stays at 97 % or more; every disagreement
carries its reason.
"""

from __future__ import annotations

import json

import pytest
from tracemill.pipelines.verify.math_answer import check_math, compare_answers, config_from_spec
from tracemill.pipelines.verify.registry import Verdict

from tests.pipelines.math_equivalence_cases import OWN_CASES, PEER_CASES, Case

ALL = [*PEER_CASES, *OWN_CASES]


def run_case(case: Case) -> Verdict:
    """The verdict tracemill gives one case."""
    cfg = config_from_spec(json.dumps(case.spec) if case.spec else None)
    if case.level == "answer":
        return compare_answers(case.ref, case.resp, cfg, case.question)
    return check_math(case.ref, case.resp or "", cfg, case.question)


@pytest.fixture(scope="module")
def verdicts() -> list[Verdict]:
    """Verdicts of every case, computed once."""
    return [run_case(c) for c in ALL]


def _id(case: Case) -> str:
    text = f"{case.src}:{case.ref!s:.25}|{case.resp!s:.25}"
    return text.replace("\n", " ")


@pytest.mark.parametrize("index", range(len(ALL)), ids=[_id(c) for c in ALL])
def test_case_gets_its_recorded_reason(verdicts, index):
    case, verdict = ALL[index], verdicts[index]
    assert verdict.reason == case.want, (case, verdict)
    assert verdict.passed is (case.want == "ok")


def test_table_is_large_and_documented():
    assert len(ALL) >= 400
    assert len(PEER_CASES) >= 300
    assert {c.src for c in PEER_CASES} == {
        "math-verify",
        "nemo-skills",
        "skythought",
        "hendrycks-math",
    }
    assert sum(c.want != "ok" for c in ALL) >= 120  # negatives, not only positives
    keys = [(c.src, c.test, c.ref, c.resp, c.level, c.question, str(c.spec)) for c in ALL]
    assert len(set(keys)) >= len(keys) - 10  # Math-Verify repeats a few of its own cases


def test_every_disagreement_with_a_peer_is_explained():
    for case in PEER_CASES:
        disagrees = (case.want == "ok") != case.peer
        assert disagrees == (case.why is not None), case
        if case.why:
            assert case.why.startswith(("policy:", "bug:")), case


def test_agreement_with_peers_outside_policy_is_at_least_97_percent():
    counted = [c for c in PEER_CASES if not (c.why or "").startswith("policy:")]
    agree = sum((c.want == "ok") == c.peer for c in counted)
    assert agree / len(counted) >= 0.97, (agree, len(counted))


def test_no_false_accepts_among_labelled_inequivalent_pairs():
    """No pair a peer labels inequivalent (its label not a policy of its own) is accepted."""
    for case in ALL:
        truth = case.peer if case.peer is not None else case.want == "ok"
        if not truth and not (case.why or "").startswith("policy:"):
            assert case.want != "ok", case
