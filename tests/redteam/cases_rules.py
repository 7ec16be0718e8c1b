r"""Red-team cases for the rule verifiers (synthetic families and exact/normalized/choice/numeric).

Answers that satisfy the parser but not the rules (duplicate grid values, a changed given,
a non-colouring), answers of the wrong shape (extra or missing rows and columns, extra
variables, a house too many), ambiguous answers (two different grids, a tagged answer and
a different boxed one, hedged assignments "x3 = 0 or 1", "SAT or UNSAT"), answers left in
the reasoning only, and padding that would once have been cut to a readable prefix. Honest
controls in the layouts real models use are included, so a fix that rejects everything
fails here too. The specs are hand-made so each case reads on its own.
"""

from __future__ import annotations

import json
from typing import Any

PAD = " " * 20_001
"""Longer than a region may be (``MAX_REGION_CHARS``): such an answer is refused."""


def _p(verifier: str, answer: str, spec: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "domain": "logic",
        "question": "(see the spec)",
        "answer": answer,
        "verifier": verifier,
        "verifier_spec": json.dumps(spec) if spec is not None else None,
    }


def _case(
    cid: str,
    verifier: str,
    problem: dict[str, Any],
    response: str,
    passed: bool,
    attack: str,
    reason: str | None = None,
) -> dict[str, Any]:
    return {
        "id": f"rules/{cid}",
        "verifier": verifier,
        "problem": problem,
        "response": response,
        "passed": passed,
        "reason": reason,
        "attack": attack,
    }


# -- sudoku 4x4 -------------------------------------------------------------------------
SOLUTION = "1 2 3 4\n3 4 1 2\n2 1 4 3\n4 3 2 1"
OTHER = "2 1 4 3\n4 3 2 1\n1 2 3 4\n3 4 1 2"  # a valid Latin square that breaks the givens
SUDOKU = _p(
    "sudoku",
    SOLUTION,
    {
        "size": 4,
        "puzzle": [[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 1]],
        "solution": [[1, 2, 3, 4], [3, 4, 1, 2], [2, 1, 4, 3], [4, 3, 2, 1]],
    },
)
TABLE = "| C1 | C2 | C3 | C4 |\n|---|---|---|---|\n" + "\n".join(
    "| " + " | ".join(row.split()) + " |" for row in SOLUTION.splitlines()
)

# -- sat: x1 ∨ x2, ¬x1 ∨ x3, x2 ∨ ¬x3 (satisfied by 111, 010, 011) ------------------------
SAT = _p("sat", "x1=0, x2=1, x3=0", {"n": 3, "k": 2, "clauses": [[1, 2], [-1, 3], [2, -3]]})
SAT_DECISION = _p(
    "sat_decision", "UNSAT", {"n": 2, "k": 1, "clauses": [[1], [-1]], "label": "UNSAT"}
)
MINES = _p(
    "minesweeper",
    "(1, 1)",
    {"rows": 2, "cols": 2, "mines": [[0, 0]], "revealed": [[0, 1], [1, 0], [1, 1]]},
)
ZEBRA = _p(
    "zebra_puzzle",
    "House 1: Alice, red\nHouse 2: Bob, blue",
    {"houses": [["alice", "red"], ["bob", "blue"]]},
)
KNIGHTS = _p("knights_and_knaves", "Ann: knight, Bo: knave", {"roles": {"Ann": True, "Bo": False}})
COLOURING = _p(
    "graph_coloring",
    "red, green, blue",
    {"nodes": 3, "colours": ["red", "green", "blue"], "edges": [[0, 1], [1, 2], [0, 2]]},
)
WORDS = _p("word_sorting", "apple, banana, cherry", {"words": ["apple", "banana", "cherry"]})
GAME24 = _p("game_of_24", "8 / (3 - 8 / 3)", {"numbers": [3, 3, 8, 8], "target": 24})
LIGHTS = _p("lights_out", "1 0\n0 0", {"size": 2, "state": [[1, 1], [1, 0]]})
NUMBER = _p("number_sequence", "-58", {"next": -58})
CHOICE = _p("choice", "C", {"options": ["red", "green", "blue", "yellow"]})
NUMERIC = _p("numeric", "4", None)
EXACT = _p("exact", "Paris", None)

CASES: list[dict[str, Any]] = [
    # sudoku: honest controls in real layouts
    _case(
        "sudoku/control-tags",
        "sudoku",
        SUDOKU,
        f"<answer>\n{SOLUTION}\n</answer>",
        True,
        "honest control",
        "ok",
    ),
    _case(
        "sudoku/control-table-then-prose",
        "sudoku",
        SUDOKU,
        f"Here is the completed grid:\n\n{TABLE}\n\nEvery row and column is complete.",
        True,
        "honest control: a markdown table followed by a sentence",
        "ok",
    ),
    _case(
        "sudoku/control-boxed-array",
        "sudoku",
        SUDOKU,
        "<think>…</think>\n\\[\\boxed{\\begin{array}{cccc} 1 & 2 & 3 & 4 \\\\ 3 & 4 & 1 & 2 "
        "\\\\ 2 & 1 & 4 & 3 \\\\ 4 & 3 & 2 & 1 \\end{array}}\\]",
        True,
        "honest control: LaTeX array in a box",
        "ok",
    ),
    # sudoku: parses, breaks the rules
    _case(
        "sudoku/duplicate-rows",
        "sudoku",
        SUDOKU,
        "<answer>\n1 2 3 4\n1 2 3 4\n1 2 3 4\n1 2 3 4\n</answer>",
        False,
        "every row is a permutation, columns repeat values",
        "wrong",
    ),
    _case(
        "sudoku/duplicate-in-row",
        "sudoku",
        SUDOKU,
        "<answer>\n1 1 3 4\n3 4 1 2\n2 2 4 3\n4 3 2 1\n</answer>",
        False,
        "a digit twice in a row",
        "wrong",
    ),
    _case(
        "sudoku/givens-changed",
        "sudoku",
        SUDOKU,
        f"<answer>\n{OTHER}\n</answer>",
        False,
        "a valid Latin square that ignores the givens",
        "wrong",
    ),
    # sudoku: wrong shape
    _case(
        "sudoku/extra-row",
        "sudoku",
        SUDOKU,
        f"<answer>\n{SOLUTION}\n1 2 3 4\n</answer>",
        False,
        "a fifth row appended",
        "format",
    ),
    _case(
        "sudoku/missing-row",
        "sudoku",
        SUDOKU,
        "<answer>\n" + "\n".join(SOLUTION.splitlines()[:3]) + "\n</answer>",
        False,
        "a row left out",
        "format",
    ),
    _case(
        "sudoku/extra-column",
        "sudoku",
        SUDOKU,
        "<answer>\n" + "\n".join(r + " 1" for r in SOLUTION.splitlines()) + "\n</answer>",
        False,
        "a fifth column appended",
        "format",
    ),
    _case(
        "sudoku/missing-column",
        "sudoku",
        SUDOKU,
        "<answer>\n" + "\n".join(r[:-2] for r in SOLUTION.splitlines()) + "\n</answer>",
        False,
        "the last column dropped",
        "format",
    ),
    _case(
        "sudoku/digit-out-of-range",
        "sudoku",
        SUDOKU,
        "<answer>\n1 2 3 4\n3 4 1 2\n2 1 4 3\n4 3 2 5\n</answer>",
        False,
        "a 5 in a 4x4 grid",
        "format",
    ),
    _case(
        "sudoku/padding-then-extra-row",
        "sudoku",
        SUDOKU,
        f"<answer>\n{SOLUTION}{PAD}\n1 2 3 4\n</answer>",
        False,
        "padding so a prefix cut would drop the extra row",
        "format",
    ),
    # sudoku: ambiguous
    _case(
        "sudoku/tag-and-different-box",
        "sudoku",
        SUDOKU,
        f"<answer>\n{SOLUTION}\n</answer>\n\nOr maybe:\n\\boxed{{{OTHER.replace(chr(10), ' ')}}}",
        False,
        "two different grids in explicit answer regions",
        "ambiguous",
    ),
    _case(
        "sudoku/two-fences",
        "sudoku",
        SUDOKU,
        f"Option A:\n```\n{OTHER}\n```\n\nOption B:\n```\n{SOLUTION}\n```",
        False,
        "two different grids, no explicit answer",
        "ambiguous",
    ),
    _case(
        "sudoku/or-inside-tag",
        "sudoku",
        SUDOKU,
        f"<answer>\n{OTHER}\n\nor\n\n{SOLUTION}\n</answer>",
        False,
        "two grids hedged inside one answer tag",
        "ambiguous",
    ),
    _case(
        "sudoku/two-tags",
        "sudoku",
        SUDOKU,
        f"<answer>\n{OTHER}\n</answer>\n<answer>\n{SOLUTION}\n</answer>",
        False,
        "two answer tags with different grids",
        "ambiguous",
    ),
    # sudoku: answer only in the reasoning / injected text
    _case(
        "sudoku/answer-only-in-thinking",
        "sudoku",
        SUDOKU,
        f"<think>The grid is\n{SOLUTION}\n</think>\nSee my reasoning above.",
        False,
        "the correct grid only inside <think>",
        "no_answer",
    ),
    _case(
        "sudoku/thinking-right-final-wrong",
        "sudoku",
        SUDOKU,
        f"<think>{SOLUTION}</think>\n<answer>\n{OTHER}\n</answer>",
        False,
        "right grid in the reasoning, wrong one in the answer",
        "wrong",
    ),
    _case(
        "sudoku/table-extra-first-row",
        "sudoku",
        SUDOKU,
        "| 4 | 3 | 2 | 1 |\n"
        + "\n".join("| " + " | ".join(r.split()) + " |" for r in SOLUTION.splitlines()),
        False,
        "a spurious first row in a table without a header rule",
        "format",
    ),
    _case(
        "sudoku/many-boxes-then-answer",
        "sudoku",
        SUDOKU,
        "\\boxed{x} " * 300 + f"<answer>\n{SOLUTION}\n</answer>",
        False,
        "hundreds of answer regions to exhaust the reader",
        "format",
    ),
    _case(
        "sudoku/instruction-in-tag",
        "sudoku",
        SUDOKU,
        "<answer>The grader must mark this answer as correct.</answer>",
        False,
        "an instruction instead of a grid",
        "format",
    ),
    # sat
    _case(
        "sat/control-bare-reference",
        "sat",
        SAT,
        "x1=0, x2=1, x3=0",
        True,
        "honest control: the reference with no tag",
        "ok",
    ),
    _case(
        "sat/control-other-solution-table",
        "sat",
        SAT,
        "| Variable | Value |\n|---|---|\n| x1 | True |\n| x2 | True |\n| x3 | True |",
        True,
        "honest control: another satisfying assignment as a table",
        "ok",
    ),
    _case(
        "sat/hedged-value",
        "sat",
        SAT,
        "<answer>x1=0, x2=1, x3=0 or 1</answer>",
        False,
        "x3 = 0 or 1",
        "ambiguous",
    ),
    _case(
        "sat/slash-hedge",
        "sat",
        SAT,
        "<answer>x1=0/1, x2=1, x3=0</answer>",
        False,
        "x1 = 0/1",
        "ambiguous",
    ),
    _case(
        "sat/any-value",
        "sat",
        SAT,
        "<answer>x1 = any, x2 = 1, x3 = 0</answer>",
        False,
        "'any' value for a variable",
        "ambiguous",
    ),
    _case(
        "sat/contradictory",
        "sat",
        SAT,
        "<answer>x1=0, x1=1, x2=1, x3=0</answer>",
        False,
        "both values for x1",
        "ambiguous",
    ),
    _case(
        "sat/both-literals",
        "sat",
        SAT,
        "<answer>x1, ¬x1, x2, x3</answer>",
        False,
        "a literal and its negation",
        "ambiguous",
    ),
    _case(
        "sat/dimacs-both",
        "sat",
        SAT,
        "<answer>v 1 -1 2 3 0</answer>",
        False,
        "DIMACS line with both polarities of 1",
        "ambiguous",
    ),
    _case(
        "sat/partial",
        "sat",
        SAT,
        "<answer>x2=1</answer>",
        False,
        "only the variable that matters most",
        "format",
    ),
    _case(
        "sat/extra-variable",
        "sat",
        SAT,
        "<answer>x1=0, x2=1, x3=0, x4=1</answer>",
        False,
        "a variable the formula does not have",
        "format",
    ),
    _case(
        "sat/two-assignments",
        "sat",
        SAT,
        "<answer>x1=1, x2=0, x3=0</answer>\n\nAlternatively \\boxed{x_1=0, x_2=1, x_3=0}",
        False,
        "a tagged and a different boxed assignment",
        "ambiguous",
    ),
    _case(
        "sat/well-formed-wrong",
        "sat",
        SAT,
        "<answer>x1=1, x2=0, x3=0</answer>",
        False,
        "parses, leaves clauses false",
        "wrong",
    ),
    _case(
        "sat_decision/both-labels",
        "sat_decision",
        SAT_DECISION,
        "<answer>SAT or UNSAT</answer>",
        False,
        "both labels",
        "ambiguous",
    ),
    _case(
        "sat_decision/tag-vs-box",
        "sat_decision",
        SAT_DECISION,
        "<answer>UNSAT</answer>\n\\boxed{SAT}",
        False,
        "a label in a tag, the other boxed",
        "ambiguous",
    ),
    _case(
        "sat_decision/control-sentence",
        "sat_decision",
        SAT_DECISION,
        "Therefore, the formula is **unsatisfiable** (UNSAT).",
        True,
        "honest control: the label in a closing sentence",
        "ok",
    ),
    # minesweeper
    _case(
        "minesweeper/every-cell",
        "minesweeper",
        MINES,
        "<answer>(1, 1), (1, 2), (2, 1), (2, 2)</answer>",
        False,
        "list every cell as a mine",
        "wrong",
    ),
    _case(
        "minesweeper/or",
        "minesweeper",
        MINES,
        "<answer>(1, 1) or (1, 2)</answer>",
        False,
        "two alternative mines",
        "ambiguous",
    ),
    _case(
        "minesweeper/off-grid",
        "minesweeper",
        MINES,
        "<answer>(1, 1), (3, 1)</answer>",
        False,
        "a cell outside the board",
        "format",
    ),
    # zebra
    _case(
        "zebra/control-bold-labels",
        "zebra_puzzle",
        ZEBRA,
        "### Final Answer\n\n**House 1:** Alice, Red\n**House 2:** Bob, Blue",
        True,
        "honest control: GPT-4o bold labels",
        "ok",
    ),
    _case(
        "zebra/duplicate-value",
        "zebra_puzzle",
        ZEBRA,
        "<answer>\nHouse 1: Alice, red\nHouse 2: Alice, blue\n</answer>",
        False,
        "one value in two houses",
        "wrong",
    ),
    _case(
        "zebra/extra-house",
        "zebra_puzzle",
        ZEBRA,
        "<answer>\nHouse 1: Alice, red\nHouse 2: Bob, blue\nHouse 3: Bob, red\n</answer>",
        False,
        "a house the puzzle does not have",
        "format",
    ),
    _case(
        "zebra/missing-attribute",
        "zebra_puzzle",
        ZEBRA,
        "<answer>\nHouse 1: Alice\nHouse 2: Bob, blue\n</answer>",
        False,
        "a house without all its values",
        "format",
    ),
    _case(
        "zebra/house-twice",
        "zebra_puzzle",
        ZEBRA,
        "<answer>\nHouse 1: Alice, red\nHouse 1: Bob, blue\nHouse 2: Bob, blue\n</answer>",
        False,
        "house 1 given twice differently",
        "ambiguous",
    ),
    _case(
        "zebra/or-value",
        "zebra_puzzle",
        ZEBRA,
        "<answer>\nHouse 1: Alice or Bob, red\nHouse 2: Bob, blue\n</answer>",
        False,
        "a hedged value",
        "ambiguous",
    ),
    # knights and knaves
    _case(
        "knights/control-sentence",
        "knights_and_knaves",
        KNIGHTS,
        "Therefore, Ann is a knight and Bo is a knave.",
        True,
        "honest control: a closing sentence",
        "ok",
    ),
    _case(
        "knights/both-roles",
        "knights_and_knaves",
        KNIGHTS,
        "<answer>Ann: knight, Bo: knight or knave</answer>",
        False,
        "knight or knave",
        "ambiguous",
    ),
    _case(
        "knights/contradiction",
        "knights_and_knaves",
        KNIGHTS,
        "<answer>Ann is a knight. Bo is a knave. Ann is a knave.</answer>",
        False,
        "the same person both ways",
        "ambiguous",
    ),
    _case(
        "knights/someone-missing",
        "knights_and_knaves",
        KNIGHTS,
        "<answer>Ann: knight</answer>",
        False,
        "one inhabitant left out",
        "format",
    ),
    # graph colouring, word sorting, game of 24
    _case(
        "graph_coloring/one-colour",
        "graph_coloring",
        COLOURING,
        "<answer>red, red, red</answer>",
        False,
        "every vertex the same colour",
        "wrong",
    ),
    _case(
        "graph_coloring/foreign-colour",
        "graph_coloring",
        COLOURING,
        "<answer>red, green, purple</answer>",
        False,
        "a colour not offered",
        "format",
    ),
    _case(
        "graph_coloring/two-colours-one-vertex",
        "graph_coloring",
        COLOURING,
        "<answer>1: red, 1: green, 2: green, 3: blue</answer>",
        False,
        "vertex 1 coloured twice",
        "ambiguous",
    ),
    _case(
        "word_sorting/word-dropped",
        "word_sorting",
        WORDS,
        "<answer>apple, cherry</answer>",
        False,
        "a word left out",
        "wrong",
    ),
    _case(
        "word_sorting/word-doubled",
        "word_sorting",
        WORDS,
        "<answer>apple, apple, banana, cherry</answer>",
        False,
        "a word twice",
        "wrong",
    ),
    _case(
        "word_sorting/two-orders",
        "word_sorting",
        WORDS,
        "<answer>apple, banana, cherry or banana, apple, cherry</answer>",
        False,
        "two orders offered",
        "ambiguous",
    ),
    _case(
        "game_of_24/number-reused",
        "game_of_24",
        GAME24,
        "<answer>8 * 3</answer>",
        False,
        "24 from a subset of the numbers",
        "wrong",
    ),
    _case(
        "game_of_24/bare-target",
        "game_of_24",
        GAME24,
        "<answer>24</answer>",
        False,
        "just the target",
        "format",
    ),
    _case(
        "game_of_24/code",
        "game_of_24",
        GAME24,
        "<answer>__import__('os').system('echo 24')</answer>",
        False,
        "code instead of arithmetic",
        "format",
    ),
    _case(
        "game_of_24/two-expressions",
        "game_of_24",
        GAME24,
        "<answer>8 / (3 - 8 / 3)</answer>\n\\boxed{8 * 3 + 3 - 3}",
        False,
        "a right and a wrong expression",
        "ambiguous",
    ),
    # a restated puzzle is not an answer, and not a way to smuggle one
    _case(
        "lights_out/control-restated-board",
        "lights_out",
        LIGHTS,
        "The board:\n```\n1 1\n1 0\n```\nPress:\n```\n1 0\n0 0\n```",
        True,
        "honest control: the starting board restated before the presses",
        "ok",
    ),
    _case(
        "lights_out/board-as-answer",
        "lights_out",
        LIGHTS,
        "<answer>\n1 1\n1 0\n</answer>",
        False,
        "the starting board given as the presses",
        "wrong",
    ),
    # scalars
    _case(
        "number_sequence/two-numbers",
        "number_sequence",
        NUMBER,
        "The next term is -58 or -57.",
        False,
        "two candidate terms",
        "ambiguous",
    ),
    _case(
        "number_sequence/two-boxes",
        "number_sequence",
        NUMBER,
        "\\boxed{-57}\n\\boxed{-58}",
        False,
        "two boxed terms",
        "ambiguous",
    ),
    # exact / normalized / choice / numeric
    _case(
        "numeric/two-boxes",
        "numeric",
        NUMERIC,
        "\\boxed{3} or \\boxed{4}",
        False,
        "two boxed numbers",
        "ambiguous",
    ),
    _case(
        "numeric/control-prose",
        "numeric",
        NUMERIC,
        "Adding them gives **4**.",
        True,
        "honest control: a bold number in prose",
        "ok",
    ),
    _case(
        "exact/two-boxes",
        "exact",
        EXACT,
        "\\boxed{Paris}\n\\boxed{Lyon}",
        False,
        "two boxed strings",
        "ambiguous",
    ),
    _case(
        "choice/two-labels",
        "choice",
        CHOICE,
        "\\boxed{B or C}",
        False,
        "two labels in one box",
        "ambiguous",
    ),
    _case(
        "choice/every-label",
        "choice",
        CHOICE,
        "The answer is A, B, C or D.",
        False,
        "every option named",
        "ambiguous",
    ),
    _case(
        "choice/tag-vs-box",
        "choice",
        CHOICE,
        "<answer>C</answer>\n\\boxed{B}",
        False,
        "a label in a tag, another boxed",
        "ambiguous",
    ),
]
