"""A small hand-made catalog for the build, export and trainer tests (not a test module).

Problems (graded levels for p1 and p3; p2 has only a source_level):

- p1 math/alpha (graded level 1): s1a pass 10 tok, s1b pass 20 tok, s1c fail 30 tok,
  s1d fail truncated 40 tok, s1e student pass 5 tok.
- p2 math/beta (source_level 3): s2a reference pass (no reasoning part); s2b fails at
  version "1" and passes at "2" (latest: pass); s2c passes at "1" and "1.9" but fails at
  "1.10" (latest: fail).
- p3 logic/alpha (graded level 2): s3a passes but truncated; s3b fails with
  verifier_error (infrastructure: never a negative).
- p4 math/alpha: dropped by dedup; s4a passes.
- p5 math/alpha: no verifier, no samples.
"""

from __future__ import annotations

from typing import Any

from tracemill.catalogs.ids import canonical_json
from tracemill.pipelines.verify import Verdict, register_verifier

PARAMS = canonical_json({"temperature": 0.6})


@register_verifier("tm_test_exact", "1")
def _varied(problem: Any, response: str) -> Verdict:
    """A toy verifier whose score varies with the text (so GRPO groups have variance)."""
    score = (len(response) % 7) / 6
    return Verdict(score > 0.5, score, "ok" if score > 0.5 else "wrong")


def _problem(pid: str, **kw: Any) -> dict[str, Any]:
    row = {
        "problem_id": pid,
        "source": "alpha",
        "domain": "math",
        "question": f"question {pid}",
        "answer": f"answer-{pid}",
        "verifier": "tm_test_exact",
        "license": "mit",
        "source_level": None,
        "verifier_spec": None,
    }
    # every row carries every key: conform() builds tables with pa.Table.from_pylist,
    # which takes its columns from the first row only
    row.update(kw)
    return row


def _sample(sid: str, pid: str, tokens: int, **kw: Any) -> dict[str, Any]:
    row = {
        "sample_id": sid,
        "problem_id": pid,
        "role": "teacher",
        "origin": "generate",
        "model": "teacher-a",
        "backend": "vllm",
        "params": PARAMS,
        "sample_index": int(sid[-1], 36),
        "completion": f"<think>reason {sid}</think>final {sid}",
        "reasoning": f"reason {sid}",
        "final": f"final {sid}",
        "completion_tokens": tokens,
        "finish_reason": "stop",
    }
    row.update(kw)
    return row


def _verdict(sid: str, pid: str, passed: bool, version: str = "1", **kw: Any) -> dict[str, Any]:
    row = {
        "sample_id": sid,
        "problem_id": pid,
        "verifier": "tm_test_exact",
        "verifier_version": version,
        "passed": passed,
        "score": 1.0 if passed else 0.0,
        "reason": "ok" if passed else "wrong",
    }
    row.update(kw)
    return row


def catalog_rows() -> dict[str, list[dict[str, Any]]]:
    """Rows of every table of the hand-made catalog."""
    problems = [
        _problem("p1"),
        _problem("p2", source="beta", license="cc-by-4.0", source_level=3),
        _problem("p3", domain="logic", verifier_spec=canonical_json({"k": 1})),
        _problem("p4"),
        _problem("p5", verifier=None),
    ]
    samples = [
        _sample("s1a", "p1", 10),
        _sample("s1b", "p1", 20, model="teacher-b"),
        _sample("s1c", "p1", 30),
        _sample("s1d", "p1", 40, finish_reason="length"),
        _sample("s1e", "p1", 5, role="student", model="student"),
        _sample(
            "s2a", "p2", 7, role="reference", origin="ingest:beta", model="reference",
            backend="ingest", completion="the answer is 4", reasoning=None, final=None,
            completion_tokens=None,
        ),
        _sample("s2b", "p2", 12),
        _sample("s2c", "p2", 15),
        _sample("s3a", "p3", 9, finish_reason="length"),
        _sample("s3b", "p3", 11),
        _sample("s4a", "p4", 3),
    ]
    verdicts = [
        _verdict("s1a", "p1", True),
        _verdict("s1b", "p1", True),
        _verdict("s1c", "p1", False),
        _verdict("s1d", "p1", False, reason="no_answer"),
        _verdict("s1e", "p1", True),
        _verdict("s2a", "p2", True),
        _verdict("s2b", "p2", False, "1"),
        _verdict("s2b", "p2", True, "2"),
        _verdict("s2c", "p2", True, "1"),
        _verdict("s2c", "p2", True, "1.9"),
        _verdict("s2c", "p2", False, "1.10"),
        _verdict("s3a", "p3", True),
        _verdict("s3b", "p3", False, reason="verifier_error"),
        _verdict("s4a", "p4", True),
    ]
    grades = [
        {
            "problem_id": pid, "grader_model": "student", "params_id": "g", "method": "fixed_k",
            "k": 4, "passes": passes, "pass_rate": passes / 4, "level": level,
        }
        for pid, passes, level in (("p1", 3, 1), ("p3", 1, 2))
    ]
    dedup = [
        {"problem_id": "p4", "method": "exact", "config_id": "c", "kept": False,
         "representative": "p1", "similarity": 1.0},
        {"problem_id": "p1", "method": "exact", "config_id": "c", "kept": True},
        {"problem_id": "p2", "method": "decontam", "config_id": "d", "kept": True},
    ]
    return {
        "problems": problems,
        "samples": samples,
        "verdicts": verdicts,
        "grades": grades,
        "dedup": dedup,
    }


def fill_catalog(store: Any) -> None:
    """Append the hand-made rows to an open catalog store."""
    store.append(catalog_rows())
