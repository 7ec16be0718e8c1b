"""Held-out answer styles and real model responses, read by the family verifiers.

The styles (``heldout_answers.py``) copy layouts of real model outputs and were written
apart from the tuned ones (``answer_styles.py``); the real responses
(``tests/data/logic_responses``) are reasoning-gym-eval completions and BIG-Bench
Hard predictions with their source's own label. This test keeps their current state:
every held-out style of every family is accepted (``KNOWN_MISSES`` lists any that are
not, with the reason), no corrupted, hedged or corrected-to-wrong answer passes, and
every real response gets the recorded verdict. ``benchmarks/answer_styles.py --set
heldout-a|heldout-b|real`` prints the same figures over more levels.
"""

from __future__ import annotations

import gzip
import json
from collections import Counter, defaultdict
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from tracemill.pipelines.synth import generate_problems, task_names
from tracemill.pipelines.verify import get_verifier

from tests.pipelines import heldout_answers as heldout

LEVELS = (2, 7)
SEED = 20251
REAL = Path(__file__).resolve().parents[1] / "data" / "logic_responses"

KNOWN_MISSES: dict[tuple[str, str], set[str]] = {}
"""(batch, family) → held-out styles not accepted today (none)."""

POLICY_DISAGREEMENTS = {
    "rg/hard/deepseek_deepseek-r1_20250408_155914/caesar_cipher/36/0": (
        "ok",
        "a final period after the plaintext; reasoning-gym's similarity score docks it",
    ),
    "rg/easy/deepseek_deepseek-r1_20250315_181530/cryptarithm/20/0": (
        "ok",
        "another valid solution (9753 + 2815 + 15505 = 28073); reasoning-gym wants its own",
    ),
    "rg/hard/meta-llama_llama-4-maverick_20250412_150802/puzzle24/8/0": (
        "ambiguous",
        "two different tagged expressions; reasoning-gym takes the last, tracemill calls it a "
        "hedge (red team: sudoku/two-tags)",
    ),
}
"""Real responses whose verdict differs from the source label, by policy (id → reason, why)."""

UNLABELLED = {
    "cipher": {"format": 1, "no_answer": 12, "wrong": 1},
    "cryptarithm": {"ambiguous": 5, "format": 1, "no_answer": 1, "wrong": 7},
    "date_arithmetic": {"ok": 6, "wrong": 3},
    "futoshiki": {"format": 1, "no_answer": 6, "wrong": 7},
    "game_of_24": {"ambiguous": 1, "no_answer": 1, "ok": 7, "wrong": 5},
    "knights_and_knaves": {"ok": 7, "wrong": 4},
    "number_sequence": {"ok": 13, "wrong": 1},
    "sudoku": {"format": 1, "no_answer": 1, "ok": 4, "wrong": 8},
    "word_sorting": {"ok": 12, "wrong": 2},
}
"""Verdicts of the real responses without a source label (no answer tag), reviewed by hand:
every ``ok`` holds the expected answer or another valid one (game_of_24), and none of the
others states the expected answer in its last 1500 characters."""


@cache
def _rows(family: str) -> tuple[dict[str, Any], ...]:
    return tuple(
        row
        for level in LEVELS
        for row in generate_problems(family, 1, level=level, seed=SEED).to_pylist()
    )


@pytest.mark.parametrize("batch", ["a", "b", "c"])
@pytest.mark.parametrize("family", task_names(source="tracemill"))
def test_heldout_styles_are_accepted(family: str, batch: str) -> None:
    """Every held-out style of the reference answer passes (bar the listed misses)."""
    verify = get_verifier(family)
    missed: Counter[str] = Counter()
    names: set[str] = set()
    total = 0
    for row in _rows(family):
        for name, response in heldout.styles(family, row, batch):
            names.add(name)
            total += 1
            verdict = verify(row, response)
            if not verdict.passed:
                missed[name] += 1
    assert set(missed) == KNOWN_MISSES.get((batch, family), set()), dict(missed)
    assert len(names) >= (8 if batch == "a" else 5)
    assert 1 - sum(missed.values()) / total >= 0.9


@pytest.mark.parametrize("batch", ["a", "b", "c"])
@pytest.mark.parametrize("family", task_names(source="tracemill"))
def test_heldout_corrupted_answers_never_pass(family: str, batch: str) -> None:
    """Wrong answers in every style, hedges, corrections to a wrong answer, shape changes."""
    verify = get_verifier(family)
    passed = [
        name
        for row in _rows(family)
        for name, response in heldout.corrupted(family, row, batch)
        if verify(row, response).passed
    ]
    assert passed == []


@pytest.mark.parametrize("family", ["sudoku", "zebra_puzzle", "word_ladder", "sat"])
def test_a_correction_to_the_right_answer_is_ambiguous(family: str) -> None:
    """Policy: two different tagged answers are a hedge even when the last one is right."""
    row = _rows(family)[0]
    ((_, response),) = heldout.policy_cases(family, row)
    assert get_verifier(family)(row, response).reason == "ambiguous"


def _real_rows() -> list[dict[str, Any]]:
    with gzip.open(REAL / "responses.jsonl.gz", "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def test_real_responses_agree_with_their_source() -> None:
    """Real completions and predictions: verdicts match the source's label, bar policy."""
    rows = _real_rows()
    unlabelled: dict[str, Counter[str]] = defaultdict(Counter)
    disagreements = {}
    right: Counter[str] = Counter()
    right_ok: Counter[str] = Counter()
    for row in rows:
        verdict = get_verifier(row["family"])(row, row["response"])
        label = row["source_label"]
        if label is None:
            unlabelled[row["family"]][verdict.reason] += 1
        elif verdict.passed != label:
            disagreements[row["id"]] = verdict.reason
        if label:
            right[row["family"]] += 1
            right_ok[row["family"]] += verdict.passed
    assert disagreements == {k: v[0] for k, v in POLICY_DISAGREEMENTS.items()}
    assert {k: dict(v) for k, v in unlabelled.items()} == UNLABELLED
    assert all(right_ok[f] / right[f] >= 0.9 for f in right), dict(right_ok)
    assert len(rows) > 400 and len(right) >= 12
