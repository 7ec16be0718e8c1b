r"""Matching texts and number profiles: what near and semantic dedup compare.

Near and semantic dedup do not compare raw questions but their **matching texts**
(:func:`matching_texts`), built in this order:

1. **Folding**: Unicode NFKC, lower case, LaTeX spacing and sizing commands dropped (the
   exact-dedup rules of :mod:`~tracemill.pipelines.curate.normalize`), math delimiters
   (``$``, ``\(``, ``\[``), Markdown emphasis and heading marks (``*``, ``#``, backticks)
   and ``\text{…}`` wrappers removed, runs of white space collapsed. A capitalized
   instruction word right after a lower-case word ("… metres Show your work") starts a
   new segment, as if a full stop stood before it.
2. **Boilerplate**: instruction segments at either end are stripped, repeatedly (at most
   :attr:`MatchConfig.max_segments` per end). A segment is a leading or trailing sentence
   (ending in ``.``, ``!``, ``?`` or ``:`` before white space, or a line). It is stripped
   when it holds no digit, has at most 30 words, and is

   * a **label** (``Question:``, ``Problem 3.``, ``Q:``, ``Exercise 2)``, ``Answer:`` …;
     a label's own number goes with it), or
   * an **instruction**: at least :attr:`MatchConfig.instruction_share` of its words
     belong to :data:`INSTRUCTION_WORDS` (solve, following, problem, show, your, work,
     step, final, answer, boxed, please, …), e.g. "Solve the following problem.",
     "Show your work.", "Please reason step by step, and put your final answer within
     \boxed{}.", or
   * a **recurring instruction**: the same segment opens (or closes) at least
     :attr:`MatchConfig.recurring_min` problems of the same source, and at least
     :attr:`MatchConfig.recurring_share` of its words are instruction words.

   Task sentences stay: "Differentiate the following function." has two instruction
   words in four, so it is never stripped. Nothing is stripped when less than three
   letters or digits would remain.

The **number profile** of a matching text drives the number guard
(:func:`number_profiles`). Numbers are the numeric literals of
:func:`~tracemill.pipelines.curate.normalize.number_signature` (each with the operator
directly before it, leading zeros dropped). Three keys per text:

* ``multiset`` — the sorted numbers (equal to ``number_signature``);
* ``ordered`` — the numbers in order of appearance;
* ``roles`` — every clause's numbers in order, each clause keyed by its words (a
  clause ends at ``;``, ``!``, ``?``, a line break or a full stop), the clauses sorted.
  Moving whole clauses keeps it; moving a number to another place (another clause, or
  another position in its clause) changes it.

Two problems may merge only when their multisets are equal **and** their ordered
sequences or their roles are equal. So "3 h at 12 km/h" and "12 h at 3 km/h" never merge
(same numbers, other order, other roles), while a copy whose clauses were reordered
still can. Equal non-empty ordered sequences are the strongest evidence; semantic dedup
gives such pairs a looser threshold (:class:`~tracemill.pipelines.curate.semantic.SemanticConfig`).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from tracemill.pipelines.curate.normalize import _LATEX_RULES, _replace

MATCH_VERSION = "match-1"
"""Bumped whenever the matching text or number profiles change (part of config ids)."""

INSTRUCTION_WORDS = frozenset(
    """
    a above all an and answer answers are as assistant at be below best box boxed boxes
    briefly by can carefully choice choose clearly complete concise concisely consider
    correct detail detailed do each end exercise exercises explain final first following
    for format from give given help helpful here i in include is it just justify latex
    let let's lets make math mathematical maths me multiple must now of on only option
    options or out output please problem problems provide put question questions read
    reason reasoning respond response return select should show solution solutions solve
    state step steps sure task the then think this thoroughly to us use using we with
    within work working write you your
    """.split()
)
"""Words of generic instructions (they do not change what a problem asks)."""

_LABEL = re.compile(
    r"^(?:question|problem|exercise|task|query|prompt|input|instruction|example|q|answer"
    r"|solution|a)s?(?:\s*(?:\d+|[ivx]+))?(?:\s*\(\w+\))?\s*[:.)\-]*$"
)
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?")
_HEAD = re.compile(r"\s*([^\n]*?(?:[.!?:]+(?=\s)|\n|$))")
_DIGIT = re.compile(r"\d")
_STARTERS = (
    "Show|Please|Put|Give|Provide|Write|Explain|Justify|Think|Answer|Solve|Return|Express"
    "|Enter|Round|Remember|Note|Respond|Output|Format|Present|State|Select|Choose|Read"
    "|Consider|Here|You|Make|Box|Let's|Reason"
)
_FOLD_RULES: tuple[tuple[str, str, str], ...] = (
    # (pattern, replacement, trigger)
    (r"\\(?:text|textbf|textit|mathrm|mathbf|emph|operatorname)\s*\{([^{}]*)\}", r"\1", r"\\"),
    (r"\$|\\\(|\\\)|\\\[|\\\]|`+|\*+|(?m:^\s*#+)|(?:^|\s)_{2,}|_{2,}(?:\s|$)", " ", r"[$\\`*#_]"),
    (r"[ \t\x0b\x0c\r\xa0]+", " ", r"[ \t\x0b\x0c\r\xa0]"),
    (r" ?\n[\n ]*", "\n", r"\n"),
    # an instruction glued to a sentence without punctuation ("… metres Show your work")
    (r"([\p{Ll}\d)\]}]) (" + _STARTERS + r")\b", "\\1\n\\2", r" (?:" + _STARTERS + r")\b"),
)
_NUMBER_ROLE = re.compile(r"(?=[-+*/^=<>\s\d])([-+*/^=<>])?\s*(\d+(?:\.\d+)?)")
_CLAUSE = re.compile(r"[;!?\n]|\.(?!\d)")


@dataclass(frozen=True)
class MatchConfig:
    """How matching texts are built (see the module docstring)."""

    boilerplate: bool = True
    """Strip instruction segments at either end."""
    instruction_share: float = 0.75
    """Share of instruction words that makes a segment an instruction."""
    recurring_share: float = 0.6
    """The same for a segment that recurs within a source."""
    recurring_min: int = 3
    """Problems of one source a segment must open (or close) to recur."""
    max_segments: int = 3
    """Segments stripped at most per end."""
    max_words: int = 30
    """Longer segments are never boilerplate."""

    def __post_init__(self) -> None:
        for name in ("instruction_share", "recurring_share"):
            value = getattr(self, name)
            if not 0.0 < value <= 1.0:
                raise ValueError(f"{name} must be in (0, 1], got {value}")
        if self.recurring_min < 2:
            raise ValueError(f"recurring_min must be at least 2, got {self.recurring_min}")

    def params(self) -> dict[str, object]:
        """JSON-able parameters (part of the near and semantic config ids)."""
        if not self.boilerplate:
            return {"version": MATCH_VERSION, "boilerplate": False}
        return {
            "version": MATCH_VERSION,
            "boilerplate": True,
            "instruction_share": self.instruction_share,
            "recurring_share": self.recurring_share,
            "recurring_min": self.recurring_min,
            "max_segments": self.max_segments,
        }


def fold_texts(texts: pa.Array | pa.ChunkedArray | list[str]) -> list[str]:
    """Step 1 of the matching text: NFKC, lower case, markup removed (lines kept)."""
    arr = pa.array(texts, pa.string()) if isinstance(texts, list) else texts
    arr = pc.fill_null(arr, "")
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    out = pc.utf8_normalize(arr, form="NFKC")
    for pattern, replacement in _LATEX_RULES:
        out = _replace(out, pattern, replacement, r"[\\~$]")
    for pattern, replacement, trigger in _FOLD_RULES:
        out = _replace(out, pattern, replacement, trigger)
    # Python's lower (see normalize._lower); strip each text's ends
    return [t.lower().strip() for t in out.to_pylist()]


def _words(segment: str) -> list[str]:
    return _WORD.findall(segment)


class _Classifier:
    """Decides whether a segment is boilerplate (memoized: boilerplate repeats)."""

    def __init__(self, cfg: MatchConfig, recurring: set[tuple[str, str]]) -> None:
        self.cfg = cfg
        self.recurring = recurring
        self._memo: dict[tuple[str, str], bool] = {}

    def __call__(self, source: str, segment: str) -> bool:
        key = (source, segment)
        hit = self._memo.get(key)
        if hit is None:
            hit = self._decide(source, segment)
            if len(self._memo) < 1_000_000:
                self._memo[key] = hit
        return hit

    def _decide(self, source: str, segment: str) -> bool:
        text = segment.strip(" \n")
        if not text:
            return True
        if _LABEL.match(text):
            return True
        if _DIGIT.search(text):
            return False
        words = _words(text)
        if not words or len(words) > self.cfg.max_words:
            return not words
        share = sum(w in INSTRUCTION_WORDS for w in words) / len(words)
        if share >= self.cfg.instruction_share:
            return True
        return share >= self.cfg.recurring_share and (source, text) in self.recurring


def _head(text: str) -> tuple[str, str]:
    """The first segment of ``text`` and the rest."""
    m = _HEAD.match(text)
    if m is None or not m.group(1):
        return text, ""
    return m.group(1), text[m.end() :]


_BOUNDARIES = (". ", "! ", "? ", ": ", "\n")


def _tail(text: str) -> tuple[str, str]:
    """The rest of ``text`` and its last segment (white space is folded already)."""
    body = text.rstrip()
    end = max(len(body) - 1, 0)
    # the last boundary (".", "!", "?" or ":" before white space, or a line break) before
    # the final character
    last = -1
    for b in _BOUNDARIES:
        at = body.rfind(b, 0, end)
        if at >= 0:
            last = max(last, at + len(b))
    if last < 0:
        return "", text
    return text[:last], text[last:]


_THREE = re.compile(r"[^\W_](?:.*?[^\W_]){2}", re.S)


def _content(text: str) -> bool:
    """At least three letters or digits."""
    return _THREE.search(text) is not None


def _strip(text: str, source: str, is_boilerplate: Callable[[str, str], bool], most: int) -> str:
    for _ in range(most):
        head, rest = _head(text)
        if not rest or not is_boilerplate(source, head) or not _content(rest):
            break
        text = rest.lstrip()
    for _ in range(most):
        rest, tail = _tail(text)
        if not rest or not is_boilerplate(source, tail) or not _content(rest):
            break
        text = rest.rstrip()
    return text


def _recurring(
    folded: Sequence[str], sources: Sequence[str], cfg: MatchConfig
) -> set[tuple[str, str]]:
    """``(source, segment)`` pairs that open or close at least ``recurring_min`` texts."""
    counts: Counter[tuple[str, str]] = Counter()
    for text, source in zip(folded, sources, strict=True):
        head, rest = _head(text)
        if rest:
            counts[(source, head.strip(" \n"))] += 1
            _, tail = _tail(text)
            counts[(source, tail.strip(" \n"))] += 1
    return {key for key, n in counts.items() if n >= cfg.recurring_min and key[1]}


def matching_texts(
    texts: pa.Array | pa.ChunkedArray | list[str],
    sources: pa.Array | pa.ChunkedArray | list[str] | None = None,
    config: MatchConfig | None = None,
) -> list[str]:
    """The matching text of every question (``sources``: recurrence is per source)."""
    cfg = config or MatchConfig()
    folded = fold_texts(texts)
    if not cfg.boilerplate:
        return [" ".join(t.split()) for t in folded]
    if sources is None:
        src: list[str] = [""] * len(folded)
    else:
        src = [s or "" for s in (sources if isinstance(sources, list) else sources.to_pylist())]
    classify = _Classifier(cfg, _recurring(folded, src, cfg))
    out = []
    for text, source in zip(folded, src, strict=True):
        out.append(" ".join(_strip(text, source, classify, cfg.max_segments).split()))
    return out


def _clause_key(clause: str, numbers: list[str]) -> str:
    words = " ".join(w for w in _WORD.findall(clause) if not w.isdigit())
    digest = hashlib.blake2b(words.encode("utf-8"), digest_size=6).hexdigest()
    return f"{digest}:{'|'.join(numbers)}"


def _number(num: str) -> str:
    return num.lstrip("0") or "0"


def number_profile(text: str) -> tuple[str, str, str]:
    """``(multiset, ordered, roles)`` of a matching text (see the module docstring)."""
    numbers = [op + _number(num) for op, num in _NUMBER_ROLE.findall(text)]
    return ",".join(sorted(numbers)), ",".join(numbers), _roles(text)


@dataclass(frozen=True)
class NumberProfiles:
    """Integer codes of the three number keys of many texts (equal keys, equal codes)."""

    multiset: np.ndarray
    ordered: np.ndarray
    roles: np.ndarray
    has_numbers: np.ndarray
    """True where the text holds at least one number."""

    def __len__(self) -> int:
        return len(self.multiset)

    def take(self, rows: np.ndarray) -> NumberProfiles:
        """The profiles of ``rows``."""
        return NumberProfiles(
            self.multiset[rows], self.ordered[rows], self.roles[rows], self.has_numbers[rows]
        )

    def allowed(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Whether pairs ``(i, j)`` may merge: same numbers, same order or same roles."""
        same = self.multiset[i] == self.multiset[j]
        return same & ((self.ordered[i] == self.ordered[j]) | (self.roles[i] == self.roles[j]))

    def same_order(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Pairs with the same non-empty ordered numbers (the strongest evidence)."""
        return (self.ordered[i] == self.ordered[j]) & self.has_numbers[i]


def _codes(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    return pc.dictionary_encode(values).indices.to_numpy(zero_copy_only=False).astype(np.int64)


PROFILE_COLUMNS = ("numbers_multiset", "numbers_ordered", "numbers_roles")
"""Columns holding the three number keys (see :func:`number_profile_columns`)."""


def _roles(text: str) -> str:
    clauses = []
    for clause in _CLAUSE.split(text):
        found = _NUMBER_ROLE.findall(clause)
        if found:
            clauses.append(_clause_key(clause, [op + _number(num) for op, num in found]))
    return ";".join(sorted(clauses))


def number_profile_columns(texts: Sequence[str]) -> dict[str, pa.Array]:
    """The three number keys of matching texts, as string columns.

    ``multiset`` and ``ordered`` come from the whole text; ``roles`` only matter between
    texts with the same multiset, so they are computed only for those (others get "").
    """
    multiset: list[str] = []
    ordered: list[str] = []
    for text in texts:
        if not _DIGIT.search(text):
            multiset.append("")
            ordered.append("")
            continue
        numbers = [op + _number(num) for op, num in _NUMBER_ROLE.findall(text)]
        multiset.append(",".join(sorted(numbers)))
        ordered.append(",".join(numbers))
    counts = Counter(multiset)
    roles = [
        _roles(text) if m and counts[m] > 1 else ""
        for text, m in zip(texts, multiset, strict=True)
    ]
    return {
        name: pa.array(values, pa.string())
        for name, values in zip(PROFILE_COLUMNS, (multiset, ordered, roles), strict=True)
    }


def profiles_of(columns: dict[str, pa.Array] | pa.Table) -> NumberProfiles:
    """:class:`NumberProfiles` from the key columns of :func:`number_profile_columns`."""
    multiset, ordered, roles = (columns[name] for name in PROFILE_COLUMNS)
    if isinstance(multiset, pa.ChunkedArray):
        multiset = multiset.combine_chunks()
    has = pc.greater(pc.utf8_length(multiset), 0).to_numpy(zero_copy_only=False)
    return NumberProfiles(
        _codes(multiset), _codes(ordered), _codes(roles), np.asarray(has, dtype=bool)
    )


def number_profiles(texts: Sequence[str]) -> NumberProfiles:
    """:class:`NumberProfiles` of matching texts."""
    return profiles_of(number_profile_columns(texts))


def unguarded(n: int) -> NumberProfiles:
    """Profiles that let every pair merge (the number guard off)."""
    zeros = np.zeros(n, dtype=np.int64)
    return NumberProfiles(zeros, zeros, zeros, np.zeros(n, dtype=bool))


__all__ = [
    "INSTRUCTION_WORDS",
    "MATCH_VERSION",
    "MatchConfig",
    "PROFILE_COLUMNS",
    "NumberProfiles",
    "fold_texts",
    "matching_texts",
    "number_profile",
    "number_profile_columns",
    "number_profiles",
    "profiles_of",
    "unguarded",
]
