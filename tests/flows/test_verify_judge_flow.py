"""``tracemill verify`` options: ensemble, sources, judge (a real local server), fallback, retries."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from tracemill.catalogs import problem_id, sample_id
from tracemill.flows.cli import app
from tracemill.flows.verify import VerifyStage, verify_samples
from tracemill.pipelines.build import build_dataset, read_dataset
from typer.testing import CliRunner

SERVER = Path(__file__).with_name("judge_server.py")

MATH = problem_id("math", "What is 2+2?")
DOG = problem_id("other", "How many legs does a dog have?")
RESPONSES = {
    # math problem (source alpha, primary verifier math)
    "a": (MATH, "\\boxed{4}"),
    "b": (MATH, "\\boxed{5}"),
    "c": (MATH, "It equals four."),  # math finds no answer: the judge fallback reads it
    "d": (MATH, "\\boxed{4.0000001}"),  # numeric (tolerance) passes, math fails
    # judge problem (source beta, primary verifier judge)
    "e": (DOG, "A dog has four legs."),
    "f": (DOG, "\\boxed{3}"),
}


def sid(name: str) -> str:
    pid, _ = RESPONSES[name]
    return sample_id(pid, "m", {}, ord(name))


def seed(store):
    problems = [
        {"problem_id": MATH, "source": "alpha", "domain": "math", "question": "What is 2+2?",
         "answer": "4", "verifier": "math"},
        {"problem_id": DOG, "source": "beta", "domain": "other",
         "question": "How many legs does a dog have?", "answer": "4", "verifier": "judge"},
    ]  # fmt: skip
    samples = [
        {"sample_id": sid(name), "problem_id": pid, "role": "teacher", "origin": "generate",
         "model": "m", "backend": "fake", "params": "{}", "sample_index": ord(name),
         "completion": text, "completion_tokens": len(text)}
        for name, (pid, text) in RESPONSES.items()
    ]  # fmt: skip
    store.append({"problems": problems, "samples": samples})


def invoke(*args: str):
    result = CliRunner().invoke(app, list(args))
    assert "Traceback" not in result.output, result.output
    return result


def verdicts(store) -> dict[tuple[str, str], dict]:
    rows = store.sql("SELECT * FROM verdicts").to_pylist()
    names = {sid(n): n for n in RESPONSES}
    return {(names[r["sample_id"]], r["verifier"]): r for r in rows}


@pytest.fixture(scope="module")
def judge_server(tmp_path_factory):
    """The judge server in its own process; yields (base_url, request log path)."""
    log = tmp_path_factory.mktemp("judge") / "requests.jsonl"
    log.touch()
    proc = subprocess.Popen(
        [sys.executable, str(SERVER), str(log)], stdout=subprocess.PIPE, text=True
    )
    try:
        line = proc.stdout.readline()
        assert line.startswith("PORT "), line
        yield f"http://127.0.0.1:{int(line.split()[1])}/v1", log
    finally:
        proc.kill()
        proc.wait(timeout=10)


def requests_sent(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_ensemble_source_and_judge_skipped_without_a_model(catalog, catalog_dir):
    seed(catalog)
    catalog.close()
    first = invoke("verify", "--catalog", str(catalog_dir), "--batch-size", "2")
    assert first.exit_code == 0, first.output
    assert "2 sample(s) skipped: they need the judge" in first.output
    again = invoke("verify", "--ensemble", "math,numeric", "--source", "alpha",
                   "--catalog", str(catalog_dir))  # fmt: skip
    assert again.exit_code == 0, again.output
    assert "1 sample(s) with disagreeing verifiers" in again.output
    assert "numeric passes, math fails: 1" in again.output
    from tracemill.stores.catalog import open_catalog

    with open_catalog(catalog_dir) as store:
        got = verdicts(store)
        assert {k[1] for k in got} == {"math", "numeric"}  # no judge_error rows stored
        assert (got["d", "numeric"]["passed"], got["d", "math"]["passed"]) == (True, False)
        assert not any(n in ("e", "f") for n, _ in got)  # --source alpha, no judge
        # math is the primary: the numeric audit neither adds d nor removes anything
        build_dataset(store, "sft", "s", {"per_problem": None})
        assert read_dataset(store, "s").column("sample_id").to_pylist() == [sid("a")]


def test_judge_from_the_cli_with_fallback(catalog, catalog_dir, judge_server):
    base_url, log = judge_server
    seed(catalog)
    catalog.close()
    before = len(requests_sent(log))
    args = ["verify", "--judge-model", "judge-m", "--judge-base-url", base_url,
            "--judge-fallback", "--judge-option", "concurrency=2", "--catalog", str(catalog_dir)]
    result = invoke(*args)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "judge fallback: 1 sample(s)" in result.output
    sent = requests_sent(log)[before:]
    assert len(sent) == 3  # e and f (judge problems) and c (fallback)
    for body in sent:
        assert body["model"] == "judge-m" and body["temperature"] == 0.0
        assert body["max_tokens"] == 1024
        assert "untrusted" in body["messages"][0]["content"]
    from tracemill.stores.catalog import open_catalog

    with open_catalog(catalog_dir) as store:
        got = verdicts(store)
        assert got["e", "judge"]["passed"] and not got["f", "judge"]["passed"]
        fallback = got["c", "judge"]
        assert fallback["passed"] and json.loads(fallback["detail"])["fallback_for"] == "math"
        assert json.loads(fallback["detail"])["judge"] == "openai:judge-m"
        assert got["c", "math"]["reason"] == "no_answer"
        assert "fallback_for" not in json.loads(got["e", "judge"]["detail"])
        build_dataset(store, "sft", "s", {"per_problem": None})
        kept = set(read_dataset(store, "s").column("sample_id").to_pylist())
        assert kept == {sid("a"), sid("c"), sid("e")}
    rerun = invoke(*args)
    assert rerun.exit_code == 0 and "0 new" in rerun.output
    assert len(requests_sent(log)) == before + 3  # nothing asked twice


def test_check_with_the_judge(judge_server):
    base_url, _ = judge_server
    result = invoke("check", "--verifier", "judge", "--reference", "4", "--response",
                    "Four, clearly.", "--judge-model", "judge-m", "--judge-base-url", base_url)  # fmt: skip
    assert result.exit_code == 0, result.output
    verdict = json.loads(result.stdout.strip().splitlines()[-1])
    assert verdict["passed"] is True and verdict["detail"]["judge"] == "openai:judge-m"


def test_judge_unreachable_stops_the_run_and_stores_nothing(catalog, catalog_dir, judge_server):
    base_url, _ = judge_server
    seed(catalog)
    catalog.close()
    # a model the server does not know: the backend gives up at once
    result = invoke("verify", "--verifier", "judge", "--judge-model", "nope",
                    "--judge-base-url", base_url, "--catalog", str(catalog_dir))  # fmt: skip
    # a judge that cannot be asked is a failure (exit 1; regression: was a usage error, 2)
    assert result.exit_code == 1 and "judge unavailable" in result.output
    closed = invoke("verify", "--verifier", "judge", "--judge-model", "judge-m",
                    "--judge-base-url", "http://127.0.0.1:9/v1", "--judge-option",
                    "max_retries=0", "--catalog", str(catalog_dir))  # fmt: skip
    assert closed.exit_code == 1 and "judge unavailable" in closed.output
    assert "Traceback" not in closed.output
    from tracemill.stores.catalog import open_catalog

    with open_catalog(catalog_dir) as store:
        assert store.count("verdicts") == 0
        runs = store.sql("SELECT flow, status, error FROM runs").to_pylist()
    # both runs are recorded as failed (a usage error would have recorded nothing)
    assert [(r["flow"], r["status"]) for r in runs] == [("verify", "failed")] * 2
    assert all("judge unavailable" in r["error"] for r in runs)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--verifier", "math", "--ensemble", "math,numeric"], "not both"),
        (["--ensemble", "math,nope"], "unknown verifier"),
        (["--judge-fallback"], "need judge_model (--judge-model)"),
        (["--judge-model", "m", "--judge-backend", "nope"], "unknown judge backend"),
    ],
)
def test_usage_errors(catalog_dir, args, message):
    result = invoke("verify", *args, "--catalog", str(catalog_dir))
    assert result.exit_code == 2 and message in result.output, result.output


def test_recipe_config_and_flags_from_one_declaration(catalog_dir):
    cfg = VerifyStage.model_validate(
        {"ensemble": "math, numeric", "source": "alpha", "deadline_s": 20,
         "judge_model": "m", "judge_base_url": "http://x/v1", "judge_fallback": True,
         "judge_options": {"concurrency": 4}}
    )  # fmt: skip
    assert cfg.ensemble == ["math", "numeric"] and cfg.source == ["alpha"]
    judge = cfg.judge()
    assert judge is not None and judge.fallback and judge.options == {"concurrency": 4}
    assert judge.backend == "openai" and VerifyStage().judge() is None
    with pytest.raises(ValueError, match="extra"):
        VerifyStage.model_validate({"judge_model": "m", "judge_temprature": 0})
    printed = invoke("verify", "--ensemble", "math", "--ensemble", "numeric", "--deadline", "5",
                     "--judge-model", "m", "--judge-option", "concurrency=4", "--retry-timeouts",
                     "--print-config", "--catalog", str(catalog_dir))  # fmt: skip
    assert printed.exit_code == 0, printed.output
    for line in ("- math", "- numeric", "deadline_s: 5.0", "judge_model: m", "concurrency: 4",
                 "retry_timeouts: true"):  # fmt: skip
        assert line in printed.stdout, printed.stdout


def test_retry_timeouts_records_a_new_row_with_a_longer_deadline(catalog, monkeypatch):
    """Only timed-out verdicts are re-run (pool deadline and math-verify timeouts raised)."""
    import tracemill.pipelines.verify as verify_pkg
    from tracemill.catalogs.views import sample_status_sql
    from tracemill.pipelines.verify import get_verifier

    seed(catalog)
    version = get_verifier("math").version
    rows = [
        {"sample_id": sid(n), "problem_id": MATH, "verifier": "math", "verifier_version": version,
         "passed": False, "score": 0.0, "reason": reason, "detail": "{}"}
        for n, reason in (("a", "timeout"), ("b", "wrong"), ("d", "timeout"))
    ]  # fmt: skip
    catalog.append({"verdicts": rows})
    deadlines, specs = [], []
    real_pool = verify_pkg.verifier_pool
    real_table = verify_pkg.verify_table

    def spy_pool(workers=None, *, deadline_s):
        deadlines.append(deadline_s)
        return real_pool(workers, deadline_s=deadline_s)

    def spy_table(problems, samples, **kw):
        specs.extend(problems.column("verifier_spec").to_pylist())
        return real_table(problems, samples, **kw)

    monkeypatch.setattr(verify_pkg, "verifier_pool", spy_pool)
    monkeypatch.setattr(verify_pkg, "verify_table", spy_table)
    counts = verify_samples(catalog, retry_timeouts=True, deadline_s=25, run_id="retry")
    assert counts["retried"] == 2 and counts["inserted"] == 2 and deadlines == [25]
    assert all(json.loads(s) == {"parse_timeout_s": 10, "compare_timeout_s": 10} for s in specs)
    got = catalog.sql(
        "SELECT sample_id, verifier_version, passed, detail FROM verdicts "
        "WHERE verifier_version LIKE '%+retry%' ORDER BY sample_id"
    ).to_pylist()
    assert {r["sample_id"] for r in got} == {sid("a"), sid("d")}
    assert {r["verifier_version"] for r in got} == {f"{version}+retry1"}
    detail = json.loads(got[0]["detail"])
    assert detail["retry_of"] == version and detail["deadline_s"] == 25
    status = {r["sample_id"]: r for r in catalog.sql(sample_status_sql()).to_pylist()}
    assert status[sid("a")]["passed"] and status[sid("a")]["decided_by"] == f"math@{version}+retry1"
    assert status[sid("d")]["negative"]  # the retry found it wrong, no longer a timeout
    again = verify_samples(catalog, retry_timeouts=True, run_id="retry-2")
    assert again["retried"] == 0 and again["inserted"] == 0


def test_retry_errors_asks_the_judge_again_and_keeps_the_fallback_mark(
    catalog, catalog_dir, judge_server
):
    """Judge errors (the judge was down, or distill ran without one) are re-run as new rows."""
    from tracemill.pipelines.verify import get_verifier

    base_url, _ = judge_server
    seed(catalog)
    judge, math = get_verifier("judge").version, get_verifier("math").version

    def row(name, verifier, version, reason, detail):
        pid, _ = RESPONSES[name]
        return {"sample_id": sid(name), "problem_id": pid, "verifier": verifier,
                "verifier_version": version, "passed": False, "score": 0.0, "reason": reason,
                "detail": json.dumps(detail)}  # fmt: skip

    catalog.append(
        {
            "verdicts": [
                row("e", "judge", judge, "judge_error", {"error": "no judge client"}),
                row("c", "math", math, "no_answer", {}),
                row("c", "judge", judge, "judge_error", {"fallback_for": "math", "error": "503"}),
            ]
        }
    )
    catalog.close()
    result = invoke("verify", "--retry-errors", "--judge-model", "judge-m", "--judge-base-url",
                    base_url, "--catalog", str(catalog_dir))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "retried 2 verdict(s)" in result.output
    from tracemill.stores.catalog import open_catalog

    with open_catalog(catalog_dir) as store:
        rows = store.sql(
            "SELECT sample_id, verifier_version, passed, detail FROM verdicts "
            "WHERE verifier = 'judge' AND verifier_version LIKE '%+retry1' ORDER BY sample_id"
        ).to_pylist()
        by = {r["sample_id"]: r for r in rows}
        assert set(by) == {sid("c"), sid("e")} and all(r["passed"] for r in rows)
        assert json.loads(by[sid("c")]["detail"])["fallback_for"] == "math"
        assert "fallback_for" not in json.loads(by[sid("e")]["detail"])
        build_dataset(store, "sft", "s", {"per_problem": None})
        assert set(read_dataset(store, "s").column("sample_id").to_pylist()) == {sid("c"), sid("e")}


@pytest.mark.slow
def test_transformers_judge_in_process(catalog, tmp_path):
    """--judge-backend transformers: a local model judges; a reply without a verdict never passes."""
    pytest.importorskip("transformers")
    from tracemill.flows.verify import JudgeConfig, make_judge
    from tracemill.pipelines.verify.judge import judge_client

    from tests.pipelines.tiny_lm import build_model

    path = build_model(tmp_path / "chain", chain=True)  # always says "the answer is 4"
    seed(catalog)
    judge = make_judge(JudgeConfig(backend="transformers", model=str(path), max_tokens=16,
                                   options={"device": "cpu"}))  # fmt: skip
    assert judge.name == f"transformers:{path}"
    with judge_client(judge):
        counts = verify_samples(catalog, sources=["beta"], run_id="t")
    assert counts["verified"] == 2 and counts["by_reason"] == {"judge_error": 2}
    got = verdicts(catalog)
    detail = json.loads(got["e", "judge"]["detail"])
    assert detail["reply"].endswith("the answer is 4") and "VERDICT" in detail["error"]


# --- what the judge's calls cost ------------------------------------------------------


def verify_runs(catalog_dir) -> list[dict]:
    from tracemill.stores.catalog import open_catalog

    with open_catalog(catalog_dir, read_only=True) as store:
        return store.sql("SELECT * FROM runs ORDER BY started_at").to_pylist()


def test_judge_tokens_and_cost_reach_the_runs_row(catalog, catalog_dir, judge_server):
    """Regression: verify's judge calls were not counted, so its runs row said nothing."""
    from tests.flows.judge_server import usage

    base_url, log = judge_server
    judge = ["--judge-model", "judge-m", "--judge-base-url", base_url]
    seed(catalog)
    catalog.close()
    plain = invoke("verify", "--catalog", str(catalog_dir))  # no judge model: math only
    assert plain.exit_code == 0, plain.output
    before = len(requests_sent(log))
    judged = invoke("verify", *judge, "--judge-fallback", "--catalog", str(catalog_dir))
    assert judged.exit_code == 0, judged.output
    sent = requests_sent(log)[before:]
    assert len(sent) == 3  # e and f (judge problems), c (fallback)
    prompt = sum(usage(body)["prompt_tokens"] for body in sent)
    completion = sum(usage(body)["completion_tokens"] for body in sent)
    without, row = verify_runs(catalog_dir)
    # a run that asks no model records no usage: null, not 0
    assert (without["prompt_tokens"], without["completion_tokens"], without["cost_usd"]) == (
        None, None, None)  # fmt: skip
    assert "judge_calls" not in json.loads(without["counts"])
    assert "call(s)" not in " ".join(plain.output.split())
    assert row["prompt_tokens"] == prompt > 100 and row["completion_tokens"] == completion > 3
    assert row["cost_usd"] is None  # no prices and the server reports no cost: unknown, not 0
    counts = json.loads(row["counts"])
    assert counts["judge_calls"] == 3 and counts["judge"] == "openai:judge-m"
    shown = " ".join(judged.output.split())  # the console wraps long lines
    assert (f"judge openai:judge-m: 3 call(s), {prompt:,} prompt + {completion:,} completion "
            "tokens, cost unknown") in shown  # fmt: skip

    # forced again with prices: the calls are paid for even though no row is new
    before = len(requests_sent(log))
    forced = invoke("verify", *judge, "--verifier", "judge", "--source", "beta", "--force",
                    "--judge-price", "input=3", "--judge-price", "output=15",
                    "--catalog", str(catalog_dir))  # fmt: skip
    assert forced.exit_code == 0 and "0 new" in forced.output, forced.output
    sent = requests_sent(log)[before:]
    assert len(sent) == 2  # e and f
    prompt = sum(usage(body)["prompt_tokens"] for body in sent)
    completion = sum(usage(body)["completion_tokens"] for body in sent)
    row = verify_runs(catalog_dir)[-1]
    assert (row["prompt_tokens"], row["completion_tokens"]) == (prompt, completion)
    assert row["cost_usd"] == pytest.approx((prompt * 3 + completion * 15) / 1e6, abs=1e-6)
    assert json.loads(row["config"])["judge_prices"] == {"input": 3.0, "output": 15.0}
    assert f"${json.loads(row['counts'])['cost_usd']:.6f}" in " ".join(forced.output.split())

    # nothing left to judge: the judge was configured but not asked, so it cost nothing
    before = len(requests_sent(log))
    again = invoke("verify", *judge, "--judge-fallback", "--catalog", str(catalog_dir))
    assert again.exit_code == 0 and len(requests_sent(log)) == before
    last = verify_runs(catalog_dir)[-1]
    assert (last["prompt_tokens"], last["completion_tokens"], last["cost_usd"]) == (0, 0, None)


def test_a_server_reported_cost_wins_and_recipes_sum_it(catalog, catalog_dir, judge_server,
                                                        tmp_path):  # fmt: skip
    """``usage.cost`` of each judge reply is the cost (prices only fill in where it is
    missing); the recipe's row sums its verify stages, a judge-less stage adding nothing."""
    from tracemill.flows.runner import run_recipe

    from tests.flows.judge_server import usage

    base_url, log = judge_server
    seed(catalog)
    catalog.close()
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        "name: judged\nprefect: false\nstages:\n"
        "  - {stage: verify, name: plain, source: [alpha]}\n"
        "  - stage: verify\n    name: judged\n    judge_model: judge-billed\n"
        f"    judge_base_url: \"{base_url}\"\n    judge_prices: {{input: 100, output: 100}}\n",
        encoding="utf-8",
    )  # fmt: skip
    before = len(requests_sent(log))
    assert run_recipe(recipe).status == "completed"
    sent = requests_sent(log)[before:]
    assert len(sent) == 2  # e and f: the judge problems
    reported = sum(usage(body)["cost"] for body in sent)
    prompt = sum(usage(body)["prompt_tokens"] for body in sent)
    completion = sum(usage(body)["completion_tokens"] for body in sent)
    runs = {r["label"] or r["flow"]: r for r in verify_runs(catalog_dir)}
    plain, judged, whole = runs["plain"], runs["judged"], runs["recipe:judged"]
    assert (plain["prompt_tokens"], plain["cost_usd"]) == (None, None)
    assert (judged["prompt_tokens"], judged["completion_tokens"]) == (prompt, completion)
    assert judged["cost_usd"] == pytest.approx(reported, abs=1e-6)
    assert reported < (prompt + completion) * 100 / 1e6  # not the prices' figure
    assert (whole["prompt_tokens"], whole["completion_tokens"]) == (prompt, completion)
    assert whole["cost_usd"] == pytest.approx(judged["cost_usd"])


def test_judge_prices_are_checked():
    with pytest.raises(ValueError, match="need judge_model"):
        VerifyStage.model_validate({"judge_prices": {"input": 1}})
    with pytest.raises(ValueError, match="judge calls are online"):
        VerifyStage.model_validate({"judge_model": "m", "judge_prices": {"batch_input": 1}})
    with pytest.raises(ValueError, match="prices take"):
        VerifyStage.model_validate({"judge_model": "m", "judge_prices": {"in": 1}})
    cfg = VerifyStage.model_validate({"judge_model": "m", "judge_prices": {"output": "2.5"}})
    assert cfg.judge().prices == {"output": 2.5}


def fake_verdict(request, index):
    """A fake judge model: passes responses whose quoted answer says four."""
    user = request.messages[-1]["content"]
    return "Four legs.\nVERDICT: PASS" if "> A dog has four legs." in user else "VERDICT: FAIL"


def test_under_ray_the_driver_judges_and_meters_the_calls(catalog, monkeypatch):
    """``--executor ray``: judge rows stay in the driver (a Ray worker process has no judge
    client; regression: they were sent there and stored as judge_error), and the judge's
    tokens and cost are counted; the other verifiers still run on the actors.

    The Ray calls run in this process; each actor call runs with no judge configured,
    as in a worker process of its own.
    """
    import tracemill.flows.executor as executor
    from tracemill.flows.verify import JudgeConfig, make_judge
    from tracemill.pipelines.verify.judge import judge_client

    class OneNode:
        def cluster_resources(self):
            return {"CPU": 1.0}

        def nodes(self):
            return [{"Alive": True}]

    on_actors: list[str] = []

    def in_process(actor_cls, init_args, calls, **_):
        actor = actor_cls(*init_args)
        for args in calls:
            on_actors.extend(args[0].column("verifier").to_pylist())
            with judge_client(None):  # a worker process: nothing configured there
                yield [actor.run(*args)]  # a round of one result

    monkeypatch.setattr(executor, "connect", lambda address=None: OneNode())
    monkeypatch.setattr(executor, "map_actor_rounds", in_process)
    seed(catalog)
    judge = make_judge(JudgeConfig(
        backend="fake", model="judge-f", prices={"input": 1.0, "output": 4.0},
        options={"respond": "tests.flows.test_verify_judge_flow:fake_verdict"},
    ))  # fmt: skip
    with judge_client(judge):
        counts = verify_samples(catalog, run_id="ray-judge", executor="ray", ray_workers=1)
    got = verdicts(catalog)
    assert got["e", "judge"]["passed"] and got["f", "judge"]["reason"] == "wrong"
    assert "math" in on_actors and "judge" not in on_actors
    assert counts["verified"] == 6 and counts["by_verifier"]["judge"]["verified"] == 2
    used = judge.usage()
    assert used.calls == 2 and counts["judge_calls"] == 2
    assert (counts["tokens_in"], counts["tokens_out"]) == (used.prompt_tokens,
                                                           used.completion_tokens)  # fmt: skip
    assert counts["tokens_in"] > 100 and counts["tokens_out"] > 0
    assert counts["cost_usd"] == pytest.approx(
        (counts["tokens_in"] * 1 + counts["tokens_out"] * 4) / 1e6, abs=1e-6)  # fmt: skip


def test_a_judge_that_dies_partway_leaves_its_usage_in_the_failed_row(catalog, catalog_dir):
    """Regression: a verify whose judge went down after some calls recorded no usage."""
    from tests.pipelines.openai_stub import OpenAIStub, StubScript

    seed(catalog)
    catalog.close()
    with OpenAIStub(StubScript(max_requests=1)) as stub:
        result = invoke(
            "verify", "--judge-model", "served", "--judge-base-url", stub.base_url,
            "--judge-option", "max_retries=0", "--judge-option", "concurrency=1",
            "--judge-price", "input=1000", "--catalog", str(catalog_dir),
        )  # fmt: skip
        answered = stub.requests[:1]
    assert result.exit_code == 1 and "judge unavailable" in result.output, result.output
    row = verify_runs(catalog_dir)[-1]
    assert row["status"] == "failed" and row["error"].startswith("BackendError: judge")
    prompt = sum(len(str(m["content"]).split()) for m in answered[0]["messages"])
    counts = json.loads(row["counts"])
    assert counts["judge_calls"] == 1 and row["prompt_tokens"] == prompt > 10
    assert row["completion_tokens"] > 0
    assert row["cost_usd"] == pytest.approx(prompt * 1000 / 1e6)
