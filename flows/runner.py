"""``run_recipe``: run a recipe file as a Prefect flow or in this process.

The one module that knows both ways of running a recipe: :mod:`tracemill.flows.recipe`
(read, validate, run inline, record the ``runs`` row) and :mod:`tracemill.flows.engine`
(the same stages as Prefect tasks). Neither of those imports this one or each other's
callers, so the modules form no import cycle.
"""

from __future__ import annotations

import os

from tracemill.flows.recipe import (
    RunResult,
    execute_recipe,
    load_recipe,
    resolve_catalog,
    run_stages_inline,
)


def run_recipe(
    path: str | os.PathLike[str],
    *,
    catalog: str | None = None,
    use_prefect: bool | None = None,
    run_id: str | None = None,
) -> RunResult:
    """Run a recipe (as a Prefect flow unless disabled) and record its ``runs`` rows.

    ``use_prefect`` None follows the recipe's ``prefect`` key; ``run_id`` is the recipe
    run's id (default: a new one).
    """
    loaded = load_recipe(path)
    catalog = resolve_catalog(loaded, catalog)
    prefect = loaded.recipe.prefect if use_prefect is None else use_prefect
    if not prefect:
        return execute_recipe(
            loaded, catalog=catalog, executor=run_stages_inline, run_id=run_id
        )
    from tracemill.flows.recipe import recipe_environment
    from tracemill.flows.settings import configure_prefect
    from tracemill.stores.catalog import open_catalog

    with recipe_environment(loaded.recipe.env()), open_catalog(catalog):
        pass  # the catalog directory holds Prefect's home: create it first
    configure_prefect(catalog)  # before Prefect is imported
    from tracemill.flows.engine import run_stages_in_prefect

    return execute_recipe(
        loaded, catalog=catalog, executor=run_stages_in_prefect, run_id=run_id
    )
