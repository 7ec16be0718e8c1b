import math

import pytest
from tracemill.pipelines.grade import DEFAULT_BINS, LevelBins, pass_rate, wilson_interval, z_value


def test_pass_rate():
    assert pass_rate(3, 4) == 0.75
    assert pass_rate(0, 0) == 0.0
    with pytest.raises(ValueError):
        pass_rate(5, 4)
    with pytest.raises(ValueError):
        pass_rate(-1, 4)


def test_z_values():
    assert z_value(0.95) == pytest.approx(1.959964, abs=1e-6)
    assert z_value(0.8) == pytest.approx(1.281552, abs=1e-6)
    with pytest.raises(ValueError):
        z_value(1.0)


@pytest.mark.parametrize(
    ("passes", "k", "low", "high"),
    [
        (5, 10, 0.236593, 0.763407),  # textbook value
        (8, 20, 0.218807, 0.613418),  # roots of (p - 0.4)^2 = z^2 p (1 - p) / 20
        (0, 10, 0.0, 3.841459 / 13.841459),  # z^2 / (n + z^2)
        (10, 10, 10 / 13.841459, 1.0),  # n / (n + z^2)
        (1, 1, 1 / 4.841459, 1.0),
    ],
)
def test_wilson_interval_hand_values(passes, k, low, high):
    lo, hi = wilson_interval(passes, k)
    assert lo == pytest.approx(low, abs=1e-6)
    assert hi == pytest.approx(high, abs=1e-6)
    assert lo <= passes / k <= hi


def test_wilson_interval_edges():
    assert wilson_interval(0, 0) == (0.0, 1.0)
    narrow = wilson_interval(50, 100, 0.8)
    wide = wilson_interval(50, 100, 0.99)
    assert wide[0] < narrow[0] < 0.5 < narrow[1] < wide[1]
    # the interval shrinks like 1/sqrt(n)
    w100 = wilson_interval(50, 100)[1] - wilson_interval(50, 100)[0]
    w400 = wilson_interval(200, 400)[1] - wilson_interval(200, 400)[0]
    assert w100 / w400 == pytest.approx(2.0, rel=0.02)
    assert not any(math.isnan(x) for x in wilson_interval(3, 7))


def test_default_bins_levels():
    b = DEFAULT_BINS
    assert list(b.levels) == list(range(1, 11))
    assert [b.level(p) for p in (1.0, 0.9, 0.8999, 0.5, 0.4999, 0.1, 0.0999, 0.0)] == [
        1,
        1,
        2,
        5,
        6,
        9,
        10,
        10,
    ]
    # level = 10 - min(9, floor(10 p)) for every k-sample pass rate with k = 16
    for passes in range(17):
        p = passes / 16
        assert b.level(p) == 10 - min(9, math.floor(10 * p + 1e-12))
    assert b.bounds(1) == (0.9, 1.0)
    assert b.bounds(10) == (0.0, 0.1)


def test_interval_inside_one_bin():
    b = DEFAULT_BINS
    assert b.interval_level(0.91, 1.0) == 1
    assert b.interval_level(0.0, 0.099) == 10
    assert b.interval_level(0.0, 0.1) is None  # touches level 9
    assert b.interval_level(0.52, 0.58) == 5
    assert b.interval_level(0.45, 0.55) is None


def test_custom_bins_parse_and_validate():
    b = LevelBins.parse("0.8, 0.2, 0")
    assert b.hardest == 3
    assert [b.level(p) for p in (1.0, 0.8, 0.5, 0.2, 0.1)] == [1, 1, 2, 2, 3]
    assert b.to_json() == [0.8, 0.2, 0.0]
    for bad in ("0.8,0.2", "0.2,0.8,0", "1.5,0", "0", "a,b"):
        with pytest.raises(ValueError):
            LevelBins.parse(bad)
