"""Red-team cases for the ``math`` verifier (see README.md); honest controls included."""

from __future__ import annotations

from typing import Any


def _p(answer: str) -> dict[str, Any]:
    return {"domain": "math", "question": "Compute the value.", "answer": answer,
            "verifier": "math", "verifier_spec": None}


CASES: list[dict[str, Any]] = [
    {"id": "math/control-boxed", "verifier": "math", "problem": _p("4"),
     "response": "Adding gives \\boxed{4}.", "passed": True, "attack": "honest control"},
    {"id": "math/wrong-value", "verifier": "math", "problem": _p("4"),
     "response": "So the answer is \\boxed{5}.", "passed": False, "attack": "plain wrong"},
]
