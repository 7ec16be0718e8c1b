import hashlib
import json
import re
from pathlib import Path

import pytest
from tracemill.catalogs import problem_id
from tracemill.flows.grade import (
    CalibrateStage,
    GradeStage,
    SelectStage,
    calibrate,
    grade,
    publish_markdown,
    read_selection,
    select,
    select_stage,
)
from tracemill.flows.stages import StageContext, execute_stage, get_stage
from tracemill.stores.catalog import open_catalog
from typer.testing import CliRunner

RATES = [0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.25, 0.5, 0.75, 0.1]
_RATE = re.compile(r"rate=([0-9.]+)")


def _unit(text: str, index: int) -> float:
    digest = hashlib.md5(f"{text}\x00{index}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def respond(request, index):
    """A student that answers correctly with the rate written in the question."""
    question = request.messages[-1]["content"]
    rate = float(_RATE.search(question).group(1))
    ok = _unit(question, index) < rate
    words = " ".join(["step"] * int(5 + 20 * (1 - rate)))
    return f"<think>{words}</think> \\boxed{{{7 if ok else 0}}}"


def judge_respond(request, index):
    return "<answer>6</answer>"


class Factory:
    """Backend factory counting every sample generated (student and judge)."""

    def __init__(self):
        self.backends = []

    def __call__(self, kind, model, options):
        from tracemill.pipelines.generate import make_backend

        fn = judge_respond if model == "judge" else respond
        backend = make_backend("fake", model, respond=fn)
        self.backends.append(backend)
        return backend

    @property
    def calls(self):
        return sum(b.calls for b in self.backends)


def _problems(tag: str, rates=RATES):
    rows = []
    for i, rate in enumerate(rates):
        q = f"{tag} problem {i}: rate={rate}"
        rows.append({
            "problem_id": problem_id("math", q), "source": tag, "domain": "math",
            "question": q, "answer": "7", "verifier": "exact",
        })
    return rows


@pytest.fixture
def store(catalog):
    catalog.append({"problems": _problems("first")})
    return catalog


def _cfg(**kw):
    base = {"model": "student", "backend": "fake", "k": 16, "max_tokens": 200}
    return GradeStage(**{**base, **kw})


def _grade(store, cfg, factory, tmp_path, source="first"):
    from tracemill.flows.grade import choose_problems

    problems = choose_problems(store, source=[source], limit=cfg.limit)
    return grade(cfg, problems, store=store, run_id="r", backend_factory=factory,
                 report_dir=tmp_path / "report")


def test_stages_are_registered_and_strict():
    assert get_stage("grade").config is GradeStage
    assert get_stage("select").config is SelectStage
    assert get_stage("calibrate").config is CalibrateStage
    with pytest.raises(ValueError):
        GradeStage(model="m", unknown=1)
    with pytest.raises(ValueError):
        SelectStage(dataset="x", sizee=3)


def test_grade_end_to_end_then_rerun_samples_nothing(store, tmp_path):
    factory = Factory()
    out = _grade(store, _cfg(k=32, stop_rule="interval"), factory, tmp_path)
    c = out.counters
    assert c["graded"] == 10 and c["already_graded"] == 0
    assert c["samples_generated"] == c["samples_drawn"] == factory.calls
    assert c["samples_drawn"] < c["fixed_k_samples"] == 320
    assert c["stopped_early"] >= 6  # the six certain problems stop early
    levels = {r["problem_id"]: r for r in out.grades.to_pylist()}
    by_rate = {p["problem_id"]: RATES[i] for i, p in enumerate(_problems("first"))}
    for pid, rate in by_rate.items():
        if rate in (0.0, 1.0):
            assert levels[pid]["level"] == (10 if rate == 0.0 else 1)
            assert levels[pid]["k"] == 16  # 80 % Wilson bound inside the bin at n = 15
    # samples are kept, as the student's, with verdicts
    n_samples = store.sql("SELECT count(*) AS n FROM samples WHERE role = 'student'")
    assert n_samples.column("n")[0].as_py() == c["samples_drawn"]
    passed = store.sql("SELECT sum(passed::INT) AS p FROM verdicts").column("p")[0].as_py()
    assert passed == sum(r["passes"] for r in out.grades.to_pylist())
    grades = store.read("grades").to_pylist()
    assert {g["method"] for g in grades} == {"adaptive_k"}
    assert {g["grader_model"] for g in grades} == {"student"}
    params = json.loads(grades[0]["params"])
    assert params["k"] == 32 and params["sampling"]["temperature"] == 0.6
    # report
    report = Path(c["report"])
    assert report.exists() and "level" in report.read_text()

    again = Factory()
    out2 = _grade(store, _cfg(k=32, stop_rule="interval"), again, tmp_path)
    assert again.calls == 0
    assert out2.counters["graded"] == 0 and out2.counters["already_graded"] == 10
    assert store.count("grades") == 10
    # another method on the same samples: new grades, still no new sampling
    fixed = Factory()
    out3 = _grade(store, _cfg(method="fixed_k", k=8), fixed, tmp_path)
    assert fixed.calls == 0
    assert out3.counters["graded"] == 10 and out3.counters["samples_reused"] == 80
    assert out3.counters["samples_generated"] == 0
    assert store.count("grades") == 20
    # k = 8 fixed vs k = 32 adaptive: not the same grade, so no agreement is claimed
    assert "level_agreement" not in out3.counters


def test_summary_reports_agreement_between_adaptive_and_fixed_k(store, tmp_path):
    adaptive = _grade(store, _cfg(k=32), Factory(), tmp_path)
    assert "level_agreement" not in adaptive.counters  # nothing to compare with yet
    fixed = _grade(store, _cfg(method="fixed_k", k=32), Factory(), tmp_path)
    c = fixed.counters
    assert c["agreement_with"] == "adaptive_k" and c["agreement_problems"] == 10
    a_levels = {r["problem_id"]: r["level"] for r in adaptive.grades.to_pylist()}
    f_levels = {r["problem_id"]: r["level"] for r in fixed.grades.to_pylist()}
    expected = sum(a_levels[p] == f_levels[p] for p in a_levels) / 10
    assert c["level_agreement"] == expected
    # other sampling parameters are another grade: no agreement claimed
    other = _grade(store, _cfg(method="fixed_k", k=32, temperature=0.9), Factory(), tmp_path)
    assert "level_agreement" not in other.counters


class FlakyBackend:
    """Fails every sample of the problems named in ``broken`` (error samples)."""

    name = "flaky"

    def __init__(self, broken):
        from tracemill.pipelines.generate import make_backend

        self.inner = make_backend("fake", "student", respond=respond)
        self.model = "student"
        self.broken = broken

    def generate(self, requests):
        from tracemill.pipelines.generate.base import error_sample

        for r in requests:
            for s in self.inner.generate([r]):
                yield error_sample(r, s.sample_index, "boom", 0.0) if r.problem_id in \
                    self.broken else s


def test_generation_errors_leave_problems_ungraded_until_a_rerun(store, tmp_path):
    ids = [p["problem_id"] for p in _problems("first")]
    out = _grade(store, _cfg(method="fixed_k", k=4),
                 lambda kind, model, opts: FlakyBackend({ids[0]}), tmp_path)
    c = out.counters
    assert c["generation_errors"] == 4 and c["incomplete"] == 1 and c["graded"] == 9
    assert ids[0] not in out.grades.column("problem_id").to_pylist()
    factory = Factory()
    again = _grade(store, _cfg(method="fixed_k", k=4), factory, tmp_path)
    assert again.counters["graded"] == 1 and factory.calls == 4


def test_plots_are_written(store, tmp_path):
    pytest.importorskip("matplotlib")
    out = _grade(store, _cfg(method="fixed_k", k=4), Factory(), tmp_path)
    report = Path(out.counters["report"])
    assert (report.parent / "levels.png").stat().st_size > 1000
    assert (report.parent / "pass_rate_vs_tokens.png").stat().st_size > 1000
    assert "levels.png" in report.read_text()
    assert publish_markdown("x", "# not in a flow run") is False


def test_answer_first_uses_the_judge(store, tmp_path):
    factory = Factory()
    cfg = _cfg(method="answer_first", judge_model="judge", judge_backend="fake")
    out = _grade(store, cfg, factory, tmp_path)
    rows = out.grades.to_pylist()
    assert all(r["k"] == 1 for r in rows)
    assert {r["level"] for r in rows if r["passes"] == 1} <= {1}
    assert {r["level"] for r in rows if r["passes"] == 0} == {6}
    judged = out.counters["judged"]
    assert judged == sum(1 for r in rows if r["passes"] == 0) > 0
    assert {r["method"] for r in rows} == {"answer_first"}
    # the judge's replies are kept as samples of role judge, never verified
    kept = store.sql("SELECT * FROM samples WHERE role = 'judge'").to_pylist()
    assert len(kept) == judged == out.counters["judge_generated"]
    assert {k["model"] for k in kept} == {"judge"} and {k["sample_index"] for k in kept} == {0}
    assert all("<answer>6</answer>" in k["completion"] for k in kept)
    assert all("Student's answer" in k["prompt"][-1]["content"] for k in kept)
    from tracemill.flows.verify import pending_samples

    todo, _ = pending_samples(store, force=True)
    judge_ids = {k["sample_id"] for k in kept}
    assert todo.num_rows > 0 and not judge_ids & set(todo.column("sample_id").to_pylist())
    # another grade of the same answers (other bins): the judge is not asked again
    again = Factory()
    out2 = _grade(store, _cfg(method="answer_first", judge_model="judge", judge_backend="fake",
                              bins=[0.5, 0.0]), again, tmp_path)  # fmt: skip
    assert again.calls == 0 and out2.counters["judge_reused"] == judged
    assert {r["level"] for r in out2.grades.to_pylist() if r["passes"] == 0} == {2}  # clamped
    # a different student (its answers differ): the judge is asked afresh
    other = Factory()
    _grade(store, _cfg(method="answer_first", judge_model="judge", judge_backend="fake",
                       temperature=0.9), other, tmp_path)  # fmt: skip
    judge_calls = sum(b.calls for b in other.backends if b.model == "judge")
    assert judge_calls > 0
    assert store.sql("SELECT count(*) AS n FROM samples WHERE role = 'judge'").column("n")[
        0
    ].as_py() == judged + judge_calls


def test_select_is_reproducible_after_more_data_arrives(store, tmp_path):
    _grade(store, _cfg(method="fixed_k", k=8), Factory(), tmp_path)
    cfg = SelectStage(dataset="mix", size=4, distribution="1:0.5,10:0.5", seed=1,
                      report_dir=str(tmp_path / "sel"))
    counters, sel = select(cfg, store=store, run_id="s1")
    assert counters["version"] == 1 and counters["new_version"]
    assert counters["levels"] == {"1": 2, "10": 2} and counters["shortfall"] == 0
    first = read_selection(store, "mix").column("problem_id").to_pylist()
    assert first == sel.problem_ids

    # the same selection again: no new version
    counters_again, _ = select(cfg, store=store, run_id="s2")
    assert counters_again["version"] == 1 and not counters_again["new_version"]

    # more problems and grades arrive; version 1 still reads the same rows
    store.append({"problems": _problems("second", [0.0] * 6 + [1.0] * 6)})
    _grade(store, _cfg(method="fixed_k", k=8), Factory(), tmp_path, source="second")
    assert read_selection(store, "mix", 1).column("problem_id").to_pylist() == first
    counters3, sel3 = select(cfg, store=store, run_id="s3")
    assert counters3["version"] == 2
    assert read_selection(store, "mix", 1).column("problem_id").to_pylist() == first
    assert read_selection(store, "mix").column("problem_id").to_pylist() == sel3.problem_ids
    row = store.sql("SELECT * FROM datasets WHERE name = 'mix' ORDER BY version").to_pylist()
    assert [r["kind"] for r in row] == ["selection", "selection"]
    assert row[0]["snapshot_id"] < row[1]["snapshot_id"]
    assert json.loads(row[0]["params"])["requested"] == {"1": 2, "10": 2}


def test_select_stage_band_curriculum_and_errors(store, tmp_path, catalog_dir):
    ctx = StageContext(catalog=str(catalog_dir), run_id="x", base_dir=tmp_path)
    _grade(store, _cfg(method="fixed_k", k=8), Factory(), tmp_path)
    store.close()
    cfg = SelectStage(dataset="rl", band="0.01:0.99", curriculum=True)
    counters = execute_stage(get_stage("select"), ctx, cfg)  # the stage and its report
    assert counters["rows"] >= 1
    # the band drops never- and always-solved problems: no level 1 or 10 is left
    assert set(counters["levels"]) <= {str(lv) for lv in range(2, 10)}
    assert len(counters["stages"]) == len(counters["levels"])
    report = Path(counters["report"])
    assert report.exists() and "| level | supply | requested | taken |" in report.read_text()
    assert (report.parent / "levels.png").exists()
    assert json.loads((report.parent / "summary.json").read_text())["rows"] == counters["rows"]
    with pytest.raises(ValueError, match="distribution needs a size"):
        select_stage(ctx, SelectStage(dataset="bad", distribution="1:1"))


def test_calibrate_tabulates_pass_rate_per_level(catalog, tmp_path):
    def factory(kind, model, options):
        from tracemill.pipelines.generate import make_backend

        return make_backend("fake", model)

    cfg = CalibrateStage(family="game_of_24", model="student", backend="fake", levels="1-2",
                         per_level=3, k=2, method="fixed_k", max_tokens=50)
    counters, table = calibrate(cfg, store=catalog, run_id="c", report_dir=tmp_path / "cal",
                                backend_factory=factory)
    rows = table.to_pylist()
    assert [r["level"] for r in rows] == [1, 2]
    assert [r["items"] for r in rows] == [3, 3] and [r["samples"] for r in rows] == [6, 6]
    assert counters["problems_added"] == 6 and set(counters["calibration"]) == {"1", "2"}
    assert (tmp_path / "cal" / "calibration.parquet").exists()
    assert "| 1 | 3 | 6 |" in (tmp_path / "cal" / "calibration.md").read_text()


def test_cli_grade_and_select(store, catalog_dir, tmp_path):
    from tracemill.flows.cli import app

    store.close()
    runner = CliRunner()
    result = runner.invoke(app, [
        "grade", "--model", "m", "--samples", "4", "--backend", "fake", "--fixed",
        "--max-tokens", "50", "--catalog", str(catalog_dir), "--report-dir", str(tmp_path / "g"),
    ])
    assert result.exit_code == 0, result.output
    assert "vs fixed k" in result.output and "levels" in result.output
    result = runner.invoke(app, [
        "grade", "--model", "m", "--samples", "4", "--backend", "fake", "--adaptive",
        "--max-tokens", "50", "--catalog", str(catalog_dir), "--report-dir", str(tmp_path / "g"),
    ])
    assert result.exit_code == 0, result.output
    assert "levels agree with fixed_k on" in result.output, result.output
    result = runner.invoke(app, [
        "select", "--name", "all", "--size", "3", "--distribution", "10:1",
        "--catalog", str(catalog_dir), "--report-dir", str(tmp_path / "s"),
    ])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["select", "--name", "x", "--band", "nonsense",
                                 "--catalog", str(catalog_dir)])
    assert result.exit_code == 2 and "band" in result.output


def test_cli_calibrate_target_reads_the_catalog(catalog_dir, tmp_path):
    from tracemill.flows.cli import app

    args = ["calibrate", "game_of_24", "--model", "student", "--backend", "fake",
            "--levels", "1-2", "--per-level", "2", "--samples", "2", "--max-tokens", "50",
            "--catalog", str(catalog_dir), "--report-dir", str(tmp_path / "cal")]  # fmt: skip
    runner = CliRunner()
    result = runner.invoke(app, [*args, "--target", "0.0"])
    assert result.exit_code == 0, result.output
    assert "level nearest pass rate 0: " in result.output
    assert "FROM calibration" in (tmp_path / "cal" / "calibration.md").read_text()
    # a rerun samples nothing and answers from the stored grades
    from tracemill.pipelines.grade import catalog_calibration, level_for_target
    from tracemill.stores.catalog import open_catalog

    result = runner.invoke(app, [*args, "--target", "1"])
    assert result.exit_code == 0, result.output
    with open_catalog(catalog_dir) as store:
        assert store.count("samples") == 2 * 2 * 2
        table = catalog_calibration(store, "game_of_24", "student")
        assert table.column("samples").to_pylist() == [4, 4]
        level = level_for_target("game_of_24", "student", 1.0, store)
    assert f"level nearest pass rate 1: {level} " in result.output
    result = runner.invoke(app, [*args, "--target", "2"])
    assert result.exit_code == 2


# --- the real transformers backend on a tiny local model ------------------------------


@pytest.fixture(scope="module")
def guesser(tmp_path_factory):
    pytest.importorskip("transformers")
    from tracemill.pipelines.grade.guesser import build_guesser
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    return build_guesser(tmp_path_factory.mktemp("guesser") / "model")


def _no_backend(kind, model, options):
    raise AssertionError("a rerun must not load a backend")


def test_grade_tiny_local_model_end_to_end_then_rerun_samples_nothing(
    catalog, catalog_dir, guesser, tmp_path
):
    from tracemill.pipelines.grade import DEFAULT_BINS
    from tracemill.pipelines.grade.guesser import guess_problems, true_pass_rates

    problems = guess_problems(12, seed=1)
    catalog.append({"problems": problems})
    table = catalog.read("problems")
    opts = {"path": str(guesser), "device": "cpu", "batch_size": 64}
    cfg = GradeStage(model="tiny-guesser", backend="transformers", backend_options=opts, k=24,
                     temperature=1.0, top_p=1.0, max_tokens=1, plots=False)  # fmt: skip
    out = grade(cfg, table, store=catalog, run_id="t1", report_dir=tmp_path / "g")
    c = out.counters
    assert c["graded"] == 12 and c["incomplete"] == 0 and c["generation_errors"] == 0
    assert c["samples_generated"] == c["samples_drawn"] < c["fixed_k_samples"] == 12 * 24
    samples = catalog.sql(
        "SELECT completion, completion_tokens, backend, role FROM samples"
    ).to_pylist()
    assert len(samples) == c["samples_drawn"]
    assert {(s["backend"], s["role"], s["completion_tokens"]) for s in samples} == {
        ("transformers", "student", 1)
    }
    assert {s["completion"] for s in samples} <= {"0", "1"}
    # the grades follow the model's own pass rates (read from its logits)
    truth = true_pass_rates(guesser, problems)
    grades = {g["problem_id"]: g for g in out.grades.to_pylist()}
    assert len({DEFAULT_BINS.level(p) for p in truth.values()}) >= 4  # a spread of levels
    errors = sorted(abs(grades[pid]["pass_rate"] - p) for pid, p in truth.items())
    assert sum(errors) / len(errors) < 0.1 and errors[-2] < 0.2
    passed = catalog.sql("SELECT sum(passed::INT) AS n FROM verdicts").column("n")[0].as_py()
    assert passed == sum(g["passes"] for g in grades.values())

    # rerun: nothing to sample, no backend is even loaded
    again = grade(cfg, table, store=catalog, run_id="t2", backend_factory=_no_backend)
    assert again.counters["graded"] == 0 and again.counters["already_graded"] == 12
    assert again.counters["samples_generated"] == 0 and catalog.count("grades") == 12
    # fixed k on the same catalog reuses the adaptive samples and draws only the rest
    fixed = grade(cfg.model_copy(update={"method": "fixed_k"}), table, store=catalog,
                  run_id="t3")  # fmt: skip
    f = fixed.counters
    assert f["samples_reused"] == c["samples_drawn"]
    assert f["samples_generated"] == 12 * 24 - c["samples_drawn"]
    assert catalog.count("samples") == 12 * 24
    fixed_levels = {g["problem_id"]: g["level"] for g in fixed.grades.to_pylist()}
    agree = sum(fixed_levels[pid] == grades[pid]["level"] for pid in grades)
    assert agree >= 10
    # and through the CLI: the same grade again is already there
    from tracemill.flows.cli import app

    catalog.close()
    result = CliRunner().invoke(app, [
        "grade", "--model", "tiny-guesser", "--backend", "transformers", "-o",
        f"path={guesser}", "-o", "device=cpu", "-o", "batch_size=64", "--samples", "24",
        "--temperature", "1", "--top-p", "1", "--max-tokens", "1",
        "--catalog", str(catalog_dir), "--report-dir", str(tmp_path / "cli"),
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "0 graded now, 12 already graded" in result.output


def test_reused_samples_are_graded_by_the_primary_verifier_not_audits(store, tmp_path):
    """Regression: a later audit verdict (any verifier) used to decide a reused sample."""
    first = _grade(store, _cfg(method="fixed_k", k=4), Factory(), tmp_path)
    passes = {r["problem_id"]: r["passes"] for r in first.grades.to_pylist()}
    assert 0 < sum(passes.values()) < 40
    audits = store.sql(
        "SELECT sample_id, problem_id, 'numeric' AS verifier, '9' AS verifier_version, "
        "true AS passed, 1.0::DOUBLE AS score, 'ok' AS reason FROM samples WHERE role = 'student'"
    ).to_pylist()
    store.append({"verdicts": audits})
    again = Factory()
    out = _grade(store, _cfg(method="fixed_k", k=4, bins=[0.5, 0.0]), again, tmp_path)
    assert again.calls == 0
    assert {r["problem_id"]: r["passes"] for r in out.grades.to_pylist()} == passes


def _usage_of(store, role, run_id):
    return store.sql(
        "SELECT coalesce(sum(prompt_tokens), 0)::BIGINT AS i, "
        "coalesce(sum(completion_tokens), 0)::BIGINT AS o, "
        "sum(cost_usd) AS c, count(*) AS n FROM samples WHERE role = ? AND run_id = ?",
        [role, run_id],
    ).to_pylist()[0]


def test_answer_first_judge_usage_is_in_the_counters(store, tmp_path):
    """Regression: the judge's replies' tokens and cost were left out of grade's counters
    (and so of its runs row); replies reused from the catalog cost nothing."""
    cfg = _cfg(method="answer_first", judge_model="judge", judge_backend="fake",
               prices={"input": 1, "output": 2}, judge_prices={"input": 10, "output": 20})
    out = _grade(store, cfg, Factory(), tmp_path)
    c = out.counters
    student, judge = _usage_of(store, "student", "r"), _usage_of(store, "judge", "r")
    assert judge["n"] == c["judge_generated"] == c["judged"] > 0 and c["judge_reused"] == 0
    assert (c["judge_tokens_in"], c["judge_tokens_out"]) == (judge["i"], judge["o"])
    assert judge["i"] > 0 and judge["o"] > 0
    assert c["judge_cost_usd"] == pytest.approx((10 * judge["i"] + 20 * judge["o"]) / 1e6)
    assert judge["c"] == pytest.approx(c["judge_cost_usd"])
    assert c["tokens_in"] == student["i"] + judge["i"]
    assert c["tokens_out"] == student["o"] + judge["o"]
    assert c["cost_usd"] == pytest.approx(student["c"] + judge["c"])
    assert student["c"] == pytest.approx((student["i"] + 2 * student["o"]) / 1e6)
    assert c["judge"] == "fake:judge"
    text = Path(c["report"]).read_text()
    assert f"judge fake:judge: {judge['n']} reply(ies) generated, 0 reused" in text
    # the same answers graded again (other bins): the judge's replies are read back
    again = Factory()
    out2 = _grade(store, _cfg(method="answer_first", judge_model="judge", judge_backend="fake",
                              bins=[0.5, 0.0], judge_prices={"input": 10}), again, tmp_path)
    c2 = out2.counters
    assert again.calls == 0 and c2["judge_reused"] == judge["n"] and c2["judge_generated"] == 0
    assert (c2["tokens_in"], c2["tokens_out"], c2["judge_tokens_in"]) == (0, 0, 0)
    assert "cost_usd" not in c2 and "judge_cost_usd" not in c2


def test_judge_prices_default_and_checks():
    own = GradeStage(model="m", method="answer_first", prices={"input": 1, "output": 2})
    assert own.judge_price_table() == {"input": 1.0, "output": 2.0}  # the student judges
    other = GradeStage(model="m", judge_model="j", prices={"input": 1})
    assert other.judge_price_table() == {}
    assert GradeStage(model="m", judge_model="j", judge_prices={"output": "3"}
                      ).judge_price_table() == {"output": 3.0}  # fmt: skip
    with pytest.raises(ValueError, match="judge calls are online"):
        GradeStage(model="m", judge_prices={"batch_input": 1})
    with pytest.raises(ValueError, match="prices take"):
        GradeStage(model="m", judge_prices={"in": 1})


def test_cli_grade_runs_row_counts_the_judge(store, catalog_dir, tmp_path):
    """Regression: grade's runs row held the student's tokens and cost only."""
    from tracemill.flows.cli import app

    store.close()
    result = CliRunner().invoke(app, [
        "grade", "--model", "m", "--backend", "fake", "--method", "answer_first",
        "--max-tokens", "50", "--price", "input=1", "--judge-price", "input=100",
        "--judge-price", "output=100", "--catalog", str(catalog_dir),
        "--report-dir", str(tmp_path / "g"),
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "judge fake:m:" in result.output and "reply(ies) generated" in result.output
    with open_catalog(catalog_dir, read_only=True) as cat:
        (row,) = cat.sql("SELECT * FROM runs WHERE flow = 'grade'").to_pylist()
        student = _usage_of(cat, "student", row["run_id"])
        judge = _usage_of(cat, "judge", row["run_id"])
    assert judge["n"] > 0 and json.loads(row["counts"])["judge_generated"] == judge["n"]
    assert row["prompt_tokens"] == student["i"] + judge["i"]
    assert row["completion_tokens"] == student["o"] + judge["o"]
    assert row["cost_usd"] == pytest.approx(student["c"] + judge["c"])
    assert judge["c"] == pytest.approx(100 * (judge["i"] + judge["o"]) / 1e6)
    assert json.loads(row["config"])["judge_prices"] == {"input": 100.0, "output": 100.0}
