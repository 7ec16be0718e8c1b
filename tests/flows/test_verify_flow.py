"""The verify stage and CLI: verdicts for samples lacking one; reruns write nothing."""

import pytest
from typer.testing import CliRunner

from catalogs import problem_id, sample_id
from flows.cli import app
from flows.stages import StageContext, get_stage
from flows.verify import VerifyStage, verify_samples
from pipelines.verify import get_verifier, registry
from pipelines.verify.registry import RegisteredVerifier, Verdict


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

    get_verifier("exact")  # load the built-ins before replacing one
    monkeypatch.setitem(
        registry._REGISTRY, "exact", RegisteredVerifier("exact", "2-test", exact_v2)
    )
    counts = verify_samples(catalog, run_id="r")
    assert counts["verified"] == 2 and counts["by_verifier"]["exact"]["verified"] == 2
    assert catalog.count("verdicts") == before + 2
    versions = catalog.sql(
        "SELECT verifier_version, count(*) AS n FROM verdicts WHERE verifier = 'exact' "
        "GROUP BY 1 ORDER BY 1"
    ).to_pylist()
    assert versions == [{"verifier_version": "1", "n": 1}, {"verifier_version": "2-test", "n": 2}]


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
