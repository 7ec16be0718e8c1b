import pyarrow as pa
import pytest
from tracemill.pipelines.grade import (
    calibration_problems,
    calibration_table,
    level_for_pass_rate,
    parse_levels,
)


def test_parse_levels():
    assert parse_levels("1-10") == list(range(1, 11))
    assert parse_levels("2-4, 8,3") == [2, 3, 4, 8]
    for bad in ("", "a", "5-2"):
        with pytest.raises(ValueError):
            parse_levels(bad)


def test_calibration_table_pools_per_nominal_level():
    problems = pa.table({"problem_id": ["a", "b", "c", "d"], "source_level": [1, 1, 2, 2]})
    grades = pa.table({
        "problem_id": ["a", "b", "c", "d", "zz"],
        "k": [4, 8, 4, 4, 4],
        "passes": [4, 4, 1, 0, 4],
        "level": [1, 5, 8, 10, 1],
        "mean_tokens": [10.0, 30.0, None, 50.0, 1.0],
    })
    rows = calibration_table(problems, grades).to_pylist()
    assert [r["level"] for r in rows] == [1, 2]
    one, two = rows
    assert (one["items"], one["samples"], one["passes"]) == (2, 12, 8)
    assert one["pass_rate"] == pytest.approx(8 / 12)
    assert one["mean_item_pass_rate"] == pytest.approx((1.0 + 0.5) / 2)
    assert one["mean_graded_level"] == 3.0 and one["mean_tokens"] == 20.0
    assert two["pass_rate"] == pytest.approx(1 / 8) and two["mean_tokens"] == 50.0
    assert two["ci_low"] < 1 / 8 < two["ci_high"]
    assert level_for_pass_rate(rows, 0.7) == 1
    assert level_for_pass_rate(rows, 0.0) == 2
    # equally far from both: the harder level
    assert level_for_pass_rate([{"level": 3, "pass_rate": 0.4}, {"level": 4, "pass_rate": 0.6}],
                               0.5) == 4


def test_calibration_problems_cover_each_level_without_overlap():
    table = calibration_problems("sat", [1, 3], 3, seed=5)
    assert table.num_rows == 6
    assert table.column("source_level").to_pylist() == [1, 1, 1, 3, 3, 3]
    assert len(set(table.column("problem_id").to_pylist())) == 6
    again = calibration_problems("sat", [1, 3], 3, seed=5)
    assert again.column("problem_id").to_pylist() == table.column("problem_id").to_pylist()


def _calibrated_catalog(store, model="student", rates=None, params="p1"):
    """Calibration items of ``sat`` (levels 1-3, 6 each) graded by a simulated student."""
    from tracemill.pipelines.grade import (
        GradingMethod,
        bernoulli_sampler,
        grade_problems,
        grade_rows,
    )

    rates = rates or {1: 0.9, 2: 0.5, 3: 0.1}
    problems = calibration_problems("sat", [1, 2, 3], 6, seed=2)
    store.append({"problems": problems})
    level_of = dict(zip(problems.column("problem_id").to_pylist(),
                        problems.column("source_level").to_pylist(), strict=True))  # fmt: skip
    sampler = bernoulli_sampler({pid: rates[lv] for pid, lv in level_of.items()}, seed=3,
                                tokens=lambda pid, i: 10 * level_of[pid])  # fmt: skip
    run = grade_problems(list(level_of), sampler, GradingMethod("fixed_k", k=20))
    grades = grade_rows(run, grader_model=model, params_id=params, run_id="g")
    store.append({"grades": grades})
    return problems, grades


def test_catalog_calibration_view_matches_the_table(catalog):
    from tracemill.catalogs.views import create_views
    from tracemill.pipelines.grade import catalog_calibration

    problems, grades = _calibrated_catalog(catalog)
    _calibrated_catalog(catalog, model="other", rates={1: 0.0, 2: 0.0, 3: 1.0})
    expected = calibration_table(problems, grades).to_pylist()
    got = catalog_calibration(catalog, "sat", "student").to_pylist()
    assert [r["level"] for r in got] == [1, 2, 3]
    for e, g in zip(expected, got, strict=True):
        assert {k: e[k] for k in ("level", "items", "samples", "passes")} == \
            {k: g[k] for k in ("level", "items", "samples", "passes")}
        for key in ("pass_rate", "ci_low", "ci_high", "mean_item_pass_rate",
                    "mean_graded_level", "mean_tokens"):  # fmt: skip
            assert g[key] == pytest.approx(e[key]), key
    # the catalog-wide view: one row per (family, model, level)
    create_views(catalog.con)
    rows = catalog.sql("SELECT family, grader_model, level, pass_rate FROM calibration").to_pylist()
    assert {(r["family"], r["grader_model"]) for r in rows} == {("sat", "student"),
                                                                ("sat", "other")}  # fmt: skip
    assert [r["pass_rate"] for r in rows if r["grader_model"] == "other"] == [0.0, 0.0, 1.0]
    assert catalog_calibration(catalog, "game_of_24", "student").num_rows == 0


def test_latest_grade_per_problem_counts_once(catalog):
    from tracemill.pipelines.grade import catalog_calibration

    _calibrated_catalog(catalog, rates={1: 0.0, 2: 0.0, 3: 0.0}, params="old")
    _calibrated_catalog(catalog, rates={1: 1.0, 2: 1.0, 3: 1.0}, params="new")
    rows = catalog_calibration(catalog, "sat", "student").to_pylist()
    assert [(r["items"], r["pass_rate"]) for r in rows] == [(6, 1.0)] * 3
    old = catalog_calibration(catalog, "sat", "student", params_id="old").to_pylist()
    assert [r["pass_rate"] for r in old] == [0.0] * 3


def test_level_for_target(catalog):
    from tracemill.pipelines.grade import level_for_target

    _calibrated_catalog(catalog)
    assert level_for_target("sat", "student", 0.9, catalog) == 1
    assert level_for_target("sat", "student", 0.45, catalog) == 2
    assert level_for_target("sat", "student", 0.0, catalog) == 3
    with pytest.raises(ValueError, match="tracemill calibrate sat --model nobody"):
        level_for_target("sat", "nobody", 0.5, catalog)
    with pytest.raises(ValueError, match="target pass rate"):
        level_for_target("sat", "student", 1.5, catalog)
