"""Matching texts (folding, instruction boilerplate) and number profiles."""

import numpy as np
import pyarrow as pa
import pytest
from tracemill.pipelines.curate import MatchConfig, matching_texts, number_profile, number_profiles
from tracemill.pipelines.curate.normalize import number_signature

BODY = "A train goes 3 h at 12 km/h. How far does it go?"


@pytest.mark.parametrize(
    "wrapped",
    [
        "Question: " + BODY,
        "Solve the following problem. " + BODY,
        BODY + " Show your work.",
        "Solve the following problem. " + BODY + " Show your work.",
        "**Problem 4.**\n" + BODY,
        "Q: " + BODY + "\nA:",
        "Question 7: " + BODY + "\nAnswer:",
        "Please reason step by step, and put your final answer within \\boxed{}.\n" + BODY,
        "### Task\n" + BODY + "\n### Response",
        "You are a helpful assistant. Solve this: " + BODY,
        BODY.upper(),
        "  " + BODY.replace(" ", "   ") + "\n",
        "A train goes $3$ h at $12$ km/h.\nHow far does it go?",
    ],
)
def test_boilerplate_case_and_markup_fold_away(wrapped: str) -> None:
    assert matching_texts([wrapped]) == matching_texts([BODY]) == [BODY.lower()]


def test_task_sentences_and_numbered_instructions_stay() -> None:
    texts = [
        "Differentiate the following function. f(x) = x^2 sin x",
        "Round to 2 decimal places. What is pi?",  # a digit: never boilerplate
        "Solve the following problem.",  # nothing would remain: kept
        "Find x if 2x + 3 = 7.",
    ]
    assert matching_texts(texts) == [
        "differentiate the following function. f(x) = x^2 sin x",
        "round to 2 decimal places. what is pi?",
        "solve the following problem.",
        "find x if 2x + 3 = 7.",
    ]
    assert matching_texts(texts, config=MatchConfig(boilerplate=False))[0] == texts[0].lower()


def test_recurring_segments_are_stripped_per_source() -> None:
    # "kindly read this item now." is not instruction enough on its own (3 of 5 words),
    # but it opens three problems of source "w": there it is boilerplate
    lead = "Kindly read this item now. "
    bodies = [f"Compute {i} plus {i + 1} quickly." for i in range(3)]
    texts = [lead + b for b in bodies] + [lead + bodies[0]]
    sources = ["w", "w", "w", "other"]
    out = matching_texts(texts, sources)
    assert out[:3] == [b.lower() for b in bodies]
    assert out[3] == (lead + bodies[0]).lower().strip()  # one problem of its source
    assert matching_texts(pa.array(texts), pa.array(sources)) == out


def test_number_profiles_tell_swaps_from_reordered_clauses() -> None:
    texts = matching_texts(
        [
            "A train goes 3 h at 12 km/h. How far?",  # 0
            "A train goes 12 h at 3 km/h. How far?",  # 1: numbers swapped in a clause
            "Alice has 5 apples; Bob gives Alice 7 more apples. How many?",  # 2
            "Bob gives Alice 7 more apples; Alice has 5 apples. How many?",  # 3: clauses moved
            "Alice has 7 apples; Bob gives Alice 5 more apples. How many?",  # 4: swapped across
            "Alice owns 5 apples; Bob hands Alice 7 more apples. How many?",  # 5: reworded
            "A box is 12 cm long and 3 cm wide.",  # 6
            "A box is 3 cm long and 12 cm wide.",  # 7: swapped, same units
            "Prove the statement.",  # 8: no numbers
            "Explain the statement.",  # 9
        ]
    )
    p = number_profiles(texts)
    pairs = np.array([[0, 1], [2, 3], [2, 4], [2, 5], [6, 7], [8, 9], [3, 5]])
    allowed = p.allowed(pairs[:, 0], pairs[:, 1]).tolist()
    assert allowed == [False, True, False, True, False, True, False]
    # the same numbers in the same order: the strong evidence (never without numbers)
    assert p.same_order(pairs[:, 0], pairs[:, 1]).tolist() == [
        False, False, False, True, False, False, False,
    ]  # fmt: skip
    multiset, ordered, _ = number_profile(texts[0])
    assert multiset == number_signature(texts[0]) == "12,3" and ordered == "3,12"
    assert number_profile("x^2 - 6x + 3")[1] == "^2,-6,+3"


def test_empty_and_null_texts() -> None:
    assert matching_texts([]) == []
    assert matching_texts(pa.array([None, ""], pa.string())) == ["", ""]
    assert len(number_profiles([])) == 0
    with pytest.raises(ValueError, match="recurring_min"):
        MatchConfig(recurring_min=1)
