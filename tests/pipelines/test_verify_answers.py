"""The shared structured-answer layer and every family's reading of realistic answer styles."""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

import pytest
from tracemill.pipelines.synth import generate_problems, task_names
from tracemill.pipelines.verify import REASONS, get_verifier
from tracemill.pipelines.verify.answers import (
    MAX_REGION_CHARS,
    AmbiguousAnswer,
    clean,
    read_answer,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))
import answer_styles  # noqa: E402  (test data beside this file)


def integer(text: str) -> int:
    if not re.fullmatch(r"-?\d+", text.strip()):
        if len(re.findall(r"\d+", text)) > 1 and " or " in text:
            raise AmbiguousAnswer("two numbers")
        raise ValueError("not one integer")
    return int(text)


def grid2(text: str) -> tuple[str, ...]:
    rows = [re.sub(r"[\s,|\[\]]", "", line) for line in text.split("\n")]
    rows = [r for r in rows if r]
    if len(rows) != 2 or any(len(r) != 2 or not r.isdigit() for r in rows):
        raise ValueError("not a 2x2 grid")
    return tuple(rows)


# -- cleaning ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "plain"),
    [
        ("**House 1:** Emma, *reading*", "House 1: Emma, reading"),
        ("### Final Answer", "Final Answer"),
        ("- x1 = True", "x1 = True"),
        ("# . # .", "# . # ."),  # a shaded cell is not a heading
        ("* . * .", "* . * ."),  # nor a star a bullet or emphasis
        ("- - * -", "- - * -"),
        ("> ) ] }", "> ) ] }"),  # closing brackets are not a quote
        ("| 1 | 2 |\n|---|---|\n| 3 | 4 |", "1 | 2\n\n3 | 4"),
        (r"$x_{1} = \text{True}$, $x_2 = 0$", "x1 = True ,  x2 = 0"),
        ("x₁ = 1", "x1 = 1"),
        (r"\begin{array}{cc} 1 & 2 \\ 3 & 4 \end{array}", "1  |  2\n3  |  4"),
        (r"\boxed{\}\ )}", "} )"),
        ('`yes`, "no"', "yes, no"),
        ("~~42~~ 43", "43"),
        ("a<br>b", "a\nb"),
    ],
)
def test_clean(raw, plain):
    assert clean(raw) == plain


# -- reading ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("response", "status", "value"),
    [
        ("<think>1? 2?</think> The answer is **7**.", "ok", 7),
        ("7", "ok", 7),
        ("Final answer: 7\n\nBecause 3 + 4.", "ok", 7),
        ("<answer>7", "ok", 7),  # a stop string cut the closing tag
        ("<answer>\\boxed{7}</answer> so \\boxed{7}", "ok", 7),  # the same answer twice
        ("\\boxed{3} or \\boxed{4}", "ambiguous", None),
        ("<answer>3</answer>\nFinal answer: 4", "ambiguous", None),
        ("Answer: 3 or 4", "ambiguous", None),
        ("<answer>seven</answer>", "format", None),
        ("no idea", "no_answer", None),
        ("<think>unfinished", "no_answer", None),
        ("", "no_answer", None),
    ],
)
def test_read_answer_statuses(response, status, value):
    reading = read_answer(response, integer)
    assert (reading.status, reading.value) == (status, value), reading


def test_explicit_answer_outranks_drafts_in_the_prose():
    # a draft grid in a fence, then a tagged answer: the tag decides, no ambiguity
    response = "Draft:\n```\n1 2\n1 2\n```\n<answer>\n1 2\n2 1\n</answer>"
    assert read_answer(response, grid2).value == ("12", "21")
    # two different implicit grids and no explicit answer: ambiguous
    two = "```\n1 2\n2 1\n```\n\n```\n2 1\n1 2\n```"
    reading = read_answer(two, grid2)
    assert reading.status == "ambiguous" and len(reading.alternatives) == 2


def test_restated_puzzle_is_ignored_but_not_forced_away():
    restated = "The board:\n```\n1 1\n1 1\n```\nPress:\n```\n1 2\n2 1\n```"
    assert read_answer(restated, grid2, ignore=[("11", "11")]).value == ("12", "21")
    # when the restated value is the only one, it is the answer
    alone = "```\n1 1\n1 1\n```"
    assert read_answer(alone, grid2, ignore=[("11", "11")]).value == ("11", "11")


def test_detail_says_what_was_read_and_why_it_failed():
    reading = read_answer("**Final Answer:**\n\n```\n1 2 3\n```", grid2)
    assert reading.status == "format"
    assert reading.detail["extracted"] == "1 2 3" and reading.detail["method"] == "cue"
    assert "2x2" in reading.detail["error"]
    assert read_answer("<answer>1 2\n2 1</answer>", grid2).detail == {
        "extracted": "1 2\n2 1",
        "method": "tag",
    }


def test_long_regions_are_refused_not_truncated():
    padded = "<answer>1 2\n2 1" + " " * MAX_REGION_CHARS + "\n3 3</answer>"
    reading = read_answer(padded, grid2)
    assert reading.status == "too_long" and "longer than" in reading.error


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    "hostile",
    [
        "**" * 200_000,
        "\\boxed{" * 100_000,
        "|" + " |" * 200_000,
        "<answer>" * 50_000,
        "Final answer:\n" * 30_000,
        "$$" + "\\[" * 100_000,
        ("1 2\n" * 50_000),
        "```\n" * 50_000,
        "x" * 1_000_000,
    ],
)
def test_hostile_responses_are_read_quickly(hostile):
    start = time.perf_counter()
    reading = read_answer(hostile, grid2)
    assert reading.status in {"no_answer", "format", "ambiguous", "ok"}
    assert time.perf_counter() - start < 5.0


# -- every family, realistic styles -------------------------------------------------------

FAMILIES = task_names(source="tracemill")
LEVELS = (1, 10)


def test_every_family_has_a_style_kind():
    assert set(answer_styles.KIND) == set(FAMILIES)


@pytest.mark.parametrize("family", FAMILIES)
def test_realistic_styles_pass_and_their_corruptions_fail(family):
    verify = get_verifier(family)
    for level in LEVELS:
        row = generate_problems(family, 1, level=level, seed=3).to_pylist()[0]
        styles = answer_styles.styles(family, row)
        assert len(styles) >= 8
        for name, response in styles:
            verdict = verify(row, response)
            assert verdict.passed, (family, level, name, verdict)
        for name, response in answer_styles.corrupted(family, row):
            verdict = verify(row, response)
            assert not verdict.passed, (family, level, name, response)
            assert verdict.reason in REASONS - {"ok", "verifier_error"}


@pytest.mark.parametrize("family", FAMILIES)
def test_reasons_distinguish_format_and_hedges_from_wrong(family):
    verify = get_verifier(family)
    row = generate_problems(family, 1, level=1, seed=4).to_pylist()[0]
    answer = row["answer"]
    assert verify(row, "I could not solve it.").reason == "no_answer"
    assert verify(row, "<answer>???</answer>").reason == "format"
    bad = answer_styles.encode(family, answer_styles.corrupt(family, row))
    assert verify(row, f"<answer>{bad}</answer>").reason in {"wrong", "format"}
    hedge = verify(row, f"<answer>{answer}</answer>\n\n\\boxed{{{bad}}}")
    assert (hedge.passed, hedge.reason) == (False, "ambiguous"), hedge


def test_bare_reference_answer_without_tags_passes():
    # the example: a sat reference with no tag used to be no_answer
    row = generate_problems("sat", 1, level=3, seed=0).to_pylist()[0]
    assert re.fullmatch(r"(x\d+=[01], )*x\d+=[01]", row["answer"])
    verdict = get_verifier("sat")(row, row["answer"])
    assert verdict.passed and verdict.detail["method"] == "whole"


def test_spec_is_read_from_json_text_and_mappings_alike():
    row = generate_problems("sudoku", 1, level=1, seed=0).to_pylist()[0]
    as_dict = {**row, "verifier_spec": json.loads(row["verifier_spec"])}
    assert get_verifier("sudoku")(as_dict, row["answer"]).passed


@pytest.mark.timeout(20)
def test_end_anchored_runs_are_found_in_linear_time_with_the_same_matches():
    """Regression: ``[ \\t]+$``-style searches restarted at every character of a long run
    that is not at the end (quadratic: ~1 s per 20,000-blank answer, minutes here)."""
    import random
    import re

    from tracemill.pipelines.verify import answers

    unanchored = {
        "_TRAILING_WS": re.compile(r"[ \t]+$", re.M),
        "_REMARK": re.compile(r"\s*\(([^()\n]{1,60})\)[.!]?$"),
        "_TRAILING_PUNCT": re.compile(r"[\s.!;,]+$"),
    }
    rng = random.Random(0)
    for _ in range(2000):
        text = "".join(rng.choice(" \t\n.!;,(a)1") for _ in range(rng.randint(0, 24)))
        for name, before in unanchored.items():
            now = getattr(answers, name)
            assert before.sub("#", text) == now.sub("#", text), (name, text)
            found = [m and (m.span(), m.groups()) for m in (before.search(text), now.search(text))]
            assert found[0] == found[1], (name, text)
    for name in unanchored:
        for run in (" ", "\t", ".", "\n"):
            assert getattr(answers, name).search("-9" + run * 200_000 + "?") is None
