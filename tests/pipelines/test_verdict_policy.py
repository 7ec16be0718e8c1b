"""The verdict policy: the primary verifier decides, audits never veto, infra is no negative."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tracemill.catalogs.views import (
    base_version,
    retry_attempt,
    retry_version,
    sample_status_sql,
    verdict_disagreements_sql,
)
from tracemill.pipelines.build import build_dataset, read_dataset


def _problem(pid: str, verifier: str | None = "math") -> dict[str, Any]:
    return {
        "problem_id": pid, "source": "t", "domain": "math", "question": f"q {pid}",
        "answer": "4", "verifier": verifier, "verifier_spec": None,
    }  # fmt: skip


def _sample(sid: str, pid: str) -> dict[str, Any]:
    return {
        "sample_id": sid, "problem_id": pid, "role": "teacher", "origin": "generate",
        "model": "m", "backend": "fake", "params": "{}", "sample_index": 0,
        "completion": f"answer of {sid} is \\boxed{{4}}", "completion_tokens": 10,
        "finish_reason": "stop",
    }  # fmt: skip


def _verdict(
    sid: str, pid: str, verifier: str, passed: bool, reason: str | None = None,
    version: str = "1", detail: dict[str, Any] | None = None,
) -> dict[str, Any]:  # fmt: skip
    return {
        "sample_id": sid, "problem_id": pid, "verifier": verifier,
        "verifier_version": version, "passed": passed, "score": 1.0 if passed else 0.0,
        "reason": reason or ("ok" if passed else "wrong"), "detail": json.dumps(detail or {}),
    }  # fmt: skip


def _status(store: Any, **kw: Any) -> dict[str, dict[str, Any]]:
    return {r["sample_id"]: r for r in store.sql(sample_status_sql(**kw)).to_pylist()}


def _accepted(status: dict[str, Any]) -> tuple[bool, bool, bool]:
    return status["passed"], status["negative"], status["infra_failure"]


CASES: list[
    tuple[
        str,
        list[tuple[str, bool, str | None, str, dict[str, Any] | None]],
        str | None,
        tuple[bool, bool, bool],
    ]
] = [  # fmt: skip
    # (sample, [(verifier, passed, reason, version, detail)], problem verifier, expected)
    (
        "audit-fails",
        [("math", True, None, "1", None), ("numeric", False, None, "1", None)],
        "math",
        (True, False, False),
    ),
    (
        "audit-passes",
        [("math", False, None, "1", None), ("judge", True, None, "2-p2", None)],
        "math",
        (False, True, False),
    ),
    (
        "judge-error-audit",
        [("math", True, None, "1", None), ("judge", False, "judge_error", "2-p2", None)],
        "math",
        (True, False, False),
    ),
    (
        "primary-judge-error",
        [("judge", False, "judge_error", "2-p2", None)],
        "judge",
        (False, False, True),
    ),
    (
        "primary-sandbox-error",
        [("code", False, "sandbox_error", "1", None), ("math", True, None, "1", None)],
        "code",
        (False, False, True),
    ),
    ("primary-timeout", [("math", False, "timeout", "1", None)], "math", (False, False, True)),
    ("only-audits", [("numeric", True, None, "1", None)], "math", (False, False, False)),
    (
        "fallback-pass",
        [
            ("math", False, "no_answer", "1", None),
            ("judge", True, None, "2-p2", {"fallback_for": "math"}),
        ],
        "math",
        (True, False, False),
    ),
    (
        "fallback-fail",
        [
            ("math", False, "no_answer", "1", None),
            ("judge", False, None, "2-p2", {"fallback_for": "math"}),
        ],
        "math",
        (False, True, False),
    ),
    # an erroring fallback leaves the primary's no_answer in charge
    (
        "fallback-error",
        [
            ("math", False, "no_answer", "1", None),
            ("judge", False, "judge_error", "2-p2", {"fallback_for": "math"}),
        ],
        "math",
        (False, True, False),
    ),
    # a judge verdict not recorded as this primary's fallback stays an audit
    (
        "unmarked-judge",
        [("math", False, "no_answer", "1", None), ("judge", True, None, "2-p2", None)],
        "math",
        (False, True, False),
    ),
    (
        "fallback-for-other",
        [
            ("math", False, "no_answer", "1", None),
            ("judge", True, None, "2-p2", {"fallback_for": "numeric"}),
        ],
        "math",
        (False, True, False),
    ),
    # the primary answered (wrong): the fallback does not apply
    (
        "fallback-not-needed",
        [("math", False, None, "1", None), ("judge", True, None, "2-p2", {"fallback_for": "math"})],
        "math",
        (False, True, False),
    ),
    (
        "retry-passes",
        [("math", False, "timeout", "3", None), ("math", True, None, "3+retry1", None)],
        "math",
        (True, False, False),
    ),
    (
        "second-retry-wins",
        [
            ("math", False, "timeout", "3", None),
            ("math", True, None, "3+retry1", None),
            ("math", False, None, "3+retry2", None),
        ],
        "math",
        (False, True, False),
    ),
    (
        "new-version-beats-retry",
        [("math", True, None, "3+retry9", None), ("math", False, None, "4", None)],
        "math",
        (False, True, False),
    ),
    (
        "no-verifier-all-decide",
        [("judge", True, None, "2-p2", None), ("numeric", False, None, "1", None)],
        None,
        (False, True, False),
    ),
    (
        "no-verifier-infra-ignored",
        [("judge", True, None, "2-p2", None), ("numeric", False, "verifier_error", "1", None)],
        None,
        (True, False, False),
    ),
]


def _fill(store: Any) -> None:
    problems, samples, verdicts = [], [], []
    for sid, rows, verifier, _ in CASES:
        pid = f"p-{sid}"
        problems.append(_problem(pid, verifier))
        samples.append(_sample(sid, pid))
        for name, passed, reason, version, detail in rows:
            verdicts.append(_verdict(sid, pid, name, passed, reason, version, detail))
    store.append({"problems": problems, "samples": samples, "verdicts": verdicts})


@pytest.fixture
def policy_catalog(catalog: Any) -> Any:
    _fill(catalog)
    return catalog


def test_every_policy_case(policy_catalog):
    status = _status(policy_catalog)
    got = {sid: _accepted(status[sid]) for sid, *_ in CASES}
    assert got == {sid: expected for sid, _, _, expected in CASES}
    assert status["fallback-pass"]["decided_by"] == "judge@2-p2"
    assert status["audit-fails"]["decided_by"] == "math@1"
    assert status["audit-fails"]["audits_disagree"] is True
    assert status["judge-error-audit"]["audits_disagree"] is False
    assert status["only-audits"]["reason"] == "no_primary_verdict"
    assert status["primary-judge-error"]["reason"] == "judge_error"
    assert status["retry-passes"]["decided_by"] == "math@3+retry1"


def test_timeouts_are_negatives_only_when_asked(policy_catalog):
    status = _status(policy_catalog, timeouts_negative=True)
    assert _accepted(status["primary-timeout"]) == (False, True, False)
    assert _accepted(status["primary-judge-error"]) == (False, False, True)


def test_disagreements_leave_infrastructure_failures_out(policy_catalog):
    rows = {r["sample_id"]: r for r in policy_catalog.sql(verdict_disagreements_sql()).to_pylist()}
    assert rows["audit-fails"]["passed_verifiers"] == ["math"]
    assert rows["audit-fails"]["failed_verifiers"] == ["numeric"]
    assert rows["audit-fails"]["accepted"] is True
    assert rows["audit-fails"]["primary_verifier"] == "math"
    assert rows["fallback-pass"]["accepted"] is True
    assert "judge-error-audit" not in rows and "primary-sandbox-error" not in rows
    assert "retry-passes" not in rows  # one verifier, its latest row only


def test_retry_versions():
    assert retry_version("3", 1) == "3+retry1"
    assert retry_version("3+retry1", 2) == "3+retry2"
    assert base_version("1-p2+retry4") == "1-p2" and retry_attempt("1-p2+retry4") == 4
    assert retry_attempt("3") == 0
    with pytest.raises(ValueError):
        retry_version("3", 0)


def test_audits_and_judge_errors_do_not_shrink_builds(catalog):
    """Regression: 26 problems, an audit verifier and an erroring judge kept only 16."""
    problems, samples, verdicts = [], [], []
    for i in range(26):
        pid, sid = f"p{i:02d}", f"s{i:02d}"
        problems.append(_problem(pid))
        samples.append(_sample(sid, pid))
        verdicts.append(_verdict(sid, pid, "math", True))
        if i < 6:  # the audit disagrees with math on six samples
            verdicts.append(_verdict(sid, pid, "numeric", False))
        elif i < 10:  # and the judge could not be reached on four
            verdicts.append(_verdict(sid, pid, "judge", False, "judge_error", "2-p2"))
    catalog.append({"problems": problems, "samples": samples, "verdicts": verdicts})
    built = build_dataset(catalog, "sft", "all")
    assert built.rows == 26
    assert len(set(read_dataset(catalog, "all").column("problem_id").to_pylist())) == 26
    # and none of them is a negative for pairs
    assert build_dataset(catalog, "pairs", "pairs").rows == 0


def test_pairs_negatives_follow_the_primary(policy_catalog):
    build_dataset(policy_catalog, "pairs", "p0", {"roles": None})
    assert read_dataset(policy_catalog, "p0").num_rows == 0  # one sample per problem
    extra = [_sample("audit-fails-2", "p-audit-fails"), _sample("timeout-2", "p-primary-timeout")]
    policy_catalog.append(
        {
            "samples": extra,
            "verdicts": [
                _verdict("audit-fails-2", "p-audit-fails", "math", False),
                _verdict("timeout-2", "p-primary-timeout", "math", True),
            ],
        }
    )
    build_dataset(policy_catalog, "pairs", "p1")
    rows = read_dataset(policy_catalog, "p1").to_pylist()
    assert [(r["chosen_sample_id"], r["rejected_sample_id"]) for r in rows] == [
        ("audit-fails", "audit-fails-2")
    ]
    build_dataset(policy_catalog, "pairs", "p2", {"timeouts_negative": True})
    got = {(r["chosen_sample_id"], r["rejected_sample_id"])
           for r in read_dataset(policy_catalog, "p2").to_pylist()}  # fmt: skip
    assert got == {("audit-fails", "audit-fails-2"), ("timeout-2", "primary-timeout")}


def test_verdict_detail_that_is_not_json_is_no_fallback(catalog):
    catalog.append(
        {
            "problems": [_problem("p")],
            "samples": [_sample("s", "p")],
            "verdicts": [
                _verdict("s", "p", "math", False, "no_answer"),
                {**_verdict("s", "p", "judge", True, None, "2-p2"), "detail": "fallback_for math"},
            ],
        }
    )
    assert _accepted(_status(catalog)["s"]) == (False, True, False)


def test_a_build_can_name_the_primary_verifier(policy_catalog):
    """Samples verified with ``--verifier numeric`` on math problems: numeric decides if asked."""
    build_dataset(policy_catalog, "sft", "own", {"per_problem": None})
    own = set(read_dataset(policy_catalog, "own").column("sample_id").to_pylist())
    assert "audit-fails" in own and "only-audits" not in own
    build_dataset(policy_catalog, "sft", "num", {"per_problem": None, "primary_verifier": "numeric"})
    num = set(read_dataset(policy_catalog, "num").column("sample_id").to_pylist())
    assert "only-audits" in num and "audit-fails" not in num
    status = _status(policy_catalog, primary="numeric")
    assert status["audit-fails"]["negative"] and status["audit-fails"]["decided_by"] == "numeric@1"
