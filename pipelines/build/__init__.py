"""Dataset builds (sft, rl, pairs): SQL over the catalog pinned to a snapshot."""

from tracemill.pipelines.build.datasets import (
    BuiltDataset,
    CatalogLike,
    build_dataset,
    dataset_info,
    dataset_query,
    list_datasets,
    read_dataset,
)
from tracemill.pipelines.build.options import (
    PairsOptions,
    ProblemFilter,
    RlOptions,
    SampleFilter,
    SftOptions,
    options_from_dict,
)
from tracemill.pipelines.build.queries import pairs_query, rl_query, sft_query

__all__ = [
    "BuiltDataset",
    "CatalogLike",
    "PairsOptions",
    "ProblemFilter",
    "RlOptions",
    "SampleFilter",
    "SftOptions",
    "build_dataset",
    "dataset_info",
    "dataset_query",
    "list_datasets",
    "options_from_dict",
    "pairs_query",
    "read_dataset",
    "rl_query",
    "sft_query",
]
