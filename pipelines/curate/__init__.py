"""Curation: exact, near (MinHash LSH) and semantic dedup, and benchmark decontamination.

Every method is a chain of small steps over Arrow tables (see each module). Near and
semantic dedup compare matching texts (folded, instruction boilerplate stripped) under a
number guard (:mod:`tracemill.pipelines.curate.matching`). The keep
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
from tracemill.pipelines.curate.matching import (
    MatchConfig,
    NumberProfiles,
    matching_texts,
    number_profile,
    number_profiles,
)
from tracemill.pipelines.curate.near import (
    NearConfig,
    NearResult,
    lsh_edges,
    lsh_pairs,
    minhash_matrix,
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
from tracemill.pipelines.curate.progress import Progress, no_progress
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
    StaticModelEncoder,
    embed_step,
    neighbour_edges,
    semantic_clusters,
    semantic_edges,
    similar_pairs,
    text_keys,
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
    "MatchConfig",
    "NearConfig",
    "NearResult",
    "NormalizeConfig",
    "NumberProfiles",
    "Progress",
    "SemanticConfig",
    "SentenceTransformerEncoder",
    "StaticModelEncoder",
    "connected_clusters",
    "contamination_report",
    "contamination_rows",
    "dedup_rows",
    "edges_table",
    "embed_step",
    "embedding_matches",
    "exact_clusters",
    "lsh_edges",
    "lsh_pairs",
    "matching_texts",
    "method_config_id",
    "minhash_matrix",
    "minhash_step",
    "near_clusters",
    "neighbour_edges",
    "ngram_matches",
    "no_progress",
    "normalize_step",
    "normalize_text",
    "normalize_texts",
    "number_profile",
    "number_profiles",
    "number_signature",
    "run_exact",
    "run_near",
    "run_semantic",
    "select_representatives",
    "semantic_clusters",
    "semantic_edges",
    "shingle_step",
    "similar_pairs",
    "text_keys",
    "unclustered_rows",
    "vectors_table",
    "word_tokens",
]
