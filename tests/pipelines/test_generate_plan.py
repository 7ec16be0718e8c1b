import json
import subprocess
import sys

import pyarrow as pa
import pytest
from tracemill.catalogs import conform, problem_id, sample_id
from tracemill.catalogs.schemas import SAMPLES
from tracemill.pipelines.generate import (
    GeneratedSample,
    GenerationRequest,
    SamplingParams,
    make_backend,
    params_text,
    plan_requests,
    samples_table,
)
from tracemill.pipelines.generate.base import build_sample


def problems(*questions, domain="math"):
    return conform(
        "problems",
        [
            {
                "problem_id": problem_id(domain, q),
                "source": "t",
                "domain": domain,
                "question": q,
                "answer": "4",
            }
            for q in questions
        ],
    )


def test_sampling_params_canonical_and_hashable():
    a = SamplingParams(temperature=0.6, extra={"top_k": 20, "min_p": 0.0})
    b = SamplingParams(temperature=0.6, extra={"min_p": 0.0, "top_k": 20})
    assert a == b and hash(a) == hash(b)
    assert a.to_json() == (
        '{"max_tokens":2048,"min_p":0.0,"seed":null,"stop":[],"temperature":0.6,'
        '"top_k":20,"top_p":1.0}'
    )
    assert SamplingParams.from_dict(json.loads(a.to_json())) == a
    assert SamplingParams(stop="</s>").stop == ("</s>",)
    with pytest.raises(ValueError, match="repeat core"):
        SamplingParams(extra={"temperature": 1.0})
    with pytest.raises(ValueError):
        SamplingParams(max_tokens=0)
    seeded = SamplingParams(seed=1)
    assert seeded.sample_seed("p", 0) != seeded.sample_seed("p", 1)
    assert seeded.sample_seed("p", 0) == SamplingParams(seed=1).sample_seed("p", 0)
    assert SamplingParams().sample_seed("p", 0) is None


def test_plan_requests_skips_existing_ids():
    probs = problems("What is 2+2?", "What is 3+1?")
    params = SamplingParams(temperature=0.0, max_tokens=8)
    p1, p2 = probs.column("problem_id").to_pylist()
    full = plan_requests(probs, model="m", params=params, n=3, existing_sample_ids=set())
    assert [(r.problem_id, r.indexes) for r in full] == [(p1, (0, 1, 2)), (p2, (0, 1, 2))]
    assert full[0].messages == ({"role": "user", "content": "What is 2+2?"},)
    existing = {sample_id(p1, "m", params.to_json(), i) for i in (0, 2)}
    existing |= {sample_id(p2, "m", params.to_json(), i) for i in range(3)}
    plan = plan_requests(probs, model="m", params=params, n=3, existing_sample_ids=existing)
    assert [(r.problem_id, r.indexes) for r in plan] == [(p1, (1,))]
    all_ids = {sample_id(p, "m", params.to_json(), i) for p in (p1, p2) for i in range(3)}
    assert plan_requests(probs, model="m", params=params, n=3, existing_sample_ids=all_ids) == []


def test_custom_prompt_changes_ids_and_renders_template():
    probs = problems("What is $\\frac{1}{2}$?")
    params = SamplingParams()
    pid = probs.column("problem_id")[0].as_py()
    plain = sample_id(pid, "m", params.to_json(), 0)
    text = params_text(params, system_prompt="Be brief.", template="Q: {question} ({domain})")
    assert text != params.to_json() and json.loads(text)["prompt"]["system"] == "Be brief."
    (req,) = plan_requests(
        probs,
        model="m",
        params=params,
        n=1,
        existing_sample_ids={plain},
        system_prompt="Be brief.",
        template="Q: {question} ({domain})",
    )
    assert req.messages == (
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Q: What is $\\frac{1}{2}$? (math)"},
    )
    assert req.key_params == text


def test_samples_table_schema_think_split_and_ids():
    probs = problems("What is 2+2?")
    params = SamplingParams(max_tokens=16)
    (req,) = plan_requests(
        probs, model="m", params=params, n=2, existing_sample_ids=set(), system_prompt="sys"
    )
    good = build_sample(
        req,
        0,
        "<think>2 and 2</think>The answer is \\boxed{4}",
        prompt_tokens=5,
        completion_tokens=9,
        finish_reason="stop",
        latency_s=0.5,
    )
    cut = build_sample(
        req,
        1,
        "<think>still thinking",
        prompt_tokens=5,
        completion_tokens=16,
        finish_reason="length",
        latency_s=0.5,
    )
    failed = GeneratedSample(
        req.problem_id, 1, "", None, "", None, None, None, "error", 0.1, error="boom"
    )
    table = samples_table(
        [good, cut, failed],
        [req],
        model="m",
        backend="fake",
        params=params,
        role="teacher",
        run_id="r1",
    )
    assert table.schema == SAMPLES
    rows = table.to_pylist()
    assert len(rows) == 2
    first, second = rows
    assert (first["reasoning"], first["final"]) == ("2 and 2", "The answer is \\boxed{4}")
    assert first["extracted_answer"] == "4"
    assert (second["reasoning"], second["final"], second["finish_reason"]) == (
        "still thinking",
        "",
        "length",
    )
    assert second["extracted_answer"] is None
    assert first["prompt"] == [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": "What is 2+2?"},
    ]
    for row in rows:  # ids are recomputable from the stored row alone
        assert row["sample_id"] == sample_id(
            row["problem_id"], row["model"], row["params"], row["sample_index"]
        )
        assert row["params"] == req.key_params and row["run_id"] == "r1"


def test_reasoning_content_is_wrapped_into_the_completion():
    req = GenerationRequest("p", [{"role": "user", "content": "q"}], (0,), SamplingParams())
    s = build_sample(
        req,
        0,
        " 42 ",
        reasoning=" hmm ",
        prompt_tokens=1,
        completion_tokens=2,
        finish_reason=None,
        latency_s=0.0,
    )
    assert (s.reasoning, s.final, s.finish_reason) == ("hmm", "42", "stop")
    assert s.completion == "<think>\nhmm\n</think>\n\n42"


def test_fake_backend_truncates_at_max_tokens_and_stops():
    params = SamplingParams(max_tokens=3, stop=("STOP",))
    backend = make_backend("fake", "m", respond=lambda r, i: "one two three four five")
    req = GenerationRequest("p", [{"role": "user", "content": "a b"}], (0, 1), params)
    out = list(backend.generate([req]))
    assert [(s.completion, s.finish_reason, s.completion_tokens) for s in out] == [
        ("one two three", "length", 3)
    ] * 2
    assert out[0].prompt_tokens == 2 and out[0].truncated
    stopper = make_backend("fake", "m", respond=lambda r, i: "a STOP b")
    (s,) = list(stopper.generate([GenerationRequest("p", [], (0,), params)]))
    assert (s.completion, s.finish_reason) == ("a ", "stop")


def test_make_backend_errors_and_lazy_imports():
    with pytest.raises(ValueError, match="unknown backend"):
        make_backend("nope", "m")
    code = (
        "import sys, tracemill.pipelines.generate as g; g.make_backend('fake', 'm');"
        "heavy = [m for m in ('torch', 'transformers', 'openai', 'vllm') if m in sys.modules];"
        "print(heavy)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"


def test_samples_table_empty():
    table = samples_table(
        [], {}, model="m", backend="fake", params=SamplingParams(), role="teacher"
    )
    assert table.num_rows == 0 and table.schema == SAMPLES
    assert isinstance(table, pa.Table)
