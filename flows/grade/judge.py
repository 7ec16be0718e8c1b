"""The answer-first judge: a generation backend prompted to rate a wrong answer's distance."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

JUDGE_PROMPT = """You grade how hard a problem is for a student model.
The student answered the problem below wrongly.

Problem:
{question}

Reference answer:
{answer}

Student's answer:
{student}

Rate the difficulty of this problem for the student from 2 (almost solved it) to
{hardest} (far beyond it). Reply with only the number inside <answer></answer>."""


@dataclass
class BackendJudge:
    """An answer-first judge: any generation backend prompted as a grader.

    With a ``store`` its replies are kept as samples of role ``judge`` (index 0), whose
    id covers the judge model, its params, this prompt and the student whose answer it
    read; a later grading of the same problems reads them back instead of asking again.
    The replies generated in this run are metered (``tokens_in``, ``tokens_out``,
    ``cost_usd``, as their samples' columns); reused ones are counted in ``reused``.
    """

    backend: Any
    model: str
    problems: Mapping[str, dict[str, Any]]
    params: Any
    hardest: int = 10
    failures: int = 0
    store: Any = None
    run_id: str | None = None
    student: str = ""
    """Identity of the answers judged (student model and sampling params)."""
    generated: int = 0
    """Judge replies generated in this run (kept as samples when there is a ``store``)."""
    reused: int = 0
    """Judge replies read back from the catalog (they cost nothing now)."""
    prices: Mapping[str, float] | None = None
    """USD per 1M ``input``/``output`` tokens (a server-reported cost wins)."""
    tokens_in: int = 0
    """Prompt tokens of the replies generated in this run (reused ones are not counted)."""
    tokens_out: int = 0
    cost_usd: float | None = None
    """What the replies generated in this run cost (None: no prices, no reported cost)."""

    def key_params(self) -> str:
        """The params text hashed into judge sample ids."""
        from tracemill.catalogs import canonical_json, config_id

        data = self.params.to_dict()
        data["judge"] = {"prompt": config_id(JUDGE_PROMPT)[:16], "student": self.student}
        return canonical_json(data)

    def __call__(self, cases: Sequence[Any]) -> dict[str, int]:
        """Levels for wrongly answered problems (unparsable replies → hardest)."""
        from tracemill.catalogs import sample_id
        from tracemill.pipelines.generate import GenerationRequest

        key = self.key_params()
        ids = {case.problem_id: sample_id(case.problem_id, self.model, key, 0) for case in cases}
        replies = self._stored(list(ids.values()))
        self.reused += len(replies)
        requests = []
        for case in cases:
            if ids[case.problem_id] in replies:
                continue
            p = self.problems[case.problem_id]
            text = JUDGE_PROMPT.format(
                question=p.get("question") or "",
                answer=p.get("answer") or "(none given)",
                student=(case.answer or "(no answer)")[-4000:],
                hardest=self.hardest,
            )
            requests.append(
                GenerationRequest(
                    case.problem_id, [{"role": "user", "content": text}], (0,), self.params,
                    params_text=key,
                )
            )  # fmt: skip
        generated = list(self.backend.generate(requests)) if requests else []
        for s in generated:
            if s.finish_reason != "error":
                replies[ids[s.problem_id]] = s.final or s.completion or ""
        self._keep(generated, requests)
        out: dict[str, int] = {}
        for pid, sid in ids.items():
            level = _judged_level(replies.get(sid))
            if level is None:
                self.failures += 1
            else:
                out[pid] = level
        return out

    def _stored(self, sample_ids: list[str]) -> dict[str, str]:
        if self.store is None or not sample_ids:
            return {}
        want = pa.table({"sample_id": pa.array(sample_ids, pa.string())})
        rows = self.store.sql_with(
            "_tm_judge_want",
            want,
            "SELECT s.sample_id, s.final, s.completion FROM samples s "
            "SEMI JOIN _tm_judge_want w USING (sample_id)",
        ).to_pylist()
        return {r["sample_id"]: r["final"] or r["completion"] or "" for r in rows}

    def _keep(self, generated: list[Any], requests: list[Any]) -> None:
        from tracemill.pipelines.generate import samples_table

        if not generated:
            return
        table = samples_table(
            generated, requests, model=self.model,
            backend=getattr(self.backend, "name", "unknown"), params=self.params,
            role="judge", origin="judge", run_id=self.run_id, prices=self.prices,
        )  # fmt: skip
        if not table.num_rows:
            return
        if self.store is not None:
            self.store.append({"samples": table}, message=f"grade judge {self.model}")
        self.generated += table.num_rows
        for row in table.select(["prompt_tokens", "completion_tokens", "cost_usd"]).to_pylist():
            self.tokens_in += row["prompt_tokens"] or 0
            self.tokens_out += row["completion_tokens"] or 0
            if row["cost_usd"] is not None:
                self.cost_usd = (self.cost_usd or 0.0) + row["cost_usd"]

    def counters(self) -> dict[str, Any]:
        """The judge's counters in this run (``judge_…``).

        The usage of the replies generated is under ``judge_tokens_in``,
        ``judge_tokens_out`` and ``judge_cost_usd`` (left out when unknown).
        """
        out: dict[str, Any] = {
            "judge_unparsed": self.failures,
            "judge_generated": self.generated,
            "judge_reused": self.reused,
            "judge_tokens_in": self.tokens_in,
            "judge_tokens_out": self.tokens_out,
        }
        if self.cost_usd is not None:
            out["judge_cost_usd"] = round(self.cost_usd, 6)
        return out


def _judged_level(reply: str | None) -> int | None:
    """The level in a judge's reply (None when missing or unreadable)."""
    from tracemill.pipelines.extract import extract_answer

    if reply is None:
        return None
    found = extract_answer(reply).answer
    try:
        return int(str(found).strip())
    except (TypeError, ValueError):
        return None
