"""The distill stage end to end: fake backend, stub OpenAI server, crashes and SIGKILL."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from tracemill.catalogs import problem_id
from tracemill.flows.distill import DistillStage, distill
from tracemill.pipelines.generate import BackendError
from tracemill.pipelines.generate.fake import FakeBackend
from tracemill.stores.catalog import open_catalog

ROOT = Path(__file__).resolve().parents[2]
QUESTIONS = [
    ("What is 2+2?", "math", "arith"),
    ("What is 1+3?", "math", "arith"),
    ("What is 8/2?", "math", "frac"),
    ("Name a prime.", "other", "misc"),
]


def seed_problems(catalog_dir, rows=QUESTIONS):
    with open_catalog(catalog_dir) as store:
        store.append(
            {
                "problems": [
                    {
                        "problem_id": problem_id(domain, q),
                        "source": source,
                        "domain": domain,
                        "question": q,
                        "answer": "4",
                        "verifier": "math" if domain == "math" else None,
                    }
                    for q, domain, source in rows
                ]
            }
        )
    return sorted(problem_id(d, q) for q, d, _ in rows)


def even_right(request, index):
    answer = 4 if index % 2 == 0 else 5
    return f"<think>\nsome steps for {index}\n</think>\n\nSo \\boxed{{{answer}}}"


def cfg(**kw):
    base = {
        "backend": "fake",
        "model": "teacher-x",
        "n": 2,
        "batch_size": 3,
        "verify": False,
        "temperature": 0.0,
        "max_tokens": 64,
    }
    base.update(kw)
    return DistillStage(**base)


def catalog_samples(catalog_dir):
    with open_catalog(catalog_dir) as store:
        rows = store.sql("SELECT count(*) AS n, count(DISTINCT sample_id) AS d FROM samples")
        snaps = store.sql(
            "SELECT commit_message FROM ducklake_snapshots('tm') "
            "WHERE commit_message LIKE 'distill%' ORDER BY snapshot_id"
        )
    return rows.to_pylist()[0], snaps.column("commit_message").to_pylist()


def test_distill_verifies_commits_in_batches_and_rerun_generates_nothing(catalog_dir):
    pids = seed_problems(catalog_dir)
    backend = FakeBackend("teacher-x", respond=even_right, batch_size=2)
    report = distill(
        cfg(n=4, batch_size=5, verify=True, verify_workers=1, prices={"input": 1.0, "output": 2.0}),
        catalog=str(catalog_dir),
        run_id="r1",
        backend=backend,
    )
    c = report.counts()
    assert (c["problems"], c["samples_planned"], c["samples_existing"]) == (4, 16, 0)
    assert (c["samples"], c["batches"], c["errors"], backend.calls) == (16, 4, 0, 16)
    # math problems are verified (2 of 4 samples right); the `other` one has no verifier
    assert (c["verified"], c["accepted"], c["no_verifier"]) == (12, 6, 4)
    assert c["accept_rate"] == 0.5
    assert c["accept_rate_by_domain"] == {"math": 0.5}
    assert c["accept_rate_by_source"] == {"arith": 0.5, "frac": 0.5}
    assert c["tokens_in"] > 0 and c["tokens_out"] == 16 * 8
    assert c["cost_usd"] == pytest.approx((c["tokens_in"] * 1 + c["tokens_out"] * 2) / 1e6)
    assert c["truncated"] == 0 and c["truncation_rate"] == 0.0
    with open_catalog(catalog_dir) as store:
        samples = store.read("samples").to_pylist()
        verdicts = store.read("verdicts").to_pylist()
    assert sorted({s["problem_id"] for s in samples}) == pids
    assert {(s["role"], s["backend"], s["model"], s["run_id"]) for s in samples} == {
        ("teacher", "fake", "teacher-x", "r1")
    }
    # each sample keeps its own token counts and cost at the run's prices
    for s in samples:
        assert s["cost_usd"] == pytest.approx(
            (s["prompt_tokens"] * 1 + s["completion_tokens"] * 2) / 1e6)  # fmt: skip
    assert sum(s["cost_usd"] for s in samples) == pytest.approx(c["cost_usd"])
    passed = {v["sample_id"]: v["passed"] for v in verdicts}
    for s in samples:
        if s["sample_id"] in passed:
            assert passed[s["sample_id"]] == (s["sample_index"] % 2 == 0)
    # the rerun plans from the catalog: nothing left, the backend is never called
    again = FakeBackend("teacher-x", respond=even_right)
    r2 = distill(
        cfg(n=4, batch_size=5, verify=True, verify_workers=1),
        catalog=str(catalog_dir),
        backend=again,
    )
    assert (r2.samples, r2.samples_existing, again.calls) == (0, 16, 0)
    # more samples per problem: only the new indexes are generated
    more = FakeBackend("teacher-x", respond=even_right)
    r3 = distill(cfg(n=5, batch_size=5), catalog=str(catalog_dir), backend=more)
    assert (r3.samples, r3.samples_existing, more.calls) == (4, 16, 4)
    assert r3.cost_usd is None  # no prices, no reported cost: unknown, not 0
    assert catalog_samples(catalog_dir)[0] == {"n": 20, "d": 20}


def test_backend_crash_keeps_whole_batches_and_resume_completes(catalog_dir):
    seed_problems(catalog_dir)
    crashing = FakeBackend("teacher-x", fail_after=7, batch_size=1)
    with pytest.raises(BackendError):
        distill(cfg(n=3, batch_size=3), catalog=str(catalog_dir), backend=crashing)
    counts, commits = catalog_samples(catalog_dir)
    # the 7 samples made before the failure are committed: batches of 3, 3, then 1
    assert counts == {"n": 7, "d": 7}
    assert commits == ["distill teacher-x: samples+3"] * 2 + ["distill teacher-x: samples+1"]
    resumed = FakeBackend("teacher-x", batch_size=1)
    report = distill(cfg(n=3, batch_size=3), catalog=str(catalog_dir), backend=resumed)
    assert (report.samples_existing, report.samples, resumed.calls) == (7, 5, 5)
    assert catalog_samples(catalog_dir)[0] == {"n": 12, "d": 12}


def test_truncated_samples_are_kept_and_marked(catalog_dir):
    seed_problems(catalog_dir, QUESTIONS[:2])
    backend = FakeBackend("teacher-x", respond=lambda r, i: "<think> a b c d e f g")
    report = distill(cfg(max_tokens=4), catalog=str(catalog_dir), backend=backend)
    assert (report.samples, report.truncated, report.truncation_rate) == (4, 4, 1.0)
    with open_catalog(catalog_dir) as store:
        rows = store.read("samples").to_pylist()
    assert {(r["finish_reason"], r["completion_tokens"], r["final"]) for r in rows} == {
        ("length", 4, "")
    }


def test_selection_by_source_domain_where_levels_and_limit(catalog_dir):
    from tracemill.flows.distill import select_problems

    pids = seed_problems(catalog_dir)
    with open_catalog(catalog_dir) as store:

        def chosen(**kw):
            return select_problems(store, cfg(**kw)).column("question").to_pylist()

        assert chosen(source="arith") == sorted(
            ["What is 2+2?", "What is 1+3?"], key=lambda q: problem_id("math", q)
        )
        assert chosen(source=["frac", "misc"], domain="math") == ["What is 8/2?"]
        assert chosen(domain="other", where="question LIKE '%prime%'") == ["Name a prime."]
        assert len(chosen(limit=3)) == 3 and chosen(limit=2) == chosen(limit=3)[:2]
        store.append(
            {
                "grades": [
                    {
                        "problem_id": pids[0],
                        "grader_model": "g",
                        "params_id": "x",
                        "method": "fixed_k",
                        "k": 4,
                        "passes": 1,
                        "pass_rate": 0.25,
                        "level": 7,
                    }
                ]
            }
        )
        assert len(chosen(levels=[7], grader_model="g")) == 1
        assert chosen(levels=[7], grader_model="other") == []
        # a later grade replaces the earlier one: levels are each problem's latest grade
        regrade = {"problem_id": pids[0], "grader_model": "g", "params_id": "y",
                   "method": "fixed_k", "k": 4, "passes": 4, "pass_rate": 1.0, "level": 1}
        store.append({"grades": [regrade]})  # fmt: skip
        assert chosen(levels=[7]) == [] and len(chosen(levels=[1], grader_model="g")) == 1
        with pytest.raises(ValueError, match="cannot select problems"):
            chosen(where="no_such_column = 1")


def test_distill_through_openai_backend_against_local_server(catalog_dir):
    from tests.pipelines.openai_stub import OpenAIStub, StubScript

    seed_problems(catalog_dir, QUESTIONS[:2])
    with OpenAIStub(StubScript(fail=[429])) as stub:
        report = distill(
            cfg(
                backend="openai",
                model="served",
                base_url=stub.base_url,
                backend_options={"backoff_s": 0.001, "max_retries": 2},
            ),
            catalog=str(catalog_dir),
        )
    assert (report.samples, report.errors, report.backend) == (4, 0, "openai")
    assert len(stub.requests) == 5
    with OpenAIStub(StubScript(reject_status=400)) as stub:
        r2 = distill(
            cfg(backend="openai", model="served", base_url=stub.base_url, n=3),
            catalog=str(catalog_dir),
        )
    assert (r2.samples_existing, r2.samples, r2.errors) == (4, 0, 2)  # errors are not stored
    assert catalog_samples(catalog_dir)[0]["n"] == 4


CHILD = """
import sys, time
sys.path.insert(0, {root!r})
from tracemill.flows.distill import DistillStage, distill
from tracemill.pipelines.generate.fake import FakeBackend

def respond(request, index):
    with open({marker!r}, "a") as f:
        f.write("x")
    return "<think>t</think> \\\\boxed{{4}}"

cfg = DistillStage(backend="fake", model="teacher-x", n=4, batch_size=3, verify=False,
                   temperature=0.0, max_tokens=64)
distill(cfg, catalog={catalog!r}, backend=FakeBackend("teacher-x", respond=respond,
        delay_s=0.05, batch_size=1))
"""


@pytest.mark.slow
def test_sigkill_mid_run_then_rerun_counts_exact(catalog_dir, tmp_path):
    seed_problems(catalog_dir)
    marker = tmp_path / "generated.txt"
    script = tmp_path / "child.py"
    script.write_text(
        textwrap.dedent(CHILD.format(root=str(ROOT), marker=str(marker), catalog=str(catalog_dir)))
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, str(script)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and child.poll() is None:
            if marker.exists() and len(marker.read_text()) >= 8:
                break
            time.sleep(0.02)
        assert child.poll() is None, child.stdout.read().decode()[-2000:]
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    generated = len(marker.read_text())
    counts, commits = catalog_samples(catalog_dir)
    assert 0 < generated < 16
    # only whole batches of 3 survive a SIGKILL, never more than was generated
    assert counts["n"] == counts["d"] and counts["n"] % 3 == 0 and counts["n"] <= generated
    assert commits == ["distill teacher-x: samples+3"] * (counts["n"] // 3)
    rerun = FakeBackend("teacher-x", batch_size=4)
    report = distill(cfg(n=4, batch_size=3), catalog=str(catalog_dir), backend=rerun)
    assert rerun.calls == 16 - counts["n"] == report.samples
    assert catalog_samples(catalog_dir)[0] == {"n": 16, "d": 16}


def test_stage_registered_and_cli_prints_summary(catalog_dir):
    from tracemill.flows.cli import app
    from tracemill.flows.stages import get_stage
    from typer.testing import CliRunner

    assert get_stage("distill").config is DistillStage
    seed_problems(catalog_dir, QUESTIONS[:1])
    result = CliRunner().invoke(
        app,
        [
            "distill",
            "--backend",
            "fake",
            "--model",
            "m",
            "--samples",
            "3",
            "--no-verify",
            "--max-tokens",
            "5",
            "-o",
            "batch_size=2",
            "--catalog",
            str(catalog_dir),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "samples" in result.output and "truncation_rate" in result.output
    counts, _ = catalog_samples(catalog_dir)
    assert counts["n"] == 3
    bad = CliRunner().invoke(
        app, ["distill", "--backend", "nope", "--model", "m", "--catalog", str(catalog_dir)]
    )
    assert bad.exit_code == 2 and "unknown backend" in bad.output


def test_verification_failure_keeps_samples_unverified(catalog_dir, monkeypatch):
    import contextlib

    import tracemill.pipelines.verify as verify

    def broken(*args, **kwargs):
        raise RuntimeError("verifier worker did not start")

    monkeypatch.setattr(verify, "verify_table", broken)
    monkeypatch.setattr(verify, "verifier_pool", lambda *a, **k: contextlib.nullcontext())
    seed_problems(catalog_dir, QUESTIONS[:2])
    report = distill(cfg(verify=True), catalog=str(catalog_dir), backend=FakeBackend("teacher-x"))
    assert (report.samples, report.unverified, report.verified) == (4, 4, 0)
    with open_catalog(catalog_dir) as store:
        assert (store.count("samples"), store.count("verdicts")) == (4, 0)


def test_distill_on_the_ray_path_prices_and_counts_its_samples(catalog_dir, monkeypatch):
    """Regression: Ray workers priced no samples and sent back no cost column, so the
    driver's accounting failed (KeyError) once samples carried cost_usd.

    The Ray calls run in this process: the worker class, its data files and the driver's
    commit are the real ones.
    """
    import tracemill.flows.executor as executor

    class OneNode:
        def cluster_resources(self):
            return {"CPU": 1.0}

        def nodes(self):
            return [{"Alive": True}]

    def in_process(actor_cls, init_args, calls, **_):
        actor = actor_cls(*init_args)
        for args in calls:
            yield actor.run(*args)

    monkeypatch.setattr(executor, "connect", lambda address=None: OneNode())
    monkeypatch.setattr(executor, "map_actors", in_process)
    seed_problems(catalog_dir)
    prices = {"input": 1.0, "output": 2.0}
    report = distill(
        cfg(executor="ray", ray_workers=1, prices=prices), catalog=str(catalog_dir), run_id="ray-1"
    )
    c = report.counts()
    assert c["samples"] == 8 and c["tokens_out"] > 0
    assert c["cost_usd"] == pytest.approx((c["tokens_in"] * 1 + c["tokens_out"] * 2) / 1e6)
    with open_catalog(catalog_dir) as store:
        samples = store.read("samples").to_pylist()
    assert {s["run_id"] for s in samples} == {"ray-1"}
    assert sum(s["cost_usd"] for s in samples) == pytest.approx(c["cost_usd"])
