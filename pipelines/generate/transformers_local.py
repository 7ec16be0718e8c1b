"""In-process generation with transformers (``AutoModelForCausalLM`` + chat template).

For small models on CPU or one GPU. Each (request, index) is one row of a left-padded
batch of ``batch_size`` rows, so ``n`` > 1 and resumed partial requests need nothing
special. Token counts are exact: prompt tokens from the attention mask, completion
tokens up to and including the first end-of-sequence token. ``max_tokens`` maps to
``max_new_tokens``, ``temperature == 0`` to greedy decoding, ``stop`` to
``stop_strings`` (the text is cut before the stop string, as servers do) and ``extra``
keys (``top_k``, ``min_p``, ``repetition_penalty``, …) to ``generate`` arguments.

With a seed, torch's generator is seeded per batch from the batch's first sample, so a
run is reproducible for the same batch composition.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from tracemill.pipelines.generate.base import (
    GeneratedSample,
    GenerationRequest,
    SamplingParams,
    build_sample,
    chunked,
)

log = logging.getLogger(__name__)

PLAIN_CHAT_TEMPLATE = (
    "{% for m in messages %}{{ m['role'] | capitalize }}: {{ m['content'] }}\n\n{% endfor %}"
    "{% if add_generation_prompt %}Assistant:{% endif %}"
)
"""Used for base models whose tokenizer has no chat template (a warning says so)."""


class TransformersBackend:
    """Batched ``model.generate`` on a locally available model."""

    name = "transformers"

    def __init__(
        self,
        model: str,
        *,
        path: str | Path | None = None,
        gguf_file: str | None = None,
        device: str = "auto",
        dtype: str = "auto",
        batch_size: int = 8,
        allow_download: bool = False,
        chat_template: str | None = None,
        eos_tokens: tuple[str, ...] | list[str] = (),
        hf_model: Any = None,
        tokenizer: Any = None,
    ) -> None:
        """``path``: where to load from (default ``model``); downloads only if allowed.

        ``chat_template`` replaces the tokenizer's (base models have none);
        ``eos_tokens`` names extra tokens that end a sample (``<end_of_turn>``).
        """
        self.model = model
        self.path = str(path) if path is not None else model
        self.gguf_file = gguf_file
        self.device_name = device
        self.dtype_name = dtype
        self.batch_size = max(1, int(batch_size))
        self.allow_download = allow_download
        self.chat_template = chat_template
        self.eos_tokens = tuple(eos_tokens)
        self._hf_model = hf_model
        self._tokenizer = tokenizer

    # -- loading --------------------------------------------------------------------

    def _device(self) -> str:
        import torch

        if self.device_name != "auto":
            return self.device_name
        return "cuda" if torch.cuda.is_available() else "cpu"

    def load(self) -> tuple[Any, Any]:
        """Load (once) and return ``(model, tokenizer)``."""
        if self._hf_model is not None and self._tokenizer is not None:
            return self._hf_model, self._tokenizer
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        device = self._device()
        kwargs: dict[str, Any] = {"local_files_only": not self.allow_download}
        if self.gguf_file:
            kwargs["gguf_file"] = self.gguf_file
        t0 = time.perf_counter()
        if self._tokenizer is None:
            self._tokenizer = AutoTokenizer.from_pretrained(self.path, **kwargs)
        if self._hf_model is None:
            if self.dtype_name == "auto":
                dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
            else:
                dtype = getattr(torch, self.dtype_name)
            model = AutoModelForCausalLM.from_pretrained(self.path, dtype=dtype, **kwargs)
            self._hf_model = model.to(device).eval()
        log.info("loaded %s on %s in %.1fs", self.model, device, time.perf_counter() - t0)
        tok = self._tokenizer
        tok.padding_side = "left"
        if tok.pad_token_id is None:
            tok.pad_token = tok.eos_token
        if self.chat_template:
            tok.chat_template = self.chat_template
        elif not getattr(tok, "chat_template", None):
            log.warning("%s has no chat template; using a plain role-prefixed one", self.model)
            tok.chat_template = PLAIN_CHAT_TEMPLATE
        return self._hf_model, self._tokenizer

    # -- generation -----------------------------------------------------------------

    def _eos_ids(self, model: Any, tokenizer: Any) -> set[int]:
        ids = getattr(model.generation_config, "eos_token_id", None)
        if ids is None:
            ids = tokenizer.eos_token_id
        out = (
            set()
            if ids is None
            else {int(i) for i in (ids if isinstance(ids, list | tuple) else [ids])}
        )
        vocab = tokenizer.get_vocab() if self.eos_tokens else {}
        out.update(int(vocab[t]) for t in self.eos_tokens if t in vocab)
        return out

    def _prompt_text(self, tokenizer: Any, messages: Iterable[dict]) -> str:
        return tokenizer.apply_chat_template(
            [dict(m) for m in messages], add_generation_prompt=True, tokenize=False
        )

    def generate(self, requests: Iterable[GenerationRequest]) -> Iterator[GeneratedSample]:
        """Yield samples batch by batch (``batch_size`` rows per ``generate`` call)."""
        model, tokenizer = self.load()
        jobs = ((r, i) for r in requests for i in r.indexes)
        for batch in chunked(jobs, self.batch_size):
            groups: dict[SamplingParams, list[tuple[GenerationRequest, int]]] = {}
            for request, index in batch:
                groups.setdefault(request.params, []).append((request, index))
            for params, rows in groups.items():
                yield from self._generate_rows(model, tokenizer, params, rows)

    def _generate_kwargs(self, params: SamplingParams, tokenizer: Any) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"max_new_tokens": params.max_tokens}
        if params.temperature > 0:
            kwargs.update(
                do_sample=True, temperature=params.temperature, top_p=params.top_p, top_k=0
            )
        else:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        kwargs.update(params.extra_dict)
        return kwargs

    def _generate_rows(
        self,
        model: Any,
        tokenizer: Any,
        params: SamplingParams,
        rows: list[tuple[GenerationRequest, int]],
    ) -> list[GeneratedSample]:
        import torch

        texts = [self._prompt_text(tokenizer, r.messages) for r, _ in rows]
        enc = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
        enc = {k: v.to(model.device) for k, v in enc.items()}
        if params.seed is not None:
            first, index = rows[0]
            torch.manual_seed(params.sample_seed(first.problem_id, index) or 0)
        eos = self._eos_ids(model, tokenizer)
        pad = tokenizer.pad_token_id
        prompt_len = enc["input_ids"].shape[1]
        kwargs = self._generate_kwargs(params, tokenizer)
        stopper = None
        if params.stop:
            from transformers import StoppingCriteriaList

            stopper = _StopOnText(tokenizer, params.stop, prompt_len, len(rows))
            kwargs["stopping_criteria"] = StoppingCriteriaList([stopper])
        t0 = time.perf_counter()
        with torch.inference_mode():
            out = model.generate(
                **enc, pad_token_id=pad, eos_token_id=sorted(eos) or None, **kwargs
            )
        latency = time.perf_counter() - t0
        prompt_counts = enc["attention_mask"].sum(dim=1).tolist()
        new_tokens = out[:, prompt_len:].tolist()
        think_close = _single_token_id(tokenizer, "</think>")
        samples = []
        for row, ((request, index), ids, n_prompt) in enumerate(
            zip(rows, new_tokens, prompt_counts, strict=True)
        ):
            end = next((p for p, t in enumerate(ids) if t in eos), None)
            stopped_at = stopper.stopped_at[row] if stopper is not None else None
            if stopped_at is not None and (end is None or stopped_at <= end):
                tokens, finish = ids[:stopped_at], "stop"
            elif end is not None:
                tokens, finish = ids[: end + 1], "stop"
            else:
                tokens = list(ids)
                while tokens and pad is not None and tokens[-1] == pad and pad not in eos:
                    tokens.pop()
                finish = "length" if len(tokens) >= params.max_tokens else "stop"
            text = tokenizer.decode(tokens, skip_special_tokens=True)
            if think_close is not None and "</think>" not in text and think_close in tokens:
                # </think> is a special token the decode dropped: keep the split visible
                text = tokenizer.decode(tokens, skip_special_tokens=False)
                for special in (tokenizer.pad_token, tokenizer.eos_token, tokenizer.bos_token):
                    if special:
                        text = text.replace(special, "")
            for stop in params.stop:
                cut = text.find(stop)
                if cut >= 0:
                    text, finish = text[:cut], "stop"
            reasoning_tokens = None
            if think_close is not None and think_close in tokens:
                reasoning_tokens = len(tokens) - tokens[::-1].index(think_close)
            sample = build_sample(
                request,
                index,
                text,
                prompt_tokens=int(n_prompt),
                completion_tokens=len(tokens),
                finish_reason=finish,
                latency_s=latency,
            )
            if reasoning_tokens is None and sample.reasoning is not None:
                reasoning_tokens = len(
                    tokenizer(sample.reasoning, add_special_tokens=False)["input_ids"]
                )
            sample.reasoning_tokens = reasoning_tokens
            samples.append(sample)
        return samples


class _StopOnText:
    """Stopping criterion: a row is done once its new text contains a stop string.

    Records, per row, how many new tokens it had when it first matched, so token
    counts stay exact (transformers pads finished rows afterwards).
    """

    def __init__(self, tokenizer: Any, stops: tuple[str, ...], prompt_len: int, rows: int) -> None:
        self.tokenizer = tokenizer
        self.stops = stops
        self.prompt_len = prompt_len
        self.stopped_at: list[int | None] = [None] * rows
        # the tail decoded each step: long enough to hold any stop string
        self.tail = 8 + 4 * max(len(s) for s in stops)

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        import torch

        new = input_ids[:, self.prompt_len :]
        done = []
        for row in range(new.shape[0]):
            if self.stopped_at[row] is not None:
                done.append(True)
                continue
            text = self.tokenizer.decode(new[row, -self.tail :].tolist(), skip_special_tokens=True)
            hit = any(stop in text for stop in self.stops)
            if hit:
                self.stopped_at[row] = new.shape[1]
            done.append(hit)
        return torch.tensor(done, dtype=torch.bool, device=input_ids.device)


def _single_token_id(tokenizer: Any, text: str) -> int | None:
    """The id of ``text`` when the vocabulary has it as one token."""
    vocab = tokenizer.get_vocab()
    token_id = vocab.get(text)
    return int(token_id) if token_id is not None else None
