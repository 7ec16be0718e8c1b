import numpy as np
import pyarrow as pa
from tracemill.pipelines.curate import vectors_table
from tracemill.stores.embeddings import EmbeddingCache, model_slug, packaged_minilm_zip


def test_model_slug(tmp_path) -> None:
    assert model_slug("sentence-transformers/all-MiniLM-L6-v2") == (
        "sentence-transformers--all-MiniLM-L6-v2"
    )
    local = tmp_path / "my model"
    local.mkdir()
    slug = model_slug(str(local))
    assert slug.startswith("my-model-") and "/" not in slug


def test_cache_roundtrip_filter_and_first_write_wins(tmp_path) -> None:
    cache = EmbeddingCache(tmp_path, "m")
    assert cache.read() is None and cache.write(vectors_table([], np.zeros((0, 2)))) is None
    cache.write(vectors_table(["a", "b"], np.array([[1, 0], [0, 1]], dtype=np.float32)))
    cache.write(vectors_table(["b", "c"], np.array([[9, 9], [1, 1]], dtype=np.float32)))
    assert cache.count() == 4
    got = cache.read(["b", "c", "zz"])
    assert got is not None
    rows = {r["key"]: r["vector"] for r in got.to_pylist()}
    assert sorted(rows) == ["b", "c"] and rows["b"] == [0.0, 1.0]
    # stored as float16, read back as float32
    assert got.schema.field("vector").type == pa.list_(pa.float32(), 2)
    assert cache.write(vectors_table(["d"], np.array([[1 / 3, 0.1]], dtype=np.float32)))
    d = cache.read(["d"]).column("vector")[0].as_py()
    assert d == [float(np.float16(1 / 3)), float(np.float16(0.1))]
    assert not list(tmp_path.rglob("*.tmp"))
    assert EmbeddingCache(tmp_path, "other").read() is None


def test_packaged_model_is_found_without_importing_it() -> None:
    import sys

    assert packaged_minilm_zip().name == "model.zip"
    assert "all_minilm_l6_v2" not in sys.modules


def test_static_model_is_found_beside_the_catalog_then_in_the_models_folder(
    tmp_path, monkeypatch
) -> None:
    from tracemill.stores import embeddings

    calls = []
    monkeypatch.setattr(
        embeddings, "distill_static_model", lambda target: calls.append(target) or target
    )
    monkeypatch.setenv("TRACEMILL_MODELS", str(tmp_path / "shared"))
    monkeypatch.delenv("TRACEMILL_EMBEDDINGS", raising=False)
    folder = embeddings._static_folder()
    assert folder.startswith("tracemill--all-MiniLM-L6-v2-static256-m2v")
    # nothing anywhere: distilled beside the catalog
    assert embeddings.static_model_path(tmp_path / "cat") == tmp_path / "cat" / "models" / folder
    shared = tmp_path / "shared" / folder
    shared.mkdir(parents=True)
    (shared / "config.json").write_text("{}")
    (shared / "model.safetensors").write_text("")
    assert embeddings.static_model_path(tmp_path / "cat") == shared
    assert embeddings.static_model_path(None) == shared
    assert len(calls) == 1
