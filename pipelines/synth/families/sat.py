"""Random k-SAT (SATURN style): find a satisfying assignment; and SAT/UNSAT decision.

``sat``: a satisfiable formula planted around a hidden assignment (every clause gets at
least one literal the hidden assignment makes true). The verifier accepts *any*
assignment that satisfies every clause, in many spellings (see :func:`parse_assignment`),
and rejects partial or contradictory ones. Difficulty: the bits the clauses pin down,
``n - log2(#solutions)`` (solutions counted with python-sat up to a cap).

``sat_decision``: a uniform random formula near the satisfiability threshold, labelled
SAT or UNSAT by a solver; the generator draws the label first (50/50) and resamples
formulas until one has it, so both classes appear equally often.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pysat.solvers import Solver
from tracemill.pipelines.synth.base import Item, Task, check_level, register_task
from tracemill.pipelines.synth.grid import MAX_PARSE_CHARS, SOLVER, positive_int
from tracemill.pipelines.verify.answers import AmbiguousAnswer
from tracemill.pipelines.verify.registry import Verdict

SOLUTION_CAP = 256
"""Solutions are counted up to this many (beyond it the difficulty is a lower bound)."""

# satisfiability thresholds of random k-SAT (clauses per variable); k >= 7 by 2^k ln 2
_THRESHOLD = {1: 0.7, 2: 1.0, 3: 4.267, 4: 9.931, 5: 21.117, 6: 43.37}


def sat_threshold(k: int) -> float:
    """The clause/variable ratio at which random k-SAT turns from SAT to UNSAT."""
    return _THRESHOLD.get(k, (2**k) * math.log(2) - (1 + math.log(2)) / 2)


def _validate(k: int, n: int, m: int) -> None:
    positive_int("k", k, 1, 10)
    positive_int("n", n, 1, 200)
    positive_int("m", m, 1, 2000)
    if k > n:
        raise ValueError(f"k ({k}) cannot exceed the number of variables n ({n})")


@dataclass(frozen=True)
class SatConfig:
    """Knobs of random k-SAT with a planted solution."""

    k: int = 3
    """Literals per clause."""
    n: int = 5
    """Number of variables."""
    m: int = 12
    """Number of clauses."""

    def __post_init__(self) -> None:
        _validate(self.k, self.n, self.m)


# (n, m) per level for 3-SAT: small formulas first, up to near-threshold ratios
_SAT_LEVELS = {
    1: (3, 4),
    2: (4, 8),
    3: (5, 12),
    4: (6, 18),
    5: (8, 26),
    6: (10, 36),
    7: (12, 46),
    8: (14, 56),
    9: (16, 66),
    10: (20, 84),
}


def format_literal(lit: int) -> str:
    """``3`` → ``x3``, ``-3`` → ``¬x3``."""
    return f"x{lit}" if lit > 0 else f"¬x{-lit}"


def format_cnf(clauses: Sequence[Sequence[int]]) -> str:
    """Numbered clauses, one per line: ``1. (x1 ∨ ¬x2 ∨ x3)``."""
    return "\n".join(
        f"{i}. (" + " ∨ ".join(format_literal(lit) for lit in clause) + ")"
        for i, clause in enumerate(clauses, 1)
    )


def random_clause(k: int, n: int, rng: random.Random) -> list[int]:
    """``k`` distinct variables out of ``n`` with random signs, sorted by variable."""
    variables = sorted(rng.sample(range(1, n + 1), k))
    return [v if rng.random() < 0.5 else -v for v in variables]


def distinct_clauses(
    draw: Callable[[], list[int]], m: int, rng: random.Random, tries: int = 20
) -> list[list[int]]:
    """``m`` clauses from ``draw``, avoiding repeats while that takes few extra draws.

    Tiny formulas can run out of distinct clauses; after ``tries * m`` draws repeats are
    accepted.
    """
    seen: set[tuple[int, ...]] = set()
    clauses: list[list[int]] = []
    budget = tries * m
    while len(clauses) < m:
        clause = draw()
        key = tuple(clause)
        budget -= 1
        if key in seen and budget > 0:
            continue
        seen.add(key)
        clauses.append(clause)
    return clauses


def planted_formula(
    k: int, n: int, m: int, rng: random.Random
) -> tuple[list[int], list[list[int]]]:
    """A hidden assignment (literals) and ``m`` distinct random clauses it satisfies."""
    assignment = [v if rng.random() < 0.5 else -v for v in range(1, n + 1)]
    true_lits = set(assignment)

    def draw() -> list[int]:
        clause = random_clause(k, n, rng)
        if not true_lits.intersection(clause):
            i = rng.randrange(k)
            clause[i] = -clause[i]
        return clause

    return assignment, distinct_clauses(draw, m, rng)


def count_solutions(clauses: Sequence[Sequence[int]], n: int, cap: int = SOLUTION_CAP) -> int:
    """Number of assignments of x1…xn satisfying the clauses, counted up to ``cap``.

    Variables that occur in no clause are free and double the count each.
    """
    used = sorted({abs(lit) for clause in clauses for lit in clause})
    per_model = 2 ** (n - len(used))
    count = 0
    with Solver(name=SOLVER, bootstrap_with=[list(c) for c in clauses]) as solver:
        while count < cap and solver.solve():
            model = set(solver.get_model())
            count += per_model
            solver.add_clause([-v if v in model else v for v in used])
            if not used:
                break
    return min(count, cap)


def solve_stats(clauses: Sequence[Sequence[int]]) -> tuple[bool, int]:
    """(satisfiable, solver conflicts) of a formula."""
    with Solver(name=SOLVER, bootstrap_with=[list(c) for c in clauses]) as solver:
        sat = bool(solver.solve())
        return sat, int(solver.accum_stats().get("conflicts", 0))


# -- answers ---------------------------------------------------------------------------

_TRUE = {"1", "true", "t", "yes", "y", "on"}
_FALSE = {"0", "false", "f", "no", "n", "off"}
# applied to text whose whitespace runs are collapsed to one space: no ambiguous repeats
_NAMED = re.compile(
    r"(?P<neg>¬|~|!|-|\bnot )? ?\bx_?\{?(?P<var>\d{1,4})\}?"
    r"(?: ?(?::=|==|=|:|->|→|<-|←|\||\bis(?: set to)?\b|\bto\b) ?(?P<val>[A-Za-z]{1,5}|[01])\b)?",
    re.IGNORECASE,
)
_UNDECIDED = {"any", "both", "free", "either", "dont", "x", "?"}
_SPACES = re.compile(r"\s+")
_TOKEN_SPLIT = re.compile(r"[\s,;\[\]{}()]+")
_GROUPED = re.compile(
    r"(?i)\b(?:(?:variables?|literals?)\s+(?:set\s+to|that\s+are)\s+)?(?P<value>true|false)"
    r"(?:\s+(?:variables?|literals?))?\s*[:=]\s*"
    r"(?P<vars>none|x_?\{?\d{1,4}\}?(?:\s*(?:,|\band\b)\s*x_?\{?\d{1,4}\}?)*)"
)
"""A group of variables sharing a value: "True: x1, x3", "Variables set to false: x2"."""
_VAR = r"x_?\{?\d{1,4}\}?"
_TUPLE_EQUATION = re.compile(
    rf"\(\s*(?P<vars>{_VAR}(?:\s*,\s*{_VAR})*)\s*\)\s*=\s*\(\s*(?P<vals>[^()]*)\)\s*\.?",
    re.IGNORECASE,
)
"""A tuple of variables equal to a tuple of values: "(x1, x2, x3) = (1, 0, 1)"."""
_ALL_EXCEPT = re.compile(
    r"(?:the\s+answer\s*:?\s*)?all\s+(?:the\s+)?(?:variables\s+|of\s+them\s+)?(?:are\s+|=\s*)?"
    r"(?P<value>true|false|1|0)\s*,?\s*except\s+(?:for\s+)?"
    rf"(?P<vars>{_VAR}(?:(?:\s*,\s*(?:and\s+)?|\s+and\s+){_VAR})*)"
    r"(?:\s*,?\s*which\s+(?:is|are)\s+(?P<then>true|false|1|0))?\s*\.?",
    re.IGNORECASE,
)
"""A default and its exceptions: "All variables are true except x2 and x4 (which are false)"."""
_GROUP_GLUE = re.compile(r"(?i)[\s,;.]+|\band\b")
_LITERAL_GLUE = re.compile(r"(?i)[\s,;.()\[\]{}∧&|]+|\band\b")
_HEDGE = re.compile(
    r"(?i)\b(?:or|either|any|anything|whatever|maybe|arbitrary)\b|(?<=[01a-z]) ?/ ?(?=[01a-z])"
)


def parse_assignment(text: str, n: int) -> dict[int, bool]:
    """Parse a full assignment of x1…xn from answer text.

    Accepted: ``x1=1, x2=0`` (also ``:``, ``|`` (table rows), ``is``, ``→``, "set x1 to";
    values 1/0, True/False, T/F), literal lists ``x1, ¬x2, x3`` (``¬``, ``~``, ``!``,
    ``-``, ``not``; only separators and "and" between them), bit vectors ``[1, 0, 1]`` /
    ``101`` / ``[True, False, True]``, DIMACS ``1 -2 3 0`` (``v`` lines too), groups
    "True: x1, x3 / False: x2" (nothing else around them), a tuple equation
    ``(x1, x2) = (1, 0)`` and "All variables are true except x2". Raises
    ``ValueError`` for partial, out-of-range or unreadable assignments and
    :class:`AmbiguousAnswer` for contradictory or hedged ones ("x3 = 0 or 1").
    """
    if len(text) > MAX_PARSE_CHARS:
        raise ValueError(f"answer longer than {MAX_PARSE_CHARS} characters")
    text = _SPACES.sub(" ", text)
    values: dict[int, bool] = {}

    def assign(var: int, value: bool) -> None:
        if not 1 <= var <= n:
            raise ValueError(f"x{var} is not a variable of this formula (x1..x{n})")
        if values.get(var, value) != value:
            raise AmbiguousAnswer(f"contradictory values for x{var}")
        values[var] = value

    named = list(_NAMED.finditer(text))
    groups = list(_GROUPED.finditer(text))
    vector = _TUPLE_EQUATION.fullmatch(text.strip())
    default = _ALL_EXCEPT.fullmatch(text.strip())
    if vector:  # "(x1, x2, x3) = (1, 0, 1)"
        if _HEDGE.search(vector.group("vals")):
            raise AmbiguousAnswer("the tuple of values offers alternatives")
        names = re.findall(r"\d{1,4}", vector.group("vars"))
        given = [t.lower() for t in re.split(r"\s*,\s*", vector.group("vals").strip())]
        if len(names) != len(given) or not all(t in _TRUE | _FALSE for t in given):
            raise ValueError("the tuple of values does not match the tuple of variables")
        for var, token in zip(names, given, strict=True):
            assign(int(var), token in _TRUE)
    elif default:  # "All variables are true except x2 and x4"
        value = default.group("value").lower() in _TRUE
        if default.group("then") and (default.group("then").lower() in _TRUE) == value:
            raise ValueError("the exceptions are given the same value as the rest")
        exceptions = {int(v) for v in re.findall(r"\d{1,4}", default.group("vars"))}
        for var in range(1, n + 1):
            assign(var, value != (var in exceptions))
        for var in exceptions:
            assign(var, not value)
    elif groups and not _GROUP_GLUE.sub("", _GROUPED.sub(" ", text)):
        for match in groups:  # "True: x1, x3  False: x2"
            for var in re.findall(r"\d{1,4}", match.group("vars")):
                assign(int(var), match.group("value").lower() == "true")
    elif named:
        valued = [m for m in named if m.group("val") is not None]
        leftover = _NAMED.sub(" ", text)
        if _HEDGE.search(_NAMED.sub("v", text)):  # "v" keeps "x1=0/1" visible as "v/1"
            raise AmbiguousAnswer("the assignment offers alternatives")
        if valued:
            for match in valued:  # mentions without a value are prose around the answer
                word = match.group("val").lower()
                if word in _UNDECIDED:
                    raise AmbiguousAnswer(f"x{match.group('var')} = {word}")
                if word in _TRUE:
                    value = True
                elif word in _FALSE:
                    value = False
                else:
                    raise ValueError(f"unreadable value {match.group('val')!r}")
                assign(int(match.group("var")), value != bool(match.group("neg")))
        else:
            if _LITERAL_GLUE.sub("", leftover):
                raise ValueError("a list of literals must hold nothing but literals")
            for match in named:
                assign(int(match.group("var")), not match.group("neg"))
    else:
        # DIMACS solution lines start with "v"
        tokens = [t for t in _TOKEN_SPLIT.split(text) if t and t.lower() != "v"]
        lowered = [t.lower() for t in tokens]
        if len(tokens) == 1 and len(tokens[0]) == n and set(tokens[0]) <= {"0", "1"} and n > 1:
            lowered = list(tokens[0])
        if len(lowered) == n and all(t in _TRUE | _FALSE for t in lowered):
            for var, token in enumerate(lowered, 1):
                assign(var, token in _TRUE)
        else:
            for token in tokens:
                if not re.fullmatch(r"[+-]?\d{1,4}", token):
                    raise ValueError(f"unreadable assignment token {token[:20]!r}")
                lit = int(token)
                if lit == 0:
                    continue  # DIMACS clause/line terminator
                assign(abs(lit), lit > 0)
    missing = [v for v in range(1, n + 1) if v not in values]
    if missing:
        shown = ", ".join(f"x{v}" for v in missing[:5])
        more = "…" if len(missing) > 5 else ""
        raise ValueError(f"partial assignment: no value for {shown}{more}")
    return values


def unsatisfied(clauses: Sequence[Sequence[int]], values: Mapping[int, bool]) -> list[int]:
    """1-based numbers of the clauses an assignment leaves false."""
    return [
        i
        for i, clause in enumerate(clauses, 1)
        if not any(values[abs(lit)] == (lit > 0) for lit in clause)
    ]


def format_assignment(literals: Sequence[int]) -> str:
    """Literals as ``x1=1, x2=0, …`` in variable order."""
    return ", ".join(f"x{abs(lit)}={1 if lit > 0 else 0}" for lit in sorted(literals, key=abs))


@register_task
class SatTask(Task):
    """Find a satisfying assignment of a random planted k-SAT formula."""

    name = "sat"
    domain = "sat"
    version = "3"
    description = "Random k-SAT with a planted solution; any satisfying assignment passes."
    Config = SatConfig

    @classmethod
    def config_for_level(cls, level: int) -> SatConfig:
        """Level 1: 3 variables, 4 clauses … level 10: 20 variables, 84 clauses (3-SAT)."""
        n, m = _SAT_LEVELS[check_level(level)]
        return SatConfig(k=3, n=n, m=m)

    def generate(self, config: SatConfig, rng: random.Random) -> Item:
        """A planted formula, its hidden assignment as the reference answer."""
        k, n, m = config.k, config.n, config.m
        assignment, clauses = planted_formula(k, n, m, rng)
        solutions = count_solutions(clauses, n)
        _, conflicts = solve_stats(clauses)
        question = (
            f"Find an assignment of true/false values to the variables x1 … x{n} that makes "
            "the following Boolean formula true. The formula is the AND of the clauses "
            "below; each clause is an OR of literals, and ¬ means NOT, so every clause "
            "needs at least one true literal.\n\n"
            f"{format_cnf(clauses)}\n\n"
            "Give a value to every variable, 1 for true and 0 for false, inside "
            "<answer></answer> tags, for example:\n"
            f"<answer>x1=0, x2=1, …, x{n}=1</answer>"
        )
        ratio = m / n
        difficulty = n - math.log2(solutions)
        return Item(
            question=question,
            answer=format_assignment(assignment),
            spec={"n": n, "k": k, "clauses": clauses},
            difficulty=round(difficulty, 3),
            metadata={
                "ratio": round(ratio, 4),
                "threshold_ratio": round(ratio / sat_threshold(k), 4),
                "solutions": solutions,
                "solutions_capped": solutions >= SOLUTION_CAP,
                "conflicts": conflicts,
            },
        )

    def parse(self, spec: Mapping[str, Any], text: str) -> dict[int, bool]:
        """A full, consistent assignment (see :func:`parse_assignment`)."""
        return parse_assignment(text, int(spec["n"]))

    def judge(self, spec: Mapping[str, Any], values: dict[int, bool]) -> Verdict:
        """Any assignment satisfying every clause passes."""
        failed = unsatisfied(spec["clauses"], values)
        if failed:
            return Verdict(False, 0.0, "wrong", {"unsatisfied_clauses": failed[:20]})
        return Verdict(True, 1.0, "ok", {})


# -- decision ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SatDecisionConfig:
    """Knobs of random k-SAT decision problems (near the threshold for balanced labels)."""

    k: int = 3
    """Literals per clause."""
    n: int = 5
    """Number of variables."""
    m: int = 24
    """Number of clauses."""

    def __post_init__(self) -> None:
        _validate(self.k, self.n, self.m)


# near the (finite-size) 50% point of random 3-SAT so both labels are cheap to draw
_DECISION_LEVELS = {
    1: (4, 17),
    2: (5, 24),
    3: (6, 30),
    4: (7, 34),
    5: (8, 40),
    6: (10, 48),
    7: (12, 56),
    8: (14, 64),
    9: (17, 77),
    10: (20, 90),
}
_DECISION_TRIES = 200
_SAT_WORDS = re.compile(
    r"\b(?P<unsat>un-?sat(?:isfiable)?|not (?:be )?satisfiable|no)\b"
    r"|\b(?P<sat>sat(?:isfiable)?|yes)\b",
    re.IGNORECASE,
)
_LABEL_TEXT = re.compile(
    r"(?:(?:so|thus|therefore|hence|answer)\b[,:]? ?)?"
    r"(?:(?:the (?:given |boolean )?)?(?:formula|cnf|expression|instance|problem)|it|this)? ?"
    r"(?:is )?(?P<label>un-?sat(?:isfiable)?|not (?:be )?satisfiable|sat(?:isfiable)?|yes|no)"
    r"(?: ?\((?P<again>un-?sat(?:isfiable)?|sat(?:isfiable)?)\))?[.!]?",
    re.IGNORECASE,
)


def parse_label(text: str) -> str:
    """``SAT`` or ``UNSAT``, alone or in a short sentence.

    "The formula is satisfiable (SAT).", unsatisfiable, yes/no are read; both labels is
    :class:`AmbiguousAnswer`.
    """
    if len(text) > MAX_PARSE_CHARS:
        raise ValueError(f"answer longer than {MAX_PARSE_CHARS} characters")
    plain = _SPACES.sub(" ", text).strip()
    labels = {"UNSAT" if m.group("unsat") else "SAT" for m in _SAT_WORDS.finditer(plain)}
    if len(labels) > 1:
        raise AmbiguousAnswer("answer must say exactly one of SAT or UNSAT")
    m = _LABEL_TEXT.fullmatch(plain)
    if not m or not labels:
        raise ValueError("answer must say exactly one of SAT or UNSAT")
    return labels.pop()


@register_task
class SatDecisionTask(Task):
    """Decide whether a random k-SAT formula is satisfiable."""

    name = "sat_decision"
    domain = "sat"
    version = "3"
    description = "Random k-SAT near the threshold: answer SAT or UNSAT (solver-checked labels)."
    Config = SatDecisionConfig

    @classmethod
    def config_for_level(cls, level: int) -> SatDecisionConfig:
        """Level 1: 4 variables … level 10: 20 variables, 3-SAT near the 50% point."""
        n, m = _DECISION_LEVELS[check_level(level)]
        return SatDecisionConfig(k=3, n=n, m=m)

    def generate(self, config: SatDecisionConfig, rng: random.Random) -> Item:
        """Draw the label, then formulas until the solver agrees (bounded tries)."""
        k, n, m = config.k, config.n, config.m
        want_sat = rng.random() < 0.5
        for _ in range(_DECISION_TRIES):
            clauses = distinct_clauses(lambda: random_clause(k, n, rng), m, rng)
            sat, conflicts = solve_stats(clauses)
            if sat == want_sat:
                break
        label = "SAT" if sat else "UNSAT"
        question = (
            f"Is the following Boolean formula over the variables x1 … x{n} satisfiable? "
            "The formula is the AND of the clauses below; each clause is an OR of "
            "literals, and ¬ means NOT.\n\n"
            f"{format_cnf(clauses)}\n\n"
            "Answer SAT if some assignment of true/false values makes every clause true, "
            "and UNSAT if none does, inside <answer></answer> tags: <answer>SAT</answer> or "
            "<answer>UNSAT</answer>."
        )
        return Item(
            question=question,
            answer=label,
            spec={"n": n, "k": k, "clauses": clauses, "label": label},
            difficulty=round(n + 4.0 * math.log2(1 + conflicts), 3),
            metadata={
                "ratio": round(m / n, 4),
                "threshold_ratio": round(m / n / sat_threshold(k), 4),
                "conflicts": conflicts,
                "label_drawn": "SAT" if want_sat else "UNSAT",
            },
        )

    def parse(self, spec: Mapping[str, Any], text: str) -> str:
        """``SAT`` or ``UNSAT`` (see :func:`parse_label`)."""
        return parse_label(text)

    def judge(self, spec: Mapping[str, Any], label: str) -> float:
        """1.0 when the stated label matches the solver's."""
        return 1.0 if label == spec["label"] else 0.0
