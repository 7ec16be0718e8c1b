"""reasoning-gym's procedural generators as task families ``rg:NAME``.

Importing this module imports ``reasoning_gym`` (the optional extra ``tracemill[rg]``)
and registers one :class:`~tracemill.pipelines.synth.base.Task` per generator it ships,
with reasoning-gym's own ``score_answer`` as the family's verifier (same name,
version ``<adapter>.rg<reasoning-gym version>``, so a reasoning-gym upgrade re-verifies
as a new verifier version). Generators that break the registry contract are listed in
:data:`EXCLUDED` with the reason and not registered.

Seeding. reasoning-gym seeds item ``idx`` of a dataset with ``Random(seed + idx)``, so
seed 1's item 0 is seed 0's item 1. Here every item draws a 63-bit seed from tracemill's
per-item generator (``sha256(family, seed, index)``) and asks reasoning-gym for item 0
under that seed: items are reproducible alone and never collide across seeds. Datasets
that draw their items in ``__init__`` (:data:`_PRECOMPUTED`) are built per item.

Levels. A generator with a reasoning-gym curriculum maps tracemill's levels 1–10 onto
each curriculum attribute's own levels, evenly (level 1 = every attribute's first
valid level, level 10 = its last valid one, see :func:`attribute_ranges`), in
reasoning-gym's ``upper_bound`` range mode: a range attribute covers the band of its
current level only, so levels do not overlap. Generators without a curriculum have the
same (default) knobs at every level.
Knobs are the generator's config fields (without ``seed``/``size``).

Verification reads only the stored row: ``verifier_spec`` holds the generator config
and reasoning-gym's whole entry (question, answer, metadata) in a type-preserving JSON
(tuples, sets, enums and reasoning-gym dataclasses survive the round trip, because
scorers compare against them), and the verifier rebuilds the dataset from the config to
call its ``score_answer``. The answer is read by the shared structured-answer layer in
its free-text mode (answer tags decide; two different tagged answers are ambiguous).
reasoning-gym's partial credit is kept as the score; only a score of 1 passes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import enum
import functools
import importlib
import json
import math
import random
import re
import threading
from collections.abc import Mapping
from fractions import Fraction
from importlib.metadata import version as dist_version
from typing import Any, ClassVar

import reasoning_gym
from reasoning_gym.coaching.base_curriculum import DefaultCurriculumContext, RangeAttributeMode
from reasoning_gym.factory import CURRICULA, DATASETS
from tracemill.pipelines.synth.base import LEVELS, Item, Task, register_task
from tracemill.pipelines.verify.answers import Reading, read_answer
from tracemill.pipelines.verify.registry import Verdict

PREFIX = "rg:"
SOURCE = "reasoning-gym"
ADAPTER_VERSION = "1"
RG_VERSION = dist_version("reasoning-gym")
"""The installed reasoning-gym release (its ``__version__`` attribute lags the release)."""
VERSION = f"{ADAPTER_VERSION}.rg{RG_VERSION}"
"""Family and verifier version: the adapter's, then reasoning-gym's (sorts part by part)."""

ANSWER_INSTRUCTION = (
    "Think it through, then give only the final answer, in the format the question "
    "asks for, inside <answer></answer> tags."
)
"""Appended to every reasoning-gym question (its prompts leave the answer markup to a
system prompt; tracemill problems state their answer format themselves)."""

EXCLUDED: dict[str, str] = {
    "composite": "a mix of other generators configured by dataset specs, not one task",
    "boxnet": "no reference answer (answer is None); the scorer only checks plans",
    "graph_color": "no reference answer (answer is None); the scorer only checks colourings",
    "propositional_logic": "no reference answer (answer is None)",
    "rubiks_cube": "no reference answer (answer is None); the scorer simulates moves",
    "rush_hour": "no reference answer (answer is None); the scorer simulates moves",
    "game_of_life_halting": "its scorer gives 1.0 to an unrelated garbage answer",
}
"""Generators of this reasoning-gym release that break the contract (the reference
answer must score 1, garbage must not, items must be reproducible alone), with the
reason. ``tests/pipelines/test_synth_rg.py`` checks every other generator and that each
of these still fails, so the list follows reasoning-gym upgrades."""

_PRECOMPUTED: dict[str, int] = {"acre": 10, "gsm_symbolic": 1, "list_functions": 1}
"""Datasets that draw their items from ``seed`` in ``__init__``: built per item with
the item's seed and this size (acre splits a size into three question kinds, so 10
keeps all three), item ``seed % size``."""

LEVEL_SPAN: dict[str, tuple[float, float]] = {
    "knight_swap": (0.0, 3 / 9),  # minutes per item above its level-4 boards
    "letter_jumble": (0.0, 3 / 9),  # its word lists run out above level 4
    "spell_backward": (0.0, 7 / 9),  # no words that long above level 8
    "sokoban": (1 / 13, 1.0),  # 6×6 boards with 4+ boxes: ~10 s of search per item
    "game_of_life": (0.0, 7 / 9),  # 100×100 boards: answers over 20,000 characters
    "jugs": (0.0, 7 / 9),  # minutes of search per item above level 8
    "number_sequence": (0.0, 7 / 9),  # complexity-5 rules square terms to huge integers
}
"""The part of a curriculum (as shares of each attribute's valid range) that tracemill's
levels 1 and 10 reach, for generators that fail or stall at an end of their own
curriculum (found by the contract test; ``(0, 1)`` elsewhere)."""

SEED_BITS: dict[str, int] = {"pool_matrix": 32}
"""Item seed width for generators that seed numpy's legacy generator (at most 2**32-1);
63 bits elsewhere."""

_RESERVED = ("seed", "size")
"""reasoning-gym config fields that are not difficulty knobs (set per item here)."""

GENERATE_ATTEMPTS = 16
"""Seeds tried per item before a generator's failure is an error."""

MAX_ANSWER_FACTOR = 16
"""Answers longer than this many times the reference (and 4,096 characters) are
``too_long``: scorers parse with sympy and regexes that must not see megabytes."""


# -- type-preserving JSON ----------------------------------------------------------


def _qualified(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _rg_class(ref: str) -> type:
    """A reasoning-gym class named ``module:qualname`` (nothing outside reasoning_gym)."""
    module, _, qualname = str(ref).partition(":")
    if module != "reasoning_gym" and not module.startswith("reasoning_gym."):
        raise ValueError(f"refusing to load {ref!r}: only reasoning_gym classes are stored")
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    if not isinstance(obj, type):
        raise ValueError(f"{ref!r} is not a class")
    return obj


def encode(value: Any) -> Any:
    """``value`` as JSON-ready data that :func:`decode` turns back into an equal value.

    Plain JSON values stay as they are; tuples, sets, non-string dict keys, enums,
    dataclasses, dates, fractions and non-finite floats become ``{"$kind": …}`` objects.
    Raises ``TypeError`` on anything else.
    """
    if isinstance(value, enum.Enum):  # before str/int: StrEnum and IntEnum are both
        return {"$enum": _qualified(type(value)), "name": value.name}
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"$float": repr(value)}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, tuple):
        return {"$tuple": [encode(v) for v in value]}
    if isinstance(value, set | frozenset):
        items = sorted((encode(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
        return {"$frozenset" if isinstance(value, frozenset) else "$set": items}
    if isinstance(value, dict):
        if all(isinstance(k, str) and not k.startswith("$") for k in value):
            return {k: encode(v) for k, v in value.items()}
        return {"$dict": [[encode(k), encode(v)] for k, v in value.items()]}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"$dataclass": _qualified(type(value)), "fields": fields}
    if isinstance(value, datetime.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, datetime.date):
        return {"$date": value.isoformat()}
    if isinstance(value, datetime.time):
        return {"$time": value.isoformat()}
    if isinstance(value, Fraction):
        return {"$fraction": str(value)}
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item) and type(value).__module__ == "numpy":
        return encode(item())
    raise TypeError(f"cannot store a {type(value).__module__}.{type(value).__qualname__}")


def decode(value: Any) -> Any:
    """The inverse of :func:`encode` (classes load from ``reasoning_gym`` only)."""
    if isinstance(value, list):
        return [decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1 or "$enum" in value or "$dataclass" in value:
        (kind, data), *_ = value.items()
        if kind == "$tuple":
            return tuple(decode(v) for v in data)
        if kind == "$set":
            return {decode(v) for v in data}
        if kind == "$frozenset":
            return frozenset(decode(v) for v in data)
        if kind == "$dict":
            return {decode(k): decode(v) for k, v in data}
        if kind == "$float":
            return float(data)
        if kind == "$datetime":
            return datetime.datetime.fromisoformat(data)
        if kind == "$date":
            return datetime.date.fromisoformat(data)
        if kind == "$time":
            return datetime.time.fromisoformat(data)
        if kind == "$fraction":
            return Fraction(data)
        if kind == "$enum":
            cls = _rg_class(data)
            if not issubclass(cls, enum.Enum):
                raise ValueError(f"{data!r} is not an enum")
            return cls[value["name"]]
        if kind == "$dataclass":
            cls = _rg_class(data)
            if not dataclasses.is_dataclass(cls):
                raise ValueError(f"{data!r} is not a dataclass")
            return cls(**{k: decode(v) for k, v in value["fields"].items()})
    return {k: decode(v) for k, v in value.items()}


# -- levels ------------------------------------------------------------------------


INCLUSIVE_RANGES = frozenset({"puzzle24"})
"""Generators whose level ranges start at the curriculum's first value (reasoning-gym's
``inclusive`` mode) instead of covering one band: four numbers drawn from 7–8 rarely
make 24, so puzzle24's rejection sampling never ends in band mode."""


def _curriculum_config(name: str, attr_levels: Mapping[str, int]) -> Any:
    """reasoning-gym's config with each curriculum attribute at the given level."""
    curriculum = CURRICULA[name]()
    for attr_name, attr_level in attr_levels.items():
        curriculum.set_attr_level(attr_name, attr_level)
    mode = RangeAttributeMode.INCLUSIVE if name in INCLUSIVE_RANGES else (
        RangeAttributeMode.UPPER_BOUND)  # fmt: skip
    return curriculum.generate_configuration(context=DefaultCurriculumContext(mode=mode))


def _valid(config: Any) -> bool:
    try:
        if callable(getattr(config, "validate", None)):
            config.validate()
    except (AssertionError, ValueError, TypeError):
        return False
    return True


def _valid_levels(name: str, levels: Mapping[str, int]) -> bool:
    try:
        return _valid(_curriculum_config(name, levels))
    except (AssertionError, ValueError, TypeError):
        return False


@functools.cache
def attribute_ranges(name: str) -> dict[str, tuple[int, int]]:
    """Per curriculum attribute, the (lowest, highest) level with a valid config.

    Some curricula list values their own config rejects: knight_swap's first board size
    (4 squares, where at least 6 are required), caesar_cipher's top rotation (50, where
    at most 25 is allowed). The lowest valid combination is found first (raising one
    attribute at a time, else all together); each attribute then rises alone from it
    until its config stops being valid.
    """
    attributes = CURRICULA[name]().attributes
    tops = {a: len(attr.levels) - 1 for a, attr in attributes.items()}
    floor = dict.fromkeys(attributes, 0)
    while not _valid_levels(name, floor):
        for attr in attributes:
            trial = {**floor, attr: min(floor[attr] + 1, tops[attr])}
            if trial != floor and _valid_levels(name, trial):
                floor = trial
                break
        else:
            raised = {a: min(k + 1, tops[a]) for a, k in floor.items()}
            if raised == floor:
                raise ValueError(f"rg:{name}: no curriculum level gives a valid config")
            floor = raised
    ranges: dict[str, tuple[int, int]] = {}
    for attr in attributes:
        top = floor[attr]
        while top < tops[attr] and _valid_levels(name, {**floor, attr: top + 1}):
            top += 1
        ranges[attr] = (floor[attr], top)
    return ranges


def rg_config_for_level(name: str, level: int) -> Any:
    """reasoning-gym's config of generator ``name`` at tracemill level ``level``.

    Each attribute's valid levels (:func:`attribute_ranges`, narrowed by
    :data:`LEVEL_SPAN`) are spread evenly over levels 1–10; should the combination still
    be invalid, every attribute steps down together until valid.
    """
    _, config_cls = DATASETS[name]
    if name not in CURRICULA:
        return config_cls()
    first, last = LEVEL_SPAN.get(name, (0.0, 1.0))
    share = first + (last - first) * (level - 1) / (len(LEVELS) - 1)
    levels = {}
    for attr, (low, high) in attribute_ranges(name).items():
        levels[attr] = low + int(math.floor(share * (high - low) + 0.5))
    floor = {attr: low for attr, (low, _) in attribute_ranges(name).items()}
    while True:
        config = _curriculum_config(name, levels)
        if _valid(config) or levels == floor:
            return config
        levels = {a: max(floor[a], k - 1) for a, k in levels.items()}


_TRAILING_COMMENT = re.compile(r"^\s*(\w+)\s*:[^#]*#\s*(.+?)\s*$")
_DOC_ENTRY = re.compile(r"^\s*(\w+)\s*(?:\([^)]*\))?\s*:\s*(.+?)\s*$")


def _source_descriptions(config_cls: type) -> dict[str, str]:
    """Field descriptions written in a config class's source.

    Attribute docstrings, trailing ``# comments`` on the field lines, and
    ``Attributes:``/``Args:`` docstring entries (reasoning-gym uses all three).
    """
    import inspect

    from tracemill.pipelines.synth.base import field_docs

    names = {f.name for f in dataclasses.fields(config_cls)}
    out: dict[str, str] = {}
    for line in (config_cls.__doc__ or "").splitlines():
        match = _DOC_ENTRY.match(line)
        if match and match.group(1) in names:
            out[match.group(1)] = match.group(2)
    try:
        source = inspect.getsource(config_cls)
    except (OSError, TypeError):
        source = ""
    for line in source.splitlines():
        match = _TRAILING_COMMENT.match(line)
        if match and match.group(1) in names:
            out[match.group(1)] = match.group(2)
    out.update(field_docs(config_cls))
    return out


def knob_descriptions(name: str) -> dict[str, str]:
    """Config field → its description.

    The curriculum attribute that sets the field, else what the config class's source
    says (see :func:`_source_descriptions`).
    """
    _, config_cls = DATASETS[name]
    out = _source_descriptions(config_cls)
    if name in CURRICULA:
        for attr in CURRICULA[name]().attributes.values():
            text = " ".join((attr.description or attr.name).split())
            for field_name in ("field_name", "lower_field_name", "upper_field_name"):
                if getattr(attr, field_name, None):
                    side = field_name.split("_")[0] if field_name != "field_name" else ""
                    bound = f" ({side} end of the level's range)" if side else ""
                    out[getattr(attr, field_name)] = text + bound
    return {k: " ".join(v.split()) for k, v in out.items()}


# -- the tasks ---------------------------------------------------------------------

_generate_lock = threading.RLock()
"""Held while a dataset is built or makes an item: both touch state shared across
datasets (:data:`CLASS_DATA`, the global random generators)."""

CLASS_DATA: dict[str, tuple[str, ...]] = {"codeio": ("_jsonl_data",)}
"""Datasets that keep their config's data on the class: codeio's items are drawn from
``CodeIODataset._jsonl_data``, which every new codeio dataset overwrites with the entries
of its own difficulty. Each dataset's values are saved when it is built and put back
before it makes an item, so an item never depends on which dataset was built last."""


@contextlib.contextmanager
def _item_scope(dataset: Any | None, seed: int) -> Any:
    """Make an item under the lock, with shared state set for it and put back after.

    The dataset's class data (:data:`CLASS_DATA`) is put back, and the global ``random``
    and numpy generators are seeded from the item seed (list_functions draws some numbers
    from the global ``random``; codeio's snippets may too) and restored afterwards.
    """
    import numpy as np

    with _generate_lock:
        for attr, value in getattr(dataset, "_tm_class_data", {}).items():
            setattr(type(dataset), attr, value)
        state, np_state = random.getstate(), np.random.get_state()
        random.seed(seed)
        np.random.seed(seed % 2**32)
        try:
            yield
        finally:
            random.setstate(state)
            np.random.set_state(np_state)


def _build(name: str, config: Any) -> Any:
    """reasoning-gym's dataset ``name`` for ``config``, its class data saved on it."""
    dataset_cls, _ = DATASETS[name]
    with _generate_lock:
        dataset = dataset_cls(config=config)
        dataset._tm_class_data = {a: getattr(dataset_cls, a) for a in CLASS_DATA.get(name, ())}
    return dataset


def _to_rg(name: str, knobs: Mapping[str, Any], seed: int, size: int) -> Any:
    """reasoning-gym's config from knob values (validated: ``ValueError`` when bad)."""
    _, config_cls = DATASETS[name]
    try:
        config = config_cls(**dict(knobs), seed=seed, size=size)
        if callable(getattr(config, "validate", None)):
            config.validate()
    except (AssertionError, TypeError, ValueError) as e:
        raise ValueError(f"rg:{name}: bad knobs: {e or type(e).__name__}") from e
    return config


@functools.lru_cache(maxsize=256)
def _dataset(name: str, key: str, seed: int, size: int) -> Any:
    """A reasoning-gym dataset for the knobs JSON ``key`` (cached: some load files)."""
    return _build(name, _to_rg(name, decode(json.loads(key)), seed, size))


def _knob_key(knobs: Mapping[str, Any]) -> str:
    return json.dumps(encode(dict(knobs)), sort_keys=True)


class RgTask(Task):
    """A reasoning-gym generator as a task family (one subclass per generator)."""

    rg_name: ClassVar[str]
    source: ClassVar[str] = SOURCE
    version: ClassVar[str] = VERSION
    license: ClassVar[str] = "Apache-2.0"

    @classmethod
    def config_for_level(cls, level: int) -> Any:
        """Levels 1-10 spread evenly over reasoning-gym's curriculum attributes.

        Each attribute goes from its first valid level to its last; a range covers its
        own level's band.
        """
        rg_config = rg_config_for_level(cls.rg_name, level)
        return cls.Config(
            **{f.name: getattr(rg_config, f.name) for f in dataclasses.fields(cls.Config)}
        )

    def knob_values(self, config: Any) -> dict[str, Any]:
        """Knob values in the type-preserving JSON of :func:`encode`."""
        return encode(_knobs(config))

    def rg_item(self, config: Any, seed: int) -> dict[str, Any]:
        """reasoning-gym's entry (question, answer, metadata) for item seed ``seed``."""
        knobs = _knobs(config)
        if self.rg_name in _PRECOMPUTED:
            size = _PRECOMPUTED[self.rg_name]
            with _item_scope(None, seed):  # some draw from the global random in __init__
                dataset = _build(self.rg_name, _to_rg(self.rg_name, knobs, seed, size))
                return dataset[seed % size]
        dataset = _dataset(self.rg_name, _knob_key(knobs), 0, 1)
        with _item_scope(dataset, seed):  # one cached dataset, reseeded per item
            dataset.seed = seed
            dataset.config.seed = seed  # a few generators read the config's seed
            return dataset[0]

    def generate(self, config: Any, rng: random.Random) -> Item:
        """reasoning-gym's item under a seed drawn from ``rng``.

        A few generators give up on some seeds ("failed to generate a valid expression
        after 100 attempts") or now and then make an item whose own reference fails their
        scorer (jugs: an unsolvable puzzle answered "No solution"); the next seed from
        ``rng`` is tried, so the item stays a function of the family, seed and index, and
        every stored reference passes the family's verifier as stored.
        """
        error: Exception | None = None
        for _ in range(GENERATE_ATTEMPTS):
            seed = rng.getrandbits(SEED_BITS.get(self.rg_name, 63))
            try:
                entry = self.rg_item(config, seed)
            except (ValueError, AssertionError, RuntimeError, IndexError, KeyError) as e:
                error = e
                continue
            if self._reference_passes(config, seed, entry):
                break
            error = ValueError(f"its reference answer {str(entry['answer'])[:80]!r} fails")
        else:
            raise ValueError(f"{self.name}: no item after {GENERATE_ATTEMPTS} seeds: {error}")
        size = _PRECOMPUTED.get(self.rg_name, 1)
        rg_config = encode(_knobs(_to_rg(self.rg_name, _knobs(config), seed, size)))
        stored = {k: entry.get(k) for k in ("question", "answer", "metadata")}
        spec = {"dataset": self.rg_name, "config": rg_config, "entry": encode(stored)}
        question = f"{str(entry['question']).rstrip()}\n\n{ANSWER_INSTRUCTION}"
        metadata = entry.get("metadata") or {}
        info = {
            "rg_dataset": self.rg_name,
            "rg_category": _category(self.rg_name),
            "rg_version": RG_VERSION,
            "rg_seed": seed,
        }
        if isinstance(metadata.get("difficulty"), dict):
            info["rg_difficulty"] = json.loads(json.dumps(metadata["difficulty"], default=str))
        return Item(question, str(entry["answer"]), spec, None, info)

    def _reference_passes(self, config: Any, seed: int, entry: Mapping[str, Any]) -> bool:
        """Whether the entry's answer passes after the round trip through storage.

        It is given in answer tags and read and judged as a model's response would be.
        """
        if entry.get("answer") is None:
            return False
        size = _PRECOMPUTED.get(self.rg_name, 1)
        stored = {k: entry.get(k) for k in ("question", "answer", "metadata")}
        spec = {
            "dataset": self.rg_name,
            "config": encode(_knobs(_to_rg(self.rg_name, _knobs(config), seed, size))),
            "entry": json.loads(json.dumps(encode(stored))),
        }
        reading = self.read(spec, f"<answer>{entry['answer']}</answer>")
        if not reading.ok:
            return False
        verdict = self.judge(spec, reading.value)
        return verdict.passed

    def read(self, spec: Mapping[str, Any], response: str | None) -> Reading[Any]:
        r"""The answer of a response, read as free text (reasoning-gym's answers are).

        The shared reader in loose mode: answer tags decide when present (two different
        tagged answers are ``ambiguous``), else ``\boxed{}``, else cue lines, else a
        one-line final part; regions over 20,000 characters are ``too_long``.
        """
        return read_answer(response, lambda text: self.parse(spec, text), loose=True)

    def parse(self, spec: Mapping[str, Any], text: str) -> str:
        """The text itself (reasoning-gym's scorer does its own parsing)."""
        if not text.strip():
            raise ValueError("empty answer")
        return text

    def check(self, spec: Mapping[str, Any], answer: str) -> Verdict:
        """Score one answer text as it is (no markdown or LaTeX cleaning)."""
        return self.judge(spec, self.parse(spec, answer))

    def judge(self, spec: Mapping[str, Any], value: Any) -> Verdict:
        """reasoning-gym's ``score_answer`` on the stored entry (1 passes)."""
        answer = str(value)
        if spec.get("dataset") != self.rg_name:
            return Verdict(False, 0.0, "no_reference", {"error": "spec of another generator"})
        entry = decode(spec["entry"])
        reference = str(entry.get("answer"))
        if len(answer) > max(4096, MAX_ANSWER_FACTOR * len(reference)):
            return Verdict(False, 0.0, "too_long", {"error": "answer far longer than reference"})
        config = decode(spec["config"])
        knobs = {k: v for k, v in config.items() if k not in _RESERVED}
        size = int(config.get("size") or 1) if self.rg_name in _PRECOMPUTED else 1
        scorer = _dataset(self.rg_name, _knob_key(knobs), 0, size)
        try:
            raw = scorer.score_answer(answer, entry)
            score = float(raw) if raw is not None else 0.0
        except Exception as e:  # noqa: BLE001 - a scorer choking on model output = wrong
            error = f"reasoning-gym's scorer failed: {type(e).__name__}: {e}"[:500]
            return Verdict(False, 0.0, "invalid_answer", {"error": error})
        if not math.isfinite(score):
            score = 0.0
        score = min(1.0, max(0.0, score))
        passed = score >= 1.0
        return Verdict(passed, score, "ok" if passed else "wrong", {"rg_score": score})


def _knobs(config: Any) -> dict[str, Any]:
    """A knob config's fields, shallow (nested dataclasses stay objects)."""
    return {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}


def _category(name: str) -> str:
    parts = DATASETS[name][0].__module__.split(".")
    return parts[1] if len(parts) > 2 else "other"


class _Description(Mapping[str, str]):
    """A field's metadata ``{"description": …}``, read from reasoning-gym on first use.

    Parsing 99 config classes' sources takes about a second: registration must not.
    """

    def __init__(self, name: str, field_name: str) -> None:
        self._name, self._field = name, field_name

    def __getitem__(self, key: str) -> str:
        if key != "description":
            raise KeyError(key)
        return _described(self._name).get(self._field, "")

    def __iter__(self) -> Any:
        return iter(("description",))

    def __len__(self) -> int:
        return 1


@functools.cache
def _described(name: str) -> dict[str, str]:
    return knob_descriptions(name)


def _config_class(name: str) -> type:
    """A frozen knob dataclass: the generator's config fields without seed and size."""
    _, config_cls = DATASETS[name]
    fields = [
        (f.name, f.type, dataclasses.field(metadata=_Description(name, f.name)))
        for f in dataclasses.fields(config_cls)
        if f.name not in _RESERVED
    ]

    def __post_init__(self: Any) -> None:  # noqa: N807 - dataclass hook
        _to_rg(name, _knobs(self), 0, 1)  # reasoning-gym's own validation
        try:
            encode(_knobs(self))
        except TypeError as e:
            raise ValueError(f"rg:{name}: {e}") from None

    camel = "".join(part.title() for part in name.split("_"))
    cls = dataclasses.make_dataclass(
        f"Rg{camel}Config", fields, frozen=True, namespace={"__post_init__": __post_init__}
    )
    cls.__module__ = __name__
    return cls


def _register(name: str) -> None:
    camel = "".join(part.title() for part in name.split("_"))
    doc = " ".join((DATASETS[name][0].__doc__ or "").split())
    cls = type(
        f"Rg{camel}Task",
        (RgTask,),
        {
            "name": PREFIX + name,
            "rg_name": name,
            "description": f"reasoning-gym {_category(name)}: {doc}" if doc else "",
            "Config": _config_class(name),
            "__module__": __name__,
        },
    )
    register_task(cls)


def generator_names() -> list[str]:
    """Every generator this reasoning-gym release ships (excluded ones included)."""
    return sorted(DATASETS)


def registered_names() -> list[str]:
    """The generators registered as families (``generator_names()`` minus :data:`EXCLUDED`)."""
    return [n for n in generator_names() if n not in EXCLUDED]


for _name in registered_names():
    _register(_name)

__all__ = [
    "EXCLUDED",
    "PREFIX",
    "RG_VERSION",
    "VERSION",
    "RgTask",
    "decode",
    "encode",
    "generator_names",
    "reasoning_gym",
    "registered_names",
]
