"""Stage options declared once: a pydantic config is the recipe keys, the file keys and the flags.

A stage's config class (:class:`~tracemill.flows.stages.StageConfig`) declares each
option once: name, type, default, bounds and ``description``. From it come

- the recipe keys (``- stage: grade`` followed by ``model: …``),
- ``--config FILE`` (a YAML/JSON mapping of the same keys) and ``--set KEY=VALUE``
  (dotted keys reach into mappings: ``--set backend_options.device=cuda``),
- the command's flags: ``--field-name`` with the field's description as help.

A field's CLI spelling can be changed where it is declared, with a :class:`Flag` in its
``Annotated`` type (TRL's ``HfArgumentParser`` idea, on pydantic)::

    k: Annotated[int, Flag("--samples", old=("--k", "-k"))] = Field(
        16, ge=1, description="samples per problem")

``old`` spellings stay accepted, hidden from ``--help``, with a deprecation warning.
Values merge in this order, later winning: ``--config FILE``, flags, ``--set``.

Types map to flags like this: ``bool`` → ``--x/--no-x``; ``int``/``float``/``str`` and
``Literal`` choices → one value; ``list[...]`` → a repeatable flag; ``dict`` → a
repeatable ``KEY=VALUE`` flag (values read as YAML: ``3`` is a number, ``[a, b]`` a
list); a union with ``str`` (``"1-10"`` or ``[1, 5]``) → text the config parses.
Other types are recipe / ``--set`` only.

Example:
    >>> from typing import Annotated
    >>> from pydantic import BaseModel, Field
    >>> class Demo(BaseModel):
    ...     k: Annotated[int, Flag("--samples", short="-n")] = Field(4, description="samples")
    ...     tags: list[str] = Field(default_factory=list, description="tags")
    >>> [f.decls() for f in cli_fields(Demo)]
    [['--samples', '-n'], ['--tag']]
    >>> merge_values(Demo, flags={"k": 8}, sets=["tags=[a, b]"])
    {'k': 8, 'tags': ['a', 'b']}
"""

from __future__ import annotations

import inspect
import json
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

_MISSING = object()


@dataclass(frozen=True)
class Flag:
    """How a config field appears on the command line (put it in the field's ``Annotated``)."""

    name: str | None = None
    """Long flag (default ``--field-name``; repeatable ones singular: ``sources`` →
    ``--source``)."""
    short: str | None = None
    """Short flag, e.g. ``-m`` (one meaning across all commands: see tests/flows/test_cli.py)."""
    old: tuple[str, ...] = ()
    """Deprecated spellings: accepted, hidden from ``--help``, warned about."""
    off: str | None = None
    """A bool's negative flag (default ``--no-<name>``)."""
    help: str | None = None
    """Help text (default: the field's ``description``)."""
    metavar: str | None = None
    panel: str | None = None
    """``--help`` section (default: Options)."""
    argument: bool = False
    """A positional argument instead of a flag."""
    hidden: bool = False
    cli: bool = True
    """False: recipe, ``--config`` and ``--set`` only."""
    parse: Callable[[str], Any] | None = None
    """Turns the flag's text into the field's value (the flag then takes one text)."""


@dataclass(frozen=True)
class CliField:
    """A config field as a command-line parameter."""

    name: str
    flag: Flag
    kind: Literal["bool", "value", "list", "mapping", "text"]
    item_type: Any
    """Python type (or ``Literal``) typer converts each value to."""
    default: Any
    required: bool
    description: str
    raw_mapping: bool = False
    """Mapping values stay text (``dict[str, str]``) instead of being read as YAML."""

    @property
    def long(self) -> str:
        """The long flag: ``--field-name``, singular for repeatable ones (``--source``)."""
        if self.flag.name:
            return self.flag.name
        name = self.name
        if self.kind in ("list", "mapping") and name.endswith("s") and not name.endswith("ss"):
            name = name[:-1]
        return "--" + name.replace("_", "-")

    def decls(self) -> list[str]:
        """Flag declarations for typer (``["--plots/--no-plots"]``, ``["--model", "-m"]``)."""
        if self.flag.argument:
            return []
        long = self.long
        if self.kind == "bool":
            long = f"{long}/{self.flag.off or '--no-' + long[2:]}"
        return [long, self.flag.short] if self.flag.short else [long]

    @property
    def metavar(self) -> str | None:
        """The metavar shown in ``--help``."""
        if self.flag.metavar:
            return self.flag.metavar
        if self.kind == "mapping":
            return "KEY=VALUE"
        return None

    def help_text(self) -> str:
        """Help: the description, plus ``(required)`` / ``(repeatable)``."""
        text = self.flag.help or self.description
        extra = []
        if self.kind in ("list", "mapping"):
            extra.append("repeatable")
        if self.required:
            extra.append("required")
        return f"{text} ({', '.join(extra)})" if extra else text

    def show_default(self) -> str | bool:
        """The default as ``--help`` shows it (False: none worth showing)."""
        value = self.default
        if self.required or value is None or value == [] or value == {}:
            return False
        if isinstance(value, bool) and self.kind == "bool":
            return self.long if value else (self.flag.off or "--no-" + self.long[2:])
        if isinstance(value, list | tuple):
            return ",".join(str(v) for v in value)
        return str(value)


def _strip_none(annotation: Any) -> tuple[Any, bool]:
    """``(X, True)`` for ``X | None``; ``(annotation, False)`` otherwise."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) < len(typing.get_args(annotation)):
            return (args[0] if len(args) == 1 else typing.Union[tuple(args)]), True  # noqa: UP007
    return annotation, False


def _scalar(tp: Any) -> bool:
    return tp in (int, float, str) or typing.get_origin(tp) is Literal


def _classify(annotation: Any) -> tuple[str, Any, bool] | None:
    """``(kind, item type, raw mapping)`` of a field type; None when the CLI cannot take it."""
    tp, _ = _strip_none(annotation)
    origin = typing.get_origin(tp)
    if tp is bool:
        return "bool", bool, False
    if _scalar(tp):
        return "value", tp, False
    if tp is Path:
        return "value", str, False
    if origin in (list, tuple, set, frozenset):
        args = [a for a in typing.get_args(tp) if a is not Ellipsis]
        if len(args) == 1 and _scalar(args[0]):
            return "list", args[0], False
        return None
    if origin in (dict, Mapping) or tp is dict:
        args = typing.get_args(tp)
        return "mapping", str, bool(args) and args[1] is str
    if origin in (typing.Union, types.UnionType) and str in typing.get_args(tp):
        return "text", str, False
    return None


def cli_fields(model: type[Any]) -> list[CliField]:
    """The fields of a pydantic model that the command line takes, in declaration order."""
    from pydantic_core import PydanticUndefined

    out = []
    for name, info in model.model_fields.items():
        flag = next((m for m in info.metadata if isinstance(m, Flag)), Flag())
        if not flag.cli:
            continue
        required = info.is_required()
        if info.default_factory is not None:
            default = info.default_factory()  # type: ignore[call-arg]
        else:
            default = None if info.default is PydanticUndefined else info.default
        if flag.parse is not None:
            kind, item, raw = "text", str, False
        else:
            found = _classify(info.annotation)
            if found is None:
                continue
            kind, item, raw = found
        out.append(
            CliField(
                name=name,
                flag=flag,
                kind=kind,  # type: ignore[arg-type]
                item_type=item,
                default=default,
                required=required,
                description=(info.description or "").rstrip("."),
                raw_mapping=raw,
            )
        )
    return out


def field_flags(model: type[Any]) -> dict[str, str]:
    """Field name → how the user spells it on this command (for error messages)."""
    return {f.name: (f.name.upper() if f.flag.argument else f.long) for f in cli_fields(model)}


def model_from_dataclasses(
    name: str, sources: Mapping[str, Sequence[type]], *, panel: str | None = None
) -> type[Any]:
    """A pydantic model whose fields are the fields of dataclasses, for generating flags.

    ``sources`` maps a label (e.g. a build kind) to the dataclasses whose fields it takes;
    nested dataclass fields are skipped (give their class too). Every field defaults to
    None (given or not), its description is the field's attribute docstring, followed
    by the labels that take it when not all do: ``"Lowest level kept (sft, rl)"``.
    """
    import dataclasses

    from pydantic import Field, create_model
    from tracemill.pipelines.synth.base import field_docs

    found: dict[str, tuple[Any, str, list[str], list[Any]]] = {}
    for label, classes in sources.items():
        for cls in classes:
            docs = field_docs(cls)
            hints = typing.get_type_hints(cls)
            for f in dataclasses.fields(cls):
                tp = hints[f.name]
                if dataclasses.is_dataclass(tp):
                    continue
                entry = found.setdefault(f.name, (tp, docs.get(f.name, ""), [], []))
                if label not in entry[2]:
                    entry[2].append(label)
                    entry[3].append(f.default)
    fields: dict[str, Any] = {}
    for key, (tp, doc, labels, defaults) in found.items():
        text = " ".join(doc.split()).rstrip(".")
        if len(labels) < len(sources):
            text += f" ({', '.join(labels)})"
        base, _ = _strip_none(tp)
        # a default shared by every label that takes the field is worth showing
        shared = defaults[0] if all(d == defaults[0] for d in defaults) else None
        if shared is dataclasses.MISSING:
            shared = None
        fields[key] = (
            Annotated[base | None, Flag(panel=panel)],
            Field(shared, description=text),
        )
    return create_model(name, **fields)


# --- typer parameters ----------------------------------------------------------------------


LAST_PANELS = ("Output", "Common")
"""``--help`` sections shown after the others."""


_METAVARS = {str: "TEXT", int: "INT", float: "NUM"}


def typer_parameters(fields: Sequence[CliField]) -> list[inspect.Parameter]:
    """``inspect.Parameter`` s (with typer annotations) for a generated command.

    Options carry their real defaults (shown by ``--help``); which ones the user gave is
    read from click's parameter sources (see :func:`flag_values`). A bool shows one flag,
    the one that changes its default (``--no-plots`` when plots are on); the other
    spelling is accepted, hidden.
    """
    kw = inspect.Parameter.KEYWORD_ONLY
    params = []
    for f in fields:
        default = None if f.required or f.kind in ("list", "mapping") else f.default
        if f.kind == "bool":
            tp: Any = bool
        elif f.kind == "list":
            # typer takes no list of Literal: text, checked by the config
            item = str if typing.get_origin(f.item_type) is Literal else f.item_type
            tp = list[item]  # type: ignore[valid-type]
        elif f.kind == "mapping":
            tp = list[str]
        elif f.kind == "text" and default is not None and not isinstance(default, str):
            tp, default = f.item_type, None  # a parsed default (e.g. a list) is not text
        else:
            tp = f.item_type
        help_text = f.help_text()
        metavar = f.metavar
        literal = typing.get_origin(f.item_type) is Literal
        if literal:
            choices = "|".join(str(c) for c in typing.get_args(f.item_type))
            if f.kind == "list" or len(choices) > 16:
                metavar = metavar or f.name.upper()
                help_text += f"; one of {choices.replace('|', ', ')}"
        elif f.kind != "bool":
            metavar = metavar or _METAVARS.get(f.item_type)
        if f.flag.argument:
            metavar = f.name.upper()
        if f.kind == "bool":
            params += _bool_parameters(f, help_text)
            continue
        common: dict[str, Any] = {"show_default": default is not None, "help": help_text}
        if metavar is not None:
            common["metavar"] = metavar
        if f.flag.argument:
            info: Any = typer.Argument(**common)
        else:
            info = typer.Option(
                *f.decls(), hidden=f.flag.hidden, rich_help_panel=f.flag.panel, **common
            )
        annotation = Annotated[tp if default is not None else tp | None, info]
        params.append(inspect.Parameter(f.name, kw, default=default, annotation=annotation))
        for i, old in enumerate(_old_groups(f)):
            params.append(
                inspect.Parameter(
                    f"_old_{f.name}_{i}", kw, default=None,
                    annotation=Annotated[tp | None, typer.Option(*old, hidden=True)],
                )
            )  # fmt: skip
    return params


def _bool_parameters(f: CliField, help_text: str) -> list[inspect.Parameter]:
    """A bool's visible flag (the one that changes its default) and the hidden other one."""
    kw = inspect.Parameter.KEYWORD_ONLY
    on, off = f.decls()[0].split("/")
    short = [f.flag.short] if f.flag.short else []
    if f.default is True:
        shown, other = [off], [on, *short]
        help_text += " (on unless this flag is given)"
    else:
        shown, other = [on, *short], [off]
    panel = f.flag.panel
    return [
        inspect.Parameter(f.name, kw, default=False, annotation=Annotated[bool, typer.Option(
            *shown, help=help_text, hidden=f.flag.hidden, rich_help_panel=panel,
            show_default=False, metavar="")]),
        inspect.Parameter(f"_alt_{f.name}", kw, default=False, annotation=Annotated[
            bool, typer.Option(*other, hidden=True)]),
        *(inspect.Parameter(f"_old_{f.name}_{i}", kw, default=False, annotation=Annotated[
            bool, typer.Option(*old, hidden=True)]) for i, old in enumerate(_old_groups(f))),
    ]  # fmt: skip


def panel_order(params: Sequence[inspect.Parameter]) -> list[inspect.Parameter]:
    """Parameters grouped by ``--help`` section: the main one first, Output and Common last."""

    def panel(p: inspect.Parameter) -> str | None:
        for m in getattr(p.annotation, "__metadata__", ()):
            return getattr(m, "rich_help_panel", None)
        return None

    seen: list[str | None] = []
    for p in params:
        if panel(p) not in seen:
            seen.append(panel(p))
    order = [x for x in seen if x not in LAST_PANELS] + [x for x in LAST_PANELS if x in seen]
    return sorted(params, key=lambda p: order.index(panel(p)))


def _old_groups(f: CliField) -> list[tuple[str, ...]]:
    """Deprecated spellings as option declarations (a long one and its short, together)."""
    if not f.flag.old:
        return []
    longs = [o for o in f.flag.old if o.startswith("--")]
    shorts = [o for o in f.flag.old if not o.startswith("--")]
    groups = [(o,) for o in longs] or [()]
    groups[0] = (*groups[0], *shorts)
    return [g for g in groups if g]


# --- values ----------------------------------------------------------------------------------


class OptionError(ValueError):
    """A flag, ``--set`` or ``--config`` value that cannot be used."""


def parse_assignment(text: str, *, what: str = "KEY=VALUE", raw: bool = False) -> tuple[str, Any]:
    """``"key=value"`` → ``("key", value)``; the value read as YAML unless ``raw``."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise OptionError(f"expected {what}, got {text!r}")
    return key.strip(), (value if raw else read_yaml_value(value))


def read_yaml_value(text: str) -> Any:
    """A flag value read as YAML (``3`` → 3, ``true`` → True, ``[a, b]`` → list); else text."""
    import yaml

    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    return text if value is None and text.strip() not in ("null", "~") else value


def load_config_file(path: str | Path, *, stage: str | None = None) -> dict[str, Any]:
    """A ``--config`` file: a YAML/JSON mapping of config keys (``stage:`` must match)."""
    import yaml

    p = Path(path).expanduser()
    if not p.is_file():
        raise FileNotFoundError(f"--config: no such file {p}")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise OptionError(f"--config {p}: invalid YAML: {e}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise OptionError(f"--config {p}: expected a mapping of config keys")
    named = data.pop("stage", None)
    if stage is not None and named is not None and named != stage:
        raise OptionError(f"--config {p}: holds a {named!r} stage, not {stage!r}")
    data.pop("name", None)  # a recipe entry's label
    return data


def set_dotted(values: dict[str, Any], key: str, value: Any) -> None:
    """``values["a"]["b"] = value`` for key ``"a.b"`` (mappings created as needed)."""
    parts = key.split(".")
    target = values
    for part in parts[:-1]:
        nxt = target.get(part)
        if not isinstance(nxt, dict):
            nxt = {} if nxt is None else nxt
            if not isinstance(nxt, dict):
                raise OptionError(f"--set {key}: {part!r} is not a mapping")
            target[part] = nxt = dict(nxt)
        target = nxt
    target[parts[-1]] = value


def flag_values(
    fields: Sequence[CliField],
    given: Mapping[str, Any],
    warn: Callable[[str], None],
    sources: Mapping[str, bool] | None = None,
) -> dict[str, Any]:
    """Config values from the flags the user gave.

    ``sources`` says per parameter whether the user gave it (click's parameter source is
    not its default); without it a ``None`` / empty value means "not given".
    """
    out: dict[str, Any] = {}
    for f in fields:
        if f.kind == "bool":
            value = _bool_value(f, given, sources, warn)
            if value is not None:
                out[f.name] = value
            continue
        value = given.get(f.name)
        if sources is not None and not sources.get(f.name, False):
            value = None
        for i, old in enumerate(_old_groups(f)):
            old_value = given.get(f"_old_{f.name}_{i}")
            if old_value is None or old_value == []:
                continue
            warn(f"{'/'.join(old)} is deprecated; use {f.long}")
            if value is None or value == []:
                value = old_value
        if value is None or (f.kind in ("list", "mapping") and not value):
            continue
        out[f.name] = _convert(f, value)
    return out


def _bool_value(
    f: CliField,
    given: Mapping[str, Any],
    sources: Mapping[str, bool] | None,
    warn: Callable[[str], None],
) -> bool | None:
    """A bool field's value from its shown flag, the other spelling or an old one."""

    def was_given(name: str) -> bool:
        if sources is not None and not sources.get(name, False):
            return False
        return bool(given.get(name))

    flips = f.default is True
    if was_given(f.name):
        return not flips
    if was_given(f"_alt_{f.name}"):
        return flips
    for i, old in enumerate(_old_groups(f)):
        if was_given(f"_old_{f.name}_{i}"):
            warn(f"{'/'.join(old)} is deprecated; use {f.decls()[0]}")
            return True
    return None


def _convert(f: CliField, value: Any) -> Any:
    if f.kind == "mapping":
        mapping: dict[str, Any] = {}
        for item in value:
            try:
                key, v = parse_assignment(item, what=f.metavar or "KEY=VALUE", raw=f.raw_mapping)
            except OptionError as e:
                raise OptionError(f"{f.long} {e}") from None
            mapping[key] = v
        return mapping
    if f.kind == "list":
        return list(value)
    if f.flag.parse is not None:
        try:
            return f.flag.parse(value)
        except ValueError as e:
            raise OptionError(f"{f.long}: {e}") from None
    return value


def merge_values(
    model: type[Any],
    *,
    config_file: str | Path | None = None,
    flags: Mapping[str, Any] | None = None,
    sets: Sequence[str] = (),
    stage: str | None = None,
) -> dict[str, Any]:
    """Config values: ``--config`` file, then flags, then ``--set`` (later wins)."""
    values: dict[str, Any] = {}
    if config_file is not None:
        values.update(load_config_file(config_file, stage=stage))
    values.update(flags or {})
    apply_sets(model, values, sets)
    return values


def apply_sets(model: type[Any], values: dict[str, Any], sets: Sequence[str]) -> None:
    """Apply ``--set KEY=VALUE`` items to ``values`` (keys must be the model's)."""
    for item in sets:
        try:
            key, value = parse_assignment(item)
        except OptionError as e:
            raise OptionError(f"--set {e}") from None
        if key.split(".")[0] not in model.model_fields:
            known = ", ".join(model.model_fields)
            raise OptionError(f"--set {key}: unknown key; keys are {known}")
        set_dotted(values, key, value)


def registered(name: str | None, lookup: Callable[[str], Any]) -> str | None:
    """``name`` when ``lookup`` finds it (None passes); for a config's field validator.

    A registry lookup's ``KeyError`` (``unknown verifier 'x'; registered: …``) becomes a
    ``ValueError``, so an unknown name in a flag or recipe is a usage error, found before
    anything runs.
    """
    if name is None:
        return None
    try:
        lookup(name)
    except KeyError as e:
        raise ValueError(e.args[0] if e.args else str(e)) from None
    return name


def backend_name(name: str | None) -> str | None:
    """``name`` when it is a generation backend kind (None passes), else ValueError."""
    from tracemill.pipelines.generate import backend_kinds

    if name is not None and name not in backend_kinds():
        raise ValueError(f"unknown backend {name!r}; backends are {', '.join(backend_kinds())}")
    return name


def validate(model: type[Any], values: Mapping[str, Any]) -> Any:
    """``model`` from ``values``; errors name the flags (``--samples: …``), one line."""
    from pydantic import ValidationError

    try:
        return model.model_validate(dict(values))
    except ValidationError as e:
        raise OptionError(describe_errors(e, field_flags(model))) from None


def describe_errors(err: Any, flags: Mapping[str, str]) -> str:
    """A pydantic error as ``--flag: message; …`` (``--model is required``)."""
    parts = []
    for e in err.errors():
        loc = [str(p) for p in e["loc"]]
        where = flags.get(loc[0], loc[0]) if loc else ""
        if len(loc) > 1:
            where += "." + ".".join(loc[1:])
        msg = str(e["msg"]).removeprefix("Value error, ")
        if e["type"] == "missing":
            parts.append(f"{where} is required")
        elif e["type"] == "extra_forbidden":
            parts.append(f"{where}: unknown key")
        else:
            parts.append(f"{where}: {msg}" if where else msg)
    return "; ".join(parts)


def dump(value: Any) -> str:
    """A config as YAML text (what ``--config`` reads back)."""
    import yaml

    data = json.loads(value.model_dump_json()) if hasattr(value, "model_dump_json") else value
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
