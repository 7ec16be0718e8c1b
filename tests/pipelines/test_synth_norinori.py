"""Norinori: brute-force uniqueness, answer spellings, rule violations, determinism."""

import itertools
import json

import pytest
from tracemill.pipelines.synth import generate_item, generate_problems, get_task, make_config
from tracemill.pipelines.synth.families.norinori import (
    MAX_REGIONS,
    NorinoriConfig,
    norinori_violation,
)
from tracemill.pipelines.synth.grid import format_binary_grid, is_connected
from tracemill.pipelines.verify import get_verifier

TASK = get_task("norinori")

# 2x2 blocks: many shadings are valid, so any of them must pass
BLOCKS = {"size": 4, "regions": [[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 3, 3], [2, 2, 3, 3]]}
VALID = "# # . .\n. . # #\n# . . .\n# . # #"


def spec_of(**extra):
    return {**BLOCKS, "shaded": [], **extra}


def verdict(spec, answer):
    result = TASK.check(spec, answer)
    return (result, "") if isinstance(result, float) else (result.score, result.detail["error"])


def rows(level, count=3, seed=7):
    return generate_problems("norinori", count, level=level, seed=seed).to_pylist()


def two_per_region(spec):
    """Every shading with two cells per region (a superset of all solutions), pruned early.

    Regions are filled one after another; a partial shading is dropped as soon as a
    shaded cell has two shaded neighbours, which no solution can have.
    """
    n = spec["size"]
    regions = sorted({v for row in spec["regions"] for v in row})
    grid = [(r, c) for r in range(n) for c in range(n)]
    cells = {i: [(r, c) for r, c in grid if spec["regions"][r][c] == i] for i in regions}

    def crowded(shaded, new):
        for r, c in new:
            for x in ((r, c), (r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)):
                if x in shaded:
                    a, b = x
                    near = ((a - 1, b), (a + 1, b), (a, b - 1), (a, b + 1))
                    if sum(y in shaded for y in near) > 1:
                        return True
        return False

    def extend(k, shaded):
        if k == len(regions):
            yield shaded
            return
        for pair in itertools.combinations(cells[regions[k]], 2):
            grown = shaded | set(pair)
            if not crowded(grown, pair):
                yield from extend(k + 1, grown)

    for shaded in extend(0, frozenset()):
        yield [[(r, c) in shaded for c in range(n)] for r in range(n)]


def test_brute_force_sees_every_solution_of_a_loose_puzzle():
    found = [
        g for g in two_per_region(spec_of()) if norinori_violation(g, BLOCKS["regions"]) is None
    ]
    texts = {format_binary_grid(g) for g in found}
    assert len(found) == len(texts) > 2
    assert VALID in texts and all(TASK.check(spec_of(), t) == 1.0 for t in texts)


@pytest.mark.parametrize("level", [1, 2, 3, 4])
def test_small_puzzles_have_exactly_one_solution_by_brute_force(level):
    for row in rows(level, count=3):
        spec = json.loads(row["verifier_spec"])
        solutions = [
            grid
            for grid in two_per_region(spec)
            if norinori_violation(grid, spec["regions"]) is None
        ]
        assert len(solutions) == 1, (level, len(solutions))
        assert format_binary_grid(solutions[0]) == row["answer"]
        assert TASK.check(spec, row["answer"]) == 1.0


@pytest.mark.parametrize("level", [1, 5, 10])
def test_generated_regions_hold_two_reference_cells_each(level):
    config = make_config("norinori", level)
    for row in rows(level, count=2):
        spec = json.loads(row["verifier_spec"])
        n = spec["size"]
        assert n == config.size and spec["shaded"] == []
        lines = [line.split() for line in row["answer"].splitlines()]
        shaded = {(r, c) for r, line in enumerate(lines) for c, v in enumerate(line) if v == "#"}
        labels = sorted({v for line in spec["regions"] for v in line})
        assert labels == list(range(config.regions))
        for i in labels:
            region = {(r, c) for r in range(n) for c in range(n) if spec["regions"][r][c] == i}
            assert is_connected(region) and len(region & shaded) == 2
        assert f"{config.regions} regions" in row["question"]


def test_any_valid_shading_passes_not_only_one():
    other = "# . # .\n# . # .\n. # . #\n. # . #"
    assert verdict(spec_of(), VALID) == (1.0, "")
    assert verdict(spec_of(), other) == (1.0, "")


@pytest.mark.parametrize(
    "answer",
    [
        "1 1 0 0\n0 0 1 1\n1 0 0 0\n1 0 1 1",
        "##..\n..##\n#...\n#.##",
        "Row 1: X X . .\nRow 2: . . X X\nRow 3: X . . .\nRow 4: X . X X",
        "[[1,1,0,0],[0,0,1,1],[1,0,0,0],[1,0,1,1]]",
        "```\n# # . .\n. . # #\n# . . .\n# . # #\n```",
        "(1, 1), (1, 2), (2, 3), (2, 4), (3, 1), (4, 1), (4, 3), (4, 4)",
        "r1c1 r1c2 r2c3 r2c4 r3c1 r4c1 r4c3 r4c4",
    ],
)
def test_alternative_answer_formats_are_accepted(answer):
    assert verdict(spec_of(), answer) == (1.0, "")


def test_alternative_formats_through_the_registered_verifier():
    verify = get_verifier("norinori")
    row = rows(5, count=1)[0]
    digits = row["answer"].replace("#", "1").replace(".", "0")
    cells = [
        f"({r + 1}, {c + 1})"
        for r, line in enumerate(row["answer"].splitlines())
        for c, v in enumerate(line.split())
        if v == "#"
    ]
    assert verify(row, f"<answer>\n{digits}\n</answer>").passed
    assert verify(row, f"<answer>Shaded cells: {', '.join(cells)}</answer>").passed
    assert not verify(row, f"<answer>{', '.join(cells[:-1])}</answer>").passed


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (". # . .\n. . # #\n# . . .\n# . # #", "region A has 1 shaded cells"),
        ("# # . .\n# . # #\n# . . .\n# . # #", "region A has 3 shaded cells"),
        ("# # . .\n. . . .\n. . . .\n. . . .", "region B has 0 shaded cells"),
        # regions hold two each, but (1,1)-(1,2)-(1,3) is a triomino and (2,4) is alone
        ("# # # .\n. . . #\n# . . .\n# . # #", "(1, 2) touches 2 shaded cells"),
        # regions hold two each, but A's cells sit diagonally, each on its own
        ("# . # #\n. # . .\n# . . .\n# . # #", "(1, 1) is not part of a domino"),
    ],
)
def test_rule_violations_are_rejected(answer, error):
    score, why = verdict(spec_of(), answer)
    assert score == 0.0 and error in why, why


def test_a_shaded_square_is_not_two_dominoes():
    halves = spec_of(regions=[[0] * 4, [0] * 4, [1] * 4, [1] * 4])
    score, why = verdict(halves, ". . . .\n. # # .\n. # # .\n. . . .")
    assert score == 0.0 and "(2, 2) touches 2 shaded cells" in why, why
    assert verdict(halves, ". . . .\n. # # .\n. . . .\n. # # .") == (1.0, "")


def test_revealed_cells_must_stay_shaded():
    score, why = verdict(spec_of(shaded=[[3, 2]]), "# . # .\n# . # .\n. # . #\n. # . #")
    assert score == 0.0 and "(4, 3) must be shaded" in why
    assert verdict(spec_of(shaded=[[3, 3]]), VALID) == (1.0, "")


@pytest.mark.parametrize(
    "answer",
    ["# # . .\n. . # #\n# . . .", "# # . . .\n. . # #\n# . . .\n# . # #", "(5, 1), (1, 1)", "2 2"],
)
def test_malformed_answers_raise_value_error(answer):
    with pytest.raises(ValueError):
        TASK.check(spec_of(), answer)


@pytest.mark.parametrize("level", [1, 6, 10])
def test_same_seed_same_item_and_seeds_differ(level):
    config = make_config("norinori", level)
    first = generate_item("norinori", config, 3, 2)
    again = generate_item("norinori", config, 3, 2)
    assert (first.question, first.answer, first.spec) == (again.question, again.answer, again.spec)
    others = [generate_item("norinori", config, seed, 2).question for seed in (4, 5)]
    others.append(generate_item("norinori", config, 3, 3).question)
    assert first.question not in others


def test_levels_and_knob_validation():
    sizes = [make_config("norinori", level).size for level in range(1, 11)]
    assert sizes[0] == 4 and sizes[-1] == 10 and sizes == sorted(sizes)
    for size, most in MAX_REGIONS.items():
        NorinoriConfig(size=size, regions=most)
        with pytest.raises(ValueError):
            NorinoriConfig(size=size, regions=most + 1)
    for bad in ({"size": 3}, {"size": 11}, {"regions": 1}, {"size": 4, "regions": 5}):
        with pytest.raises(ValueError):
            NorinoriConfig(**bad)
