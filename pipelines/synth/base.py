r"""The synthetic task registry: one module per family, one contract for all.

A family is a :class:`Task` subclass with

- ``name`` (registry key, also the verifier name), ``domain`` (``logic`` or ``sat``),
  ``version`` (bump when generation or verification changes);
- ``Config``: a frozen dataclass of difficulty knobs whose ``__post_init__`` raises
  ``ValueError`` on bad values, and ``config_for_level(level)`` mapping 1–10 to knobs;
- ``generate(config, rng)`` → :class:`Item` (question text stating the exact answer
  format, reference answer, verifier spec, difficulty estimate). ``rng`` is a
  :class:`random.Random` seeded from ``(family, seed, index)`` so any single item is
  reproducible alone;
- ``parse(spec, text)`` → the answer as a value (a grid, an assignment, a list …),
  raising ``ValueError`` when ``text`` is not *wholly* an answer of the family's shape
  (wrong size, unknown symbols, prose) and
  :class:`~tracemill.pipelines.verify.answers.AmbiguousAnswer` when it hedges or
  contradicts itself; it reads only the stored spec and the text;
- ``judge(spec, value)`` → score in [0, 1] or a :class:`Verdict`: whether a parsed answer
  keeps the rules (duplicate grid values, unmet clues … are ``wrong``);
- optionally ``echoes(spec)``: values the question itself shows that would parse as an
  answer (the starting board of Lights Out), so a restated puzzle is not a second answer.

:func:`register_task` registers the family and, under the same name, a verifier in
:mod:`tracemill.pipelines.verify` that finds and reads the answer with the shared
structured-answer layer (:func:`tracemill.pipelines.verify.answers.read_answer`: answer
tags, ``\boxed{}`` with LaTeX arrays, fences, markdown tables, bold labels, "Final
answer:" blocks, bare final lines), then judges it. Its verdict's reason is ``ok``,
``wrong``/``partial`` (rules), ``no_answer``, ``format`` (an answer is there but does not
read) or ``ambiguous`` (two different answers, or a hedge); ``detail`` says what was read
and from where. :func:`generate_problems` turns a family + knobs into rows of the
``problems`` table.

The curriculum is data: :func:`level_table` lists the knob values each level 1–10 sets,
:func:`knob_trends` says which knobs change with the level (and which way),
:func:`describe_levels` names and describes every knob (reasoning-gym's curriculum
attributes; a knob's description is its config field's docstring), and
:func:`curriculum` walks chosen levels easy→hard as ``(level, config)`` pairs (SATURN's
curriculum over k-SAT's (n, k, l) is ``curriculum("sat")``). :func:`parse_levels` reads
``"1-10"``/``"1,5,10"`` and :func:`spread_count` splits a count over levels.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import random
import sys
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pyarrow as pa
from tracemill.catalogs import conform, problem_ids
from tracemill.pipelines.verify.answers import Reading, clean, read_answer
from tracemill.pipelines.verify.registry import Verdict, register_verifier

LEVELS = range(1, 11)


@dataclass(frozen=True)
class Item:
    """One generated problem."""

    question: str
    """The full prompt text, stating the exact answer format."""
    answer: str
    """A reference answer in the stated format (passes ``check``)."""
    spec: dict[str, Any]
    """Everything ``check`` needs (JSON-serializable), stored as ``verifier_spec``."""
    difficulty: float | None = None
    """A family-specific difficulty estimate (higher is harder)."""
    metadata: dict[str, Any] = field(default_factory=dict)


class Task(ABC):
    """A synthetic task family (see the module docstring)."""

    name: ClassVar[str]
    domain: ClassVar[str] = "logic"
    version: ClassVar[str] = "1"
    description: ClassVar[str] = ""
    source: ClassVar[str] = "tracemill"
    """Where the family comes from: ``tracemill`` (native) or an external task source
    (``reasoning-gym``), see :data:`TASK_SOURCES`."""
    license: ClassVar[str] = "Apache-2.0"
    """License of the generated problems (``problems.license``)."""
    Config: ClassVar[type]

    @classmethod
    @abstractmethod
    def config_for_level(cls, level: int) -> Any:
        """Knobs for difficulty level 1 (easiest) to 10 (hardest)."""

    @abstractmethod
    def generate(self, config: Any, rng: random.Random) -> Item:
        """Generate one item from ``rng`` (its only source of randomness)."""

    @abstractmethod
    def parse(self, spec: Mapping[str, Any], text: str) -> Any:
        """The answer ``text`` states, or ``ValueError`` when it is not wholly an answer."""

    @abstractmethod
    def judge(self, spec: Mapping[str, Any], value: Any) -> float | Verdict:
        """Score a parsed answer against the stored spec (1.0 = correct)."""

    def echoes(self, spec: Mapping[str, Any]) -> list[Any]:
        """Parsed values the question itself shows (not answers when restated)."""
        return []

    def check(self, spec: Mapping[str, Any], answer: str) -> float | Verdict:
        """Score one answer text (cleaned, parsed, judged); raises ``ValueError`` if unreadable."""
        return self.judge(spec, self.parse(spec, clean(answer)))

    def read(self, spec: Mapping[str, Any], response: str | None) -> Reading[Any]:
        """Find and parse the answer of a whole response (see :mod:`..verify.answers`)."""
        return read_answer(response, lambda text: self.parse(spec, text), ignore=self.echoes(spec))

    def knob_values(self, config: Any) -> dict[str, Any]:
        """The knobs of ``config`` as JSON-ready values (stored in ``problems.generator``)."""
        return dataclasses.asdict(config)


_TASKS: dict[str, Task] = {}


def check_level(level: int) -> int:
    """Validate a difficulty level (1–10)."""
    if not isinstance(level, int) or level not in LEVELS:
        raise ValueError(f"level must be an integer from 1 to 10, got {level!r}")
    return level


def item_rng(name: str, seed: int, index: int) -> random.Random:
    """The generator for item ``index`` of family ``name`` under ``seed``."""
    digest = hashlib.sha256(f"{name}\x00{int(seed)}\x00{int(index)}".encode()).digest()
    return random.Random(int.from_bytes(digest[:16], "big"))


def register_task(cls: type[Task]) -> type[Task]:
    """Class decorator: register a family and its verifier under ``cls.name``.

    A family name is taken once: another class under the same name raises ``ValueError``
    (re-running the same class definition, e.g. a module reload, replaces it).
    """
    old = _TASKS.get(cls.name)
    where = f"{cls.__module__}.{cls.__qualname__}"
    if old is not None and f"{type(old).__module__}.{type(old).__qualname__}" != where:
        raise ValueError(
            f"task family {cls.name!r} is already registered by "
            f"{type(old).__module__}.{type(old).__qualname__}; {where} must choose another name"
        )
    task = cls()
    _TASKS[cls.name] = task

    def verify(problem: Mapping[str, Any], response: str) -> Verdict:
        spec_text = problem.get("verifier_spec")
        if not spec_text:
            return Verdict(False, 0.0, "no_reference", {"error": "problem has no verifier_spec"})
        spec = json.loads(spec_text) if isinstance(spec_text, str) else dict(spec_text)
        reading = task.read(spec, response)
        detail = reading.detail
        if not reading.ok:
            return Verdict(False, 0.0, reading.status, detail)
        try:
            result = task.judge(spec, reading.value)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError) as e:
            return Verdict(False, 0.0, "invalid_answer", {**detail, "error": str(e)[:500]})
        if isinstance(result, Verdict):
            return Verdict(result.passed, result.score, result.reason, {**detail, **result.detail})
        score = min(1.0, max(0.0, float(result)))
        reason = "ok" if score >= 1.0 else ("partial" if score > 0 else "wrong")
        return Verdict(score >= 1.0, score, reason, detail)

    verify.__doc__ = f"Rule verifier of the synthetic family {cls.name!r}."
    verify.__module__, verify.__qualname__ = cls.__module__, f"{cls.__qualname__}.verify"
    register_verifier(cls.name, cls.version)(verify)
    return cls


_FAMILY_MODULES: tuple[str, ...] = ("tracemill.pipelines.synth.families",)

TASK_SOURCES: dict[str, tuple[str, str, str]] = {
    "rg": ("reasoning-gym", "tracemill.pipelines.synth.rg", "tracemill[rg]"),
}
"""Name prefix → (source, module that registers its families on import, pip extra).

External families are named ``PREFIX:NAME`` (``rg:chain_sum``); their module (and the
library behind it) is imported only when such a name is asked for or all families are
listed, so native synthesis never pays for it."""


def _load() -> None:
    import importlib

    for mod in _FAMILY_MODULES:
        importlib.import_module(mod)


def load_source(prefix: str) -> bool:
    """Import the task source behind ``prefix``; False when its library is not installed."""
    import importlib

    _, module, _ = TASK_SOURCES[prefix]
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as e:
        if e.name is None or e.name.split(".")[0] == "tracemill":
            raise
        return False
    return True


def get_task(name: str) -> Task:
    """The family registered as ``name``, with an error naming the known ones."""
    _load()
    prefix, sep, _ = name.partition(":")
    if sep and prefix in TASK_SOURCES and name not in _TASKS:
        source, _, extra = TASK_SOURCES[prefix]
        if not load_source(prefix):
            raise KeyError(
                f"task family {name!r} needs {source}, which is not installed "
                f"(pip install '{extra}')"
            )
        excluded = getattr(sys.modules[TASK_SOURCES[prefix][1]], "EXCLUDED", {})
        if name not in _TASKS and name[len(prefix) + 1 :] in excluded:
            raise KeyError(
                f"task family {name!r} is excluded: {excluded[name[len(prefix) + 1 :]]}"
            )
    try:
        return _TASKS[name]
    except KeyError:
        known = ", ".join(task_names())
        raise KeyError(f"unknown task family {name!r}; families: {known}") from None


def task_names(source: str | None = None) -> list[str]:
    """Names of the registered families: all, or those of one ``source``.

    ``source`` is ``tracemill`` (the native families) or an external source such as
    ``reasoning-gym`` (listed when that library is installed).
    """
    _load()
    if source != "tracemill":
        for prefix, (name, _, _) in TASK_SOURCES.items():
            if source in (None, name):
                load_source(prefix)
    return sorted(n for n, task in _TASKS.items() if source in (None, task.source))


def make_config(name: str, level: int | None = None, **knobs: Any) -> Any:
    """A family's config: level defaults (level 1 if none) overridden by explicit knobs."""
    task = get_task(name)
    base = task.config_for_level(check_level(level if level is not None else 1))
    if not knobs:
        return base
    names = {f.name for f in dataclasses.fields(base)}
    unknown = sorted(set(knobs) - names)
    if unknown:
        raise ValueError(f"{name}: unknown knob(s) {', '.join(unknown)}; knobs: {sorted(names)}")
    return dataclasses.replace(base, **knobs)


def parse_levels(spec: str | int | Iterable[int]) -> list[int]:
    """Levels from ``"1-10"``, ``"1,5,10"``, ``"1-3,8"``, an int or ints (sorted, unique)."""
    if isinstance(spec, int):
        return [check_level(spec)]
    if not isinstance(spec, str):
        return sorted({check_level(level) for level in spec})
    levels: set[int] = set()
    for part in spec.replace(" ", "").split(","):
        lo, sep, hi = part.partition("-")
        try:
            first = int(lo)
            last = int(hi) if sep else first
        except ValueError:
            raise ValueError(f"levels must look like 1-10 or 1,5,10, got {spec!r}") from None
        if first > last:
            raise ValueError(f"level range {part!r} runs backwards")
        levels.update(check_level(level) for level in range(first, last + 1))
    return sorted(levels)


def spread_count(count: int, levels: Iterable[int]) -> list[tuple[int, int]]:
    """Split ``count`` items evenly over ``levels``: ``[(level, n), …]``, easy→hard.

    ``count`` is the total; when it does not divide evenly the lower levels get one more
    (``spread_count(7, [1, 2, 3])`` → ``[(1, 3), (2, 2), (3, 2)]``).
    """
    if count < 0:
        raise ValueError("count must be >= 0")
    ordered = parse_levels(levels)
    if not ordered:
        raise ValueError("no levels given")
    share, extra = divmod(count, len(ordered))
    return [(level, share + (i < extra)) for i, level in enumerate(ordered)]


def level_table(name: str) -> list[dict[str, Any]]:
    """What each level 1–10 sets: ``[{"level": 1, knob: value, …}, …]``."""
    task = get_task(name)
    return [
        {"level": level, **dataclasses.asdict(task.config_for_level(level))} for level in LEVELS
    ]


def _size(value: Any) -> Any:
    """A comparable magnitude of a knob value (length for strings and sequences)."""
    if isinstance(value, (str, tuple, list, frozenset, set)):
        return len(value)
    return value


def knob_trends(name: str) -> dict[str, str]:
    """Per knob, how it moves from level 1 to 10: ``fixed``, ``rises``, ``falls`` or ``varies``.

    ``rises``/``falls`` are monotone (never moving the other way); strings and sequences
    are compared by length; ``varies`` covers sawtooth knobs (spare givens that reset
    when the grid grows) and values without an order.
    """
    table = level_table(name)
    trends: dict[str, str] = {}
    for knob in table[0]:
        if knob == "level":
            continue
        values = [row[knob] for row in table]
        if all(v == values[0] for v in values):
            trends[knob] = "fixed"
            continue
        sizes = [_size(v) for v in values]
        try:
            up = all(a <= b for a, b in zip(sizes, sizes[1:], strict=False))
            down = all(a >= b for a, b in zip(sizes, sizes[1:], strict=False))
        except TypeError:
            up = down = False
        trends[knob] = "rises" if up else "falls" if down else "varies"
    return trends


@dataclass(frozen=True)
class Knob:
    """One difficulty knob of a family: what it is and what each level sets it to."""

    name: str
    description: str
    """The knob's meaning (the attribute docstring of the family's config field)."""
    values: tuple[Any, ...]
    """Its value at levels 1, 2, …, 10."""
    trend: str
    """``fixed``, ``rises``, ``falls`` or ``varies`` from level 1 to 10."""


@dataclass(frozen=True)
class LevelTable:
    """A family's curriculum, named and described: its knobs at every level 1–10."""

    family: str
    description: str
    """How the levels rise (the docstring of ``config_for_level``)."""
    knobs: tuple[Knob, ...]

    def rows(self) -> list[dict[str, Any]]:
        """``[{"level": 1, knob: value, …}, …]`` (what :func:`level_table` returns)."""
        return [
            {"level": level, **{k.name: k.values[i] for k in self.knobs}}
            for i, level in enumerate(LEVELS)
        ]


def field_docs(cls: type) -> dict[str, str]:
    """Attribute docstrings of a dataclass's fields (the string under each field).

    Read from the class's source, as pydantic's ``use_attribute_docstrings`` does; empty
    when the source is not available.
    """
    import ast
    import inspect
    import textwrap

    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    except (OSError, TypeError, SyntaxError):
        return {}
    body = next((n.body for n in tree.body if isinstance(n, ast.ClassDef)), [])
    docs: dict[str, str] = {}
    for node, nxt in zip(body, body[1:], strict=False):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and isinstance(nxt, ast.Expr)
            and isinstance(nxt.value, ast.Constant)
            and isinstance(nxt.value.value, str)
        ):
            docs[node.target.id] = " ".join(nxt.value.value.split())
    return docs


def describe_levels(name: str) -> LevelTable:
    """Family ``name``'s knobs, each with its description, values per level and trend.

    A knob's description is its config field's attribute docstring, else the field's
    ``metadata["description"]`` (families whose config classes are built at run time,
    like reasoning-gym's).
    """
    task = get_task(name)
    configs = [task.config_for_level(level) for level in LEVELS]
    docs = field_docs(type(configs[0]))
    trends = knob_trends(name)
    knobs = tuple(
        Knob(
            f.name,
            docs.get(f.name) or f.metadata.get("description", ""),
            tuple(getattr(c, f.name) for c in configs),
            trends[f.name],
        )
        for f in dataclasses.fields(configs[0])
    )
    doc = " ".join((type(task).config_for_level.__doc__ or "").split())
    return LevelTable(name, doc, knobs)


def curriculum(
    name: str, levels: str | Iterable[int] = LEVELS, **knobs: Any
) -> list[tuple[int, Any]]:
    """``(level, config)`` pairs easy→hard for ``levels``, explicit knobs over every level."""
    return [(level, make_config(name, level, **knobs)) for level in parse_levels(levels)]


def generate_item(name: str, config: Any, seed: int, index: int) -> Item:
    """Generate item ``index`` of family ``name`` under ``seed`` (reproducible alone)."""
    task = get_task(name)
    return task.generate(config, item_rng(name, seed, index))


def generate_problems(
    name: str,
    count: int,
    *,
    level: int | None = None,
    seed: int = 0,
    start: int = 0,
    source: str | None = None,
    run_id: str | None = None,
    **knobs: Any,
) -> pa.Table:
    """Rows of the ``problems`` table for items ``start … start+count-1`` of a family."""
    if count < 0:
        raise ValueError("count must be >= 0")
    task = get_task(name)
    config = make_config(name, level, **knobs)
    knob_values = task.knob_values(config)
    rows = []
    for index in range(start, start + count):
        item = task.generate(config, item_rng(name, seed, index))
        generator = {
            "family": name,
            "version": task.version,
            "knobs": knob_values,
            "level": level,
            "seed": seed,
            "index": index,
            "difficulty": item.difficulty,
        }
        rows.append(
            {
                "source": source or f"synth:{name}",
                "source_id": f"{name}/{seed}/{index}",
                "domain": task.domain,
                "task": name,
                "question": item.question,
                "answer": item.answer,
                "verifier": name,
                "verifier_spec": json.dumps(item.spec, sort_keys=True),
                "generator": json.dumps(generator, sort_keys=True),
                "source_level": level,
                "license": task.license,
                "metadata": json.dumps(item.metadata, sort_keys=True) if item.metadata else None,
                "run_id": run_id,
            }
        )
    table = pa.Table.from_pylist(rows) if rows else None
    if table is None:
        return conform("problems", [])
    ids = problem_ids(table.column("domain"), table.column("question"))
    return conform("problems", table.append_column("problem_id", ids))
