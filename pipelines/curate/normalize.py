r"""Text normalization for curation: exact-dedup keys, word tokens and number signatures.

Exact dedup compares questions after :func:`normalize_texts`, which applies, in order:

1. Unicode **NFKC** (full-width letters, ligatures, non-breaking spaces and the like
   become their plain forms).
2. **LaTeX spacing and sizing** is dropped: ``\left`` / ``\right`` (and ``\bigl`` …
   ``\Biggr``) before a delimiter, the null delimiters ``\left.`` / ``\right.``,
   ``\displaystyle``; spacing commands ``\,`` ``\;`` ``\:`` ``\!`` ``\ `` ``~`` ``\quad``
   ``\qquad`` become a space; ``\dfrac`` / ``\tfrac`` become ``\frac``; math delimiters
   ``\( \) \[ \] $$`` become ``$``.
3. **Case** is folded to lower case (``case=False`` keeps it).
4. **Digits** are removed when ``strip_digits`` is set (Light-R1's digit-stripped
   matching; off by default because problems that differ only in their numbers are
   different problems).
5. **Whitespace**: runs of white space become one space; spaces next to punctuation or
   symbols are removed (``x + y = 3`` equals ``x+y=3``, ``\frac {1} {2}`` equals
   ``\frac{1}{2}``); the ends are trimmed.

Word tokens (near dedup, decontamination) are the maximal runs of letters and digits of
the NFKC, lower-cased text: punctuation and LaTeX markup separate words and are not
words themselves (``\frac`` gives the word ``frac``).

The **number signature** of a text is the sorted list of its numeric literals (``12``,
``3.5``; leading zeros dropped). Near and semantic dedup use it as a guard: two problems
whose signatures differ are never merged, whatever their similarity.

Everything runs vectorized over Arrow string arrays (RE2 regular expressions in Arrow
compute); the scalar helpers apply the same code to a one-element array.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

_WS = r"[\s\p{Z}\x{0B}\x{85}\x{1C}-\x{1F}]"
# rows whose white space needs rewriting: anything but single inner ASCII spaces
_WS_NEEDS_WORK = (
    r"[\t\n\f\r\x{0B}\x{85}\x{1C}-\x{1F}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}"
    r"\x{202F}\x{205F}\x{3000}]|  "
)
_PUNCT_SPACE = r" [^\p{L}\p{N} ]|[^\p{L}\p{N} ] "

# (pattern, replacement) pairs applied in order for the LaTeX step
_LATEX_RULES: tuple[tuple[str, str], ...] = (
    (r"\\(?:left|right|[bB]igg?[lr]?)\s*\.", ""),
    (r"\\(?:left|right|[bB]igg?[lr]?)([^a-zA-Z])", r"\1"),
    (r"\\displaystyle", ""),
    (r"\\[,;:! ]|~", " "),
    (r"\\(?:qquad|quad|thinspace|medspace|thickspace|enspace)([^a-zA-Z]|$)", r" \1"),
    (r"\\[dt]frac([^a-zA-Z])", r"\\frac\1"),
    (r"\$\$|\\\(|\\\)|\\\[|\\\]", "$"),
)
_NUMBER = re.compile(r"([-+*/^=<>])?\s*(\d+(?:\.\d+)?)")


@dataclass(frozen=True)
class NormalizeConfig:
    """Knobs of the exact-dedup normalization (see the module docstring)."""

    case: bool = False
    """Keep case (False: fold to lower case)."""
    latex: bool = True
    """Drop LaTeX spacing and sizing commands."""
    strip_digits: bool = False
    """Remove every digit (Light-R1 style); off by default."""

    def params(self) -> dict[str, object]:
        """The parameters as a JSON-able dict (part of a dedup config id)."""
        return {"case": self.case, "latex": self.latex, "strip_digits": self.strip_digits}


def _replace(
    texts: pa.Array | pa.ChunkedArray, pattern: str, replacement: str, trigger: str
) -> pa.Array | pa.ChunkedArray:
    """Regex replace, run only on the rows matching ``trigger`` (matching is much cheaper)."""
    texts = texts.combine_chunks() if isinstance(texts, pa.ChunkedArray) else texts
    mask = pc.fill_null(pc.match_substring_regex(texts, pattern=trigger), False)
    if not pc.any(mask).as_py():
        return texts
    fixed = pc.replace_substring_regex(texts.filter(mask), pattern=pattern, replacement=replacement)
    return pc.replace_with_mask(texts, mask, fixed)


def _lower(texts: pa.Array | pa.ChunkedArray) -> pa.Array:
    # Python's str.lower: Arrow's utf8_lower was seen to leave the first characters
    # unchanged on its first call in a process (pyarrow 26), and keys must be exact.
    return pa.array([None if t is None else t.lower() for t in texts.to_pylist()], pa.string())


def _as_array(texts: pa.Array | pa.ChunkedArray | list[str]) -> pa.Array | pa.ChunkedArray:
    return pa.array(texts, pa.string()) if isinstance(texts, list) else texts


def normalize_texts(
    texts: pa.Array | pa.ChunkedArray | list[str], config: NormalizeConfig | None = None
) -> pa.Array | pa.ChunkedArray:
    """Normalize questions for exact dedup (vectorized; rules in the module docstring)."""
    cfg = config or NormalizeConfig()
    out = pc.utf8_normalize(_as_array(texts), form="NFKC")
    if cfg.latex:
        for pattern, replacement in _LATEX_RULES:
            out = _replace(out, pattern, replacement, r"[\\~$]")
    if not cfg.case:
        out = _lower(out)
    if cfg.strip_digits:
        out = pc.replace_substring_regex(out, pattern=r"[0-9]+", replacement="")
    out = _replace(out, _WS + "+", " ", _WS_NEEDS_WORK)
    out = _replace(out, r" ?([^\p{L}\p{N} ]) ?", r"\1", _PUNCT_SPACE)
    return pc.utf8_trim(out, characters=" ")


def normalize_text(text: str, config: NormalizeConfig | None = None) -> str:
    """Scalar form of :func:`normalize_texts`."""
    return normalize_texts([text], config)[0].as_py()


def word_tokens(texts: pa.Array | pa.ChunkedArray | list[str]) -> list[list[str]]:
    """Lower-cased word tokens (runs of letters and digits) of each text."""
    prepared = _lower(pc.utf8_normalize(_as_array(texts), form="NFKC"))
    split = pc.split_pattern_regex(prepared, pattern=r"[^\p{L}\p{N}]+")
    return [[w for w in words if w] for words in split.to_pylist()]


def char_texts(
    texts: pa.Array | pa.ChunkedArray | list[str], config: NormalizeConfig | None = None
) -> list[str]:
    """Texts prepared for character n-grams: the exact-dedup normalization."""
    return normalize_texts(texts, config).to_pylist()


def ngrams(tokens: list[str] | str, n: int, *, joiner: str = " ") -> set[str]:
    """The set of n-grams of a token list (or the characters of a string).

    A text shorter than ``n`` gives one n-gram of all of it (none when empty), so short
    texts still take part.
    """
    if not tokens:
        return set()
    if len(tokens) <= n:
        return {joiner.join(tokens) if isinstance(tokens, list) else tokens}
    if isinstance(tokens, str):
        return {tokens[i : i + n] for i in range(len(tokens) - n + 1)}
    return {joiner.join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}


def number_signature(text: str) -> str:
    """The sorted numeric literals of ``text``, each with the operator before it.

    Leading zeros are dropped; an operator (``+ - * / ^ = < >``) directly before a
    number is kept with it, so ``x^2 - 6x + 3`` and ``x^2 - 6x - 3`` differ while word
    problems listing the same numbers in another order still match.
    """
    import unicodedata

    found = _NUMBER.findall(unicodedata.normalize("NFKC", text))
    cleaned = sorted(op + (num.lstrip("0") or "0") for op, num in found)
    return ",".join(cleaned)


def number_signatures(texts: pa.Array | pa.ChunkedArray | list[str]) -> list[str]:
    """:func:`number_signature` of every text."""
    values = texts if isinstance(texts, list) else texts.to_pylist()
    return [number_signature(t or "") for t in values]
