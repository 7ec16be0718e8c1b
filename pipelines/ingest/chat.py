"""Chat turns of public layouts: roles, content parts, exchanges."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tracemill.pipelines.ingest.values import MISSING, embedded, kind

_ROLES = {
    "user": "user", "human": "user", "system": "system", "assistant": "assistant",
    "gpt": "assistant", "model": "assistant", "bot": "assistant", "chatgpt": "assistant",
    "ai": "assistant", "function_call": "assistant", "tool_call": "assistant",
    "observation": "tool", "tool": "tool", "function": "tool", "ipython": "tool",
}  # fmt: skip


@dataclass
class Turn:
    """One chat turn: normalized role, text, and the turn's ``info`` object (AM)."""

    role: str
    content: str
    info: dict[str, Any]


def _content_text(content: Any) -> str:
    """A turn's text: a string, or a list of parts (text parts joined; reasoning in <think>)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise TypeError(f"chat content is {kind(content)}, expected text or a list of parts")
    text: list[str] = []
    reasoning: list[str] = []
    for part in content:
        if isinstance(part, str):
            text.append(part)
            continue
        if not isinstance(part, dict):
            raise TypeError("each content part must be text or an object")
        part_type = str(part.get("type", "text"))
        value = part.get("text", part.get("value", part.get("content")))
        if part_type in ("text", "input_text", "output_text") and isinstance(value, str):
            text.append(value)
        elif part_type in ("reasoning", "thinking") and isinstance(value, str):
            reasoning.append(value)
        elif part_type in ("tool_call", "function_call") and value is not None:
            text.append(_tool_call_text(value))
        else:
            raise TypeError(f"chat content part of type {part_type!r} is not text")
    body = "".join(text)
    if reasoning:
        body = "<think>" + "\n".join(reasoning) + "</think>\n" + body
    return body


def _tool_call_text(value: Any) -> str:
    """A tool call as text, in the ``<tool_call>`` form chat templates use."""
    body = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return f"<tool_call>\n{body}\n</tool_call>"


def parse_turns(value: Any) -> list[Turn]:
    """Chat turns from ``role``/``content`` or ``from``/``value`` objects (JSON text too)."""
    if isinstance(value, str):
        parsed = embedded(value)
        value = parsed if parsed is not MISSING else value
    if not isinstance(value, list):
        raise TypeError(f"expected a list of chat turns, got {kind(value)}")
    turns = []
    for n, turn in enumerate(value):
        if not isinstance(turn, dict):
            raise TypeError(f"chat turn {n} must be an object")
        role = turn.get("role", turn.get("from"))
        if not isinstance(role, str):
            raise TypeError(f"chat turn {n} needs a text 'role' (or 'from')")
        normalized = _ROLES.get(role.strip().lower())
        if normalized is None:
            raise TypeError(f"chat turn {n} has unknown role {role!r}")
        raw = turn["content"] if "content" in turn else turn.get("value")
        try:
            content = _content_text(raw)
            calls = turn.get("tool_calls")
            if calls and isinstance(calls, list):  # OpenAI layout: calls beside the content
                content = "\n".join([content, *map(_tool_call_text, calls)]).strip()
        except TypeError as e:
            raise TypeError(f"chat turn {n}: {e}") from None
        info = turn.get("info") if isinstance(turn.get("info"), dict) else {}
        turns.append(Turn(normalized, content, info))
    return turns


@dataclass
class Exchange:
    """A user turn, the turns before it (context) and the replies that follow it."""

    context: list[Turn]
    user: Turn
    replies: list[Turn]


def split_exchanges(turns: list[Turn]) -> list[Exchange]:
    """The exchanges of a conversation: each user turn with the replies that follow it."""
    out: list[Exchange] = []
    for i, turn in enumerate(turns):
        if turn.role == "user":
            out.append(Exchange(turns[:i], turn, []))
        elif out:
            out[-1].replies.append(turn)
    return out


def render_transcript(context: list[Turn], user: Turn) -> str:
    """A conversation so far as ``User: …`` / ``Assistant: …`` paragraphs."""
    names = {"user": "User", "assistant": "Assistant", "system": "System", "tool": "Tool"}
    parts = [f"{names[t.role]}: {t.content.strip()}" for t in [*context, user]]
    return "\n\n".join(parts)


def message(turn: Turn) -> dict[str, str]:
    """A turn as a chat message."""
    return {"role": turn.role, "content": turn.content}
