"""The non-grid logic families: reference passes, corruption fails, rules, safety."""

from __future__ import annotations

import dataclasses
import json
import re
import time

import pytest
from tracemill.pipelines.synth import generate_problems, get_task
from tracemill.pipelines.synth.textutil import count_models, evaluate_arithmetic, parse_int_grid
from tracemill.pipelines.verify import get_verifier


def _swap_grid(answer: str) -> str:
    rows = [row.split() for row in answer.splitlines()]
    rows[0][0], rows[0][1] = rows[0][1], rows[0][0]
    return "\n".join(" ".join(r) for r in rows)


def _swap_rows(answer: str) -> str:
    rows = answer.splitlines()
    return "\n".join([rows[1], rows[0], *rows[2:]])


def _swap_digits(answer: str) -> str:
    pairs = [p.split("=") for p in answer.split(", ")]
    pairs[0][1], pairs[1][1] = pairs[1][1], pairs[0][1]
    return ", ".join("=".join(p) for p in pairs)


def _flip_first(answer: str, a: str, b: str) -> str:
    head, sep, tail = answer.partition(",")
    head = head.replace(a, "\0").replace(b, a).replace("\0", b)
    return head + sep + tail


def _swap_first_two(answer: str) -> str:
    words = answer.split(", ")
    words[0], words[1] = words[1], words[0]
    return ", ".join(words)


def _swap_names(answer: str) -> str:
    lines = answer.splitlines()
    first = [x.strip() for x in lines[0].split(":")[1].split(",")]
    second = [x.strip() for x in lines[1].split(":")[1].split(",")]
    first[0], second[0] = second[0], first[0]
    lines[0] = "House 1: " + ", ".join(first)
    lines[1] = "House 2: " + ", ".join(second)
    return "\n".join(lines)


def _bump_count(answer: str) -> str:
    time_part, count = answer.split(", ")
    return f"{time_part}, {int(count) + 1}"


CORRUPT = {
    "game_of_24": lambda a: f"{a} + 1",
    "cryptarithm": _swap_digits,
    "magic_square": _swap_grid,
    "calcudoku": _swap_rows,
    "survo": _swap_grid,
    "math_path": lambda a: re.sub(r"= (-?\d+)$", lambda m: f"= {int(m.group(1)) + 1}", a),
    "dyck_language": lambda a: a[:-1].rstrip(),
    "boolean_expressions": lambda a: "False" if a == "True" else "True",
    "web_of_lies": lambda a: _flip_first(a, "yes", "no"),
    "knights_and_knaves": lambda a: _flip_first(a, "knight", "knave"),
    "zebra_puzzle": _swap_names,
    "time_sequence": _bump_count,
    "word_sorting": _swap_first_two,
    "object_counting": lambda a: str(int(a) + 1),
}
FAMILIES = sorted(CORRUPT)
LEVELS = (1, 5, 10)


def _respond(answer: str) -> str:
    return f"<think>x</think><answer>{answer}</answer>"


def _rows(name: str, level: int, count: int = 3, **kw: object) -> list[dict]:
    return generate_problems(name, count, level=level, **kw).to_pylist()


def _row(name: str, spec: dict) -> dict:
    return {"verifier": name, "verifier_spec": json.dumps(spec)}


def test_all_families_registered():
    for name in FAMILIES:
        assert get_task(name).name == name
        assert get_verifier(name).name == name


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("name", FAMILIES)
def test_reference_passes_and_corruption_fails(name, level):
    verify = get_verifier(name)
    for row in _rows(name, level):
        assert "<answer>" in row["question"]
        good = verify(row, _respond(row["answer"]))
        assert good.passed, (name, level, good, row["answer"])
        assert good.score == 1.0
        bad = CORRUPT[name](row["answer"])
        assert bad != row["answer"]
        verdict = verify(row, _respond(bad))
        assert not verdict.passed, (name, level, bad)
        # a changed given digit no longer fills math_path's template: not an answer of its shape
        assert verdict.reason in ({"wrong", "format"} if name == "math_path" else {"wrong"})


@pytest.mark.parametrize("name", FAMILIES)
def test_garbage_never_crashes(name):
    verify = get_verifier(name)
    row = _rows(name, 2, count=1)[0]
    garbage = [
        "",
        "<answer></answer>",
        "<answer>" + "9" * 20000 + "</answer>",
        "<answer>" + "(" * 5000 + "</answer>",
        "<answer>__import__('os').system('true')</answer>",
        "<answer>None</answer>",
        "<answer>\x00\x01 ☃ ∑ 🙂</answer>",
        "<answer>" + ", ".join(["yes"] * 3000) + "</answer>",
        "<answer>House 1: a\nHouse 1: b\nA=1, A=2</answer>",
    ]
    for response in garbage:
        verdict = verify(row, response)
        assert not verdict.passed
        allowed = {"no_answer", "format", "ambiguous", "wrong"}
        assert verdict.reason in allowed, (response[:40], verdict)


@pytest.mark.parametrize("name", FAMILIES)
def test_deterministic_per_seed_and_index(name):
    first = _rows(name, 4, seed=11)
    again = _rows(name, 4, seed=11)
    assert [r["question"] for r in first] == [r["question"] for r in again]
    alone = _rows(name, 4, count=1, seed=11, start=2)[0]
    assert alone["question"] == first[2]["question"]
    assert alone["answer"] == first[2]["answer"]
    other = _rows(name, 4, seed=12)
    assert [r["question"] for r in other] != [r["question"] for r in first]


@pytest.mark.parametrize("name", FAMILIES)
def test_config_validation_and_levels(name):
    task = get_task(name)
    low, high = task.config_for_level(1), task.config_for_level(10)
    assert low != high
    first = dataclasses.fields(low)[0].name
    with pytest.raises(ValueError):
        dataclasses.replace(low, **{first: -1})
    with pytest.raises(ValueError):
        task.config_for_level(11)

    def mean_difficulty(level: int) -> float:
        gens = [json.loads(r["generator"])["difficulty"] for r in _rows(name, level, count=4)]
        return sum(gens) / len(gens)

    assert mean_difficulty(10) > mean_difficulty(1)


# --- multi-answer families: any valid answer passes ---------------------------------


def test_game_of_24_accepts_any_valid_expression():
    verify = get_verifier("game_of_24")
    row = _row("game_of_24", {"numbers": [1, 2, 3, 4], "target": 24})
    for answer in ["1*2*3*4", "(1 + 2 + 3) * 4", "4 × 3 × 2 × 1", "(4*(3+2+1)) = 24"]:
        assert verify(row, _respond(answer)).passed, answer
    for answer in ["(1+2)*(3+4)", "24", "1*2*3*4*1", "12*2", "-(1-2-3-4)*2", "1*2*3*4.0"]:
        assert not verify(row, _respond(answer)).passed, answer


def test_magic_square_accepts_any_valid_completion():
    verify = get_verifier("magic_square")
    spec = {"size": 3, "start": 1, "target": 15, "givens": [[0] * 3 for _ in range(3)]}
    row = _row("magic_square", spec)
    assert verify(row, _respond("2 7 6\n9 5 1\n4 3 8")).passed
    assert verify(row, _respond("[[8, 1, 6], [3, 5, 7], [4, 9, 2]]")).passed
    assert not verify(row, _respond("1 2 3\n4 5 6\n7 8 9")).passed
    spec["givens"][0][0] = 8
    assert not verify(_row("magic_square", spec), _respond("2 7 6\n9 5 1\n4 3 8")).passed


def test_math_path_accepts_any_valid_filling():
    verify = get_verifier("math_path")
    row = _row("math_path", {"template": "? + ? * 2 = 10"})
    for answer in ["4 + 3 * 2 = 10", "8+1*2=10", "0 + 5 × 2 = 10"]:
        assert verify(row, _respond(answer)).passed, answer
    for answer in ["4 + 3 * 2 = 11", "4 + 3 * 2 + 0 = 10", "12 + -1 * 2 = 10", "4 + 3 = 10"]:
        assert not verify(row, _respond(answer)).passed, answer


def test_lenient_but_exact_formats():
    rows = {name: _rows(name, 3, count=1)[0] for name in FAMILIES}
    ks = rows["knights_and_knaves"]
    shuffled = ", ".join(reversed(ks["answer"].split(", "))).upper()
    assert get_verifier("knights_and_knaves")(ks, _respond(shuffled)).passed
    dy = rows["dyck_language"]
    spec = json.loads(dy["verifier_spec"])
    full = spec["prefix"] + spec["closing"]
    assert get_verifier("dyck_language")(dy, _respond(full)).passed
    ws = rows["word_sorting"]
    assert get_verifier("word_sorting")(ws, _respond(ws["answer"].replace(", ", "\n"))).passed
    cr = rows["cryptarithm"]
    reordered = ", ".join(reversed(cr["answer"].split(", ")))
    assert get_verifier("cryptarithm")(cr, _respond(reordered)).passed
    ts = rows["time_sequence"]
    assert get_verifier("time_sequence")(ts, f"Final answer: {ts['answer']}").passed


# --- uniqueness where the family claims it -----------------------------------------


@pytest.mark.parametrize("level", [3, 8])
def test_calcudoku_unique(level):
    from tracemill.pipelines.synth.families.calcudoku import _cnf

    for row in _rows("calcudoku", level):
        spec = json.loads(row["verifier_spec"])
        n = spec["size"]
        clauses, cells = _cnf(n, spec["cages"])
        assert len(count_models(clauses, limit=2, project=cells)) == 1


@pytest.mark.parametrize("level", [3, 10])
def test_survo_unique(level):
    from tracemill.pipelines.synth.families.survo import solve_survo

    for row in _rows("survo", level):
        spec = json.loads(row["verifier_spec"])
        sols = solve_survo(spec["givens"], spec["row_sums"], spec["col_sums"])
        assert len(sols) == 1
        m, n = len(spec["givens"]), len(spec["givens"][0])
        assert sols[0] == parse_int_grid(row["answer"], m, n)


@pytest.mark.parametrize("level", [2, 9])
def test_cryptarithm_unique(level):
    from tracemill.pipelines.synth.families.cryptarithm import solve_cryptarithm

    for row in _rows("cryptarithm", level):
        spec = json.loads(row["verifier_spec"])
        assert len(solve_cryptarithm(spec["addends"], spec["result"], spec["hints"])) == 1


@pytest.mark.parametrize("level", [2, 7])
def test_zebra_unique_and_minimal(level):
    from tracemill.pipelines.synth.families.zebra_puzzle import _base_cnf, clue_cnf

    for row in _rows("zebra_puzzle", level, count=2):
        spec = json.loads(row["verifier_spec"])
        clues = [
            (k, tuple(x), tuple(y) if y else None, h)
            for k, x, y, h in json.loads(row["metadata"])["clues"]
        ]
        n, m = len(spec["houses"]), len(spec["houses"][0])
        project = list(range(1, m * n * n + 1))

        def count(selected, n=n, m=m, project=project):
            cnf = _base_cnf(n, m) + [c for cl in selected for c in clue_cnf(n, cl)]
            return len(count_models(cnf, limit=2, project=project))

        assert count(clues) == 1
        assert count(clues[1:]) == 2  # every clue matters (the first one, at least)


def test_knights_consistency_rule():
    from tracemill.pipelines.synth.families import knights_and_knaves as kk

    # A knave saying "we are both knaves" forces: speaker knave, other knight.
    claims = [(0, ("", lambda s: not s[0] and not s[1]))]
    models = [
        s
        for s in [(a, b) for a in (True, False) for b in (True, False)]
        if kk.consistent(s, claims)
    ]
    assert models == [(False, True)]


# --- safe arithmetic ----------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('true')",
        "9**9**9",
        "9^9^9",
        "(lambda: 1)()",
        "[1, 2]",
        "1 if 1 else 2",
        "a + 1",
        "1.5 * 16",
        "1_000",
        "True + 23",
        "'24'",
        "2 << 100",
        "x" * 1000,
        "(" * 300 + "1" + ")" * 300,
        "+".join(["1"] * 300),
        "1 / 0",
    ],
)
def test_evaluator_rejects_injection_fast(text):
    start = time.perf_counter()
    with pytest.raises(ValueError):
        evaluate_arithmetic(text)
    with pytest.raises(ValueError):
        evaluate_arithmetic(text, allow_pow=True)
    assert time.perf_counter() - start < 0.5


def test_evaluator_exact_and_bounded():
    assert evaluate_arithmetic("8 / (3 - 8/3)").value == 24
    assert evaluate_arithmetic("2 ** 10", allow_pow=True).value == 1024
    assert evaluate_arithmetic("(1+2)*[3+4]").numbers == (1, 2, 3, 4)
    with pytest.raises(ValueError):
        evaluate_arithmetic("2 ** 10")
    with pytest.raises(ValueError):
        evaluate_arithmetic("99999999 ** 16 ** 1", allow_pow=True)
    with pytest.raises(ValueError):
        evaluate_arithmetic("-3", allow_unary=False)


def test_game_of_24_injection_is_a_format_failure_not_an_error():
    verify = get_verifier("game_of_24")
    row = _row("game_of_24", {"numbers": [3, 3, 8, 8], "target": 24})
    assert verify(row, _respond("8 / (3 - 8 / 3)")).passed
    for attack in ["__import__('os').system('true')", "9**9**9", "().__class__", "8/(3-8/3)#"]:
        start = time.perf_counter()
        verdict = verify(row, _respond(attack))
        assert verdict.reason == "format", (attack, verdict)
        assert time.perf_counter() - start < 0.5
