"""Multiple-choice options and reference answers of public layouts."""

from __future__ import annotations

import re
import string
from typing import Any

from tracemill.pipelines.ingest.values import MISSING, embedded, kind, scalar_text

LABELS = string.ascii_uppercase

_LABELED = re.compile(r"^\s*\(?\s*([A-Za-z])\s*[).:：]\s*")
_ANSWER_LABEL = re.compile(
    r"^\s*(?:answer\s*(?:is)?\s*:?\s*)?(?:option\s*)?[(\[]?\s*([A-Za-z])\s*[)\].:]?\s*$",
    re.IGNORECASE,
)


def _split_option_text(text: str) -> list[str]:
    """``"A) x B) y C) z"`` → ``["x", "y", "z"]`` (labels must run A, B, C, …)."""
    cuts: list[tuple[int, int]] = []
    pos = 0
    for label in LABELS:
        pattern = re.compile(rf"(?:^|(?<=\s))\(?{label}\s*[).:]\s*")
        m = pattern.search(text, pos)
        if m is None:
            break
        cuts.append((m.start(), m.end()))
        pos = m.end()
    if len(cuts) < 2 or text[: cuts[0][0]].strip():
        raise TypeError("options text does not list labelled options 'A) … B) …'")
    ends = [c[0] for c in cuts[1:]] + [len(text)]
    return [text[start:end].strip() for (_, start), end in zip(cuts, ends, strict=True)]


def _strip_labels(options: list[str]) -> list[str]:
    """Drop leading ``A)``/``(B)``/``C.`` labels when every option carries its own."""
    stripped = []
    for label, option in zip(LABELS, options, strict=False):
        m = _LABELED.match(option)
        if m is None or m.group(1).upper() != label:
            return options
        stripped.append(option[m.end() :])
    return stripped


def parse_options(value: Any) -> tuple[list[str], dict[str, str]]:
    """Options as texts (labelled A, B, …) and a map from the source's own keys to labels."""
    if isinstance(value, str):
        parsed = embedded(value)
        value = parsed if parsed is not MISSING else _split_option_text(value)
    keys: dict[str, str] = {}
    if isinstance(value, dict) and isinstance(value.get("text"), list):
        # Hugging Face style {"text": [...], "label": ["A", ...]} (ARC, CommonsenseQA)
        labels = value.get("label") or list(LABELS[: len(value["text"])])
        if not isinstance(labels, list) or len(labels) != len(value["text"]):
            raise TypeError("options 'text' and 'label' lists differ in length")
        value = dict(zip(map(str, labels), value["text"], strict=True))
    if isinstance(value, dict):
        items = list(value.items())
        letters = all(
            isinstance(k, str) and len(k.strip()) == 1 and k.strip().isalpha() for k, _ in items
        )
        if letters:
            items.sort(key=lambda kv: kv[0].strip().upper())
        options = []
        for n, (key, text) in enumerate(items):
            keys[str(key).strip().upper()] = LABELS[n]
            options.append(text)
    elif isinstance(value, list | tuple):
        options = list(value)
    else:
        raise TypeError(f"expected a list of options, got {kind(value)}")
    if not 2 <= len(options) <= len(LABELS):
        raise TypeError(f"expected 2 to {len(LABELS)} options, got {len(options)}")
    texts = []
    for option in options:
        text = scalar_text(option)
        if text is None or not text.strip():
            raise TypeError("each option must be non-empty text or a number")
        texts.append(text.strip())
    if isinstance(value, list | tuple):
        texts = _strip_labels(texts)
    return texts, keys


def choice_label(answer: Any, options: list[str], keys: dict[str, str]) -> str:
    """The letter of the reference option (index, letter, source key, or option text)."""
    n = len(options)
    if isinstance(answer, bool) or answer is None:
        raise TypeError("no answer for the multiple-choice problem")
    if isinstance(answer, float) and answer.is_integer():
        answer = int(answer)
    if isinstance(answer, int):
        if not 0 <= answer < n:
            raise TypeError(f"answer index {answer} is out of range for {n} options")
        return LABELS[answer]
    text = scalar_text(answer)
    if text is None or not text.strip():
        raise TypeError("no answer for the multiple-choice problem")
    text = text.strip()
    if text.upper() in keys:
        return keys[text.upper()]
    m = _ANSWER_LABEL.match(text)
    if m and m.group(1).upper() in LABELS[:n]:
        return m.group(1).upper()
    folded = text.casefold()
    matches = [i for i, o in enumerate(options) if o.casefold() == folded]
    if len(matches) == 1:
        return LABELS[matches[0]]
    if text.lstrip("-").isdigit():
        index = int(text)
        if 0 <= index < n:
            return LABELS[index]
    raise TypeError(f"answer {text[:40]!r} names none of the {n} options")


def choice_question(question: str, options: list[str]) -> str:
    """The question followed by its options as ``A. …`` lines."""
    listed = "\n".join(f"{LABELS[i]}. {text}" for i, text in enumerate(options))
    return f"{question.rstrip()}\n\n{listed}"
