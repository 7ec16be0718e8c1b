r"""Structured answers: find and read the answer of a response, whatever its layout.

Rule verifiers (the synthetic families, ``exact``/``normalized``/``choice``/``numeric``)
share this layer. A verifier supplies a strict *parser* (text → value, raising
``ValueError`` when the text is not an answer of its shape: a grid, an assignment, a list,
a number …); this module finds the places in a response where an answer can be, cleans
them (markdown, LaTeX, tables) and hands each to the parser. The parser never searches
prose: it is given small pieces and must reject anything that is not wholly an answer.

Where answers are looked for, in the *final part* of a response (after ``</think>``):

1. **explicit** regions: ``<answer>…</answer>`` (also a final ``<answer>`` whose closing
   tag was cut off by a stop string, and an ``answer>…</answer>`` that lost its ``<``),
   ``\boxed{…}``/``\fbox{…}`` (LaTeX ``array``, ``matrix`` and ``tabular`` inside them
   become lines), and cue lines — "Final answer:", "The answer is …", "**Answer**",
   "Solution:" — with the rest of their line or, when that is empty, the block that
   follows (lines — rows double-spaced or spaced by lines of blanks stay one block —, a
   code fence, a table, display math);
2. **implicit** pieces, used only when no explicit region reads: the whole final part,
   each code fence (prose around it is fine), markdown table (also without its header
   row when a ``|---|`` rule marks one, and without a column of row labels), display-math
   block, run of double-spaced rows and paragraph (with a lead-in line such as "Here is
   the grid:" or trailing sentences dropped), and, for short answers in prose, the last
   three lines, their bold spans, a lone quoted span and what follows their first
   "is"/"are"/":".

A piece that is a JSON or Python literal (``{"solution": {…}}``, ``((1,2),(2,1))``) is
also offered to the parser as plain lines (:func:`literal_lines`).

Parsers that accept nearly any text (free-form strings: ``exact``, ``normalized``) read
with ``loose=True``: tags decide when present, else boxes, else cue lines, else a final
part that is one short line.

Each region is first read whole; only when that fails are its pieces read. Values are
compared with ``==``: if the deciding tier holds two different values, the response
is **ambiguous** (a hedge such as ``\boxed{3} or \boxed{4}`` never passes), except for
values listed in ``ignore`` (the puzzle as shown in the question, which models often
restate) while another value is present. A parser raising :class:`AmbiguousAnswer`
(``x1=1 or 0``, "SAT or UNSAT", a contradictory assignment) makes an explicit region
ambiguous too, and so does a different answer stated *after* the explicit one ("Final
answer:" and a grid, then "(or possibly:)" and another grid).

The outcome is a :class:`Reading` whose ``status`` is ``ok``, ``no_answer`` (nothing that
looks like an answer), ``format`` (an answer region — a tag, box, cue, fence or table —
is there but does not read as an answer of the expected shape), ``too_long`` (a region
over :data:`MAX_REGION_CHARS`) or ``ambiguous``, with
``detail`` saying what was read, from where, and why it failed.

Everything is bounded: the final part is scanned over its last :data:`MAX_SCAN_CHARS`
characters (answers further back are never read, so they can neither pass nor hedge),
a region longer than :data:`MAX_REGION_CHARS` is refused as ``too_long`` (never cut to
a prefix, which could read as a different answer), a response with more than :data:`MAX_REGIONS`
answer regions or :data:`MAX_PIECES` pieces to try is ``format`` (never ``ok``), and
every scan is linear in the length of the text.
"""

from __future__ import annotations

import ast
import bisect
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from tracemill.pipelines.extract import boxed_spans, final_part

T = TypeVar("T")

MAX_SCAN_CHARS = 60_000
"""Only the last this many characters of a final part are searched for implicit pieces."""
MAX_REGION_CHARS = 20_000
"""A region (tag, box, block) longer than this is refused as ``too_long``, not truncated."""
TOO_LONG = f"answer longer than {MAX_REGION_CHARS} characters"
MAX_PIECES = 2000
"""At most this many pieces are parsed per tier; a response needing more is ``format``
(never ``ok``: an answer hidden past the budget could be a hedge)."""
MAX_REGIONS = 256
"""A response with more explicit answer regions (tags, boxes, cues) is ``format``."""
DETAIL_CHARS = 2000
SHORT_FINAL_CHARS = 200
"""A final part of one line up to this long is itself a candidate of loose parsers."""


class AmbiguousAnswer(ValueError):
    """The text states more than one answer (a hedge or a contradiction)."""


@dataclass(frozen=True)
class Reading(Generic[T]):
    """What :func:`read_answer` found: a value, or why there is none."""

    status: str
    """``ok``, ``no_answer``, ``format``, ``too_long`` or ``ambiguous``."""
    value: T | None = None
    text: str | None = None
    """The cleaned text that was read (or the first region that failed to read)."""
    source: str | None = None
    """Where it came from: ``tag``, ``boxed``, ``cue``, ``whole``, ``fence``, ``table``,
    ``math``, ``block`` or ``tail``."""
    error: str | None = None
    alternatives: tuple[str, ...] = ()
    """For ``ambiguous``: the texts of the differing answers."""

    @property
    def ok(self) -> bool:
        """Whether a single answer was read."""
        return self.status == "ok"

    @property
    def detail(self) -> dict[str, Any]:
        """JSON-ready detail for a verdict.

        What was read (``extracted``), where from (``method``), any ``error`` and, when
        ambiguous, the differing ``candidates``.
        """
        out: dict[str, Any] = {"extracted": None if self.text is None else self.text[:DETAIL_CHARS]}
        if self.source:
            out["method"] = self.source
        if self.error:
            out["error"] = self.error[:500]
        if self.alternatives:
            out["candidates"] = [a[:300] for a in self.alternatives[:5]]
        return out


@dataclass(frozen=True)
class Region:
    """A place in the final part where an answer may be."""

    text: str
    source: str
    start: int
    end: int


# --------------------------------------------------------------------------- cleaning

_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff\ufe0e\ufe0f]")
_PICTOGRAPH = (
    "\U0001f0a0-\U0001f0ff\U0001f1e6-\U0001f1ff\U0001f300-\U0001f5ff\U0001f600-\U0001f64f"
    "\U0001f680-\U0001f6ff"
    "\U0001f900-\U0001f9ff\U0001fa70-\U0001faff"
)
_DECORATION = re.compile(
    "[\u2705\u2713\u2714\u2611]"
    f"|[{_PICTOGRAPH}][ \t]*(?=[A-Za-z]{{2}})|(?<=[A-Za-z]{{2}})([.!:)]?)[ \t]*[{_PICTOGRAPH}]"
)
"""Check marks, and pictographs next to a word (``🛡️ Knight``, ``Done 🎉``), decorate an
answer; crosses (``✗``, ``❌``) and symbols used as cells (``⬛``, ``🟩``, ``🌲``) are kept."""
_DASHES = str.maketrans({"\u2212": "-", "\u2013": "-", "\u2014": "-", "\u2011": "-"})
_HTML_BREAK = re.compile(r"<br\s*/?>", re.I)
_HTML_TAG = re.compile(
    r"</?(?:b|strong|i|em|code|span|p|div|u|pre|tt|sup|sub)\b[^<>]{0,200}>", re.I
)
_FENCE_LINE = re.compile(r"^[ \t]*(?:```|~~~)[^\n]*$", re.M)
_ENV = re.compile(
    r"\\(?:begin|end)\s*\{(?:array|[pbBvV]?matrix|smallmatrix|tabular\*?|aligned|align\*?|"
    r"gathered|gather\*?|cases|split|center|table|displaymath|equation\*?)\}"
    r"(?:\s*\{[^{}\n]{0,80}\})?"
)
_ROW_BREAK = re.compile(r"\\\\(?:\s*\[[^\]\n]{0,20}\])?")
_LATEX_RULES = re.compile(
    r"\\(?:hline|toprule|midrule|bottomrule|cline\s*\{[^{}]{0,20}\}|hdashline)"
)
_TEXT_CMD = re.compile(
    r"\\(?:text|textbf|textit|textrm|texttt|textsf|mathrm|mathbf|mathit|mathsf|mathtt|"
    r"mbox|operatorname|emph|underline|bm|boldsymbol|mathbb)\s*\{((?:[^{}\\]|\\.)*)\}"
)
_LATEX_WORDS = {
    r"\neg": "¬",
    r"\lnot": "¬",
    r"\land": "∧",
    r"\wedge": "∧",
    r"\lor": "∨",
    r"\vee": "∨",
    r"\rightarrow": "→",
    r"\Rightarrow": "→",
    r"\longrightarrow": "→",
    r"\mapsto": "→",
    r"\to": "→",
    r"\times": "×",
    r"\cdot": "·",
    r"\div": "÷",
    r"\ldots": "...",
    r"\cdots": "...",
    r"\dots": "...",
    r"\star": "*",
    r"\ast": "*",
    r"\bigstar": "*",
    r"\blacksquare": "■",
    r"\square": "□",
    r"\Box": "□",
    r"\bullet": "●",
    r"\circ": "○",
    r"\top": "True",
    r"\bot": "False",
    r"\geq": "≥",
    r"\leq": "≤",
    r"\ge": "≥",
    r"\le": "≤",
    r"\neq": "≠",
}
_LATEX_WORD = re.compile(
    "("
    + "|".join(re.escape(k) for k in sorted(_LATEX_WORDS, key=len, reverse=True))
    + r")(?![A-Za-z])"
)
_LATEX_SPACE = re.compile(r"\\(?:q?quad|[,;:! ]|enspace|thinspace|medspace|thickspace)")
_LATEX_DROP = re.compile(r"\\(?:left|right|big|Big|bigg|Bigg|displaystyle|textstyle)(?![A-Za-z])")
_LATEX_ESCAPED = re.compile(r"\\([#_{}%&$])")
_MATH_DELIM = re.compile(r"\$\$?|\\[()\[\]]")
_SUBSCRIPT = re.compile(r"([A-Za-z])_\{?(\d{1,4})\}?")
_HEADING = re.compile(r"^[ \t]*#{1,6}[ \t]+(?=[^\n]*[A-Za-z]{2})", re.M)
_QUOTE_LINE = re.compile(r"^[ \t]*>+[ \t]?(?=[^\n]*(?:[A-Za-z0-9#*■□⬛⬜●○★⭐]|\.[ \t]*\.))", re.M)
"""A quote marker before words, digits or cells (``> 4 2 1``, ``> . . .``); a line of
brackets and punctuation (``> ) ].``, a Dyck answer) keeps its ``>``."""
_BULLET = re.compile(r"^[ \t]*[-*+•·▪►][ \t]+(?=[^\n]*[A-Za-z]{2})", re.M)
_STRIKE = re.compile(r"~~[^~\n]{1,200}~~")
_BOLD = re.compile(r"(\*\*)(?=[^\s*])([^\n]*?)(?<=[^\s*])\*\*")
_ITALIC = re.compile(
    r"(?<![*\w])(\*)(?=[A-Za-z0-9]{2})([^*\n]{1,200}?)(?<=[A-Za-z0-9.:!?)])\*(?![*\w])"
)
_BACKTICK = re.compile(r"`+")
_ALNUM = re.compile(r"[A-Za-z0-9]")
_SEPARATOR_CHARS = frozenset(" \t:|-")
_ROW_LABEL_CELL = re.compile(r"\s*(?:(?:row|r|line)\s*)?\d{1,2}\s*[:.]?\s*", re.I)
_TABLE_EDGE = re.compile(r"^[ \t]*\|(.*?)\|?[ \t]*$", re.M)
_QUOTES = re.compile(r"[\"“”„«»]|(?<!\w)['‘’]|['‘’](?!\w)")
_BLANKS = re.compile(r"\n[ \t]*(?:\n[ \t]*)+")
_TRAILING_WS = re.compile(r"(?<![ \t])[ \t]+$", re.M)
"""Trailing blanks of each line. The look-behind starts a match only where a run of
blanks starts: unanchored, a search restarts at every blank of a long run that is not at
the end (quadratic; ~1 s for a 20,000-blank answer). ``_REMARK`` and ``_TRAILING_PUNCT``
are anchored the same way."""


def is_table_rule(line: str) -> bool:
    """A markdown table's separator row (``|---|:--:|``)."""
    return "|" in line and "--" in line and set(line) <= _SEPARATOR_CHARS


def _unbold(m: re.Match[str]) -> str:
    """Emphasis around letters or digits goes; ``**`` between cells (``* *``) stays."""
    inner = m.group(2)
    return inner if _ALNUM.search(inner) else m.group(0)


_CELL_NEIGHBOURS = frozenset(".#")


def _unitalic(m: re.Match[str]) -> str:
    """Italics go, except ``*`` cells in a row of cells (``.*TT*.``: two tents by trees)."""
    text, start, end = m.string, m.start(), m.end()
    before = text[start - 1] if start else ""
    after = text[end] if end < len(text) else ""
    beyond = text[end + 1] if end + 1 < len(text) else ""
    if before in _CELL_NEIGHBOURS or (after in _CELL_NEIGHBOURS and beyond not in ("", " ", "\n")):
        return m.group(0)
    return m.group(2)


def clean(text: str) -> str:
    r"""Plain answer text: markdown, HTML, LaTeX layout and quoting removed, lines kept.

    Unicode is NFKC-normalised (``x₁`` → ``x1``, full-width → ASCII); ``\\`` and ``&`` of
    LaTeX arrays become line breaks and `` | ``; ``\text{}``-like wrappers, math
    delimiters, ``\hline``, fences, bold/italics, headings, bullets, quotes and table
    rules go; struck-out text (``~~…~~``) is dropped. Cell symbols (``*``, ``#``, ``-``,
    ``_``, ``.``) survive: emphasis markers are only removed around letters or digits.
    """
    out = unicodedata.normalize("NFKC", text)
    out = (
        _DECORATION.sub(r"\1", _ZERO_WIDTH.sub("", out))
        .translate(_DASHES)
        .replace("\r\n", "\n")
        .replace("\r", "\n")
    )
    out = _HTML_BREAK.sub("\n", out)
    out = _HTML_TAG.sub("", out)
    out = _FENCE_LINE.sub("", out)
    for box in reversed(_boxes(out)):  # \boxed{…} → its content (escaped braces kept)
        out = out[: box.start] + " " + box.text + " " + out[box.end :]
    # LaTeX layout
    out = _ENV.sub("\n", out)
    out = _ROW_BREAK.sub("\n", out)
    out = _LATEX_RULES.sub("", out)
    for _ in range(4):  # nested \text{\textbf{..}}
        new = _TEXT_CMD.sub(r"\1", out)
        if new == out:
            break
        out = new
    out = _LATEX_WORD.sub(lambda m: _LATEX_WORDS[m.group(1)], out)
    out = _LATEX_SPACE.sub(" ", out)
    out = _LATEX_DROP.sub("", out)
    out = out.replace("&", " | ")
    out = _LATEX_ESCAPED.sub(r"\1", out)
    out = _MATH_DELIM.sub(" ", out)
    out = _SUBSCRIPT.sub(r"\1\2", out)
    # markdown
    out = _STRIKE.sub("", out)
    out = _QUOTE_LINE.sub("", out)
    out = _HEADING.sub("", out)
    out = _BULLET.sub("", out)
    for _ in range(2):
        out = _BOLD.sub(_unbold, out)
    out = _ITALIC.sub(_unitalic, out)
    out = _BACKTICK.sub("", out)
    out = "\n".join("" if is_table_rule(line) else line for line in out.split("\n"))
    out = _TABLE_EDGE.sub(lambda m: m.group(1).strip(), out)
    out = _QUOTES.sub("", out)
    out = _TRAILING_WS.sub("", out)
    out = _BLANKS.sub("\n\n", out)
    return "\n".join(line.strip() for line in out.split("\n")).strip()


# --------------------------------------------------------------------------- regions

_ANSWER_OPEN = re.compile(r"<answer>|^[ \t]*answer>", re.I | re.M)
"""An answer tag, or one whose ``<`` was lost at the start of a line (``answer>7</answer>``)."""
_ANSWER_CLOSE = re.compile(r"</answer>", re.I)
_FENCE = re.compile(r"^[ \t]*(```|~~~)[^\n]*\n(.*?)(?:^[ \t]*\1[ \t]*$|\Z)", re.M | re.S)
_DISPLAY_MARK = re.compile(r"\$\$|\\\[|\\\]|\\(begin|end)\{(array|[pbBvV]?matrix|tabular)\}")
_TABLE_LINE = re.compile(r"^[ \t]*\|?[^\n|]*\|[^\n]*$")
_CUE_WORDS = (
    r"(?:final|correct|complete|completed|filled|solved|full)\s+(?:answer|solution|grid|result|"
    r"assignment|board|configuration|arrangement|table|ordering|order|path|ladder|"
    r"colou?ring|sequence|list|mapping|square|sudoku|state)s?"
)
_CUE_PRE = r"[\s*_#>`$+•-]*"
_CUE_POST = r"(?:\*\*)?[ \t]*"
_CUE_START = re.compile(
    r"^"
    + _CUE_PRE
    + r"(?:(?:so|thus|therefore|hence|finally|overall|in summary|in conclusion|summary)\b[,:]?\s*)?"
    r"(?:the\s+|my\s+|our\s+|your\s+)?"
    r"(?:(?P<strong>" + _CUE_WORDS + r"|answers?)|(?P<weak>solutions?|results?))\b"
    r"(?:\*\*|\s)*(?:(?P<link>:|=|-|\bis\b|\bare\b)|$)" + _CUE_POST + r"(?P<rest>.*)$",
    re.I,
)
_CUE_INLINE = re.compile(
    r"\b(?:the\s+)?(?:"
    + _CUE_WORDS
    + r"|answer)(?:\*\*|\s)*(?::|\bis\b|\bare\b)"
    + _CUE_POST
    + r"(?P<rest>\S.*)$",
    re.I,
)
_CUE_KEYWORD = re.compile(r"(?i)answer|solution|result|final|complete|filled|solved|full")
_MARKUP_ONLY = re.compile(r"[\s*_`$]+")
_LINE_MARKUP = re.compile(r"[*_#>`]+|^\s*[-+•]\s+|\$")


def _boxes(text: str) -> list[Region]:
    r"""Top-level ``\boxed{…}``/``\fbox{…}`` regions (see :func:`..extract.boxed_spans`)."""
    return [Region(content, "boxed", start, end) for start, end, content in boxed_spans(text)]


def _tags(final: str) -> list[Region]:
    """``<answer>…</answer>`` regions, found in one pass.

    Each close pairs with the last open before it; a final open tag whose close was cut
    off by a stop string runs to the end. An open tag that lost its ``<`` (a line starting
    ``answer>``) counts only when a close follows it.
    """
    opens = [(m.start(), m.end()) for m in _ANSWER_OPEN.finditer(final)]
    ends = [end for _, end in opens]
    out: list[Region] = []
    done = 0  # text before this offset is already inside a region
    for close in _ANSWER_CLOSE.finditer(final):
        k = bisect.bisect_right(ends, close.start()) - 1
        if k >= 0 and ends[k] >= done:
            start, end = opens[k]
            out.append(Region(final[end : close.start()], "tag", start, close.end()))
            done = close.end()
    if opens and opens[-1][1] >= done and final[opens[-1][0] : opens[-1][1]].lstrip()[0] == "<":
        start, end = opens[-1]
        out.append(Region(final[end:], "tag", start, len(final)))
    return out


def _block_after(lines: list[str], starts: list[int], i: int) -> tuple[str, int, int] | None:
    """The block after line ``i``: a fence, a table, display math, or lines to a blank line."""
    j = i + 1
    while j < len(lines) and not lines[j].strip():
        j += 1
        if j - i > 3:
            return None
    if j >= len(lines):
        return None
    first = lines[j].strip()
    k = j + 1
    if first.startswith(("```", "~~~")):
        fence = first[:3]
        while k < len(lines) and not lines[k].strip().startswith(fence):
            k += 1
        end = min(k + 1, len(lines))
    elif first.startswith(("$$", "\\[", "\\begin")):
        closer = {"$$": "$$", "\\[": "\\]"}.get(first[:2], "\\end")
        if not (len(first) > 2 and closer in first[2:]):
            while k < len(lines) and closer not in lines[k]:
                k += 1
            k += 1
        end = min(k, len(lines))
    else:
        shape = row_shape(first)
        while k < len(lines):
            if lines[k].strip():
                k += 1
            elif (  # a row block double-spaced (or spaced by lines of blanks) goes on
                shape is not None
                and k + 1 < len(lines)
                and lines[k + 1].strip()
                and same_rows(shape, row_shape(lines[k + 1]))
            ):
                k += 2
            else:
                break
        end = k
    text = "\n".join(lines[j:end])
    return text, starts[j], starts[end - 1] + len(lines[end - 1])


_ROW_TOKENS = re.compile(r"[^\s,;|]+")
_PROSE_WORDS = re.compile(r"[A-Za-z]{3,}")


def same_rows(a: tuple[int, bool] | None, b: tuple[int, bool] | None) -> bool:
    """Whether two row shapes belong to one block.

    Rows of symbols only (a grid, whose rows may differ by signs between cells) do, and so
    do rows with words and as many cells.
    """
    if a is None or b is None:
        return False
    return (not a[1] and not b[1]) or a == b


def row_shape(line: str) -> tuple[int, bool] | None:
    """A line's shape as a row of cells: (cell count, holds words), None for prose.

    Rows of a grid or a table share one shape, so a blank line between two lines of the
    same shape separates rows of one block rather than two blocks.
    """
    plain = line.strip()
    if not plain or len(plain) > 300 or _is_sentence(plain):
        return None
    tokens = _ROW_TOKENS.findall(plain)
    if len(tokens) < 2:
        return None
    return len(tokens), bool(_PROSE_WORDS.search(plain))


def _cues(final: str) -> list[Region]:
    """Cue lines ("Final answer:", "The answer is …") and what they introduce.

    The rest of the cue's line is the region when it holds something; otherwise the block
    after the line is. "Solution"/"Result" cues count only with an answer on their line
    (as headings they usually introduce an explanation).
    """
    lines = final.split("\n")
    starts = []
    pos = 0
    for line in lines:
        starts.append(pos)
        pos += len(line) + 1
    out = []
    for i, line in enumerate(lines):
        if len(line) > 2000 or not _CUE_KEYWORD.search(line):
            continue
        m = _CUE_START.match(line)
        weak = bool(m and m.group("weak"))
        if m is None:
            m = _CUE_INLINE.search(line)
            if m is None:
                continue
        rest = m.group("rest").strip()
        if rest.endswith("**") and rest.count("**") % 2:  # "**Answer: 42**"
            rest = rest[:-2].rstrip()
        if _MARKUP_ONLY.sub("", rest) and not rest.rstrip("*").rstrip().endswith(":"):
            out.append(Region(rest, "cue", starts[i] + m.start("rest"), starts[i] + len(line)))
            continue
        if weak:
            continue
        block = _block_after(lines, starts, i)
        if block is not None:
            out.append(Region(block[0], "cue", starts[i], block[2]))
    return out


def explicit_regions(final: str) -> tuple[str, list[Region]]:
    """The window searched (a final part's last characters) and its answer regions.

    Regions are answer tags, boxes and cue regions, in order of position, with offsets
    into the window (the last :data:`MAX_SCAN_CHARS` characters of ``final``). Tags are
    found in the whole final part (one linear scan); boxes and cues inside a tag belong
    to it and are not regions of their own.
    """
    window = final[-MAX_SCAN_CHARS:]
    offset = len(final) - len(window)
    regions = [
        Region(r.text, r.source, max(r.start - offset, 0), r.end - offset)
        for r in _tags(final)
        if r.end > offset
    ]
    spans = [(r.start, r.end) for r in regions]
    for extra in [*_boxes(window), *_cues(window)]:
        if not any(a <= extra.start and extra.end <= b for a, b in spans):
            regions.append(extra)
    return window, sorted(regions, key=lambda r: (r.start, r.end))


# --------------------------------------------------------------------------- pieces

_PARAGRAPH_SPLIT = re.compile(r"\n[ \t]*\n")
_TAIL_LINK = re.compile(
    r"(?:(?:\bis\b|\bare\b|\bequals\b|\b(?:evaluates|simplifies|comes|amounts)\s+to\b|"
    r"\bgives\b|\byields\b|\bresults\s+in\b)\s*:?|:)(?:\*\*)?\s+",
    re.I,
)
_STANDALONE_NUMBER = re.compile(r"(?<![\w.])\d+(?![\w.])")
_END_PUNCT = re.compile(r"(?<=[A-Za-z0-9)\]}])[ \t]*[.!;,]+$")
"""A sentence's closing punctuation, also after math (``$x$.`` cleans to ``x .``)."""
_REMARK = re.compile(r"(?<!\s)\s*\(([^()\n]{1,60})\)[.!]?$")
_REMARK_WORD = re.compile(r"[A-Za-z]{3,}")
_REMARK_REFUSED = re.compile(
    r"(?i)\b(?:or|either|maybe|perhaps|possibly|actually|rather|instead|not|correction)\b"
)
_TRAILING_PUNCT = re.compile(r"(?<![\s.!;,])[\s.!;,]+$")
_LEAD_IN = re.compile(r"[:：][)\]]?\s*$")
_WORD3 = re.compile(r"[A-Za-z]{3,}")
_WORD2 = re.compile(r"[A-Za-z]{2,}")


def _tables(text: str) -> list[str]:
    """Markdown tables (runs of ``|`` lines) of a text, raw."""
    out, run = [], []
    for line in text.split("\n") + [""]:
        if _TABLE_LINE.match(line) and line.strip():
            run.append(line)
            continue
        if len(run) >= 2:
            out.append("\n".join(run))
        run = []
    return out


def table_variants(raw: str, cleaned: str) -> list[str]:
    """Readings of a markdown table without its header and/or its row-label column.

    The first row is dropped only when it is a header (a ``|---|`` rule follows it in
    ``raw``), the first column only when every one of its cells is a row label (``1``,
    ``Row 1``, ``**2**``), so an extra row or column is never silently skipped.
    """
    raw_lines = [line for line in raw.split("\n") if line.strip()]
    lines = [line for line in cleaned.split("\n") if line.strip()]
    if len(lines) < 2 or not all("|" in line for line in lines):
        return []
    header = len(raw_lines) > 1 and is_table_rule(raw_lines[1].strip())
    body = lines[1:] if header else lines
    out = ["\n".join(body)] if header else []
    if all(_ROW_LABEL_CELL.fullmatch(line.split("|", 1)[0]) for line in body):
        out.append("\n".join(line.split("|", 1)[1] for line in body))
    return out


def _display_blocks(text: str) -> list[str]:
    r"""Display math (``$$…$$``, ``\[…\]``, array/matrix/tabular environments), in one pass."""
    out: list[str] = []
    opened: tuple[str, int] | None = None  # (closing mark, start of content)
    for m in _DISPLAY_MARK.finditer(text):
        mark = m.group(0)
        if opened is None:
            if mark == "$$":
                opened = ("$$", m.end())
            elif mark == "\\[":
                opened = ("\\]", m.end())
            elif m.group(1) == "begin":
                opened = (f"\\end{{{m.group(2)}}}", m.start())
        elif mark == opened[0]:
            end = m.end() if mark.startswith("\\end") else m.start()
            if end - opened[1] <= MAX_REGION_CHARS:
                out.append(text[opened[1] : end])
            opened = None
    return out


def _spaced_rows(text: str) -> Iterator[str]:
    """Runs of same-shaped rows separated by blank lines (a double-spaced grid), joined.

    Only runs with at least one blank line inside are yielded (others are paragraphs).
    """
    run: list[str] = []
    shape: tuple[int, bool] | None = None
    gaps = blank = 0
    for line in [*text.split("\n"), "\x00"]:
        if not line.strip():
            blank += 1
            continue
        current = row_shape(line) if line != "\x00" else None
        if same_rows(current, shape) and blank <= 1:
            gaps += blank > 0
            run.append(line)
        else:
            if len(run) >= 2 and gaps:
                yield "\n".join(run)
            run, shape, gaps = ([line], current, 0) if current is not None else ([], None, 0)
        blank = 0


def _paragraphs(text: str) -> list[str]:
    return [p for p in _PARAGRAPH_SPLIT.split(text) if p.strip()]


def _without_lead_in(paragraph: str) -> str | None:
    """A paragraph without leading lines that introduce it.

    A line ending with ":" ("Here is the grid:"), a cue ("Final answer"), or a line of
    words above a row of symbols ("(or possibly)" above ``4 2 1 3``).
    """
    lines = paragraph.strip().split("\n")
    k = 0
    while k < len(lines) - 1 and k < 3:
        plain = _LINE_MARKUP.sub("", lines[k]).strip()
        words = _WORD3.search(plain)
        below = lines[k + 1]
        above_symbols = bool(words) and not _WORD2.search(below) and row_shape(below) is not None
        if _LEAD_IN.search(plain) or (words and _CUE_START.match(plain)) or above_symbols:
            k += 1
            continue
        break
    return "\n".join(lines[k:]) if k else None


def _is_sentence(line: str) -> bool:
    """A prose sentence: ends with . or ! and has at least three words of 3+ letters."""
    return line.rstrip().endswith((".", "!")) and len(_WORD3.findall(line)) >= 3


def _without_trailer(paragraph: str) -> str | None:
    """A paragraph without trailing sentences ("This satisfies every clue.")."""
    lines = paragraph.rstrip().split("\n")
    k = len(lines)
    while k > 1 and _is_sentence(lines[k - 1]):
        k -= 1
    return "\n".join(lines[:k]) if k < len(lines) else None


def _is_remark(inner: str) -> bool:
    """Whether a closing parenthesis comments on an answer ("(3 changes)").

    It must hold a word of 3+ letters, at most one number, and no alternative or
    correction, so "(or 43)" and "(row 9, col 9)" stay part of the answer.
    """
    return (
        bool(_REMARK_WORD.search(inner))
        and len(re.findall(r"\d+", inner)) <= 1
        and not _REMARK_REFUSED.search(inner)
    )


_QUOTED = re.compile(r'"([^"\n]{1,200})"|“([^”\n]{1,200})”')
_NEGATION = re.compile(r"(?i)\b(?:not|never|no longer|instead|rather|wrong|incorrect)\b|n't\b")


def _tails(line: str) -> list[str]:
    """Short answers inside one prose line ("The next term is **-58**.").

    Its bold spans, its one double-quoted span (when nothing in the line negates it, 'the
    answer is not "7"', and no number stands outside it, '"7" at first, then 9'), and what
    follows its first "is"/"are"/":" when the words before hold no number.
    """
    out = [m.group(2) for m in _BOLD.finditer(line)]
    quoted = list(_QUOTED.finditer(line))
    if len(quoted) == 1 and not _NEGATION.search(line):  # 'We need to add ") ]".'
        q = quoted[0]
        if not re.search(r"\d", line[: q.start()] + line[q.end() :]):  # no rival number
            out.append(q.group(1) or q.group(2))
    m = _TAIL_LINK.search(line)
    if m and not _STANDALONE_NUMBER.search(line[: m.start()]):
        tail = _TRAILING_PUNCT.sub("", line[m.end() :]).strip()
        if tail:
            out.append(tail)
    return out


_LITERAL_FENCE = re.compile(r"^\s*(?:```|~~~)[^\n]*\n(.*?)\n\s*(?:```|~~~)\s*$", re.S)
_ANSWER_KEYS = frozenset({"solution", "answer", "final_answer", "finalanswer", "result"})


def literal_lines(raw: str) -> str | None:
    """A JSON or Python literal answer (``{"x1": true}``, ``((1,2),(2,1))``) as plain lines.

    Dicts become ``key: value`` lines (a nested dict of values on one line), lists of
    lists become rows of cells, lists of tuples ``(a, b)`` pairs; an object holding an
    ``answer``/``solution``/``result`` key gives that value alone (ZebraLogic's
    ``{"reasoning": …, "solution": {…}}``), and so does an object of one key holding a
    list or an object (``{"grid": [[…]]}``). Anything deeper or not a literal is None.
    Literals are read with :func:`json.loads` or :func:`ast.literal_eval` (no code runs).
    """
    text = raw.strip()
    fenced = _LITERAL_FENCE.match(text)
    if fenced:
        text = fenced.group(1).strip()
    if len(text) < 2 or text[0] not in "[{(" or text[-1] not in "]})":
        return None
    try:
        data = json.loads(text)
    except ValueError:
        try:
            data = ast.literal_eval(text)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return None
    return _flatten(data)


def _atom(value: Any) -> str | None:
    if isinstance(value, bool) or isinstance(value, (int, float, str)):
        return str(value)
    return None


def _row(value: Any) -> str | None:
    """One line: a value, a list of values (comma-separated), a tuple ``(a, b)`` or pairs."""
    atom = _atom(value)
    if atom is not None:
        return atom
    if isinstance(value, (list, tuple)) and value:
        parts = [_atom(v) for v in value]
        if all(p is not None for p in parts):
            joined = ", ".join(parts)  # type: ignore[arg-type]
            return f"({joined})" if isinstance(value, tuple) else joined
        if all(isinstance(v, tuple) for v in value):
            pairs = [_row(v) for v in value]
            return None if any(p is None for p in pairs) else ", ".join(pairs)  # type: ignore[arg-type]
    if isinstance(value, dict) and value:
        items = [(str(k), _atom(v)) for k, v in value.items()]
        if all(v is not None for _, v in items):
            return ", ".join(f"{k}: {v}" for k, v in items)
    return None


def _flatten(data: Any) -> str | None:
    if isinstance(data, dict):
        for key, value in data.items():
            if re.sub(r"[\s_-]", "", str(key).lower()) in _ANSWER_KEYS:
                return _flatten(value) if isinstance(value, (dict, list, tuple)) else _atom(value)
        if len(data) == 1:  # {"grid": [[…]]}, {"sorted": […]}: the one key only labels it
            (value,) = data.values()
            if isinstance(value, (dict, list, tuple)):
                return _flatten(value)
        lines = [(str(k), _row(v)) for k, v in data.items()]
        if not lines or any(v is None for _, v in lines):
            return None
        return "\n".join(f"{k}: {v}" for k, v in lines)
    if isinstance(data, (list, tuple)) and data:
        atoms = [_atom(v) for v in data]
        if all(a is not None for a in atoms):
            return ", ".join(atoms)  # type: ignore[arg-type]
        if all(isinstance(v, tuple) and len(v) == 2 for v in data):
            pairs = [_row(v) for v in data]  # (row, column) pairs
            return None if any(p is None for p in pairs) else ", ".join(pairs)  # type: ignore[arg-type]
        rows = [_row(list(v) if isinstance(v, tuple) else v) for v in data]
        return None if any(r is None for r in rows) else "\n".join(rows)  # type: ignore[arg-type]
    return None


def _structural(text: str) -> Iterator[tuple[str, str]]:
    """(source, raw text) of the fences, tables, display math and paragraphs of a text."""
    fences = list(_FENCE.finditer(text))
    for m in fences:
        yield "fence", m.group(2)
    rest = text
    for m in reversed(fences):
        rest = rest[: m.start()] + "\n\n" + rest[m.end() :]
    for table in _tables(rest):
        yield "table", table
    for block in _display_blocks(rest):
        yield "math", block
    for run in _spaced_rows(rest):
        yield "block", run
    for para in _paragraphs(rest):
        yield "block", para
        lead = _without_lead_in(para)
        if lead:
            yield "block", lead
        trail = _without_trailer(lead or para)
        if trail:
            yield "block", trail


# --------------------------------------------------------------------------- reading

_ERRORS = (ValueError, TypeError, KeyError, IndexError, OverflowError, RecursionError)


@dataclass
class _Found(Generic[T]):
    """Values read in one tier, and the first failure and hedge met on the way."""

    values: list[tuple[T, str, str]] = field(default_factory=list)
    error: tuple[str, str, str] | None = None
    hedge: tuple[str, str, str] | None = None
    tried: int = 0
    exhausted: bool = False


@dataclass(frozen=True)
class _Reader(Generic[T]):
    parse: Callable[[str], T]
    prepare: Callable[[str], str]
    tables: bool

    def attempt(
        self, raw: str, source: str, found: _Found[T], *, whole: bool = False, long: bool = True
    ) -> bool:
        """Parse one piece (and its table variants); record the value or the failure.

        ``whole``: the piece is a region itself, so a hedge in it makes the tier ambiguous.
        ``long``: a piece over :data:`MAX_REGION_CHARS` is reported as ``too_long`` (an
        answer region is; a long stretch of prose is not an answer at all).
        """
        if len(raw) > MAX_REGION_CHARS:
            if found.error is None and long:
                found.error = (raw[:200], source, TOO_LONG)
            return False
        text = self.prepare(raw)
        texts = [text]
        if self.tables and "|" in text:
            texts.extend(table_variants(raw, text))
        if "\n" not in text and _END_PUNCT.search(text):
            texts.append(_END_PUNCT.sub("", text))
        remark = _REMARK.search(text) if "\n" not in text else None
        if remark and _is_remark(remark.group(1)):
            texts.append(text[: remark.start()].rstrip())
        if self.tables:
            data = literal_lines(raw)
            if data is not None:
                texts.append(data)
        for candidate in texts:
            if not candidate:
                continue
            if found.tried >= MAX_PIECES:
                found.exhausted = True
                return False
            found.tried += 1
            try:
                value = self.parse(candidate)
            except AmbiguousAnswer as e:
                if whole and found.hedge is None:
                    found.hedge = (candidate, source, str(e))
                if found.error is None:
                    found.error = (candidate, source, str(e))
                continue
            except _ERRORS as e:
                if found.error is None:
                    found.error = (candidate, source, str(e) or type(e).__name__)
                continue
            found.values.append((value, candidate, source))
            return True
        return False

    def lines(self, raw: str, source: str, found: _Found[T]) -> None:
        """Each short line, and when a line does not read, its tails."""
        lines = [line for line in raw.split("\n") if line.strip()]
        for line in lines[-3:]:
            if line.strip() != raw.strip() and self.attempt(line, source, found):
                continue
            for tail in _tails(line):
                self.attempt(tail, source, found)

    def region(self, raw: str, source: str, found: _Found[T], *, explicit: bool) -> None:
        """Read a region whole; when that fails, read its pieces."""
        if (
            self.attempt(raw, source, found, whole=True, long=explicit)
            or len(raw) > MAX_REGION_CHARS
        ):
            return
        before = len(found.values)
        for box in _boxes(raw):
            self.attempt(box.text, source, found, whole=explicit)
        for kind, piece in _structural(raw):
            if piece.strip() != raw.strip():
                self.attempt(piece, source if explicit else kind, found, long=explicit)
        if len(found.values) > before:
            return  # lines and tails are for short answers in prose, when nothing else reads
        if not explicit or sum(1 for line in raw.split("\n") if line.strip()) <= 3:
            self.lines(raw, source if explicit else "tail", found)


def _decide(found: _Found[T], ignore: Sequence[Any]) -> Reading[T] | None:
    """A reading from the values found in one tier, or None when there are none."""
    if not found.values:
        return None
    distinct: list[tuple[T, str, str]] = []
    for value, text, source in found.values:
        if not any(value == d[0] for d in distinct):
            distinct.append((value, text, source))
    if len(distinct) > 1 and ignore:
        distinct = [d for d in distinct if not any(d[0] == x for x in ignore)] or distinct[:1]
    if len(distinct) > 1:
        return Reading(
            "ambiguous",
            text=distinct[-1][1],
            source=distinct[-1][2],
            error=f"{len(distinct)} different answers",
            alternatives=tuple(d[1] for d in distinct),
        )
    value, text, source = distinct[0]
    return Reading("ok", value=value, text=text, source=source)


def _without(final: str, regions: Sequence[Region]) -> str:
    """The final part with the regions blanked out (paragraph breaks in their place)."""
    out = final
    for region in sorted(regions, key=lambda r: r.start, reverse=True):
        out = out[: region.start] + "\n\n" + out[region.end :]
    return out


def read_answer(
    response: str | None,
    parse: Callable[[str], T],
    *,
    ignore: Iterable[Any] = (),
    loose: bool = False,
) -> Reading[T]:
    r"""Find and read the answer of ``response`` with ``parse`` (see the module docstring).

    ``parse`` gets cleaned text (see :func:`clean`) and raises ``ValueError`` — or
    :class:`AmbiguousAnswer` — when it is not an answer. ``ignore`` lists values the
    question itself shows (a restated puzzle is not a second answer). ``loose`` is for
    parsers that accept nearly any text (free-form strings): they get each region's own
    text, only trimmed (a ``\boxed{}`` in it unwrapped); answer tags decide if present,
    else boxes, else cue lines, else a final part that is one short line.

    Example:
        >>> read_answer("<think>...</think> It is **7**.", int).value
        7
        >>> read_answer("\\boxed{3} or \\boxed{4}", int).status
        'ambiguous'
    """
    if not isinstance(response, str) or not response.strip():
        return Reading("no_answer")
    final = final_part(response)
    if not final:
        return Reading("no_answer", error="no final part after the reasoning")
    reader: _Reader[T] = _Reader(parse, _trim if loose else clean, tables=not loose)
    window, regions = explicit_regions(final)
    if len(regions) > MAX_REGIONS:
        return Reading("format", error=f"more than {MAX_REGIONS} answer regions")

    found: _Found[T] = _Found()
    if loose:
        # free-form strings: the first kind present decides (tags, then boxes, then cues)
        for kind in ("tag", "boxed", "cue"):
            for region in (r for r in regions if r.source == kind):
                reader.attempt(_loose_text(region), region.source, found, whole=True)
            if found.values or found.hedge:
                break
    else:
        for region in regions:
            reader.region(region.text, region.source, found, explicit=True)
    if found.exhausted:
        return _too_many()
    decided = _decide(found, ())
    if found.hedge is not None and (decided is None or decided.ok):
        text, source, error = found.hedge
        return Reading("ambiguous", text=text, source=source, error=error)
    if decided is not None:
        if decided.ok and not loose:
            return _later_answer(reader, window, regions, decided, list(ignore)) or decided
        return decided

    rest = _without(window, regions)
    implicit: _Found[T] = _Found()
    whole = rest.strip()
    if loose:
        if whole and "\n" not in whole and len(whole) <= SHORT_FINAL_CHARS:
            reader.attempt(_TRAILING_PUNCT.sub("", whole) or whole, "whole", implicit, whole=True)
    elif whole:
        reader.region(whole, "whole", implicit, explicit=False)
    if implicit.exhausted:
        return _too_many()
    decided = _decide(implicit, list(ignore))
    if decided is not None:
        return decided
    if found.error is not None:
        text, source, error = found.error
        status = "too_long" if error == TOO_LONG else "format"
        return Reading(status, text=text, source=source, error=error)
    if implicit.hedge is not None:
        text, source, error = implicit.hedge
        return Reading("ambiguous", text=text, source=source, error=error)
    if implicit.error is not None:
        text, source, error = implicit.error
        structured = source in ("fence", "table", "math") or _has_structure(rest)
        status = "too_long" if error == TOO_LONG else "format" if structured else "no_answer"
        return Reading(status, text=text, source=source, error=error)
    return Reading("no_answer")


def _later_answer(
    reader: _Reader[T],
    window: str,
    regions: Sequence[Region],
    decided: Reading[T],
    ignore: Sequence[Any],
) -> Reading[T] | None:
    """``ambiguous`` when a different answer follows the explicit ones, else None.

    "Final answer:" and a grid, then "(or possibly:)" and another grid, is a hedge even
    though only the first grid is in a cue region. Fences, tables, display math and
    paragraphs of two or more lines after the last explicit region are read (one-line
    prose is not: "This took 3 steps." restates nothing); a value the question shows
    (``ignore``) is no alternative.
    """
    after = window[max(r.end for r in regions) :]
    if not after.strip():
        return None
    found: _Found[T] = _Found()
    for kind, piece in _structural(after):
        if kind == "block" and "\n" not in piece.strip():
            continue
        reader.attempt(piece, kind, found, long=False)
        if found.exhausted:
            return _too_many()
    for value, text, source in found.values:
        if value != decided.value and not any(value == x for x in ignore):
            return Reading(
                "ambiguous",
                text=text,
                source=source,
                error="a different answer follows the answer",
                alternatives=(decided.text or "", text),
            )
    return None


def _too_many() -> Reading[Any]:
    return Reading("format", error=f"more than {MAX_PIECES} pieces to read")


def _has_structure(text: str) -> bool:
    """Whether a text holds a code fence, a markdown table or display math."""
    return bool(_FENCE.search(text) or _tables(text) or _display_blocks(text))


def _trim(text: str) -> str:
    return text.strip()


def _loose_text(region: Region) -> str:
    """A region's own text for loose parsers (an inner box unwrapped, a cue's period cut)."""
    text = region.text.strip()
    inner = _boxes(text)
    if inner:
        text = inner[-1].text.strip()
    elif region.source == "cue" and text.endswith(".") and not text.endswith(".."):
        text = text[:-1].rstrip()
    return text


__all__ = [
    "MAX_REGION_CHARS",
    "MAX_SCAN_CHARS",
    "AmbiguousAnswer",
    "Reading",
    "Region",
    "clean",
    "explicit_regions",
    "read_answer",
    "table_variants",
]
