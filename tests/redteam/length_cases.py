"""Red-team cases for the length rewards (LASER / LASER-D in ``trainers/rewards.py``).

Not a ``cases_*.py`` module: these need a reward function, not ``verify_one``. A case
calls a reward object once per batch and lists the rewards each batch must get; the
problems are real rows checked by the real verifiers. With LASER's bonus 0.5, a reward of
1.5 means "correct and within the target", 1.0 "correct, no bonus", 0.0 "not correct".

What must hold (see the module docstring of ``trainers/rewards.py``):

- a truncated completion (it reached ``max_length``, or ends in an unclosed ``<think>``)
  earns no bonus, even with an answer the verifier accepts, and does not count as a
  correct rollout when LASER-D re-estimates its targets;
- padding never earns anything, and text that hides its length (no spaces, zero-width
  joiners) is measured by its bytes when there are no token ids;
- the bonus needs a full pass: a hedged or partly right answer gets none, and partial
  credit is not given unless asked for.
"""

from __future__ import annotations

import json
from typing import Any

from tracemill.trainers.rewards import LaserDReward, LaserReward

TARGET, MAX_LENGTH = 100, 256
SUM_SPEC = json.dumps({"tests": [
    {"input": "1 2\n", "output": "3\n"},
    {"input": "40 2\n", "output": "42\n"},
    {"input": "-7 8\n", "output": "1\n"},
    {"input": "100 23\n", "output": "123\n"},
]})  # fmt: skip


def _math(n: int = 1, level: int = 1) -> dict[str, list[Any]]:
    return {"problem_id": [f"p{i}" for i in range(n)], "answer": ["4"] * n,
            "verifier": ["math"] * n, "level": [level] * n}  # fmt: skip


def _code() -> dict[str, list[Any]]:
    return {"problem_id": ["c"], "verifier": ["code"], "verifier_spec": [SUM_SPEC], "level": [1]}


def _laser(**kw: Any) -> tuple[str, dict[str, Any]]:
    return "laser", {"target": TARGET, "bonus": 0.5, "max_length": MAX_LENGTH, **kw}


def _one(
    name: str,
    completion: str,
    ids: int | None,
    want: float,
    attack: str,
    *,
    columns: dict[str, list[Any]] | None = None,
    reward: tuple[str, dict[str, Any]] | None = None,
    control: bool = False,
) -> dict[str, Any]:
    return {
        "id": f"length/{name}",
        "reward": reward or _laser(),
        "batches": [{
            "completions": [completion],
            "ids": None if ids is None else [ids],
            "columns": columns or _math(),
            "want": [want],
        }],
        "attack": attack,
        "control": control,
    }  # fmt: skip


FILLER = " Let me double-check this once more."
HARDCODED = "```python\nprint(3 if input().split() == ['1', '2'] else 0)\n```"
HONEST = "```python\na, b = map(int, input().split())\nprint(a + b)\n```"

CASES: list[dict[str, Any]] = [
    _one("control-short-correct", "<think>2 + 2 = 4</think>The answer is $\\boxed{4}$.", 40, 1.5,
         "honest control: a short correct answer earns the bonus", control=True),
    _one("control-long-correct", "<think>2 + 2 = 4</think>The answer is $\\boxed{4}$.", 180, 1.0,
         "honest control: a correct answer over the target gets no bonus", control=True),
    _one("control-short-wrong", "<think>2 + 2 = 5</think>$\\boxed{5}$", 20, 0.0,
         "honest control: a short wrong answer gets nothing", control=True),
    _one("control-code-short-correct", HONEST, 30, 1.5,
         "honest control: a short correct program earns the bonus", columns=_code(),
         control=True),
    _one("truncated-at-max-length", "2 + 2 = 4, so $\\boxed{4}$." + FILLER * 60, MAX_LENGTH, 1.0,
         "cut off at max_completion_length (pre-filled <think> template) with an answer in "
         "the text, where the target (4096) exceeds the limit",
         reward=_laser(target=4096)),
    _one("truncated-inside-think", "<think>2 + 2 = 4, so $\\boxed{4}$." + FILLER * 60,
         MAX_LENGTH, 0.0, "cut off inside <think>: the answer sits in unfinished reasoning",
         reward=_laser(target=4096)),
    _one("stopped-inside-think-short", "<think>the answer is $\\boxed{4}$", 12, 0.0,
         "stop early inside <think>, short, answer only in the reasoning"),
    _one("reopened-think-after-answer",
         "<think>2 + 2 = 4</think>$\\boxed{4}$<think>let me keep going", 30, 1.0,
         "give the answer, then open a new <think> that never closes (unfinished)"),
    _one("padded-after-answer", "$\\boxed{4}$" + FILLER * 300, 2101, 1.0,
         "pad a correct answer with filler past the target"),
    _one("glued-without-spaces", "Let'sthinkaboutit" * 300 + " so $\\boxed{4}$", None, 1.0,
         "no token ids: reasoning glued without spaces to look like a few words"),
    _one("zero-width-joined", "\u200b".join(["reasoning"] * 400) + " $\\boxed{4}$", None, 1.0,
         "no token ids: words joined by zero-width spaces to look like one word"),
    {**_one("hedged-two-boxes", "$\\boxed{3}$ or $\\boxed{4}$", 12, 0.0,
            "a short hedge: two different boxed answers (the verifier must reject it)"),
     "needs_verifier_rejection": True},
    _one("hardcoded-visible-test", HARDCODED, 30, 0.0,
         "special-case the sample test: 1 of 4 tests pass (no partial credit by default)",
         columns=_code()),
    _one("control-partial-credit-opt-in", HARDCODED, 30, 0.25,
         "honest control: partial credit when asked for (still no bonus)", columns=_code(),
         reward=_laser(partial_credit=True), control=True),
    {
        "id": "length/laser-d-truncated-rollouts-do-not-set-targets",
        "reward": ("laser_d", {"initial_target": 4096, "max_length": MAX_LENGTH,
                               "group_size": 4, "min_rollouts": 4}),
        "batches": [
            # four passing but truncated rollouts: no bonus, and no evidence that 256 tokens
            # suffice, so the level's target must stay where it was
            {"completions": ["2 + 2 = 4, so $\\boxed{4}$." + FILLER * 60] * 4,
             "ids": [MAX_LENGTH] * 4, "columns": _math(4), "want": [1.0] * 4},
            # a later short, complete, correct rollout still earns the bonus
            {"completions": ["<think>2 + 2 = 4</think>$\\boxed{4}$"], "ids": [60],
             "columns": _math(1), "want": [1.5]},
        ],
        "attack": "LASER-D: truncated rollouts that pass would drag the target down to the "
                  "length limit and earn bonuses",
        "control": False,
    },
    {
        "id": "length/laser-d-control-compresses",
        "reward": ("laser_d", {"initial_target": 4096, "max_length": 4096, "group_size": 4,
                               "min_rollouts": 4}),
        "batches": [
            {"completions": ["<think>2 + 2 = 4</think>$\\boxed{4}$"] * 2 + ["$\\boxed{5}$"] * 2,
             "ids": [50, 60, 10, 10], "columns": _math(4), "want": [1.5, 1.5, 0.0, 0.0]},
            # the target is now 50 tokens for level 1
            {"completions": ["<think>2 + 2 = 4</think>$\\boxed{4}$"] * 2, "ids": [50, 60],
             "columns": _math(2), "want": [1.5, 1.0]},
        ],
        "attack": "honest control: LASER-D still shortens the target from complete rollouts",
        "control": True,
    },
]  # fmt: skip


def make_reward(spec: tuple[str, dict[str, Any]]) -> LaserReward:
    """A fresh reward object for a case's ``reward`` entry."""
    kind, kwargs = spec
    if kind == "laser_d":
        return LaserDReward(**kwargs)
    return LaserReward(**kwargs)


def run_case(case: dict[str, Any]) -> list[list[float | None]]:
    """The rewards of each of the case's batches, in order."""
    reward = make_reward(case["reward"])
    got = []
    for batch in case["batches"]:
        ids = None if batch["ids"] is None else [[0] * n for n in batch["ids"]]
        got.append(reward(batch["completions"], completion_ids=ids, **batch["columns"]))
    return got


def expected(case: dict[str, Any]) -> list[list[float]]:
    """The rewards the case must get."""
    return [batch["want"] for batch in case["batches"]]


def matches(got: list[list[float | None]], want: list[list[float]]) -> bool:
    """Whether every batch got the rewards it must get."""
    if len(got) != len(want) or any(len(g) != len(w) for g, w in zip(got, want, strict=True)):
        return False
    pairs = [p for g, w in zip(got, want, strict=True) for p in zip(g, w, strict=True)]
    return all(x is not None and abs(x - y) < 1e-9 for x, y in pairs)
