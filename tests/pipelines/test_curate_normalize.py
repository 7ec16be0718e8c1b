import pytest
from tracemill.pipelines.curate import (
    NormalizeConfig,
    normalize_text,
    normalize_texts,
    number_signature,
)
from tracemill.pipelines.curate.normalize import ngrams, word_tokens


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Find x + y = 3.", "find  x+y=3."),  # case, whitespace, spaces around operators
        ("ＡＢＣ\u00a0def", "abc def"),  # NFKC: full-width letters, no-break space
        (r"\left( x \right)", "(x)"),  # sizing commands
        (r"\frac {1} {2}", r"\frac{1}{2}"),
        (r"a\,b\;c\ d\quad e", "a b c d e"),  # spacing commands
        (r"\dfrac{1}{2}", r"\frac{1}{2}"),
        (r"$$x$$", "$x$"),
        (r"\(x\)", "$x$"),
        (r"\left. f \right|_0", "f|_0"),
        ("tab\tand\nnewline ", "tab and newline"),
    ],
)
def test_equal_after_normalization(a: str, b: str) -> None:
    assert normalize_text(a) == normalize_text(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("What is 2+2?", "What is 2+3?"),  # numbers matter by default
        ("x = 1", "x = 1!"),  # punctuation is kept
        (r"\leftarrow", "arrow"),  # only \left before a delimiter is dropped
        ("ab c", "abc"),  # spaces between words are kept
    ],
)
def test_different_after_normalization(a: str, b: str) -> None:
    assert normalize_text(a) != normalize_text(b)


def test_options() -> None:
    assert normalize_text("Area 12 of X", NormalizeConfig(strip_digits=True)) == "area of x"
    assert normalize_text("Area X", NormalizeConfig(case=True)) == "Area X"
    assert normalize_text(r"\left(x\right)", NormalizeConfig(latex=False)) == r"\left(x\right)"


def test_vectorized_matches_scalar_and_keeps_nulls() -> None:
    texts = ["A  b", None, "Ｃ"]
    assert normalize_texts(texts).to_pylist() == ["a b", None, "c"]


def test_word_tokens_and_ngrams() -> None:
    assert word_tokens([r"Let $x^2 = \frac{1}{4}$."]) == [["let", "x", "2", "frac", "1", "4"]]
    assert ngrams(["a", "b", "c"], 2) == {"a b", "b c"}
    assert ngrams(["a", "b"], 5) == {"a b"}  # short text: one n-gram of all of it
    assert ngrams([], 3) == set()
    assert ngrams("abcd", 3) == {"abc", "bcd"}


def test_number_signature() -> None:
    assert number_signature("Add 12 and 3.5, then 012") == "12,12,3.5"
    assert number_signature("then 012 and 3.5 add 12") == number_signature("Add 12 and 3.5, 012")
    assert number_signature("no numbers") == ""
    # regression: a sign change is a different problem (quickstart merged these)
    assert number_signature("Solve $x^2 - 6x + 3 = 0$.") != number_signature(
        "Solve $x^2 - 6x - 3 = 0$."
    )
