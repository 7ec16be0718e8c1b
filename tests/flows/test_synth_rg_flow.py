"""reasoning-gym families end to end: synth (CLI) → distill + verify → calibrate."""

import json

import pytest

pytest.importorskip("tracemill.pipelines.synth.rg")

from tracemill.flows.distill import DistillStage, distill  # noqa: E402
from tracemill.flows.grade import CalibrateStage, calibrate  # noqa: E402
from tracemill.pipelines.generate.fake import FakeBackend  # noqa: E402
from tracemill.pipelines.grade import calibration_problems, catalog_calibration  # noqa: E402
from tracemill.stores.catalog import open_catalog  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

FAMILIES = [
    "rg:knights_knaves",  # text answers
    pytest.param("rg:arc_1d", marks=pytest.mark.slow),  # multi-line grids
]
"""Every family runs this path in ``benchmarks/rg_families.py`` (99 of 99 last run)."""


def oracle(truth, up_to_level):
    """A student that answers right up to a level (answers looked up by problem id)."""

    def respond(request, index):
        answer, level = truth[request.problem_id]
        said = answer if level <= up_to_level else "I cannot tell"
        return f"<think>checking</think>\n<answer>{said}</answer>"

    return respond


@pytest.mark.parametrize("family", FAMILIES)
def test_synth_verify_calibrate(family, catalog_dir, tmp_path):
    from tracemill.flows.cli import app

    result = CliRunner().invoke(
        app, ["synth", family, "-n", "3", "--level", "2", "--start", "100", "--catalog", str(catalog_dir)]
    )
    assert result.exit_code == 0, result.output
    with open_catalog(catalog_dir) as store:
        rows = store.sql(
            "SELECT problem_id, answer, source_level, verifier FROM problems"
        ).to_pylist()
    assert len(rows) == 3 and {r["verifier"] for r in rows} == {family}
    truth = {r["problem_id"]: (r["answer"], r["source_level"]) for r in rows}
    # teacher samples verified by reasoning-gym's scorer as they are committed
    report = distill(
        DistillStage(backend="fake", model="t", n=2, max_tokens=4096),
        catalog=str(catalog_dir),
        backend=FakeBackend("t", respond=oracle(truth, 2)),
    )
    assert (report.samples, report.verified, report.accepted) == (6, 6, 6)
    # measured pass rate per level for a student that knows levels up to 5
    problems = calibration_problems(family, [1, 10], 2)
    truth = {r["problem_id"]: (r["answer"], r["source_level"]) for r in problems.to_pylist()}
    cfg = CalibrateStage(family=family, model="student", backend="fake", levels="1,10",
                         per_level=2, k=2, method="fixed_k", max_tokens=4096)  # fmt: skip
    with open_catalog(catalog_dir) as store:
        counters, table = calibrate(
            cfg, store=store, run_id="c", report_dir=tmp_path / "cal",
            backend_factory=lambda kind, model, options: FakeBackend(
                model, respond=oracle(truth, 5)),
        )  # fmt: skip
        stored = catalog_calibration(store, family, "student").select(["level", "pass_rate"])
    assert counters["calibration"] == {"1": 1.0, "10": 0.0}
    assert stored.to_pylist() == [{"level": 1, "pass_rate": 1.0}, {"level": 10, "pass_rate": 0.0}]
    assert json.loads(problems.column("generator")[0].as_py())["family"] == family
