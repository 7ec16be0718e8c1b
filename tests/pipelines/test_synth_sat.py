"""SAT families: planted k-SAT (any satisfying assignment passes) and SAT/UNSAT decision."""

import json
import random

import pytest
from pysat.solvers import Solver
from tracemill.pipelines.synth import generate_problems, get_task, make_config
from tracemill.pipelines.synth.families.sat import (
    SatConfig,
    SatDecisionConfig,
    count_solutions,
    parse_assignment,
    parse_label,
    planted_formula,
    unsatisfied,
)
from tracemill.pipelines.verify import get_verifier
from tracemill.pipelines.verify.answers import clean

# x1 ∨ x2, ¬x1 ∨ x3, x2 ∨ ¬x3: satisfied by (1,1,1), (0,1,0), (0,1,1)
SPEC = {"n": 3, "k": 2, "clauses": [[1, 2], [-1, 3], [2, -3]]}
ROW = {"verifier_spec": json.dumps(SPEC)}


def verdict(answer, row=ROW):
    return get_verifier("sat")(row, f"<think>hmm</think><answer>{answer}</answer>")


@pytest.mark.parametrize(
    "text",
    [
        "x1=1, x2=0, x3=1",
        "x1 = 1\nx2 = 0\nx3 = 1",
        "x1: True, x2: False, x3: True",
        "x1=T, x2=F, x3=T",
        "x1 is true, x2 is false, x3 is true",
        "X1=1; X2=0; X3=1",
        "x_1 = 1, x_2 = 0, x_3 = 1",
        "x1 → true, x2 → false, x3 → true",
        "x1, ¬x2, x3",
        "x1, ~x2, x3",
        "x1 !x2 x3",
        "x1, not x2, x3",
        "[1, 0, 1]",
        "1 0 1",
        "101",
        "[True, False, True]",
        "true false true",
        "1 -2 3",
        "1 -2 3 0",
        "v 1 -2 3 0",
        "[1, -2, 3]",
        "3 1 -2",
    ],
)
def test_parse_assignment_formats(text):
    assert parse_assignment(text, 3) == {1: True, 2: False, 3: True}


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("x1=1, x2=0", "partial"),
        ("1 -2", "partial"),
        ("[1, 0]", "partial"),
        ("x1=1, x2=0, x3=1, x1=0", "contradictory"),
        ("1 -2 3 -1", "contradictory"),
        ("x1=1, x2=0, x3=1, x4=1", "not a variable"),
        ("1 -2 3 4", "not a variable"),
        ("x1=maybe, x2=0, x3=1", "unreadable"),
        ("one two three", "unreadable"),
    ],
)
def test_parse_assignment_rejects(text, why):
    with pytest.raises(ValueError, match=why):
        parse_assignment(text, 3)


@pytest.mark.timeout(10)
@pytest.mark.parametrize(
    "text", ["not" + " " * 9990, "x1" + " " * 9990 + "q", "x1 = " * 2000, "-" * 9999, "x" * 9999]
)
def test_parse_assignment_is_fast_on_hostile_input(text):
    with pytest.raises(ValueError):
        parse_assignment(text, 3)


def test_every_satisfying_assignment_passes_and_others_fail():
    passing = {"x1=1, x2=1, x3=1", "x1=0, x2=1, x3=0", "x1=0, x2=1, x3=1"}
    for bits in range(8):
        values = [(bits >> i) & 1 for i in range(3)]
        answer = ", ".join(f"x{i + 1}={v}" for i, v in enumerate(values))
        v = verdict(answer)
        assert v.passed == (answer in passing), answer
        if not v.passed:
            assert v.reason == "wrong" and v.detail["unsatisfied_clauses"]


def test_partial_answers_are_format_failures_and_contradictions_ambiguous():
    # x2=1 alone satisfies clauses 1 and 3, but x1 and x3 are missing
    assert verdict("x2=1").reason == "format"
    assert verdict("x1=0, x2=1, x3=0, x3=1").reason == "ambiguous"
    assert verdict("x1=0, x2=1, x3 = 0 or 1").reason == "ambiguous"
    assert verdict("").reason == "no_answer"


def test_a_non_planted_solution_of_a_generated_formula_passes():
    row = generate_problems("sat", 1, level=6, seed=3).to_pylist()[0]
    spec = json.loads(row["verifier_spec"])
    planted = parse_assignment(row["answer"], spec["n"])
    assert not unsatisfied(spec["clauses"], planted)
    with Solver(name="minisat22", bootstrap_with=spec["clauses"]) as solver:
        solver.add_clause([-v if planted[v] else v for v in range(1, spec["n"] + 1)])
        assert solver.solve(), "level-6 formulas leave several solutions"
        other = solver.get_model()[: spec["n"]]
    assert other != [v if planted[v] else -v for v in range(1, spec["n"] + 1)]
    for answer in (
        ", ".join(f"x{abs(lit)}={int(lit > 0)}" for lit in other),
        " ".join(map(str, other)) + " 0",
        str([int(lit > 0) for lit in other]),
    ):
        assert verdict(answer, row).passed, answer
    meta = json.loads(row["metadata"])
    assert meta["solutions"] >= 2
    assert json.loads(row["generator"])["difficulty"] < spec["n"]


def test_planted_formula_and_solution_count():
    rng = random.Random(0)
    assignment, clauses = planted_formula(3, 8, 30, rng)
    assert len(clauses) == 30 and all(
        len(c) == 3 and len({abs(x) for x in c}) == 3 for c in clauses
    )
    values = {abs(lit): lit > 0 for lit in assignment}
    assert not unsatisfied(clauses, values)
    assert count_solutions([], 3) == 8
    assert count_solutions([[1, 2], [-1, 3], [2, -3]], 3) == 3
    assert count_solutions([], 10, cap=5) == 5
    assert count_solutions([[1]], 4) == 8  # x2..x4 occur nowhere: free
    assert count_solutions([[1], [-1]], 40) == 0


def test_levels_grow_and_config_validation():
    task = get_task("sat")
    sizes = [task.config_for_level(level).n for level in range(1, 11)]
    assert sizes == sorted(sizes) and sizes[0] < sizes[-1]
    for bad in ({"k": 4, "n": 3}, {"n": 0}, {"m": 0}, {"k": 0}, {"n": 1000}, {"n": True}):
        with pytest.raises(ValueError):
            SatConfig(**{"k": 3, "n": 5, "m": 10, **bad})
    with pytest.raises(ValueError):
        make_config("sat_decision", 3, n="5")
    assert make_config("sat", 2, m=3) == SatConfig(k=3, n=4, m=3)
    assert SatDecisionConfig(k=2, n=2, m=1).k == 2


def test_decision_labels_are_solver_checked_and_balanced():
    rows = generate_problems("sat_decision", 40, level=2, seed=5).to_pylist()
    labels = []
    for row in rows:
        spec = json.loads(row["verifier_spec"])
        with Solver(name="minisat22", bootstrap_with=spec["clauses"]) as solver:
            assert spec["label"] == ("SAT" if solver.solve() else "UNSAT")
        assert json.loads(row["metadata"])["label_drawn"] == row["answer"]
        labels.append(row["answer"])
    assert 10 <= labels.count("SAT") <= 30


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("SAT", "SAT"),
        ("sat", "SAT"),
        ("Satisfiable", "SAT"),
        ("**SATISFIABLE**", "SAT"),
        ("\\text{UNSAT}", "UNSAT"),
        ("unsatisfiable.", "UNSAT"),
        ("UN-SAT", "UNSAT"),
        ("not satisfiable", "UNSAT"),
        ("The formula is UNSAT", "UNSAT"),
    ],
)
def test_parse_label(text, label):
    assert parse_label(clean(text)) == label


@pytest.mark.parametrize("text", ["SAT or UNSAT", "maybe", "satisfied?", ""])
def test_parse_label_rejects_ambiguous(text):
    with pytest.raises(ValueError):
        parse_label(text)


def test_decision_verifier():
    row = {"verifier_spec": json.dumps({"n": 2, "k": 1, "clauses": [[1], [-1]], "label": "UNSAT"})}
    v = get_verifier("sat_decision")
    assert v(row, "<answer>UNSAT</answer>").passed
    assert v(row, "The answer is \\boxed{\\text{UNSAT}}").passed
    assert v(row, "<answer>SAT</answer>").reason == "wrong"
    assert v(row, "<answer>SAT or UNSAT</answer>").reason == "ambiguous"
