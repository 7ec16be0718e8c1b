"""Curation: exact, near (MinHash LSH) and semantic dedup, and benchmark decontamination.

Every method is a chain of small steps over Arrow tables (see each module); the keep
policy (:mod:`tracemill.pipelines.curate.select`) picks one representative per cluster and every
clustered problem gets an explainable ``dedup`` row.
"""

from tracemill.pipelines.curate.clusters import CLUSTERS, EDGES, connected_clusters, edges_table
from tracemill.pipelines.curate.decontam import (
    MATCHES,
    Benchmark,
    BenchmarkReport,
    DecontamConfig,
    contamination_report,
    contamination_rows,
    embedding_matches,
    ngram_matches,
)
from tracemill.pipelines.curate.dedup import (
    DedupResult,
    method_config_id,
    run_exact,
    run_near,
    run_semantic,
)
from tracemill.pipelines.curate.exact import ExactConfig, exact_clusters, normalize_step
from tracemill.pipelines.curate.near import (
    NearConfig,
    lsh_edges,
    minhash_step,
    near_clusters,
    shingle_step,
)
from tracemill.pipelines.curate.normalize import (
    NormalizeConfig,
    normalize_text,
    normalize_texts,
    number_signature,
    word_tokens,
)
from tracemill.pipelines.curate.select import (
    CRITERIA,
    DEFAULT_KEEP,
    FEATURES,
    KeepPolicy,
    dedup_rows,
    select_representatives,
    unclustered_rows,
)
from tracemill.pipelines.curate.semantic import (
    EmbedResult,
    Encoder,
    SemanticConfig,
    SentenceTransformerEncoder,
    embed_step,
    neighbour_edges,
    semantic_clusters,
    vectors_table,
)

__all__ = [
    "CLUSTERS",
    "CRITERIA",
    "DEFAULT_KEEP",
    "EDGES",
    "FEATURES",
    "MATCHES",
    "Benchmark",
    "BenchmarkReport",
    "DecontamConfig",
    "DedupResult",
    "EmbedResult",
    "Encoder",
    "ExactConfig",
    "KeepPolicy",
    "NearConfig",
    "NormalizeConfig",
    "SemanticConfig",
    "SentenceTransformerEncoder",
    "connected_clusters",
    "contamination_report",
    "contamination_rows",
    "dedup_rows",
    "edges_table",
    "embed_step",
    "embedding_matches",
    "exact_clusters",
    "lsh_edges",
    "method_config_id",
    "minhash_step",
    "near_clusters",
    "neighbour_edges",
    "ngram_matches",
    "normalize_step",
    "normalize_text",
    "normalize_texts",
    "number_signature",
    "run_exact",
    "run_near",
    "run_semantic",
    "select_representatives",
    "semantic_clusters",
    "shingle_step",
    "unclustered_rows",
    "vectors_table",
    "word_tokens",
]
