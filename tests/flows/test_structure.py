"""Structure rules of flows/: no import cycles, registries that refuse a taken name."""

import ast
from pathlib import Path

import pytest
import typer

FLOWS = Path(__file__).resolve().parents[2] / "flows"


def _module(path: Path) -> str:
    rel = path.relative_to(FLOWS).with_suffix("")
    parts = [p for p in rel.parts if p != "__init__"]
    return ".".join(["tracemill", "flows", *parts])


def _imports(path: Path) -> set[str]:
    """tracemill.flows modules a file imports, at the top or inside functions."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        found.update(n for n in names if n.startswith("tracemill.flows"))
    return found


def test_flows_modules_import_no_cycle():
    graph = {_module(p): _imports(p) for p in FLOWS.rglob("*.py")}
    graph = {m: {d for d in deps if d in graph and d != m} for m, deps in graph.items()}
    # a package importing its own submodules is how packages work, not a cycle
    for m, deps in graph.items():
        graph[m] = {d for d in deps if not d.startswith(m + ".")}
    state: dict[str, int] = {}

    def visit(node, path):
        state[node] = 1
        for dep in sorted(graph[node]):
            if state.get(dep) == 1:
                cycle = path[path.index(dep):] + [dep]
                raise AssertionError(" -> ".join(cycle))
            if dep not in state:
                visit(dep, [*path, dep])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert "tracemill.flows.recipe" in graph["tracemill.flows.engine"]
    assert "tracemill.flows.engine" not in graph["tracemill.flows.recipe"]


def test_stage_names_are_taken_once():
    from tracemill.flows.stages import _STAGES, StageConfig, get_stage, register_stage

    get_stage("summary")

    def other(ctx, cfg):
        return {}

    with pytest.raises(ValueError, match="stage 'summary' is already registered"):
        register_stage("summary", StageConfig)(other)
    assert get_stage("summary").fn is not other
    # the same definition again (a module reload) replaces it
    spec = _STAGES["summary"]
    register_stage("summary", spec.config)(spec.fn)
    assert get_stage("summary").fn is spec.fn


def test_verifier_names_are_taken_once():
    from tracemill.pipelines.verify import Verdict, get_verifier, register_verifier

    get_verifier("exact")

    def fake(problem, response):
        return Verdict(True, 1.0, "ok", {})

    with pytest.raises(ValueError, match="verifier 'exact' is already registered"):
        register_verifier("exact", "9")(fake)
    assert get_verifier("exact").version != "9"


def test_synth_family_names_are_taken_once():
    from tracemill.pipelines.synth import Task, get_task, register_task

    get_task("sat")

    class Impostor(Task):
        name = "sat"

        @classmethod
        def config_for_level(cls, level):
            return None

        def generate(self, config, rng):
            raise NotImplementedError

        def check(self, spec, answer):
            return 0.0

    with pytest.raises(ValueError, match="task family 'sat' is already registered"):
        register_task(Impostor)
    assert type(get_task("sat")).__name__ != "Impostor"


def test_backend_kinds_are_taken_once():
    from tracemill.pipelines.generate import register_backend

    register_backend("fake", "tracemill.pipelines.generate.fake:FakeBackend")  # same: fine
    with pytest.raises(ValueError, match="backend 'fake' is already registered"):
        register_backend("fake", "somewhere:Else")


def test_command_names_are_taken_once():
    from tracemill.flows.command import add_lazy_command

    demo = typer.Typer()
    demo.command("one")(lambda: None)
    add_lazy_command(demo, "two", lambda: None)
    for name in ("one", "two"):
        with pytest.raises(ValueError, match=f"command '{name}' is already registered"):
            add_lazy_command(demo, name, lambda: None)
