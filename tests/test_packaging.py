"""The distribution: one top-level package, a complete package list, a light public API."""

from __future__ import annotations

import doctest
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STAGE_FOLDERS = ("catalogs", "flows", "pipelines", "stores", "trainers")


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_package_list_covers_every_folder_with_an_init() -> None:
    setuptools = _pyproject()["tool"]["setuptools"]
    listed = set(setuptools["packages"])
    on_disk = {"tracemill"}
    for folder in STAGE_FOLDERS:
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT).as_posix().replace("/", ".")
            on_disk.add(f"tracemill.{rel}")
    assert listed == on_disk, (
        f"pyproject.toml [tool.setuptools] packages is out of date: missing "
        f"{sorted(on_disk - listed)}, stale {sorted(listed - on_disk)}"
    )
    assert setuptools["package-dir"] == {
        "tracemill": "tracemill",
        **{f"tracemill.{f}": f for f in STAGE_FOLDERS},
    }


def test_console_script_points_into_the_namespace() -> None:
    assert _pyproject()["project"]["scripts"]["tracemill"] == "tracemill.flows.cli:main"


def test_no_module_imports_the_old_top_level_names() -> None:
    """Every import names ``tracemill.<folder>``; a bare ``from pipelines ...`` would only
    work from a source checkout and collide with users' own folders."""
    bad = []
    for folder in (*STAGE_FOLDERS, "tests", "benchmarks", "examples", "tracemill"):
        for path in (ROOT / folder).rglob("*.py"):
            for n, line in enumerate(path.read_text().splitlines(), 1):
                stripped = line.strip()
                for name in STAGE_FOLDERS:
                    if stripped.startswith((f"from {name}.", f"from {name} ", f"import {name}")):
                        bad.append(f"{path.relative_to(ROOT)}:{n}: {stripped}")
    assert not bad, "\n".join(bad)


@pytest.mark.slow
def test_built_wheel_has_one_top_level_package(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
         "--disable-pip-version-check", "-w", str(tmp_path), str(ROOT)],
        capture_output=True, text=True, timeout=600,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    (wheel,) = tmp_path.glob("tracemill-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert tops == {"tracemill", wheel.name.split("-py3")[0] + ".dist-info"}, tops
    assert "tracemill/pipelines/verify/_harness.py" in names
    assert "tracemill/flows/commands/verify.py" in names
    assert "tracemill/py.typed" in names
    top_level = [n for n in names if n.endswith("top_level.txt")]
    if top_level:
        assert zipfile.ZipFile(wheel).read(top_level[0]).decode().split() == ["tracemill"]


def test_import_tracemill_is_light_and_exposes_the_api() -> None:
    code = (
        "import sys, tracemill\n"
        "heavy = [m for m in ('torch', 'prefect', 'duckdb', 'pyarrow', 'transformers') "
        "if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "missing = [n for n in tracemill.__all__ if getattr(tracemill, n, None) is None]\n"
        "assert not missing, missing\n"
        "print(tracemill.__version__)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300, cwd=ROOT.parent)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip()


def test_unknown_public_name_is_an_attribute_error() -> None:
    import tracemill

    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        tracemill.nope  # noqa: B018


def test_public_api_examples_run() -> None:
    import tracemill

    result = doctest.testmod(tracemill, verbose=False)
    assert result.attempted >= 3 and result.failed == 0
