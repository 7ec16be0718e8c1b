"""Grid puzzle families: tolerant parsing, SAT uniqueness helpers, and brute-force checks
that every small generated puzzle has exactly one answer its own verifier accepts."""

import itertools
import json
import random

import pytest
from pysat.formula import IDPool
from tracemill.pipelines.synth import generate_problems, get_task
from tracemill.pipelines.synth.families.nonogram import line_patterns, runs
from tracemill.pipelines.synth.families.skyscrapers import visible
from tracemill.pipelines.synth.grid import (
    UniquenessSolver,
    digit_alphabet,
    exactly,
    format_binary_grid,
    format_grid,
    is_connected,
    parse_binary_grid,
    parse_cells,
    parse_grid,
    random_latin_square,
)
from tracemill.pipelines.verify import get_verifier

# -- parsing --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "1 2\n2 1",
        "12\n21",
        "1,2\n2,1",
        "[[1, 2], [2, 1]]",
        "[[1,2],[2,1]]",
        "| 1 | 2 |\n| 2 | 1 |",
        "Row 1: 1 2\nRow 2: 2 1",
        "```\n1 2\n\n2 1\n```",
        "  1\t2  \n  2\t1  \n",
        "1 2 2 1",
    ],
)
def test_parse_grid_tolerates_separators(text):
    assert parse_grid(text, 2, 2, digit_alphabet(2)) == [[1, 2], [2, 1]]


@pytest.mark.parametrize(
    "text", ["1 2\n2", "1 2 3\n2 1 3", "1 2\n2 3", "1 2\n2 1\n1 2", "", "a b\nc d", "12 21 1"]
)
def test_parse_grid_rejects_wrong_shapes_and_symbols(text):
    with pytest.raises(ValueError):
        parse_grid(text, 2, 2, digit_alphabet(2))


@pytest.mark.timeout(10)
def test_parsers_are_bounded_on_hostile_input():
    with pytest.raises(ValueError):
        parse_grid("1 " * 1_000_000, 2, 2, digit_alphabet(2))
    with pytest.raises(ValueError):
        parse_grid("r" + "1" * 5000 + " " * 4000, 2, 2, digit_alphabet(2))
    # long whitespace runs once made the coordinate pattern backtrack for minutes
    with pytest.raises(ValueError, match="odd number"):
        parse_cells("1" + " " * 9990 + "x", 4, 4)
    assert parse_cells("(1, 2)" + " \n\t" * 3000 + "(3, 4)", 4, 4) == {(0, 1), (2, 3)}
    with pytest.raises(ValueError, match="longer than"):  # refused, never cut to a prefix
        parse_cells("1 1 " * 3000, 4, 4)
    with pytest.raises(ValueError, match="too many"):
        parse_cells("1 1 " * 2400, 4, 4)


def test_binary_grid_spellings():
    expected = [[True, False], [False, True]]
    for text in ("# .\n. #", "1 0\n0 1", "X -\n- X", "* _\no *", "■□\n□■"):
        assert parse_binary_grid(text, 2, 2) == expected, text
    assert format_binary_grid(expected) == "# .\n. #"


def test_parse_cells_formats():
    expected = {(0, 1), (2, 3)}
    for text in (
        "(1, 2), (3, 4)",
        "(1,2) (3,4)",
        "r1c2, r3c4",
        "row 1 col 2; row 3 col 4",
        "[[1, 2], [3, 4]]",
    ):
        assert parse_cells(text, 4, 4) == expected, text
    with pytest.raises(ValueError):
        parse_cells("(5, 1)", 4, 4)
    with pytest.raises(ValueError):  # no family's answer is an empty set of cells
        parse_cells("none", 4, 4)


def test_geometry_and_latin_helpers():
    assert is_connected({(0, 0), (0, 1), (1, 1)})
    assert not is_connected({(0, 0), (1, 1)})
    square = random_latin_square(6, random.Random(1))
    assert all(sorted(row) == list(range(1, 7)) for row in square)
    assert all(sorted(col) == list(range(1, 7)) for col in zip(*square, strict=True))
    assert square == random_latin_square(6, random.Random(1))
    assert visible([1, 3, 2, 4]) == 3 and visible([4, 3, 2, 1]) == 1
    assert runs([True, True, False, True]) == [2, 1] and runs([False]) == []
    assert line_patterns((2, 1), 5) == [
        (True, True, False, True, False),
        (True, True, False, False, True),
        (False, True, True, False, True),
    ]


def test_uniqueness_solver_minimize_and_reveal():
    # three booleans, exactly one true; planted: the first
    pool = IDPool()
    a, b, c = (pool.id(x) for x in "abc")
    rules = exactly([a, b, c], 1, pool)
    with UniquenessSolver(rules, [a, -b, -c]) as solver:
        assert not solver.is_unique([])
        assert solver.is_unique([a])
        assert solver.is_unique([-b, -c])
        assert solver.minimize([-b, -c, a]) == [a]
        assert solver.reveal_until_unique([], [a, -b, -c], random.Random(0))
        assert solver.minimize([-b, -c]) == [-b, -c]  # neither alone suffices


# -- brute force: exactly one accepted answer on small puzzles ---------------------------


def latin_candidates(n, givens):
    """All Latin squares consistent with givens {(r, c): v}."""
    rows = [
        [
            p
            for p in itertools.permutations(range(1, n + 1))
            if all(p[c] == v for (r0, c), v in givens.items() if r0 == r)
        ]
        for r in range(n)
    ]

    def extend(prefix):
        if len(prefix) == n:
            yield [list(p) for p in prefix]
            return
        for p in rows[len(prefix)]:
            if all(p[c] != q[c] for q in prefix for c in range(n)):
                yield from extend([*prefix, p])

    yield from extend([])


def binary_candidates(rows, cols, row_options):
    for combo in itertools.product(*row_options):
        yield [list(r) for r in combo]


def candidates(family, spec):
    if family == "sudoku":
        givens = {(r, c): v for r, row in enumerate(spec["puzzle"]) for c, v in enumerate(row) if v}
        for grid in latin_candidates(spec["size"], givens):
            yield format_grid(grid)
    elif family in ("futoshiki", "skyscrapers"):
        givens = {(r, c): v for r, c, v in spec["givens"]}
        for grid in latin_candidates(spec["size"], givens):
            yield format_grid(grid)
    elif family == "kakurasu":
        n = spec["size"]
        for grid in binary_candidates(n, n, [list(itertools.product((False, True), repeat=n))] * n):
            yield format_binary_grid(grid)
    elif family == "star_battle":
        n = spec["size"]
        for perm in itertools.permutations(range(n)):
            yield format_binary_grid([[c == perm[r] for c in range(n)] for r in range(n)], on="*")
    elif family == "minesweeper":
        cells = [(r + 1, c + 1) for r in range(spec["rows"]) for c in range(spec["cols"])]
        for mines in itertools.combinations(cells, len(spec["mines"])):
            yield ", ".join(f"({r}, {c})" for r, c in mines)
    elif family == "nonogram":
        options = [line_patterns(tuple(clue), spec["cols"]) for clue in spec["row_clues"]]
        for grid in binary_candidates(spec["rows"], spec["cols"], options):
            yield format_binary_grid(grid)
    elif family == "hitori":
        n = spec["size"]
        lines = [
            p
            for p in itertools.product((False, True), repeat=n)
            if not any(a and b for a, b in zip(p, p[1:], strict=False))
        ]
        for grid in binary_candidates(n, n, [lines] * n):
            yield format_binary_grid(grid)
    elif family == "binairo":
        n = spec["size"]
        lines = [p for p in itertools.product((0, 1), repeat=n) if sum(p) * 2 == n]
        for grid in binary_candidates(n, n, [lines] * n):
            yield format_grid(grid)
    elif family == "campsite":
        trees = {tuple(t) for t in spec["trees"]}
        free = [
            (r, c) for r in range(spec["rows"]) for c in range(spec["cols"]) if (r, c) not in trees
        ]
        for tents in itertools.combinations(free, len(trees)):
            yield format_grid(
                [
                    [
                        "T" if (r, c) in trees else "*" if (r, c) in tents else "."
                        for c in range(spec["cols"])
                    ]
                    for r in range(spec["rows"])
                ]
            )
    else:
        raise AssertionError(family)


GRID_FAMILIES = [
    "sudoku",
    "futoshiki",
    "skyscrapers",
    "kakurasu",
    "star_battle",
    "minesweeper",
    "nonogram",
    "hitori",
    "binairo",
    "campsite",
]


@pytest.mark.parametrize("family", GRID_FAMILIES)
def test_small_puzzles_have_exactly_one_accepted_answer(family):
    task = get_task(family)
    for row in generate_problems(family, 2, level=1, seed=2).to_pylist():
        spec = json.loads(row["verifier_spec"])
        accepted = [text for text in candidates(family, spec) if task.check(spec, text) == 1.0]
        assert len(accepted) == 1, (family, len(accepted))
        assert task.check(spec, row["answer"]) == 1.0
        assert task.read(spec, f"<answer>{accepted[0]}</answer>").ok


# -- per-family spellings -------------------------------------------------------------------


def first(family, level=1, seed=0):
    row = generate_problems(family, 1, level=level, seed=seed).to_pylist()[0]
    return row, json.loads(row["verifier_spec"])


def test_sudoku_answer_spellings_and_givens():
    row, spec = first("sudoku", level=3)
    verify = get_verifier("sudoku")
    compact = row["answer"].replace(" ", "")
    commas = "\n".join(", ".join(line.split()) for line in row["answer"].splitlines())
    assert verify(row, f"<answer>\n{compact}\n</answer>").passed
    assert verify(row, f"Final answer:\n```\n{commas}\n```").passed
    assert spec["size"] == 6 and "2x3 box" in row["question"]
    # a valid Sudoku that ignores the givens is wrong
    grid = [r.split() for r in row["answer"].splitlines()]
    digits = {str(d): str(7 - d) for d in range(1, 7)}
    relabelled = "\n".join(" ".join(digits[v] for v in r) for r in grid)
    result = verify(row, f"<answer>{relabelled}</answer>")
    assert not result.passed and "given" in result.detail["error"]


def test_hitori_accepts_numbers_with_marks():
    row, spec = first("hitori", level=3)
    shaded = [line.split() for line in row["answer"].splitlines()]
    marked = "\n".join(
        " ".join("#" if s == "#" else str(v) for s, v in zip(srow, nrow, strict=True))
        for srow, nrow in zip(shaded, spec["numbers"], strict=True)
    )
    assert get_verifier("hitori")(row, f"<answer>{marked}</answer>").passed


def test_campsite_accepts_other_tent_marks_and_keeps_trees():
    row, _ = first("campsite", level=3)
    verify = get_verifier("campsite")
    assert verify(row, "<answer>" + row["answer"].replace("*", "A") + "</answer>").passed
    assert verify(row, "<answer>" + row["answer"].replace("T", ".") + "</answer>").passed
    moved = row["answer"].replace("T", "*", 1)
    assert not verify(row, f"<answer>{moved}</answer>").passed


def test_minesweeper_order_and_format_do_not_matter():
    row, spec = first("minesweeper", level=5)
    mines = [tuple(m) for m in spec["mines"]]
    shuffled = list(reversed(mines))
    text = " ".join(f"r{r + 1}c{c + 1}" for r, c in shuffled)
    verify = get_verifier("minesweeper")
    assert verify(row, f"<answer>{text}</answer>").passed
    assert not verify(
        row, "<answer>" + ", ".join(f"({r + 1}, {c + 1})" for r, c in mines[1:]) + "</answer>"
    ).passed


def test_futoshiki_renders_every_inequality():
    row, spec = first("futoshiki", level=5)
    signs = sum(row["question"].count(ch) for ch in "<>^") + row["question"].count(" v ")
    assert spec["less"] and signs >= len(spec["less"])
    solution = spec["solution"]
    assert all(solution[a][b] < solution[c][d] for (a, b), (c, d) in spec["less"])


def test_levels_scale_the_grids():
    sizes = {
        family: [
            max(
                v
                for k, v in vars(get_task(family).config_for_level(lv)).items()
                if k in ("size", "rows")
            )
            for lv in (1, 10)
        ]
        for family in GRID_FAMILIES
    }
    assert all(lo < hi for lo, hi in sizes.values()), sizes
    assert get_task("sudoku").config_for_level(10).size == 9


@pytest.mark.parametrize("family", GRID_FAMILIES)
def test_difficulty_grows_with_level(family):
    def mean(level):
        rows = generate_problems(family, 2, level=level, seed=4).to_pylist()
        return sum(json.loads(r["generator"])["difficulty"] for r in rows) / len(rows)

    assert mean(1) < mean(10)
