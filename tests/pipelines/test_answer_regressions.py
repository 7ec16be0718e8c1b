"""Regression cases for the reading bugs the held-out answer sets found (one or more each).

Each case is a response in a layout a real model used (see ``heldout_answers.py`` for the
sources) and the verdict reason it must get; hedges and contradictions next to them must
stay out. Specs are hand-made where a family's spec is small, else a generated level-1
problem is used.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from tracemill.pipelines.synth import generate_problems
from tracemill.pipelines.verify import get_verifier


def _p(verifier: str, answer: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"answer": answer, "verifier": verifier, "verifier_spec": json.dumps(spec)}


def _generated(family: str, level: int = 1) -> dict[str, Any]:
    return generate_problems(family, 1, level=level, seed=3).to_pylist()[0]


GRID = "1 2 3 4\n3 4 1 2\n2 1 4 3\n4 3 2 1"
OTHER = "2 1 4 3\n4 3 2 1\n1 2 3 4\n3 4 1 2"
SUDOKU = _p(
    "sudoku",
    GRID,
    {
        "size": 4,
        "puzzle": [[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 1]],
        "solution": [[1, 2, 3, 4], [3, 4, 1, 2], [2, 1, 4, 3], [4, 3, 2, 1]],
    },
)
MINES = _p(
    "minesweeper",
    "(1, 1), (2, 2)",
    {"rows": 3, "cols": 3, "mines": [[0, 0], [1, 1]], "revealed": [[0, 1], [1, 0], [2, 2]]},
)
SAT = _p("sat", "x1=0, x2=1, x3=0", {"n": 3, "k": 2, "clauses": [[1, 2], [-1, 3], [2, -3]]})
ZEBRA = _p(
    "zebra_puzzle",
    "House 1: Alice, red\nHouse 2: Bob, blue",
    {"houses": [["alice", "red"], ["bob", "blue"]]},
)
KNIGHTS = _p("knights_and_knaves", "Ann: knight, Bo: knave", {"roles": {"Ann": True, "Bo": False}})
WEB = _p("web_of_lies", "yes, no", {"answers": ["yes", "no"]})
LADDER = _p(
    "word_ladder",
    "cold, cord, card, ward, warm",
    {
        "start": "cold",
        "target": "warm",
        "steps": 4,
        "words": ["cold", "cord", "card", "ward", "warm", "wore"],
    },
)
DYCK = _p("dyck_language", "> } ]", {"closing": ">}]", "prefix": "[{<"})
NUMBER = _p("number_sequence", "7", {"next": 7})
WEEKDAY = _p("date_arithmetic", "Wednesday", {"kind": "weekday", "weekday": "wednesday"})
GAME24 = _p("game_of_24", "8 * (5 + (1 - 3))", {"numbers": [1, 3, 5, 8], "target": 24})
BINARY = _p("binary_arithmetic", "1101", {"value": 13})
CRYPT = _p("cryptarithm", "A=1, B=2, C=3", {"addends": ["A", "B"], "hints": {}, "result": "C"})
COLOURING = _p(
    "graph_coloring",
    "red, green, blue",
    {"nodes": 3, "colours": ["red", "green", "blue"], "edges": [[0, 1], [1, 2], [0, 2]]},
)

CASES: list[tuple[str, dict[str, Any], str, str]] = [
    # answer layer: rows spaced by blank lines (Llama 4 Scout), after a cue or bare
    (
        "cue-spacer-rows",
        SUDOKU,
        "The final answer is:\n\n" + GRID.replace("\n", "\n       \n"),
        "ok",
    ),
    ("bare-double-spaced", SUDOKU, "Here is my grid\n\n" + GRID.replace("\n", "\n\n"), "ok"),
    # answer layer: JSON / Python literals
    ("python-tuples", SUDOKU, "```python\n((1,2,3,4),(3,4,1,2),(2,1,4,3),(4,3,2,1))\n```", "ok"),
    (
        "json-one-key",
        SUDOKU,
        '```json\n{"grid": [[1,2,3,4],[3,4,1,2],[2,1,4,3],[4,3,2,1]]}\n```',
        "ok",
    ),
    (
        "zeroeval-json",
        ZEBRA,
        '{"reasoning": "Clue 1 first.", "solution": {"House 1": {"Name": "Alice", "Color": "red"},'
        ' "House 2": {"Name": "Bob", "Color": "blue"}}}',
        "ok",
    ),
    ("json-colouring", COLOURING, '<answer>{"1": "red", "2": "green", "3": "blue"}</answer>', "ok"),
    # answer layer: an answer tag whose "<" was lost (Llama 3.3), decorations, quotes, " ."
    ("tag-lost-bracket", WEEKDAY, "It fell on a Wednesday.\n\nanswer>Wednesday</answer>", "ok"),
    (
        "check-marks",
        SUDOKU,
        "\n".join(f"Row {i}: {r} ✓" for i, r in enumerate(GRID.split("\n"), 1)),
        "ok",
    ),
    (
        "emoji-roles",
        KNIGHTS,
        "| Person | Role |\n|---|---|\n| Ann | 🛡️ Knight |\n| Bo | 🃏 Knave |",
        "ok",
    ),
    ("quoted-answer", DYCK, 'We need to add "> } ]" to close the sequence.', "ok"),
    ("lead-in-above-word-list", WEB, "Result:\n- yes\n- no", "ok"),
    ("quoted-negated", NUMBER, 'The next term is not "7", it is 9.', "no_answer"),
    (
        "quoted-with-rival-number",
        NUMBER,
        'I considered "7" at first, then settled on 9',
        "no_answer",
    ),
    ("math-then-period", GAME24, "The answer is $8 \\cdot (5 + (1 - 3))$.", "ok"),
    # answer layer: a different answer after the explicit one is a hedge; the same is not
    (
        "later-different-grid",
        SUDOKU,
        f"Final answer:\n{GRID}\n\n(or possibly:)\n{OTHER}",
        "ambiguous",
    ),
    (
        "later-same-grid",
        SUDOKU,
        f"<answer>\n{GRID}\n</answer>\n\nAs a table:\n\n```\n{GRID}\n```",
        "ok",
    ),
    # answer layer: quote markers go, but a Dyck answer keeps its ">" (BBH Codex)
    (
        "blockquote-digits",
        SUDOKU,
        "Final answer:\n\n" + "\n".join(f"> {r}" for r in GRID.split("\n")),
        "ok",
    ),
    ("dyck-angle-first", DYCK, 'So, we need ">", "}", "]". So the answer is > } ].', "ok"),
    # grids: ordinal labels, index headers
    (
        "ordinal-rows",
        SUDOKU,
        "After trial and error:\n"
        + "\n".join(
            f"- {o} row: {r}"
            for o, r in zip(("First", "Second", "Third", "Fourth"), GRID.split("\n"), strict=True)
        ),
        "ok",
    ),
    (
        "index-header",
        SUDOKU,
        "```\n    1 2 3 4\n"
        + "\n".join(f"{i}:  {r}" for i, r in enumerate(GRID.split("\n"), 1))
        + "\n```",
        "ok",
    ),
    # coordinates: a pair never spans a line; a set lists each cell once; counts and numbering
    (
        "indexed-table",
        MINES,
        "| # | Row | Column |\n|---|---|---|\n| 1 | 1 | 1 |\n| 2 | 2 | 2 |",
        "ok",
    ),
    ("three-per-line", MINES, "<answer>\n1 1 1\n2 2 2\n</answer>", "format"),
    (
        "two-lists-run-together",
        MINES,
        "One option:\n```\n(1, 1), (2, 2)\n```\nAnother option:\n```\n(2, 2)\n```",
        "ambiguous",
    ),
    ("counted-prose", MINES, "There are 2 mines, at (1, 1) and (2, 2).", "ok"),
    ("numbered-cells", MINES, "Final answer:\n1. (1, 1)\n2. (2, 2)", "ok"),
    # families
    ("kk-parenthesised", KNIGHTS, "Answer: Ann (knight), Bo (knave)", "ok"),
    ("kk-behaviour", KNIGHTS, "Ann is telling the truth (knight); Bo is lying (knave).", "ok"),
    ("kk-pipe-groups", KNIGHTS, "Knight: Ann | Knave: Bo", "ok"),
    ("sat-groups", SAT, "**True:** x2\n**False:** x1, x3", "ok"),
    ("sat-tuple", SAT, "(x1, x2, x3) = (0, 1, 0)", "ok"),
    ("sat-tuple-hedge", SAT, "(x1, x2, x3) = (0, 1, 0/1)", "ambiguous"),
    ("sat-all-except", SAT, "All variables are false except x2.", "ok"),
    ("web-remark", WEB, "Emma: Yes (truth-teller)\nBob: No (liar)", "ok"),
    ("web-remark-contradicts", WEB, "Emma: Yes (liar)\nBob: No (liar)", "ambiguous"),
    ("web-name-dash", WEB, "Emma - truthful; Bob - liar", "ok"),
    ("web-verdict-dash-reason", WEB, "**Yes** — Emma tells the truth.\n**No** — Bob lies.", "ok"),
    (
        "ladder-remarks",
        LADDER,
        "COLD\nCORD (change L to R)\nCARD (change O to A)\nWARD\nWARM",
        "ok",
    ),
    ("ladder-hyphens", LADDER, "<answer>COLD-CORD-CARD-WARD-WARM</answer>", "ok"),
    (
        "zebra-attribute-remarks",
        ZEBRA,
        "House 1: Alice (name), red (color)\nHouse 2: Bob (name), blue (color)",
        "ok",
    ),
    ("zebra-one-line", ZEBRA, "House 1: Alice, red. House 2: Bob, blue.", "ok"),
    (
        "zebra-house-key-json",
        ZEBRA,
        '[{"house": 1, "name": "Alice", "color": "red"}, {"house": 2, "name": "Bob", "color": "blue"}]',
        "ok",
    ),
    ("kk-python-lists", KNIGHTS, "knights = ['Ann']\nknaves = ['Bo']", "ok"),
    ("sat-left-arrows", SAT, "<answer>x1 ← 0, x2 ← 1, x3 ← 0</answer>", "ok"),
    (
        "ladder-step-labels",
        LADDER,
        "Step 0: cold\nStep 1: cord\nStep 2: card\nStep 3: ward\nStep 4: warm",
        "ok",
    ),
    ("zebra-dashes", ZEBRA, "Final answer:\n1) Alice - red\n2) Bob - blue", "ok"),
    ("zebra-json-rows", ZEBRA, '```json\n[["Alice", "red"], ["Bob", "blue"]]\n```', "ok"),
    ("binary-subscript", BINARY, "The result is $(1101)_2$.", "ok"),
    ("crypt-letter-table", CRYPT, "| A | B | C |\n|---|---|---|\n| 1 | 2 | 3 |", "ok"),
    ("crypt-substituted-sum", CRYPT, "The answer is 1 + 2 = 3.", "ok"),
    (
        "crypt-inconsistent-sum",
        _p("cryptarithm", "A=1, B=2", {"addends": ["A", "A"], "hints": {}, "result": "B"}),
        "1 + 3 = 4",
        "no_answer",
    ),
]


@pytest.mark.parametrize(("cid", "problem", "response", "reason"), CASES, ids=[c[0] for c in CASES])
def test_regression(cid: str, problem: dict[str, Any], response: str, reason: str) -> None:
    """Each layout gets its reason (``ok`` passes, anything else does not)."""
    verdict = get_verifier(problem["verifier"])(problem, response)
    assert verdict.reason == reason, (cid, verdict.detail)
    assert verdict.passed == (reason == "ok")


def test_futoshiki_board_in_the_questions_layout() -> None:
    """The answer written over the question's board, signs and ^/v rows kept (rg completions)."""
    row = _generated("futoshiki", 3)
    grid = [line.split() for line in row["answer"].split("\n")]
    lines, r, out = row["question"].split("\n"), 0, []
    start = next(i for i, line in enumerate(lines) if line[:1] in ".123456789" and "  " in line)
    for line in lines[start:]:
        if r == len(grid):
            break
        if line[:1] in ".123456789":
            cells = iter(grid[r])
            out.append("".join(next(cells) if ch == "." or ch.isdigit() else ch for ch in line))
            r += 1
        else:
            out.append(line.replace("^", "∧").replace("v", "∨"))
    verdict = get_verifier("futoshiki")(row, "<answer>\n" + "\n".join(out) + "\n</answer>")
    assert any(set(line.strip()) & set("<>∧∨") for line in out)
    assert verdict.passed, verdict.detail


def test_survo_board_with_its_sums() -> None:
    """Row sums after ``|`` and a line of column sums are dropped when they agree."""
    row = _generated("survo", 2)
    grid = [[int(v) for v in line.split()] for line in row["answer"].split("\n")]
    sums = "\n".join(" ".join(map(str, r)) + f" | {sum(r)}" for r in grid)
    columns = " ".join(str(sum(c)) for c in zip(*grid, strict=True))
    verify = get_verifier("survo")
    assert verify(row, f"```\n{sums}\n{columns}\n```").passed
    wrong_sum = sums.replace(f"| {sum(grid[0])}", f"| {sum(grid[0]) + 1}", 1)
    assert verify(row, f"```\n{wrong_sum}\n{columns}\n```").reason == "format"


def test_shaded_cells_as_lists() -> None:
    """Campsite tents, Hitori ``r1c2`` cells, Star Battle "Row 1: column 3" and ⭐ cells."""
    tents = _generated("campsite", 2)
    cells = [
        (r + 1, c + 1)
        for r, line in enumerate(tents["answer"].split("\n"))
        for c, v in enumerate(line.split())
        if v == "*"
    ]
    verify = get_verifier("campsite")
    assert verify(tents, "Tents: " + ", ".join(f"({a},{b})" for a, b in cells)).passed
    tree = json.loads(tents["verifier_spec"])["trees"][0]
    on_tree = [*cells[:-1], (tree[0] + 1, tree[1] + 1)]
    listed = ", ".join(f"({a},{b})" for a, b in on_tree)
    assert verify(tents, f"<answer>Tents: {listed}</answer>").reason == "format"

    hitori = _generated("hitori", 2)
    shaded = [
        f"R{r + 1}C{c + 1}"
        for r, line in enumerate(hitori["answer"].split("\n"))
        for c, v in enumerate(line.split())
        if v == "#"
    ]
    assert get_verifier("hitori")(hitori, "<answer>" + " ".join(shaded) + "</answer>").passed

    stars = _generated("star_battle", 2)
    grid = [line.split() for line in stars["answer"].split("\n")]
    by_rows = "\n".join(f"Row {r + 1}: column {line.index('*') + 1}" for r, line in enumerate(grid))
    emoji = "\n".join(" ".join("⭐" if v == "*" else "·" for v in line) for line in grid)
    assert get_verifier("star_battle")(stars, "Final answer:\n" + by_rows).passed
    assert get_verifier("star_battle")(stars, emoji).passed


def test_cells_in_a_row_are_not_italics() -> None:
    """``.*TT*.`` in a fence is two tents by two trees, not italic "TT"."""
    row = _generated("campsite", 4)
    compact = "\n".join(line.replace(" ", "") for line in row["answer"].split("\n"))
    assert get_verifier("campsite")(row, f"```\n{compact}\n```").passed


def test_run_together_digit_rows_and_path_cost() -> None:
    """``3412`` rows of a number grid; a path followed by its cost."""
    calcudoku = _generated("calcudoku", 2)
    compact = "\n".join(line.replace(" ", "") for line in calcudoku["answer"].split("\n"))
    assert get_verifier("calcudoku")(calcudoku, f"```\n{compact}\n```").passed

    path = _generated("shortest_path", 2)
    cost = json.loads(path["verifier_spec"])["cost"]
    arrows = path["answer"].replace("), (", ") → (")
    verify = get_verifier("shortest_path")
    assert verify(path, f"**Path:** {arrows} with a total cost of {cost}").passed
    assert verify(path, f"Path:\n{arrows}\n\nTotal cost = {cost}").passed
