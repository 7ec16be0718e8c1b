"""SATURN's curriculum loop for GRPO: train at a level, test it, move up when it is learned.

SATURN (Liu et al., arXiv 2505.16368, §3.3 and Algorithm 1) trains with GRPO on SAT
instances of one difficulty, evaluates pass@1 on a test set of that same difficulty,
and constructs harder instances once pass@1 clears a threshold ε; otherwise it keeps
training at the current difficulty. Here the difficulty is a synthetic family's level
1–10 (native families and reasoning-gym's ``rg:`` ones alike):

- training items are drawn fresh from the family generator at the current level
  (seed ``seed``, consecutive item indexes, never an item of the test slice);
- every ``eval_every`` optimizer steps the policy answers the held-out test slice of
  the current level (``eval_size`` items under a seed of their own, fixed per level),
  ``eval_samples`` sampled completions each; pass@1 is the mean pass rate, judged by
  the same verifier as the rewards;
- when pass@1 ≥ ``threshold`` the level goes up by one (never past ``max_level``), and
  it never goes down.

:class:`CurriculumController` is that logic without a trainer (test it with any
policy); :class:`CurriculumCallback` runs it inside TRL's ``GRPOTrainer``;
:func:`curriculum_dataset` is the stream of training rows that follows the level.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

log = logging.getLogger("tracemill.train")

Policy = Callable[[Sequence[Mapping[str, Any]], int], list[list[str]]]
"""``policy(problem_rows, k)`` → ``k`` completions per row."""


@dataclass(frozen=True)
class CurriculumSettings:
    """The ``curriculum`` section of a GRPO config (see the module docstring)."""

    family: str
    """Synthetic family to draw items from (``tracemill synth --list``)."""
    start_level: int = 1
    """Level training starts at."""
    max_level: int = 10
    """Highest level the curriculum moves to."""
    threshold: float = 0.75
    """SATURN's ε: pass@1 on the test slice needed to move up a level."""
    eval_every: int = 50
    """Optimizer steps between evaluations."""
    eval_size: int = 32
    """Held-out test items per level."""
    eval_samples: int = 4
    """Sampled completions per test item (pass@1 = their mean pass rate)."""
    eval_temperature: float | None = None
    """Sampling temperature of the evaluation (default: the rollout temperature)."""
    seed: int = 0
    """Item seed: training items are (family, seed, index); the test slice has its own."""
    knobs: dict[str, Any] = field(default_factory=dict)
    """Family knobs over every level's defaults."""
    system_prompt: str | None = None
    """A system turn before each question."""
    save_on_advance: bool = False
    """Save a checkpoint (``output_dir/checkpoint-STEP``) each time the level moves up,
    so the model that mastered each level is kept."""

    def __post_init__(self) -> None:
        from tracemill.pipelines.synth import get_task, make_config

        if not 1 <= self.start_level <= self.max_level <= 10:
            raise ValueError(
                f"curriculum levels need 1 <= start_level <= max_level <= 10, got "
                f"{self.start_level} and {self.max_level}"
            )
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError(f"curriculum threshold must be in (0, 1], got {self.threshold}")
        for name in ("eval_every", "eval_size", "eval_samples"):
            if getattr(self, name) < 1:
                raise ValueError(f"curriculum {name} must be >= 1")
        get_task(self.family)  # unknown family: KeyError naming the known ones
        make_config(self.family, self.start_level, **self.knobs)  # bad knobs: ValueError

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CurriculumSettings:
        """Settings from a mapping; unknown keys are an error naming the known ones."""
        names = [f.name for f in fields(cls)]
        unknown = sorted(set(data) - set(names))
        if unknown:
            raise ValueError(
                f"unknown curriculum key(s) {', '.join(unknown)}; keys: {', '.join(names)}"
            )
        if "family" not in data:
            raise ValueError("the curriculum needs a `family`")
        return cls(**dict(data))


def _eval_seed(seed: int) -> int:
    digest = hashlib.sha256(f"curriculum-eval\x00{int(seed)}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


@dataclass(frozen=True)
class Evaluation:
    """One test of the current level."""

    step: int
    level: int
    pass_at_1: float
    items: int
    samples: int
    advanced_to: int | None = None


class CurriculumController:
    """The level, the items for it, and SATURN's move-up rule (no trainer needed)."""

    def __init__(self, settings: CurriculumSettings) -> None:
        self.settings = settings
        self.level = settings.start_level
        self.trajectory: list[Evaluation] = []
        self._test: dict[int, list[dict[str, Any]]] = {}
        self._next_index: dict[int, int] = {}

    # -- items ----------------------------------------------------------------------

    def _rows(self, level: int, count: int, seed: int, start: int) -> list[dict[str, Any]]:
        from tracemill.pipelines.synth import generate_problems

        s = self.settings
        table = generate_problems(s.family, count, level=level, seed=seed, start=start, **s.knobs)
        rows = table.to_pylist()
        for row in rows:
            turns = [{"role": "system", "content": s.system_prompt}] if s.system_prompt else []
            row["prompt"] = [*turns, {"role": "user", "content": row["question"]}]
            row["level"] = level
        return rows

    def test_slice(self, level: int | None = None) -> list[dict[str, Any]]:
        """The held-out test items of ``level`` (default: the current one), fixed per level."""
        level = self.level if level is None else level
        if level not in self._test:
            seed = _eval_seed(self.settings.seed)
            self._test[level] = self._rows(level, self.settings.eval_size, seed, 0)
        return self._test[level]

    def next_rows(self, count: int) -> list[dict[str, Any]]:
        """``count`` fresh training rows at the current level (none from its test slice)."""
        level = self.level
        held_out = {row["problem_id"] for row in self.test_slice(level)}
        out: list[dict[str, Any]] = []
        while len(out) < count:
            start = self._next_index.get(level, 0)
            batch = self._rows(level, count - len(out), self.settings.seed, start)
            self._next_index[level] = start + len(batch)
            out.extend(row for row in batch if row["problem_id"] not in held_out)
        return out

    def stream(self, chunk: int = 16) -> Iterator[dict[str, Any]]:
        """Training rows forever, each drawn at the level current when it is drawn."""
        while True:
            yield from self.next_rows(chunk)

    # -- the rule -------------------------------------------------------------------

    def pass_at_1(self, policy: Policy, level: int | None = None) -> tuple[float, int, int]:
        """(pass@1, items, samples) of ``policy`` on a level's test slice."""
        from tracemill.pipelines.verify import get_verifier

        rows = self.test_slice(level)
        k = self.settings.eval_samples
        completions = policy(rows, k)
        if len(completions) != len(rows):
            raise ValueError(f"the policy answered {len(completions)} of {len(rows)} items")
        total = 0.0
        samples = 0
        for row, answers in zip(rows, completions, strict=True):
            verifier = get_verifier(row["verifier"])
            passed = [verifier(row, text).passed for text in answers]
            total += sum(passed) / max(1, len(passed))
            samples += len(passed)
        return total / len(rows), len(rows), samples

    def record(
        self, step: int, pass_at_1: float, items: int = 0, samples: int = 0, *, final: bool = False
    ) -> Evaluation:
        """Record a test of the current level; move up one level when it clears ε.

        ``final``: the measurement after training ends (recorded, never a move).
        """
        advanced = None
        clears = pass_at_1 >= self.settings.threshold
        if clears and not final and self.level < self.settings.max_level:
            advanced = self.level + 1
        entry = Evaluation(step, self.level, float(pass_at_1), items, samples, advanced)
        self.trajectory.append(entry)
        log.info(
            "curriculum %s: step %d, level %d, pass@1 %.3f%s",
            self.settings.family,
            step,
            self.level,
            pass_at_1,
            f" -> level {advanced}" if advanced else "",
        )
        if advanced is not None:
            self.level = advanced
        return entry

    def evaluate(self, step: int, policy: Policy) -> Evaluation:
        """Test the current level with ``policy`` and apply the move-up rule."""
        rate, items, samples = self.pass_at_1(policy)
        return self.record(step, rate, items, samples)

    def summary(self) -> dict[str, Any]:
        """The settings, the level reached and the trajectory (for the run's row)."""
        return {
            "family": self.settings.family,
            "settings": asdict(self.settings),
            "start_level": self.settings.start_level,
            "final_level": self.level,
            "max_level_reached": max(
                [self.settings.start_level, *(e.advanced_to or e.level for e in self.trajectory)]
            ),
            "trajectory": [asdict(e) for e in self.trajectory],
        }


# -- TRL glue -------------------------------------------------------------------------

ROW_COLUMNS = (
    "prompt",
    "problem_id",
    "question",
    "answer",
    "verifier",
    "verifier_spec",
    "generator",
    "domain",
    "task",
    "level",
)


def curriculum_dataset(controller: CurriculumController) -> Any:
    """A ``datasets.IterableDataset`` of training rows that follows the controller's level.

    Rows are drawn lazily in the training process (TRL requires
    ``dataloader_num_workers=0`` for iterable datasets), so a level change applies to
    the next rows drawn.
    """
    from datasets import Features, IterableDataset, List, Value

    features = Features(
        {
            "prompt": List({"role": Value("string"), "content": Value("string")}),
            **{c: Value("string") for c in ROW_COLUMNS if c not in ("prompt", "level")},
            "level": Value("int32"),
        }
    )

    def rows() -> Iterator[dict[str, Any]]:
        for row in controller.stream():
            yield {c: row.get(c) for c in ROW_COLUMNS}

    return IterableDataset.from_generator(rows, features=features)


def generation_policy(
    model: Any, tokenizer: Any, *, max_new_tokens: int, temperature: float
) -> Policy:
    """A :data:`Policy` that samples ``model`` (in eval mode, no gradients)."""

    def policy(rows: Sequence[Mapping[str, Any]], k: int) -> list[list[str]]:
        import torch

        texts = [
            tokenizer.apply_chat_template(row["prompt"], tokenize=False, add_generation_prompt=True)
            for row in rows
        ]
        side = tokenizer.padding_side
        tokenizer.padding_side = "left"
        was_training = model.training
        model.eval()
        try:
            batch = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
            batch = {key: value.to(model.device) for key, value in batch.items()}
            sampling = {"do_sample": True, "temperature": temperature} if temperature > 0 else {
                "do_sample": False}  # fmt: skip
            with torch.no_grad():
                out = model.generate(
                    **batch,
                    max_new_tokens=max_new_tokens,
                    num_return_sequences=k,
                    pad_token_id=tokenizer.pad_token_id,
                    **sampling,
                )
        finally:
            tokenizer.padding_side = side
            if was_training:
                model.train()
        width = batch["input_ids"].shape[1]
        decoded = tokenizer.batch_decode(out[:, width:], skip_special_tokens=True)
        return [decoded[i * k : (i + 1) * k] for i in range(len(rows))]

    return policy


def make_callback(
    controller: CurriculumController, tokenizer: Any, *, max_new_tokens: int, temperature: float
) -> Any:
    """A ``TrainerCallback`` that tests the level every ``eval_every`` steps (and at the end).

    Under several processes, rank 0 evaluates and broadcasts pass@1, so every rank moves
    to the same level.
    """
    from transformers import TrainerCallback

    settings = controller.settings
    temp = settings.eval_temperature if settings.eval_temperature is not None else temperature

    class CurriculumCallback(TrainerCallback):
        """SATURN's evaluation and move-up rule inside a Trainer."""

        def _test(self, step: int, model: Any, final: bool = False) -> None:
            import torch.distributed as dist

            distributed = dist.is_available() and dist.is_initialized()
            result: list[Any] = [None]
            if not distributed or dist.get_rank() == 0:
                policy = generation_policy(
                    model, tokenizer, max_new_tokens=max_new_tokens, temperature=temp
                )
                result = [controller.pass_at_1(policy)]
            if distributed:
                dist.broadcast_object_list(result, src=0)
            rate, items, samples = result[0]
            controller.record(step, rate, items, samples, final=final)

        def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            if state.global_step % settings.eval_every == 0:
                before = controller.level
                self._test(state.global_step, kw["model"])
                if controller.level > before and settings.save_on_advance:
                    control.should_save = True  # the Trainer saves checkpoint-STEP now

        def on_train_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            tested = controller.trajectory and controller.trajectory[-1].step == state.global_step
            if not tested:  # the level reached, measured once more at the end
                self._test(state.global_step, kw["model"], final=True)

    return CurriculumCallback()
