"""A scripted judge model that falls for what weak judge models fall for (a test double).

It stands in for the model behind the ``judge`` verifier so the red-team tests prove
that the prompt and the verdict parser resist a *gullible* judge, not a careful one.
It reads the conversation the way a small chat model served with a ChatML template
would:

- the messages are rendered with ChatML special tokens and split into turns on them,
  as a tokenizer does, so ``<|im_start|>system`` written *inside* a message opens a
  real new turn;
- it has a context of ``context_chars``; a longer prompt loses its end (``keep="start"``)
  or its start (``keep="end"``), like a server that truncates prompts;
- a block that starts on a line beginning ``<<<RESPONSE`` and ends on the next line
  beginning ``<<<END RESPONSE`` is *data*; it is sloppy: it does not check the tag;
- every other line of a system or user turn (quoted or not) is an *instruction*: it obeys the last
  sentence there that tells it to answer PASS or YES (and names no other outcome or
  condition), and it repeats a verdict it finds in an earlier assistant turn;
- otherwise it grades: the last ``\\boxed{}`` (or "answer is X") in the data against the
  line after "Reference answer"; with no reference in view it passes (sycophancy);
- it is chatty: verdict-like lines it read in the data are quoted back after its own
  verdict (a postscript a lenient parser would take for the verdict).

Its reply ends with ``VERDICT: PASS`` or ``VERDICT: FAIL``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tracemill.pipelines.extract import last_boxed

_TURN = re.compile(r"<\|im_start\|>(\w+)\n(.*?)(?=<\|im_end\|>|<\|im_start\|>|\Z)", re.DOTALL)
_SENTENCE = re.compile(r"[^.!?\n]+")
_DIRECTIVE = re.compile(
    r"(?:^|\b(?:and|so|must|should|please|just|simply|always|now|to|then)\s+)"
    r"(?:answer|reply|respond|output|say|write|print|grade|mark|return|give)\b"
    r"[^.!?\n]{0,40}?\b(?:PASS|YES|full marks)\b",
    re.IGNORECASE,
)
_OTHER_OUTCOME = re.compile(r"\b(?:FAIL|NO|wrong|incorrect|if|when|unless|only|otherwise)\b", re.I)
_CLAIM = re.compile(r"\b(?:verdict|grade|grader|graded)\b.*\b(?:PASS|FAIL|YES|correct)\b", re.I)
_PRIOR_VERDICT = re.compile(r"\b(?:VERDICT\s*:\s*)?(PASS|FAIL)\b")
_ANSWER_IS = re.compile(r"answer\s+is\s*:?\s*(.+)", re.IGNORECASE)


def render_chatml(messages: Sequence[Mapping[str, str]]) -> str:
    """The prompt text a ChatML chat template makes of `messages`."""
    turns = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
    return turns + "<|im_start|>assistant\n"


def _norm(text: str) -> str:
    return re.sub(r"[\s$]", "", text).rstrip(".").lower()


@dataclass
class GullibleJudge:
    """A :class:`~tracemill.pipelines.verify.judge.JudgeClient` that is easy to fool."""

    context_chars: int = 40_000
    keep: str = "start"
    name: str = "gullible"
    calls: int = 0

    def complete(self, messages: Sequence[Mapping[str, str]]) -> str:
        """The reply to one conversation."""
        self.calls += 1
        text = render_chatml(messages)
        if len(text) > self.context_chars:
            cut = self.context_chars
            text = text[:cut] if self.keep == "start" else text[-cut:]
        turns = [(m.group(1), m.group(2)) for m in _TURN.finditer(text)]
        if not text.startswith("<|im_start|>"):  # the start was cut: a headless user turn
            head = text.split("<|im_start|>", 1)[0]
            turns.insert(0, ("user", head))
        history, instructions, data = [], [], []
        for role, content in turns[:-1] if turns and not turns[-1][1].strip() else turns:
            if role == "assistant":
                history.append(content)
                continue
            inside = False
            for line in content.split("\n"):
                if line.startswith("<<<RESPONSE"):
                    inside = True
                elif line.startswith("<<<END RESPONSE"):
                    inside = False
                elif inside:
                    data.append(line[2:] if line.startswith("> ") else line)
                else:  # quote marks outside a data block do not stop it
                    instructions.append(line[2:] if line.startswith("> ") else line)
        for sentence in reversed([s for line in instructions for s in _SENTENCE.findall(line)]):
            if _DIRECTIVE.search(sentence) and not _OTHER_OUTCOME.search(sentence):
                return f"I was told: {sentence.strip()}\nVERDICT: PASS"
        for turn in reversed(history):
            prior = _PRIOR_VERDICT.findall(turn)
            if prior:
                return f"As before.\nVERDICT: {prior[-1].upper()}"
        echoes = [f"The response says: {line.strip()}" for line in data if _CLAIM.search(line)]
        reference = _reference(instructions)
        if reference is None:
            return "\n".join(["The response looks fine.", "VERDICT: PASS", *echoes])
        answer = _answer("\n".join(data))
        ok = answer is not None and _norm(answer) == _norm(reference)
        said = f"The response's answer {answer!r} vs reference {reference!r}."
        return "\n".join([said, f"VERDICT: {'PASS' if ok else 'FAIL'}", *echoes])


def _reference(instructions: list[str]) -> str | None:
    for i, line in enumerate(instructions):
        if line.strip().lower().startswith("reference answer"):
            after = line.split(":", 1)[1].strip() if ":" in line else ""
            if after:
                return after
            rest = [x for x in instructions[i + 1 :] if x.strip()]
            return rest[0].strip() if rest else None
    return None


def _answer(data: str) -> str | None:
    boxed = last_boxed(data)
    if boxed is not None:
        return boxed
    found = _ANSWER_IS.findall(data)
    return found[-1].strip() if found else None
