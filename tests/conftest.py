"""Shared fixtures: every test gets its own catalog and runs offline."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A private catalog location and no network access to model hubs."""
    monkeypatch.setenv("TRACEMILL_CATALOG", str(tmp_path / "catalog"))
    monkeypatch.delenv("TRACEMILL_DATA_PATH", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    monkeypatch.setenv("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture
def catalog_dir(tmp_path: Path) -> Path:
    """The test's catalog directory (same as $TRACEMILL_CATALOG)."""
    return tmp_path / "catalog"


@pytest.fixture
def catalog(catalog_dir: Path) -> Iterator[object]:
    """An open, writable catalog store in the test's directory."""
    from tracemill.stores.catalog import open_catalog

    with open_catalog(catalog_dir) as store:
        yield store
