r"""Realistic answer styles for every synthetic family (test data shared by a test and a benchmark).

Written the way reasoning models answer logic puzzles: DeepSeek-R1 (``<think>`` then a
summary, tags or ``\boxed{}`` with a LaTeX ``array``), QwQ/Qwen (tags holding a fence,
"**Final Answer**" headings), GPT-4o (markdown tables, ``**House 1:**`` bold labels, code
fences followed by a sentence, bullet lists), Llama (bare "Final answer:" lines, one-line
answers), and SynLogic-style Python lists in fences. :func:`styles` renders a problem's
reference answer in every style of its family's kind; :func:`corrupted` renders a wrong
answer of the same shape (one cell, value or word changed; checked wrong by the family's
own rules) in the same styles, which must never pass.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable, Iterator
from typing import Any

from tracemill.pipelines.synth import get_task
from tracemill.pipelines.synth.textutil import evaluate_arithmetic, format_number

CELL_FAMILIES = (
    "sudoku",
    "futoshiki",
    "skyscrapers",
    "binairo",
    "campsite",
    "kakurasu",
    "nonogram",
    "star_battle",
    "lights_out",
    "hitori",
    "norinori",
    "calcudoku",
    "magic_square",
    "survo",
)
KIND: dict[str, str] = {
    **dict.fromkeys(CELL_FAMILIES, "grid"),
    "minesweeper": "pairs",
    "shortest_path": "pairs",
    "sat": "sat",
    "cryptarithm": "mapping",
    "knights_and_knaves": "roles",
    "zebra_puzzle": "zebra",
    "graph_coloring": "list",
    "word_sorting": "list",
    "word_ladder": "list",
    "web_of_lies": "list",
    "cipher": "words",
    "number_sequence": "scalar",
    "object_counting": "scalar",
    "date_arithmetic": "scalar",
    "binary_arithmetic": "scalar",
    "boolean_expressions": "scalar",
    "sat_decision": "scalar",
    "time_sequence": "scalar",
    "game_of_24": "expression",
    "math_path": "expression",
    "dyck_language": "scalar",
}

THINK = (
    "<think>\nOkay, let me work through this carefully. First I list what the clues force, "
    "then I fill in the rest and double-check every constraint.\nWait, let me re-check the "
    "second row... yes, that works.\n</think>\n\n"
)
GPT_INTRO = (
    "To solve this, let's go through the constraints step by step.\n\n"
    "1. **Start with the forced cells.** The clues leave only one option in a few places.\n"
    "2. **Propagate.** Each placement removes options elsewhere.\n"
    "3. **Check** every rule once the grid is complete.\n\n"
)


# -- structured answers -------------------------------------------------------------


def decode(family: str, row: dict[str, Any]) -> Any:
    """The reference answer of a row in a structured form for its kind."""
    answer = row["answer"]
    kind = KIND[family]
    if kind == "grid":
        return [line.split() for line in answer.splitlines()]
    if kind == "pairs":
        return [tuple(int(v) for v in p) for p in re.findall(r"\((\d+), (\d+)\)", answer)]
    if kind == "sat":
        return [(int(v), int(b)) for v, b in re.findall(r"x(\d+)=([01])", answer)]
    if kind == "mapping":
        return [(k, int(v)) for k, v in re.findall(r"([A-Z])=(\d)", answer)]
    if kind == "roles":
        return [(n, r) for n, r in re.findall(r"(\w+): (knight|knave)", answer)]
    if kind == "zebra":
        keys = re.search(r"in the order ([a-z, ]+), like", row["question"]).group(1).split(", ")
        houses = [line.split(": ", 1)[1].split(", ") for line in answer.splitlines()]
        return keys, houses
    if kind == "list":
        return answer.split(", ")
    if kind == "words":
        return answer.split(" ")
    return answer


def encode(family: str, value: Any) -> str:
    """A structured answer back in the family's reference format."""
    kind = KIND[family]
    if kind == "grid":
        return "\n".join(" ".join(r) for r in value)
    if kind == "pairs":
        return ", ".join(f"({r}, {c})" for r, c in value)
    if kind == "sat":
        return ", ".join(f"x{v}={b}" for v, b in value)
    if kind == "mapping":
        return ", ".join(f"{k}={v}" for k, v in value)
    if kind == "roles":
        return ", ".join(f"{n}: {r}" for n, r in value)
    if kind == "zebra":
        return "\n".join(f"House {i + 1}: {', '.join(h)}" for i, h in enumerate(value[1]))
    if kind == "list":
        return ", ".join(value)
    if kind == "words":
        return " ".join(value)
    return value


def _wrong(family: str, row: dict[str, Any], candidates: Iterator[Any]) -> Any:
    """The first candidate the family's own rules reject."""
    task = get_task(family)
    spec = json.loads(row["verifier_spec"])
    for value in candidates:
        try:
            result = task.check(spec, encode(family, value))
        except ValueError:  # not an answer of the family's shape: not a useful corruption
            continue
        score = result if isinstance(result, float) else result.score
        if score < 1.0:
            return value
    raise AssertionError(f"{family}: no wrong variant found")


_FLIP = {"#": ".", ".": "#", "*": ".", "1": "0", "0": "1", "T": "T"}


def _grid_variants(family: str, grid: list[list[str]]) -> Iterator[list[list[str]]]:
    cells = [(r, c) for r in range(len(grid)) for c in range(len(grid[0]))]
    symbols = sorted({v for row in grid for v in row})
    binary = set(symbols) <= {"#", ".", "*", "0", "1", "T"}
    for r, c in cells:
        new = [row[:] for row in grid]
        v = grid[r][c]
        if binary:
            if v == "T":
                continue
            new[r][c] = _FLIP[v] if family != "campsite" else ("*" if v == "." else ".")
        else:  # swap with the next cell of the row (same values, broken rules)
            c2 = (c + 1) % len(grid[0])
            if grid[r][c2] == v:
                continue
            new[r][c], new[r][c2] = grid[r][c2], v
        yield new


def corrupt(family: str, row: dict[str, Any]) -> Any:
    """A wrong answer of the same shape as the reference (checked by the family's rules)."""
    value = decode(family, row)
    kind = KIND[family]
    rng = random.Random(row["source_id"])
    if kind == "grid":
        return _wrong(family, row, _grid_variants(family, value))
    if kind == "pairs":
        spec = json.loads(row["verifier_spec"])
        rows_ = spec.get("rows", len(spec.get("grid", [])))
        cols = spec.get("cols", len(spec.get("grid", [[0]])[0]))
        others = [(r, c) for r in range(1, rows_ + 1) for c in range(1, cols + 1)]
        variants = [value[:i] + value[i + 1 :] for i in range(1, len(value))]
        variants += [[*value[:-1], p] for p in others if p not in value]
        return _wrong(family, row, iter(variants))
    if kind == "sat":
        flips = [
            [(v, 1 - b if i in ks else b) for i, (v, b) in enumerate(value)]
            for ks in [(i,) for i in range(len(value))] + [tuple(range(len(value)))]
        ]
        return _wrong(family, row, iter(flips))
    if kind == "mapping":
        swaps = []
        for i in range(len(value)):
            for j in range(i + 1, len(value)):
                new = value[:]
                new[i], new[j] = (value[i][0], value[j][1]), (value[j][0], value[i][1])
                swaps.append(new)
        return _wrong(family, row, iter(swaps))
    if kind == "roles":
        flips = [
            [
                (n, ("knave" if r == "knight" else "knight") if k == i else r)
                for k, (n, r) in enumerate(value)
            ]
            for i in range(len(value))
        ]
        return _wrong(family, row, iter(flips))
    if kind == "zebra":
        keys, houses = value
        variants = []
        for a in range(len(keys)):
            new = [h[:] for h in houses]
            new[0][a], new[1][a] = houses[1][a], houses[0][a]
            variants.append((keys, new))
        return _wrong(family, row, iter(variants))
    if kind in ("list", "words"):
        variants = []
        if family == "graph_coloring":
            spec = json.loads(row["verifier_spec"])
            for a, b in spec["edges"]:
                new = value[:]
                new[a] = value[b]
                variants.append(new)
        elif family == "web_of_lies":
            variants = [
                [("no" if x == "yes" else "yes") if k == i else x for k, x in enumerate(value)]
                for i in range(len(value))
            ]
        elif family == "cipher":
            first = value[0]
            variants = [
                [first[::-1], *value[1:]],
                [chr((ord(first[0]) - 96) % 26 + 97) + first[1:], *value[1:]],
            ]
        elif family == "word_ladder":
            variants = [value[::-1], value[:1] + value[2:], [*value[:-1], value[0]]]
        else:
            variants = [
                value[:i] + [value[i + 1], value[i]] + value[i + 2 :] for i in range(len(value) - 1)
            ]
        return _wrong(family, row, iter(variants))
    if kind == "expression":
        ops = ["+", "-", "*"]
        if family == "math_path":
            spec = json.loads(row["verifier_spec"])
            slots = [i for i, ch in enumerate("".join(spec["template"].split())) if ch == "?"]
            compact = "".join(value.split())
            variants = []
            for i in slots:
                for d in "0123456789":
                    if d != compact[i]:
                        variants.append(compact[:i] + d + compact[i + 1 :])
            variants = [
                re.sub(r"([+\-*=()])", r" \1 ", v).replace("  ", " ").strip() for v in variants
            ]
            variants = [re.sub(r"\( ", "(", re.sub(r" \)", ")", v)) for v in variants]
            variants = [v.replace("= - ", "= -") for v in variants]
            return _wrong(family, row, iter(variants))
        variants = [value.replace(a, b, 1) for a in ops for b in ops if a != b and a in value]
        return _wrong(family, row, iter(variants))
    # scalars
    return _wrong(family, row, iter(_scalar_variants(family, value, rng)))


def _scalar_variants(family: str, value: str, rng: random.Random) -> list[str]:
    if family == "binary_arithmetic":
        return [value[:-1] + ("0" if value[-1] == "1" else "1")]
    if family == "boolean_expressions":
        return ["False" if value == "True" else "True"]
    if family == "sat_decision":
        return ["UNSAT" if value == "SAT" else "SAT"]
    if family == "time_sequence":
        start, count = value.split(", ")
        return [f"{start}, {int(count) + 1}"]
    if family == "dyck_language":
        return [value + " )", value[2:] or "]", value.replace(")", "]", 1)]
    if family == "date_arithmetic":
        days = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
        if value in days:
            return [days[(days.index(value) + 1) % 7]]
        y, m, d = value.split("-")
        return [f"{y}-{m}-{int(d) % 28 + 1:02d}"]
    if re.fullmatch(r"-?\d+", value):
        return [str(int(value) + 1), str(int(value) - 1)]
    raise AssertionError(f"no scalar corruption for {family}")


# -- renderers ---------------------------------------------------------------------------

Style = tuple[str, str]


def _latex_cell(v: str) -> str:
    return {"#": r"\#", "*": r"\star", ".": "."}.get(v, v)


def grid_styles(grid: list[list[str]], family: str) -> list[Style]:
    """Grids: tags, boxed arrays, markdown tables, fences, bold row labels, Python lists …"""
    lines = "\n".join(" ".join(r) for r in grid)
    cols = len(grid[0])
    numeric = all(re.fullmatch(r"-?\d+", v) for r in grid for v in r)
    table = "\n".join("| " + " | ".join(r) + " |" for r in grid)
    header = "| " + " | ".join(f"C{c + 1}" for c in range(cols)) + " |\n" + "|---" * cols + "|\n"
    numbered = (
        "|   | "
        + " | ".join(str(c + 1) for c in range(cols))
        + " |\n"
        + "|---" * (cols + 1)
        + "|\n"
        + "\n".join(f"| **{i + 1}** | " + " | ".join(r) + " |" for i, r in enumerate(grid))
    )
    array = " \\\\\n".join(" & ".join(_latex_cell(v) for v in r) for r in grid)
    if numeric:
        pylist = "[\n" + ",\n".join("    [" + ", ".join(r) + "]" for r in grid) + "\n]"
    else:
        pylist = (
            "[\n" + ",\n".join("    [" + ", ".join(f"'{v}'" for v in r) + "]" for r in grid) + "\n]"
        )
    bold_rows = "\n".join(f"**Row {i + 1}:** {' '.join(r)}  " for i, r in enumerate(grid))
    out = [
        ("r1-think-tags", f"{THINK}<answer>\n{lines}\n</answer>"),
        (
            "r1-boxed-array",
            f"{THINK}**Final Answer**\n\n\\[\n\\boxed{{\n\\begin{{array}}{{{'c' * cols}}}\n{array}\n\\end{{array}}\n}}\n\\]",
        ),
        (
            "gpt4o-table-then-prose",
            f"{GPT_INTRO}Here's the completed grid:\n\n{header}{table}\n\nEvery row and column now satisfies the rules.",
        ),
        ("table-with-row-labels", f"{GPT_INTRO}### Solution\n\n{numbered}\n"),
        (
            "fence-then-sentence",
            f"{GPT_INTRO}**Solution:**\n\n```\n{lines}\n```\n\nThis grid satisfies all the constraints.",
        ),
        ("bold-row-labels", f"{GPT_INTRO}### Final Answer\n\n{bold_rows}"),
        (
            "python-list-fence",
            f"Solving step by step gives the grid below.\n\n```python\n{pylist}\n```",
        ),
        ("llama-final-answer-lines", f"{GPT_INTRO}Final answer:\n{lines}"),
        ("bare-grid", lines),
        ("qwen-tag-with-fence", f"{THINK}<answer>\n```\n{lines}\n```\n</answer>"),
        ("stop-string-cut-tag", f"{THINK}<answer>\n{lines}\n"),
        (
            "bmatrix-display",
            f"{GPT_INTRO}The solution is\n\n$$\n\\begin{{bmatrix}}\n{array}\n\\end{{bmatrix}}\n$$",
        ),
        ("commas-in-tag", "<answer>\n" + "\n".join(",".join(r) for r in grid) + "\n</answer>"),
        (
            "answer-colon-fence-prose",
            f"**Answer:**\n```text\n{lines}\n```\nLet me know if you'd like the steps.",
        ),
    ]
    half = len(grid) // 2
    ruled = "\n".join(
        " ".join(r[: cols // 2])
        + " | "
        + " ".join(r[cols // 2 :])
        + (
            "\n" + "-" * (cols // 2 * 2) + "+" + "-" * (cols - cols // 2) * 2
            if i == half - 1
            else ""
        )
        for i, r in enumerate(grid)
    )
    pylist_inline = (
        "["
        + ", ".join("[" + ", ".join(r if numeric else [f"'{v}'" for v in r]) + "]" for r in grid)
        + "]"
    )
    checks = "\n".join(f"- Row {i + 1}: {', '.join(r)} ✓" for i, r in enumerate(grid))
    letters = "ABCDEFGHIJKLMNOP"[:cols]
    out += [
        ("table-and-tag", f"Here is the grid:\n\n{header}{table}\n\n<answer>\n{lines}\n</answer>"),
        ("ruled-fence", f"```\n{ruled}\n```"),
        (
            "verification-after",
            f"Here is the solved grid:\n\n{lines}\n\n**Verification:**\n{checks}",
        ),
        ("pmatrix-display", f"$$\n\\begin{{pmatrix}}\n{array}\n\\end{{pmatrix}}\n$$"),
        ("one-line-python-list", f"The answer is {pylist_inline}."),
        ("tag-with-lead-in", f"<answer>\nThe solved grid:\n{lines}\n</answer>"),
        ("pipes-without-header", "\n".join("| " + " | ".join(r) + " |" for r in grid)),
        ("tab-separated", "\n".join("\t".join(r) for r in grid)),
        (
            "lettered-columns-table",
            "|   | "
            + " | ".join(letters)
            + " |\n"
            + "|---" * (cols + 1)
            + "|\n"
            + "\n".join(f"| {i + 1} | " + " | ".join(r) + " |" for i, r in enumerate(grid)),
        ),
    ]
    binary = {v for r in grid for v in r} <= {"#", ".", "*", "0", "1"}
    if binary and family not in ("binairo", "lights_out"):
        squares = "\n".join(" ".join("■" if v in "#*1" else "□" for v in r) for r in grid)
        out.append(
            (
                "gpt4o-squares",
                f"{GPT_INTRO}Final grid (■ = shaded, □ = empty):\n\n```\n{squares}\n```",
            )
        )
    if binary and family != "binairo":
        on = [
            f"({r + 1}, {c + 1})"
            for r, row in enumerate(grid)
            for c, v in enumerate(row)
            if v in "#*1"
        ]
        if on:
            out.append(("cell-list", f"{GPT_INTRO}The marked cells are: {', '.join(on)}."))
    return out


def pairs_styles(pairs: list[tuple[int, int]], family: str) -> list[Style]:
    """Coordinate lists: tags, boxed, bullets, Python lists, r1c2, prose lines."""
    plain = ", ".join(f"({r}, {c})" for r, c in pairs)
    what = "mines are at" if family == "minesweeper" else "cheapest path is"
    return [
        ("r1-think-tags", f"{THINK}<answer>{plain}</answer>"),
        (
            "r1-boxed",
            f"{THINK}The {what}:\n\n\\[\n\\boxed{{{', '.join(f'({r},{c})' for r, c in pairs)}}}\n\\]",
        ),
        (
            "bullets",
            f"{GPT_INTRO}### Final Answer\n\n" + "\n".join(f"- ({r}, {c})" for r, c in pairs),
        ),
        ("python-list", "```python\n[" + ", ".join(f"({r}, {c})" for r, c in pairs) + "]\n```"),
        ("rc-notation", f"<answer>{' '.join(f'R{r}C{c}' for r, c in pairs)}</answer>"),
        ("prose-line", f"{GPT_INTRO}So the {what} {plain}."),
        ("bare-one-line", plain),
        ("final-answer-bold", f"**Final Answer:** {plain}"),
        (
            "row-column-words",
            "<answer>\n" + "\n".join(f"Row {r}, Column {c}" for r, c in pairs) + "\n</answer>",
        ),
        ("arrows", f"{GPT_INTRO}Answer: " + " → ".join(f"({r},{c})" for r, c in pairs)),
        ("semicolons", "Cells: " + "; ".join(f"({r},{c})" for r, c in pairs)),
        (
            "row-col-prose",
            f"The {what} " + ", ".join(f"(row {r}, col {c})" for r, c in pairs) + ".",
        ),
        (
            "nested-list-tag",
            "<answer>[" + ", ".join(f"[{r}, {c}]" for r, c in pairs) + "]</answer>",
        ),
    ]


def sat_styles(values: list[tuple[int, int]], family: str) -> list[Style]:
    """Assignments: tags, bare lines, subscripts, bullets, tables, boxed, JSON, DIMACS."""
    tf = {1: "True", 0: "False"}
    sub = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
    ref = ", ".join(f"x{v}={b}" for v, b in values)
    return [
        ("r1-think-tags", f"{THINK}<answer>{ref}</answer>"),
        ("bare-reference-line", ref),
        (
            "unicode-subscripts",
            f"{GPT_INTRO}**Final Answer:** "
            + ", ".join(f"x{str(v).translate(sub)} = {tf[b]}" for v, b in values),
        ),
        (
            "bullets",
            f"{GPT_INTRO}### Satisfying assignment\n\n"
            + "\n".join(f"- **x{v}** = {tf[b]}" for v, b in values),
        ),
        (
            "markdown-table",
            f"{GPT_INTRO}| Variable | Value |\n|----------|-------|\n"
            + "\n".join(f"| x{v} | {tf[b]} |" for v, b in values)
            + "\n\nAll clauses are satisfied.",
        ),
        (
            "boxed-latex",
            f"{THINK}\\[\n\\boxed{{"
            + ",\\ ".join(f"x_{{{v}}} = {b}" for v, b in values)
            + "}\n\\]",
        ),
        (
            "prose-line",
            f"{GPT_INTRO}The satisfying assignment is: "
            + ", ".join(f"x{v} = {'T' if b else 'F'}" for v, b in values)
            + ".",
        ),
        ("json-fence", "```json\n" + json.dumps({f"x{v}": bool(b) for v, b in values}) + "\n```"),
        ("dimacs", f"<answer>v {' '.join(str(v if b else -v) for v, b in values)} 0</answer>"),
        (
            "literal-list-boxed",
            "\\boxed{" + ", ".join(f"x_{v}" if b else f"\\neg x_{v}" for v, b in values) + "}",
        ),
        (
            "lines-in-tag",
            "<answer>\n" + "\n".join(f"x{v} = {b}" for v, b in values) + "\n</answer>",
        ),
        ("bold-pieces", "\n".join(f"**x{v}** = **{tf[b]}**" for v, b in values)),
        (
            "with-parentheticals",
            "Final answer:\n" + "\n".join(f"x{v} = {b} ({tf[b].lower()})" for v, b in values),
        ),
        ("set-braces", "Assignment: {" + ", ".join(f"x{v}: {b}" for v, b in values) + "}"),
        (
            "space-separated-tag",
            "<answer>" + " ".join(f"x{v}={b}" for v, b in values) + "</answer>",
        ),
        ("latex-bullets", "\n".join(f"- $x_{v} = \\text{{{tf[b]}}}$" for v, b in values)),
        (
            "explained-lines",
            "<answer>\n"
            + "\n".join(f"x{v} = {b}  (satisfies clause {v + 1})" for v, b in values)
            + "\n</answer>",
        ),
        (
            "tried-then-final",
            "Try x1 = 0 and x2 = 0: clause 1 fails.\n\nSo the assignment is "
            + ", ".join(f"x{v} = {b}" for v, b in values)
            + ".",
        ),
    ]


def mapping_styles(pairs: list[tuple[str, int]], family: str) -> list[Style]:
    """Letter → digit maps (cryptarithm)."""
    ref = ", ".join(f"{k}={v}" for k, v in pairs)
    return [
        ("r1-think-tags", f"{THINK}<answer>{ref}</answer>"),
        ("bare-reference-line", ref),
        ("spaced-lines", "### Final Answer\n\n" + "\n".join(f"{k} = {v}" for k, v in pairs)),
        ("bullets-bold", f"{GPT_INTRO}" + "\n".join(f"- **{k}** = {v}" for k, v in pairs)),
        (
            "table",
            "| Letter | Digit |\n|---|---|\n" + "\n".join(f"| {k} | {v} |" for k, v in pairs),
        ),
        ("boxed", f"{THINK}\\boxed{{" + ", ".join(f"{k}={v}" for k, v in pairs) + "}"),
        ("arrows", "<answer>" + ", ".join(f"{k} → {v}" for k, v in pairs) + "</answer>"),
        ("json-fence", "Here is the mapping:\n```json\n" + json.dumps(dict(pairs)) + "\n```"),
        (
            "prose-line",
            f"{GPT_INTRO}Therefore the digits are "
            + ", ".join(f"{k}: {v}" for k, v in pairs)
            + ".",
        ),
        ("python-dict", "{" + ", ".join(f"'{k}': {v}" for k, v in pairs) + "}"),
    ]


def roles_styles(pairs: list[tuple[str, str]], family: str) -> list[Style]:
    """Knights and knaves: tags, bold sentences, K&K numbered lists, tables, groups."""
    ref = ", ".join(f"{n}: {r}" for n, r in pairs)
    knights = [n for n, r in pairs if r == "knight"]
    knaves = [n for n, r in pairs if r == "knave"]
    groups = ""
    if knights:
        groups += f"**Knights:** {', '.join(knights)}\n"
    if knaves:
        groups += f"**Knaves:** {', '.join(knaves)}\n"
    sentence = ", ".join(f"{n} is a {r}" for n, r in pairs[:-1])
    sentence = (sentence + ", and " if sentence else "") + f"{pairs[-1][0]} is a {pairs[-1][1]}"
    return [
        ("r1-think-tags", f"{THINK}<answer>{ref}</answer>"),
        (
            "bold-sentences",
            f"{GPT_INTRO}### Conclusion\n\n"
            + "\n".join(f"**{n}** is a **{r}**." for n, r in pairs),
        ),
        (
            "kk-numbered",
            "CONCLUSION:\n"
            + "\n".join(f"({i + 1}) {n} is a {r}" for i, (n, r) in enumerate(pairs)),
        ),
        (
            "table",
            "| Person | Role |\n|---|---|\n"
            + "\n".join(f"| {n} | {r.capitalize()} |" for n, r in pairs),
        ),
        ("groups", f"{GPT_INTRO}{groups}"),
        (
            "boxed-text",
            f"{THINK}\\boxed{{\\text{{{', '.join(f'{n}: {r.capitalize()}' for n, r in pairs)}}}}}",
        ),
        (
            "bullets",
            "**Final Answer:**\n" + "\n".join(f"- {n}: {r.capitalize()}" for n, r in pairs),
        ),
        ("prose-final-line", f"{GPT_INTRO}Therefore, {sentence}."),
        ("json-fence", "```json\n" + json.dumps({n: r for n, r in pairs}) + "\n```"),
        ("bare-reference-line", ref),
        (
            "parenthetical-roles",
            ", ".join(
                f"{n} is a {r} ({'truth-teller' if r == 'knight' else 'liar'})" for n, r in pairs
            )
            + ".",
        ),
        ("emoji-bullets", "\n".join(f"- **{n}**: {r.capitalize()} ✅" for n, r in pairs)),
        ("dash-lines", "\n".join(f"{n} - {r.capitalize()}" for n, r in pairs)),
        (
            "plural-groups",
            "So "
            + "; ".join(s for s in (_group(knights, "knight"), _group(knaves, "knave")) if s)
            + ".",
        ),
    ]


def _group(names: list[str], role: str) -> str:
    if not names:
        return ""
    if len(names) == 1:
        return f"{names[0]} is a {role}"
    return ", ".join(names[:-1]) + f" and {names[-1]} are {role}s"


def zebra_styles(value: tuple[list[str], list[list[str]]], family: str) -> list[Style]:
    """Zebra tables: tags, bold labels, markdown tables (both orientations), fences …"""
    keys, houses = value
    n = len(houses)
    ref = "\n".join(f"House {i + 1}: {', '.join(h)}" for i, h in enumerate(houses))
    table = (
        "| House | "
        + " | ".join(k.capitalize() for k in keys)
        + " |\n"
        + "|---" * (len(keys) + 1)
        + "|\n"
        + "\n".join(f"| {i + 1} | " + " | ".join(h) + " |" for i, h in enumerate(houses))
    )
    transposed = (
        "| | "
        + " | ".join(f"House {i + 1}" for i in range(n))
        + " |\n"
        + "|---" * (n + 1)
        + "|\n"
        + "\n".join(
            f"| **{k.capitalize()}** | " + " | ".join(h[a] for h in houses) + " |"
            for a, k in enumerate(keys)
        )
    )
    labelled = "\n".join(
        f"- **House {i + 1}**: "
        + ", ".join(f"{k.capitalize()}: {v}" for k, v in zip(keys, h, strict=True))
        for i, h in enumerate(houses)
    )
    return [
        ("r1-think-tags", f"{THINK}<answer>\n{ref}\n</answer>"),
        (
            "bold-house-labels",
            f"{GPT_INTRO}### Final Answer\n\n"
            + "\n".join(f"**House {i + 1}:** {', '.join(h)}" for i, h in enumerate(houses)),
        ),
        (
            "markdown-table",
            f"{GPT_INTRO}Here is the solution:\n\n{table}\n\nAll clues are satisfied.",
        ),
        ("transposed-table", f"{GPT_INTRO}{transposed}"),
        ("attribute-labelled", f"**Solution:**\n\n{labelled}"),
        (
            "numbered-list",
            "Final answer:\n" + "\n".join(f"{i + 1}. {', '.join(h)}" for i, h in enumerate(houses)),
        ),
        (
            "fence-pipes",
            "```\n"
            + "\n".join(f"House {i + 1} | " + " | ".join(h) for i, h in enumerate(houses))
            + "\n```\nDone.",
        ),
        ("bare-reference", ref),
        (
            "csv-fence",
            "```csv\nHouse,"
            + ",".join(k.capitalize() for k in keys)
            + "\n"
            + "\n".join(f"{i + 1}," + ",".join(h) for i, h in enumerate(houses))
            + "\n```",
        ),
        (
            "pipes-in-lines",
            "\n".join(f"House {i + 1}: " + " | ".join(h) for i, h in enumerate(houses)),
        ),
        (
            "row-table-without-header",
            "\n".join(f"| House {i + 1} | " + " | ".join(h) + " |" for i, h in enumerate(houses)),
        ),
        (
            "parenthetical-attributes",
            "\n".join(
                f"House {i + 1} ("
                + ", ".join(f"{k.capitalize()}: {v}" for k, v in zip(keys, h, strict=True))
                + ")"
                for i, h in enumerate(houses)
            ),
        ),
        (
            "house-blocks",
            "\n\n".join(
                f"**House {i + 1}**\n"
                + "\n".join(
                    f"- {k.capitalize()}: {v.capitalize()}" for k, v in zip(keys, h, strict=True)
                )
                for i, h in enumerate(houses)
            ),
        ),
        (
            "qwen-boxed-tag",
            f"{THINK}<answer>\n\\boxed{{\n\\begin{{array}}{{l}}\n"
            + " \\\\\n".join(
                f"\\text{{House {i + 1}: {', '.join(h)}}}" for i, h in enumerate(houses)
            )
            + "\n\\end{array}\n}\n</answer>",
        ),
    ]


def list_styles(items: list[str], family: str) -> list[Style]:
    """Lists of words or labels: tags, numbered lists, Python lists, arrows, prose lines."""
    ref = ", ".join(items)
    noun = {
        "word_sorting": "sorted list",
        "word_ladder": "ladder",
        "web_of_lies": "answer",
        "graph_coloring": "colouring",
    }[family]
    out = [
        ("r1-think-tags", f"{THINK}<answer>{ref}</answer>"),
        ("bare-reference-line", ref),
        (
            "numbered-list",
            f"{GPT_INTRO}### Final Answer\n\n"
            + "\n".join(f"{i + 1}. {w}" for i, w in enumerate(items)),
        ),
        ("python-list", "```python\n" + json.dumps(items) + "\n```"),
        (
            "bold-final",
            f"**Final Answer:** {', '.join(f'**{w}**' for w in items) if family == 'web_of_lies' else ref}",
        ),
        ("boxed-text", f"{THINK}\\boxed{{\\text{{{ref}}}}}"),
        ("prose-line", f"{GPT_INTRO}The {noun} is: {ref}."),
        ("answer-colon", f"Answer: {ref}"),
        ("unclosed-tag", f"{THINK}<answer>{ref}"),
    ]
    out.append(
        ("inline-numbered", "Result: " + " ".join(f"{i + 1}) {w}" for i, w in enumerate(items)))
    )
    out.append(("bullet-list", "Result:\n" + "\n".join(f"- {w}" for w in items)))
    if family == "word_ladder":
        out.append(("arrows-with-remark", " → ".join(items) + f" ({len(items) - 1} changes)"))
        out.append(("arrows", f"{GPT_INTRO}**Ladder:** " + " → ".join(w.upper() for w in items)))
    if family == "graph_coloring":
        out.append(
            (
                "vertex-labels",
                "### Colouring\n\n"
                + "\n".join(f"- Vertex {i + 1}: {c.capitalize()}" for i, c in enumerate(items)),
            )
        )
        out.append(
            (
                "table",
                "| Vertex | Colour |\n|---|---|\n"
                + "\n".join(f"| {i + 1} | {c} |" for i, c in enumerate(items)),
            )
        )
    if family == "word_sorting":
        out.append(("space-separated", f"<answer>{' '.join(items)}</answer>"))
        out.append(("less-than-chain", " < ".join(items)))
    if family == "web_of_lies":
        out.append(("capitalised", f"<answer>{', '.join(w.capitalize() for w in items)}</answer>"))
    return out


def words_styles(words: list[str], family: str) -> list[Style]:
    """Decoded messages (cipher)."""
    ref = " ".join(words)
    return [
        ("r1-think-tags", f"{THINK}<answer>{ref}</answer>"),
        ("bare-reference-line", ref),
        ("quoted-prose", f'{GPT_INTRO}The decoded message is: "{ref}"'),
        ("bold-final", f"**Final Answer:** **{ref}**"),
        ("boxed-text", f"{THINK}\\boxed{{\\text{{{ref}}}}}"),
        (
            "fence-then-sentence",
            f"Decoding each letter:\n\n```\n{ref}\n```\n\nThat is the plaintext.",
        ),
        ("capitalised-tag", f"<answer>{ref.capitalize()}.</answer>"),
        ("answer-colon", f"Answer: {ref}"),
    ]


def scalar_styles(value: str, family: str) -> list[Style]:
    """Short answers: tags, boxed, bold in prose, headings, "The answer is", bare values."""
    noun = {
        "number_sequence": "next term",
        "object_counting": "total",
        "date_arithmetic": "result",
        "binary_arithmetic": "result",
        "boolean_expressions": "value of the expression",
        "sat_decision": "formula",
        "time_sequence": "answer",
        "dyck_language": "closing sequence",
    }[family]
    latex = f"\\text{{{value}}}" if re.search(r"[A-Za-z]", value) else value
    if family == "dyck_language":  # braces are escaped inside LaTeX
        latex = value.replace("{", "\\{").replace("}", "\\}")
    return [
        ("r1-think-tags", f"{THINK}<answer>{value}</answer>"),
        ("r1-boxed-sentence", f"{THINK}The {noun} is $\\boxed{{{latex}}}$."),
        (
            "bold-in-prose",
            f"{GPT_INTRO}So the {noun} is **{value}**.\n\nThis follows from the steps above.",
        ),
        ("bare-value", value),
        ("final-answer-bold", f"{GPT_INTRO}**Final Answer:** {value}"),
        ("heading-block", f"{GPT_INTRO}### Final Answer\n\n{value}"),
        ("the-answer-is", f"{GPT_INTRO}The answer is {value}."),
        ("tag-with-boxed", f"<answer>\\boxed{{{latex}}}</answer>"),
        ("answer-colon-code", f"Answer: `{value}`"),
        ("llama-final-answer-is", f"{GPT_INTRO}The final answer is: {value}"),
        ("bold-whole-line", f"**Answer: {value}**"),
        ("display-math", f"The {noun}:\n$$\n{latex}\n$$"),
        (
            "answer-then-explanation",
            f"Answer: {value}\n\nExplanation: this follows from the steps above.",
        ),
        ("evaluates-to", f"{GPT_INTRO}Putting it together, this evaluates to {value}."),
    ]


def expression_styles(value: str, family: str) -> list[Style]:
    """Arithmetic answers (game of 24, math path): tags, unicode operators, LaTeX, prose."""
    pretty = value.replace("*", "×").replace(" - ", " − ")
    latex = value.replace("*", "\\times")
    target = ""
    if family == "game_of_24":  # models often close with "= 24"
        target = f" = {format_number(evaluate_arithmetic(value).value)}"
    return [
        ("r1-think-tags", f"{THINK}<answer>{value}</answer>"),
        ("unicode-operators", f"<answer>{pretty}</answer>"),
        ("boxed-latex", f"{THINK}\\boxed{{{latex}}}{target}"),
        ("bare-line", value),
        ("prose-line", f"{GPT_INTRO}So the expression is {value}."),
        ("final-answer-bold", f"**Final Answer:** `{value}`"),
        (
            "fence",
            f"```\n{value}\n```\nThis uses every number exactly once."
            if family == "game_of_24"
            else f"```\n{value}\n```\nThe equation holds.",
        ),
        ("heading-block", f"### Answer\n\n$${latex}$$"),
        ("latex-inline-prose", f"The expression is ${latex}{target}$."),
    ]


RENDER: dict[str, Callable[[Any, str], list[Style]]] = {
    "grid": grid_styles,
    "pairs": pairs_styles,
    "sat": sat_styles,
    "mapping": mapping_styles,
    "roles": roles_styles,
    "zebra": zebra_styles,
    "list": list_styles,
    "words": words_styles,
    "scalar": scalar_styles,
    "expression": expression_styles,
}


def styles(family: str, row: dict[str, Any]) -> list[Style]:
    """The reference answer of ``row`` in every realistic style of its family's kind."""
    return RENDER[KIND[family]](decode(family, row), family)


def corrupted(family: str, row: dict[str, Any]) -> list[Style]:
    """A wrong answer of the reference's shape in the same styles (none may pass)."""
    return RENDER[KIND[family]](corrupt(family, row), family)
