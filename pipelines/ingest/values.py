"""Reading one canonical field from a record: paths, templates and plain values."""

from __future__ import annotations

import ast
import json
import math
import re
from typing import Any

import numpy as np


class Missing:
    """The type of :data:`MISSING`: a path that leads nowhere (unlike a null value)."""

    def __repr__(self) -> str:
        return "<missing>"


MISSING: Any = Missing()
_TEMPLATE = re.compile(r"\{\{|\}\}|\{([^{}]+)\}")


class PathError(Exception):
    """A path that cannot be followed; the reason is shown with the field."""


def embedded(text: str) -> Any:
    """The value held in a text field (JSON, else a Python literal), or MISSING."""
    stripped = text.strip()
    if not stripped or stripped[0] not in "[{":
        return MISSING
    try:
        return json.loads(stripped)
    except (ValueError, RecursionError):
        pass
    try:
        return ast.literal_eval(stripped)  # literals only: no names, calls or attributes
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return MISSING


def get_path(record: Any, path: str) -> Any:
    """The value at ``path`` in ``record`` (see the module doc), or ``MISSING``."""
    if isinstance(record, dict) and path in record:
        return record[path]
    value = record
    parts = path.split(".")
    for n, part in enumerate(parts):
        if isinstance(value, str):
            parsed = embedded(value)
            if parsed is MISSING:
                shown = ".".join(parts[:n])
                raise PathError(f"'{shown}' holds text, not JSON, so '.{part}' cannot be read")
            value = parsed
        if isinstance(value, dict):
            if part not in value:
                return MISSING
            value = value[part]
        elif isinstance(value, list | tuple):
            try:
                index = int(part)
            except ValueError:
                return MISSING
            if not -len(value) <= index < len(value):
                return MISSING
            value = value[index]
        else:
            return MISSING
    return value


def is_template(path: str) -> bool:
    """Whether a mapping source is a template (``{field}`` placeholders)."""
    return any(m.group(1) for m in _TEMPLATE.finditer(path))


def template_fields(path: str) -> list[str]:
    """The field paths a template reads."""
    return [m.group(1).strip() for m in _TEMPLATE.finditer(path) if m.group(1)]


def render(record: dict[str, Any], template: str) -> Any:
    """A template filled from ``record`` (missing fields are empty), or ``MISSING``."""
    found = False

    def sub(m: re.Match[str]) -> str:
        nonlocal found
        if m.group(0) == "{{":
            return "{"
        if m.group(0) == "}}":
            return "}"
        value = get_path(record, m.group(1).strip())
        if value is MISSING or value is None:
            return ""
        found = True
        text = scalar_text(value)
        if text is None:
            raise TypeError(f"'{m.group(1)}' is {kind(value)}, not text")
        return text

    out = _TEMPLATE.sub(sub, template).strip()
    return out if found and out else MISSING


class Joined(list):
    """The values of several ``+``-joined test fields (not one field's list)."""


def lookup(record: dict[str, Any], path: str, canon: str) -> Any:
    """The raw value(s) at ``path``; ``tests`` paths joined by ``+`` give :class:`Joined`."""
    if is_template(path):
        return render(record, path)
    if canon == "tests" and "+" in path and not (isinstance(record, dict) and path in record):
        values = [get_path(record, p.strip()) for p in path.split("+")]
        present = Joined(v for v in values if v is not MISSING and v is not None)
        return present if present else MISSING
    return get_path(record, path)


def heads(path: str) -> set[str]:
    """The top-level fields a mapping source reads."""
    if is_template(path):
        return {p.split(".", 1)[0] for p in template_fields(path)}
    if "+" in path:
        return {p.strip().split(".", 1)[0] for p in path.split("+")}
    return {path.split(".", 1)[0], path}


# --- value normalization -------------------------------------------------------------


def kind(value: Any) -> str:
    """A JSON-ish name of a value's type, for messages."""
    return {tuple: "list", dict: "object", bool: "boolean"}.get(type(value), type(value).__name__)


def number_text(value: float) -> str | None:
    """A float as answer text: integral values without ``.0``; NaN and infinities → None."""
    if math.isnan(value) or math.isinf(value):
        return None
    if value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return repr(value)


def scalar_text(value: Any) -> str | None:
    """A string or number as text; None for anything else."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return number_text(value) or ""
    if isinstance(value, np.generic):
        return scalar_text(value.item())
    return None


def as_text(value: Any, canon: str, *, numbers: bool) -> str | None:
    """A text field's value (numbers as text where ``numbers``); other types raise."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if numbers and isinstance(value, float):
        return number_text(value)
    if numbers and isinstance(value, int | np.integer) and not isinstance(value, bool):
        return str(int(value))
    if numbers and isinstance(value, np.floating):
        return number_text(float(value))
    if canon == "answer" and isinstance(value, bool):
        return str(value)  # yes/no datasets: "True" / "False"
    if isinstance(value, list | tuple) and canon == "answer":
        raise TypeError(
            f"expected text, got list of {len(value)} (map one element, e.g. --map answer=FIELD.0)"
        )
    if isinstance(value, list | tuple) and canon == "question" and value:
        if all(isinstance(v, dict) and ("role" in v or "from" in v) for v in value):
            raise TypeError("expected text, got a chat (list of turns): map it as messages")
    raise TypeError(f"expected text, got {kind(value)}")


def as_level(value: Any) -> int | None:
    """An integer level from an int, an integral float or digits."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise TypeError("expected an integer level, got a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise TypeError(f"expected an integer level, got {value!r}"[:120])


def as_responses(value: Any) -> list[str]:
    """Responses: one text or a list of texts."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return list(value)
    raise TypeError("expected a response text or a list of texts")


def non_empty(text: str | None) -> str | None:
    """None for empty or whitespace-only text."""
    return text if text is not None and text.strip() else None
