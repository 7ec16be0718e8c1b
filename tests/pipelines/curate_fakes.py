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
