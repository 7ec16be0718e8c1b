r"""Reward functions for GRPO: plain callables ``(completions, **columns) -> list[float | None]``.

TRL calls each with the batch's ``completions`` (text, or lists of chat messages), the
``completion_ids`` and every other dataset column as a list (an ``rl`` build gives
``problem_id``, ``question``, ``answer``, ``verifier``, ``verifier_spec``, ``level`` …).
Each works without a trainer.

- :func:`verifier_reward`: 1.0 when the verifier passes the completion, else 0.0;
  ``None`` where the row names no verifier (TRL ignores ``None``).
  :func:`partial_verifier_reward` gives the verifier's score instead (partial credit).
- :class:`LaserReward` (LASER, length-based step reward):
  :math:`r = C(y) + \beta \cdot \mathbb{1}[\text{passed}(y) \wedge \neg\text{truncated}(y)
  \wedge L(y) \le L_T]` with :math:`C(y)` the correctness (1/0, or the score with
  ``partial_credit``), :math:`L(y)` the completion length and :math:`L_T` a fixed
  target: a correct, complete answer within the target earns the bonus :math:`\beta`,
  anything else gets its plain correctness.
- :class:`LaserDReward` (LASER-D, dynamic and difficulty-aware): the same reward with a
  target per difficulty level (the row's ``level``, the graded level, by default; its
  ``source_level`` with ``level_column="source_level"``), re-estimated during training from
  that level's recent rollouts. With the last ``window`` rollouts of a level (lengths
  and correctness), the target is the smallest length :math:`L` among the correct ones
  whose *expected correct responses* reach the threshold:
  :math:`\text{ECR}(L) = G \cdot \Pr[\text{correct} \wedge \text{length} \le L] \ge
  \text{ecr}`, with :math:`G` the rollouts per prompt; when no length qualifies, the
  target is ``max_target`` (no compression for that level yet). Targets are
  re-estimated every ``update_every`` calls from rollouts already scored, so a batch is
  always rewarded with targets fixed before it.

What a policy cannot game (``tests/redteam/test_length_rewards.py``):

- **Correctness is all or nothing by default.** Partial credit (the fraction of unit
  tests passed, of constraints met) rewards special-casing the visible tests; it is
  opt-in (``partial_credit=True``). The bonus always needs a full pass, so an answer the
  verifier rejects (a hedge such as ``\boxed{3} or \boxed{4}``, a partial program) never
  earns it.
- **Truncated completions earn no bonus** and count as incorrect in LASER-D's target
  estimate: a completion that reached ``max_length`` tokens (the trainer's
  ``max_completion_length``) or ends inside an unclosed ``<think>`` block did not finish
  within any budget, whatever answer the verifier found in it.
- **Padding earns nothing**: the bonus is a constant for being within the target;
  every token counts. Lengths are token counts from ``completion_ids`` when given; the
  text fallback counts words or a quarter of the UTF-8 bytes, whichever is more, so
  text glued without spaces (or joined by zero-width characters) is not "short".
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

THINK_OPEN, THINK_CLOSE = "<think>", "</think>"

PROBLEM_FIELDS = (
    "problem_id",
    "source",
    "domain",
    "task",
    "question",
    "answer",
    "solution",
    "verifier",
    "verifier_spec",
    "generator",
    "source_level",
    "license",
    "metadata",
)
"""Columns handed to verifiers as the problem row (those present in the batch)."""


def completion_text(completion: Any) -> str:
    """The text of a completion: a string, or the content of its last chat message."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, Sequence) and completion:
        last = completion[-1]
        if isinstance(last, Mapping):
            return str(last.get("content") or "")
    return "" if completion is None else str(completion)


def problem_rows(n: int, columns: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Per completion, the problem row rebuilt from the batch's column lists."""
    present = [f for f in PROBLEM_FIELDS if isinstance(columns.get(f), list | tuple)]
    return [{f: columns[f][i] for f in present} for i in range(n)]


def text_length(text: str) -> int:
    """Length of a text without token ids: words, or UTF-8 bytes / 4 if that is more."""
    return max(len(text.split()), math.ceil(len(text.encode("utf-8", "replace")) / 4))


def completion_lengths(
    completions: Sequence[Any], completion_ids: Sequence[Sequence[int]] | None
) -> list[int]:
    """Token counts from ``completion_ids`` when given, else :func:`text_length`."""
    if completion_ids is not None:
        return [len(ids) for ids in completion_ids]
    return [text_length(completion_text(c)) for c in completions]


def is_truncated(text: str, length: int, max_length: int | None) -> bool:
    """Whether a completion was cut off (``max_length`` tokens reached, or unclosed ``<think>``)."""
    if max_length is not None and length >= max_length:
        return True
    return text.rfind(THINK_OPEN) > text.rfind(THINK_CLOSE)


def verify_batch(
    completions: Sequence[Any], columns: Mapping[str, Any]
) -> list[tuple[float, bool] | None]:
    """(score, passed) per completion by its row's verifier; None where there is none."""
    from tracemill.pipelines.verify import get_verifier

    out: list[tuple[float, bool] | None] = []
    for completion, row in zip(completions, problem_rows(len(completions), columns), strict=True):
        name = row.get("verifier")
        if not name:
            out.append(None)
            continue
        verdict = get_verifier(name)(row, completion_text(completion))
        out.append((float(verdict.score), bool(verdict.passed)))
    return out


def verifier_reward(completions: Sequence[Any], **columns: Any) -> list[float | None]:
    """1.0 where the verifier passes the completion, else 0.0 (None: the row has none)."""
    return [None if v is None else float(v[1]) for v in verify_batch(completions, columns)]


def partial_verifier_reward(completions: Sequence[Any], **columns: Any) -> list[float | None]:
    """The verifier's score of each completion (partial credit; None: no verifier)."""
    return [None if v is None else v[0] for v in verify_batch(completions, columns)]


class LaserReward:
    """LASER: correctness plus ``bonus`` for a passing, complete completion within ``target``.

    ``max_length`` is the trainer's ``max_completion_length``: completions that reach it
    were truncated and earn no bonus. ``partial_credit`` uses the verifier's score as
    correctness instead of passed/failed.
    """

    def __init__(
        self,
        target: int,
        bonus: float = 0.5,
        *,
        max_length: int | None = None,
        partial_credit: bool = False,
        level_column: str = "level",
    ) -> None:
        if target < 1:
            raise ValueError("LASER target length must be at least 1")
        if max_length is not None and max_length < 1:
            raise ValueError("max_length must be at least 1")
        self.target = target
        self.bonus = bonus
        self.max_length = max_length
        self.partial_credit = partial_credit
        self.level_column = level_column
        """The batch column a problem's difficulty level is read from."""
        self.__name__ = "laser"

    def target_for(self, level: Any) -> int:
        """The target length for a problem of ``level`` (fixed for LASER)."""
        return self.target

    def _score(
        self, completions: Sequence[Any], completion_ids: Any, columns: Mapping[str, Any]
    ) -> tuple[list[tuple[float, bool] | None], list[int], list[bool], list[Any]]:
        """Verdicts, lengths, truncation flags and levels of a batch."""
        levels = list(columns.get(self.level_column) or [None] * len(completions))
        lengths = completion_lengths(completions, completion_ids)
        truncated = [
            is_truncated(completion_text(c), n, self.max_length)
            for c, n in zip(completions, lengths, strict=True)
        ]
        return verify_batch(completions, columns), lengths, truncated, levels

    def _rewards(
        self,
        verdicts: list[tuple[float, bool] | None],
        lengths: list[int],
        truncated: list[bool],
        levels: list[Any],
    ) -> list[float | None]:
        out: list[float | None] = []
        for verdict, length, cut, level in zip(verdicts, lengths, truncated, levels, strict=True):
            if verdict is None:
                out.append(None)
                continue
            score, passed = verdict
            correct = score if self.partial_credit else float(passed)
            within = passed and not cut and length <= self.target_for(level)
            out.append(correct + (self.bonus if within else 0.0))
        return out

    def __call__(
        self,
        completions: Sequence[Any],
        completion_ids: Sequence[Sequence[int]] | None = None,
        **columns: Any,
    ) -> list[float | None]:
        """Rewards of a batch (see the module docstring)."""
        return self._rewards(*self._score(completions, completion_ids, columns))


class LaserDReward(LaserReward):
    """LASER-D: LASER with per-level targets re-estimated from recent rollouts."""

    def __init__(
        self,
        initial_target: int,
        *,
        bonus: float = 0.5,
        max_length: int | None = None,
        partial_credit: bool = False,
        group_size: int = 8,
        ecr: float = 1.0,
        window: int = 512,
        update_every: int = 1,
        min_rollouts: int = 8,
        max_target: int | None = None,
        level_column: str = "level",
    ) -> None:
        super().__init__(
            initial_target, bonus, max_length=max_length, partial_credit=partial_credit,
            level_column=level_column,
        )  # fmt: skip
        self.__name__ = "laser_d"
        self.group_size = group_size
        self.ecr = ecr
        self.window = window
        self.update_every = max(1, update_every)
        self.min_rollouts = min_rollouts
        self.max_target = max_target if max_target is not None else initial_target
        self.targets: dict[Any, int] = {}
        self.history: dict[Any, deque[tuple[int, bool]]] = {}
        self.calls = 0

    def target_for(self, level: Any) -> int:
        """The current target of ``level`` (the initial target until estimated)."""
        return self.targets.get(level, self.target)

    def estimate(self, rollouts: Sequence[tuple[int, bool]]) -> int:
        """The target from (length, correct) rollouts of one level (ECR rule)."""
        n = len(rollouts)
        correct = sorted(length for length, ok in rollouts if ok)
        for i, length in enumerate(correct):
            # correct rollouts no longer than `length` (ties included)
            within = i + 1
            while within < len(correct) and correct[within] == length:
                within += 1
            if self.group_size * within / n >= self.ecr - 1e-12:
                return length
        return self.max_target

    def update(self) -> None:
        """Re-estimate the target of every level with enough rollouts."""
        for level, rollouts in self.history.items():
            if len(rollouts) >= self.min_rollouts:
                self.targets[level] = self.estimate(list(rollouts))

    def __call__(
        self,
        completions: Sequence[Any],
        completion_ids: Sequence[Sequence[int]] | None = None,
        **columns: Any,
    ) -> list[float | None]:
        """Rewards with the current targets, then record the rollouts (and maybe update).

        A rollout counts as correct for the estimate only when it passed and was not
        truncated.
        """
        verdicts, lengths, truncated, levels = self._score(completions, completion_ids, columns)
        rewards = self._rewards(verdicts, lengths, truncated, levels)
        for verdict, length, cut, level in zip(verdicts, lengths, truncated, levels, strict=True):
            if verdict is not None:
                self.history.setdefault(level, deque(maxlen=self.window)).append(
                    (length, verdict[1] and not cut)
                )
        self.calls += 1
        if self.calls % self.update_every == 0:
            self.update()
        return rewards
