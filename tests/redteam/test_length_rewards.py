"""Length rewards resist padding, truncation and hedging (cases in ``length_cases.py``)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

_spec = importlib.util.spec_from_file_location(
    "redteam_length_cases", Path(__file__).with_name("length_cases.py")
)
assert _spec is not None and _spec.loader is not None
length_cases = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(length_cases)
CASES: list[dict[str, Any]] = length_cases.CASES


def test_case_ids_are_unique_and_complete():
    ids = [c["id"] for c in CASES]
    assert len(ids) == len(set(ids))
    for case in CASES:
        assert {"id", "reward", "batches", "attack", "control"} <= set(case), case["id"]


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_length_case_gets_its_rewards(case: dict[str, Any]) -> None:
    got = length_cases.run_case(case)
    want = length_cases.expected(case)
    assert length_cases.matches(got, want), (case["attack"], got, want)
