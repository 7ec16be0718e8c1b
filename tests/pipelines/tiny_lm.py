"""Tiny causal LMs built locally (no download): a word-level tokenizer with a chat
template, a random 2-layer Llama, and a "chain" Llama whose greedy output is fixed.

The chain model zeroes every layer's output projections so the residual stream is the
current token's one-hot embedding; its LM head maps each token to a chosen next token.
Greedy decoding after the prompt therefore always yields ``CHAIN`` then ``</s>``.
"""

from __future__ import annotations

from pathlib import Path

SPECIAL = ["<unk>", "<pad>", "<s>", "</s>", "<think>", "</think>",
           "<|system|>", "<|user|>", "<|assistant|>"]  # fmt: skip
WORDS = ["let", "me", "think", "the", "answer", "is", "4", "what", "plus", "2", "1", "3",
         "solve", "x", "hmm"]  # fmt: skip
VOCAB = {tok: i for i, tok in enumerate(SPECIAL + WORDS)}
CHAIN = ["<think>", "let", "me", "think", "</think>", "the", "answer", "is", "4", "</s>"]
CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|> {{ m['content'] }} {% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)


def build_tokenizer(path: Path) -> None:
    """Save a word-level fast tokenizer with a chat template to ``path``."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.WordLevel(vocab=VOCAB, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.decoder = decoders.WordPiece(prefix="##", cleanup=False)
    tok.add_special_tokens(
        [
            AddedToken(t, special=True, normalized=False)
            for t in SPECIAL
            if t not in ("<think>", "</think>")
        ]
    )
    tok.add_tokens(
        [AddedToken(t, special=False, normalized=False) for t in ("<think>", "</think>")]
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="<unk>",
        pad_token="<pad>",
        bos_token="<s>",
        eos_token="</s>",
    )
    fast.chat_template = CHAT_TEMPLATE
    fast.save_pretrained(path)


def _config(hidden: int, layers: int) -> object:
    from transformers import LlamaConfig

    return LlamaConfig(
        vocab_size=len(VOCAB),
        hidden_size=hidden,
        intermediate_size=2 * hidden,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        tie_word_embeddings=False,
        bos_token_id=VOCAB["<s>"],
        eos_token_id=VOCAB["</s>"],
        pad_token_id=VOCAB["<pad>"],
    )


def build_model(
    path: Path, *, chain: bool = False, seed: int = 0, hidden: int = 32, layers: int = 2
) -> Path:
    """Save a tiny Llama (2 layers, hidden 32 unless told) and its tokenizer to ``path``."""
    import torch
    from transformers import LlamaForCausalLM

    torch.manual_seed(seed)
    model = LlamaForCausalLM(_config(hidden, layers))
    if chain:
        nxt = {VOCAB[a]: VOCAB[b] for a, b in zip(CHAIN, CHAIN[1:], strict=False)}
        nxt[VOCAB["<|assistant|>"]] = VOCAB[CHAIN[0]]
        with torch.no_grad():
            hidden = model.config.hidden_size
            model.model.embed_tokens.weight.zero_()
            model.model.embed_tokens.weight[:, : len(VOCAB)] = torch.eye(len(VOCAB))
            assert len(VOCAB) <= hidden
            for layer in model.model.layers:
                layer.self_attn.o_proj.weight.zero_()
                layer.mlp.down_proj.weight.zero_()
            head = torch.zeros(len(VOCAB), hidden)
            for i in range(len(VOCAB)):
                head[nxt.get(i, VOCAB["</s>"]), i] = 10.0
            model.lm_head.weight.copy_(head)
    model.generation_config.eos_token_id = VOCAB["</s>"]
    model.generation_config.pad_token_id = VOCAB["<pad>"]
    model.save_pretrained(path)
    build_tokenizer(path)
    return path
