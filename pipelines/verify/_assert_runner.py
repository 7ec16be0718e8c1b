"""Assertion-test runner that runs *inside* the code sandbox (standard library only).

``python -I -B assert_runner.py SOLUTION TESTS PREIMPORTS PRELUDE RESULT_FD`` runs one test
case of a problem whose tests are Python code (pytest functions, MBPP asserts, HumanEval
``check(candidate)``); the case (which test, the hook names) arrives as JSON on stdin.
It is the child side of ``mode="assert"`` in ``sandbox.py``; the harness starts one such
process per case and forwards what it writes to ``RESULT_FD`` without trusting it.

The test module it runs is not the dataset's text: the verifying process rewrote it
(``asserts.py``) so that every ``assert`` became a call of the check hook with the
values of the expression's non-literal parts, and the literal parts (usually the
expected values) stayed outside. The hook writes those values, serialised with the
built-in types' own methods (:func:`encode`), as one JSON line per check; the verifying
process evaluates each assertion on them. So nothing here decides whether a check
passed, and an object that claims to equal everything is written as what it is.

What runs here, in the program's own process, and can therefore be tampered with by
the program: the order of the test code, pytest's ``raises``/``approx``/fixtures
(a compatible subset, :func:`pytest_module`), whether a test function returned
normally, and assertions whose expected side is computed at run time. The verifying
process knows which checks each test must reach and requires them.

A module ``solution`` holds the program (after the pre-imports and, for HumanEval,
the prompt); the test module starts with all of its names, as ``from solution import *``
in KodCode's runner and MBPP's single namespace provide.
"""

from __future__ import annotations

import builtins
import contextlib
import inspect
import io
import itertools
import json
import os
import re
import sys
import tempfile
import types
import warnings

MAX_DEPTH = 64
"""Deepest nesting of a checked value that is serialised; deeper is opaque."""
MAX_NODES = 200_000
"""Values serialised per check; more is opaque."""
MAX_MESSAGE = 2000
_DEFAULT_REL = 1e-6
_DEFAULT_ABS = 1e-12


# --- serialisation of checked values ---------------------------------------------------


class _TooLarge(Exception):
    pass


_TYPE_DICT = type.__dict__["__dict__"]
_TYPE_QUALNAME = type.__dict__["__qualname__"]
_TYPE_MRO = type.__dict__["__mro__"]
_TYPE_MODULE = type.__dict__["__module__"]


def _cls_dict(cls: type) -> object:
    """A class's own namespace, read through ``type``'s slot (no metaclass override)."""
    return _TYPE_DICT.__get__(cls)


def _qualname(cls: type) -> str:
    """``module:qualname`` of a class, read through ``type``'s slots."""
    try:
        module = _TYPE_MODULE.__get__(cls)
        name = _TYPE_QUALNAME.__get__(cls)
    except (TypeError, AttributeError):
        return "?:?"
    return f"{module if isinstance(module, str) else '?'}:{name}"


def _instance_dict(value: object) -> dict | None:
    """The instance ``__dict__`` read through the C slot, never a property of the class.

    None when the class hides the slot behind its own ``__dict__`` (the value is opaque).
    """
    for base in _TYPE_MRO.__get__(type(value)):
        slot = _cls_dict(base).get("__dict__")
        if slot is None:
            continue
        if type(slot).__name__ != "getset_descriptor":
            return None
        try:
            found = slot.__get__(value)
        except (AttributeError, TypeError):
            return None
        return found if type(found) is dict else None
    return None


def _slot_values(value: object) -> list:
    out = []
    for base in _TYPE_MRO.__get__(type(value)):
        slots = _cls_dict(base).get("__slots__")
        if isinstance(slots, str):
            slots = (slots,)
        if not isinstance(slots, (tuple, list)):
            continue
        for name in slots:
            member = _cls_dict(base).get(name) if isinstance(name, str) else None
            if member is None or type(member).__name__ != "member_descriptor":
                continue
            try:
                out.append((name, member.__get__(value)))
            except AttributeError:
                continue  # an unset slot
    return out


def encode(value: object) -> object:
    """JSON form of a checked value, type-preserving, built without the value's methods.

    ``None``/bools/ints/strings/lists are plain JSON (ints too large for a JSON number are
    tagged); other values are tagged objects ``{"#": kind, ...}``: float (exact, as hex),
    tuple, set, frozenset, dict (pairs), bytes, bytearray, complex, range, decimal,
    fraction, date/time types, enum, type, object (class name and attributes) and
    opaque (functions, generators, cycles, too large or too deep).
    """
    budget = [MAX_NODES]
    try:
        return _enc(value, 0, set(), budget)
    except (_TooLarge, RecursionError, MemoryError):
        return {"#": "opaque", "cls": "too large"}


def _enc(value: object, depth: int, active: set, budget: list) -> object:
    budget[0] -= 1
    if budget[0] < 0 or depth > MAX_DEPTH:
        raise _TooLarge
    if value is None or value is True or value is False:
        return value
    t = type(value)
    try:
        if issubclass(t, int):
            n = int.__index__(value)
            if n.bit_length() > 4000:
                return {"#": "int", "hex": int.__format__(n, "x")}
            return n
        if issubclass(t, float):
            return {"#": "float", "v": float.hex(float.__float__(value))}
        if issubclass(t, str):
            return str.__str__(value)
        if issubclass(t, bytes):
            return {"#": "bytes", "v": bytes.hex(value)}
        if issubclass(t, bytearray):
            return {"#": "bytearray", "v": bytearray.hex(value)}
        if issubclass(t, complex):
            c = complex.__complex__(value)
            return {"#": "complex", "v": [float.hex(c.real), float.hex(c.imag)]}
        if t is range:
            return {"#": "range", "v": [value.start, value.stop, value.step]}  # type: ignore[attr-defined]
    except (TypeError, ValueError, OverflowError):
        return {"#": "opaque", "cls": _qualname(t)}
    key = id(value)
    if key in active:
        return {"#": "opaque", "cls": "cycle"}
    active.add(key)
    try:
        return _enc_container(value, t, depth, active, budget)
    except (_TooLarge, RecursionError, MemoryError):
        raise
    except Exception:  # noqa: BLE001 - whatever a strange object does, it is opaque
        return {"#": "opaque", "cls": _qualname(t)}
    finally:
        active.discard(key)


def _enc_container(value: object, t: type, depth: int, active: set, budget: list) -> object:
    d = depth + 1
    if issubclass(t, list):
        return [_enc(v, d, active, budget) for v in list.__iter__(value)]  # type: ignore[arg-type]
    if issubclass(t, tuple):
        return {"#": "tuple", "v": [_enc(v, d, active, budget) for v in tuple.__iter__(value)]}  # type: ignore[arg-type]
    if issubclass(t, dict):
        pairs = [[_enc(k, d, active, budget), _enc(v, d, active, budget)]
                 for k, v in dict.items(value)]  # type: ignore[arg-type]  # fmt: skip
        return {"#": "dict", "v": pairs}
    if issubclass(t, frozenset):
        return {
            "#": "frozenset",
            "v": [_enc(v, d, active, budget) for v in frozenset.__iter__(value)],
        }  # type: ignore[arg-type]
    if issubclass(t, set):
        return {"#": "set", "v": [_enc(v, d, active, budget) for v in set.__iter__(value)]}  # type: ignore[arg-type]
    for base in _TYPE_MRO.__get__(t):
        kind = _STDLIB_VALUES.get(_qualname(base))
        if kind is not None:
            return kind(value, base)
    if _qualname(t).startswith("numpy:") and callable(getattr(t, "tolist", None)):
        return _enc(value.tolist(), d, active, budget)  # type: ignore[attr-defined]
    if issubclass(t, type):
        return {"#": "type", "name": _qualname(value)}  # type: ignore[arg-type]
    attrs = _instance_dict(value)
    slots = _slot_values(value)
    if attrs is None and not slots:
        return {"#": "opaque", "cls": _qualname(t)}
    items = [(k, v) for k, v in dict.items(attrs or {}) if type(k) is str] + slots
    return {
        "#": "object",
        "cls": _qualname(t),
        "attrs": [[k, _enc(v, d, active, budget)] for k, v in items],
        "truth": _truth(value),
    }


def _truth(value: object) -> bool:
    """``bool(value)`` as Python's ``if`` sees it (the class's own ``__bool__``/``__len__``)."""
    try:
        return bool(value)
    except Exception:  # noqa: BLE001 - a truth test that raises counts as false
        return False


def _enc_decimal(value: object, base: type) -> object:
    return {"#": "decimal", "v": base.__str__(value)}


def _enc_fraction(value: object, base: type) -> object:
    num = _cls_dict(base)["numerator"].fget(value)
    den = _cls_dict(base)["denominator"].fget(value)
    return {"#": "fraction", "v": [int.__index__(num), int.__index__(den)]}


def _enc_datetime(value: object, base: type) -> object:
    if base.__name__ == "timedelta":
        parts = [_cls_dict(base)[p].__get__(value) for p in ("days", "seconds", "microseconds")]
        return {"#": "timedelta", "v": parts}
    return {"#": base.__name__, "v": base.isoformat(value)}


def _enc_enum(value: object, base: type) -> object:
    members = _instance_dict(value) or {}
    return {"#": "enum", "cls": _qualname(type(value)), "name": str(members.get("_name_"))}


_STDLIB_VALUES = {
    "decimal:Decimal": _enc_decimal,
    "fractions:Fraction": _enc_fraction,
    "datetime:datetime": _enc_datetime,
    "datetime:date": _enc_datetime,
    "datetime:time": _enc_datetime,
    "datetime:timedelta": _enc_datetime,
    "enum:Enum": _enc_enum,
}


# --- pytest.approx (also used by the verifying process on decoded values) ---------------


class Approx:
    """``pytest.approx``: numbers within a tolerance, containers element by element.

    The tolerance is pytest's: ``max(rel * |expected|, abs)`` with ``rel`` 1e-6 and
    ``abs`` 1e-12 by default, only ``abs`` when only ``abs`` is given.
    """

    def __init__(self, expected: object, rel: float | None = None, abs: float | None = None,
                 nan_ok: bool = False) -> None:  # fmt: skip
        self.expected, self.rel, self.abs, self.nan_ok = expected, rel, abs, nan_ok

    def __repr__(self) -> str:
        return f"approx({self.expected!r})"

    __hash__ = None  # type: ignore[assignment]

    def __eq__(self, actual: object) -> bool:
        return approx_equal(actual, self.expected, self.rel, self.abs, self.nan_ok)

    def __ne__(self, actual: object) -> bool:
        return not self.__eq__(actual)


def _is_number(x: object) -> bool:
    return isinstance(x, (int, float, complex)) and not isinstance(x, bool)


def approx_equal(actual: object, expected: object, rel: float | None = None,
                 abs_tol: float | None = None, nan_ok: bool = False) -> bool:  # fmt: skip
    """Whether ``actual == approx(expected, rel, abs)`` (pytest semantics, see :class:`Approx`)."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict) or set(actual) != set(expected):
            return False
        return all(approx_equal(actual[k], v, rel, abs_tol, nan_ok) for k, v in expected.items())
    if isinstance(expected, (list, tuple)):
        if not isinstance(actual, (list, tuple)) or len(actual) != len(expected):
            return False
        pairs = zip(actual, expected, strict=True)
        return all(approx_equal(a, e, rel, abs_tol, nan_ok) for a, e in pairs)
    if not (_is_number(expected) and _is_number(actual)):
        return actual == expected
    if actual == expected:
        return True
    if isinstance(expected, complex) or isinstance(actual, complex):
        diff = builtins.abs(actual - expected)  # type: ignore[operator]
    else:
        if expected != expected:  # NaN
            return nan_ok and actual != actual
        if expected in (float("inf"), float("-inf")):
            return False
        diff = builtins.abs(actual - expected)  # type: ignore[operator]
    tol_abs = _DEFAULT_ABS if abs_tol is None else abs_tol
    if rel is None and abs_tol is not None:
        return diff <= tol_abs
    tol_rel = (_DEFAULT_REL if rel is None else rel) * builtins.abs(expected)  # type: ignore[arg-type]
    return diff <= max(tol_rel, tol_abs)


# --- a compatible subset of pytest ------------------------------------------------------


class OutcomeException(BaseException):
    """pytest's outcome exceptions (skip, fail) are BaseExceptions too."""

    def __init__(self, msg: str = "") -> None:
        super().__init__(msg)
        self.msg = msg


class Skipped(OutcomeException):
    """``pytest.skip``."""


class Failed(OutcomeException):
    """``pytest.fail`` and ``DID NOT RAISE``."""


class XFailed(Failed):
    """``pytest.xfail``."""


class ExceptionInfo:
    """What ``pytest.raises`` caught."""

    def __init__(self) -> None:
        self.type: type | None = None
        self.value: BaseException | None = None
        self.tb = None

    def fill(self, exc: BaseException) -> None:
        """Record `exc`."""
        self.type, self.value, self.tb = type(exc), exc, exc.__traceback__

    @property
    def typename(self) -> str:
        """The exception's class name."""
        return self.type.__name__ if self.type else ""

    @property
    def traceback(self) -> object:
        """The traceback (a plain traceback object here)."""
        return self.tb

    @property
    def exception(self) -> BaseException | None:
        """The caught exception, by unittest's ``assertRaises`` name."""
        return self.value

    def match(self, regexp: str) -> bool:
        """Assert that the message matches `regexp` (``re.search``)."""
        if not re.search(regexp, str(self.value)):
            raise AssertionError(f"Regex pattern {regexp!r} does not match {str(self.value)!r}")
        return True

    def errisinstance(self, exc: type | tuple) -> bool:
        """Whether the caught exception is an instance of `exc`."""
        return isinstance(self.value, exc)

    def __repr__(self) -> str:
        return f"<ExceptionInfo {self.typename}: {self.value!s}>"


class _Raises:
    def __init__(self, expected: type | tuple, match: str | None) -> None:
        self.expected, self.pattern, self.info = expected, match, ExceptionInfo()

    def __enter__(self) -> ExceptionInfo:
        return self.info

    def __exit__(self, et: type | None, ev: BaseException | None, tb: object) -> bool:
        if et is None:
            raise Failed(f"DID NOT RAISE {self.expected!r}")
        if not issubclass(et, self.expected):
            return False
        self.info.fill(ev)  # type: ignore[arg-type]
        if self.pattern is not None:
            self.info.match(self.pattern)
        return True


def raises(
    expected: type | tuple, *args: object, match: str | None = None, **kwargs: object
) -> object:
    """``pytest.raises`` as a context manager or ``raises(Exc, func, *args)``."""
    if not args:
        return _Raises(expected, match)
    func = args[0]
    info = ExceptionInfo()
    try:
        func(*args[1:], **kwargs)  # type: ignore[operator]
    except expected as e:  # type: ignore[misc]
        info.fill(e)
        return info
    raise Failed(f"DID NOT RAISE {expected!r}")


class _Warns:
    def __init__(self, expected: type | tuple, match: str | None) -> None:
        self.expected, self.pattern = expected, match
        self._catch = warnings.catch_warnings(record=True)
        self.list: list = []

    def __enter__(self) -> _Warns:
        self.list = self._catch.__enter__()  # type: ignore[assignment]
        warnings.simplefilter("always")
        return self

    def __exit__(self, et: type | None, ev: object, tb: object) -> bool:
        self._catch.__exit__(et, ev, tb)
        if et is not None:
            return False
        for w in self.list:
            if issubclass(w.category, self.expected) and (
                self.pattern is None or re.search(self.pattern, str(w.message))
            ):
                return False
        raise Failed(f"DID NOT WARN {self.expected!r}")

    def __len__(self) -> int:
        return len(self.list)

    def __iter__(self):  # noqa: ANN204 - iterator of warnings
        return iter(self.list)

    def pop(self, cls: type = Warning) -> object:
        """Remove and return the first warning of `cls`."""
        for i, w in enumerate(self.list):
            if issubclass(w.category, cls):
                return self.list.pop(i)
        raise AssertionError(f"{cls!r} not found in warning list")


def warns(
    expected: type | tuple = Warning, *args: object, match: str | None = None, **kwargs: object
) -> object:
    """``pytest.warns`` (context manager or with a function to call)."""
    context = _Warns(expected, match)
    if not args:
        return context
    with context:
        args[0](*args[1:], **kwargs)  # type: ignore[operator]
    return context.list


def skip(reason: str = "", *, allow_module_level: bool = False) -> None:
    """``pytest.skip``."""
    raise Skipped(reason)


def fail(reason: str = "", pytrace: bool = True) -> None:
    """``pytest.fail``."""
    raise Failed(reason)


def xfail(reason: str = "") -> None:
    """``pytest.xfail``."""
    raise XFailed(reason)


skip.Exception = Skipped  # type: ignore[attr-defined]
fail.Exception = Failed  # type: ignore[attr-defined]
xfail.Exception = XFailed  # type: ignore[attr-defined]


def importorskip(modname: str, minversion: str | None = None, reason: str | None = None) -> object:
    """Import `modname`, or skip the test when it is not installed."""
    try:
        __import__(modname)
    except ImportError:
        raise Skipped(reason or f"could not import {modname!r}") from None
    return sys.modules[modname]


class Mark:
    """One mark: name, args, kwargs."""

    def __init__(self, name: str, args: tuple, kwargs: dict) -> None:
        self.name, self.args, self.kwargs = name, args, kwargs


class MarkDecorator:
    """``pytest.mark.NAME`` and ``pytest.mark.NAME(...)``."""

    def __init__(self, mark: Mark) -> None:
        self.mark = mark

    @property
    def name(self) -> str:
        """The mark's name."""
        return self.mark.name

    @property
    def args(self) -> tuple:
        """Positional arguments."""
        return self.mark.args

    @property
    def kwargs(self) -> dict:
        """Keyword arguments."""
        return self.mark.kwargs

    def __call__(self, *args: object, **kwargs: object) -> object:
        if (
            len(args) == 1
            and not kwargs
            and (inspect.isfunction(args[0]) or inspect.isclass(args[0]))
        ):
            target = args[0]
            own = (
                target.__dict__.get("_tm_marks", [])
                if inspect.isclass(target)
                else getattr(target, "_tm_marks", [])
            )
            target._tm_marks = [*own, self.mark]  # type: ignore[attr-defined]
            return target
        merged = Mark(self.mark.name, self.mark.args + args, {**self.mark.kwargs, **kwargs})
        return MarkDecorator(merged)

    def with_args(self, *args: object, **kwargs: object) -> MarkDecorator:
        """Add arguments (even a single callable)."""
        return MarkDecorator(
            Mark(self.mark.name, self.mark.args + args, {**self.mark.kwargs, **kwargs})
        )


class _MarkFactory:
    def __getattr__(self, name: str) -> MarkDecorator:
        if name.startswith("__"):
            raise AttributeError(name)
        return MarkDecorator(Mark(name, (), {}))


class ParameterSet:
    """``pytest.param(*values, marks=..., id=...)``."""

    def __init__(self, values: tuple, marks: object, id: str | None) -> None:
        self.values, self.id = values, id
        if isinstance(marks, MarkDecorator):
            marks = [marks]
        self.marks = [m.mark if isinstance(m, MarkDecorator) else m for m in (marks or ())]


def param(*values: object, marks: object = (), id: str | None = None) -> ParameterSet:
    """``pytest.param``."""
    return ParameterSet(values, marks, id)


class FixtureDef:
    """A fixture function with its options."""

    def __init__(
        self, func: object, scope: str, params: list | None, autouse: bool, name: str
    ) -> None:
        self.func, self.scope, self.params, self.autouse, self.name = (
            func,
            scope,
            params,
            autouse,
            name,
        )


def fixture(fixture_function: object = None, *, scope: str = "function", params: object = None,
            autouse: bool = False, ids: object = None,
            name: str | None = None) -> object:  # fmt: skip
    """``pytest.fixture`` with or without arguments."""

    def decorate(func: object) -> object:
        plist = list(params) if params is not None else None  # type: ignore[call-overload]
        func._tm_fixture = FixtureDef(func, scope, plist, autouse, name or func.__name__)  # type: ignore[attr-defined]
        return func

    if callable(fixture_function):
        return decorate(fixture_function)
    return decorate


def yield_fixture(*args: object, **kwargs: object) -> object:
    """Old spelling of :func:`fixture`."""
    return fixture(*args, **kwargs)  # type: ignore[arg-type]


def _main(*args: object, **kwargs: object) -> int:
    return 0


def pytest_module() -> types.ModuleType:
    """The ``pytest`` module test code imports here."""
    module = types.ModuleType("pytest")
    names = {
        "raises": raises, "approx": Approx, "fixture": fixture, "yield_fixture": yield_fixture,
        "mark": _MarkFactory(), "param": param, "skip": skip, "fail": fail, "xfail": xfail,
        "importorskip": importorskip, "warns": warns, "main": _main,
        "deprecated_call": lambda *a, **k: warns(
            (DeprecationWarning, PendingDeprecationWarning), *a, **k),
        "ExceptionInfo": ExceptionInfo, "MarkDecorator": MarkDecorator,
        "PytestWarning": type("PytestWarning", (UserWarning,), {}),
        "FixtureRequest": None, "MonkeyPatch": None,
    }  # fmt: skip
    module.__dict__.update(names)
    module.MonkeyPatch = MonkeyPatch  # type: ignore[attr-defined]
    module.FixtureRequest = Request  # type: ignore[attr-defined]
    return module


# --- built-in fixtures -------------------------------------------------------------------

_NOTSET = object()


class MonkeyPatch:
    """``monkeypatch``: set attributes, items, environment variables; undone afterwards."""

    def __init__(self) -> None:
        self._undo: list = []

    @classmethod
    @contextlib.contextmanager
    def context(cls):  # noqa: ANN206 - a context manager
        """A monkeypatch undone when the block ends."""
        mp = cls()
        try:
            yield mp
        finally:
            mp.undo()

    def setattr(self, target: object, name: object = _NOTSET, value: object = _NOTSET,
                raising: bool = True) -> None:  # fmt: skip
        """Set ``target.name = value`` (or ``setattr("pkg.mod.attr", value)``)."""
        if isinstance(target, str) and value is _NOTSET:
            value = name
            modpath, _, name = target.rpartition(".")
            target = _resolve(modpath)
        old = getattr(target, name, _NOTSET)  # type: ignore[arg-type]
        if raising and old is _NOTSET:
            raise AttributeError(f"{target!r} has no attribute {name!r}")
        if inspect.isclass(target):
            old = target.__dict__.get(name, _NOTSET)  # type: ignore[arg-type]
        self._undo.append(
            lambda: delattr(target, name) if old is _NOTSET else setattr(target, name, old)
        )  # type: ignore[arg-type]
        setattr(target, name, value)  # type: ignore[arg-type]

    def delattr(self, target: object, name: object = _NOTSET, raising: bool = True) -> None:
        """Delete an attribute (restored afterwards)."""
        if isinstance(target, str) and name is _NOTSET:
            modpath, _, name = target.rpartition(".")
            target = _resolve(modpath)
        if not hasattr(target, name):  # type: ignore[arg-type]
            if raising:
                raise AttributeError(name)
            return
        old = getattr(target, name)  # type: ignore[arg-type]
        self._undo.append(lambda: setattr(target, name, old))  # type: ignore[arg-type]
        delattr(target, name)  # type: ignore[arg-type]

    def setitem(self, dic: dict, name: object, value: object) -> None:
        """Set ``dic[name] = value``."""
        old = dic.get(name, _NOTSET)
        self._undo.append(
            lambda: dic.pop(name, None) if old is _NOTSET else dic.__setitem__(name, old)
        )
        dic[name] = value

    def delitem(self, dic: dict, name: object, raising: bool = True) -> None:
        """Delete ``dic[name]``."""
        if name not in dic:
            if raising:
                raise KeyError(name)
            return
        old = dic[name]
        self._undo.append(lambda: dic.__setitem__(name, old))
        del dic[name]

    def setenv(self, name: str, value: str, prepend: str | None = None) -> None:
        """Set an environment variable."""
        value = str(value)
        if prepend and name in os.environ:
            value = value + prepend + os.environ[name]
        self.setitem(os.environ, name, value)  # type: ignore[arg-type]

    def delenv(self, name: str, raising: bool = True) -> None:
        """Delete an environment variable."""
        self.delitem(os.environ, name, raising)  # type: ignore[arg-type]

    def syspath_prepend(self, path: object) -> None:
        """Put `path` first on ``sys.path``."""
        old = list(sys.path)
        self._undo.append(lambda: sys.path.__setitem__(slice(None), old))
        sys.path.insert(0, str(path))

    def chdir(self, path: object) -> None:
        """Change the working folder."""
        old = os.getcwd()
        self._undo.append(lambda: os.chdir(old))
        os.chdir(path)  # type: ignore[arg-type]

    def undo(self) -> None:
        """Undo everything, newest first."""
        while self._undo:
            self._undo.pop()()


def _resolve(path: str) -> object:
    parts = path.split(".")
    obj = __import__(parts[0])
    for i, part in enumerate(parts[1:], start=1):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            __import__(".".join(parts[: i + 1]))
            obj = getattr(obj, part)
    return obj


class CaptureResult(tuple):
    """``(out, err)`` with names."""

    def __new__(cls, out: str, err: str) -> CaptureResult:
        return tuple.__new__(cls, (out, err))

    @property
    def out(self) -> str:
        """Captured standard output."""
        return self[0]

    @property
    def err(self) -> str:
        """Captured standard error."""
        return self[1]


class Capture:
    """``capsys``/``capfd``: standard output and error of the test, as text."""

    def __init__(self) -> None:
        self._saved = (sys.stdout, sys.stderr)
        self._out, self._err = io.StringIO(), io.StringIO()
        sys.stdout, sys.stderr = self._out, self._err

    def readouterr(self) -> CaptureResult:
        """What was written since the last call."""
        result = CaptureResult(self._out.getvalue(), self._err.getvalue())
        for buf in (self._out, self._err):
            buf.seek(0)
            buf.truncate()
        return result

    @contextlib.contextmanager
    def disabled(self):  # noqa: ANN202 - a context manager
        """Write to the real streams inside the block."""
        sys.stdout, sys.stderr = self._saved
        try:
            yield
        finally:
            sys.stdout, sys.stderr = self._out, self._err

    def close(self) -> None:
        """Restore the streams."""
        sys.stdout, sys.stderr = self._saved


class LocalPath(os.PathLike):
    """The part of ``py.path.local`` that ``tmpdir`` tests use."""

    def __init__(self, path: object) -> None:
        self.strpath = os.fspath(path)  # type: ignore[arg-type]

    def __fspath__(self) -> str:
        return self.strpath

    def __str__(self) -> str:
        return self.strpath

    def __repr__(self) -> str:
        return f"local({self.strpath!r})"

    def __truediv__(self, other: str) -> LocalPath:
        return self.join(other)

    def __eq__(self, other: object) -> bool:
        return (
            os.fspath(self) == os.fspath(other) if isinstance(other, (str, os.PathLike)) else False
        )

    def __hash__(self) -> int:
        return hash(self.strpath)

    def join(self, *parts: str) -> LocalPath:
        """A path below this one."""
        return LocalPath(os.path.join(self.strpath, *parts))

    def mkdir(self, name: str) -> LocalPath:
        """Make a folder below this one."""
        p = self.join(name)
        os.mkdir(p.strpath)
        return p

    def ensure(self, *parts: str, dir: bool = False) -> LocalPath:
        """Make the file (or folder) if it is missing."""
        p = self.join(*parts)
        if dir:
            os.makedirs(p.strpath, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(p.strpath), exist_ok=True)
            open(p.strpath, "a").close()
        return p

    def write(self, data: object, mode: str = "w") -> None:
        """Write text (or bytes with ``mode="wb"``)."""
        with open(self.strpath, mode) as f:
            f.write(data)

    def write_text(self, data: str, encoding: str = "utf-8") -> None:
        """Write text."""
        with open(self.strpath, "w", encoding=encoding) as f:
            f.write(data)

    def read(self, mode: str = "r") -> object:
        """The file's content."""
        with open(self.strpath, mode) as f:
            return f.read()

    def read_text(self, encoding: str = "utf-8") -> str:
        """The file's text."""
        with open(self.strpath, encoding=encoding) as f:
            return f.read()

    def exists(self) -> bool:
        """Whether the path exists."""
        return os.path.exists(self.strpath)

    def check(self, file: bool = False, dir: bool = False) -> bool:
        """Whether the path exists (as a file / folder)."""
        if file:
            return os.path.isfile(self.strpath)
        if dir:
            return os.path.isdir(self.strpath)
        return self.exists()

    def listdir(self) -> list:
        """The entries below this folder."""
        return [self.join(n) for n in sorted(os.listdir(self.strpath))]

    @property
    def basename(self) -> str:
        """The last part of the path."""
        return os.path.basename(self.strpath)

    @property
    def dirname(self) -> str:
        """The folder part of the path."""
        return os.path.dirname(self.strpath)


class TmpPathFactory:
    """``tmp_path_factory``."""

    def mktemp(self, basename: str, numbered: bool = True) -> object:
        """A new folder."""
        import pathlib

        return pathlib.Path(tempfile.mkdtemp(prefix=basename, dir="/tmp"))

    def getbasetemp(self) -> object:
        """The folder temporary folders are made in."""
        import pathlib

        return pathlib.Path("/tmp")


class LogCapture:
    """``caplog``: log records emitted during the test."""

    def __init__(self) -> None:
        import logging

        self._logging = logging
        self.records: list = []
        outer = self

        class _Handler(logging.Handler):
            def emit(self, record: object) -> None:
                outer.records.append(record)

        self.handler = _Handler(level=0)
        self.handler.setFormatter(
            logging.Formatter("%(levelname)-8s %(name)s:%(filename)s %(message)s")
        )
        logging.getLogger().addHandler(self.handler)
        self._levels: list = []

    @property
    def text(self) -> str:
        """The formatted records."""
        return "".join(self.handler.format(r) + "\n" for r in self.records)

    @property
    def messages(self) -> list:
        """The records' messages."""
        return [r.getMessage() for r in self.records]

    @property
    def record_tuples(self) -> list:
        """``(logger, level, message)`` per record."""
        return [(r.name, r.levelno, r.getMessage()) for r in self.records]

    def clear(self) -> None:
        """Forget the records so far."""
        self.records.clear()

    def set_level(self, level: object, logger: str | None = None) -> None:
        """Set a logger's level for the rest of the test."""
        log = self._logging.getLogger(logger)
        self._levels.append((log, log.level))
        log.setLevel(level)  # type: ignore[arg-type]

    @contextlib.contextmanager
    def at_level(self, level: object, logger: str | None = None):  # noqa: ANN202
        """A logger's level inside the block."""
        log = self._logging.getLogger(logger)
        old = log.level
        log.setLevel(level)  # type: ignore[arg-type]
        try:
            yield
        finally:
            log.setLevel(old)

    def close(self) -> None:
        """Remove the handler, restore levels."""
        self._logging.getLogger().removeHandler(self.handler)
        for log, level in reversed(self._levels):
            log.setLevel(level)


def _builtin_capsys(request: Request) -> object:
    cap = Capture()
    yield cap
    cap.close()


def _builtin_tmp_path(request: Request) -> object:
    import pathlib

    yield pathlib.Path(tempfile.mkdtemp(prefix="pytest-", dir="/tmp"))


def _builtin_tmpdir(request: Request) -> object:
    yield LocalPath(tempfile.mkdtemp(prefix="pytest-", dir="/tmp"))


def _builtin_monkeypatch(request: Request) -> object:
    mp = MonkeyPatch()
    yield mp
    mp.undo()


def _builtin_caplog(request: Request) -> object:
    cap = LogCapture()
    yield cap
    cap.close()


class WarningsRecorder(list):
    """``recwarn``: every warning raised during the test."""

    @property
    def list(self) -> list:  # noqa: A003 - pytest's name
        """The warnings."""
        return self

    def pop(self, cls: type = Warning) -> object:  # type: ignore[override]
        """Remove and return the first warning of `cls`."""
        for i, w in enumerate(self):
            if issubclass(w.category, cls):
                return super().pop(i)
        raise AssertionError(f"{cls!r} not found in warning list")


def _builtin_recwarn(request: Request) -> object:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        recorder = WarningsRecorder()
        yield recorder
        recorder.extend(caught)


BUILTIN_FIXTURES = {
    "capsys": _builtin_capsys, "capfd": _builtin_capsys, "capsysbinary": _builtin_capsys,
    "tmp_path": _builtin_tmp_path, "tmpdir": _builtin_tmpdir, "monkeypatch": _builtin_monkeypatch,
    "caplog": _builtin_caplog, "recwarn": _builtin_recwarn,
    "tmp_path_factory": lambda request: iter([TmpPathFactory()]),
    "tmpdir_factory": lambda request: iter([TmpPathFactory()]),
}  # fmt: skip


# --- running one test -------------------------------------------------------------------


class Request:
    """``request``: the current parameter, test names, finalizers."""

    def __init__(self, runner: TestRun, param: object = _NOTSET) -> None:
        self._runner = runner
        if param is not _NOTSET:
            self.param = param
        self.function = runner.func
        self.cls = runner.cls
        self.instance = runner.instance
        self.module = runner.module
        self.node = types.SimpleNamespace(
            name=runner.name, nodeid=runner.name, get_closest_marker=lambda n: None
        )
        self.config = types.SimpleNamespace(
            getoption=lambda *a, **k: None, option=types.SimpleNamespace()
        )
        self.fixturename = None

    def addfinalizer(self, fn: object) -> None:
        """Run `fn` after the test."""
        self._runner.finalizers.append(fn)

    def getfixturevalue(self, name: str) -> object:
        """A fixture's value, made if needed."""
        return self._runner.get(name)


class FixtureMissing(Exception):
    """A test asks for a fixture that is neither defined nor built in."""


class TestRun:
    """One call of a test function with its fixtures and parameters."""

    def __init__(self, func: object, name: str, module: types.ModuleType, cls: type | None,
                 instance: object, params: dict, indirect: dict,
                 fixture_params: dict) -> None:  # fmt: skip
        self.func, self.name, self.module, self.cls, self.instance = (
            func,
            name,
            module,
            cls,
            instance,
        )
        self.params, self.indirect, self.fixture_params = params, indirect, fixture_params
        self.values: dict = {}
        self.finalizers: list = []

    def fixture_def(self, name: str) -> object:
        """The fixture `name`: the class's, the module's, then a built-in one."""
        for owner in (self.instance, self.module):
            if owner is None:
                continue
            for value in _fixtures_of(owner).values():
                if value.name == name:
                    return value
        return BUILTIN_FIXTURES.get(name)

    def get(self, name: str) -> object:
        """The value of an argument: a parameter, a made fixture, or make it."""
        if name in self.params:
            return self.params[name]
        if name in self.values:
            return self.values[name]
        if name == "request":
            return Request(self)
        fdef = self.fixture_def(name)
        if fdef is None:
            raise FixtureMissing(f"fixture {name!r} not found")
        if name in self.indirect:
            request = Request(self, self.indirect[name])
        elif name in self.fixture_params:
            request = Request(self, self.fixture_params[name])
        else:
            request = Request(self)
        request.fixturename = name
        if isinstance(fdef, FixtureDef):
            func = fdef.func
            if self.instance is not None and fdef in _fixtures_of(self.instance).values():
                func = getattr(self.instance, func.__name__)  # type: ignore[attr-defined]
            kwargs = {a: (request if a == "request" else self.get(a)) for a in argnames(func)}
            value = func(**kwargs)  # type: ignore[operator]
        else:
            value = fdef(request)  # type: ignore[operator]
        if inspect.isgenerator(value):
            gen = value
            value = next(gen)
            self.finalizers.append(lambda: next(gen, None))
        self.values[name] = value
        return value

    def run(self) -> None:
        """Make the fixtures, call the test, tear down (newest first)."""
        try:
            for fdef in _autouse(self):
                self.get(fdef.name)
            kwargs = {a: self.get(a) for a in argnames(self.func)}
            self.func(**kwargs)  # type: ignore[operator]
        finally:
            errors = []
            while self.finalizers:
                try:
                    self.finalizers.pop()()
                except Exception as e:  # noqa: BLE001 - a teardown error fails the test below
                    errors.append(e)
            if errors and sys.exc_info()[0] is None:
                raise errors[0]


def _fixtures_of(owner: object) -> dict:
    found = {}
    names = owner.__dict__ if isinstance(owner, types.ModuleType) else dir(type(owner))
    for name in names:
        value = (
            owner.__dict__.get(name)
            if isinstance(owner, types.ModuleType)
            else getattr(type(owner), name, None)
        )
        fdef = getattr(value, "_tm_fixture", None)
        if isinstance(fdef, FixtureDef):
            found[name] = fdef
    return found


def _autouse(run: TestRun) -> list:
    out = []
    for owner in (run.module, run.instance):
        if owner is not None:
            out += [f for f in _fixtures_of(owner).values() if f.autouse]
    return out


def argnames(func: object) -> list:
    """The arguments pytest would fill: no defaults, no ``*args``/``**kwargs``, no ``self``."""
    try:
        sig = inspect.signature(func)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return []
    return [
        p.name
        for p in sig.parameters.values()
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.default is p.empty
    ]


def _marks(*owners: object) -> list:
    out: list = []
    for owner in owners:
        if owner is None:
            continue
        marks = (
            owner.__dict__.get("_tm_marks", [])
            if inspect.isclass(owner)
            else getattr(owner, "_tm_marks", [])
        )
        out += list(marks)
        if isinstance(owner, types.ModuleType) or inspect.isclass(owner):
            pm = owner.__dict__.get("pytestmark", [])
            pm = pm if isinstance(pm, (list, tuple)) else [pm]
            out += [m.mark for m in pm if isinstance(m, MarkDecorator)]
    return out


def _param_sets(marks: list) -> list:
    """(params, indirect params, marks) for each combination of ``parametrize`` marks."""
    axes = []
    for mark in marks:
        if mark.name != "parametrize":
            continue
        names, values = (
            mark.args[0],
            list(mark.args[1]) if len(mark.args) > 1 else list(mark.kwargs["argvalues"]),
        )
        if isinstance(names, str):
            names = [n.strip() for n in names.split(",") if n.strip()]
        names = list(names)
        indirect = mark.kwargs.get("indirect", False)
        axis = []
        for value in values:
            extra: list = []
            if isinstance(value, ParameterSet):
                extra, value = (
                    value.marks,
                    value.values if len(names) != 1 or len(value.values) != 1 else value.values[0],
                )
            row = [value] if len(names) == 1 else list(value)
            if len(row) != len(names):
                raise ValueError(f"parametrize: {len(names)} names but {len(row)} values")
            direct = {
                n: v
                for n, v in zip(names, row, strict=True)
                if not (indirect is True or (isinstance(indirect, (list, tuple)) and n in indirect))
            }
            via = {n: v for n, v in zip(names, row, strict=True) if n not in direct}
            axis.append((direct, via, extra))
        axes.append(axis)
    combos = []
    for combo in itertools.product(*axes):
        params, indirect_params, extra = {}, {}, []
        for direct, via, ms in combo:
            params.update(direct)
            indirect_params.update(via)
            extra += ms
        combos.append((params, indirect_params, extra))
    return combos or [({}, {}, [])]


def _skip_reason(marks: list, namespace: dict) -> str | None:
    for mark in marks:
        if mark.name == "skip":
            return str(mark.kwargs.get("reason", mark.args[0] if mark.args else "skipped"))
        if mark.name == "skipif":
            conditions = list(mark.args) or [mark.kwargs.get("condition", False)]
            for cond in conditions:
                if isinstance(cond, str):
                    cond = eval(cond, {"sys": sys, "os": os, **namespace})  # noqa: S307 - test code's own condition
                if cond:
                    return str(mark.kwargs.get("reason", "skipif"))
    return None


def _fixture_param_sets(run_proto: TestRun, func: object) -> list:
    """Each combination of parametrized fixtures (``params=[...]``) the test uses."""
    used: list = []
    seen: set = set()
    stack = list(argnames(func)) + [f.name for f in _autouse(run_proto)]
    while stack:
        name = stack.pop()
        if name in seen or name in run_proto.params:
            continue
        seen.add(name)
        fdef = run_proto.fixture_def(name)
        if isinstance(fdef, FixtureDef):
            if fdef.params is not None and name not in run_proto.indirect:
                used.append(fdef)
            stack += argnames(fdef.func)
    if not used:
        return [{}]
    return [
        dict(zip([f.name for f in used], combo, strict=True))
        for combo in itertools.product(*[f.params for f in used])
    ]


def run_function(func: object, name: str, module: types.ModuleType, cls: type | None) -> str:
    """Run a test function (each parametrization); return passed / skipped, or raise.

    A skip that the program itself raised (``pytest.skip()`` called from ``solution.py``)
    is a failure, never a skipped test; a test one of whose rows skipped at run time is
    skipped (the verifier never passes a run with a skipped test).
    """
    marks = _marks(func, cls, module)
    reason = _skip_reason(marks, module.__dict__)
    if reason is not None:
        return "skipped"
    expect_fail = any(m.name == "xfail" for m in marks)
    ran = skipped = 0
    for params, indirect, extra in _param_sets(marks):
        if _skip_reason(extra, module.__dict__) is not None:
            continue
        param_xfail = expect_fail or any(m.name == "xfail" for m in extra)
        instance = cls() if cls is not None else None
        bound = getattr(instance, func.__name__) if instance is not None else func  # type: ignore[attr-defined]
        proto = TestRun(bound, name, module, cls, instance, params, indirect, {})
        for fixture_params in _fixture_param_sets(proto, bound):
            run = TestRun(bound, name, module, cls, instance, params, indirect, fixture_params)
            try:
                _setup_teardown(instance, bound, module, run.run)
            except (Skipped, _unittest_skip()) as e:
                if origin(e.__traceback__) == "solution.py":
                    raise Failed(f"the program skipped the test: {e}") from e
                skipped += 1
                continue
            except BaseException:
                if param_xfail:
                    continue
                raise
            ran += 1
    return "passed" if ran and not skipped else "skipped"  # a skipped row: not fully checked


def _setup_teardown(instance: object, func: object, module: types.ModuleType, body: object) -> None:
    """xunit-style ``setup_method``/``setup_function`` around `body`."""
    before = after = None
    if instance is not None:
        before, after = (
            getattr(instance, "setup_method", None),
            getattr(instance, "teardown_method", None),
        )
    else:
        before, after = (
            module.__dict__.get("setup_function"),
            module.__dict__.get("teardown_function"),
        )
    if callable(before):
        before(func) if argnames(before) else before()  # type: ignore[operator]
    try:
        body()  # type: ignore[operator]
    finally:
        if callable(after):
            after(func) if argnames(after) else after()  # type: ignore[operator]


def run_unittest(cls: type, method: str) -> str:
    """Run one ``unittest.TestCase`` method (setUp/tearDown, class fixtures, skips).

    Run here rather than by ``unittest``'s own runner, so that a skip the program raised
    is told apart from one the test raised (only the latter skips the test).
    """
    import unittest

    func = getattr(cls, method)
    if getattr(cls, "__unittest_skip__", False) or getattr(func, "__unittest_skip__", False):
        return "skipped"
    expecting = getattr(func, "__unittest_expecting_failure__", False)
    cls.setUpClass()  # type: ignore[attr-defined]
    try:
        case = cls(method)
        case.setUp()
        try:
            try:
                getattr(case, method)()
            except unittest.SkipTest as e:
                if origin(e.__traceback__) == "solution.py":
                    raise Failed(f"the program raised SkipTest: {e}") from e
                return "skipped"
            except BaseException:
                if expecting:
                    return "skipped"
                raise
            return "passed"
        finally:
            case.tearDown()
            case.doCleanups()
    finally:
        cls.tearDownClass()  # type: ignore[attr-defined]


# --- hooks the rewritten test code calls ------------------------------------------------


def make_hooks(emit: object) -> tuple:
    """The check hook and the raises hook, bound to `emit` (writes one JSON record)."""
    enc = encode

    def check(site: int, *values: object) -> None:
        emit({"c": site, "v": [enc(v) for v in values]})  # type: ignore[operator]

    class RaisesHook:
        def __init__(self, site: int) -> None:
            self.site, self.info = site, ExceptionInfo()

        def __enter__(self) -> ExceptionInfo:
            return self.info

        def __exit__(self, et: type | None, ev: BaseException | None, tb: object) -> bool:
            if et is None:
                emit({"r": self.site, "e": None})  # type: ignore[operator]
                return False
            if issubclass(et, (KeyboardInterrupt, OutcomeException)):
                return False
            names = [_qualname(c) for c in type.__dict__["__mro__"].__get__(et)]
            try:
                message = str(ev)[:MAX_MESSAGE]
            except Exception:  # noqa: BLE001 - a message that cannot be shown matches nothing
                message = ""
            emit({"r": self.site, "e": {"names": names, "msg": message}})  # type: ignore[operator]
            self.info.fill(ev)  # type: ignore[arg-type]
            return True  # the verifying process decides whether this was the expected one

    return check, RaisesHook


# --- the case process ------------------------------------------------------------------


def _unittest_skip() -> type:
    import unittest

    return unittest.SkipTest


def origin(tb: object) -> str | None:
    """File of the innermost frame of a traceback that is not this runner's own code."""
    found = None
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename  # type: ignore[attr-defined]
        if name != _RUNNER_FILE and not name.startswith("<frozen"):
            found = name
        tb = tb.tb_next  # type: ignore[attr-defined]
    return found


_RUNNER_FILE = __file__ if __name__ != "__main__" else sys.argv[0]


def _load_solution(sources: dict, run_code: object) -> types.ModuleType:
    """Module ``solution``: the pre-imports, the prelude (if any), then the program.

    A program that does not compile alone but continues the prelude (a HumanEval-style
    completion: the function body after the prompt's signature) runs as prelude +
    program, as HumanEval's harness runs ``prompt + completion``.
    """
    prelude, program = sources.get("prelude"), sources.get("solution")
    if prelude is not None and program is not None:
        try:
            compile(program, "solution.py", "exec", dont_inherit=True)
        except SyntaxError:
            joined = prelude if prelude.endswith("\n") else prelude + "\n"
            sources = {k: v for k, v in sources.items() if k != "prelude"}
            sources["solution"] = joined + program
    module = types.ModuleType("solution")
    module.__file__ = "solution.py"
    sys.modules["solution"] = module
    for key, name in (("preimports", "preimports.py"), ("prelude", "prelude.py"), ("solution", "solution.py")):  # noqa: E501
        if key in sources:
            run_code(compile(sources[key], name, "exec", dont_inherit=True), module.__dict__)  # type: ignore[operator]
    return module


def main(argv: list) -> int:
    """Run the case named on stdin; report records on the result descriptor.

    Everything the report depends on (the case, the test code compiled, the hooks, the
    functions that write) is read and bound before the program runs.
    """
    write, exit_now, run_code = os.write, os._exit, exec
    saved_builtins, to_json = dict(builtins.__dict__), _json_text
    fd = int(argv[5])
    case = json.loads(sys.stdin.read() or "{}")
    with open(argv[2], encoding="utf-8") as f:
        test_code = compile(f.read(), "test_solution.py", "exec", dont_inherit=True)
    paths = {"solution": argv[1], "preimports": argv[3], "prelude": argv[4]}
    sources = {}
    for key, path in paths.items():
        if path:
            with open(path, encoding="utf-8") as f:
                sources[key] = f.read()

    def emit(record: dict) -> None:
        data = (to_json(record) + "\n").encode("utf-8", "replace")
        while data:
            data = data[write(fd, data) :]

    check, raises_hook = make_hooks(emit)
    describe, where_from, skip_types = _describe, origin, (Skipped, _unittest_skip())
    outcome: dict = {"end": "passed"}
    try:
        sys.modules["pytest"] = pytest_module()
        try:
            solution = _load_solution(sources, run_code)
        except BaseException as e:  # noqa: BLE001 - the program's own failure
            outcome = {"end": "failed", "error": describe(e), "stage": "program"}
            missing = getattr(e, "name", None) if type(e) is ModuleNotFoundError else None
            if missing:  # counts as missing only where the test code imports it as well
                outcome["missing_module"] = missing
            raise _Done from None
        tests = types.ModuleType("test_solution")
        tests.__file__ = "test_solution.py"
        ns = tests.__dict__
        for k, v in list(solution.__dict__.items()):
            if not (k.startswith("__") and k.endswith("__")):
                ns[k] = v
        ns[case["check"]] = check
        ns[case["raises"]] = raises_hook
        sys.modules["test_solution"] = tests
        builtins.__dict__.update(saved_builtins)  # undo what the program rebound on import
        run_code(test_code, ns)
        outcome["end"] = _run_case(case["target"], tests)
    except _Done:
        pass
    except skip_types as e:
        if where_from(e.__traceback__) == "solution.py":
            outcome = {"end": "failed", "error": "the program skipped the test: " + describe(e)}
        else:
            outcome = {"end": "skipped", "error": describe(e)}
    except BaseException as e:  # noqa: BLE001 - SystemExit/KeyboardInterrupt from the program fail too
        where = where_from(e.__traceback__)
        assertion = isinstance(e, (AssertionError, Failed))
        outcome = {"end": "failed", "error": describe(e), "assertion": assertion, "where": where}
        missing = getattr(e, "name", None) if type(e) is ModuleNotFoundError else None
        if missing and missing.split(".")[0] != "solution" and where == "test_solution.py":
            outcome["missing_module"] = missing  # the tests need a module this Python lacks
    try:
        emit(outcome)
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        exit_now(0)  # no atexit hook or thread of the program runs after the report
    return 0


def _json_text(
    value: object,
    _type: type = type,
    _dict: type = dict,
    _list: type = list,
    _str: type = str,
    _int: type = int,
    _items: object = dict.items,
    _quote: object = json.encoder.encode_basestring_ascii,  # type: ignore[attr-defined]
    _int_text: object = int.__repr__,
    _join: object = ",".join,
) -> str:
    """JSON text of a record, written with references taken when this module loaded.

    Records hold dicts, lists, text, ints, bools and None (what :func:`encode` makes); a
    program that rebinds ``isinstance`` or patches :mod:`json` cannot change how a report
    is written.
    """
    t = _type(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if t is _str:
        return _quote(value)  # type: ignore[operator]
    if t is _int:
        return _int_text(value)  # type: ignore[operator]
    if t is _list:
        return "[" + _join([_json_text(v) for v in value]) + "]"  # type: ignore[operator,attr-defined]
    if t is _dict:
        pairs = [_quote(k) + ":" + _json_text(v) for k, v in _items(value)]  # type: ignore[operator]
        return "{" + _join(pairs) + "}"  # type: ignore[operator]
    return _quote(repr(value))  # type: ignore[operator]


class _Done(Exception):
    pass


def _describe(e: BaseException) -> str:
    try:
        text = f"{type(e).__name__}: {e}"
    except Exception:  # noqa: BLE001 - an exception whose str() fails
        text = type(e).__name__
    return text[:MAX_MESSAGE]


def _run_case(target: str, tests: types.ModuleType) -> str:
    """Run ``function``, ``Class::method`` (pytest class or unittest) or a wrapper."""
    import unittest

    ns = tests.__dict__
    setup, teardown = ns.get("setup_module"), ns.get("teardown_module")
    if callable(setup):
        setup(tests) if argnames(setup) else setup()  # type: ignore[operator]
    try:
        if "::" in target:
            cls_name, method = target.split("::", 1)
            cls = ns[cls_name]
            if issubclass(cls, unittest.TestCase):
                return run_unittest(cls, method)
            setup_cls, teardown_cls = (
                getattr(cls, "setup_class", None),
                getattr(cls, "teardown_class", None),
            )
            if callable(setup_cls):
                setup_cls()
            try:
                return run_function(cls.__dict__[method], target, tests, cls)
            finally:
                if callable(teardown_cls):
                    teardown_cls()
        return run_function(ns[target], target, tests, None)
    finally:
        if callable(teardown):
            teardown(tests) if argnames(teardown) else teardown()  # type: ignore[operator]


if __name__ == "__main__":
    sys.exit(main(sys.argv))
