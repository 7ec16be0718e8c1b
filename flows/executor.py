"""Where the heavy stages run: in this process (``local``) or over a Ray cluster (``ray``).

With ``executor: ray`` (``--executor ray [--address ADDR]``) a stage's driver — the
process that runs the stage — plans the work, reads each batch's rows from the catalog,
and fans the batches out to Ray:

* ``distill``: one actor per GPU (or per node without GPUs) holding its engine
  (vLLM where installed, else transformers, or any backend), fed prompt shards;
* ``verify``: a pool of verifier actors (each keeps its math worker warm), one per CPU,
  three batches queued on each; the driver commits finished batches in rounds;
  ``judge`` verdicts stay with the driver, which holds the one judge model client;
* ``curate`` encoding: a pool of encoder actors, one per GPU or node;
* ``synth``: one Ray task per chunk of items.

Workers never open the catalog. Each writes its rows as Parquet data files under the
catalog's data path (local, a shared mount, or object storage:
:func:`tracemill.stores.catalog.write_data_file`) and returns their :class:`DataFile`
descriptors; the driver commits each result in one catalog transaction
(:meth:`tracemill.stores.catalog.CatalogStore.commit_files`, which registers the files
with ``ducklake_add_data_files`` after a key check). A worker killed mid-task is
restarted by Ray and its task retried (``max_restarts`` / ``max_task_retries`` /
``max_retries``); files of the killed attempt are never referenced, and a result whose
rows already landed adds nothing, so nothing is lost or committed twice.

Connecting: ``address`` (or ``$RAY_ADDRESS``) names a running cluster (``auto`` finds
the one ``ray start`` made on this machine, ``ray://head:10001`` is Ray Client); with
neither, a local Ray instance is started for the run. ``$TRACEMILL_RAY_NODE_IP`` names
this machine's node address where Ray would guess another (several nodes on one host).
Every node needs tracemill installed, and the driver's ``TRACEMILL_*`` and ``AWS_*``
variables (catalog, data path, object-storage endpoint and credentials) are passed to
the workers through Ray's ``runtime_env``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack, nullcontext
from typing import Annotated, Any, Literal

from pydantic import Field
from tracemill.flows.options import Flag
from tracemill.flows.stages import StageConfig

log = logging.getLogger(__name__)

Executor = Literal["local", "ray"]
ENV_PREFIXES = ("TRACEMILL_", "AWS_")
NODE_IP_ENV = "TRACEMILL_RAY_NODE_IP"
"""This machine's Ray node address, where Ray would guess wrong (several nodes per machine)."""
"""Environment variables passed from the driver to Ray workers."""
MAX_RETRIES = 4
"""Ray retries of a task (or restarts of an actor) whose worker died."""


class ExecutorFields(StageConfig):
    """Config fields of a stage that can fan out over Ray."""

    executor: Annotated[Executor, Flag(panel="Cluster")] = Field(
        "local", description="local (this process) or ray (a Ray cluster)"
    )
    ray_address: Annotated[str | None, Flag(name="--address", panel="Cluster")] = Field(
        None, description="Ray cluster address (default $RAY_ADDRESS, else a local Ray)"
    )
    ray_workers: Annotated[int | None, Flag(panel="Cluster")] = Field(
        None, ge=1, description="Ray actors/tasks in flight (default: from cluster resources)"
    )


def runtime_env() -> dict[str, Any]:
    """The ``runtime_env`` for workers: the driver's tracemill and object-storage settings.

    Also names this process as the owner of the data files its workers write
    (``$TRACEMILL_WORKER_OWNER``): they wait for this process to commit them, and
    ``tracemill gc`` keeps them while it runs.
    """
    from tracemill.stores.catalog import WORKER_OWNER_ENV, process_owner

    env = {k: v for k, v in os.environ.items() if k.startswith(ENV_PREFIXES)}
    env[WORKER_OWNER_ENV] = process_owner()
    return {"env_vars": env}


def init_kwargs() -> dict[str, Any]:
    """``ray.init`` keywords of a tracemill driver (also for prefect-ray's task runner)."""
    kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
    kwargs["runtime_env"] = runtime_env()
    if os.environ.get(NODE_IP_ENV):
        kwargs["_node_ip_address"] = os.environ[NODE_IP_ENV]
    return kwargs


def connect(address: str | None = None) -> Any:
    """Connect to Ray (once per process) and return the ``ray`` module."""
    try:
        import ray
    except ImportError as e:  # pragma: no cover - ray is a dependency
        raise RuntimeError("executor 'ray' needs ray: pip install 'ray[default]'") from e
    target = address or os.environ.get("RAY_ADDRESS") or None
    if target:
        # also when this process is already connected: a cluster named explicitly that
        # is down is the same expected failure whatever an earlier call connected to
        check_reachable(target)
    if not ray.is_initialized():
        log.info("connecting to Ray at %s", target or "a new local instance")
        ray.init(address=target, **init_kwargs())
    return ray


CONNECT_TIMEOUT_S = 5.0
"""How long :func:`check_reachable` waits for a cluster's port to answer."""


def check_reachable(address: str, timeout_s: float = CONNECT_TIMEOUT_S) -> None:
    """Raise ConnectionError when nothing listens at a Ray ``host:port`` address.

    ``ray.init`` would retry an unreachable cluster for minutes, printing its own
    warnings; a cluster that is down is an expected failure (one line, exit code 1).
    ``auto``, ``local`` and addresses without a port are left to Ray.
    """
    import socket

    where = address.removeprefix("ray://")
    host, sep, port = where.rpartition(":")
    if not sep or not host or not port.isdigit():
        return
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s):
            pass
    except OSError as e:
        raise ConnectionError(
            f"cannot connect to the Ray cluster at {address} (is it running?): {e}"
        ) from None


def _current_env() -> dict[str, Any]:
    """``runtime_env`` option with the driver's settings as they are now (not at ``init``)."""
    return {"runtime_env": runtime_env()}


def cluster_count(ray: Any, resource: str) -> int:
    """How many of ``resource`` (``CPU``, ``GPU``) the cluster has in all."""
    return int(ray.cluster_resources().get(resource, 0))


def alive_nodes(ray: Any) -> int:
    """Nodes of the cluster that are alive."""
    return sum(1 for n in ray.nodes() if n.get("Alive"))


def node_id() -> str | None:
    """The Ray node this code runs on (None outside Ray)."""
    try:
        import ray
    except ImportError:  # pragma: no cover
        return None
    if not ray.is_initialized():
        return None
    return ray.get_runtime_context().get_node_id()


def map_actors(
    actor_cls: type,
    init_args: Sequence[Any],
    calls: Iterable[tuple[Any, ...]],
    **kwargs: Any,
) -> Iterator[Any]:
    """Call ``actor.<method>(*args)`` for each args of ``calls`` on a pool of actors.

    Results one by one, as they finish (any order); see :func:`map_actor_rounds` for the
    keywords. The caller's handling of a result runs inside ``hold``, if given.
    """
    for results in map_actor_rounds(actor_cls, init_args, calls, **kwargs):
        yield from results


def map_actor_rounds(
    actor_cls: type,
    init_args: Sequence[Any],
    calls: Iterable[tuple[Any, ...]],
    *,
    address: str | None,
    actors: int,
    num_cpus: float = 1,
    num_gpus: float = 0,
    method: str = "run",
    depth: int = 2,
    hold: Callable[[], AbstractContextManager[Any]] | None = None,
    low_water: int | None = None,
) -> Iterator[list[Any]]:
    """Call ``actor.<method>(*args)`` for each args of ``calls`` on a pool of actors.

    Results come back in rounds (lists), as they finish (any order). Each actor has up
    to ``depth`` calls queued, so while it works on one the driver has already read and
    shipped its next (an actor never waits for the driver to read a batch, fetch a
    result or commit); ``calls`` is consumed lazily, so at most ``depth`` batches per
    actor are read ahead. Actors are spread over the nodes; a dead actor is restarted
    and its calls retried.

    ``hold`` (e.g. a catalog store's ``hold``) is entered around the first round of
    calls and around each refill together with the caller's handling of the round's
    results (the caller's code after ``yield`` runs inside it), so reading the next
    batches and committing results share one attach of a released catalog.

    ``low_water``: refill in rounds rather than call by call. Finished results are kept
    (fetched, not yet yielded) until the actor that just finished has at most
    ``low_water`` calls left; then, inside one ``hold``, every actor is topped up to
    ``depth`` and the kept results are yielded as one round. With ``depth=3,
    low_water=1`` one attach serves about three batches instead of one; results wait at
    most until then (once ``calls`` is exhausted each comes as a round of its own).
    """
    ray = connect(address)
    held = hold or nullcontext
    depth = max(1, depth)
    floor = depth - 1 if low_water is None else min(max(0, low_water), depth - 1)

    remote = ray.remote(actor_cls).options(
        num_cpus=num_cpus,
        num_gpus=num_gpus,
        max_restarts=MAX_RETRIES,
        max_task_retries=MAX_RETRIES,
        scheduling_strategy="SPREAD",
        **_current_env(),
    )
    handles = [remote.remote(*init_args) for _ in range(max(1, actors))]
    pending = iter(calls)
    owner: dict[Any, int] = {}  # call in flight -> index of its actor
    in_flight = [0] * len(handles)

    def submit(i: int) -> bool:
        args = next(pending, None)
        if args is None:
            return False
        owner[getattr(handles[i], method).remote(*args)] = i
        in_flight[i] += 1
        return True

    def top_up() -> bool:
        """Round by round, so every actor gets its next call before any gets two."""
        for _ in range(depth):
            for i in range(len(handles)):
                if in_flight[i] < depth and not submit(i):
                    return False
        return True

    kept: list[Any] = []
    try:
        with held():
            more = top_up()
        while owner:
            done, _ = ray.wait(list(owner), num_returns=1)
            i = owner.pop(done[0])
            in_flight[i] -= 1
            kept.append(ray.get(done[0]))
            if more and in_flight[i] > floor:
                continue  # this actor still has work queued: keep the result for the round
            with held():
                if more:
                    more = top_up()  # refill before handing back results (and committing)
                done_round, kept = kept, []
                yield done_round
    finally:
        for handle in handles:
            ray.kill(handle, no_restart=True)


def map_tasks(
    fn: Callable[..., Any],
    calls: Iterable[tuple[Any, ...]],
    *,
    address: str | None,
    in_flight: int,
    num_cpus: float = 1,
) -> Iterator[Any]:
    """Run ``fn(*args)`` as a Ray task for each args of ``calls``; results as they finish.

    At most ``in_flight`` tasks are submitted at a time; a task whose worker died is
    retried (``max_retries``).
    """
    ray = connect(address)
    remote = ray.remote(fn).options(
        num_cpus=num_cpus, max_retries=MAX_RETRIES, scheduling_strategy="SPREAD",
        **_current_env(),
    )  # fmt: skip
    pending = iter(calls)
    refs: list[Any] = []
    for args in pending:
        refs.append(remote.remote(*args))
        if len(refs) >= in_flight:
            break
    while refs:
        done, refs = ray.wait(refs, num_returns=1)
        nxt = next(pending, None)
        if nxt is not None:
            refs.append(remote.remote(*nxt))
        yield ray.get(done[0])


def default_workers(ray: Any, per: Literal["cpu", "gpu_or_node"], requested: int | None) -> int:
    """Actors/tasks to run: ``requested``, else one per CPU, or one per GPU (else node)."""
    if requested:
        return requested
    if per == "cpu":
        return max(1, cluster_count(ray, "CPU"))
    return max(1, cluster_count(ray, "GPU") or alive_nodes(ray))


# -- the workers ---------------------------------------------------------------------


class VerifyWorker:
    """A Ray actor that verifies batches and writes their verdicts as a data file.

    ``verifiers``: the verifier names the driver will send, so a math worker can start
    with the actor.
    """

    def __init__(
        self, catalog: Any, deadline_s: float, verifiers: Iterable[str] = ()
    ) -> None:
        self.catalog = catalog
        self.deadline_s = deadline_s
        self._stack = ExitStack()
        self._pool = False
        if set(verifiers):
            self._start_pool(set(verifiers))

    def _start_pool(self, names: set[str]) -> None:
        """One math worker per actor, kept for every batch (starting one costs seconds).

        Started when the actor starts where the driver names the verifiers to come, so
        it is up before the first batch arrives rather than after.
        """
        from tracemill.pipelines.verify import verifier_pool
        from tracemill.pipelines.verify.batch import POOLED

        if not self._pool and names & POOLED:
            self._stack.enter_context(verifier_pool(1, deadline_s=self.deadline_s))
            self._pool = True

    def run(
        self, problems: Any, samples: Any, run_id: str | None, verifier: str | None = None
    ) -> dict[str, Any]:
        """Verify ``samples`` of ``problems``; the verdicts' data file and a summary."""
        from tracemill.pipelines.verify import verify_table
        from tracemill.stores.catalog import write_data_file

        self._start_pool({verifier} if verifier else set(problems.column("verifier").to_pylist()))
        table = verify_table(problems, samples, verifier=verifier, workers=1, run_id=run_id)
        return {
            "file": write_data_file(self.catalog, "verdicts", table),
            "summary": table.select(["verifier", "passed", "reason"]),
            "node": node_id(),
        }


class EncodeWorker:
    """A Ray actor holding a sentence-transformers model; encodes text shards."""

    def __init__(self, model: str, device: str | None, batch_size: int) -> None:
        from tracemill.pipelines.curate import SentenceTransformerEncoder
        from tracemill.stores.embeddings import MINILM_NAME, packaged_minilm_path

        if model == MINILM_NAME:  # the packaged model, unpacked on this node
            model = str(packaged_minilm_path())
        self.encoder = SentenceTransformerEncoder(model, device=device, batch_size=batch_size)

    def run(self, index: int, texts: list[str]) -> tuple[int, Any, str | None]:
        """``(index, vectors, node)`` of one shard."""
        return index, self.encoder.encode(texts), node_id()


class RayEncoder:
    """An :class:`tracemill.pipelines.curate.Encoder` that spreads encoding over Ray actors.

    Each call splits the texts into shards (about ``shard`` texts each) and encodes them
    on a pool of :class:`EncodeWorker` actors, one per GPU (else per node) unless
    ``workers`` says; vectors come back in the order of the texts.
    """

    def __init__(
        self,
        model: str,
        *,
        device: str | None = None,
        batch_size: int = 64,
        address: str | None = None,
        workers: int | None = None,
        shard: int = 2048,
    ) -> None:
        self.model = model
        self.device = device
        self.batch_size = batch_size
        self.address = address
        self.workers = workers
        self.shard = shard
        self.nodes: set[str] = set()

    def encode(self, texts: list[str]) -> Any:
        """Embed ``texts`` (normalized float32 vectors, in order)."""
        import numpy as np

        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        ray = connect(self.address)
        actors = default_workers(ray, "gpu_or_node", self.workers)
        size = max(1, min(self.shard, -(-len(texts) // actors)))
        shards = [(i, texts[lo : lo + size]) for i, lo in enumerate(range(0, len(texts), size))]
        gpus = 1 if cluster_count(ray, "GPU") and (self.device or "cuda").startswith("cuda") else 0
        parts: dict[int, Any] = {}
        for index, vectors, node in map_actors(
            EncodeWorker, (self.model, self.device, self.batch_size), shards,
            address=self.address, actors=min(actors, len(shards)), num_gpus=gpus,
        ):  # fmt: skip
            parts[index] = vectors
            if node:
                self.nodes.add(node)
        return np.concatenate([parts[i] for i in range(len(shards))])


def synth_chunk(
    catalog: Any,
    family: str,
    count: int,
    level: int | None,
    seed: int,
    start: int,
    source: str | None,
    run_id: str | None,
    knobs: dict[str, Any],
) -> dict[str, Any]:
    """A Ray task: generate one chunk of a synthetic family into a ``problems`` data file."""
    from tracemill.pipelines.synth import generate_problems
    from tracemill.stores.catalog import write_data_file

    table = generate_problems(
        family, count, level=level, seed=seed, start=start, source=source, run_id=run_id, **knobs
    )
    return {
        "file": write_data_file(catalog, "problems", table),
        "generated": table.num_rows,
        "start": start,
        "level": level,
        "node": node_id(),
    }
