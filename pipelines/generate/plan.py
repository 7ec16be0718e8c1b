"""Plan generation (sample ids first, only missing indexes) and turn results into rows.

Sample ids are ``sample_id(problem_id, model, params_text, index)`` where
``params_text`` is the canonical JSON of the sampling params, plus, only when set, a
``prompt`` entry with the system prompt and template: a different prompt is a different
sampler, so its samples get different ids, while the default prompt keeps
``params_text == params.to_json()``. The ``params`` column stores exactly that text,
so every stored row's id can be recomputed from the row alone.

Templates fill ``{question}``, ``{domain}``, ``{task}``, ``{source}`` and ``{answer}``
placeholders by plain substitution (LaTeX braces elsewhere are left alone); without a
template the user message is the question itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from tracemill.catalogs import canonical_json, conform, sample_ids
from tracemill.pipelines.generate.base import GeneratedSample, GenerationRequest, SamplingParams

TEMPLATE_FIELDS = ("question", "domain", "task", "source", "answer")


def params_text(
    params: SamplingParams, *, system_prompt: str | None = None, template: str | None = None
) -> str:
    """The params JSON hashed into sample ids (params, plus the prompt when customised)."""
    if system_prompt is None and template is None:
        return params.to_json()
    data = params.to_dict()
    if "prompt" in data:
        raise ValueError("sampling params may not use the key 'prompt' with a custom prompt")
    data["prompt"] = {"system": system_prompt, "template": template}
    return canonical_json(data)


def render_prompt(
    row: Mapping[str, Any], *, system_prompt: str | None = None, template: str | None = None
) -> list[dict[str, str]]:
    """Chat messages for one problem row (system prompt, then the user turn)."""
    question = row.get("question") or ""
    if template is None:
        content = question
    else:
        content = template
        for name in TEMPLATE_FIELDS:
            value = row.get(name)
            content = content.replace("{" + name + "}", "" if value is None else str(value))
    messages = []
    if system_prompt:
        messages.append({"role": "system", "content": system_prompt})
    messages.append({"role": "user", "content": content})
    return messages


def candidate_ids(
    problem_ids: pa.Array | pa.ChunkedArray, *, model: str, params_json: str, n: int
) -> pa.Table:
    """Every (problem_id, sample_index, sample_id) for ``n`` samples of each problem."""
    problem_ids = (
        pa.array(problem_ids, pa.string())
        if isinstance(problem_ids, list)
        else (
            problem_ids.combine_chunks()
            if isinstance(problem_ids, pa.ChunkedArray)
            else problem_ids
        )
    )
    count = len(problem_ids)
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    take = pa.array([i // n for i in range(count * n)], pa.int64())
    pids = problem_ids.take(take) if count else pa.array([], pa.string())
    indexes = pa.array([i % n for i in range(count * n)], pa.int32())
    ids = sample_ids(
        pids,
        pa.array([model] * len(pids), pa.string()),
        pa.array([params_json] * len(pids), pa.string()),
        indexes,
    )
    return pa.table({"problem_id": pids, "sample_index": indexes, "sample_id": ids})


def plan_requests(
    problems: pa.Table,
    *,
    model: str,
    params: SamplingParams,
    n: int,
    existing_sample_ids: set[str],
    system_prompt: str | None = None,
    template: str | None = None,
) -> list[GenerationRequest]:
    """One request per problem that still lacks samples, asking only for missing indexes.

    Ids are computed before anything is generated; ``existing_sample_ids`` (from the
    catalog) are skipped, so planning twice after a complete run yields no request.
    Problems keep their order in ``problems``; a repeated problem id is planned once.
    """
    text = params_text(params, system_prompt=system_prompt, template=template)
    if problems.num_rows == 0:
        return []
    ids = candidate_ids(problems.column("problem_id"), model=model, params_json=text, n=n)
    if existing_sample_ids:
        keep = pc.invert(
            pc.is_in(
                ids.column("sample_id"), value_set=pa.array(list(existing_sample_ids), pa.string())
            )
        )
        ids = ids.filter(keep)
    missing: dict[str, list[int]] = {}
    for pid, idx in zip(
        ids.column("problem_id").to_pylist(), ids.column("sample_index").to_pylist(), strict=True
    ):
        missing.setdefault(pid, []).append(idx)
    if not missing:
        return []
    fields = [c for c in TEMPLATE_FIELDS if c in problems.column_names]
    rows = problems.select(["problem_id", *fields]).to_pylist()
    requests = []
    for row in rows:
        indexes = missing.pop(row["problem_id"], None)
        if not indexes:
            continue
        requests.append(
            GenerationRequest(
                problem_id=row["problem_id"],
                messages=tuple(render_prompt(row, system_prompt=system_prompt, template=template)),
                indexes=tuple(sorted(set(indexes))),
                params=params,
                params_text=text,
            )
        )
    return requests


def _message_rows(messages: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    out = []
    for m in messages:
        content = m.get("content")
        if isinstance(content, list):  # OpenAI content parts
            content = "".join(p.get("text", "") for p in content if isinstance(p, Mapping))
        out.append({"role": str(m.get("role", "user")), "content": content})
    return out


def samples_table(
    samples: Iterable[GeneratedSample],
    requests_by_problem: Mapping[str, GenerationRequest] | Iterable[GenerationRequest],
    *,
    model: str,
    backend: str,
    params: SamplingParams,
    role: str,
    origin: str = "generate",
    run_id: str | None = None,
    prices: Mapping[str, float] | None = None,
) -> pa.Table:
    """Rows of the ``samples`` schema for generated samples (failed ones are left out).

    The prompt and the id params come from each sample's request; ``params`` is used
    for samples whose problem has no request given. ``cost_usd`` is the cost the server
    reported, else the token counts at ``prices`` (USD per 1M ``input``/``output``
    tokens; see :mod:`tracemill.pipelines.generate.cost`).
    """
    from tracemill.pipelines.extract import extract_answer
    from tracemill.pipelines.generate.cost import sample_cost

    if not isinstance(requests_by_problem, Mapping):
        requests_by_problem = {r.problem_id: r for r in requests_by_problem}
    default_text = params.to_json()
    rows: list[dict[str, Any]] = []
    for s in samples:
        if s.finish_reason == "error":
            continue
        request = requests_by_problem.get(s.problem_id)
        rows.append(
            {
                "problem_id": s.problem_id,
                "role": role,
                "origin": origin,
                "model": model,
                "backend": backend,
                "params": request.key_params if request is not None else default_text,
                "sample_index": s.sample_index,
                "prompt": _message_rows(request.messages) if request is not None else None,
                "completion": s.completion,
                "reasoning": s.reasoning,
                "final": s.final,
                "extracted_answer": extract_answer(s.completion).answer,
                "prompt_tokens": s.prompt_tokens,
                "completion_tokens": s.completion_tokens,
                "reasoning_tokens": s.reasoning_tokens,
                "finish_reason": s.finish_reason,
                "latency_s": s.latency_s,
                "run_id": run_id,
                "cost_usd": sample_cost(
                    s.prompt_tokens, s.completion_tokens, prices, reported=s.cost_usd
                ),
            }
        )
    if not rows:
        return conform("samples", [])
    ids = sample_ids(
        pa.array([r["problem_id"] for r in rows], pa.string()),
        pa.array([model] * len(rows), pa.string()),
        pa.array([r["params"] for r in rows], pa.string()),
        pa.array([r["sample_index"] for r in rows], pa.int32()),
    )
    for row, sid in zip(rows, ids.to_pylist(), strict=True):
        row["sample_id"] = sid
    from tracemill.catalogs.schemas import SAMPLES

    table = pa.Table.from_pylist(
        rows,
        schema=pa.schema([SAMPLES.field(name) for name in SAMPLES.names if name != "created_at"]),
    )
    return conform("samples", table)
