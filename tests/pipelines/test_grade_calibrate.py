import pyarrow as pa
import pytest

from pipelines.grade import (
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
