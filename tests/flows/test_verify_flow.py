"""The verify stage and CLI: verdicts for samples lacking one; reruns write nothing."""

import json
import time

import pytest
from tracemill.catalogs import problem_id, sample_id
from tracemill.flows.cli import app
from tracemill.flows.stages import StageContext, get_stage
from tracemill.flows.verify import VerifyStage, verify_samples
from tracemill.pipelines.verify import get_verifier, registry
from tracemill.pipelines.verify.registry import RegisteredVerifier, Verdict
from typer.testing import CliRunner


def seed(store):
    problems = [
        ("other", "capital of France?", "Paris", "normalized"),
        ("other", "2+2 as digits?", "4", "exact"),
        ("other", "no verifier here", "x", None),
    ]
    prows, srows = [], []
    for domain, question, answer, verifier in problems:
        pid = problem_id(domain, question)
        prows.append(
            {
                "problem_id": pid,
                "source": "test",
                "domain": domain,
                "question": question,
                "answer": answer,
                "verifier": verifier,
                "verifier_spec": None,
            }
        )
        for i, text in enumerate([f"\\boxed{{{answer}}}", "\\boxed{wrong}"]):
            srows.append(
                {
                    "sample_id": sample_id(pid, "m", {}, i),
                    "problem_id": pid,
                    "role": "teacher",
                    "origin": "generate",
                    "model": "m",
                    "backend": "fake",
                    "params": "{}",
                    "sample_index": i,
                    "completion": text,
                }
            )
    store.append({"problems": prows, "samples": srows})


def test_stage_is_registered():
    spec = get_stage("verify")
    assert spec.config is VerifyStage
    with pytest.raises(ValueError):
        VerifyStage(bogus=1)


def test_stage_rerun_writes_nothing(catalog, catalog_dir):
    seed(catalog)
    catalog.close()
    ctx = StageContext(catalog=str(catalog_dir), run_id="run-1")
    first = get_stage("verify").fn(ctx, VerifyStage())
    assert first["verified"] == 4 and first["passed"] == 2 and first["inserted"] == 4
    assert first["no_verifier"] == 2
    assert first["by_reason"] == {"ok": 2, "wrong": 2}
    second = get_stage("verify").fn(ctx, VerifyStage())
    assert second["verified"] == 0 and second["inserted"] == 0
    forced = get_stage("verify").fn(ctx, VerifyStage(force=True))
    assert forced["verified"] == 4 and forced["inserted"] == 0


def test_where_and_override_and_version_bump(catalog, monkeypatch):
    seed(catalog)
    counts = verify_samples(catalog, where="sample_index = 0", run_id="r")
    assert counts["verified"] == 2 and counts["passed"] == 2
    counts = verify_samples(catalog, verifier="normalized", run_id="r")
    assert counts["verified"] == 5  # all 6 samples but the one already judged by normalized
    before = catalog.count("verdicts")

    def exact_v2(problem, response):
        return Verdict(False, 0.0, "wrong", {})

    builtin = get_verifier("exact").version  # loads the built-ins before replacing one
    monkeypatch.setitem(
        registry._REGISTRY, "exact", RegisteredVerifier("exact", "2-test", exact_v2)
    )
    counts = verify_samples(catalog, run_id="r")
    assert counts["verified"] == 2 and counts["by_verifier"]["exact"]["verified"] == 2
    assert catalog.count("verdicts") == before + 2
    versions = catalog.sql(
        "SELECT verifier_version, count(*) AS n FROM verdicts WHERE verifier = 'exact' "
        "GROUP BY 1"
    ).to_pylist()
    assert {r["verifier_version"]: r["n"] for r in versions} == {builtin: 1, "2-test": 2}


def test_cli_verify_and_verifiers(catalog, catalog_dir):
    seed(catalog)
    catalog.close()
    runner = CliRunner()
    result = runner.invoke(app, ["verify", "--catalog", str(catalog_dir)])
    assert result.exit_code == 0, result.output
    assert "normalized" in result.output and "50.0%" in result.output
    again = runner.invoke(app, ["verify", "--catalog", str(catalog_dir)])
    assert again.exit_code == 0 and "0 new" in again.output
    bad = runner.invoke(app, ["verify", "--verifier", "nope", "--catalog", str(catalog_dir)])
    assert bad.exit_code == 2 and "unknown verifier" in bad.output
    listing = runner.invoke(app, ["verifiers"])
    assert listing.exit_code == 0
    for name in ("math", "code", "exact", "normalized", "choice", "numeric", "judge"):
        assert name in listing.output


def test_version_bump_adds_rows_and_keeps_old_ones(catalog, monkeypatch):
    from tracemill.catalogs.views import latest_verdicts_sql

    seed(catalog)
    verify_samples(catalog, run_id="v1")
    cols = "sample_id, verifier, verifier_version, passed, score, reason, detail, created_at, run_id"
    old = catalog.sql(f"SELECT {cols} FROM verdicts ORDER BY ALL").to_pylist()
    builtin = get_verifier("exact").version
    bumped = str(int(builtin) + 1)
    assert {r["verifier_version"] for r in old} == {builtin} and len(old) == 4

    def exact_v2(problem, response):
        return Verdict(False, 0.0, "wrong", {"why": "v2"})

    monkeypatch.setitem(registry._REGISTRY, "exact", RegisteredVerifier("exact", bumped, exact_v2))
    counts = verify_samples(catalog, run_id="v2")
    assert counts["verified"] == 2 and counts["inserted"] == 2  # only the bumped verifier
    rows = catalog.sql(f"SELECT {cols} FROM verdicts ORDER BY ALL").to_pylist()
    assert len(rows) == 6
    assert [r for r in rows if r["run_id"] == "v1"] == old  # old rows untouched
    latest = catalog.sql(
        f"SELECT verifier, verifier_version, passed FROM ({latest_verdicts_sql()}) "
        "WHERE verifier = 'exact'"
    ).to_pylist()
    assert [(r["verifier_version"], r["passed"]) for r in latest] == [(bumped, False)] * 2
    again = verify_samples(catalog, run_id="v3")
    assert again["verified"] == 0 and catalog.count("verdicts") == 6


def verdict(sid, verifier, version, passed, pid="p"):
    return {
        "sample_id": sid,
        "problem_id": pid,
        "verifier": verifier,
        "verifier_version": version,
        "passed": passed,
        "score": 1.0 if passed else 0.0,
        "reason": "ok" if passed else "wrong",
        "detail": "{}",
        "latency_s": 0.0,
        "run_id": "r",
    }


def test_disagreements_view_through_tracemill_sql(catalog, catalog_dir):
    import json

    catalog.append(
        {
            "problems": [
                {"problem_id": pid, "source": "t", "domain": "math", "question": pid,
                 "answer": "1", "verifier": "math"}
                for pid in ("p", "q")
            ],  # fmt: skip
            "verdicts": [
                # a: math passes, judge fails -> disagreement (math, the primary, accepts)
                verdict("a", "math", "1", True),
                verdict("a", "judge", "1", False),
                # b: math@1 failed but the latest math@2 passes, judge passes -> agree
                verdict("b", "math", "1", False),
                verdict("b", "math", "2", True),
                verdict("b", "judge", "1", True),
                # c: one verifier only -> never a disagreement
                verdict("c", "math", "1", False),
                # d: judge 1.10 (latest, fails) beats 1.9 (passed); code and math pass
                verdict("d", "math", "1", True, pid="q"),
                verdict("d", "code", "1", True, pid="q"),
                verdict("d", "judge", "1.9", True, pid="q"),
                verdict("d", "judge", "1.10", False, pid="q"),
                # e: all fail -> agree
                verdict("e", "math", "1", False),
                verdict("e", "exact", "1", False),
                # f: an erroring judge is no opinion -> not a disagreement
                verdict("f", "math", "1", True),
                {**verdict("f", "judge", "1", False), "reason": "judge_error"},
            ],
        }
    )
    catalog.close()
    query = "SELECT * FROM verdict_disagreements ORDER BY sample_id"
    result = CliRunner().invoke(
        app, ["sql", query, "--format", "json", "--catalog", str(catalog_dir)]
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert rows == [
        {
            "sample_id": "a",
            "problem_id": "p",
            "primary_verifier": "math",
            "accepted": True,
            "passed_verifiers": ["math"],
            "failed_verifiers": ["judge"],
        },
        {
            "sample_id": "d",
            "problem_id": "q",
            "primary_verifier": "math",
            "accepted": True,
            "passed_verifiers": ["code", "math"],
            "failed_verifiers": ["judge"],
        },
    ]
    latest = CliRunner().invoke(
        app,
        [
            "sql",
            "SELECT count(*) AS n FROM latest_verdicts",
            "--format",
            "csv",
            "--catalog",
            str(catalog_dir),
        ],
    )
    assert latest.exit_code == 0 and latest.stdout.splitlines() == ['"n"', "12"]
    status = CliRunner().invoke(
        app,
        ["sql", "SELECT sample_id FROM sample_status WHERE passed ORDER BY 1", "--format", "csv",
         "--catalog", str(catalog_dir)],
    )  # fmt: skip
    assert status.exit_code == 0 and status.stdout.split() == ['"sample_id"', '"a"', '"b"', '"d"', '"f"']


def check(*args):
    result = CliRunner().invoke(app, ["check", *args])
    if result.exit_code == 0:
        last = result.stdout.strip().splitlines()[-1]
        verdict = json.loads(last)
        assert set(verdict) >= {"passed", "score", "reason", "extracted", "detail"}
        return result, verdict
    return result, None


def test_cli_check_math_through_the_worker(tmp_path):
    _, v = check("--verifier", "math", "--response", "so \\boxed{\\dfrac12}", "--reference", "0.5")
    assert (v["passed"], v["score"], v["reason"], v["extracted"]) == (True, 1.0, "ok", "\\dfrac12")
    assert v["detail"]["method"] == "boxed"
    response = tmp_path / "r.txt"
    response.write_text("<think>2?</think> The final answer is 3.")
    _, v = check("--verifier", "math", "--response", f"@{response}", "--reference", "2")
    assert (v["passed"], v["reason"], v["extracted"]) == (False, "wrong", "3")
    start = time.monotonic()
    result, v = check(
        "--verifier",
        "math",
        "--response",
        "\\boxed{10^{10^{10^{10}}}}",
        "--reference",
        "2",
        "--deadline",
        "1",
    )
    assert v["reason"] == "timeout" and "worker killed" in v["detail"]["error"], result.output
    assert time.monotonic() - start < 30  # worker start-up plus the 1 s deadline


def test_cli_check_problem_json_and_spec(tmp_path):
    problem = tmp_path / "p.json"
    problem.write_text(json.dumps({"problem_id": "x", "answer": "Paris", "verifier": "normalized"}))
    _, v = check("--response", "\\boxed{ paris }", "--problem-json", str(problem))
    assert v["passed"] is True and v["reason"] == "ok"
    _, v = check(
        "--verifier",
        "numeric",
        "--response",
        "\\boxed{3.14}",
        "--reference",
        "3.14159",
        "--spec",
        '{"rel_tol": 0.01}',
    )
    assert v["passed"] is True, v
    _, v = check("--verifier", "numeric", "--response", "\\boxed{3.14}", "--reference", "3.14159")
    assert v["passed"] is False and v["reason"] == "wrong"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--verifier", "math", "--response", "1"], "exactly one of"),
        (["--verifier", "math", "--response", "1", "--reference", "1", "--problem-json", "x"],
         "exactly one of"),  # fmt: skip
        (["--verifier", "nope", "--response", "1", "--reference", "1"], "unknown verifier"),
        (["--verifier", "math", "--response", "1", "--reference", "1", "--spec", "{"], "--spec"),
        (["--response", "1", "--reference", "1"], "--verifier is required"),
        (["--verifier", "math"], "Missing option"),
    ],
)
def test_cli_check_usage_errors_exit_2(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    result, _ = check(*args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "args",
    [["--verifier", "math", "--response", "@missing.txt", "--reference", "1"],
     ["--verifier", "math", "--response", "1", "--problem-json", "missing.json"]],
)  # fmt: skip
def test_cli_check_missing_file_exits_1(tmp_path, monkeypatch, args):
    monkeypatch.chdir(tmp_path)
    result, _ = check(*args)
    assert result.exit_code == 1, result.output
    assert "no such file" in result.output and "Traceback" not in result.output


def _many_files(store, files: int = 4, per: int = 30) -> list[str]:
    """Samples of one problem in ``files`` separate data files; their ids in insert order."""
    pid = problem_id("other", "capital of Spain?")
    store.append({"problems": [{"problem_id": pid, "source": "test", "domain": "other",
                                "question": "capital of Spain?", "answer": "Madrid",
                                "verifier": "normalized", "verifier_spec": None}]})  # fmt: skip
    ids = []
    for f in range(files):
        rows = []
        for j in range(per):
            i = f * per + j
            sid = sample_id(pid, "m", {}, i)
            ids.append(sid)
            rows.append({"sample_id": sid, "problem_id": pid, "role": "teacher",
                         "origin": "generate", "model": "m", "backend": "fake", "params": "{}",
                         "sample_index": i, "completion": ["\\boxed{Madrid}", "\\boxed{Paris}"][i % 2]})  # fmt: skip
        store.append({"samples": rows})
    return ids


def test_pending_samples_come_in_row_order_and_batches_read_by_span(catalog):
    """Pending samples come in the order they were written (DuckLake row ids), so a batch
    reads the files its rows lie in; the span read returns exactly what a read by id does,
    also when the row ids given are wrong (then the missing ones are read by id)."""
    import pyarrow as pa
    from tracemill.flows.verify import _read_batch, pending_samples

    written = _many_files(catalog)
    todo, _ = pending_samples(catalog)
    assert todo.column("sample_id").to_pylist() == written  # insert order, not id order
    rows = todo.column("row_id").to_pylist()
    assert rows == sorted(rows) and len(set(rows)) == len(rows)

    batch = todo.slice(35, 40)  # spans the second and third file
    by_id, problems_by_id = _read_batch(catalog, batch.select(["sample_id"]))
    by_span, problems_by_span = _read_batch(catalog, batch.select(["sample_id", "row_id"]))
    assert by_span.equals(by_id) and by_id.num_rows == 40
    assert problems_by_span.equals(problems_by_id)
    assert by_id.column("sample_id").to_pylist() == sorted(batch.column("sample_id").to_pylist())

    at = batch.schema.get_field_index("row_id")
    wrong = batch.set_column(at, "row_id", pa.array([0] * 40, pa.int64()))
    stale, _ = _read_batch(catalog, wrong.select(["sample_id", "row_id"]))
    assert stale.equals(by_id)


def test_verify_in_row_order_writes_every_verdict_once(catalog):
    written = _many_files(catalog)
    counts = verify_samples(catalog, run_id="r1", batch_size=7)
    assert counts["verified"] == len(written) and counts["passed"] == len(written) // 2
    got = catalog.sql("SELECT sample_id, count(*) AS n FROM verdicts GROUP BY ALL").to_pylist()
    assert sorted(r["sample_id"] for r in got) == sorted(written)
    assert {r["n"] for r in got} == {1}
    assert verify_samples(catalog, run_id="r2")["verified"] == 0
