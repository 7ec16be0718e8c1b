import time

import numpy as np
import pyarrow as pa
import pytest
from tracemill.pipelines.curate import (
    Encoder,
    SemanticConfig,
    embed_step,
    run_semantic,
    vectors_table,
)
from tracemill.pipelines.curate.semantic import search_neighbours, vector_matrix

from .curate_fakes import FakeEncoder

QUESTIONS = [
    "How many ways can five books be arranged on a shelf",  # p0
    "In how many ways can five books be arranged on a shelf",  # p1 ~ p0
    "On a shelf, five books: in how many ways can they be arranged",  # p2 ~ p0 (reordered)
    "Find all real roots of the cubic polynomial with integer coefficients",  # p3
    "Find the area of a triangle with sides 3, 4 and 5",  # p4
    "Find the area of a triangle with sides 5, 12 and 13",  # p5: renumbered p4
]


def problems() -> pa.Table:
    return pa.table({"problem_id": [f"p{i}" for i in range(len(QUESTIONS))], "question": QUESTIONS})


def clusters_of(result) -> set[frozenset[str]]:
    groups: dict[str, set[str]] = {}
    for row in result.rows.to_pylist():
        groups.setdefault(row["cluster"], set()).add(row["problem_id"])
    return {frozenset(g) for g in groups.values()}


def test_fake_encoder_is_an_encoder() -> None:
    assert isinstance(FakeEncoder(), Encoder)


@pytest.mark.parametrize("exact_below", [20_000, 0])  # exact search, then HNSW
def test_semantic_clusters_with_fake_encoder(exact_below: int) -> None:
    t = problems()
    vectors = embed_step(t, FakeEncoder()).vectors
    cfg = SemanticConfig(model="fake", threshold=0.8, exact_below=exact_below)
    result = run_semantic(t, vectors, cfg)
    assert clusters_of(result) == {frozenset({"p0", "p1", "p2"})}
    rows = {r["problem_id"]: r for r in result.rows.to_pylist()}
    # shortest question wins (no answers, verdicts or levels)
    assert rows["p0"]["kept"] and rows["p1"]["representative"] == "p0"
    assert 0.8 <= rows["p1"]["similarity"] <= 1.0 and rows["p0"]["similarity"] == 1.0
    # without the number guard the renumbered triangle merges (same words)
    loose = run_semantic(
        t, vectors, SemanticConfig(model="fake", threshold=0.8, number_guard=False)
    )
    assert frozenset({"p4", "p5"}) in clusters_of(loose)


def test_embed_step_reuses_known_vectors() -> None:
    t = problems()
    enc = FakeEncoder()
    first = embed_step(t.slice(0, 4), enc)
    assert first.encoded == 4 and enc.texts == 4
    second = embed_step(t, enc, known=first.new)
    assert second.encoded == 2 and second.reused == 4 and enc.texts == 6
    assert second.new.column("problem_id").to_pylist() == ["p4", "p5"]
    np.testing.assert_allclose(vector_matrix(second.vectors)[:4], vector_matrix(first.vectors))
    # everything known: no encoder needed
    third = embed_step(t, None, known=pa.concat_tables([first.new, second.new]))
    assert third.encoded == 0
    with pytest.raises(ValueError, match="no cached vector"):
        embed_step(t, None, known=first.new)


def test_search_neighbours_exact_and_hnsw_agree() -> None:
    rng = np.random.default_rng(0)
    m = rng.normal(size=(300, 16)).astype(np.float32)
    m /= np.linalg.norm(m, axis=1, keepdims=True)
    exact_keys, exact_sims = search_neighbours(m, m, 3, SemanticConfig(exact_below=10**6))
    hnsw_keys, _ = search_neighbours(m, m, 3, SemanticConfig(exact_below=0))
    assert (exact_keys[:, 0] == np.arange(300)).all()
    np.testing.assert_allclose(exact_sims[:, 0], 1.0, atol=1e-5)
    assert (exact_keys[:, 1] == hnsw_keys[:, 1]).mean() > 0.95


def test_vectors_table_roundtrip() -> None:
    m = np.arange(6, dtype=np.float32).reshape(2, 3)
    t = vectors_table(["a", "b"], m)
    assert t.schema.field("vector").type == pa.list_(pa.float32(), 3)
    np.testing.assert_array_equal(vector_matrix(t), m)


@pytest.mark.slow
def test_packaged_minilm_semantic_dedup(tmp_path) -> None:
    from tracemill.pipelines.curate import SentenceTransformerEncoder
    from tracemill.stores.embeddings import packaged_minilm_path

    start = time.perf_counter()
    path = packaged_minilm_path(tmp_path / "models")
    assert (path / "modules.json").exists()
    assert packaged_minilm_path(tmp_path / "models") == path  # extracted once
    encoder = SentenceTransformerEncoder(str(path), device="cpu")
    t = problems()
    vectors = embed_step(t, encoder).vectors
    assert vector_matrix(vectors).shape == (6, 384)
    result = run_semantic(t, vectors, SemanticConfig(threshold=0.9))
    clusters = clusters_of(result)
    assert any({"p0", "p1"} <= c for c in clusters)
    assert not any({"p4", "p5"} <= c for c in clusters)  # number guard
    assert not any("p3" in c for c in clusters)
    assert time.perf_counter() - start < 60
