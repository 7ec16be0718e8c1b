"""verify_table over a small mixed table."""

import json
import shutil

import pyarrow as pa
import pytest
from tracemill.catalogs import table_spec
from tracemill.pipelines.verify import NO_VERIFIER, configure_judge, get_verifier, verify_table

PROBLEMS = pa.table(
    {
        "problem_id": ["m", "c", "n", "j", "x", "u"],
        "question": ["1+1?", "add", "capital?", "2+2?", "free text", "?"],
        "answer": ["2", None, "Paris", "4", "x", "1"],
        "verifier": ["math", "code", "normalized", "judge", None, "no-such-verifier"],
        "verifier_spec": [
            None,
            json.dumps({"tests": [{"input": "1 2", "output": "3"}], "time_limit_s": 1}),
            None,
            None,
            None,
            None,
        ],
    }
)
CODE = "```python\na, b = map(int, input().split())\nprint(a + b)\n```"
SAMPLES = [
    ("s0", "m", "\\boxed{2}"),
    ("s1", "m", "\\boxed{3}"),
    ("s2", "c", CODE),
    ("s3", "n", "<think>hmm</think>\\boxed{paris}"),
    ("s4", "j", "\\boxed{four}"),
    ("s5", "x", "x"),
    ("s6", "u", "1"),
    ("s7", "missing", "1"),
    ("s8", "m", None),
]


def samples_table(rows=SAMPLES):
    ids, pids, texts = zip(*rows, strict=True)
    return pa.table(
        {
            "sample_id": list(ids),
            "problem_id": list(pids),
            "completion": pa.array(list(texts), pa.string()),
        }
    )


class YesJudge:
    def complete(self, messages):
        return "They agree.\nVERDICT: PASS"


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap not installed")
def test_mixed_table():
    configure_judge(YesJudge())
    seen = []
    try:
        out = verify_table(PROBLEMS, samples_table(), workers=2, run_id="r1", progress=seen.append)
    finally:
        configure_judge(None)
    assert out.schema == table_spec("verdicts").schema
    rows = out.to_pylist()
    assert [r["sample_id"] for r in rows] == [s[0] for s in SAMPLES]
    got = [(r["verifier"], r["passed"], r["reason"]) for r in rows]
    assert got == [
        ("math", True, "ok"),
        ("math", False, "wrong"),
        ("code", True, "ok"),
        ("normalized", True, "ok"),
        ("judge", True, "ok"),
        (NO_VERIFIER, False, "no_reference"),
        ("no-such-verifier", False, "verifier_error"),
        (NO_VERIFIER, False, "no_reference"),
        ("math", False, "no_answer"),
    ]
    assert seen == list(range(1, len(SAMPLES) + 1))
    assert all(r["run_id"] == "r1" for r in rows)
    assert json.loads(rows[0]["detail"])["extracted"] == "2"
    assert rows[0]["verifier_version"] == get_verifier("math").version


def test_override_and_empty():
    out = verify_table(PROBLEMS, samples_table([("a", "n", "\\boxed{Paris}")]), verifier="exact")
    assert out.column("verifier").to_pylist() == ["exact"]
    assert out.column("passed").to_pylist() == [True]
    empty = verify_table(PROBLEMS, samples_table([("a", "n", "x")]).slice(0, 0))
    assert empty.num_rows == 0 and empty.schema == table_spec("verdicts").schema
