"""The ``judge`` verifier: a model decides whether the response's final answer matches.

The model client is injected (:func:`configure_judge`) through the :class:`JudgeClient`
protocol, so library code never downloads or picks a model; until one is configured,
the verifier returns ``judge_error``. It is used only when a problem's ``verifier`` is
``judge`` or a caller asks for it, and its verdicts are recorded under its own name and
version, never merged with rule verdicts.

The prompt is fixed; changing it bumps :data:`JUDGE_PROMPT_VERSION`, which is part of
the verifier version, so re-verification picks up the change. The reply is parsed
for a final ``YES``/``NO`` (or ``SCORE: x`` with x in [0, 1], passed at >= 0.5).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from tracemill.pipelines.extract import (
    MAX_ANSWER_CHARS,
    extract_answer,
    final_part,
    split_reasoning,
)
from tracemill.pipelines.verify.registry import Verdict, register_verifier

JUDGE_PROMPT_VERSION = "1"
JUDGE_VERSION = f"1-p{JUDGE_PROMPT_VERSION}"
PASS_SCORE = 0.5
FINAL_CHARS = 2000
"""Without an extractable answer, the judge sees this much of the end of the final part."""

SYSTEM_PROMPT = (
    "You are a strict grader. You compare a student's final answer with a reference "
    "answer to a problem and decide whether they are equivalent: the same value, set, "
    "expression or choice, allowing different but mathematically or semantically "
    "equivalent notation, units written differently and trivial formatting. Ignore the "
    "student's reasoning; judge only the final answer. Reply with a single word on the "
    "last line: YES if equivalent, NO otherwise."
)
USER_TEMPLATE = (
    "Problem:\n{question}\n\nReference answer:\n{reference}\n\n"
    "Student's final answer:\n{answer}\n\nAre they equivalent? Answer YES or NO."
)


@runtime_checkable
class JudgeClient(Protocol):
    """Anything that completes a chat: ``complete(messages) -> reply text``."""

    def complete(self, messages: Sequence[Mapping[str, str]]) -> str:
        """Return the model's reply to `messages` (dicts with ``role`` and ``content``)."""
        ...


_client: JudgeClient | None = None


def configure_judge(client: JudgeClient | None) -> None:
    """Set (or clear, with None) the client the ``judge`` verifier asks."""
    global _client
    _client = client


def judge_messages(question: str, reference: str, answer: str) -> list[dict[str, str]]:
    """The fixed, versioned judge prompt for one case."""
    user = USER_TEMPLATE.format(question=question, reference=reference, answer=answer)
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


_WORD = re.compile(r"\b(yes|no|equivalent|not\s+equivalent)\b", re.IGNORECASE)
_SCORE = re.compile(r"\bscore\s*[:=]\s*([01](?:\.\d+)?)\b", re.IGNORECASE)


def parse_judgement(reply: str) -> float | None:
    """1.0/0.0 for a YES/NO reply, the score for ``SCORE: x``, None when unreadable."""
    _, final = split_reasoning(reply or "")
    text = final.replace("*", "")
    scores = _SCORE.findall(text)
    if scores:
        value = float(scores[-1])
        return value if 0.0 <= value <= 1.0 else None
    words = _WORD.findall(text)
    if not words:
        return None
    last = " ".join(words[-1].lower().split())
    return 1.0 if last in ("yes", "equivalent") else 0.0


@register_verifier("judge", JUDGE_VERSION)
def verify_judge(problem: Mapping[str, Any], response: str) -> Verdict:
    """Ask the configured judge model whether the final answer matches the reference."""
    reference = problem.get("answer")
    ex = extract_answer(response)
    answer = ex.answer if ex.answer is not None else final_part(response)[-FINAL_CHARS:]
    detail: dict[str, Any] = {"extracted": (answer or "")[:500] or None, "method": ex.method}
    if reference is None or not str(reference).strip():
        return Verdict(False, 0.0, "no_reference", detail)
    if not answer or not answer.strip():
        return Verdict(False, 0.0, "no_answer", detail)
    client = _client
    if client is None:
        detail["error"] = "no judge client configured (tracemill.pipelines.verify.configure_judge)"
        return Verdict(False, 0.0, "judge_error", detail)
    messages = judge_messages(
        str(problem.get("question") or ""), str(reference)[:MAX_ANSWER_CHARS], answer
    )
    try:
        reply = client.complete(messages)
    except Exception as e:  # noqa: BLE001 - any client failure is a judge_error verdict
        detail["error"] = f"{type(e).__name__}: {e}"[:500]
        return Verdict(False, 0.0, "judge_error", detail)
    detail["reply"] = str(reply)[-500:]
    score = parse_judgement(str(reply))
    if score is None:
        detail["error"] = "unreadable judge reply"
        return Verdict(False, 0.0, "judge_error", detail)
    passed = score >= PASS_SCORE
    return Verdict(passed, score, "ok" if passed else "wrong", detail)
