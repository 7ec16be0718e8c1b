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
    cfg = SemanticConfig(
        model="fake", threshold=0.8, same_numbers_threshold=None, no_numbers_threshold=None,
        exact_below=exact_below,
    )
    result = run_semantic(t, vectors, cfg)
    assert clusters_of(result) == {frozenset({"p0", "p1", "p2"})}
    rows = {r["problem_id"]: r for r in result.rows.to_pylist()}
    # shortest question wins (no answers, verdicts or levels)
    assert rows["p0"]["kept"] and rows["p1"]["representative"] == "p0"
    assert 0.8 <= rows["p1"]["similarity"] <= 1.0 and rows["p0"]["similarity"] == 1.0
    # without the number guard the renumbered triangle merges (same words)
    loose = run_semantic(
        t, vectors, SemanticConfig(
            model="fake", threshold=0.8, no_numbers_threshold=None, number_guard=False
        )
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
    result = run_semantic(t, vectors, SemanticConfig(threshold=0.9, no_numbers_threshold=None))
    clusters = clusters_of(result)
    assert any({"p0", "p1"} <= c for c in clusters)
    assert not any({"p4", "p5"} <= c for c in clusters)  # number guard
    assert not any("p3" in c for c in clusters)
    assert time.perf_counter() - start < 60


def _planted(n: int, dim: int = 32, pairs: int = 200, seed: int = 0):
    rng = np.random.default_rng(seed)
    m = rng.normal(size=(n, dim)).astype(np.float32)
    m /= np.linalg.norm(m, axis=1, keepdims=True)
    a = rng.choice(n, size=pairs, replace=False)
    b = (a + 1) % n
    m[b] = m[a] + 0.04 * rng.normal(size=(pairs, dim)).astype(np.float32)
    m /= np.linalg.norm(m, axis=1, keepdims=True)
    return m


def _brute(m: np.ndarray, groups: np.ndarray, floor: float) -> set[tuple[int, int]]:
    sims = m @ m.T
    i, j = np.nonzero(np.triu(sims >= floor, 1) & (groups[:, None] == groups[None, :]))
    return set(zip(i.tolist(), j.tolist(), strict=True))


@pytest.mark.parametrize(
    "cfg",
    [
        SemanticConfig(threshold=0.9, same_numbers_threshold=None),  # one block
        SemanticConfig(threshold=0.9, same_numbers_threshold=None, block=200, cell=50),  # IVF
    ],
    ids=["block", "ivf"],
)
def test_similar_pairs_match_brute_force(cfg: SemanticConfig) -> None:
    from tracemill.pipelines.curate import similar_pairs

    m = _planted(2000)
    one = np.zeros(len(m), dtype=np.int64)
    want = _brute(m, one, 0.9)
    i, j, sim = similar_pairs(m, one, cfg)
    got = set(zip(i.tolist(), j.tolist(), strict=True))
    assert len(want) >= 150 and got <= want and len(got) >= 0.98 * len(want)
    np.testing.assert_allclose(sim, np.einsum("ij,ij->i", m[i], m[j]), atol=1e-5)
    # groups: many small ones, a few large; pairs never cross a group
    groups = np.random.default_rng(1).integers(0, 400, size=len(m))
    groups[:600] = 7
    i, j, _ = similar_pairs(m, groups, cfg)
    got = set(zip(i.tolist(), j.tolist(), strict=True))
    want = _brute(m, groups, 0.9)
    assert (groups[i] == groups[j]).all() and got <= want and len(got) >= 0.98 * len(want)


def test_numbers_in_the_same_order_get_the_looser_threshold() -> None:
    from tracemill.pipelines.curate import semantic_edges
    from tracemill.pipelines.curate.matching import number_profiles

    texts = [
        "alice has 5 apples; bob gives 7 more apples.",  # 0
        "alice owns 5 apples; bob hands 7 more apples.",  # 1: same numbers, same order
        "bob gives 7 more apples; alice has 5 apples.",  # 2: clauses moved
        "alice has 7 apples; bob gives 5 more apples.",  # 3: numbers swapped
    ]

    def vectors(cos: float) -> np.ndarray:
        # p1..p3 each at cosine `cos` to p0, far from each other
        m = np.zeros((4, 4), dtype=np.float32)
        m[0, 0] = 1.0
        for k in (1, 2, 3):
            m[k, 0], m[k, k] = cos, np.sqrt(1 - cos**2)
        return m

    cfg = SemanticConfig(threshold=0.9, same_numbers_threshold=0.85)
    ids = ["p0", "p1", "p2", "p3"]
    edges = semantic_edges(ids, vectors(0.87), number_profiles(texts), cfg)
    assert {(r["a"], r["b"]) for r in edges.to_pylist()} == {("p0", "p1")}  # same order
    edges = semantic_edges(ids, vectors(0.92), number_profiles(texts), cfg)
    # same roles in another order pass the standard threshold; swapped numbers never
    assert {(r["a"], r["b"]) for r in edges.to_pylist()} == {("p0", "p1"), ("p0", "p2")}


def test_embed_step_by_text_key_encodes_equal_texts_once() -> None:
    from tracemill.pipelines.curate import text_keys

    texts = ["same text", "other text", "same text"]
    t = pa.table({"problem_id": ["a", "b", "c"], "matching": texts, "key": text_keys(texts)})
    enc = FakeEncoder()
    result = embed_step(t, enc, text_column="matching", key_column="key")
    assert enc.texts == 2 and result.encoded == 2 and result.reused == 0
    assert result.new.column_names == ["key", "vector"]
    np.testing.assert_array_equal(result.matrix[0], result.matrix[2])
    again = embed_step(t, None, known=result.new, text_column="matching", key_column="key")
    assert again.encoded == 0 and again.reused == 3
    np.testing.assert_array_equal(again.matrix, result.matrix)


def test_pair_thresholds_by_number_evidence() -> None:
    cfg = SemanticConfig(threshold=0.9, same_numbers_threshold=0.85, no_numbers_threshold=0.95)
    same = np.array([True, False, False])
    none = np.array([False, False, True])
    assert cfg.pair_thresholds(same, none).tolist() == [0.85, 0.9, 0.95]
    assert cfg.lowest == 0.85
    plain = SemanticConfig(threshold=0.8, same_numbers_threshold=None, no_numbers_threshold=None)
    assert plain.pair_thresholds(same, none).tolist() == [0.8, 0.8, 0.8]
    with pytest.raises(ValueError, match="no_numbers_threshold"):
        SemanticConfig(no_numbers_threshold=1.5)
