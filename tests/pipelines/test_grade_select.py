import duckdb
import pyarrow as pa
import pytest
from tracemill.pipelines.grade import (
    order_rows,
    parse_band,
    parse_distribution,
    quotas,
    select_by_difficulty,
    selection_query,
)


def _candidates(per_level: dict[int, int], domain: str = "math") -> list[dict]:
    rows = []
    for level, n in per_level.items():
        for i in range(n):
            rate = round(1.0 - level / 10 + 0.05 - 0.01 * (i % 5), 3)
            rows.append(
                {
                    "problem_id": f"L{level:02d}-{domain}-{i:03d}",
                    "level": level,
                    "pass_rate": max(rate, 0.0),
                    "domain": domain,
                    "source": "s",
                }
            )
    return rows


def test_parse_distribution_and_band():
    assert parse_distribution("1:0.1, 2:0.2,3:0.7") == {1: 0.1, 2: 0.2, 3: 0.7}
    for bad in ("", "1", "1:x", "1:-1", "1:0.5,1:0.5", "1:0"):
        with pytest.raises(ValueError):
            parse_distribution(bad)
    assert parse_band("0.2:0.8") == (0.2, 0.8)
    for bad in ("0.8:0.2", "0.2", "a:b", "0:1.5"):
        with pytest.raises(ValueError):
            parse_band(bad)


def test_quotas_sum_exactly_ties_to_harder():
    assert quotas(10, {1: 1, 2: 1, 3: 1}) == {1: 3, 2: 3, 3: 4}
    assert quotas(7, {1: 0.5, 2: 0.5}) == {1: 3, 2: 4}
    q = quotas(1000, {lv: lv for lv in range(1, 11)})
    assert sum(q.values()) == 1000 and q[10] == pytest.approx(1000 * 10 / 55, abs=1)


def test_distribution_is_hit_exactly_where_supply_allows():
    cands = _candidates(dict.fromkeys(range(1, 11), 30))
    sel = select_by_difficulty(
        cands, size=50, distribution=parse_distribution("1:0.1,2:0.2,3:0.3,4:0.4"), seed=3
    )
    assert sel.taken == {1: 5, 2: 10, 3: 15, 4: 20}
    assert sel.requested == sel.taken
    assert sel.shortfall == 0 and not sel.fills
    assert len(set(sel.problem_ids)) == 50
    assert [r["position"] for r in sel.rows] == list(range(50))


def test_fill_takes_nearest_levels_harder_first_and_reports_shortfall():
    cands = _candidates({1: 30, 2: 30, 3: 2, 4: 3, 5: 30})
    sel = select_by_difficulty(cands, size=30, distribution={3: 1.0}, seed=0)
    # level 3 gives its 2, then 4 (harder neighbour) its 3, then 2, then 5 …
    assert sel.fills == [(3, 4, 3), (3, 2, 25)]
    assert sel.taken == {2: 25, 3: 2, 4: 3}
    assert sel.shortfall == 0
    none = select_by_difficulty(cands, size=30, distribution={3: 1.0}, fill="none")
    assert none.taken == {3: 2} and none.shortfall == 28
    short = select_by_difficulty(_candidates({3: 4, 6: 2}), size=10, distribution={3: 1.0})
    assert short.taken == {3: 4, 6: 2} and short.shortfall == 4


def test_selection_is_seeded_and_independent_of_input_order():
    cands = _candidates(dict.fromkeys(range(1, 6), 40))
    a = select_by_difficulty(cands, size=20, distribution={1: 1, 5: 1}, seed=7)
    b = select_by_difficulty(list(reversed(cands)), size=20, distribution={1: 1, 5: 1}, seed=7)
    c = select_by_difficulty(cands, size=20, distribution={1: 1, 5: 1}, seed=8)
    assert a.problem_ids == b.problem_ids
    assert set(a.problem_ids) != set(c.problem_ids)
    assert pa.Table.from_pylist(cands).num_rows == 200
    from_table = select_by_difficulty(
        pa.Table.from_pylist(cands), size=20, distribution={1: 1, 5: 1}, seed=7
    )
    assert from_table.problem_ids == a.problem_ids


def test_band_and_filters():
    cands = _candidates(dict.fromkeys(range(1, 11), 10)) + _candidates({5: 10}, domain="code")
    sel = select_by_difficulty(cands, band=(0.2, 0.8), domains=["math"])
    assert sel.rows and all(0.2 <= r["pass_rate"] <= 0.8 for r in sel.rows)
    assert {r["domain"] for r in sel.rows} == {"math"}
    assert len(sel.rows) == sum(
        1 for r in cands if r["domain"] == "math" and 0.2 <= r["pass_rate"] <= 0.8
    )
    capped = select_by_difficulty(cands, size=5, band=(0.2, 0.8), seed=1)
    assert len(capped.rows) == 5 and capped.shortfall == 0
    with pytest.raises(ValueError, match="size"):
        select_by_difficulty(cands, distribution={1: 1.0})


def test_curriculum_orders_easy_to_hard_with_stage_boundaries():
    cands = _candidates({1: 4, 2: 6, 5: 3, 9: 7})
    sel = select_by_difficulty(cands, curriculum=True, seed=2)
    levels = [r["level"] for r in sel.rows]
    assert levels == sorted(levels)
    for lv in (1, 2, 5, 9):
        rates = [r["pass_rate"] for r in sel.rows if r["level"] == lv]
        assert rates == sorted(rates, reverse=True)
    assert [(s.stage, s.levels, s.start, s.stop) for s in sel.stages] == [
        (1, (1,), 0, 4),
        (2, (2,), 4, 10),
        (3, (5,), 10, 13),
        (4, (9,), 13, 20),
    ]
    assert [r["stage"] for r in sel.rows] == [1] * 4 + [2] * 6 + [3] * 3 + [4] * 7
    two = select_by_difficulty(cands, curriculum=True, stages=2)
    assert [(s.levels, s.rows) for s in two.stages] == [((1, 2), 10), ((5, 9), 10)]
    plain = select_by_difficulty(cands, seed=2)
    assert {r["stage"] for r in plain.rows} == {1}
    assert [r["level"] for r in plain.rows] != sorted(r["level"] for r in plain.rows)


def test_stage_groups_never_split_a_level_and_keep_every_group():
    rows = [
        {"problem_id": f"{lv}-{i}", "level": lv, "pass_rate": 0.5}
        for lv, n in {1: 50, 2: 1, 3: 1, 4: 1}.items()
        for i in range(n)
    ]
    ordered, stages = order_rows(rows, curriculum=True, stages=3)
    assert [s.levels for s in stages] == [(1,), (2,), (3, 4)]
    ordered, stages = order_rows(rows, curriculum=True, stages=2)
    assert [s.levels for s in stages] == [(1,), (2, 3, 4)]
    assert [s.stop for s in stages] == [50, 53] and len(ordered) == 53


def test_selection_query_rereads_the_rows_in_order():
    cands = _candidates({1: 5, 3: 5})
    sel = select_by_difficulty(cands, size=6, distribution={1: 1, 3: 1}, curriculum=True)
    con = duckdb.connect()
    problems = pa.table(
        {
            "problem_id": [r["problem_id"] for r in cands] + ["it's-quoted"],
            "question": ["q"] * (len(cands) + 1),
        }
    )
    con.register("problems", problems)
    got = con.execute(selection_query(sel.rows, snapshot=None)).to_arrow_table()
    assert got.column("problem_id").to_pylist() == sel.problem_ids
    assert got.column("position").to_pylist() == list(range(6))
    assert got.column("stage").to_pylist() == [r["stage"] for r in sel.rows]
    assert "AT (VERSION => 12)" in selection_query(sel.rows, snapshot=12)
    assert con.execute(selection_query([], None)).fetchall() == []
    quoted = [{"problem_id": "it's-quoted", "position": 0, "stage": 1, "level": 1}]
    assert con.execute(selection_query(quoted, None)).fetchall()[0][3] == "it's-quoted"
