r"""Reward functions for GRPO: plain callables ``(completions, **columns) -> list[float | None]``.

TRL calls each with the batch's ``completions`` (text, or lists of chat messages), the
``completion_ids`` and every other dataset column as a list (an ``rl`` build gives
``problem_id``, ``question``, ``answer``, ``verifier``, ``verifier_spec``, ``level`` …).
Each works without a trainer.

- :func:`verifier_reward`: the verifier registry's score of each completion against its
  problem row; ``None`` where the row names no verifier (TRL ignores ``None``).
- :class:`LaserReward` (LASER, length-based step reward):
  :math:`r = C(y) + \beta \cdot \mathbb{1}[\text{passed}(y) \wedge L(y) \le L_T]` with
  :math:`C(y)` the verifier score, :math:`L(y)` the completion length and :math:`L_T` a
  fixed target: a correct answer within the target earns the bonus :math:`\beta`,
  anything else gets its plain score.
- :class:`LaserDReward` (LASER-D, dynamic and difficulty-aware): the same reward with a
  target per difficulty level (the row's ``level``), re-estimated during training from
  that level's recent rollouts. With the last ``window`` rollouts of a level (lengths
  and correctness), the target is the smallest length :math:`L` among the correct ones
  whose *expected correct responses* reach the threshold:
  :math:`\text{ECR}(L) = G \cdot \Pr[\text{correct} \wedge \text{length} \le L] \ge
  \text{ecr}`, with :math:`G` the rollouts per prompt; when no length qualifies, the
  target is ``max_target`` (no compression for that level yet). Targets are
  re-estimated every ``update_every`` calls from rollouts already scored, so a batch is
  always rewarded with targets fixed before it.

Lengths are token counts from ``completion_ids`` when given, else whitespace-separated
words of the completion text.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

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


def completion_lengths(
    completions: Sequence[Any], completion_ids: Sequence[Sequence[int]] | None
) -> list[int]:
    """Token counts from ``completion_ids`` when given, else word counts of the text."""
    if completion_ids is not None:
        return [len(ids) for ids in completion_ids]
    return [len(completion_text(c).split()) for c in completions]


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
    """The verifier's score of each completion (None where the row has no verifier)."""
    return [None if v is None else v[0] for v in verify_batch(completions, columns)]


class LaserReward:
    """LASER: verifier score plus ``bonus`` for a passing completion within ``target``."""

    def __init__(self, target: int, bonus: float = 0.5) -> None:
        if target < 1:
            raise ValueError("LASER target length must be at least 1")
        self.target = target
        self.bonus = bonus
        self.__name__ = "laser"

    def target_for(self, level: Any) -> int:
        """The target length for a problem of ``level`` (fixed for LASER)."""
        return self.target

    def _rewards(
        self,
        verdicts: list[tuple[float, bool] | None],
        lengths: list[int],
        levels: list[Any],
    ) -> list[float | None]:
        out: list[float | None] = []
        for verdict, length, level in zip(verdicts, lengths, levels, strict=True):
            if verdict is None:
                out.append(None)
                continue
            score, passed = verdict
            within = passed and length <= self.target_for(level)
            out.append(score + (self.bonus if within else 0.0))
        return out

    def __call__(
        self,
        completions: Sequence[Any],
        completion_ids: Sequence[Sequence[int]] | None = None,
        **columns: Any,
    ) -> list[float | None]:
        """Rewards of a batch (see the module docstring)."""
        levels = list(columns.get("level") or [None] * len(completions))
        return self._rewards(
            verify_batch(completions, columns),
            completion_lengths(completions, completion_ids),
            levels,
        )


class LaserDReward(LaserReward):
    """LASER-D: LASER with per-level targets re-estimated from recent rollouts."""

    def __init__(
        self,
        initial_target: int,
        *,
        bonus: float = 0.5,
        group_size: int = 8,
        ecr: float = 1.0,
        window: int = 512,
        update_every: int = 1,
        min_rollouts: int = 8,
        max_target: int | None = None,
    ) -> None:
        super().__init__(initial_target, bonus)
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
        """Rewards with the current targets, then record the rollouts (and maybe update)."""
        levels = list(columns.get("level") or [None] * len(completions))
        verdicts = verify_batch(completions, columns)
        lengths = completion_lengths(completions, completion_ids)
        rewards = self._rewards(verdicts, lengths, levels)
        for verdict, length, level in zip(verdicts, lengths, levels, strict=True):
            if verdict is not None:
                self.history.setdefault(level, deque(maxlen=self.window)).append(
                    (length, verdict[1])
                )
        self.calls += 1
        if self.calls % self.update_every == 0:
            self.update()
        return rewards
