"""Prefect policy of the stage tasks, prefect.yaml, recipe scale-out keys (no server needed)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from tracemill.flows.recipe import RecipeError, load_recipe, recipe_environment
from tracemill.flows.settings import configure_prefect
from tracemill.flows.stages import get_stage, stage_names

REPO = Path(__file__).resolve().parents[2]


def deployments() -> list[dict]:
    return yaml.safe_load((REPO / "prefect.yaml").read_text())["deployments"]


def test_prefect_yaml_has_a_valid_deployment_per_stage_and_the_quickstart():
    from tracemill.flows import engine

    found = {}
    for d in deployments():
        path, name = d["entrypoint"].split(":")
        assert path == "flows/engine.py" and hasattr(engine, name), d["entrypoint"]
        assert d["work_pool"]["name"] == "tracemill"
        env = d["work_pool"]["job_variables"]["env"]
        assert env["PREFECT_LOGGING_EXTRA_LOGGERS"] == "tracemill"
        if name == "recipe_file_flow":
            assert (REPO / d["parameters"]["path"]).is_file()
            continue
        stage = name.removesuffix("_flow")
        get_stage(stage).config.model_validate(d["parameters"]["config"])  # valid parameters
        found[stage] = d["name"]
    heavy = {"ingest", "synth", "curate", "verify", "distill", "grade", "select", "build",
             "export", "train"}  # fmt: skip
    assert heavy <= set(found) and heavy <= set(stage_names())
    assert any(d["entrypoint"].endswith("recipe_file_flow") and d.get("schedules")
               for d in deployments())  # fmt: skip


def test_configure_prefect_forwards_tracemill_logs_and_keeps_the_users(monkeypatch, tmp_path):
    monkeypatch.setenv("PREFECT_LOGGING_EXTRA_LOGGERS", "mylib")
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path))
    configure_prefect(str(tmp_path / "c"))
    assert os.environ["PREFECT_LOGGING_EXTRA_LOGGERS"] == "mylib,tracemill"
    assert os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false"
    configure_prefect(str(tmp_path / "c"))
    assert os.environ["PREFECT_LOGGING_EXTRA_LOGGERS"] == "mylib,tracemill"


def test_stage_options_retry_only_idempotent_stages_and_only_transient_failures():
    from prefect.states import Failed
    from tracemill.flows.engine import _retriable, _stage_options
    from tracemill.stores.catalog import CatalogLockedError

    assert _stage_options("s", "synth")["retries"] == 2
    assert "retries" not in _stage_options("e", "export")
    assert "retries" not in _stage_options("t", "train")

    def failed(exc: BaseException) -> object:
        return Failed(data=exc)

    assert _retriable(None, None, failed(CatalogLockedError("busy")))
    assert _retriable(None, None, failed(ConnectionError("reset")))
    assert not _retriable(None, None, failed(ValueError("bad config")))
    assert not _retriable(None, None, failed(FileNotFoundError("no such file")))
    assert not _retriable(None, None, failed(KeyError("unknown stage")))


def test_cache_keys_cover_content_catalog_and_config(tmp_path):
    from tracemill.flows.engine import stage_cache_key
    from tracemill.stores.catalog import open_catalog

    catalog = str(tmp_path / "c")
    data = tmp_path / "in.jsonl"
    data.write_text('{"question": "1+1", "answer": "2"}\n')

    def key(stage: str, config: dict, catalog: str = catalog) -> str | None:
        return stage_cache_key(None, {"stage": stage, "config": config, "catalog": catalog,
                                      "run_id": "r", "base_dir": str(tmp_path)})  # fmt: skip

    synth = {"family": "sat", "count": 5}
    assert key("synth", synth) is None  # no catalog yet: nothing to be cached against
    with open_catalog(catalog):
        pass
    assert key("synth", synth) == key("synth", dict(synth))
    assert key("synth", synth) != key("synth", {**synth, "count": 6})
    assert key("verify", {}) is None and key("distill", {"model": "m"}) is None
    ingest = {"paths": ["in.jsonl"], "source": "s"}
    before = key("ingest", ingest)
    data.write_text('{"question": "1+2", "answer": "3"}\n')
    assert before is not None and key("ingest", ingest) != before
    assert key("ingest", {"paths": ["missing.jsonl"], "source": "s"}) is None
    # the same config on another (or a recreated) catalog is another key
    with open_catalog(tmp_path / "other"):
        pass
    assert key("synth", synth, str(tmp_path / "other")) != key("synth", synth)


def test_recipe_scale_out_keys_default_the_stages_and_set_the_environment(tmp_path, monkeypatch):
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        "name: r\nexecutor: ray\nray_address: auto\ndata_path: s3://b/p/\n"
        "object_storage: {endpoint: 'http://127.0.0.1:9', url_style: path}\n"
        "stages:\n  - stage: synth\n    family: sat\n    count: 1\n"
        "  - stage: verify\n    executor: local\n  - stage: build\n    kind: sft\n"
        "    dataset: d\n"
    )
    loaded = load_recipe(recipe)
    synth, verify, build = loaded.configs
    assert (synth.executor, synth.ray_address) == ("ray", "auto")
    assert verify.executor == "local"  # the stage's own key wins
    assert not hasattr(build, "executor")
    monkeypatch.delenv("TRACEMILL_DATA_PATH", raising=False)
    with recipe_environment(loaded.recipe.env()):
        assert os.environ["TRACEMILL_DATA_PATH"] == "s3://b/p/"
        assert os.environ["TRACEMILL_S3_ENDPOINT"] == "http://127.0.0.1:9"
        assert os.environ["TRACEMILL_S3_URL_STYLE"] == "path"
    assert "TRACEMILL_DATA_PATH" not in os.environ
    recipe.write_text("name: r\nobject_storage: {secret: x}\nstages:\n  - stage: summary\n")
    with pytest.raises(RecipeError, match="object_storage.secret: unknown key"):
        load_recipe(recipe)


def test_distill_shards_keep_problems_whole():
    from tracemill.flows.distill import _shards

    class R:
        def __init__(self, pid: str, n: int) -> None:
            self.problem_id, self.n = pid, n

    requests = [R(f"p{i}", 3) for i in range(7)]
    shards = _shards(requests, 8)
    assert [len(s) for s in shards] == [3, 3, 1]
    assert [r.problem_id for s in shards for r in s] == [r.problem_id for r in requests]


def test_a_ray_cluster_that_is_down_fails_fast_with_one_line():
    """ray.init retries an unreachable cluster for minutes; the probe fails in one line."""
    import socket

    from tracemill.flows.executor import check_reachable

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    for address in (f"127.0.0.1:{port}", f"ray://127.0.0.1:{port}"):
        with pytest.raises(ConnectionError, match=f"Ray cluster at {address} .is it running"):
            check_reachable(address, timeout_s=2)
    with socket.socket() as s:  # something listening: no error
        s.bind(("127.0.0.1", 0))
        s.listen()
        check_reachable(f"127.0.0.1:{s.getsockname()[1]}")
    for address in ("auto", "local", "ray://head"):  # left to Ray
        check_reachable(address)


def test_a_named_ray_cluster_that_is_down_fails_even_when_already_connected(monkeypatch):
    """Regression: a process already connected to Ray skipped the probe of a named cluster."""
    import socket

    import ray
    from tracemill.flows import executor

    monkeypatch.setattr(ray, "is_initialized", lambda: True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ConnectionError, match=f"Ray cluster at 127.0.0.1:{port} "):
        executor.connect(f"127.0.0.1:{port}")
