from tracemill.catalogs.views import latest_verdicts_sql, sample_status_sql

from tests.pipelines.build_rows import fill_catalog


def test_latest_verdict_compares_versions_numerically(catalog):
    fill_catalog(catalog)
    rows = catalog.sql(
        f"SELECT sample_id, verifier_version FROM ({latest_verdicts_sql()}) ORDER BY sample_id"
    ).to_pylist()
    latest = {r["sample_id"]: r["verifier_version"] for r in rows}
    assert latest["s2b"] == "2"
    assert latest["s2c"] == "1.10"  # not "1.9": versions are not compared as text
    assert len(latest) == 11


def test_sample_status_rules(catalog):
    fill_catalog(catalog)
    status = {
        r["sample_id"]: r
        for r in catalog.sql(sample_status_sql()).to_pylist()
    }
    assert status["s2b"]["passed"] is True
    assert status["s2c"]["passed"] is False
    assert status["s3b"]["passed"] is False and status["s3b"]["infra_failure"] is True
    assert status["s1c"]["infra_failure"] is False


def test_audit_verifier_never_vetoes(catalog):
    fill_catalog(catalog)
    catalog.append(
        {
            "verdicts": [
                {
                    "sample_id": "s1a", "problem_id": "p1", "verifier": "judge",
                    "verifier_version": "1", "passed": False, "score": 0.0, "reason": "wrong",
                }
            ]
        }
    )
    status = {r["sample_id"]: r for r in catalog.sql(sample_status_sql()).to_pylist()}
    # the problem's verifier (tm_test_exact) decides; the failing judge is an audit
    assert status["s1a"]["passed"] is True and status["s1a"]["audits_disagree"] is True
