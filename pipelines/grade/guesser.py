"""A tiny local student that guesses one digit: real sampling with known pass rates.

For benchmarks and tests of grading on a real generation backend without a download.
:func:`build_guesser` saves a random 2-layer Llama (hidden 32) with a word-level
tokenizer; its generation config suppresses every token but the digits ``0`` …
``choices - 1`` (default ``0`` and ``1``), so one new token (``max_tokens=1``) is always
one of them. :func:`guess_problems` makes problems "guess the digit <random words>"
whose answer is one of those digits, checked by the ``exact`` rule verifier. Different
prompts give different next-digit distributions, so problems get a spread of pass
rates (with two choices a U shape: many near 0 or 1, the rest spread between, as a
student's pass rates over a mixed bank usually are), and :func:`true_pass_rates`
computes each problem's exact pass probability from the logits: the truth graded
levels can be compared with.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

SPECIAL = ("<unk>", "<pad>", "<s>", "</s>", "<|user|>", "<|assistant|>")
DIGITS = tuple(str(d) for d in range(10))
WORDS = (
    *("guess", "the", "digit", "red", "blue", "green", "cat", "dog", "sun", "moon"),
    *("tree", "rock", "fish", "bird", "star", "rain", "wind", "fire", "snow", "leaf"),
)
VOCAB = {tok: i for i, tok in enumerate(SPECIAL + DIGITS + WORDS)}
CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|> {{ m['content'] }} {% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)
SOURCE = "guess-digit"


def build_guesser(path: str | Path, *, choices: int = 2, seed: int = 0, scale: float = 0.5) -> Path:
    """Save the guessing Llama and its tokenizer to ``path``; returns the path.

    ``scale`` is the weights' init standard deviation: large (0.5, against the usual
    0.02) so the next-digit distribution is peaked and depends strongly on the prompt.
    """
    import torch
    from tokenizers import AddedToken, Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    if not 2 <= choices <= 10:
        raise ValueError(f"choices must be in 2..10, got {choices}")
    out = Path(path)
    out.mkdir(parents=True, exist_ok=True)
    config = LlamaConfig(
        vocab_size=len(VOCAB),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
        initializer_range=scale,
        tie_word_embeddings=False,
        bos_token_id=VOCAB["<s>"],
        eos_token_id=VOCAB["</s>"],
        pad_token_id=VOCAB["<pad>"],
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    gen = model.generation_config
    gen.eos_token_id = VOCAB["</s>"]
    gen.pad_token_id = VOCAB["<pad>"]
    gen.suppress_tokens = [i for tok, i in VOCAB.items() if tok not in DIGITS[:choices]]
    model.save_pretrained(out)

    tok = Tokenizer(models.WordLevel(vocab=VOCAB, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in SPECIAL])
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>", bos_token="<s>",
        eos_token="</s>",
    )  # fmt: skip
    fast.chat_template = CHAT_TEMPLATE
    fast.save_pretrained(out)
    return out


def guess_problems(
    n: int, *, choices: int = 2, seed: int = 0, words: int = 6
) -> list[dict[str, Any]]:
    """``n`` distinct problems "guess the digit w1 … wN"; the answer is a digit < ``choices``."""
    from tracemill.catalogs import problem_id

    rng = random.Random(f"guess:{seed}")
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    while len(rows) < n:
        question = "guess the digit " + " ".join(rng.choice(WORDS[3:]) for _ in range(words))
        answer = rng.choice(DIGITS[:choices])
        if question in seen:
            continue
        seen.add(question)
        rows.append(
            {
                "problem_id": problem_id("other", question),
                "source": SOURCE,
                "domain": "other",
                "question": question,
                "answer": answer,
                "verifier": "exact",
            }
        )
    return rows


def true_pass_rates(
    path: str | Path, problems: Sequence[Mapping[str, Any]], *, temperature: float = 1.0
) -> dict[str, float]:
    """Each problem's exact pass probability: P(first sampled digit == answer).

    Holds for sampling with ``temperature``, ``top_p = 1`` and ``max_tokens = 1``, the
    prompt being the question as the only user message (no system prompt); the digits
    the model may emit are read from its generation config.
    """
    import torch
    from transformers import AutoTokenizer, LlamaForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    model = LlamaForCausalLM.from_pretrained(str(path), local_files_only=True).eval()
    suppressed = set(model.generation_config.suppress_tokens or [])
    allowed = [d for d in DIGITS if VOCAB[d] not in suppressed]
    digit_ids = [VOCAB[d] for d in allowed]
    out: dict[str, float] = {}
    with torch.inference_mode():
        for p in problems:
            text = tokenizer.apply_chat_template(
                [{"role": "user", "content": p["question"]}],
                add_generation_prompt=True,
                tokenize=False,
            )
            ids = tokenizer(text, return_tensors="pt", add_special_tokens=False)["input_ids"]
            logits = model(input_ids=ids).logits[0, -1, digit_ids].double()
            probs = torch.softmax(logits / temperature, dim=-1)
            out[p["problem_id"]] = float(probs[allowed.index(str(p["answer"]))])
    return out
