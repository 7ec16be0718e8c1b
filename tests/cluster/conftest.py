"""Session services of the cluster tests: PostgreSQL, S3, a two-node Ray cluster, Prefect.

Each is started on first use and stopped at the end of the session. The Prefect server
is launched with the first service (its first start takes ~20-30 s) and waited for only
by the tests that use it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.cluster import services


@pytest.fixture(scope="session")
def cluster_root() -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix="tm-cl-"))  # short: unix socket paths are limited
    os.chmod(root, 0o755)
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def prefect_launch(cluster_root: Path) -> Iterator[tuple]:
    with services.prefect_server_process(cluster_root / "prefect") as launched:
        yield launched


@pytest.fixture(scope="session")
def pg(cluster_root: Path, prefect_launch: tuple) -> Iterator[Callable[[], str]]:
    with services.postgres(cluster_root / "pg") as new_database:
        yield new_database


@pytest.fixture(scope="session")
def s3(cluster_root: Path, prefect_launch: tuple) -> Iterator[services.S3]:
    with services.seaweedfs(cluster_root / "s3") as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def ray_cluster(cluster_root: Path, prefect_launch: tuple) -> Iterator[services.RayCluster]:
    with services.ray_cluster(cluster_root / "ray", nodes=2, cpus=1) as cluster:
        yield cluster
    try:
        import ray

        if ray.is_initialized():
            ray.shutdown()
    except ImportError:
        pass


@pytest.fixture(scope="session")
def prefect_server(prefect_launch: tuple) -> services.PrefectServer:
    return services.wait_prefect(*prefect_launch)


@pytest.fixture
def shared_catalog(
    pg: Callable[[], str], s3: services.S3, ray_cluster: services.RayCluster,
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> dict[str, str]:  # fmt: skip
    """A fresh PostgreSQL catalog with data files in S3; this process drives the Ray cluster.

    Returns the environment a driver needs (also set in this process).
    """
    import uuid

    env = {
        "TRACEMILL_CATALOG": "postgres:" + pg(),
        "TRACEMILL_DATA_PATH": f"s3://{s3.bucket}/{uuid.uuid4().hex[:8]}/",
        "TRACEMILL_RAY_NODE_IP": ray_cluster.head_ip,
        "RAY_ADDRESS": ray_cluster.address,
        **s3.env(),
        **ray_cluster.env,
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env
