"""Every red-team case gets its labelled verdict (see README.md in this folder)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent


def load_cases(folder: Path = HERE) -> list[dict[str, Any]]:
    """All cases of every ``cases_*.py`` module in ``folder`` (ids checked unique)."""
    cases: list[dict[str, Any]] = []
    for path in sorted(folder.glob("cases_*.py")):
        spec = importlib.util.spec_from_file_location(f"redteam_{path.stem}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        cases.extend(module.CASES)
    ids = [c["id"] for c in cases]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    assert not dupes, f"duplicate red-team case ids: {dupes}"
    for c in cases:
        missing = {"id", "verifier", "problem", "response", "passed", "attack"} - set(c)
        assert not missing, f"case {c.get('id')!r} lacks {sorted(missing)}"
    return cases


CASES = load_cases()


@pytest.fixture(scope="module", autouse=True)
def _one_worker_pool():
    """One verifier pool for every case (not a pool started per pooled case)."""
    from tracemill.pipelines.verify import verifier_pool

    with verifier_pool(2):
        yield


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_case_gets_its_labelled_verdict(case: dict[str, Any]) -> None:
    from tracemill.pipelines.verify import verify_one

    _, verdict = verify_one(case["verifier"], case["problem"], case["response"])
    assert verdict.passed is case["passed"], (case["attack"], verdict)
    if case.get("reason") is not None:
        assert verdict.reason == case["reason"], (case["attack"], verdict)
