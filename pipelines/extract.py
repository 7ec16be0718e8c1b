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
"""Longer extracted answers are cut: no verifier needs more, and it bounds work."""

_ANSWER_TAG = re.compile(r"<answer>(.*?)</answer>", re.DOTALL | re.IGNORECASE)
_FINAL_LINE = re.compile(
    r"^[\s*#>_-]*(?:the\s+)?(?:final\s+answer|answer)\s*(?:is\s*:?|:)\s*(.+?)\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_BOX_CMDS = ("\\boxed", "\\fbox")
_FINAL_FENCE = re.compile(r"```[^\n`]*\n?(.*?)```\s*$", re.DOTALL)


@dataclass(frozen=True)
class Extraction:
    """An extracted answer and how it was found (`tag`, `boxed`, `fence`, `line`, `none`)."""

    answer: str | None
    method: str


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


def _braced(text: str, start: int) -> str | None:
    """The content of the brace group opening at `start` (``text[start] == '{'``)."""
    depth = 0
    for i in range(start, len(text)):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text) and text[i + 1] in "{}":
            continue
        if ch == "{" and (i == 0 or text[i - 1] != "\\"):
            depth += 1
        elif ch == "}" and (i == 0 or text[i - 1] != "\\"):
            depth -= 1
            if depth == 0:
                return text[start + 1 : i]
    return None


def last_boxed(text: str | None) -> str | None:
    r"""Content of the last complete ``\boxed{…}`` (or ``\fbox{…}``, ``\boxed 5``)."""
    if not text:
        return None
    pos = max(text.rfind(cmd) for cmd in _BOX_CMDS)
    while pos >= 0:
        cmd = next(c for c in _BOX_CMDS if text.startswith(c, pos))
        j = pos + len(cmd)
        while j < len(text) and text[j] == " ":
            j += 1
        if j < len(text) and text[j] == "{":
            content = _braced(text, j)
            if content is not None:
                return content.strip()
        elif j > pos + len(cmd) and j < len(text):
            # "\boxed 5": the argument is the next token
            token = re.match(r"[^\s$]+", text[j:])
            if token:
                return token.group(0)
        pos = max(text.rfind(cmd, 0, pos) for cmd in _BOX_CMDS)
    return None


def _clip(answer: str) -> str:
    return answer[:MAX_ANSWER_CHARS]


def extract_answer(text: str | None) -> Extraction:
    """Extract the final answer of a response (see the module docstring for the order)."""
    if not isinstance(text, str) or not text.strip():
        return Extraction(None, "none")
    final = final_part(text)
    if not final:
        return Extraction(None, "none")
    tags = _ANSWER_TAG.findall(final)
    if tags:
        inner = tags[-1].strip()
        boxed = last_boxed(inner)
        return Extraction(_clip(boxed if boxed is not None else inner), "tag")
    boxed = last_boxed(final)
    if boxed is not None:
        return Extraction(_clip(boxed), "boxed")
    fence = _FINAL_FENCE.search(final[-MAX_ANSWER_CHARS * 2 :])
    if fence and fence.group(1).strip():
        return Extraction(_clip(fence.group(1).strip()), "fence")
    lines = _FINAL_LINE.findall(final)
    if lines:
        answer = lines[-1].strip().strip("*").strip()
        answer = answer[:-1] if answer.endswith(".") and not answer[:-1].endswith(".") else answer
        if answer:
            return Extraction(_clip(answer), "line")
    return Extraction(None, "none")
