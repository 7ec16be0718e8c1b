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
compute); the scalar helpers apply the same code to a one-element array. Word texts and
number signatures of pure-ASCII texts (their own NFKC form) are computed on the bytes
with numpy instead, giving the same results as the regex paths that other texts take.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
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
# the lookahead only skips faster over places where no match can start
_NUMBER = re.compile(r"(?=[-+*/^=<>\s\d])([-+*/^=<>])?\s*(\d+(?:\.\d+)?)")


_OPERATOR = np.zeros(256, dtype=bool)
_OPERATOR[list(b"-+*/^=<>")] = True


def _ascii_digit(data: np.ndarray) -> np.ndarray:
    return (data - np.uint8(48)) < 10  # uint8 wraps below "0"


def _ascii_alnum(data: np.ndarray) -> np.ndarray:
    return _ascii_digit(data) | (((data | np.uint8(32)) - np.uint8(97)) < 26)


def _ascii_space(data: np.ndarray) -> np.ndarray:
    """The ASCII bytes Python's regex class for white space matches: 9-13, 28-31 and 32."""
    return ((data - np.uint8(9)) < 5) | ((data - np.uint8(28)) < 5)


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


def text_bytes(texts: pa.Array | pa.ChunkedArray | list[str]) -> tuple[np.ndarray, np.ndarray]:
    """UTF-8 bytes of all texts, one after another (null as empty), and ``len + 1`` offsets."""
    arr = pc.fill_null(_as_array(texts), "")
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    arr = arr.cast(pa.large_string())
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)
    offsets = offsets[arr.offset : arr.offset + len(arr) + 1]
    data = arr.buffers()[2]
    buf = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, np.uint8)
    return buf[offsets[0] : offsets[-1]], offsets - offsets[0]


def _separated(buf: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The texts with a NUL byte before each and at the end; and where each NUL is."""
    starts = offsets[:-1]
    out = np.append(np.insert(buf, starts, 0), np.uint8(0))
    return out, starts + np.arange(len(starts))


def _strings(data: np.ndarray, lengths: np.ndarray) -> pa.Array:
    """A string array of consecutive pieces of ``data`` (ASCII bytes)."""
    offsets = np.concatenate(([0], np.cumsum(lengths, dtype=np.int64)))
    buffers = [None, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(data))]
    return pa.Array.from_buffers(pa.large_string(), len(lengths), buffers).cast(pa.string())


def _by_ascii(
    texts: pa.Array | pa.ChunkedArray | list[str],
    fast: Callable[[pa.Array], pa.Array],
    slow: Callable[[pa.Array], pa.Array],
) -> pa.Array:
    """``fast`` on the pure-ASCII texts, ``slow`` on the others (null read as "")."""
    arr = pc.fill_null(_as_array(texts), "")
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    ascii_rows = pc.string_is_ascii(arr)
    if pc.all(ascii_rows).as_py() is not False:
        return fast(arr)
    other = pc.invert(ascii_rows)
    out = pc.replace_with_mask(arr, ascii_rows, fast(arr.filter(ascii_rows)))
    return pc.replace_with_mask(out, other, slow(arr.filter(other)))


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


def _regex_word_texts(texts: pa.Array) -> pa.Array:
    prepared = _lower(pc.utf8_normalize(texts, form="NFKC"))
    spaced = pc.replace_substring_regex(prepared, pattern=r"[^\p{L}\p{N}]+", replacement=" ")
    return pc.utf8_trim(spaced, characters=" ")


def _ascii_word_texts(texts: pa.Array) -> pa.Array:
    """:func:`word_texts` of ASCII texts, on their bytes: lower case, runs of [a-z0-9]."""
    if len(texts) == 0:
        return pa.array([], pa.string())
    data, nul = _separated(*text_bytes(texts))
    word = _ascii_alnum(data)
    # each gap between two words of one text becomes one space: keep its first byte
    gap = np.flatnonzero(word[:-1] & ~word[1:]) + 1
    # data starts and ends with a non-word byte: run k + 1 after a word ends at end k + 1
    gap_end = np.append(np.flatnonzero(~word[:-1] & word[1:]) + 1, len(data))[1:]
    bound = np.zeros(len(data), dtype=bool)
    bound[nul] = bound[-1] = True  # a text may hold NUL bytes too: mark the added ones
    walls = np.cumsum(bound, dtype=np.int64)  # text bounds so far
    inner = gap[walls[gap - 1] == walls[gap_end - 1]]
    keep = word.copy()
    keep[inner] = True
    out = data | np.uint8(32)  # lower case (digits keep their bit)
    out[inner] = 0x20
    return _strings(out[keep], np.add.reduceat(keep, nul, dtype=np.int64))


def word_texts(texts: pa.Array | pa.ChunkedArray | list[str]) -> pa.Array:
    """Each text's :func:`word_tokens` joined by single spaces (vectorized; null gives "")."""
    return _by_ascii(texts, _ascii_word_texts, _regex_word_texts)


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
    # NFKC leaves ASCII as it is
    found = _NUMBER.findall(text if text.isascii() else unicodedata.normalize("NFKC", text))
    cleaned = sorted(op + (num.lstrip("0") or "0") for op, num in found)
    return ",".join(cleaned)


def _scalar_number_signatures(texts: pa.Array) -> pa.Array:
    return pa.array([number_signature(t) for t in texts.to_pylist()], pa.string())


def _ascii_number_signatures(texts: pa.Array) -> pa.Array:
    """:func:`number_signature` of ASCII texts, on their bytes.

    The regex's leftmost matches, spelled out: a number is a run of digits, joined with
    the next run when exactly one ``.`` lies between them and it was not itself joined to
    the run before (``1.2.3.4`` is ``1.2`` and ``3.4``); its operator is the first byte
    before it that is not white space, when that byte is an operator.
    """
    data, nul = _separated(*text_bytes(texts))
    digit = _ascii_digit(data)
    run_start = np.flatnonzero(digit[1:] & ~digit[:-1]) + 1
    run_end = np.flatnonzero(digit[:-1] & ~digit[1:]) + 1
    joined = (data[run_end[:-1]] == ord(".")) & (run_start[1:] == run_end[:-1] + 1)
    chain = np.flatnonzero(np.concatenate(([True], ~joined)))
    runs = len(run_start)
    rank = np.arange(runs) - np.repeat(chain, np.diff(np.append(chain, runs)))
    head = np.flatnonzero(rank % 2 == 0)
    takes_next = np.append(joined, False)[head]
    start = run_start[head]
    end = np.where(takes_next, run_end[np.minimum(head + 1, runs - 1)], run_end[head])
    row = np.searchsorted(nul, start, side="right") - 1
    # the operator: the byte before the number, or before the white space right before it
    space = _ascii_space(data)
    space_run = np.flatnonzero(space[1:] & ~space[:-1]) + 1
    before = start - 1
    spaced = np.flatnonzero(space[before])
    before[spaced] = space_run[np.searchsorted(space_run, before[spaced], side="right") - 1] - 1
    has_op = _OPERATOR[data[before]]
    # leading zeros dropped ("007" is "7", "0.5" is ".5", "000" is "0")
    zero = data == ord("0")
    zero_end = np.flatnonzero(zero[:-1] & ~zero[1:]) + 1
    body = start.copy()
    padded = np.flatnonzero(zero[start])
    body[padded] = zero_end[np.searchsorted(zero_end, start[padded], side="right")]
    empty = body >= end
    data = np.append(data, np.uint8(ord("0")))  # the body of an all-zero number
    body = np.where(empty, len(data) - 1, body)
    body_len = np.where(empty, 1, end - body)
    size = has_op + body_len
    out_start = np.cumsum(size) - size
    out = np.empty(int(size.sum()), dtype=np.uint8)
    out[out_start[has_op]] = data[before[has_op]]
    which = np.repeat(np.arange(len(size)), body_len)
    within = np.arange(len(which)) - np.repeat(np.cumsum(body_len) - body_len, body_len)
    out[out_start[which] + has_op[which] + within] = data[body[which] + within]
    tokens = pa.table({"row": row, "token": _strings(out, size)})
    tokens = tokens.take(pc.sort_indices(tokens, [("row", "ascending"), ("token", "ascending")]))
    counts = np.bincount(row, minlength=len(texts))
    lists = pa.ListArray.from_arrays(
        pa.array(np.concatenate(([0], np.cumsum(counts))).astype(np.int32)),
        tokens.column("token").combine_chunks(),
    )
    return pc.binary_join(lists, ",")


def number_signatures(
    texts: pa.Array | pa.ChunkedArray | list[str], *, block_rows: int = 16_384
) -> list[str]:
    """:func:`number_signature` of every text (null read as ""; vectorized for ASCII)."""
    if isinstance(texts, list):
        return [number_signature(t or "") for t in texts]
    out: list[str] = []
    for start in range(0, len(texts), block_rows):
        part = texts.slice(start, block_rows)
        out += _by_ascii(part, _ascii_number_signatures, _scalar_number_signatures).to_pylist()
    return out
