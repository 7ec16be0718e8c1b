import numpy as np
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
    rows = {r["problem_id"]: r["vector"] for r in got.to_pylist()}
    assert sorted(rows) == ["b", "c"] and rows["b"] == [0.0, 1.0]
    assert not list(tmp_path.rglob("*.tmp"))
    assert EmbeddingCache(tmp_path, "other").read() is None


def test_packaged_model_is_found_without_importing_it() -> None:
    import sys

    assert packaged_minilm_zip().name == "model.zip"
    assert "all_minilm_l6_v2" not in sys.modules
