"""The catalog sampler: student samples for grading, reused from or stored in the catalog."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
from tracemill.flows.grade.config import params_json as _params_json


@dataclass
class SamplerStats:
    """What a catalog sampler did."""

    requested: int = 0
    reused: int = 0
    generated: int = 0
    verified: int = 0
    failed: int = 0
    """Generation errors (not stored; the problem stays ungraded until a rerun)."""
    tokens_in: int = 0
    """Prompt tokens of the samples generated (reused ones cost nothing)."""
    tokens_out: int = 0
    cost_usd: float | None = None
    """What the generated samples cost (None: no prices and no server-reported cost)."""


@dataclass
class CatalogSampler:
    """A :data:`tracemill.pipelines.grade.Sampler` over the catalog and a student backend.

    Existing samples (same sample id) are reused with their latest verdict; only the
    missing ones are generated, stored with role ``student`` and verified, one catalog
    transaction per call, so a crash loses at most the round in flight.
    """

    store: Any
    problems: Mapping[str, dict[str, Any]]
    backend: Any
    model: str
    params: Any
    run_id: str | None = None
    system_prompt: str | None = None
    stats: SamplerStats = field(default_factory=SamplerStats)
    prices: Mapping[str, float] | None = None
    """USD per 1M ``input``/``output`` tokens (see :mod:`tracemill.pipelines.generate.cost`)."""

    def __call__(self, wanted: Mapping[str, Sequence[int]]) -> list[Any]:
        """Outcomes for ``{problem_id: [sample indexes]}``."""
        from tracemill.catalogs import sample_id

        params_json = _params_json(self.params, self.system_prompt)
        ids = {
            sample_id(pid, self.model, params_json, i): (pid, i)
            for pid, idx in wanted.items()
            for i in idx
        }
        self.stats.requested += len(ids)
        existing = self._existing(list(ids))
        self.stats.reused += len(existing)
        missing = {sid: key for sid, key in ids.items() if sid not in existing}
        unverified = [sid for sid, row in existing.items() if row["passed"] is None]
        if missing:
            for row in self._generate(missing, params_json):
                existing[row["sample_id"]] = row
        if unverified:
            for row in self._verify_existing(unverified):
                existing[row["sample_id"]] = row
        # a sample whose generation failed is not stored and gets no outcome: its problem
        # stays ungraded (``incomplete``) and a rerun generates it again
        return [_outcome(existing[sid], *ids[sid]) for sid in ids if sid in existing]

    def _existing(self, sample_ids: list[str]) -> dict[str, dict[str, Any]]:
        if not sample_ids:
            return {}
        want = pa.table({"sample_id": pa.array(sample_ids, pa.string())})
        rows = self.store.sql_with(
            "_tm_grade_want",
            want,
            "SELECT s.sample_id, s.completion_tokens, s.final, s.completion, v.passed "
            "FROM samples s JOIN _tm_grade_want w USING (sample_id) "
            # the primary verifier's latest verdict (an audit verdict never grades)
            "LEFT JOIN (SELECT v.sample_id, v.passed FROM verdicts v "
            "JOIN problems p ON p.problem_id = v.problem_id "
            "AND coalesce(p.verifier, 'none') = v.verifier "
            "WHERE v.sample_id IN (SELECT sample_id FROM _tm_grade_want) QUALIFY row_number() "
            f"OVER (PARTITION BY v.sample_id ORDER BY {_latest_order()}) = 1"
            ") v USING (sample_id)",
        ).to_pylist()
        return {r["sample_id"]: r for r in rows}

    def _generate(
        self, missing: Mapping[str, tuple[str, int]], params_json: str
    ) -> list[dict[str, Any]]:
        from tracemill.catalogs import conform, sample_id
        from tracemill.pipelines.generate import plan_requests, samples_table

        per_problem: dict[str, set[int]] = {}
        for pid, i in missing.values():
            per_problem.setdefault(pid, set()).add(i)
        pids = sorted(per_problem)
        n = max(max(idx) for idx in per_problem.values()) + 1
        # every index below n that is not missing counts as existing, so the plan asks
        # for exactly the missing samples
        skip = {
            sample_id(pid, self.model, params_json, i)
            for pid in pids
            for i in range(n)
            if i not in per_problem[pid]
        }
        problems = conform("problems", [self.problems[pid] for pid in pids])
        kwargs: dict[str, Any] = {}
        if self.system_prompt is not None:
            kwargs["system_prompt"] = self.system_prompt
        requests = plan_requests(
            problems,
            model=self.model,
            params=self.params,
            n=n,
            existing_sample_ids=skip,
            **kwargs,
        )
        generated = list(self.backend.generate(requests))
        self.stats.failed += sum(1 for g in generated if g.finish_reason == "error")
        samples = samples_table(
            generated,
            requests,
            model=self.model,
            backend=getattr(self.backend, "name", "unknown"),
            params=self.params,
            role="student",
            origin="generate",
            run_id=self.run_id,
            prices=self.prices,
        )
        verdicts = self._verdicts(problems, samples)
        self.store.append({"samples": samples, "verdicts": verdicts}, message=f"grade {self.model}")
        self.stats.generated += samples.num_rows
        for row in samples.select(["prompt_tokens", "completion_tokens", "cost_usd"]).to_pylist():
            self.stats.tokens_in += row["prompt_tokens"] or 0
            self.stats.tokens_out += row["completion_tokens"] or 0
            if row["cost_usd"] is not None:
                self.stats.cost_usd = (self.stats.cost_usd or 0.0) + row["cost_usd"]
        return _joined(samples, verdicts)

    def _verify_existing(self, sample_ids: list[str]) -> list[dict[str, Any]]:
        from tracemill.catalogs import conform

        quoted = ", ".join("'" + s.replace("'", "''") + "'" for s in sample_ids)
        samples = self.store.read("samples", where=f"sample_id IN ({quoted})")
        pids = sorted(set(samples.column("problem_id").to_pylist()))
        problems = conform("problems", [self.problems[pid] for pid in pids])
        verdicts = self._verdicts(problems, samples)
        self.store.append({"verdicts": verdicts}, message=f"grade verify {self.model}")
        return _joined(samples, verdicts)

    def _verdicts(self, problems: pa.Table, samples: pa.Table) -> pa.Table:
        from tracemill.pipelines.verify import verify_table

        verdicts = verify_table(problems, samples, run_id=self.run_id)
        self.stats.verified += verdicts.num_rows
        return verdicts


def _joined(samples: pa.Table, verdicts: pa.Table) -> list[dict[str, Any]]:
    passed: dict[str, bool] = {}
    for sid, ok in zip(
        verdicts.column("sample_id").to_pylist(),
        verdicts.column("passed").to_pylist(),
        strict=True,
    ):
        passed[sid] = bool(ok) or passed.get(sid, False)
    rows = samples.select(["sample_id", "completion_tokens", "final", "completion"]).to_pylist()
    for r in rows:
        r["passed"] = passed.get(r["sample_id"], False)
    return rows


def _outcome(row: Mapping[str, Any], problem_id: str, index: int) -> Any:
    from tracemill.pipelines.grade import Outcome

    answer = row.get("final") or row.get("completion")
    return Outcome(problem_id, index, bool(row.get("passed")), row.get("completion_tokens"),
                   answer)  # fmt: skip


def _latest_order() -> str:
    """ORDER BY of the latest verdict: highest version, a retry above its row, newest."""
    from tracemill.catalogs.views import retry_sort_key, version_sort_key

    column = "v.verifier_version"
    return (
        f"{version_sort_key(column)} DESC, {retry_sort_key(column)} DESC, {column} DESC, "
        "v.created_at DESC"
    )
