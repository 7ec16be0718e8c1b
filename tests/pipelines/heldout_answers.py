r"""Held-out answer styles for every synthetic family, modelled on real model outputs.

An evaluation set written apart from ``answer_styles.py`` (the styles the answer layer was
tuned on): each style copies the layout of answers real models gave to logic puzzles, and
names where that layout was seen. Three batches, each written before the reader was fixed
for it: A (first), B (after A's fixes), C (after B's) — ``styles(family, row, batch)``. The reference answer of a generated problem is written
in each style of its family (:func:`styles`); a wrong answer of the same shape — one cell,
value or word changed, a row added or dropped — in the same styles, plus hedges and
"corrections" to a wrong answer, must never pass (:func:`corrupted`).

Where the layouts were seen (formats only, no text copied unless a row says so):

| key | source | license |
|---|---|---|
| ``rg`` | open-thought/reasoning-gym-eval @ 5f09fec, ``zero-shot/{easy,hard}/<model>/<task>.json``: completions of Claude 3.5/4 Sonnet, DeepSeek-R1, Gemma 3 27B, Grok 3 mini, Llama 3.3 70B, Llama 4 Maverick/Scout, Mistral Small 3.1, o3-mini, QwQ-32B on sudoku, futoshiki, knights_knaves, word_ladder, caesar_cipher, cryptarithm, graph_color, puzzle24, n_queens … | Apache-2.0 |
| ``synlogic`` | MiniMax-AI/SynLogic @ 6794f97, ``games/tasks/*/scripts/*_prompt.py``: the answer formats SynLogic trains models to give (tuple grids, ``[[r1,r2]]``, ``[[expr = v]]``, ``[45, 3]``, "The answer is **yes, no**.") | MIT |
| ``bbh`` | suzgunmirac/BIG-Bench-Hard @ 9ee07bd, ``code-davinci-002-outputs``: "So the answer is X." | MIT |
| ``zeroeval`` | yuchenlin/ZeroEval ``result_dirs/zebra-grid``: ZebraLogic's JSON ``{"reasoning", "solution": {"House 1": {...}}}`` (the shape only) | — |
| ``chat`` | common chat-model habits: GPT-4o bold/centred tables and emoji squares, R1 ``<think>`` then a markdown summary, QwQ ``\boxed{}`` arrays, Llama ``## Step N`` then "The final answer is: $\boxed{}$", Gemma "Final Answer: The final answer is $\boxed{}$" | — |

A few short lead-in sentences are copied verbatim from rg completions (Apache-2.0): "Let
me solve this step by step...", "After re-evaluating, the correct solution is:", "After
trial and error, respecting all constraints:", "Let's directly provide the final decrypted
text.", "The final answer is:".
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable, Iterator
from typing import Any

from tracemill.pipelines.synth import get_task

Style = tuple[str, str]
"""(name, response)."""

DIGIT_GRIDS = ("sudoku", "futoshiki", "skyscrapers", "calcudoku", "magic_square", "survo")
BINARY_GRIDS = ("binairo", "lights_out")
SHADE_GRIDS = ("hitori", "kakurasu", "nonogram", "norinori", "star_battle", "campsite")
KIND: dict[str, str] = {
    **dict.fromkeys(DIGIT_GRIDS + BINARY_GRIDS + SHADE_GRIDS, "grid"),
    "minesweeper": "cells",
    "shortest_path": "cells",
    "sat": "sat",
    "cryptarithm": "mapping",
    "knights_and_knaves": "roles",
    "zebra_puzzle": "zebra",
    "graph_coloring": "words",
    "word_sorting": "words",
    "word_ladder": "words",
    "web_of_lies": "words",
    "cipher": "words",
    "game_of_24": "expression",
    "math_path": "expression",
    **dict.fromkeys(
        (
            "number_sequence",
            "object_counting",
            "date_arithmetic",
            "binary_arithmetic",
            "boolean_expressions",
            "sat_decision",
            "time_sequence",
            "dyck_language",
        ),
        "scalar",
    ),
}

R1_THINK = (
    "<think>\nAlright, let me set up the constraints first. Hmm, the first clue fixes one "
    "value; let me propagate from there.\n\nWait, that breaks a rule. Let me backtrack and try "
    "the other option... yes, now everything is consistent.\n</think>\n\n"
)
STEPS = (
    "## Step 1: Understand the constraints\nEach rule limits the possible values.\n\n"
    "## Step 2: Apply the clues\nThe clues force several values directly.\n\n"
    "## Step 3: Fill in the rest\nWorking through the remaining options gives a unique result.\n\n"
)
CLAUDE = "Let me solve this step by step...\n\n"
GPT = (
    "Let's solve this carefully.\n\n### Step-by-step reasoning\n\n"
    "1. **Forced values.** Some values follow directly from the clues.\n"
    "2. **Elimination.** Each placement removes options elsewhere.\n\n"
)


# -- values ---------------------------------------------------------------------------------


def value_of(family: str, row: dict[str, Any]) -> Any:
    """The reference answer of ``row`` as a plain structure for its kind."""
    text = row["answer"]
    kind = KIND[family]
    if kind == "grid":
        return [line.split() for line in text.split("\n")]
    if kind == "cells":
        return [(int(a), int(b)) for a, b in re.findall(r"\((\d+), (\d+)\)", text)]
    if kind == "sat":
        return [(int(a), int(b)) for a, b in re.findall(r"x(\d+)=([01])", text)]
    if kind == "mapping":
        return [(a, int(b)) for a, b in re.findall(r"([A-Z])=(\d)", text)]
    if kind == "roles":
        return re.findall(r"(\w+): (knight|knave)", text)
    if kind == "zebra":
        keys = re.search(r"in the order ([a-z, ]+), like", row["question"]).group(1).split(", ")
        return keys, [line.split(": ", 1)[1].split(", ") for line in text.split("\n")]
    if kind == "words":
        return text.split(" ") if family == "cipher" else text.split(", ")
    return text


def text_of(family: str, value: Any) -> str:
    """A value back in the family's own reference format (to check it with the rules)."""
    kind = KIND[family]
    if kind == "grid":
        return "\n".join(" ".join(r) for r in value)
    if kind == "cells":
        return ", ".join(f"({a}, {b})" for a, b in value)
    if kind == "sat":
        return ", ".join(f"x{v}={b}" for v, b in value)
    if kind == "mapping":
        return ", ".join(f"{k}={v}" for k, v in value)
    if kind == "roles":
        return ", ".join(f"{n}: {r}" for n, r in value)
    if kind == "zebra":
        return "\n".join(f"House {i + 1}: {', '.join(h)}" for i, h in enumerate(value[1]))
    if kind == "words":
        return " ".join(value) if family == "cipher" else ", ".join(value)
    return str(value)


def is_wrong(family: str, row: dict[str, Any], value: Any) -> bool:
    """Whether the family's own rules reject ``value`` (unreadable counts as rejected)."""
    spec = json.loads(row["verifier_spec"])
    try:
        result = get_task(family).check(spec, text_of(family, value))
    except ValueError:
        return True
    return (result if isinstance(result, float) else result.score) < 1.0


# -- grids ----------------------------------------------------------------------------------

_SHADED = {"#", "*", "1"}


def _latex(v: str) -> str:
    return {"#": r"\#", "*": r"\ast", ".": r"\cdot", "T": r"\text{T}"}.get(v, v)


def _futoshiki_layout(question: str, grid: list[list[str]]) -> str:
    """The question's board with its dots replaced by the answer (signs and ^/v rows kept)."""
    lines = question.split("\n")
    start = next(i for i, ln in enumerate(lines) if re.match(r"^[.\d](?:\s|$)", ln))
    out, r = [], 0
    for ln in lines[start:]:
        if r == len(grid):
            break
        if re.match(r"^[.\d]", ln):
            cells = iter(grid[r])
            out.append(re.sub(r"[.\d]", lambda _, it=cells: next(it), ln))
            r += 1
        else:
            out.append(ln)
    return "\n".join(out)


def grid_styles(family: str, grid: list[list[str]], row: dict[str, Any]) -> list[Style]:
    """Grids in the layouts real models use (see the module docstring's sources)."""
    n_rows, n_cols = len(grid), len(grid[0])
    symbols = {v for r in grid for v in r}
    numeric = all(v.lstrip("-").isdigit() for v in symbols)
    wide = "\n".join("   ".join(r) for r in grid)
    plain = "\n".join(" ".join(r) for r in grid)
    spaced_rows = ("\n" + " " * (4 * n_cols - 3) + "\n").join("   ".join(r) for r in grid)
    ordinals = ["First", "Second", "Third", "Fourth", "Fifth", "Sixth", "Seventh", "Eighth"]
    ordinals += ["Ninth", "Tenth", "Eleventh", "Twelfth"]
    array = " \\\\ \\hline\n".join(" & ".join(_latex(v) for v in r) for r in grid)
    quoted = [[v if numeric else f"'{v}'" for v in r] for r in grid]
    tuples = "(" + ",".join("(" + ",".join(r) + ")" for r in quoted) + ")"
    listed = "[\n" + ",\n".join("    [" + ", ".join(r) + "]" for r in quoted) + "\n]"
    table = (
        "| **Row** | "
        + " | ".join(f"**{c + 1}**" for c in range(n_cols))
        + " |\n|"
        + ":---:|" * (n_cols + 1)
        + "\n"
        + "\n".join(f"| **{i + 1}** | " + " | ".join(r) + " |" for i, r in enumerate(grid))
    )
    out = [
        ("rg-claude-tag-wide", f"{CLAUDE}<answer>\n{wide}\n</answer>"),
        (
            "rg-maverick-repeated-tags",
            f"Let's format it correctly.\n\n<answer>\n{wide}\n</answer>\n\n"
            f"The final answer is:\n<answer>{plain}</answer>",
        ),
        ("rg-gemma-bare-grid", f"{plain}\n\n"),
        (
            "rg-scout-final-answer-blank-rows",
            f"{STEPS}## Step 4: Finalize\nAfter trial and error, respecting all constraints:\n\n"
            f"The final answer is:\n\n{spaced_rows}",
        ),
        ("rg-llama-fence", f"{STEPS}The final answer is:\n```\n{plain}\n```"),
        (
            "rg-scout-ordinal-rows",
            "After trial and error, respecting all constraints:\n"
            + "\n".join(f"- {ordinals[i]} row: {' '.join(r)}" for i, r in enumerate(grid)),
        ),
        (
            "qwq-boxed-hline-array",
            f"{R1_THINK}**Final Answer**\n\\[\n\\boxed{{\n\\begin{{array}}{{|{'c|' * n_cols}}}\n"
            f"\\hline\n{array} \\\\ \\hline\n\\end{{array}}\n}}\n\\]",
        ),
        (
            "qwq-boxed-list",
            f"{R1_THINK}The solved grid is\n\\[\\boxed{{["
            + ", ".join("[" + ", ".join(r) + "]" for r in quoted)
            + "]}\\]",
        ),
        ("synlogic-python-tuples", f"{CLAUDE}```python\n{tuples}\n```"),
        (
            "synlogic-double-brackets",
            "So the final grid is:\n[[" + ",".join(" ".join(r) for r in grid) + "]]",
        ),
        ("synlogic-list-of-lists", f"Here is the completed grid:\n```python\n{listed}\n```"),
        ("gpt4o-bold-centred-table", f"{GPT}### ✅ Final Answer\n\n{table}\n"),
        (
            "r1-summary-rows-with-checks",
            f"{R1_THINK}**Solution:**\n\n"
            + "\n".join(f"Row {i + 1}: {' '.join(r)} ✓" for i, r in enumerate(grid))
            + "\n\nAll constraints are satisfied.",
        ),
        (
            "tag-with-trailing-note",
            f"<answer>\n{plain}\n\nThis grid satisfies all the constraints.\n</answer>",
        ),
        (
            "bracketed-rows-labelled",
            "Final grid:\n"
            + "\n".join(f"Row {i + 1}: [{', '.join(r)}]" for i, r in enumerate(grid)),
        ),
        (
            "claude-heading-fence-verification",
            f"## Solution\n\n```\n{plain}\n```\n\n**Verification:**\n- Every row: ✓\n"
            "- Every column: ✓\n- Every clue: ✓",
        ),
    ]
    if family == "sudoku" and n_rows in (4, 6, 9):
        br, bc = {4: (2, 2), 6: (2, 3), 9: (3, 3)}[n_rows]
        lines = []
        for i, r in enumerate(grid):
            if i and i % br == 0:
                lines.append("+".join(["-" * (2 * bc + 1)] * (n_cols // bc)))
            lines.append(" | ".join(" ".join(r[j : j + bc]) for j in range(0, n_cols, bc)))
        out.append(("boxes-with-separators", "```\n" + "\n".join(lines) + "\n```"))
    if family == "futoshiki":
        layout = _futoshiki_layout(row["question"], grid)
        out.append(("rg-futoshiki-layout-in-tag", f"{CLAUDE}<answer>\n{layout}\n</answer>"))
        wedges = layout.replace("^", "∧").replace("v", "∨")
        out.append(("rg-futoshiki-layout-bare", f"The final answer is:\n\n{wedges}"))
    if family == "survo":
        sums = [sum(int(v) for v in r) for r in grid]
        cols = [sum(int(grid[i][j]) for i in range(n_rows)) for j in range(n_cols)]
        layout = "\n".join(" ".join(r) + f" | {s}" for r, s in zip(grid, sums, strict=True))
        layout += "\n" + " ".join(str(c) for c in cols)
        out.append(("survo-layout-with-sums", f"Completed puzzle:\n\n```\n{layout}\n```"))
    if family in SHADE_GRIDS or family == "lights_out":
        marked = [
            (i + 1, j + 1) for i, r in enumerate(grid) for j, v in enumerate(r) if v in _SHADED
        ]
        word = {
            "star_battle": "Stars",
            "campsite": "Tents",
            "lights_out": "Press",
        }.get(family, "Shaded cells")
        if marked:
            out.append(
                (
                    "cell-list-final-answer",
                    f"{GPT}**Final Answer:** {word}: " + ", ".join(f"({a},{b})" for a, b in marked),
                )
            )
            out.append(
                (
                    "rc-list-in-tag",
                    "<answer>" + " ".join(f"R{a}C{b}" for a, b in marked) + "</answer>",
                )
            )
        if family != "campsite":
            emoji = "\n".join("".join("⬛" if v in _SHADED else "⬜" for v in r) for r in grid)
            out.append(("gpt4o-emoji-squares", f"{GPT}### Final grid\n\n{emoji}\n"))
    if family == "norinori":
        cells = {(i, j) for i, r in enumerate(grid) for j, v in enumerate(r) if v in _SHADED}
        dominoes, seen = [], set()
        for a, b in sorted(cells):
            if (a, b) in seen:
                continue
            mate = (a, b + 1) if (a, b + 1) in cells else (a + 1, b)
            seen |= {(a, b), mate}
            dominoes.append(f"[({a + 1},{b + 1}), ({mate[0] + 1},{mate[1] + 1})]")
        out.append(("synlogic-domino-list", "Answer: [" + ", ".join(dominoes) + "]"))
    return out


def corrupt_grid(family: str, row: dict[str, Any], grid: list[list[str]]) -> Iterator[Any]:
    """Same-shape grids the rules reject: one cell changed, or two cells swapped."""
    symbols = sorted(
        {v for r in grid for v in r} | ({"#", "."} if family in SHADE_GRIDS else set())
    )
    if family == "campsite":
        symbols = ["*", "."]
    rng = random.Random(row["source_id"])
    cells = [(i, j) for i in range(len(grid)) for j in range(len(grid[0]))]
    rng.shuffle(cells)
    for i, j in cells:
        if grid[i][j] == "T":
            continue
        for s in symbols:
            if s != grid[i][j] and s != "T":
                new = [r[:] for r in grid]
                new[i][j] = s
                yield new
        k = (j + 1) % len(grid[0])
        if grid[i][k] != grid[i][j] and "T" not in (grid[i][k], grid[i][j]):
            new = [r[:] for r in grid]
            new[i][j], new[i][k] = grid[i][k], grid[i][j]
            yield new


# -- coordinate lists -------------------------------------------------------------------------


def cells_styles(family: str, cells: list[tuple[int, int]], row: dict[str, Any]) -> list[Style]:
    """Mine lists and paths."""
    what = "mines" if family == "minesweeper" else "path"
    spec = json.loads(row["verifier_spec"])
    extra = ""
    if family == "shortest_path":
        grid = spec["grid"]
        cost = sum(int(grid[r - 1][c - 1]) for r, c in cells)
        extra = f" with a total cost of {cost}"
    tight = ", ".join(f"({a},{b})" for a, b in cells)
    return [
        (
            "synlogic-python-list",
            f"{CLAUDE}```python\n[" + ", ".join(f"({a}, {b})" for a, b in cells) + "]\n```",
        ),
        (
            "arrows-unicode",
            f"{GPT}**Final {what}:** " + " → ".join(f"({a}, {b})" for a, b in cells) + extra,
        ),
        (
            "arrows-ascii-in-tag",
            "<answer>" + " -> ".join(f"({a},{b})" for a, b in cells) + "</answer>",
        ),
        ("rg-tag-tight", f"<answer>{tight}</answer>"),
        (
            "bullets-row-column",
            f"The {what}:\n" + "\n".join(f"- Row {a}, Column {b}" for a, b in cells),
        ),
        (
            "gpt4o-table",
            f"{GPT}| # | Row | Column |\n|---|---|---|\n"
            + "\n".join(f"| {i + 1} | {a} | {b} |" for i, (a, b) in enumerate(cells)),
        ),
        ("json-pairs", "```json\n" + json.dumps([[a, b] for a, b in cells]) + "\n```"),
        ("qwq-boxed", f"{R1_THINK}\\[\n\\boxed{{{tight}}}\n\\]"),
        (
            "prose-with-and",
            f"The {what} "
            + ("are located at " if family == "minesweeper" else "goes through ")
            + ", ".join(f"({a}, {b})" for a, b in cells[:-1])
            + f" and ({cells[-1][0]}, {cells[-1][1]}){extra}.",
        ),
        ("llama-boxed", f"{STEPS}The final answer is: $\\boxed{{{tight}}}$"),
    ]


def corrupt_cells(family: str, row: dict[str, Any], cells: list[tuple[int, int]]) -> Iterator[Any]:
    """A cell dropped, moved or added."""
    spec = json.loads(row["verifier_spec"])
    rows_ = spec.get("rows") or len(spec["grid"])
    cols = spec.get("cols") or len(spec["grid"][0])
    for i in range(len(cells)):
        yield cells[:i] + cells[i + 1 :]
    for i, (a, b) in enumerate(cells):
        for da, db in ((0, 1), (1, 0), (0, -1), (-1, 0)):
            if 1 <= a + da <= rows_ and 1 <= b + db <= cols and (a + da, b + db) not in cells:
                yield cells[:i] + [(a + da, b + db)] + cells[i + 1 :]


# -- assignments -------------------------------------------------------------------------------


def sat_styles(family: str, values: list[tuple[int, int]], row: dict[str, Any]) -> list[Style]:
    """Truth assignments."""
    tf = {1: "True", 0: "False"}
    true = [f"x{v}" for v, b in values if b]
    false = [f"x{v}" for v, b in values if not b]
    return [
        (
            "tf-words-in-tag",
            "<answer>" + ", ".join(f"x{v} = {tf[b]}" for v, b in values) + "</answer>",
        ),
        (
            "t-f-letters",
            f"{GPT}**Assignment:** " + ", ".join(f"x{v}=" + "TF"[1 - b] for v, b in values),
        ),
        (
            "json-bools",
            "```json\n" + json.dumps({f"x{v}": bool(b) for v, b in values}, indent=2) + "\n```",
        ),
        ("python-dict", "{" + ", ".join(f"'x{v}': {b}" for v, b in values) + "}"),
        (
            "gpt4o-bold-table",
            f"{GPT}| **Variable** | **Value** |\n|:---:|:---:|\n"
            + "\n".join(f"| x{v} | {b} |" for v, b in values),
        ),
        (
            "dimacs-line",
            "Satisfying assignment (DIMACS):\n"
            + " ".join(str(v if b else -v) for v, b in values)
            + " 0",
        ),
        (
            "qwq-boxed-subscripts",
            f"{R1_THINK}\\[\n\\boxed{{"
            + ", ".join(f"x_{{{v}}} = {tf[b]}" for v, b in values)
            + "}\n\\]",
        ),
        (
            "literal-conjunction",
            "Final answer: " + " ∧ ".join(f"x{v}" if b else f"¬x{v}" for v, b in values),
        ),
        (
            "true-false-groups",
            "**True:** "
            + (", ".join(true) or "none")
            + "\n**False:** "
            + (", ".join(false) or "none"),
        ),
        ("colon-lines", "Final Answer:\n" + "\n".join(f"x{v}: {b}" for v, b in values)),
    ]


def corrupt_sat(family: str, row: dict[str, Any], values: list[tuple[int, int]]) -> Iterator[Any]:
    """One or all values flipped."""
    for i in range(len(values)):
        yield [(v, 1 - b if k == i else b) for k, (v, b) in enumerate(values)]
    yield [(v, 1 - b) for v, b in values]


def mapping_styles(family: str, pairs: list[tuple[str, int]], row: dict[str, Any]) -> list[Style]:
    """Letter → digit maps."""
    shuffled = pairs[:]
    random.Random(len(pairs)).shuffle(shuffled)
    return [
        (
            "rg-tight-any-order",
            "<answer>" + ",".join(f"{k}={v}" for k, v in shuffled) + "</answer>",
        ),
        (
            "rg-mistral-bullets",
            f"{GPT}we find the following mapping:\n\n"
            + "\n".join(f"- {k} = {v}" for k, v in pairs),
        ),
        (
            "rg-scout-final-answer-line",
            f"{STEPS}The final answer is: \n" + ",".join(f"{k}={v}" for k, v in pairs),
        ),
        (
            "llama-boxed",
            f"{STEPS}The final answer is: $\\boxed{{"
            + ",".join(f"{k}={v}" for k, v in pairs)
            + "}$",
        ),
        ("json", "```json\n" + json.dumps(dict(pairs)) + "\n```"),
        ("arrows", "Final mapping: " + ", ".join(f"{k} → {v}" for k, v in pairs)),
        (
            "gpt4o-table",
            f"{GPT}| Letter | Digit |\n|:---:|:---:|\n"
            + "\n".join(f"| **{k}** | {v} |" for k, v in pairs),
        ),
        (
            "is-prose",
            "So "
            + ", ".join(f"{k} is {v}" for k, v in pairs[:-1])
            + f" and {pairs[-1][0]} is {pairs[-1][1]}.",
        ),
        (
            "colon-lines-in-tag",
            "<answer>\n" + "\n".join(f"{k}: {v}" for k, v in pairs) + "\n</answer>",
        ),
    ]


def corrupt_mapping(
    family: str, row: dict[str, Any], pairs: list[tuple[str, int]]
) -> Iterator[Any]:
    """Two letters' digits swapped, or one digit changed."""
    for i in range(len(pairs)):
        for j in range(i + 1, len(pairs)):
            new = pairs[:]
            new[i], new[j] = (pairs[i][0], pairs[j][1]), (pairs[j][0], pairs[i][1])
            yield new
    for i in range(len(pairs)):
        for d in range(10):
            if d != pairs[i][1]:
                yield pairs[:i] + [(pairs[i][0], d)] + pairs[i + 1 :]


def roles_styles(family: str, pairs: list[tuple[str, str]], row: dict[str, Any]) -> list[Style]:
    """Knights and knaves."""
    sentence = ", ".join(f"{n} is a {r}" for n, r in pairs[:-1])
    sentence = f"{sentence}, and " if len(pairs) > 2 else f"{sentence} and " if sentence else ""
    sentence += f"{pairs[-1][0]} is a {pairs[-1][1]}"
    knights = [n for n, r in pairs if r == "knight"]
    knaves = [n for n, r in pairs if r == "knave"]
    return [
        ("rg-sentence-in-tag", f"{CLAUDE}<answer>{sentence}</answer>"),
        ("title-case-lines", "### Answer\n" + "\n".join(f"{n}: {r.title()}" for n, r in pairs)),
        ("json", "```json\n" + json.dumps({n: r for n, r in pairs}, indent=2) + "\n```"),
        (
            "gpt4o-table-emoji",
            f"{GPT}| Person | Role |\n|---|---|\n"
            + "\n".join(
                f"| {n} | {'🛡️ Knight' if r == 'knight' else '🃏 Knave'} |" for n, r in pairs
            ),
        ),
        (
            "bold-sentence-line",
            f"{GPT}**Conclusion:** " + "; ".join(f"**{n}** is a **{r}**" for n, r in pairs) + ".",
        ),
        (
            "dash-with-gloss",
            "\n".join(
                f"{n} - {r} ({'always tells the truth' if r == 'knight' else 'always lies'})"
                for n, r in pairs
            ),
        ),
        (
            "groups-line",
            f"{R1_THINK}**Knights:** {', '.join(knights) or 'none'}\n**Knaves:** {', '.join(knaves) or 'none'}",
        ),
        ("boxed-text", f"{R1_THINK}\\boxed{{\\text{{{sentence}}}}}"),
        ("parenthesised", "Answer: " + ", ".join(f"{n} ({r})" for n, r in pairs)),
    ]


def corrupt_roles(family: str, row: dict[str, Any], pairs: list[tuple[str, str]]) -> Iterator[Any]:
    """One role flipped."""
    for i in range(len(pairs)):
        yield [
            (n, ("knave" if r == "knight" else "knight") if k == i else r)
            for k, (n, r) in enumerate(pairs)
        ]


def zebra_styles(family: str, value: Any, row: dict[str, Any]) -> list[Style]:
    """Zebra tables."""
    keys, houses = value
    solution = {
        f"House {i + 1}": {k.capitalize(): v for k, v in zip(keys, h, strict=True)}
        for i, h in enumerate(houses)
    }
    header = "| House | " + " | ".join(f"**{k.capitalize()}**" for k in keys) + " |"
    table = (
        header
        + "\n|"
        + ":---:|" * (len(keys) + 1)
        + "\n"
        + "\n".join(
            f"| {i + 1} | " + " | ".join(v.title() for v in h) + " |" for i, h in enumerate(houses)
        )
    )
    return [
        (
            "zeroeval-json",
            json.dumps(
                {
                    "reasoning": "From the clues the houses are fixed one by one.",
                    "solution": solution,
                },
                indent=4,
            ),
        ),
        (
            "zeroeval-json-fence",
            "```json\n" + json.dumps({"solution": solution}, indent=2) + "\n```",
        ),
        ("gpt4o-title-case-table", f"{GPT}### Final Answer\n\n{table}\n"),
        (
            "em-dash-lines",
            f"{R1_THINK}**Answer:**\n"
            + "\n".join(f"House {i + 1} — {', '.join(h)}" for i, h in enumerate(houses)),
        ),
        (
            "numbered-pipes",
            "<answer>\n"
            + "\n".join(f"{i + 1}. {' | '.join(h)}" for i, h in enumerate(houses))
            + "\n</answer>",
        ),
        (
            "semicolon-attributes",
            "\n".join(
                f"**House {i + 1}:** "
                + "; ".join(f"{k.capitalize()}: {v}" for k, v in zip(keys, h, strict=True))
                for i, h in enumerate(houses)
            ),
        ),
        (
            "list-of-dicts",
            "```python\n" + json.dumps([dict(zip(keys, h, strict=True)) for h in houses]) + "\n```",
        ),
        (
            "transposed-plain-table",
            "| Attribute | "
            + " | ".join(f"House {i + 1}" for i in range(len(houses)))
            + " |\n|---" * 1
            + "|---" * len(houses)
            + "|\n"
            + "\n".join(
                f"| {k} | " + " | ".join(h[a] for h in houses) + " |" for a, k in enumerate(keys)
            ),
        ),
        (
            "bullets-per-house",
            "Final answer:\n"
            + "\n".join(
                f"- House {i + 1}: " + ", ".join(f"{v} ({k})" for k, v in zip(keys, h, strict=True))
                for i, h in enumerate(houses)
            ),
        ),
    ]


def corrupt_zebra(family: str, row: dict[str, Any], value: Any) -> Iterator[Any]:
    """Two houses' values of one attribute swapped."""
    keys, houses = value
    for a in range(len(keys)):
        for j in range(1, len(houses)):
            new = [h[:] for h in houses]
            new[0][a], new[j][a] = houses[j][a], houses[0][a]
            yield keys, new


# -- word lists ---------------------------------------------------------------------------------


def words_styles(family: str, words: list[str], row: dict[str, Any]) -> list[Style]:
    """Lists of words and labels (and the cipher's plaintext)."""
    ref = ", ".join(words)
    if family == "cipher":
        sentence = " ".join(words)
        return [
            ("rg-upper-in-tag", f"<answer>{sentence.upper()}</answer>"),
            (
                "rg-upper-period",
                f"Let's directly provide the final decrypted text.\n\n<answer>{sentence.upper()}.</answer>",
            ),
            ("quoted-plaintext", f'{GPT}**Decrypted message:** "{sentence.capitalize()}."'),
            ("boxed-text", f"{R1_THINK}\\[\n\\boxed{{\\text{{{sentence}}}}}\n\\]"),
            ("decoded-label", f"Shift: 14 back\nDecoded: {sentence}"),
            ("bold-sentence", f"The plaintext is **{sentence}**."),
            ("fence", f"Decrypted text:\n```\n{sentence}\n```"),
            ("gemma-bare-upper", f"{sentence.upper()}\n"),
            ("llama-final-answer", f"{STEPS}The final answer is: {sentence}"),
        ]
    if family == "graph_coloring":
        return [
            (
                "rg-json-map",
                "<answer>" + json.dumps({str(i + 1): c for i, c in enumerate(words)}) + "</answer>",
            ),
            (
                "json-fence",
                "```json\n"
                + json.dumps({str(i + 1): c.capitalize() for i, c in enumerate(words)})
                + "\n```",
            ),
            (
                "vertex-arrows",
                "Final colouring:\n"
                + "\n".join(f"Vertex {i + 1} → {c.capitalize()}" for i, c in enumerate(words)),
            ),
            ("colon-lines", "\n".join(f"{i + 1}: {c}" for i, c in enumerate(words))),
            (
                "gpt4o-table",
                f"{GPT}| Vertex | Colour |\n|:---:|:---:|\n"
                + "\n".join(f"| {i + 1} | **{c}** |" for i, c in enumerate(words)),
            ),
            (
                "capitalised-in-tag",
                "<answer>" + ", ".join(c.capitalize() for c in words) + "</answer>",
            ),
            ("bracketed-list", f"{R1_THINK}**Answer:** [" + ", ".join(words) + "]"),
            ("boxed-text", f"{R1_THINK}\\boxed{{\\text{{{ref}}}}}"),
            ("llama-final-answer", f"{STEPS}The final answer is: {ref}"),
        ]
    if family == "word_ladder":
        steps = [f"{words[0].upper()}"] + [
            f"{w.upper()} (change {_changed(a, w)})" for a, w in zip(words, words[1:], strict=False)
        ]
        return [
            ("rg-upper-tight", "<answer>" + ",".join(w.upper() for w in words) + "</answer>"),
            (
                "rg-claude-arrows",
                " → ".join(w.upper() for w in words)
                + f"\n\n<answer>{','.join(w.upper() for w in words)}</answer>",
            ),
            ("ascii-arrows", f"{GPT}**Ladder:** " + " -> ".join(words)),
            (
                "steps-with-changes",
                "Final ladder:\n" + "\n".join(f"{i + 1}. {s}" for i, s in enumerate(steps)),
            ),
            (
                "rg-scout-sequence-is",
                f"{STEPS}The sequence is: {', '.join(w.upper() for w in words)}.",
            ),
            (
                "numbered-lower",
                "<answer>\n"
                + "\n".join(f"{i + 1}. {w}" for i, w in enumerate(words))
                + "\n</answer>",
            ),
            ("boxed", f"{R1_THINK}\\boxed{{{', '.join(words)}}}"),
            ("python-list", "```python\n" + json.dumps(words) + "\n```"),
            ("bare-tight", ",".join(words)),
        ]
    if family == "web_of_lies":
        names = re.search(r"tell the truth: (.*?)\? Answer", row["question"]).group(1).split(", ")
        yes_no = [w.capitalize() for w in words]
        facts = [
            f"{n} {'tells the truth' if w == 'yes' else 'lies'}"
            for n, w in zip(names, words, strict=True)
        ]
        return [
            ("synlogic-bold-list", f"{GPT}The answer is **{', '.join(words)}**."),
            (
                "bbh-so-the-answer",
                f"We know each person's status now. So the answer is {', '.join(yes_no)}.",
            ),
            (
                "name-verdicts",
                "\n".join(
                    f"{n}: {w.capitalize()} ({'truth-teller' if w == 'yes' else 'liar'})"
                    for n, w in zip(names, words, strict=True)
                ),
            ),
            ("facts-sentence", f"{R1_THINK}**Answer:** {'; '.join(facts)}."),
            ("capitalised-tag", f"<answer>{', '.join(yes_no)}</answer>"),
            ("boxed-text", f"{R1_THINK}\\boxed{{\\text{{{', '.join(words)}}}}}"),
            ("bullets", "Final answer:\n" + "\n".join(f"- {w}" for w in yes_no)),
            ("llama-boxed", f"{STEPS}The final answer is: $\\boxed{{{', '.join(words)}}}$"),
        ]
    # word_sorting
    return [
        ("bbh-space-separated", f"Hence, the order is fixed. So the answer is {' '.join(words)}."),
        ("rg-tight-commas", f"<answer>{','.join(words)}</answer>"),
        (
            "numbered-list",
            f"{GPT}### Sorted words\n\n" + "\n".join(f"{i + 1}. {w}" for i, w in enumerate(words)),
        ),
        ("python-list", "```python\n" + repr(words) + "\n```"),
        ("boxed", f"{R1_THINK}\\boxed{{{ref}}}"),
        ("arrows", "Final order: " + " → ".join(words)),
        ("bold-words", "**Answer:** " + ", ".join(f"**{w}**" for w in words)),
        ("gemma-bare-line", f"{ref}\n"),
        ("llama-boxed", f"{STEPS}The final answer is: $\\boxed{{{ref}}}$"),
    ]


def _changed(a: str, b: str) -> str:
    i = next(k for k in range(len(a)) if a[k] != b[k])
    return f"{a[i].upper()} to {b[i].upper()}"


def corrupt_words(family: str, row: dict[str, Any], words: list[str]) -> Iterator[Any]:
    """A word changed, dropped or moved."""
    if family == "web_of_lies":
        for i in range(len(words)):
            yield [("no" if w == "yes" else "yes") if k == i else w for k, w in enumerate(words)]
        return
    if family == "graph_coloring":
        spec = json.loads(row["verifier_spec"])
        for a, b in spec["edges"]:
            new = words[:]
            new[a] = words[b]
            yield new
        return
    if family == "cipher":
        first = words[0]
        yield [first[::-1], *words[1:]]
        yield [chr((ord(first[0]) - 96) % 26 + 97) + first[1:], *words[1:]]
        return
    if family == "word_ladder":
        yield words[::-1]
        yield words[:1] + words[2:]
        yield [*words[:-1], words[0]]
        return
    for i in range(len(words) - 1):
        yield words[:i] + [words[i + 1], words[i]] + words[i + 2 :]
    yield words[:-1]


# -- scalars and expressions -------------------------------------------------------------------------


def scalar_styles(family: str, value: str, row: dict[str, Any]) -> list[Style]:
    """Short answers."""
    latex = f"\\text{{{value}}}" if re.search(r"[A-Za-z]", value) else value
    if family == "dyck_language":
        latex = value.replace("{", "\\{").replace("}", "\\}")
    out = [
        ("bbh-so-the-answer", f"Now we can conclude. So the answer is {value}."),
        (
            "gemma-final-answer-boxed",
            f"{GPT}Final Answer: The final answer is $\\boxed{{{latex}}}$",
        ),
        ("llama-steps-boxed", f"{STEPS}The final answer is: $\\boxed{{{latex}}}$"),
        ("rg-lowercase-answer-colon", f"{STEPS}answer: {value}"),
        ("r1-bold-answer-line", f"{R1_THINK}**Answer:** **{value}**"),
        ("qwq-boxed-display", f"{R1_THINK}**Final Answer**\n\\[\n\\boxed{{{latex}}}\n\\]"),
        (
            "rg-claude-tag",
            f"{CLAUDE}1) First, the key observation.\n2) Then the rest follows.\n\n<answer>{value}</answer>",
        ),
        ("gpt4o-heading-bold", f"{GPT}### ✅ Final Answer\n\n**{value}**"),
    ]
    if family == "number_sequence":
        v = value.replace("-", "−")
        out += [
            ("unicode-minus-sentence", f"The pattern continues, so the next term is {v}."),
            (
                "value-with-reason",
                f"<answer>{value}</answer> (the second differences are constant)",
            ),
        ]
    elif family == "object_counting":
        out += [
            ("counting-sentence", f"{GPT}So in total you have {value} of them."),
            ("word-number", f"**Total:** {_number_word(int(value))}"),
        ]
    elif family == "date_arithmetic":
        out += [
            ("weekday-sentence", f"Counting forward, the date falls on **{value}**."),
            ("lowercase-tag", f"<answer>{value.lower()}</answer>"),
        ]
    elif family == "binary_arithmetic":
        out += [
            ("subscript-two", f"The result is $({value})_2$."),
            ("prefixed-0b", f"```\n0b{value}\n```"),
        ]
    elif family == "boolean_expressions":
        out += [
            ("evaluates-sentence", f"Therefore the whole expression evaluates to {value}."),
            ("lowercase-tag", f"<answer>{value.lower()}</answer>"),
        ]
    elif family == "sat_decision":
        word = "satisfiable" if value == "SAT" else "unsatisfiable"
        out += [
            ("word-sentence", f"The formula is **{word}**."),
            ("word-upper-tag", f"<answer>{word.upper()}</answer>"),
        ]
    elif family == "time_sequence":
        start, count = value.split(", ")
        out += [
            ("synlogic-brackets", f"So the answer is:\n[{start}, {count}]"),
            ("labelled-lines", f"**Earliest start:** {start}\n**Possible start times:** {count}"),
        ]
    elif family == "dyck_language":
        out += [
            ("no-spaces-tag", f"<answer>{value.replace(' ', '')}</answer>"),
            ("quoted-sequence", f'We need to add "{value}" to close the sequence.'),
        ]
    return out


_WORDS = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty".split()


def _number_word(n: int) -> str:
    return _WORDS[n] if 0 <= n < len(_WORDS) else str(n)


def corrupt_scalar(family: str, row: dict[str, Any], value: str) -> Iterator[Any]:
    """Another answer of the same kind."""
    if family == "boolean_expressions":
        yield "False" if value == "True" else "True"
    elif family == "sat_decision":
        yield "UNSAT" if value == "SAT" else "SAT"
    elif family == "binary_arithmetic":
        yield value[:-1] + ("0" if value[-1] == "1" else "1")
    elif family == "time_sequence":
        start, count = value.split(", ")
        yield f"{start}, {int(count) + 1}"
        h, m = start.split(":")
        yield f"{int(h) + 1:02d}:{m}, {count}"
    elif family == "dyck_language":
        yield value + " )"
        yield value.replace(")", "]", 1) if ")" in value else value.replace("]", ")", 1)
    elif family == "date_arithmetic":
        days = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
        if value in days:
            yield days[(days.index(value) + 2) % 7]
        elif re.fullmatch(r"\d+", value):
            yield str(int(value) + 1)
        else:
            y, m, d = value.split("-")
            yield f"{y}-{m}-{int(d) % 28 + 1:02d}"
    else:
        yield str(int(value) + 1)
        yield str(int(value) - 2)


def expression_styles(family: str, value: str, row: dict[str, Any]) -> list[Style]:
    """Arithmetic expressions and completed equations."""
    tight = value.replace(" ", "")
    pretty = value.replace("*", "×").replace(" - ", " − ").replace("/", "÷")
    latex = value.replace("*", "\\times ").replace("/", "\\div ")
    if family == "math_path":
        return [
            ("synlogic-double-brackets", f"{CLAUDE}[[{value}]]"),
            ("unicode-operators", f"{GPT}**Completed equation:** {pretty}"),
            ("qwq-boxed", f"{R1_THINK}\\[\n\\boxed{{{latex}}}\n\\]"),
            ("rg-tag-tight", f"<answer>{tight}</answer>"),
            ("llama-steps-boxed", f"{STEPS}The final answer is: $\\boxed{{{latex}}}$"),
            ("bold-line", f"So the filled equation is **{value}**."),
            ("fence", f"```\n{value}\n```"),
            ("gemma-final-answer", f"Final Answer: The final answer is ${latex}$"),
        ]
    return [
        ("rg-tag-tight", f"{CLAUDE}<answer>{tight}</answer>"),
        ("equals-24-unicode", f"{GPT}**Solution:** {pretty} = 24"),
        (
            "synlogic-python-fence",
            f"The expression below uses every number once.\n```python\n{value}\n```",
        ),
        ("qwq-boxed-equals", f"{R1_THINK}\\[\n\\boxed{{{latex} = 24}}\n\\]"),
        ("llama-steps-boxed", f"{STEPS}The final answer is: $\\boxed{{{latex}}}$"),
        ("rg-scout-so", f"## 15: Solution found\nSo, {value}.\n\n<answer>{value}</answer>"),
        ("gemma-final-answer", f"Final Answer: The final answer is ${latex}$"),
        ("bold-equation", f"**{value} = 24**"),
    ]


def corrupt_expression(family: str, row: dict[str, Any], value: str) -> Iterator[Any]:
    """An operator or a digit changed."""
    if family == "math_path":
        spec = json.loads(row["verifier_spec"])
        slots = [i for i, ch in enumerate(spec["template"]) if ch == "?"]
        for i in slots:
            for d in "0123456789":
                if d != value[i]:
                    yield value[:i] + d + value[i + 1 :]
        return
    for a in "+-*/":
        for b in "+-*":
            if a != b and f" {a} " in value:
                yield value.replace(f" {a} ", f" {b} ", 1)


# -- batch B: written after the fixes that batch A led to, and measured once ------------------------

MISTRAL = "**Step 1:** Read the constraints.\n**Step 2:** Place the forced values.\n**Step 3:** Complete the rest.\n\n"


def grid_styles_b(family: str, grid: list[list[str]], row: dict[str, Any]) -> list[Style]:
    """Grids, batch B."""
    n_cols = len(grid[0])
    plain = "\n".join(" ".join(r) for r in grid)
    numeric = all(v.lstrip("-").isdigit() for r in grid for v in r)
    narrow = all(len(v) == 1 for r in grid for v in r)
    matrix = " \\\\ ".join(" & ".join(_latex(v) for v in r) for r in grid)
    out = [
        (
            "mistral-bold-answer-text-fence",
            MISTRAL + "**Answer:**\n\n```text\n" + "\n".join(", ".join(r) for r in grid) + "\n```",
        ),
        (
            "gemini-headerless-table-explained",
            "Here is the solved puzzle:\n\n"
            + "\n".join("| " + " | ".join(r) + " |" for r in grid)
            + "\n\n**Explanation:** every rule of the puzzle holds in this grid.",
        ),
        ("html-line-breaks", "Final answer:<br>" + "<br>".join(" ".join(r) for r in grid)),
        ("inline-bmatrix", f"The solution is $\\begin{{bmatrix}} {matrix} \\end{{bmatrix}}$."),
        ("boxed-pmatrix-no-think", f"\\boxed{{\\begin{{pmatrix}} {matrix} \\end{{pmatrix}}}}"),
        (
            "tag-row-labels-commas",
            "<answer>\n"
            + "\n".join(f"Row {i + 1}: {', '.join(r)}" for i, r in enumerate(grid))
            + "\n</answer>",
        ),
        ("blockquote-grid", "Final answer:\n\n" + "\n".join("> " + " ".join(r) for r in grid)),
        (
            "json-grid-key",
            "```json\n"
            + json.dumps({"grid": [[int(v) if numeric else v for v in r] for r in grid]})
            + "\n```",
        ),
        (
            "r1-plain-grid-then-sentence",
            f"{R1_THINK}The completed grid is:\n\n{plain}\n\nEach row and column now follows the rules.",
        ),
        ("repeated-grid", f"So the grid is:\n{plain}\n\nFinal Answer:\n{plain}"),
        ("tab-separated-tag", "<answer>\n" + "\n".join("\t".join(r) for r in grid) + "\n</answer>"),
        (
            "column-index-header",
            "```\n    "
            + " ".join(str(c + 1) for c in range(n_cols))
            + "\n"
            + "\n".join(f"{i + 1}:  " + " ".join(r) for i, r in enumerate(grid))
            + "\n```",
        ),
    ]
    if narrow:
        out.append(("no-spaces-rows", "```\n" + "\n".join("".join(r) for r in grid) + "\n```"))
    if family in SHADE_GRIDS or family == "lights_out":
        shaded = {"#", "*", "1"}
        if family != "campsite":
            out.append(
                (
                    "x-and-o",
                    "<answer>\n"
                    + "\n".join(
                        " ".join("X" if v in shaded else ("T" if v == "T" else "O") for v in r)
                        for r in grid
                    )
                    + "\n</answer>",
                )
            )
        if family in ("star_battle", "kakurasu", "lights_out", "nonogram"):
            lines = []
            for i, r in enumerate(grid):
                cols = [str(j + 1) for j, v in enumerate(r) if v in shaded]
                lines.append(
                    f"Row {i + 1}: "
                    + (
                        ("column " + cols[0])
                        if len(cols) == 1
                        else ("columns " + ", ".join(cols))
                        if cols
                        else "none"
                    )
                )
            out.append(("columns-per-row", "Final answer:\n" + "\n".join(lines)))
        if family == "star_battle":
            out.append(
                (
                    "star-emoji",
                    "\n".join(" ".join("⭐" if v in shaded else "·" for v in r) for r in grid),
                )
            )
        if family == "campsite":
            out.append(
                (
                    "tent-tree-emoji",
                    "<answer>\n"
                    + "\n".join(
                        " ".join({"*": "⛺", "T": "🌲"}.get(v, ".") for v in r) for r in grid
                    )
                    + "\n</answer>",
                )
            )
        marked = [
            (i + 1, j + 1) for i, r in enumerate(grid) for j, v in enumerate(r) if v in shaded
        ]
        if marked:
            verb = {
                "lights_out": "Press the cells at",
                "campsite": "Place the tents at",
                "star_battle": "Put the stars at",
            }.get(family, "Shade the cells at")
            out.append(
                (
                    "prose-cell-list",
                    f"{GPT}{verb} "
                    + ", ".join(f"({a}, {b})" for a, b in marked[:-1])
                    + (" and " if len(marked) > 1 else "")
                    + f"({marked[-1][0]}, {marked[-1][1]}).",
                )
            )
    return out


def cells_styles_b(family: str, cells: list[tuple[int, int]], row: dict[str, Any]) -> list[Style]:
    """Mine lists and paths, batch B."""
    out = [
        ("semicolons-bare-pairs", "Answer: " + "; ".join(f"{a},{b}" for a, b in cells)),
        (
            "numbered-lines",
            "Final answer:\n" + "\n".join(f"{i + 1}. ({a}, {b})" for i, (a, b) in enumerate(cells)),
        ),
        ("list-of-lists-line", f"{R1_THINK}[" + ", ".join(f"[{a}, {b}]" for a, b in cells) + "]"),
        (
            "boxed-set",
            f"{R1_THINK}\\boxed{{\\{{" + ", ".join(f"({a},{b})" for a, b in cells) + "\\}}",
        ),
        (
            "row-column-words",
            "The answer: " + ", ".join(f"row {a} column {b}" for a, b in cells) + ".",
        ),
        (
            "mistral-bold-cells",
            MISTRAL + "**Answer:** " + ", ".join(f"**({a}, {b})**" for a, b in cells),
        ),
    ]
    if family == "shortest_path":
        spec = json.loads(row["verifier_spec"])
        cost = sum(int(spec["grid"][r - 1][c - 1]) for r, c in cells)
        out += [
            (
                "path-then-cost-line",
                "Path:\n" + " → ".join(f"({a},{b})" for a, b in cells) + f"\n\nTotal cost = {cost}",
            ),
            (
                "start-end-words",
                "<answer>"
                + ", ".join(f"({a}, {b})" for a, b in cells)
                + f"</answer>\nCost: {cost}",
            ),
        ]
    else:
        out += [
            (
                "mines-sentence",
                f"There are {len(cells)} mines, at "
                + ", ".join(f"({a}, {b})" for a, b in cells)
                + ".",
            ),
            (
                "table-row-col",
                "| Row | Col |\n|---|---|\n" + "\n".join(f"| {a} | {b} |" for a, b in cells),
            ),
        ]
    return out


def sat_styles_b(family: str, values: list[tuple[int, int]], row: dict[str, Any]) -> list[Style]:
    """Truth assignments, batch B."""
    ones = [v for v, b in values if b]
    zeros = [v for v, b in values if not b]
    tf = {1: "T", 0: "F"}
    out = [
        ("fence-lines", "```\n" + "\n".join(f"x{v} = {b}" for v, b in values) + "\n```"),
        ("colon-letters", "Final answer: " + " ".join(f"x{v}:{tf[b]}" for v, b in values)),
        (
            "bit-vector-tag",
            f"(x1, …, x{len(values)}) in order:\n<answer>["
            + ", ".join(str(b) for _, b in values)
            + "]</answer>",
        ),
        (
            "semicolons-words",
            "Assignment: " + "; ".join(f"x{v}={'True' if b else 'False'}" for v, b in values),
        ),
        (
            "unicode-subscripts",
            "x"
            + ", x".join(
                f"{str(v).translate(str.maketrans('0123456789', '₀₁₂₃₄₅₆₇₈₉'))}={b}"
                for v, b in values
            ),
        ),
        (
            "latex-top-bot",
            "$$"
            + ",\\; ".join(f"x_{{{v}}} = " + ("\\top" if b else "\\bot") for v, b in values)
            + "$$",
        ),
        (
            "tuple-equation",
            "("
            + ", ".join(f"x{v}" for v, _ in values)
            + ") = ("
            + ", ".join(str(b) for _, b in values)
            + ")",
        ),
        (
            "mistral-bullets",
            MISTRAL
            + "**Answer:**\n"
            + "\n".join(f"- x{v}: {'true' if b else 'false'}" for v, b in values),
        ),
    ]
    if zeros and ones:
        out.append(
            (
                "all-except",
                "All variables are true except "
                + " and ".join(f"x{v}" for v in zeros)
                + ", which are false."
                if len(zeros) > 1
                else f"All variables are true except x{zeros[0]}.",
            )
        )
    return out


def mapping_styles_b(family: str, pairs: list[tuple[str, int]], row: dict[str, Any]) -> list[Style]:
    """Letter → digit maps, batch B."""
    spec = json.loads(row["verifier_spec"])
    digits = dict(pairs)
    words = [*spec["addends"], spec["result"]]
    numbers = ["".join(str(digits[ch]) for ch in w) for w in words]
    return [
        ("semicolons", "<answer>" + "; ".join(f"{k} = {v}" for k, v in pairs) + "</answer>"),
        ("colon-no-space", "Final: " + " ".join(f"{k}:{v}" for k, v in pairs)),
        ("arrow-lines", "\n".join(f"{k} → {v}" for k, v in pairs)),
        (
            "transposed-table",
            "| "
            + " | ".join(k for k, _ in pairs)
            + " |\n|"
            + "---|" * len(pairs)
            + "\n| "
            + " | ".join(str(v) for _, v in pairs)
            + " |",
        ),
        ("python-dict", f"{R1_THINK}```python\n" + repr({k: v for k, v in pairs}) + "\n```"),
        ("boxed-commas", f"{R1_THINK}\\boxed{{" + ", ".join(f"{k} = {v}" for k, v in pairs) + "}"),
        ("synlogic-equation", f"The answer is {' + '.join(numbers[:-1])} = {numbers[-1]}."),
        ("mistral-bold", MISTRAL + "**Answer:** " + ", ".join(f"**{k}={v}**" for k, v in pairs)),
    ]


def roles_styles_b(family: str, pairs: list[tuple[str, str]], row: dict[str, Any]) -> list[Style]:
    """Knights and knaves, batch B."""
    knights = [n for n, r in pairs if r == "knight"]
    knaves = [n for n, r in pairs if r == "knave"]
    out = [
        ("arrows", "\n".join(f"{n} → {r}" for n, r in pairs)),
        (
            "equals-title",
            "<answer>" + ", ".join(f"{n} = {r.title()}" for n, r in pairs) + "</answer>",
        ),
        (
            "truthful-gloss",
            "; ".join(
                f"{n} is {'telling the truth' if r == 'knight' else 'lying'} ({r})"
                for n, r in pairs
            )
            + ".",
        ),
        (
            "numbered-dash",
            "Final answer:\n"
            + "\n".join(f"{i + 1}. {n} - {r.title()}" for i, (n, r) in enumerate(pairs)),
        ),
        ("python-dict", "{" + ", ".join(f"'{n}': '{r}'" for n, r in pairs) + "}"),
        ("pipe-groups", f"Knight: {', '.join(knights) or '-'} | Knave: {', '.join(knaves) or '-'}"),
        ("mistral-bold", MISTRAL + "**Answer:**\n" + "\n".join(f"**{n}:** {r}" for n, r in pairs)),
    ]
    if knights and knaves:
        kn = (
            " and ".join(knights)
            if len(knights) <= 2
            else ", ".join(knights[:-1]) + " and " + knights[-1]
        )
        kv = (
            " and ".join(knaves)
            if len(knaves) <= 2
            else ", ".join(knaves[:-1]) + " and " + knaves[-1]
        )
        out.append(
            (
                "while-sentence",
                f"{kn} {'are knights' if len(knights) > 1 else 'is a knight'}, while {kv} {'are knaves' if len(knaves) > 1 else 'is a knave'}.",
            )
        )
    return out


def zebra_styles_b(family: str, value: Any, row: dict[str, Any]) -> list[Style]:
    """Zebra tables, batch B."""
    keys, houses = value
    return [
        (
            "equals-attributes",
            "\n".join(
                f"House {i + 1}: "
                + ", ".join(f"{k.title()} = {v}" for k, v in zip(keys, h, strict=True))
                for i, h in enumerate(houses)
            ),
        ),
        ("csv-no-header", "```\n" + "\n".join(",".join(h) for h in houses) + "\n```"),
        (
            "json-house-key",
            "```json\n"
            + json.dumps(
                [{"house": i + 1, **dict(zip(keys, h, strict=True))} for i, h in enumerate(houses)],
                indent=1,
            )
            + "\n```",
        ),
        (
            "prose-per-house",
            " ".join(
                f"House {i + 1}: {h[0]}" + "".join(f", {v}" for v in h[1:]) + "."
                for i, h in enumerate(houses)
            ),
        ),
        (
            "tag-with-header-table",
            "<answer>\n| House | "
            + " | ".join(keys)
            + " |\n|---|"
            + "---|" * len(keys)
            + "\n"
            + "\n".join(f"| {i + 1} | " + " | ".join(h) + " |" for i, h in enumerate(houses))
            + "\n</answer>",
        ),
        (
            "mistral-bold-lines",
            MISTRAL
            + "**Answer:**\n"
            + "\n".join(
                f"**House {i + 1}:** {', '.join(v.title() for v in h)}"
                for i, h in enumerate(houses)
            ),
        ),
        (
            "r1-boxed-lines",
            f"{R1_THINK}\\boxed{{"
            + " \\\\ ".join(
                f"\\text{{House {i + 1}: {', '.join(h)}}}" for i, h in enumerate(houses)
            )
            + "}",
        ),
    ]


def words_styles_b(family: str, words: list[str], row: dict[str, Any]) -> list[Style]:
    """Word lists and plaintexts, batch B."""
    if family == "cipher":
        sentence = " ".join(words)
        return [
            ("plaintext-label", f"Plaintext: {sentence}"),
            ("bold-upper", f"**{sentence.upper()}**"),
            ("reads-sentence", f"The message reads: {sentence.capitalize()}."),
            ("rot-note", f"<answer>{sentence}</answer> (ROT-{len(words)})"),
            ("mistral-answer", MISTRAL + f"**Answer:** {sentence}"),
            ("boxed-plain", f"{R1_THINK}\\boxed{{{sentence}}}"),
        ]
    if family == "graph_coloring":
        return [
            (
                "one-line-vertex-pairs",
                ", ".join(f"Vertex {i + 1}: {c}" for i, c in enumerate(words)),
            ),
            (
                "space-separated-equals",
                "Final answer: " + " ".join(f"{i + 1}={c}" for i, c in enumerate(words)),
            ),
            ("python-dict", "{" + ", ".join(f"{i + 1}: '{c}'" for i, c in enumerate(words)) + "}"),
            ("mistral-bold", MISTRAL + "**Answer:** " + ", ".join(words)),
            ("numbered-list", "\n".join(f"{i + 1}. {c.title()}" for i, c in enumerate(words))),
            ("boxed-plain", f"{R1_THINK}\\boxed{{{', '.join(words)}}}"),
        ]
    if family == "word_ladder":
        return [
            ("lower-arrows", " → ".join(words)),
            ("hyphenated-upper", "<answer>" + "-".join(w.upper() for w in words) + "</answer>"),
            ("greater-than", "Ladder: " + " > ".join(words)),
            ("vertical", "Final answer:\n" + "\n".join(words)),
            ("mistral-bold", MISTRAL + "**Answer:** " + ", ".join(words)),
            ("boxed-arrows", f"{R1_THINK}\\boxed{{" + " \\to ".join(words) + "}"),
        ]
    if family == "web_of_lies":
        names = re.search(r"tell the truth: (.*?)\? Answer", row["question"]).group(1).split(", ")
        return [
            (
                "name-true-false",
                "\n".join(
                    f"{n}: {'True' if w == 'yes' else 'False'}"
                    for n, w in zip(names, words, strict=True)
                ),
            ),
            (
                "bold-dash-reason",
                "\n".join(
                    f"**{w.title()}** — {n} {'tells the truth' if w == 'yes' else 'lies'}."
                    for n, w in zip(names, words, strict=True)
                ),
            ),
            (
                "name-dash-adjective",
                "; ".join(
                    f"{n} - {'truthful' if w == 'yes' else 'liar'}"
                    for n, w in zip(names, words, strict=True)
                ),
            ),
            ("plain-period", ", ".join(words) + "."),
            ("mistral-bold", MISTRAL + "**Answer:** " + ", ".join(words)),
            ("boxed-plain", f"{R1_THINK}\\boxed{{{', '.join(words)}}}"),
        ]
    return [
        ("vertical-list", "Sorted:\n" + "\n".join(words)),
        ("oxford-and", "Final answer: " + ", ".join(words[:-1]) + f", and {words[-1]}"),
        ("capitalised", "<answer>" + ", ".join(w.capitalize() for w in words) + "</answer>"),
        ("mistral-bold", MISTRAL + "**Answer:** " + ", ".join(words)),
        ("boxed-text-spaces", f"{R1_THINK}\\boxed{{\\text{{{' '.join(words)}}}}}"),
        ("json-list", '{"sorted": ' + json.dumps(words) + "}"),
    ]


def scalar_styles_b(family: str, value: str, row: dict[str, Any]) -> list[Style]:
    """Short answers, batch B."""
    latex = f"\\text{{{value}}}" if re.search(r"[A-Za-z]", value) else value
    if family == "dyck_language":
        latex = value.replace("{", "\\{").replace("}", "\\}")
    out = [
        ("mistral-bold-answer", MISTRAL + f"**Answer:** {value}"),
        ("display-dollars", f"{GPT}$$\n{latex}\n$$"),
        ("code-span-sentence", f"The result is `{value}`."),
        ("bold-period", f"{R1_THINK}**{value}**."),
        ("boxed-no-think", f"\\boxed{{{latex}}}"),
        ("answer-label-newline", f"Answer:\n{value}"),
    ]
    if family == "number_sequence":
        out += [
            ("next-term-label", f"Next term: {value}"),
            (
                "reason-after",
                f"The answer is {value.replace('-', '−')} (the second differences are constant).",
            ),
        ]
    elif family == "object_counting":
        out += [
            ("count-sentence", f"I count {value} of them in total."),
            ("word-alone", f"There are {_number_word(int(value))}."),
        ]
    elif family == "date_arithmetic":
        out += [
            (
                "weekday-then-date",
                f"It is a {value}." if not re.search(r"\d", value) else f"The date is {value}.",
            ),
            ("lower-bold", f"**{value.lower()}**"),
        ]
    elif family == "binary_arithmetic":
        out += [
            ("decimal-note", f"{value} (which is {int(value, 2)} in decimal)"),
            ("prefixed", f"0b{value}"),
        ]
    elif family == "boolean_expressions":
        out += [
            ("check-mark", f"{value} ✅"),
            ("evaluates-bold", f"The expression evaluates to **{value}**."),
        ]
    elif family == "sat_decision":
        out += [
            ("paren-gloss", f"{value} ({'satisfiable' if value == 'SAT' else 'unsatisfiable'})"),
            ("is-sentence", f"The formula is {value}."),
        ]
    elif family == "time_sequence":
        start, count = value.split(", ")
        out += [
            ("and-sentence", f"The earliest start is {start} and there are {count} options."),
            ("tuple", f"({start}, {count})"),
        ]
    elif family == "dyck_language":
        out += [
            ("closing-is", f"The closing sequence is: {value}"),
            ("no-spaces", f"Sequence to add: {value.replace(' ', '')}"),
        ]
    return out


def expression_styles_b(family: str, value: str, row: dict[str, Any]) -> list[Style]:
    """Expressions, batch B."""
    cdot = value.replace("*", "\\cdot ")
    out = [
        ("mistral-bold", MISTRAL + f"**Answer:** {value}"),
        ("boxed-cdot", f"\\boxed{{{cdot}}}"),
        ("check-mark", f"{value} ✓" if family == "math_path" else f"Expression: {value} = 24 ✓"),
        ("inline-math", f"The answer is ${cdot}$."),
        ("code-span", f"Final answer: `{value}`"),
    ]
    if family == "game_of_24":
        out.append(("outer-parens", f"<answer>({value})</answer>"))
    else:
        out.append(("equation-label", f"Equation: {value}"))
    return out


RENDER_B: dict[str, Callable[[str, Any, dict[str, Any]], list[Style]]] = {
    "grid": grid_styles_b,
    "cells": cells_styles_b,
    "sat": sat_styles_b,
    "mapping": mapping_styles_b,
    "roles": roles_styles_b,
    "zebra": zebra_styles_b,
    "words": words_styles_b,
    "scalar": scalar_styles_b,
    "expression": expression_styles_b,
}


# -- batch C: written after all fixes, measured once --------------------------------------------------


def grid_styles_c(family: str, grid: list[list[str]], row: dict[str, Any]) -> list[Style]:
    """Grids, batch C."""
    numeric = all(v.lstrip("-").isdigit() for r in grid for v in r)
    array = " \\\\\n".join(" & ".join(_latex(v) for v in r) for r in grid)
    quoted = [[v if numeric else f'"{v}"' for v in r] for r in grid]
    return [
        ("md-line-breaks", "**Solution:**\n" + "\n".join(" ".join(r) + "  " for r in grid)),
        ("html-pre", "<pre>\n" + "\n".join(" ".join(r) for r in grid) + "\n</pre>"),
        (
            "labelled-pipes-no-rule",
            "\n".join(f"| R{i + 1} | " + " | ".join(r) + " |" for i, r in enumerate(grid)),
        ),
        (
            "display-array-no-box",
            f"$$\n\\begin{{array}}{{{'c' * len(grid[0])}}}\n{array}\n\\end{{array}}\n$$",
        ),
        (
            "tag-with-boxed-array",
            f"<answer>\\boxed{{\\begin{{array}}{{{'c' * len(grid[0])}}} {array} \\end{{array}}}}</answer>",
        ),
        (
            "bracket-rows-trailing-commas",
            "Final grid:\n" + "\n".join("[" + ", ".join(r) + "]," for r in quoted),
        ),
        (
            "grid-then-signoff",
            "The grid is as follows:\n\n"
            + "\n".join(" ".join(r) for r in grid)
            + "\n\nHope this helps!",
        ),
        (
            "fence-then-explanation-with-numbers",
            "**Final Answer**\n\n```\n"
            + "\n".join(" ".join(r) for r in grid)
            + "\n```\n\n### Explanation\nRow 1 was fixed first, then columns 2 and 3 followed from the clues.",
        ),
    ]


def cells_styles_c(family: str, cells: list[tuple[int, int]], row: dict[str, Any]) -> list[Style]:
    """Coordinate lists, batch C."""
    return [
        ("semicolon-pairs", "Cells: " + "; ".join(f"({a},{b})" for a, b in cells) + "."),
        ("hyphen-chain", "<answer>" + "-".join(f"({a},{b})" for a, b in cells) + "</answer>"),
        ("bracketed-tuples", f"Final answer: [{', '.join(f'({a}, {b})' for a, b in cells)}]"),
        ("rc-lower", "Answer: " + ", ".join(f"r{a}c{b}" for a, b in cells)),
        ("bold-line", "**" + ", ".join(f"({a}, {b})" for a, b in cells) + "**"),
        ("boxed-tuples", f"\\boxed{{{', '.join(f'({a},{b})' for a, b in cells)}}}"),
    ]


def sat_styles_c(family: str, values: list[tuple[int, int]], row: dict[str, Any]) -> list[Style]:
    """Assignments, batch C."""
    word = {1: "true", 0: "false"}
    return [
        ("left-arrows", "<answer>" + ", ".join(f"x{v} ← {b}" for v, b in values) + "</answer>"),
        ("t-f-spaces", "Final answer: " + " ".join(f"x{v}={'T' if b else 'F'}" for v, b in values)),
        ("boxed-thin-spaces", "\\boxed{" + ",\\ ".join(f"x_{v}={b}" for v, b in values) + "}"),
        ("set-sentence", "Set " + ", ".join(f"x{v} to {word[b]}" for v, b in values) + "."),
        ("yes-no", "\n".join(f"x{v}: {'yes' if b else 'no'}" for v, b in values)),
        (
            "bits-line",
            "Answer (x1..x" + str(len(values)) + "): " + "".join(str(b) for _, b in values),
        ),
    ]


def mapping_styles_c(family: str, pairs: list[tuple[str, int]], row: dict[str, Any]) -> list[Style]:
    """Letter maps, batch C."""
    return [
        ("pipes", "<answer>" + " | ".join(f"{k}={v}" for k, v in pairs) + "</answer>"),
        ("mapsto", "$" + ",\\ ".join(f"{k} \\mapsto {v}" for k, v in pairs) + "$"),
        (
            "vertical-table",
            "| Letter | Value |\n|---|---|\n" + "\n".join(f"| {k} | {v} |" for k, v in pairs),
        ),
        ("unquoted-braces", "{" + ", ".join(f"{k}: {v}" for k, v in pairs) + "}"),
        ("equals-lines", "Final Answer:\n" + "\n".join(f"{k} = {v}" for k, v in pairs)),
        ("bold-inline", "The digits are " + ", ".join(f"**{k} = {v}**" for k, v in pairs) + "."),
    ]


def roles_styles_c(family: str, pairs: list[tuple[str, str]], row: dict[str, Any]) -> list[Style]:
    """Knights and knaves, batch C."""
    knights = [n for n, r in pairs if r == "knight"]
    knaves = [n for n, r in pairs if r == "knave"]
    return [
        ("capital-sentences", " ".join(f"{n} is a {r.title()}." for n, r in pairs)),
        ("em-dash-bullets", "\n".join(f"- {n} — {r}" for n, r in pairs)),
        ("python-lists", f"knights = {knights}\nknaves = {knaves}"),
        (
            "tag-lines",
            "<answer>\n" + "\n".join(f"{n}: {r.title()}" for n, r in pairs) + "\n</answer>",
        ),
        ("boxed-colons", "\\boxed{" + ", ".join(f"\\text{{{n}: {r}}}" for n, r in pairs) + "}"),
        (
            "bold-names-table",
            "| Name | Type |\n|:--|:--|\n" + "\n".join(f"| **{n}** | {r} |" for n, r in pairs),
        ),
    ]


def zebra_styles_c(family: str, value: Any, row: dict[str, Any]) -> list[Style]:
    """Zebra tables, batch C."""
    keys, houses = value
    return [
        (
            "headerless-pipes",
            "\n".join(f"| {i + 1} | " + " | ".join(h) + " |" for i, h in enumerate(houses)),
        ),
        ("hash-labels", "\n".join(f"House #{i + 1}: {', '.join(h)}" for i, h in enumerate(houses))),
        (
            "paren-numbers",
            "Final answer:\n"
            + "\n".join(f"{i + 1}) {' - '.join(h)}" for i, h in enumerate(houses)),
        ),
        ("json-rows", "```json\n" + json.dumps(houses) + "\n```"),
        (
            "tag-titled",
            "<answer>\n"
            + "\n".join(
                f"House {i + 1}: {', '.join(v.title() for v in h)}" for i, h in enumerate(houses)
            )
            + "\n</answer>",
        ),
        (
            "header-table-tag-less",
            "| House | "
            + " | ".join(k.title() for k in keys)
            + " |\n|---|"
            + "---|" * len(keys)
            + "\n"
            + "\n".join(f"| {i + 1} | " + " | ".join(h) + " |" for i, h in enumerate(houses)),
        ),
    ]


def words_styles_c(family: str, words: list[str], row: dict[str, Any]) -> list[Style]:
    """Word lists, batch C."""
    if family == "cipher":
        text = " ".join(words)
        return [
            ("decrypted-upper", f"Decrypted: {text.upper()}"),
            ("tag-newlines", f"<answer>\n{text}\n</answer>"),
            ("quoted-bold", f'**"{text}"**'),
            ("final-answer-line", f"Final answer: {text}"),
            ("boxed-text-upper", f"\\boxed{{\\text{{{text.upper()}}}}}"),
            ("fence", f"```\n{text}\n```"),
        ]
    if family == "graph_coloring":
        return [
            ("semicolon-pairs", "; ".join(f"{i + 1}: {c.title()}" for i, c in enumerate(words))),
            (
                "tag-lines",
                "<answer>\n"
                + "\n".join(f"vertex {i + 1} = {c}" for i, c in enumerate(words))
                + "\n</answer>",
            ),
            ("bracket-list", "[" + ", ".join(f"'{c}'" for c in words) + "]"),
            ("bold-list", "**Colours:** " + ", ".join(words)),
            (
                "table-bold",
                "| Vertex | Colour |\n|---|---|\n"
                + "\n".join(f"| **{i + 1}** | {c} |" for i, c in enumerate(words)),
            ),
            ("final-answer-line", f"Final answer: {', '.join(words)}"),
        ]
    if family == "word_ladder":
        return [
            ("fat-arrows", " => ".join(words)),
            ("tag-upper-spaces", "<answer>" + ", ".join(w.upper() for w in words) + "</answer>"),
            ("numbered-steps", "\n".join(f"Step {i}: {w}" for i, w in enumerate(words))),
            ("code-spans", ", ".join(f"`{w}`" for w in words)),
            ("boxed", "\\boxed{" + ", ".join(words) + "}"),
            ("final-answer-arrows", "Final answer: " + " → ".join(w.upper() for w in words)),
        ]
    if family == "web_of_lies":
        return [
            ("semicolons", "; ".join(w.title() for w in words)),
            ("tag-upper", "<answer>" + ", ".join(w.upper() for w in words) + "</answer>"),
            ("numbered", "\n".join(f"{i + 1}. {w}" for i, w in enumerate(words))),
            ("bold-final", "**Final answer:** " + ", ".join(w.title() for w in words)),
            ("boxed", "\\boxed{" + ", ".join(words) + "}"),
            ("code-span", "`" + ", ".join(words) + "`"),
        ]
    return [
        ("code-spans", ", ".join(f"`{w}`" for w in words)),
        ("tag-newlines", "<answer>\n" + "\n".join(words) + "\n</answer>"),
        ("semicolons", "; ".join(words)),
        ("bold-final", "**Final answer:** " + ", ".join(words)),
        ("boxed", "\\boxed{" + ", ".join(words) + "}"),
        ("numbered-inline", " ".join(f"{i + 1}. {w}" for i, w in enumerate(words))),
    ]


def scalar_styles_c(family: str, value: str, row: dict[str, Any]) -> list[Style]:
    """Short answers, batch C."""
    latex = f"\\text{{{value}}}" if re.search(r"[A-Za-z]", value) else value
    if family == "dyck_language":
        latex = value.replace("{", "\\{").replace("}", "\\}")
    return [
        ("upper-label", f"ANSWER: {value}"),
        ("result-equals", f"Final result = {value}"),
        ("answer-bold-colon", f"The answer: **{value}**"),
        ("check-emoji", f"{value} ✔️"),
        ("tag-newlines", f"<answer>\n{value}\n</answer>"),
        ("boxed-bold", f"\\boxed{{\\mathbf{{{latex}}}}}"),
    ]


def expression_styles_c(family: str, value: str, row: dict[str, Any]) -> list[Style]:
    """Expressions, batch C."""
    tight = value.replace(" ", "").replace("*", "×").replace("-", "−")
    latex = value.replace("(", "\\left(").replace(")", "\\right)").replace("*", "\\times ")
    tail = " = 24" if family == "game_of_24" else ""
    return [
        ("unicode-tight", f"{tight}{tail}"),
        ("left-right", f"$${latex}$$"),
        ("tag-newlines", f"<answer>\n{value}\n</answer>"),
        ("upper-label", f"ANSWER: {value}"),
        ("bold-final", f"**Final answer:** {value}"),
        ("boxed", f"\\boxed{{{value}}}"),
    ]


RENDER_C: dict[str, Callable[[str, Any, dict[str, Any]], list[Style]]] = {
    "grid": grid_styles_c,
    "cells": cells_styles_c,
    "sat": sat_styles_c,
    "mapping": mapping_styles_c,
    "roles": roles_styles_c,
    "zebra": zebra_styles_c,
    "words": words_styles_c,
    "scalar": scalar_styles_c,
    "expression": expression_styles_c,
}


# -- assembly -----------------------------------------------------------------------------------------

RENDER: dict[str, Callable[[str, Any, dict[str, Any]], list[Style]]] = {
    "grid": grid_styles,
    "cells": cells_styles,
    "sat": sat_styles,
    "mapping": mapping_styles,
    "roles": roles_styles,
    "zebra": zebra_styles,
    "words": words_styles,
    "scalar": scalar_styles,
    "expression": expression_styles,
}
CORRUPT: dict[str, Callable[[str, dict[str, Any], Any], Iterator[Any]]] = {
    "grid": corrupt_grid,
    "cells": corrupt_cells,
    "sat": corrupt_sat,
    "mapping": corrupt_mapping,
    "roles": corrupt_roles,
    "zebra": corrupt_zebra,
    "words": corrupt_words,
    "scalar": corrupt_scalar,
    "expression": corrupt_expression,
}


def _renderers(batch: str) -> dict[str, Callable[[str, Any, dict[str, Any]], list[Style]]]:
    if batch not in ("a", "b", "c"):
        raise ValueError(f"unknown batch {batch!r} (a, b or c)")
    return {"a": RENDER, "b": RENDER_B, "c": RENDER_C}[batch]


def styles(family: str, row: dict[str, Any], batch: str = "a") -> list[Style]:
    """The reference answer of ``row`` in every held-out style of its family."""
    return _renderers(batch)[KIND[family]](family, value_of(family, row), row)


def wrong_value(family: str, row: dict[str, Any]) -> Any:
    """A same-shape answer the family's rules reject."""
    for value in CORRUPT[KIND[family]](family, row, value_of(family, row)):
        if is_wrong(family, row, value):
            return value
    raise AssertionError(f"{family}: no wrong variant of {row['problem_id']}")


def corrupted(family: str, row: dict[str, Any], batch: str = "a") -> list[Style]:
    """Wrong answers that must not pass: the wrong value in every style, shape changes, hedges."""
    kind = KIND[family]
    right = value_of(family, row)
    wrong = wrong_value(family, row)
    out = [(f"wrong/{name}", text) for name, text in _renderers(batch)[kind](family, wrong, row)]
    if batch == "b":
        return out + _hedges_b(family, right, wrong)
    if batch == "c":
        return out + _hedges_c(family, right, wrong)
    right_text, wrong_text = text_of(family, right), text_of(family, wrong)
    boxed = wrong_text.replace("{", "\\{").replace("}", "\\}").replace("\n", " \\\\ ")
    out += [
        (
            "hedge/either-or",
            f"I am not completely sure. The answer is either\n\n{right_text}\n\nor\n\n{wrong_text}",
        ),
        (
            "hedge/tag-then-different-box",
            f"<answer>\n{right_text}\n</answer>\n\nAlternatively: \\boxed{{{boxed}}}",
        ),
        (
            "correction-to-wrong",
            f"<answer>\n{right_text}\n</answer>\n\nBut after re-evaluating, the correct solution is:\n\n"
            f"<answer>\n{wrong_text}\n</answer>",
        ),
    ]
    if kind == "grid":
        extra = [*right, right[0]]
        out.append(("shape/extra-row", f"<answer>\n{text_of(family, extra)}\n</answer>"))
        out.append(
            ("shape/missing-row", f"The final answer is:\n```\n{text_of(family, right[:-1])}\n```")
        )
        out.append(
            (
                "shape/extra-column",
                "<answer>\n" + "\n".join(" ".join([*r, r[0]]) for r in right) + "\n</answer>",
            )
        )
        if len(right) > 2:
            partial = text_of(family, right[: len(right) // 2])
            out.append(("partial/cut-off-in-tag", f"{R1_THINK}<answer>\n{partial}"))
    elif kind in ("cells", "words", "mapping", "sat", "roles") and len(right) > 1:
        out.append(("shape/missing-item", f"<answer>{text_of(family, right[:-1])}</answer>"))
    return out


def _hedges_b(family: str, right: Any, wrong: Any) -> list[Style]:
    kind = KIND[family]
    right_text, wrong_text = text_of(family, right), text_of(family, wrong)
    one_line = "\n" not in right_text
    out = [
        (
            "hedge/possibly",
            f"Final answer: {right_text}, or possibly {wrong_text}"
            if one_line
            else f"Final answer:\n{right_text}\n\n(or possibly:)\n{wrong_text}",
        ),
        (
            "correction-actually",
            f"<answer>{right_text}</answer>\n\nActually, I think it should be:\n<answer>{wrong_text}</answer>",
        ),
        (
            "hedge/two-fences",
            f"One option:\n```\n{right_text}\n```\nAnother option:\n```\n{wrong_text}\n```",
        ),
    ]
    if kind == "grid":
        out.append(
            (
                "shape/two-rows-swapped-length",
                "<answer>\n"
                + text_of(family, right[:-1])
                + "\n"
                + " ".join(right[-1][:-1])
                + "\n</answer>",
            )
        )
    return out


def _hedges_c(family: str, right: Any, wrong: Any) -> list[Style]:
    right_text, wrong_text = text_of(family, right), text_of(family, wrong)
    out = [
        ("hedge/either-lines", f"Either\n{right_text}\nor\n{wrong_text}"),
        (
            "hedge/answer-then-not-sure",
            f"**Final Answer:**\n\n```\n{right_text}\n```\n\nI'm not sure, it might also be:\n\n```\n{wrong_text}\n```",
        ),
        (
            "correction/box-then-wrong-box",
            f"\\boxed{{{right_text.replace(chr(10), ' ')}}}\n\nWait, fixing an error:\n\\boxed{{{wrong_text.replace(chr(10), ' ')}}}",
        ),
    ]
    if "\n" not in right_text:
        out.append(("hedge/remark", f"<answer>{right_text} (or {wrong_text})</answer>"))
    return out


def policy_cases(family: str, row: dict[str, Any]) -> list[Style]:
    """Right answers that a policy, not the reading, decides (reported apart).

    A self-correction whose *last* answer is right (seen in rg completions of R1, Llama 4
    and Grok): peers that take the last tag accept it; tracemill calls two different
    answers ``ambiguous`` (see ``tests/redteam/cases_rules.py``, ``sudoku/two-tags``).
    """
    right_text = text_of(family, value_of(family, row))
    wrong_text = text_of(family, wrong_value(family, row))
    return [
        (
            "correction-to-right",
            f"<answer>\n{wrong_text}\n</answer>\n\nBut after re-evaluating, the correct solution is:\n\n"
            f"<answer>\n{right_text}\n</answer>",
        )
    ]


__all__ = ["KIND", "corrupted", "policy_cases", "styles", "value_of", "wrong_value"]
