"""``distill --batch``: the Batch API against a local Files + Batches server (subprocess).

Covers submission, polling, exactly-once commits, partial failures, expiry with
resubmission, failed validation, resume without resubmitting (in-process and after a
real SIGKILL mid-poll), the batch-id lookup after a crash before recording, cost at
batch prices, and the pure parts (request lines, job splitting, result parsing).
"""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest
from tracemill.catalogs import problem_id
from tracemill.flows.distill import DistillStage, cost_usd, distill
from tracemill.pipelines.generate import GenerationRequest, SamplingParams
from tracemill.pipelines.generate.openai_batch import (
    BatchItem,
    OpenAIBatchClient,
    batch_lines,
    parse_results,
    split_jobs,
)
from tracemill.stores.catalog import open_catalog

ROOT = Path(__file__).resolve().parents[2]
N_PROBLEMS = 5


class BatchServer:
    """The server subprocess: base URL, script control and its counters."""

    def __init__(self, state_dir: Path) -> None:
        self.dir = state_dir
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.pipelines.batch_server", str(state_dir)],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 30
        while not (state_dir / "port").exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(self.proc.stderr.read().decode()[-2000:])
            time.sleep(0.02)
        self.base_url = f"http://127.0.0.1:{(state_dir / 'port').read_text()}/v1"

    def script(self, **per_model) -> None:
        (self.dir / "script.json").write_text(json.dumps(per_model))

    def state(self) -> dict:
        with urllib.request.urlopen(self.base_url[:-3] + "/_state", timeout=10) as r:
            return json.loads(r.read())

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=10)


@pytest.fixture
def server(tmp_path):
    srv = BatchServer(tmp_path / "server")
    yield srv
    srv.stop()


def seed(catalog_dir, count=N_PROBLEMS):
    rows = [
        {
            "problem_id": problem_id("math", f"What is {i} + {42 - i}?"),
            "source": "toy",
            "domain": "math",
            "question": f"What is {i} + {42 - i}?",
            "answer": "42" if i % 2 == 0 else "41",
            "verifier": "exact",
        }
        for i in range(count)
    ]
    with open_catalog(catalog_dir) as store:
        store.append({"problems": rows})


def stage(server, **kw):
    base = {
        "backend": "openai",
        "model": "teacher-b",
        "base_url": server.base_url,
        "batch": True,
        "batch_poll_s": 0.02,
        "n": 2,
        "temperature": 0.7,
        "seed": 3,
        "max_tokens": 64,
        "verify": False,
        "backend_options": {"backoff_s": 0.01, "max_retries": 1},
    }
    return DistillStage(**{**base, **kw})


def catalog_rows(catalog_dir):
    with open_catalog(catalog_dir, read_only=True) as store:
        samples = store.sql("SELECT count(*) AS n, count(DISTINCT sample_id) AS d FROM samples")
        jobs = store.sql("SELECT job_id, event, status, counts FROM teacher_batches ORDER BY ALL")
        verdicts = store.sql("SELECT count(*) AS n, sum(passed::INT) AS ok FROM verdicts")
    return samples.to_pylist()[0], jobs.to_pylist(), verdicts.to_pylist()[0]


def test_batch_distill_commits_every_sample_once_with_verdicts_and_batch_cost(
    server, catalog_dir
):
    seed(catalog_dir)
    prices = {"input": 2.0, "output": 8.0}
    report = distill(stage(server, prices=prices, verify=True), catalog=str(catalog_dir))
    assert (report.samples, report.errors, report.batch_jobs_submitted) == (10, 0, 1)
    assert (report.verified, report.accepted) == (10, 6)  # 3 of 5 answers are 42
    samples, jobs, verdicts = catalog_rows(catalog_dir)
    assert samples == {"n": 10, "d": 10} and verdicts == {"n": 10, "ok": 6}
    assert [j["event"] for j in jobs] == ["finished", "planned", "submitted"]
    assert json.loads(jobs[0]["counts"])["stored"] == 10 and jobs[0]["status"] == "completed"
    assert server.state()["created"] == 1
    online = cost_usd(prices, report.tokens_in, report.tokens_out, batch=False)
    assert report.tokens_out == 30 and report.cost_usd == pytest.approx(online / 2)
    assert report.cost_usd_online == pytest.approx(online)
    # a rerun finds everything stored: no batch, no polling
    again = distill(stage(server), catalog=str(catalog_dir))
    assert (again.samples_existing, again.samples, again.batch_jobs_submitted) == (10, 0, 0)
    assert server.state()["created"] == 1


def test_partial_failure_stores_the_rest_and_reports_errors(server, catalog_dir):
    seed(catalog_dir)
    server.script(**{"*": {"fail_every": 3, "retry_every": 4}})
    report = distill(stage(server, batch_rounds=2), catalog=str(catalog_dir))
    # round 1 (10 requests): 3, 6, 9 fail for good (400); 4, 8 rate limited (429) → round 2
    # (2 requests): both stored; nothing is duplicated or lost
    assert (report.samples, report.errors, report.batch_retried) == (7, 3, 2)
    assert report.batch_jobs_submitted == 2 and server.state()["created"] == 2
    samples, jobs, _ = catalog_rows(catalog_dir)
    assert samples == {"n": 7, "d": 7}
    finished = [json.loads(j["counts"]) for j in jobs if j["event"] == "finished"]
    assert sorted((c["stored"], c["failed"], c["retry"]) for c in finished) == [
        (2, 0, 0), (5, 3, 2)]  # fmt: skip
    # a rerun (failures are not stored) asks again for the 3 that failed for good
    server.script()
    rerun = distill(stage(server), catalog=str(catalog_dir))
    assert (rerun.samples_existing, rerun.samples, rerun.errors) == (7, 3, 0)
    assert catalog_rows(catalog_dir)[0] == {"n": 10, "d": 10}


def test_expired_batches_keep_their_finished_part_and_resubmit_the_rest(server, catalog_dir):
    seed(catalog_dir)
    server.script(**{"*": {"expire_after": 4}})
    report = distill(stage(server, batch_rounds=1), catalog=str(catalog_dir))
    assert (report.samples, report.errors, report.batch_retried) == (4, 6, 0)
    samples, jobs, _ = catalog_rows(catalog_dir)
    assert samples == {"n": 4, "d": 4}
    assert [j["status"] for j in jobs if j["event"] == "finished"] == ["expired"]
    # every batch now expires after 3 requests: the 6 left go out, 3 come back, the other
    # 3 go into a second batch of the same run and all come back
    server.script(**{"*": {"expire_after": 3}})
    second = distill(stage(server, batch_rounds=2), catalog=str(catalog_dir))
    assert (second.samples_existing, second.samples, second.errors) == (4, 6, 0)
    assert (second.batch_jobs_submitted, second.batch_retried) == (2, 3)
    assert catalog_rows(catalog_dir)[0] == {"n": 10, "d": 10}
    assert server.state()["created"] == 3


def test_failed_validation_fails_its_requests_for_this_run(server, catalog_dir):
    seed(catalog_dir, 2)
    server.script(**{"*": {"fail_validation": True}})
    report = distill(stage(server), catalog=str(catalog_dir))
    assert (report.samples, report.errors, report.batch_jobs_submitted) == (0, 4, 1)
    _, jobs, _ = catalog_rows(catalog_dir)
    finished = next(j for j in jobs if j["event"] == "finished")
    assert finished["status"] == "failed"
    assert "invalid_model" in json.loads(finished["counts"])["errors"][0]


def test_no_wait_submits_then_a_rerun_polls_instead_of_resubmitting(server, catalog_dir):
    seed(catalog_dir)
    (server.dir / "hold").touch()
    first = distill(stage(server, batch_wait=False), catalog=str(catalog_dir))
    assert (first.samples, first.batch_jobs_submitted, first.batch_jobs_open) == (0, 1, 1)
    # still running: a second run picks the job up and leaves it open again
    second = distill(stage(server, batch_wait=False), catalog=str(catalog_dir))
    assert (second.batch_jobs_resumed, second.batch_jobs_submitted, second.samples) == (1, 0, 0)
    (server.dir / "hold").unlink()
    third = distill(stage(server), catalog=str(catalog_dir))
    assert (third.batch_jobs_resumed, third.batch_jobs_submitted, third.samples) == (1, 0, 10)
    assert server.state()["created"] == 1
    assert catalog_rows(catalog_dir)[0] == {"n": 10, "d": 10}


def test_job_recorded_as_planned_only_is_found_by_its_tag_not_resubmitted(server, catalog_dir):
    """A run that died after creating the batch but before recording its id."""
    from tracemill.flows.distill_batch import TABLE
    from tracemill.pipelines.generate import candidate_ids, params_text, plan_requests

    seed(catalog_dir)
    cfg = stage(server)
    from tracemill.flows.distill import sampling_params, select_problems

    params = sampling_params(cfg)
    text = params_text(params, system_prompt=None, template=None)
    with open_catalog(catalog_dir) as store:
        problems = select_problems(store, cfg)
        cands = candidate_ids(problems.column("problem_id"), model="teacher-b",
                              params_json=text, n=2)  # fmt: skip
        requests = plan_requests(problems, model="teacher-b", params=params, n=2,
                                 existing_sample_ids=set())  # fmt: skip
        sid = {(r["problem_id"], r["sample_index"]): r["sample_id"] for r in cands.to_pylist()}
        items = [BatchItem(sid[(r.problem_id, i)], r, i) for r in requests for i in r.indexes]
        client = OpenAIBatchClient("teacher-b", base_url=server.base_url)
        client.submit(batch_lines("teacher-b", items), "job-crashed")
        store.append({TABLE: [{
            "job_id": "job-crashed", "event": "planned", "model": "teacher-b",
            "backend": "openai", "base_url": server.base_url, "params": text,
            "sample_ids": [i.custom_id for i in items], "requests": len(items)}]})  # fmt: skip
    report = distill(cfg, catalog=str(catalog_dir))
    assert (report.batch_jobs_resumed, report.batch_jobs_submitted, report.samples) == (1, 0, 10)
    assert server.state()["created"] == 1
    _, jobs, _ = catalog_rows(catalog_dir)
    assert [j["event"] for j in jobs] == ["finished", "planned", "submitted"]


def test_a_batch_the_provider_no_longer_knows_is_resubmitted(server, catalog_dir):
    from tracemill.flows.distill_batch import TABLE
    from tracemill.pipelines.generate import candidate_ids, params_text

    seed(catalog_dir, 2)
    cfg = stage(server)
    from tracemill.flows.distill import sampling_params

    text = params_text(sampling_params(cfg), system_prompt=None, template=None)
    with open_catalog(catalog_dir) as store:
        pids = store.sql("SELECT problem_id FROM problems").column("problem_id")
        sids = candidate_ids(pids, model="teacher-b", params_json=text, n=2).column("sample_id")
        base = {"job_id": "gone", "model": "teacher-b", "backend": "openai",
                "base_url": server.base_url, "params": text}  # fmt: skip
        store.append({TABLE: [
            {**base, "event": "planned", "sample_ids": sids.to_pylist(), "requests": 4},
            {**base, "event": "submitted", "batch_id": "batch_deleted_long_ago"}]})  # fmt: skip
    report = distill(cfg, catalog=str(catalog_dir))
    assert (report.batch_jobs_resumed, report.batch_jobs_submitted, report.samples) == (1, 1, 4)
    _, jobs, _ = catalog_rows(catalog_dir)
    assert sorted(j["status"] for j in jobs if j["event"] == "finished") == ["completed", "lost"]


CHILD = """
import logging, sys
sys.path.insert(0, {root!r})
logging.basicConfig(level=logging.INFO)
from tracemill.flows.distill import DistillStage, distill
cfg = DistillStage(backend="openai", model="teacher-b", base_url={base_url!r}, batch=True,
                   batch_poll_s=0.05, n=2, temperature=0.7, seed=3, max_tokens=64,
                   verify=False)
distill(cfg, catalog={catalog!r})
"""


@pytest.mark.slow
def test_sigkill_mid_poll_then_rerun_resumes_with_nothing_duplicated_or_lost(
    server, catalog_dir, tmp_path
):
    seed(catalog_dir)
    (server.dir / "hold").touch()
    script = tmp_path / "child.py"
    script.write_text(textwrap.dedent(CHILD.format(
        root=str(ROOT), base_url=server.base_url, catalog=str(catalog_dir))))  # fmt: skip
    child = subprocess.Popen(
        [sys.executable, str(script)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and child.poll() is None:
            polls = server.state()["polls"]
            if polls and max(polls.values()) >= 5:  # submitted and polled a few times
                break
            time.sleep(0.05)
        assert child.poll() is None, child.stderr.read().decode()[-3000:]
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    assert server.state()["created"] == 1
    samples, jobs, _ = catalog_rows(catalog_dir)
    assert samples["n"] == 0 and [j["event"] for j in jobs] == ["planned", "submitted"]
    (server.dir / "hold").unlink()
    report = distill(stage(server, verify=False), catalog=str(catalog_dir))
    assert (report.batch_jobs_resumed, report.batch_jobs_submitted) == (1, 0)
    assert server.state()["created"] == 1  # polled, never resubmitted
    assert catalog_rows(catalog_dir)[0] == {"n": 10, "d": 10}  # 0 duplicated, 0 lost


# -- the pure parts ---------------------------------------------------------------------


def _request(pid="p1", indexes=(0, 1)):
    params = SamplingParams(temperature=0.5, max_tokens=32, seed=7, extra={"top_k": 5})
    return GenerationRequest(pid, [{"role": "user", "content": "hi"}], indexes, params)


def test_batch_lines_carry_each_samples_seed_and_the_extras():
    req = _request()
    lines = [json.loads(x) for x in batch_lines("m", [BatchItem("a", req, 0),
                                                      BatchItem("b", req, 1)], {"x": 1})]  # fmt: skip
    assert [x["custom_id"] for x in lines] == ["a", "b"]
    assert {x["url"] for x in lines} == {"/v1/chat/completions"}
    bodies = [x["body"] for x in lines]
    assert bodies[0]["seed"] == req.params.sample_seed("p1", 0) != bodies[1]["seed"]
    assert bodies[0]["top_k"] == 5 and bodies[0]["x"] == 1 and bodies[0]["max_tokens"] == 32


def test_split_jobs_respects_request_and_byte_limits():
    lines = ["x" * 9] * 7
    assert [len(j) for j in split_jobs(lines, max_requests=3)] == [3, 3, 1]
    assert [len(j) for j in split_jobs(lines, max_bytes=25)] == [2, 2, 2, 1]
    with pytest.raises(ValueError, match="over the batch file limit"):
        split_jobs(["y" * 50], max_bytes=20)


def test_parse_results_sorts_every_request_into_exactly_one_outcome():
    from tests.pipelines.batch_server import completion

    req = _request(indexes=(0, 1, 2, 3, 4, 5))
    items = {f"s{i}": BatchItem(f"s{i}", req, i) for i in range(6)}
    ok = {"custom_id": "s0", "response": {"status_code": 200, "body": completion({"model": "m"})}}
    out = [
        json.dumps(ok),
        json.dumps(ok),  # a duplicate line counts once
        "not json at all",
        json.dumps({"custom_id": "zz", "response": {"status_code": 200}}),
        json.dumps({"custom_id": "s1", "response": {"status_code": 200, "body": {"bad": 1}}}),
    ]
    err = [
        json.dumps({"custom_id": "s2", "error": {"code": "batch_expired", "message": "m"}}),
        json.dumps({"custom_id": "s3", "response": {"status_code": 400, "body": {"error": "no"}}}),
        json.dumps({"custom_id": "s4", "response": {"status_code": 503, "body": {}}}),
    ]
    res = parse_results(out, err, items)
    assert [s.sample_index for s in res.samples] == [0]
    assert res.samples[0].final == "\\boxed{42}" and res.samples[0].completion_tokens == 3
    assert set(res.failed) == {"s1", "s3"} and set(res.retry) == {"s2", "s4", "s5"}
    assert res.unknown == 1
    cancelled = parse_results([], [], {"s5": items["s5"]}, status="cancelled")
    assert set(cancelled.failed) == {"s5"}


def test_batch_needs_the_openai_backend_and_known_options():
    with pytest.raises(ValueError, match="batch needs backend openai"):
        DistillStage(backend="fake", model="m", batch=True)
    with pytest.raises(ValueError, match="batch runs on the driver: executor local"):
        DistillStage(backend="openai", model="m", batch=True, executor="ray")
    from tracemill.flows.distill import make_batch_client

    with pytest.raises(ValueError, match="do not apply to --batch"):
        make_batch_client(DistillStage(backend="openai", model="m", batch=True,
                                       backend_options={"concurrency": 3}))  # fmt: skip
    assert cost_usd({"input": 1.0, "batch_input": 0.2}, 10**6, 0, batch=True) == 0.2


def test_cli_batch_flag_submits_and_prints_the_batch_counters(server, catalog_dir):
    from tracemill.flows.cli import app
    from typer.testing import CliRunner

    seed(catalog_dir, 1)
    result = CliRunner().invoke(app, [
        "distill", "--backend", "openai", "-m", "teacher-b", "--base-url", server.base_url,
        "--batch", "--batch-poll-s", "0.02", "--samples", "2", "--no-verify", "--price",
        "input=1", "--price", "output=4", "--catalog", str(catalog_dir)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "batch_jobs_submitted" in result.output and "cost_usd_online" in result.output
    assert catalog_rows(catalog_dir)[0] == {"n": 2, "d": 2}
