"""Environment for Prefect, set before Prefect is imported."""

from __future__ import annotations

import os


def configure_prefect(catalog: str | None) -> None:
    """Point Prefect's local home at the catalog directory and quiet its start-up.

    Values the user already set win. ``PREFECT_HOME`` is only set for an embedded catalog
    and when no Prefect server (``PREFECT_API_URL``) is configured.
    """
    from tracemill.stores.catalog import CatalogConfig

    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # the ephemeral server's first start takes ~18 s here, close to the 20 s default
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_UI_ENABLED", "false")
    if "PREFECT_API_URL" in os.environ or "PREFECT_HOME" in os.environ:
        return
    config = CatalogConfig.resolve(catalog)
    if config.root is not None:
        os.environ["PREFECT_HOME"] = str(config.root / ".prefect")
