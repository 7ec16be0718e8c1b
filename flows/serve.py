"""``tracemill serve``: tracemill's flows as Prefect deployments served by one process.

No work pool and no worker: one long-running process registers the deployments with a
Prefect server (the stage flows and recipe flows of :mod:`tracemill.flows.engine`, under
the names ``prefect.yaml`` gives them: ``synth/synth``, ``recipe/<name>``) and runs
each flow run the server hands it in a child process that inherits its environment (the
catalog, data path, object-storage and Ray variables). This is Prefect's own ``serve``
(``flow.to_deployment`` + the :class:`prefect.runner.Runner` that ``prefect.serve``
drives) with its stop mended: Prefect 3.8.8's ``serve`` stops badly — SIGTERM calls the
runner's async ``stop`` without awaiting it, both SIGTERM and Ctrl-C leave the flow runs
in flight ``Running`` forever, and the runner's cancel-all also cancels a run that has
just completed. Here either signal awaits the runner's own stop: the runs in flight (and
only those) are cancelled (state ``Cancelled``; tracemill's stages are resumable, so
rerunning one loses and repeats nothing), the deployments' schedules are paused (serving
again resumes them) and the process exits.

Prefect is imported inside the functions, once :func:`prepare_environment` has set the
environment it reads at import.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

SERVED_STAGES = ("ingest", "synth", "verify", "curate", "distill", "grade", "select", "build",
                 "export", "train")  # fmt: skip
"""The stage flows served, in ``prefect.yaml``'s order (``engine.STAGE_FLOWS`` has each)."""
HEALTH_TIMEOUT_S = 10.0
"""How long the start-up check waits for the Prefect API's ``/health``."""


class PrefectUnavailableError(ConnectionError):
    """No Prefect API is configured, or the configured one does not answer."""


class DeploymentTakenError(ValueError):
    """A deployment to serve exists on a work pool (``prefect deploy``): one owner a name."""


@dataclass(frozen=True)
class Schedule:
    """A recipe deployment's schedule: a cron expression or an interval in seconds."""

    cron: str | None = None
    interval_s: float | None = None
    timezone: str = "UTC"

    def describe(self) -> str:
        """``cron 0 2 * * * (UTC)``, ``every 3600 s`` or ``-``."""
        if self.cron:
            return f"cron {self.cron} ({self.timezone})"
        if self.interval_s:
            return f"every {self.interval_s:g} s"
        return "-"


@dataclass(frozen=True)
class ServedRecipe:
    """A recipe file served as deployment ``recipe/<name>``."""

    name: str
    path: Path
    schedule: Schedule


_DSN_PASSWORD = re.compile(r"(password\s*=\s*)('[^']*'|\S+)", re.IGNORECASE)


def catalog_shown(catalog: str) -> str:
    """A catalog location to print: passwords in a DSN or URL masked.

    Example:
        >>> catalog_shown("postgres:dbname=tm host=db user=tm password=s3cret")
        'postgres:dbname=tm host=db user=tm password=***'
        >>> catalog_shown("postgres:postgresql://tm:s3cret@db/tm")
        'postgres:postgresql://***@db/tm'
    """
    from tracemill.flows.runs import redact

    return str(redact(_DSN_PASSWORD.sub(r"\1***", catalog)))


def prepare_environment(catalog: str | None) -> None:
    """The serving process's environment, set before Prefect is imported.

    Its flow runs inherit it: tracemill's loggers forwarded to Prefect, INFO console
    logs (runs starting and ending), and no Prefect home of its own (the user's profile
    may be what names their server).
    """
    from tracemill.flows.settings import configure_prefect

    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO")
    configure_prefect(catalog, local_home=False)


def prefect_api_url() -> str:
    """The Prefect API this process would talk to, checked to answer.

    Read from the environment and the active Prefect profile (``prefect config set
    PREFECT_API_URL=…``). Raises :class:`PrefectUnavailableError` when none is set (the
    ephemeral API of a lone process cannot be triggered or scheduled from outside) or it
    does not answer its health check within :data:`HEALTH_TIMEOUT_S`.
    """
    import httpx
    from prefect.settings import Settings

    settings = Settings()  # as the environment and the profile say now
    url = (settings.api.url or "").rstrip("/")
    if not url:
        raise PrefectUnavailableError(
            "no Prefect API configured: set PREFECT_API_URL to a Prefect server "
            "(e.g. http://127.0.0.1:4200/api after `prefect server start`) or to Prefect "
            "Cloud; serving needs one to register its deployments with"
        )
    headers = {}
    key = settings.api.key.get_secret_value() if settings.api.key else None
    if key:
        headers["Authorization"] = f"Bearer {key}"
    verify: Any = True
    if settings.api.tls_insecure_skip_verify:
        verify = False
    elif settings.api.ssl_cert_file:
        verify = settings.api.ssl_cert_file
    try:
        response = httpx.get(f"{url}/health", headers=headers, verify=verify,
                             timeout=HEALTH_TIMEOUT_S)  # fmt: skip
    except httpx.HTTPError as e:
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise PrefectUnavailableError(
            f"the Prefect API at {url} does not answer ({reason}): is the server running? "
            "(`prefect server start`, or check PREFECT_API_URL)"
        ) from e
    if response.status_code != 200:
        raise PrefectUnavailableError(
            f"the Prefect API at {url} answered its health check with HTTP "
            f"{response.status_code}: check PREFECT_API_URL"
            + (" and PREFECT_API_KEY" if response.status_code in (401, 403) else "")
        )
    return url


def recipe_to_serve(path: Path, schedule: Schedule) -> ServedRecipe:
    """A recipe file, validated now (a bad recipe is a usage error before anything runs)."""
    from tracemill.flows.recipe import load_recipe

    loaded = load_recipe(path)
    return ServedRecipe(loaded.recipe.name, Path(path).resolve(), schedule)


def recipe_catalog(path: Path) -> str | None:
    """The catalog a recipe file names itself (its runs use it, not the serving one's).

    A directory comes back absolute and resolved, as the serving process's own.
    """
    from tracemill.flows.recipe import load_recipe, resolve_catalog
    from tracemill.stores.catalog import CatalogConfig, CatalogError

    loaded = load_recipe(path)
    own = resolve_catalog(loaded, None) if loaded.recipe.catalog else None
    if own is None:
        return None
    try:
        config = CatalogConfig.resolve(own)
    except CatalogError:  # a database URI whose data path the recipe's run sets
        return own
    return str(config.root) if config.embedded else own


def build_deployments(stages: Iterable[str], recipes: Sequence[ServedRecipe]) -> list[Any]:
    """The ``RunnerDeployment`` of every stage flow and recipe to serve.

    Stage deployments take the stage's config mapping (``config``, required), as the
    ``prefect.yaml`` ones do; a recipe deployment runs its file (``path`` defaults to it,
    absolute), on its schedule if it has one. Catalogs are never deployment parameters
    (a catalog URI may hold a password): runs use the serving process's environment.
    """
    from prefect.schedules import Cron, Interval
    from tracemill.flows.engine import STAGE_FLOWS, recipe_file_flow

    out = [STAGE_FLOWS[s].to_deployment(name=s, description=f"Run the {s!r} stage "
                                        f"(served by tracemill serve).")  # fmt: skip
           for s in stages]  # fmt: skip
    for recipe in recipes:
        schedules = []
        if recipe.schedule.cron:
            schedules.append(Cron(recipe.schedule.cron, timezone=recipe.schedule.timezone))
        elif recipe.schedule.interval_s:
            schedules.append(Interval(recipe.schedule.interval_s))
        out.append(
            recipe_file_flow.to_deployment(
                name=recipe.name,
                parameters={"path": str(recipe.path)},
                schedules=schedules,
                description=f"Recipe {recipe.path} (served by tracemill serve).",
            )
        )
    return out


def check_not_on_work_pools(deployments: Sequence[Any]) -> None:
    """Refuse names that a work-pool deployment (``prefect deploy``) already has.

    Serving re-registers a deployment under its name, but a work-pool deployment keeps
    its pool and pull steps through that, and its runs then crash (the flow is looked
    for in storage). Deleting the user's deployment is theirs to decide, so serving
    stops with the command that does it. Deployments served earlier have no pool.
    """
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    taken = []
    with get_client(sync_client=True) as client:
        for deployment in deployments:
            name = f"{deployment.flow_name}/{deployment.name}"
            try:
                found = client.read_deployment_by_name(name)
            except ObjectNotFound:
                continue
            if found.work_pool_name:
                taken.append((name, found.work_pool_name))
    if taken:
        names = " ".join(f"'{n}'" for n, _ in taken)
        pools = ", ".join(f"'{p}'" for p in sorted({p for _, p in taken}))
        one = len(taken) == 1
        raise DeploymentTakenError(
            f"deployment{'' if one else 's'} {names} {'is' if one else 'are'} on work pool "
            f"{pools} (from prefect deploy), and a name has one owner: delete "
            + (f"it (prefect deployment delete {names})" if one else
               "them (prefect deployment delete NAME, each)")
            + f" or leave {'it' if one else 'them'} out (--stage, --no-stages)"
        )


def _runner_class() -> type[Any]:
    from prefect.runner import Runner
    from tracemill.flows.common import err_console

    class ServeRunner(Runner):
        """Prefect's serve runner, stopped by awaiting its own ``astop`` on a signal."""

        stopped_by: str | None = None
        """The signal that stopped it (None: not stopped)."""
        serving_done: bool = False
        """Set by :func:`_serve` once the runner has ended (or never started)."""

        def handle_sigterm(self, *_: Any) -> None:
            """SIGTERM (installed by ``Runner.start``): stop on the runner's loop."""
            if self._loop is not None:
                self._loop.call_soon_threadsafe(self.request_stop, "SIGTERM")

        def request_stop(self, name: str) -> None:
            """Cancel the runs in flight, pause the schedules, end :meth:`start`."""
            if self.stopped_by is not None:
                # the same signal comes twice (the loop's handler and Runner.start's)
                level = logging.DEBUG if name == self.stopped_by else logging.WARNING
                log.log(level, "%s: already stopping (cancelling the runs in flight)", name)
                return
            self.stopped_by = name
            running = len(self._flow_run_process_map)
            err_console.print(
                f"tracemill serve: stopping ({name})"
                + (f": cancelling {running} flow run(s) in flight" if running else ""),
                highlight=False,
            )
            self._stop_once_started()

        def _stop_once_started(self) -> None:
            # a signal while the runner starts (its client connecting) waits for it
            if self.started:
                asyncio.ensure_future(self.astop())
            elif not self.serving_done:
                asyncio.get_running_loop().call_later(0.1, self._stop_once_started)

        async def cancel_all(self) -> None:
            """Cancel the flow runs in flight (called by ``astop``).

            Prefect's own also cancels a run that has just completed while its process
            exits, turning ``Completed`` into ``Cancelled``; this one leaves ended runs be.
            """
            message = f"tracemill serve stopped ({self.stopped_by or 'shutdown'})"
            for flow_run_id in self._process_manager.flow_run_ids():
                try:
                    flow_run = await self._client.read_flow_run(flow_run_id)
                    if flow_run.state is not None and flow_run.state.is_final():
                        continue
                    await self._cancellation_manager.cancel(flow_run, state_msg=message)
                except Exception:  # noqa: BLE001 - one run's failure must not stop the rest
                    log.exception("could not cancel flow run %s", flow_run_id)

    return ServeRunner


async def _serve(runner: Any, deployments: Sequence[Any]) -> None:
    loop = asyncio.get_running_loop()
    # Ctrl-C: the same stop as SIGTERM (asyncio's own handler would cancel the task
    # mid-step and leave the runs in flight Running); Runner.start replaces the SIGTERM
    # handler with its handle_sigterm, which does the same
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, runner.request_stop, sig.name)
    try:
        for deployment in deployments:
            if runner.stopped_by is not None:
                break
            await runner.add_deployment(deployment)
        if runner.stopped_by is None:
            await runner.start()
        else:  # stopped before serving: pause what was registered, as a stop does
            async with runner:
                pass
    finally:
        runner.serving_done = True
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


def serve(deployments: Sequence[Any], *, limit: int | None) -> str | None:
    """Serve ``deployments`` until SIGTERM or SIGINT; the name of the signal that ended it.

    ``limit``: flow runs at once (None: no limit); later runs wait their turn.
    """
    runner = _runner_class()(name=f"tracemill-{socket.gethostname()}".replace("/", "-"),
                             limit=limit, pause_on_shutdown=True)  # fmt: skip
    asyncio.run(_serve(runner, deployments))
    return runner.stopped_by
