r"""Answer extraction shared by verifiers and synthetic families.

Model output is untrusted: every function here accepts any string (empty, enormous,
unbalanced tags) and never raises.

Order used by :func:`extract_answer` on the *final part* of a response (the text after
the last ``</think>``, or the whole response when there is none):

1. the last ``<answer>…</answer>`` block (a ``\boxed{}`` inside it is unwrapped);
2. the last ``\boxed{…}`` / ``\fbox{…}`` (nested braces handled);
3. a fenced block (```…```) that ends the response, without its language tag;
4. the last line starting with "final answer" / "answer" followed by ``:`` or "is".

If nothing matches, the answer is ``None`` and callers report ``no_answer``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"
MAX_ANSWER_CHARS = 10_000
"""Longer extracted answers are cut for storage and display; :attr:`Extraction.truncated`
says so, and verifiers that compare answers must not compare the cut prefix."""

_ANSWER_OPEN = re.compile(r"<answer>", re.IGNORECASE)
_ANSWER_CLOSE = re.compile(r"</answer>", re.IGNORECASE)
_BOX_CMD = re.compile(r"\\(?:boxed|fbox)(?![A-Za-z])")
_FINAL_LINE = re.compile(
    r"^[\s*#>_-]*(?:the\s+)?(?:final\s+answer|answer)\s*(?:is\s*:?|:)\s*(.+?)\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_FINAL_FENCE = re.compile(r"```[^\n`]*\n?(.*?)```\s*$", re.DOTALL)


@dataclass(frozen=True)
class Extraction:
    """An extracted answer and how it was found (`tag`, `boxed`, `fence`, `line`, `none`).

    ``truncated`` is true when the answer found was longer than :data:`MAX_ANSWER_CHARS`:
    ``answer`` then holds only its first characters (for storage and display).
    """

    answer: str | None
    method: str
    truncated: bool = False


def split_reasoning(text: str | None) -> tuple[str | None, str]:
    """Split a completion into (reasoning, final) on ``<think>…</think>``.

    A ``</think>`` without an opening tag (templates that pre-fill ``<think>``) still
    splits; an unclosed ``<think>`` (truncated output) is all reasoning, empty final.
    """
    if not text:
        return None, ""
    close = text.rfind(THINK_CLOSE)
    if close >= 0:
        head = text[:close]
        open_at = head.find(THINK_OPEN)
        reasoning = head[open_at + len(THINK_OPEN) :] if open_at >= 0 else head
        return reasoning.strip(), text[close + len(THINK_CLOSE) :].strip()
    open_at = text.find(THINK_OPEN)
    if open_at >= 0:
        return text[open_at + len(THINK_OPEN) :].strip(), text[:open_at].strip()
    return None, text.strip()


def final_part(text: str | None) -> str:
    """The part of a response after its reasoning."""
    return split_reasoning(text)[1]


_BRACE_TOKEN = re.compile(r"\\.|[{}]", re.DOTALL)


def _matching_braces(text: str, start: int = 0) -> dict[int, int]:
    r"""Index of each ``{`` that has a matching ``}`` → index of that ``}`` (one pass).

    A backslash escapes the next character, so ``\{`` and ``\}`` are literal braces and
    ``\\{`` (a LaTeX line break, then a group) opens a group.
    """
    pairs: dict[int, int] = {}
    stack: list[int] = []
    for m in _BRACE_TOKEN.finditer(text, start):
        ch = m.group(0)
        if ch == "{":
            stack.append(m.start())
        elif ch == "}" and stack:
            pairs[stack.pop()] = m.start()
    return pairs


_BARE_BOX_ARG = re.compile(r"[^\s$]+")


def boxed_spans(text: str | None) -> list[tuple[int, int, str]]:
    r"""Every complete top-level ``\boxed{…}`` / ``\fbox{…}`` (and ``\boxed 5``), in order.

    Each item is (start, end, content): the command spans ``text[start:end]``. A box
    inside another box is part of the outer one; an unclosed ``\boxed{`` is skipped.
    Linear in the length of `text`, whatever it holds.
    """
    if not text or "\\" not in text:
        return []
    cmds = list(_BOX_CMD.finditer(text))
    if not cmds:
        return []
    pairs = _matching_braces(text, cmds[0].start())  # braces before the first box never matter
    spans: list[tuple[int, int, str]] = []
    covered = -1
    n = len(text)
    for m in cmds:
        start = m.start()
        if start < covered:
            continue  # nested in the previous box
        j = m.end()
        while j < n and text[j] == " ":
            j += 1
        if j < n and text[j] == "{":
            close = pairs.get(j)
            if close is None:
                continue
            spans.append((start, close + 1, text[j + 1 : close].strip()))
            covered = close + 1
        elif j > m.end() and j < n:
            token = _BARE_BOX_ARG.match(text, j)  # "\boxed 5": the next token
            if token:
                spans.append((start, token.end(), token.group(0)))
                covered = token.end()
    return spans


def all_boxed(text: str | None) -> list[str]:
    r"""Contents of every complete top-level ``\boxed{…}`` in `text`, in order."""
    return [content for _, _, content in boxed_spans(text)]


def last_boxed(text: str | None) -> str | None:
    r"""Content of the last complete ``\boxed{…}`` (or ``\fbox{…}``, ``\boxed 5``)."""
    spans = boxed_spans(text)
    return spans[-1][2] if spans else None


def last_answer_tag(text: str) -> str | None:
    """Content of the last complete ``<answer>…</answer>`` block (linear time)."""
    closes = list(_ANSWER_CLOSE.finditer(text))
    if not closes:
        return None
    last_close = closes[-1].start()
    opens = [m.end() for m in _ANSWER_OPEN.finditer(text, 0, last_close)]
    if not opens:
        return None
    return text[opens[-1] : last_close]


def _clipped(answer: str, method: str) -> Extraction:
    if len(answer) > MAX_ANSWER_CHARS:
        return Extraction(answer[:MAX_ANSWER_CHARS], method, truncated=True)
    return Extraction(answer, method)


def extract_answer(text: str | None) -> Extraction:
    """Extract the final answer of a response (see the module docstring for the order)."""
    if not isinstance(text, str) or not text.strip():
        return Extraction(None, "none")
    final = final_part(text)
    if not final:
        return Extraction(None, "none")
    tag = last_answer_tag(final)
    if tag is not None:
        inner = tag.strip()
        boxed = last_boxed(inner)
        return _clipped(boxed if boxed is not None else inner, "tag")
    boxed = last_boxed(final)
    if boxed is not None:
        return _clipped(boxed, "boxed")
    fence = _FINAL_FENCE.search(final[-MAX_ANSWER_CHARS * 2 :])
    if fence and fence.group(1).strip():
        return _clipped(fence.group(1).strip(), "fence")
    lines = _FINAL_LINE.findall(final)
    if lines:
        answer = lines[-1].strip().strip("*").strip()
        answer = answer[:-1] if answer.endswith(".") and not answer[:-1].endswith(".") else answer
        if answer:
            return _clipped(answer, "line")
    return Extraction(None, "none")
