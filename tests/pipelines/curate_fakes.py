"""A fast, deterministic stand-in for a sentence encoder (bag of hashed words)."""

import re
import zlib

import numpy as np


class FakeEncoder:
    """Bag-of-words vectors: texts with the same words (any order) get cosine 1."""

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim
        self.calls = 0
        self.texts = 0

    def encode(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        self.texts += len(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"[a-z]+", text.lower()):
                out[i, zlib.crc32(word.encode()) % self.dim] += 1.0
        out[:, 0] += 0.01  # no zero vectors
        return out


# A static (model2vec) model distilled from the packaged MiniLM with a tiny vocabulary:
# the special tokens and the one-letter word pieces. It distills in seconds
# (the full vocabulary takes a minute or more) and exercises the real distillation,
# folder layout and encoder; its vectors are poor, so tests assert mechanics with it.
TINY_VOCABULARY = r"^(?!\[(?:CLS|SEP|PAD|UNK|MASK)\]$)(?!(?:##)?[a-z]$)"
_TINY: dict[str, object] = {}


def tiny_static_models(root) -> object:
    """A models folder holding the tiny static model where the flow looks for it.

    Distilled once per test process (later calls copy the first one).
    """
    import shutil
    from pathlib import Path

    from tracemill.stores.embeddings import _static_folder, distill_static_model

    target = Path(root) / _static_folder()
    if "path" not in _TINY:
        _TINY["path"] = distill_static_model(
            target, dims=16, token_remove_pattern=TINY_VOCABULARY
        )
    elif _TINY["path"] != target and not target.exists():
        shutil.copytree(_TINY["path"], target)
    return Path(root)
