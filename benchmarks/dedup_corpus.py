"""The generated corpus of ``benchmarks/dedup.py``: problems with planted duplicates.

Base problems come from two kinds of templates, with random names, objects and words:

- **numeric** word problems (a few clauses of givens and a question, three numbers);
- **number-free** problems (proofs, explanations, programming tasks) whose slots draw
  from large word lists, so two base problems rarely share more than a few words.

A share of rows are planted copies of a base problem (same family: the same problem):

- ``exact``: re-cased, re-spaced, LaTeX spacing (``\\,``);
- ``reformatted``: numbers in ``$…$``, a bold heading, one clause per line;
- ``reworded``: a few words replaced by synonyms;
- ``reordered``: the given clauses in another order (numbers move with their clause);
- ``boilerplate``: wrapped in instruction boilerplate ("Question:", "Solve the
  following problem.", "Show your work.", …) — from :data:`WRAPPERS`;
- ``boilerplate_heldout``: wrapped in other phrasings, :data:`HELDOUT_WRAPPERS`, which
  the calibration never saw;
- ``recased_reworded``: reworded, then in upper or title case;
- ``mixed``: reworded, re-cased and wrapped;

and planted **negatives** (new families: different problems that must not merge):

- ``renumbered``: one number changed (a template sibling);
- ``swapped``: two numbers exchanged ("3 h at 12 km/h" / "12 h at 3 km/h");

and two kinds of **hard negatives**, scored apart as diagnostics (embedding similarity
cannot tell them from rewordings; see the README):

- ``retargeted``: the same givens, another question;
- ``sibling``: a number-free problem with one content word changed.

Copies are spread over a few sources; most wrapped copies come from a ``wrapped`` source
(as when one dataset wraps every problem). A generated benchmark (olympiad-style
templates, not in the corpus) has some items leaked into the corpus with small edits.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

NAMES = (
    "Alice Bob Carol Dmitri Elena Farah Goran Hana Ivan Jun Kofi Lena Mateo Nadia Omar "
    "Priya Quinn Rosa Sven Tariq Uma Viktor Wen Ximena Yusuf Zara Aiko Bruno Chidi Dalia "
    "Emil Fiona Gustav Hiro Ines Jonas Kaveh Lucia Mira Nils"
).split()
OBJECTS = (
    "apple marble pencil sticker coin book ticket cookie stamp card shell bead candle "
    "lemon notebook brick tile ribbon battery bottle orange crayon button puzzle magnet "
    "balloon cup plate spoon towel"
).split()
PLACES = "box basket crate drawer jar bag shelf cart bucket tray bin chest case pot".split()
TEMPLATES: tuple[tuple[tuple[str, ...], tuple[str, str]], ...] = (
    (
        (
            "{n1} has {a} {o1}s in a {p1}",
            "{n2} gives {n1} {b} more {o1}s",
            "each {o1} costs {c} dollars",
        ),
        (
            "How much are all the {o1}s in the {p1} worth?",
            "How many {o1}s does {n1} have now?",
        ),
    ),
    (
        (
            "A train leaves {n1}'s town at {a} km per hour",
            "a second train leaves {b} minutes later at {c} km per hour",
            "both trains carry {o1}s for {n2}",
        ),
        (
            "After how many minutes does the second train catch up with the first?",
            "How far from the town does the second train catch up?",
        ),
    ),
    (
        (
            "A rectangular {p1} is {a} cm long and {b} cm wide",
            "{n1} fills it with square {o1}s of side {c} cm",
            "{n2} removes one {o1} from every row",
        ),
        ("How many {o1}s are left in the {p1}?", "How many rows of {o1}s are there?"),
    ),
    (
        (
            "{n1} reads {a} pages of a {o1} catalogue on Monday",
            "on each following day {n1} reads {b} pages more than the day before",
            "the catalogue lent by {n2} has {c} pages",
        ),
        (
            "On which day does {n1} finish the catalogue?",
            "How many pages does {n1} read on Wednesday?",
        ),
    ),
    (
        (
            "A {p1} holds {a} red and {b} blue {o1}s",
            "{n1} draws {c} {o1}s at random without replacement",
            "{n2} records the colours",
        ),
        (
            "What is the probability that all the {o1}s drawn are red?",
            "What is the expected number of blue {o1}s drawn?",
        ),
    ),
    (
        (
            "{n1} walks for {a} minutes at {b} metres per minute",
            "then {n1} rests for {c} minutes at {n2}'s {p1} stall",
        ),
        ("How far does {n1} walk in all?", "How long is {n1}'s trip in minutes?"),
    ),
)
SYNONYMS = {
    "has": "owns",
    "gives": "hands",
    "costs": "is priced at",
    "How much": "What amount",
    "leaves": "departs from",
    "carry": "transport",
    "long": "in length",
    "fills": "covers",
    "removes": "takes away",
    "reads": "studies",
    "following": "subsequent",
    "holds": "contains",
    "draws": "picks",
    "records": "notes down",
    "left": "remaining",
    "walks": "strolls",
    "rests": "pauses",
    "Prove": "Show",
    "Explain": "Describe",
    "Write": "Implement",
    "function": "routine",
    "returns": "gives back",
    "always": "in every case",
    "why": "the reason",
    "takes": "accepts",
    "Determine": "Find",
    "describe": "explain",
    "fail": "break down",
    "shows": "illustrates",
    "built on": "placed on",
    "Why does": "For what reason does",
}
# number-free templates: every slot draws from a long list (base problems rarely share a
# slot pattern); sibling negatives change one slot
WORDS = {
    "shape": (
        "triangle square pentagon hexagon rhombus trapezoid kite parallelogram circle "
        "ellipse octagon sector annulus prism pyramid cylinder cone sphere cube tetrahedron"
    ).split(),
    "prop": (
        "area perimeter diagonal altitude median angle bisector incircle circumcircle "
        "centroid orthocenter symmetry volume surface inradius circumradius chord tangent "
        "midpoint vertex"
    ).split(),
    "adj": (
        "convex regular cyclic isosceles equilateral inscribed acute obtuse right "
        "symmetric similar congruent tangential concave degenerate oriented labelled "
        "bounded open closed"
    ).split(),
    "type": (
        "integers strings floats words dates intervals points fractions tuples sets "
        "matrices polynomials graphs trees edges records tokens intervals colours keys"
    ).split(),
    "agg": (
        "longest shortest largest smallest first last median middle rarest commonest "
        "heaviest lightest earliest latest widest narrowest deepest shallowest outermost "
        "innermost"
    ).split(),
    "cond": (
        "sorted reversed unique nonempty balanced palindromic connected acyclic ordered "
        "disjoint nested aligned grouped cached hashed signed paired padded trimmed merged"
    ).split(),
    "field": (
        "topology algebra analysis combinatorics geometry probability logic number theory "
        "statistics optimization cryptography mechanics optics dynamics chemistry "
        "economics linguistics genetics astronomy acoustics"
    ).split(),
    "concept": (
        "limit continuity compactness induction recursion symmetry duality entropy "
        "convergence invariance parity divisibility periodicity connectivity linearity "
        "monotonicity convexity orthogonality stability causality"
    ).split(),
}
WORDS["verb"] = (
    "bounds preserves reverses doubles halves mirrors splits merges encodes decodes "
    "rotates shifts filters ranks counts weights orders balances covers separates "
    "connects projects folds unfolds scales stretches compresses samples tiles colours"
).split()
WORDS["gerund"] = (
    "removing doubling sorting merging hashing grouping reversing trimming padding "
    "rotating filtering ranking sampling splitting folding scaling shifting masking "
    "encoding pruning"
).split()
WORDS["noun"] = (
    "lattice ladder spiral necklace tournament garden mosaic chessboard clock river "
    "bridge tower orchard library network festival market harbour museum railway "
    "carousel labyrinth quilt beehive telescope"
).split()
# mostly slots, little frame text: distinct problems share few words (real problems do)
FREE_TEMPLATES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "Prove that every {adj} {shape} in the {noun} {verb} its {prop} when the {prop2} "
        "of the {adj2} {shape2} is {cond}.",
        ("adj", "shape", "noun", "verb", "prop", "prop2", "adj2", "shape2", "cond"),
    ),
    (
        "Write a function that {verb} a {cond} list of {type} from the {noun} and returns "
        "the {agg} one after {gerund} the {cond2} {type2}.",
        ("verb", "cond", "type", "noun", "agg", "gerund", "cond2", "type2"),
    ),
    (
        "Explain why {concept} {verb} {concept2} in {field} and how the {noun} shows it "
        "for a {adj} {shape}.",
        ("concept", "verb", "concept2", "field", "noun", "adj", "shape"),
    ),
    (
        "Determine whether the {agg} {prop} of a {adj} {shape} {verb} the {prop2} of a "
        "{cond} {shape2} built on the {noun}.",
        ("agg", "prop", "adj", "shape", "verb", "prop2", "cond", "shape2", "noun"),
    ),
    (
        "In {field}, {gerund} a {cond} {noun} {verb} its {concept}; describe the {agg} "
        "{type} this leaves.",
        ("field", "gerund", "cond", "noun", "verb", "concept", "agg", "type"),
    ),
    (
        "Why does {concept} fail for the {adj} {noun} while {concept2} {verb} the "
        "{noun2} of {field}?",
        ("concept", "adj", "noun", "concept2", "verb", "noun2", "field"),
    ),
)
SLOT_WORDS = {
    "noun2": "noun",
    "prop2": "prop",
    "adj2": "adj",
    "shape2": "shape",
    "type2": "type",
    "cond2": "cond",
    "concept2": "concept",
}
WRAPPERS: tuple[tuple[str, str], ...] = (
    ("Question: ", ""),
    ("Solve the following problem. ", ""),
    ("", " Show your work."),
    ("Solve the following problem. ", " Show your work."),
    ("Problem: ", "\nPut your final answer in \\boxed{}."),
    ("Please answer the following question.\n", ""),
    ("Q: ", "\nA:"),
    ("Question 7: ", "\nAnswer:"),
)
HELDOUT_WRAPPERS: tuple[tuple[str, str], ...] = (
    ("Here is a math problem for you to solve:\n", ""),
    ("Read the problem below carefully and answer it.\n\n", ""),
    ("", "\nThink step by step before you give the final answer."),
    ("### Task\n", "\n### Response"),
    ("Exercise 12. ", " Justify your answer."),
    ("You are a helpful assistant. Solve this: ", ""),
    ("Consider the following question and respond with the answer only.\n", ""),
)
BENCH_TEMPLATES = (
    "Find the number of ordered pairs of positive integers (x, y) with x + y = {a} such "
    "that the {w1} of x and y is a {w2} of {b}.",
    "Let S be the set of {w1} integers n not exceeding {a} for which n squared leaves "
    "remainder {b} upon division by a {w2} number; find the sum of the elements of S.",
    "A regular polygon with {a} sides is inscribed in a {w1} circle of radius {b}; find the "
    "{w2} of the area of the polygon and the area of the circle.",
    "Call a positive integer {w1} if it is divisible by each of its {w2} digits; how many "
    "{w1} integers lie between {a} and {b}?",
)
BENCH_WORDS = (
    "product sum quotient remainder divisor multiple cube square prime odd even nonzero "
    "distinct unit golden fixed ratio difference"
).split()
DUP_KINDS = (
    "exact",
    "reformatted",
    "reworded",
    "reordered",
    "boilerplate",
    "boilerplate_heldout",
    "recased_reworded",
    "mixed",
)
NEGATIVE_KINDS = ("renumbered", "swapped")
HARD_KINDS = ("retargeted", "sibling")
KINDS = (*DUP_KINDS, *NEGATIVE_KINDS, *HARD_KINDS)
SOURCES = ("gen-a", "gen-b", "gen-c")


@dataclass
class Base:
    """A base problem: numeric (clauses + ask) or number-free (template + slots)."""

    text: str
    given: list[str] | None = None
    ask: str | None = None
    template: int = 0
    ask_index: int = 0
    slots: dict[str, object] = field(default_factory=dict)


@dataclass
class Corpus:
    """Questions, their true family (same family = same problem) and the plantings."""

    table: pa.Table
    family: np.ndarray
    planted: list[tuple[int, int, str]] = field(default_factory=list)
    """(source row, copy row, kind)."""
    leaks: set[int] = field(default_factory=set)
    """Rows that leak a benchmark item."""
    benchmark: list[str] = field(default_factory=list)
    hard: set[int] = field(default_factory=set)
    """Rows of hard negatives (scored apart)."""


def _numeric(rng: np.random.Generator) -> Base:
    t = int(rng.integers(len(TEMPLATES)))
    given, asks = TEMPLATES[t]
    n1, n2 = rng.choice(NAMES, size=2, replace=False)
    slots: dict[str, object] = {
        "n1": n1,
        "n2": n2,
        "o1": rng.choice(OBJECTS),
        "p1": rng.choice(PLACES),
        "a": int(rng.integers(2, 999)),
        "b": int(rng.integers(2, 999)),
        "c": int(rng.integers(2, 99)),
    }
    while slots["b"] == slots["a"]:
        slots["b"] = int(rng.integers(2, 999))
    ask_index = int(rng.integers(len(asks)))
    clauses = [g.format(**slots) for g in given]
    ask = asks[ask_index].format(**slots)
    return Base(_join(clauses, ask), clauses, ask, t, ask_index, slots)


def _free_text(t: int, slots: dict[str, object]) -> str:
    return FREE_TEMPLATES[t][0].format(**slots)


def _free(rng: np.random.Generator) -> Base:
    t = int(rng.integers(len(FREE_TEMPLATES)))
    slots = {s: str(rng.choice(WORDS[SLOT_WORDS.get(s, s)])) for s in FREE_TEMPLATES[t][1]}
    return Base(_free_text(t, slots), template=t, slots=slots)


def _join(given: list[str], ask: str) -> str:
    return "; ".join(given) + ". " + ask


def _reword(text: str, rng: np.random.Generator, most: int = 3) -> str:
    words = [w for w in SYNONYMS if re.search(rf"\b{w}\b", text)]
    for w in rng.permutation(words)[:most]:
        text = re.sub(rf"\b{w}\b", SYNONYMS[str(w)], text, count=1)
    return text


def _recase(text: str, rng: np.random.Generator) -> str:
    return text.upper() if rng.random() < 0.5 else text.title()


def _wrap(text: str, wrappers: tuple[tuple[str, str], ...], rng: np.random.Generator) -> str:
    prefix, suffix = wrappers[int(rng.integers(len(wrappers)))]
    return prefix + text + suffix


def _copy(kind: str, base: Base, rng: np.random.Generator) -> str | None:
    """A planted copy of ``kind``, or None when ``base`` cannot have one."""
    text = base.text
    numeric = base.given is not None
    if kind == "exact":
        return "  " + text.upper().replace("; ", " ;\\, ").replace(". ", ".   ") + " "
    if kind == "reformatted":
        if not numeric:
            return "**Problem.**\n" + text.replace(", and ", ",\nand ")
        assert base.given is not None
        body = "\n".join(re.sub(r"\b(\d+)\b", r"$\1$", g) + ";" for g in base.given)
        return f"**Problem.**\n{body}\n{base.ask}"
    if kind == "reworded":
        return _reword(text, rng)
    if kind == "reordered":
        if not numeric:
            return None
        assert base.given is not None and base.ask is not None
        order = [len(base.given) - 1, *range(len(base.given) - 1)]
        moved = [base.given[i] for i in order]
        moved[0] = moved[0][0].upper() + moved[0][1:]
        if moved[1][:2] != "A ":
            moved[1] = moved[1][0].lower() + moved[1][1:]
        return _join(moved, base.ask)
    if kind == "boilerplate":
        return _wrap(text, WRAPPERS, rng)
    if kind == "boilerplate_heldout":
        return _wrap(text, HELDOUT_WRAPPERS, rng)
    if kind == "recased_reworded":
        return _recase(_reword(text, rng), rng)
    if kind == "mixed":
        wrappers = WRAPPERS + HELDOUT_WRAPPERS
        return _wrap(_recase(_reword(text, rng, 2), rng), wrappers, rng)
    if kind == "renumbered":
        if not numeric:
            return None
        return re.sub(r"\b(\d+)\b", lambda m: str(int(m.group(1)) + 1), text, count=1)
    if kind == "swapped":
        if not numeric:
            return None
        a, b = str(base.slots["a"]), str(base.slots["b"])
        return re.sub(rf"\b({a}|{b})\b", lambda m: b if m.group(1) == a else a, text)
    if kind == "retargeted":
        if not numeric:
            return None
        assert base.given is not None
        asks = TEMPLATES[base.template][1]
        other = asks[(base.ask_index + 1) % len(asks)].format(**base.slots)
        return _join(base.given, other)
    if kind == "sibling":
        if numeric:
            return None
        slot = str(rng.choice(list(base.slots)))
        choices = [w for w in WORDS[SLOT_WORDS.get(slot, slot)] if w != base.slots[slot]]
        changed = dict(base.slots, **{slot: str(rng.choice(choices))})
        return _free_text(base.template, changed)
    raise ValueError(kind)


def _bench_item(rng: np.random.Generator) -> str:
    template = BENCH_TEMPLATES[int(rng.integers(len(BENCH_TEMPLATES)))]
    w1, w2 = rng.choice(BENCH_WORDS, size=2, replace=False)
    return template.format(a=int(rng.integers(10, 5000)), b=int(rng.integers(2, 500)), w1=w1, w2=w2)


def _leak(item: str, rng: np.random.Generator) -> str:
    edit = int(rng.integers(3))
    if edit == 0:
        return item.replace("find", "determine", 1).replace("Find", "Determine", 1)
    if edit == 1:
        return item.lower()
    return item + " Express your answer as an integer."


def make_corpus(
    n: int,
    seed: int = 0,
    *,
    bench_items: int = 300,
    leaks: int = 150,
    free_share: float = 0.2,
    copy_share: float = 0.2,
) -> Corpus:
    """``n`` questions: base problems, planted copies and negatives, benchmark leaks."""
    rng = np.random.default_rng(seed)
    leaks = min(leaks, max(1, n // 50))
    base_n = int(n * (1 - copy_share))
    bases: list[Base] = []
    seen: set[str] = set()
    while len(bases) < base_n:
        base = _free(rng) if rng.random() < free_share else _numeric(rng)
        if base.text not in seen:  # distinct base problems are distinct texts
            seen.add(base.text)
            bases.append(base)
    questions = [b.text for b in bases]
    family = list(range(base_n))
    sources = [SOURCES[int(i)] for i in rng.integers(0, 2, size=base_n)]
    benchmark = [_bench_item(rng) for _ in range(bench_items)]
    corpus = Corpus(pa.table({}), np.zeros(0), benchmark=benchmark)
    for i in range(leaks):
        corpus.leaks.add(len(questions))
        questions.append(_leak(benchmark[i * bench_items // leaks], rng))
        family.append(len(family))
        sources.append(SOURCES[2])
    negatives: dict[tuple[int, str], int] = {}
    while len(questions) < n:
        src = int(rng.integers(base_n))
        kind = KINDS[int(rng.integers(len(KINDS)))]
        copy = _copy(kind, bases[src], rng)
        if copy is None or copy in seen and kind in (*NEGATIVE_KINDS, *HARD_KINDS):
            continue
        row = len(questions)
        corpus.planted.append((src, row, kind))
        questions.append(copy)
        if kind in DUP_KINDS:
            family.append(src)
        else:  # negatives of one source and kind are one new problem (they may coincide)
            family.append(negatives.setdefault((src, kind), row))
            if kind in HARD_KINDS:
                corpus.hard.add(row)
        wrapped = kind in ("boilerplate", "boilerplate_heldout", "mixed")
        sources.append("wrapped" if wrapped and rng.random() < 0.7 else SOURCES[row % 3])
    ids = [f"{i:08d}" for i in range(n)]
    corpus.table = pa.table({"problem_id": ids, "question": questions, "source": sources})
    corpus.family = np.asarray(family)
    return corpus


def planted_counts(corpus: Corpus) -> Counter[str]:
    """Planted rows per kind."""
    return Counter(k for _, _, k in corpus.planted)


# -- scoring -----------------------------------------------------------------------


def _pairs(counts: np.ndarray) -> int:
    return int((counts.astype(np.int64) * (counts - 1) // 2).sum())


def score(corpus: Corpus, labels: np.ndarray) -> dict[str, object]:
    """Pair-counting precision/recall (hard negatives left out), recall per kind, merges.

    ``merged`` counts, per negative kind, the planted negatives put in their source's
    cluster (should be 0).
    """
    keep = np.ones(len(labels), dtype=bool)
    keep[list(corpus.hard)] = False
    lab, fam = labels[keep], corpus.family[keep]
    _, lab_codes = np.unique(lab, return_inverse=True)
    _, fam_codes = np.unique(fam, return_inverse=True)
    joint = lab_codes.astype(np.int64) * (fam_codes.max() + 1) + fam_codes
    tp = _pairs(np.unique(joint, return_counts=True)[1])
    predicted = _pairs(np.bincount(lab_codes))
    true = _pairs(np.bincount(fam_codes))
    per_kind: dict[str, float] = {}
    merged: dict[str, int] = {}
    for kind in KINDS:
        pairs = [(s, c) for s, c, k in corpus.planted if k == kind]
        same = sum(int(labels[s] == labels[c]) for s, c in pairs)
        if kind in DUP_KINDS:
            per_kind[kind] = same / len(pairs) if pairs else float("nan")
        else:
            merged[kind] = same
    return {
        "precision": tp / predicted if predicted else 1.0,
        "recall": tp / true if true else 1.0,
        "kinds": per_kind,
        "merged": merged,
        "planted": planted_counts(corpus),
    }


def format_score(name: str, s: dict[str, object]) -> str:
    """One line per method: precision, recall, recall per kind, negatives merged."""
    kinds = s["kinds"]
    merged = s["merged"]
    planted = s["planted"]
    assert isinstance(kinds, dict) and isinstance(merged, dict) and isinstance(planted, Counter)
    per = " ".join(f"{k}={v:.2f}" for k, v in kinds.items())
    neg = " ".join(f"{k} {v}/{planted[k]}" for k, v in merged.items())
    return (
        f"{name:<26} precision {s['precision']:.4f}  recall {s['recall']:.4f}\n"
        f"{'':<26} recall by kind: {per}\n"
        f"{'':<26} negatives merged: {neg}"
    )
