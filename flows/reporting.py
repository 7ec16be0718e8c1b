"""Stage reports, one way for every stage: counters, notes, tables and plots.

A stage fills a :class:`Report` (its runner hands one over as ``ctx.report``); the
runner then writes it with :func:`write_report`:

- ``summary.md``: the title, notes, tables and plots, then every counter;
- ``summary.json``: the counters, for scripts;
- PNG plots (when matplotlib is importable and the stage did not turn plots off);
- a Prefect Markdown artifact (plots inlined) when running inside a Prefect flow run.

The CLI prints the same report on the console (:func:`print_report`), so what a user
sees after ``tracemill grade`` and what ``summary.md`` says come from one place.

Example:
    >>> report = Report("grade m", counters={"graded": 3})
    >>> report.note("3 problem(s) graded")
    >>> _ = report.table("levels", ["level", "problems"], [[1, 2], [2, 1]])
    >>> print(markdown(report).splitlines()[0])
    # grade m
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

Draw = Callable[[Any], None]
"""``draw(ax)``: draws one plot on a matplotlib ``Axes``."""


@dataclass
class Note:
    """A line of a report; ``style`` is a rich style for the console only."""

    text: str
    style: str = ""


@dataclass
class ReportTable:
    """A titled table of a report."""

    title: str
    columns: list[str]
    rows: list[list[Any]]
    right: set[str] = field(default_factory=set)
    """Columns aligned right (numbers)."""


@dataclass
class Plot:
    """A plot of a report, drawn when the report is written."""

    filename: str
    alt: str
    draw: Draw
    figsize: tuple[float, float] = (6.0, 3.5)


@dataclass
class Report:
    """What a stage reports (see the module docstring)."""

    title: str = ""
    counters: dict[str, Any] = field(default_factory=dict)
    notes: list[Note] = field(default_factory=list)
    tables: list[ReportTable] = field(default_factory=list)
    plots: list[Plot] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    """Other files the stage wrote for its report: name → text (written beside it)."""

    def note(self, text: str, style: str = "") -> None:
        """Add a line (shown on the console and as a paragraph in Markdown)."""
        self.notes.append(Note(text, style))

    def table(
        self,
        title: str,
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
        *,
        right: Sequence[str] | None = None,
    ) -> ReportTable:
        """Add a table; numeric columns are right-aligned unless ``right`` says otherwise."""
        rows = [list(r) for r in rows]
        if right is None:
            right = [
                c
                for i, c in enumerate(columns)
                if rows and all(isinstance(r[i], int | float) for r in rows if r[i] is not None)
            ]
        table = ReportTable(title, list(columns), rows, set(right))
        self.tables.append(table)
        return table

    def plot(self, filename: str, alt: str, draw: Draw) -> None:
        """Add a plot (PNG file ``filename``) drawn by ``draw(ax)``."""
        self.plots.append(Plot(filename, alt, draw))

    def file(self, name: str, text: str) -> None:
        """Add a text file written beside ``summary.md`` (e.g. a calibration table)."""
        self.files[name] = text


# --- values --------------------------------------------------------------------------------


def format_value(value: Any) -> str:
    """A counter or cell value as text (thousands separators, short floats)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.4g}"
    if isinstance(value, list | tuple):
        return ", ".join(format_value(v) for v in value)
    return str(value)


def flat_counters(counters: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """``(name, value)`` pairs; nested mappings become ``outer.inner``."""
    out: list[tuple[str, Any]] = []
    for key, value in counters.items():
        if isinstance(value, Mapping):
            out.extend((f"{key}.{k}", v) for k, v in flat_counters(value))
        else:
            out.append((str(key), value))
    return out


# --- Markdown --------------------------------------------------------------------------------


def _md_cell(value: Any, limit: int = 300) -> str:
    text = format_value(value).replace("\n", " ").replace("|", "\\|")
    return text if len(text) <= limit else text[: limit - 1] + "…"


JUDGE_UNPRICED = "cost unknown (the server reported none; see --judge-price)"
"""What a judge's usage line says when no cost is known (verify and grade)."""


def usage_text(tokens_in: int, tokens_out: int, cost_usd: float | None, unpriced: str) -> str:
    """``1,204 prompt + 57 completion tokens, $0.000213`` (``unpriced`` when no cost is known)."""
    price = unpriced if cost_usd is None else f"${cost_usd:.6f}"
    return f"{tokens_in:,} prompt + {tokens_out:,} completion tokens, {price}"


def markdown_table(table: ReportTable) -> list[str]:
    """A report table as Markdown lines."""
    head = "| " + " | ".join(_md_cell(c) for c in table.columns) + " |"
    rule = "|" + "|".join("---:" if c in table.right else "---" for c in table.columns) + "|"
    body = ["| " + " | ".join(_md_cell(v) for v in row) + " |" for row in table.rows]
    return [head, rule, *body]


def markdown(report: Report, *, images: Mapping[str, str] | None = None) -> str:
    """The report as Markdown; ``images`` maps plot filenames to their link targets."""
    lines = [f"# {report.title or 'report'}", ""]
    for note in report.notes:
        lines += [note.text, ""]
    for table in report.tables:
        lines += [f"## {table.title}", "", *markdown_table(table), ""]
    if images:
        lines += ["## Plots", ""]
        lines += [f"![{p.alt}]({images[p.filename]})" for p in report.plots if p.filename in images]
        lines.append("")
    counters = [(k, v) for k, v in flat_counters(report.counters) if k != "report"]
    if counters:
        lines += ["## Counters", "", "| counter | value |", "|---|---:|"]
        lines += [f"| {_md_cell(k)} | {_md_cell(v)} |" for k, v in counters]
        lines.append("")
    return "\n".join(lines)


# --- writing -------------------------------------------------------------------------------


def default_report_dir(catalog: str | None, kind: str, run_id: str) -> Path:
    """``<catalog dir>/reports/<kind>-<run_id>`` (``./tracemill-reports/…`` for remote catalogs)."""
    from tracemill.stores.catalog import CatalogConfig

    root = CatalogConfig.resolve(catalog).root or (Path.cwd() / "tracemill-reports")
    return Path(root) / "reports" / f"{_safe(kind)}-{_safe(run_id)}"


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in text)


def write_report(
    report: Report, out_dir: Path, *, plots: bool = True, key: str | None = None
) -> Path:
    """Write ``summary.md``, ``summary.json``, plots and files; publish under Prefect.

    ``key`` names the Prefect artifact (default: the title). Returns the path of
    ``summary.md``. Plot or artifact failures are logged, never raised.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    drawn: dict[str, Path] = {}
    if plots:
        for plot in report.plots:
            path = draw_plot(plot, out_dir / plot.filename)
            if path is not None:
                drawn[plot.filename] = path
    for name, text in report.files.items():
        (out_dir / name).write_text(text, encoding="utf-8")
    path = out_dir / "summary.md"
    path.write_text(markdown(report, images={k: k for k in drawn}), encoding="utf-8")
    counters = {k: v for k, v in report.counters.items() if k != "report"}
    (out_dir / "summary.json").write_text(
        json.dumps(counters, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8"
    )
    if _in_prefect_run():
        inline = {k: _data_uri(p) for k, p in drawn.items()}
        publish_markdown(key or report.title or out_dir.name, markdown(report, images=inline))
    return path


def _data_uri(path: Path) -> str:
    import base64

    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()


def _in_prefect_run() -> bool:
    if "prefect" not in sys.modules:
        return False  # Prefect was never imported, so no flow run can be active
    try:
        from prefect.context import FlowRunContext, TaskRunContext
    except ImportError:
        return False
    return FlowRunContext.get() is not None or TaskRunContext.get() is not None


def publish_markdown(key: str, text: str) -> bool:
    """Publish Markdown as a Prefect artifact when inside a Prefect flow run."""
    if not _in_prefect_run():
        return False
    from prefect.artifacts import create_markdown_artifact

    safe = "".join(c if c.isalnum() or c == "-" else "-" for c in key.lower()).strip("-")
    try:
        create_markdown_artifact(markdown=text, key=safe or "report", description=key)
    except Exception:  # noqa: BLE001 - a report must never fail the stage
        log.warning("could not publish the %s artifact", key, exc_info=True)
        return False
    return True


# --- plots ---------------------------------------------------------------------------------


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log.info("matplotlib is not installed: reports have no plots")
        return None
    return plt


def draw_plot(plot: Plot, path: Path) -> Path | None:
    """Draw ``plot`` into a PNG at ``path`` (None without matplotlib or on failure)."""
    plt = _pyplot()
    if plt is None:
        return None
    fig, ax = plt.subplots(figsize=plot.figsize)
    try:
        plot.draw(ax)
        fig.tight_layout()
        fig.savefig(path, dpi=100)
    except Exception:  # noqa: BLE001 - a report must never fail the stage
        log.warning("could not draw %s", plot.filename, exc_info=True)
        return None
    finally:
        plt.close(fig)
    return path


def levels_plot(levels: Mapping[str, int], title: str) -> Draw:
    """A bar chart of problems per level."""

    def draw(ax: Any) -> None:
        keys = sorted(levels, key=int)
        ax.bar([int(k) for k in keys], [levels[k] for k in keys], color="#4c72b0")
        ax.set_xlabel("level (1 = easiest)")
        ax.set_ylabel("problems")
        ax.set_xticks([int(k) for k in keys])
        ax.set_title(title)

    return draw


def scatter_plot(
    points: Sequence[tuple[float, float]], *, x: str, y: str, title: str,
    ylim: tuple[float, float] | None = None,
) -> Draw:  # fmt: skip
    """A scatter plot of ``(x, y)`` points."""

    def draw(ax: Any) -> None:
        if points:
            ax.scatter([p[0] for p in points], [p[1] for p in points], s=10, alpha=0.6,
                       color="#dd8452")  # fmt: skip
        ax.set_xlabel(x)
        ax.set_ylabel(y)
        if ylim is not None:
            ax.set_ylim(*ylim)
        ax.set_title(title)

    return draw


# --- console -------------------------------------------------------------------------------


def print_report(report: Report, console: Any = None, *, counters: bool | None = None) -> None:
    """Print a report's notes, then its tables (or its counters when it has no tables)."""
    from rich.table import Table
    from rich.text import Text

    if console is None:
        from tracemill.flows.common import console
    for note in report.notes:
        console.print(Text(note.text, style=note.style or ""))
    show_counters = not report.tables if counters is None else counters
    if show_counters:
        console.print(counts_table(report.title, report.counters))
    for table in report.tables:
        view = Table(title=Text(table.title))
        for col in table.columns:
            view.add_column(Text(col), justify="right" if col in table.right else "left",
                            overflow="fold")  # fmt: skip
        for row in table.rows:
            view.add_row(*(Text(format_value(v)) for v in row))
        console.print(view)
    if report.counters.get("report"):
        console.print(Text(f"report: {report.counters['report']}", style="dim"))


def counts_table(title: str, counters: Mapping[str, Any]) -> Any:
    """Counters as a two-column rich table (markup in names and values is shown as is)."""
    from rich.table import Table
    from rich.text import Text

    view = Table(title=Text(title), show_header=False)
    view.add_column("counter")
    view.add_column("value", justify="right", overflow="fold")
    for key, value in flat_counters(counters):
        if key == "report":
            continue
        if isinstance(value, list) and len(value) > 20:
            value = len(value)
        view.add_row(Text(key), Text(format_value(value)))
    return view
