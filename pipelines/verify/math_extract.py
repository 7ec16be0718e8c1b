r"""Where a math response states its answer.

Only the final part of a response counts (after ``</think>``): an answer that appears
only in the reasoning is no answer. In order:

1. the last ``<answer>…</answer>`` block (a ``\boxed{}`` inside it wins);
2. the ``\boxed{}`` answers (all of them are kept, so hedging can be seen);
3. the last "the answer is …" / "answer: …" (the math right after it, else that sentence's
   last complete expression);
4. the last display math (``\[…\]``, ``$$…$$``, ``equation``);
5. the last inline math (``$…$``, ``\(…\)``);
6. the last complete expression of the last line that has one.

An expression is always taken whole: ``918\frac{1}{2}`` stays a mixed number, a
polynomial or a matrix stays itself, never a trailing fragment of it. Every step is
linear in the length of the response.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tracemill.pipelines.extract import (
    MAX_ANSWER_CHARS,
    boxed_spans,
    final_part,
    last_answer_tag,
)


@dataclass(frozen=True)
class MathAnswer:
    r"""The answer found in a response.

    ``boxes`` holds every top-level ``\boxed{}`` answer of the final part, in order (the
    caller decides whether several different ones are a hedge); ``nearby`` is text
    written right next to the last box that offers an alternative ("or 5").
    """

    answer: str | None
    method: str
    boxes: tuple[str, ...] = ()
    nearby: str | None = None
    truncated: bool = False


_PHRASE = re.compile(
    r"(?:final\s+answer|the\s+answer|answer)\s*(?:is|:|=|would\s+be|will\s+be|should\s+be)"
    r"|(?:answer|result)\s*(?:is|:)"
    # the same anchor in the languages of multilingual math sets (MGSM, lighteval)
    r"|(?:réponse(?:\s+finale)?|respuesta(?:\s+final)?|resposta(?:\s+final)?|risposta"
    r"|(?:endgültige\s+)?antwort|jawaban|jibu|ответ)\s*:"
    r"|(?:最终)?答案\s*(?:是|为|[:：])|答\s*[:：]",
    re.IGNORECASE,
)
_ENVIRONMENTS = ("equation", "equation*", "align", "align*", "gather", "gather*", "displaymath")
_DOLLARS = re.compile(r"(?<!\\)\$\$|(?<![\\$])\$(?!\$)")
_STOP = re.compile(r"\.(?=\s|$)|\n")
_BOX_WORD = re.compile(r"\\(?:boxed|fbox)(?![A-Za-z])")
_SENTENCE_END = re.compile(r"[.!?](?=\s)|\n")
_SPECIAL_TOKENS = re.compile(r"<\|[^|<>\n]{0,40}\|>")
_MARKDOWN = re.compile(r"\*\*|__|`")
_AFTER_BOX_OR = re.compile(
    r"^\s*[$)\].(]*\s*,?\s*(?:or|and/or|alternatively|otherwise)\s+(?:possibly\s+|maybe\s+|"
    r"perhaps\s+|else\s+)?(\$[^$\n]{1,80}\$|\\\([^\n]{1,80}?\\\)|-?\d[\d.,/]*(?:\s*\\?%|\s*percent)?)",
    re.IGNORECASE,
)
_BEFORE_BOX_OR = re.compile(
    # blanks around the optional '$' and ',' in one run each: no backtracking on blank runs
    r"(\$[^$\n]{1,80}\$|-?\d[\d.,/]*)\s*(?:\$\s*)?(?:,\s*)?(?:or|and/or)\s*(?:\$\s*)?$",
    re.IGNORECASE,
)


def _clip(answer: str, method: str, **kw: object) -> MathAnswer:
    answer = answer.strip()
    if len(answer) > MAX_ANSWER_CHARS:
        return MathAnswer(answer[:MAX_ANSWER_CHARS], method, truncated=True)
    return MathAnswer(answer, method, **kw)  # type: ignore[arg-type]


# tokens of the expression scanner: a LaTeX command, a word, a number, spaces, one char
_TOKEN = re.compile(
    r"\\[A-Za-z]+|\\.|[A-Za-z]{2,}|\d+(?:\.\d+)?|\.\d+|[.!?](?=\s)|\s+|.", re.DOTALL
)
_MATH_CHARS = set("+-*/^_=<>!'|&(){}[].,:;")
_SENTENCE_WORDS = frozenset({"is", "are", "be", "so", "the", "we", "it", "thus", "hence"})
_EXPR_WORDS = frozenset(
    {"sin", "cos", "tan", "sec", "csc", "cot", "log", "ln", "exp", "sqrt", "pi", "mod",
     "gcd", "lcm", "max", "min", "arcsin", "arccos", "arctan"}
)  # fmt: skip


EXPRESSION_WINDOW = 4000
"""Only this much of the end of a text is scanned for a plain expression."""


def _expression_runs(text: str) -> tuple[str, list[tuple[int, int]], int]:
    """(the scanned tail of `text`, the (start, end) runs of math in it, chars cut)."""
    cut = max(0, len(text) - EXPRESSION_WINDOW)
    text = text[cut:]
    runs: list[tuple[int, int]] = []
    start: int | None = None
    end = 0
    brace_depth = 0  # inside the braces of a command ("\\begin{pmatrix}", "\\text{ cm}")
    after_command = False
    for m in _TOKEN.finditer(text):
        tok = m.group(0)
        is_word = len(tok) >= 2 and tok.isalpha() and tok.lower() not in _EXPR_WORDS
        if brace_depth == 0 and (
            is_word
            or tok == "$"
            or (tok in ".!?" and m.end() < len(text) and text[m.end()].isspace())
        ):
            if start is not None:
                runs.append((start, end))
                start = None
            after_command = False
            continue
        if tok.isspace():
            if "\n" in tok and start is not None and brace_depth == 0:
                runs.append((start, end))
                start = None
            continue
        if tok == "{" and (after_command or brace_depth):
            brace_depth += 1
        elif tok == "}" and brace_depth:
            brace_depth -= 1
        after_command = tok.startswith("\\") and tok[1:].isalpha() or (after_command and tok == "}")
        if start is None:
            if tok in (".", ",", ";", ":", ")", "]", "}", "!", "?", "'", '"'):
                continue
            start = m.start()
        end = m.end()
    if start is not None:
        runs.append((start, end))
    return text, runs, cut


def _candidate(text: str, s: int, e: int) -> str | None:
    candidate = text[s:e].strip().rstrip(".,;:!?").strip()
    candidate = re.sub(r"^[A-Za-z]\s+(?=[-\d\\(])", "", candidate)  # "it's 5": not s·5
    if re.search(r"\d|\\(?:frac|sqrt|pi|infty|begin)", candidate):
        return _balanced_trim(candidate)
    return None


def last_expression(text: str) -> str | None:
    """The last complete math expression in prose (``None`` if there is none)."""
    text, runs, cut = _expression_runs(text)
    for s, e in reversed(runs):
        if cut and s == 0:
            break  # a run cut by the window may be a fragment of a longer expression
        found = _candidate(text, s, e)
        if found:
            return found
    return None


_NEGATION = re.compile(
    r"\b(?:not|isn't|is\s+not|never|instead\s+of|rather\s+than)\b", re.IGNORECASE
)


def first_expression(text: str) -> str | None:
    """The first complete math expression in prose that is not negated (``None`` if none).

    "the answer is therefore not 12 as I first thought, but 13" states 13: an expression
    right after a negation is skipped.
    """
    text, runs, cut = _expression_runs(text)
    before = 0
    for s, e in runs:
        if cut and s == 0:
            continue
        found = _candidate(text, s, e)
        if found:
            if not _NEGATION.search(text[before:s]):
                return found
            before = e
    return None


def _balanced_trim(candidate: str) -> str:
    """Drop unmatched closing brackets at the end and unmatched opening ones at the start."""
    opens = sum(candidate.count(c) for c in "([{")
    closes = sum(candidate.count(c) for c in ")]}")
    end = len(candidate)
    while end and closes > opens and candidate[end - 1] in ")]} ":
        closes -= candidate[end - 1] != " "
        end -= 1
    begin = 0
    while begin < end and opens > closes and candidate[begin] in "([{ ":
        opens -= candidate[begin] != " "
        begin += 1
    return candidate[begin:end].strip()


def _last_pair(text: str, open_: str, close: str) -> tuple[int, str] | None:
    """(end, body) of the last complete ``open_ … close`` pair with distinct delimiters."""
    close_at = text.rfind(close)
    if close_at < 0:
        return None
    open_at = text.rfind(open_, 0, close_at)
    if open_at < 0:
        return None
    return close_at + len(close), text[open_at + len(open_) : close_at]


def _last_dollar_pairs(text: str) -> tuple[tuple[int, str] | None, tuple[int, str] | None]:
    """The last complete ``$$…$$`` and the last complete ``$…$`` (one pass)."""
    display = inline = None
    if "$" not in text:
        return None, None
    open_display = open_inline = None
    for m in _DOLLARS.finditer(text):
        if m.group(0) == "$$":
            if open_display is None:
                open_display = m.end()
            else:
                display = (m.end(), text[open_display : m.start()])
                open_display = None
        elif open_display is None:
            if open_inline is None:
                open_inline = m.end()
            else:
                inline = (m.end(), text[open_inline : m.start()])
                open_inline = None
    return display, inline


def last_display_math(text: str) -> tuple[int, str] | None:
    r"""(end, body) of the last display math (``$$…$$``, ``\[…\]``, equation environments)."""
    found = [_last_dollar_pairs(text)[0], _last_pair(text, "\\[", "\\]")]
    for env in _ENVIRONMENTS:
        found.append(_last_pair(text, f"\\begin{{{env}}}", f"\\end{{{env}}}"))
    return max((f for f in found if f is not None), default=None, key=lambda f: f[0])


def last_inline_math(text: str) -> tuple[int, str] | None:
    r"""(end, body) of the last inline math (``$…$`` or ``\(…\)``)."""
    found = [_last_dollar_pairs(text)[1], _last_pair(text, "\\(", "\\)")]
    return max((f for f in found if f is not None), default=None, key=lambda f: f[0])


def _math_after(text: str) -> str | None:
    """The answer stated right after an "answer is" phrase (`text` starts after it)."""
    text = _MARKDOWN.sub("", text).lstrip(" \t:*")
    if not text:
        return None
    for open_, close in (("$$", "$$"), ("\\[", "\\]"), ("\\(", "\\)"), ("$", "$")):
        if text.startswith(open_):
            end = text.find(close, len(open_))
            if end > len(open_):
                return text[len(open_) : end]
            break
    stop = _STOP.search(text)
    sentence = text[: stop.start()] if stop else text
    sentence = sentence.strip()
    if not sentence:
        return None
    inline = last_inline_math(sentence)
    if inline is not None:
        end, body = inline
        if body.strip() and not re.search(r"\d", sentence[end:]):
            return body
    words = sentence.split()
    if len(words) <= 6 and not any(w.lower() in _SENTENCE_WORDS for w in words):
        return sentence  # a short answer: "5 cm", "x = 3 or x = 4", "Evelyn"
    # "Answer: she still owes 220 dollars after 12 months": the answer comes first
    return first_expression(sentence)


def _adjacent_alternative(final: str, start: int, end: int) -> str | None:
    r"""An alternative offered right next to a box ("\boxed{3} or 4", "3 or \boxed{4}")."""
    after = _AFTER_BOX_OR.match(final[end : end + 120])
    if after:
        return after.group(1).strip("$")
    before = _BEFORE_BOX_OR.search(final[max(0, start - 120) : start])
    if before:
        return before.group(1).strip("$")
    return None


def _without_comments(text: str) -> str:
    """Drop HTML comments: text a reader never sees states no answer (linear)."""
    if "<!--" not in text:
        return text
    out: list[str] = []
    pos = 0
    while True:
        start = text.find("<!--", pos)
        if start < 0:
            out.append(text[pos:])
            break
        out.append(text[pos:start])
        end = text.find("-->", start + 4)
        if end < 0:
            break  # an unclosed comment hides the rest
        pos = end + 3
    return "".join(out)


def find_math_answer(response: str | None) -> MathAnswer:
    """The answer of a math response (see the module docstring for the order)."""
    if not isinstance(response, str) or not response.strip():
        return MathAnswer(None, "none")
    final = _without_comments(_SPECIAL_TOKENS.sub(" ", final_part(response)))
    if not final.strip():
        return MathAnswer(None, "none")
    tag = last_answer_tag(final)
    if tag is not None:
        spans = boxed_spans(tag)
        if spans:
            return _clip(spans[-1][2], "tag", boxes=tuple(s[2] for s in spans))
        inner = tag.strip()
        if inner:
            stated = _math_after(inner) if len(inner.split()) > 6 else inner
            return _clip(stated or inner, "tag")
    spans = boxed_spans(final)
    if spans:
        start, end, content = spans[-1]
        nearby = _adjacent_alternative(final, spans[0][0], end)
        return _clip(content, "boxed", boxes=tuple(s[2] for s in spans), nearby=nearby)
    if _BOX_WORD.search(final):
        return MathAnswer(None, "unclosed_box")  # a box was started and never closed
    phrases = list(_PHRASE.finditer(final))
    for m in reversed(phrases[-3:]):
        stated = _math_after(final[m.end() : m.end() + 2 * MAX_ANSWER_CHARS])
        if stated:
            return _clip(stated, "answer_is")
    display = last_display_math(final)
    inline = last_inline_math(final)
    blocks = [(b, name) for b, name in ((display, "display"), (inline, "inline"))
              if b is not None and b[1].strip()]  # fmt: skip
    if blocks:
        (end, body), method = max(blocks, key=lambda b: b[0][0])
        # a plain expression in a later sentence states the answer after the math
        later = end if method == "display" else _SENTENCE_END.search(final, end)
        if later is not None and not isinstance(later, int):
            later = later.end()
        expr = last_expression(final[later:]) if later is not None else None
        if expr:
            return _clip(expr, "expression")
        return _clip(body, method)
    for line in reversed(final.splitlines()[-20:]):
        line = _MARKDOWN.sub("", line).strip()
        if not line:
            continue
        expr = last_expression(line)
        if expr:
            return _clip(expr, "expression")
    return MathAnswer(None, "none")


_CHOICE_LETTER = re.compile(r"(?<![A-Za-z])\(?([A-J])\)?(?![A-Za-z])")


def last_choice_letter(response: str, highest: str = "E") -> str | None:
    """The last stand-alone choice letter (A up to `highest`) of the final part."""
    final = _MARKDOWN.sub("", final_part(response)).strip()
    if len(final) == 1 and final.isalpha():
        return final.upper()
    found = None
    for m in _CHOICE_LETTER.finditer(final):
        if m.group(1) <= max(highest, "E"):
            found = m.group(1)
    return found
