r"""Assertion-code tests for the ``code`` verifier: sealing, decoding, judging.

Many public code sets test a program with Python code rather than stdin/stdout pairs:
KodCode's pytest functions (``test_code`` / ``test``), MBPP's ``test_list`` asserts
(with ``test_setup_code``), HumanEval's ``check(candidate)`` with an ``entry_point``,
code-r1's ``{"pytest": ...}`` / ``{"functional": ...}``. Their ``verifier_spec`` is::

    {"assert": {"style": "pytest", "code": "<test module>"}}
    {"assert": {"style": "asserts", "setup": "<setup code>", "asserts": ["assert f(1) == 2", ...]}}
    {"assert": {"style": "check", "code": "<defines check(candidate)>", "entry_point": "f",
                "prelude": "<optional: the prompt, run before the program, or joined
                             with it when the program only continues it>"}}

plus the usual ``time_limit_s`` (per test; default :data:`DEFAULT_TIME_LIMIT_S`) and
``memory_mb``. Each pytest test function (or class method), each MBPP assert and the
``check`` call is one case, run in its own process in the sandbox.

**Sealing.** Test code runs in the same process as the program it tests, so whatever
it decides there the program could tamper with. So before anything enters the sandbox
the test code is rewritten here (:func:`seal`): each ``assert E`` becomes a call that
reports the values of E's non-literal parts (the *holes*: usually the calls of the
program) and E's *shell* — comparisons, ``not``, arithmetic, literals, ``abs``/``len``/
``sorted``/``set``/``math.isclose``/``pytest.approx``/``isinstance`` … — stays here and
is evaluated on the reported values after the run. Literals in the shell (usually the
expected values) never enter the sandbox; ``with pytest.raises(E, match=...)`` reports
the exception raised and E and the pattern stay here too. Docstrings and assert
messages are dropped, and ``@pytest.mark.parametrize`` over literal rows is expanded
here, one test per row, so its expected values become shell literals as well; so
does an expected value bound to a name that is only compared (``expected = [1, 2]``
then ``assert f(x) == expected``, see :func:`inline_expected`), and empty containers
(``== []``) count as literals.

Values are reported serialised by the built-in types' own methods (``_assert_runner.
encode``), type-preserving (a tuple is not a list, ``1`` is not ``True``), and rebuilt
here as plain values, so an object that claims to equal everything is judged as what
it is; objects of other classes are compared by class name and attributes.

**What this guarantees, and what it does not** (unlike stdin/stdout tests, where
nothing in the sandbox decides anything):

- an assertion whose shell holds a literal the program cannot see (``assert f(x) ==
  8``, ``assert abs(f(x) - 0.3) < 1e-6``, ``assert f(x) is None``) is *sealed*: to pass
  it the program must produce the value, whatever it tampers with in its process —
  unless it can guess the hidden literal (``True``/``False`` results can be guessed);
- every test must report every check at the top level of its body (and of helper
  functions it calls there): a program that stops a test early, exits with status 0,
  patches the test functions or the hooks, or raises a skip fails;
- a skip is reported from the program's process too, so a run in which any test was
  skipped (``skipif``, ``pytest.skip()``/``importorskip`` in the test, a module the
  sandbox's Python lacks, a skipped parametrized row) is never a pass: unless another
  test failed, its verdict is ``sandbox_error`` (not fully checked, and no negative);
  tests marked ``skip`` unconditionally are not cases at all, as in pytest;
- *open* assertions (no literal in the shell, e.g. ``assert f(x) == expected`` where
  ``expected`` is computed or comes from a loop), exceptions expected by non-literal
  ``pytest.raises`` forms, ``unittest`` assertion methods, fixtures and whether a test
  returned normally are decided in the program's process: they resist always-equal
  objects and patched ``AssertionError``/``operator``/builtins, but not a program that
  deliberately rewrites the test runner in its own memory. Verdict details count
  sealed and open checks (``checks_sealed``/``checks_open``).
"""

from __future__ import annotations

import ast
import builtins
import copy
import functools
import json
import math
import re
import secrets
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from tracemill.pipelines.verify import _assert_runner as runner

DEFAULT_TIME_LIMIT_S = 6.0
"""Per-test time limit when the spec names none (LiveCodeBench allows 6 s)."""
MAX_RESULT_RECORDS = 100_000
STYLES = ("pytest", "asserts", "check")
HOOK_SUFFIX = secrets.token_hex(4)
"""Per-process suffix of the hook names the rewritten tests call."""
CHECK_HOOK = f"__tm_check_{HOOK_SUFFIX}__"
RAISES_HOOK = f"__tm_raises_{HOOK_SUFFIX}__"
_HOLE = "__tm_hole_"
_MAX_SEQ = 10_000_000
_MAX_POW_BITS = 1_000_000
_BUILTIN_TYPES = {
    "int": int, "float": float, "str": str, "bool": bool, "list": list, "tuple": tuple,
    "dict": dict, "set": set, "frozenset": frozenset, "bytes": bytes, "bytearray": bytearray,
    "complex": complex, "object": object, "type": type,
}  # fmt: skip
_KEY_FUNCS = {"len": len, "str": str, "abs": abs, "int": int, "float": float, "repr": repr,
              "tuple": tuple, "list": list, "sum": sum, "min": min, "max": max}  # fmt: skip
_SINGLETONS = (None, True, False, Ellipsis)


class BadAssertTests(ValueError):
    """Assertion tests that cannot be run (unparsable code, no test, bad spec)."""


# --- spec ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AssertSpec:
    """The ``assert`` part of a code ``verifier_spec``."""

    style: str
    code: str = ""
    asserts: tuple[str, ...] = ()
    setup: str = ""
    entry_point: str | None = None
    prelude: str | None = None

    @classmethod
    def from_json(cls, value: Any) -> AssertSpec:
        """Read and check the spec's ``assert`` object."""
        if not isinstance(value, dict):
            raise BadAssertTests("'assert' must be an object")
        style = value.get("style")
        if style not in STYLES:
            raise BadAssertTests(f"assert style must be one of {', '.join(STYLES)}, not {style!r}")
        asserts = value.get("asserts") or []
        if not isinstance(asserts, list) or not all(isinstance(a, str) for a in asserts):
            raise BadAssertTests("'asserts' must be a list of code texts")
        texts = {k: value.get(k) for k in ("code", "setup", "prelude", "entry_point")}
        for key, text in texts.items():
            if text is not None and not isinstance(text, str):
                raise BadAssertTests(f"'{key}' must be text")
        spec = cls(
            style=style,
            code=texts["code"] or "",
            asserts=tuple(asserts),
            setup=texts["setup"] or "",
            entry_point=texts["entry_point"] or None,
            prelude=texts["prelude"] or None,
        )
        if style == "check" and not (spec.entry_point and spec.entry_point.isidentifier()):
            raise BadAssertTests("check(candidate) tests need the function name (entry_point)")
        if style == "asserts" and not spec.asserts:
            raise BadAssertTests("no asserts")
        return spec

    def to_json(self) -> dict[str, Any]:
        """The spec's ``assert`` object."""
        out: dict[str, Any] = {"style": self.style}
        for key in ("code", "setup", "entry_point", "prelude"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        if self.asserts:
            out["asserts"] = list(self.asserts)
        return out


# --- sealed suite -------------------------------------------------------------------------


@dataclass(frozen=True)
class Site:
    """One check in the test code: an assertion (``check``) or a ``pytest.raises``."""

    id: int
    kind: str
    source: str
    """The assertion as written (with its expected value; never sent to the sandbox)."""
    line: int
    shell: ast.expr | None = None
    holes: int = 0
    sealed: bool = False
    expected: tuple[tuple[str | None, str], ...] = ()
    """``raises``: accepted exception classes as (module or None, name)."""
    match: str | None = None


@dataclass(frozen=True)
class Case:
    """One test the sandbox runs as its own process."""

    name: str
    target: str
    required: frozenset[int]
    may_skip: bool = False
    """Whether the test code can skip this test (skip marks, ``pytest.skip``, …): a skip
    reported for a test that has none is a failure, never a skipped test."""


@dataclass(frozen=True)
class SealedSuite:
    """Test code rewritten for the sandbox, with what stays outside."""

    source: str
    """The rewritten test module: the only test text the sandbox sees."""
    cases: tuple[Case, ...]
    sites: dict[int, Site]
    prelude: str | None
    imports: frozenset[str] = frozenset()
    """Top-level modules the test code imports (a missing one skips, others fail)."""

    @property
    def sealed(self) -> int:
        """Checks decided on literals the sandbox never sees."""
        return sum(1 for s in self.sites.values() if s.sealed)

    @property
    def open(self) -> int:
        """Checks with nothing hidden from the sandbox."""
        return len(self.sites) - self.sealed

    def case_input(self, case: Case) -> str:
        """The JSON a case's process reads on stdin."""
        return json.dumps({"target": case.target, "check": CHECK_HOOK, "raises": RAISES_HOOK})


def parse_module(text: str, what: str) -> ast.Module:
    """Parse test code, or :class:`BadAssertTests` naming `what`."""
    try:
        return ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as e:
        raise BadAssertTests(
            f"{what} is not valid Python ({type(e).__name__}: {e})"[:300]
        ) from None


def seal(spec: AssertSpec) -> SealedSuite:
    """Rewrite `spec`'s test code for the sandbox (cached per spec)."""
    return _seal_cached(json.dumps(spec.to_json(), sort_keys=True))


@functools.lru_cache(maxsize=256)
def _seal_cached(key: str) -> SealedSuite:
    spec = AssertSpec.from_json(json.loads(key))
    if spec.style == "pytest":
        module = parse_module(spec.code, "the test code")
        targets = discover(module)
        if not targets:
            raise BadAssertTests(
                "the test code defines no test (test_* functions or Test* classes)"
            )
        targets = [t for t in targets if not _marked_skip(module, t[1])]
        if not targets:
            raise BadAssertTests("every test in the test code is marked skip")
        missing = unknown_fixtures(module, targets)
        if missing:
            test, name = missing[0]
            raise BadAssertTests(
                f"test {test} asks for fixture {name!r}, which neither the test code nor the "
                "sandbox's pytest subset provides (built in: "
                f"{', '.join(sorted(runner.BUILTIN_FIXTURES))}, request)"
            )
    else:
        module = parse_module(spec.code if spec.style == "check" else spec.setup, "the test code")
        bodies: list[list[ast.stmt]] = []
        if spec.style == "check":
            call = ast.parse(f"check({spec.entry_point})").body
            bodies.append(call)
        else:
            for n, text in enumerate(spec.asserts):
                snippet = parse_module(text, f"assert {n}")
                hoisted = [s for s in snippet.body if isinstance(s, ast.Import | ast.ImportFrom)]
                module.body.extend(hoisted)
                bodies.append([s for s in snippet.body if s not in hoisted] or [ast.Pass()])
        targets = []
        for n, body in enumerate(bodies):
            name = f"__tm_case_{n}__"
            fn = ast.parse(f"def {name}():\n    pass").body[0]
            assert isinstance(fn, ast.FunctionDef)
            fn.body = body
            module.body.append(fn)
            shown = f"check({spec.entry_point})" if spec.style == "check" else f"assert {n}"
            targets.append((shown, name))
    expanded, targets = expand_parametrize(module, targets)
    for node in ast.walk(expanded):
        if isinstance(node, ast.FunctionDef):
            inline_expected(node)
    sealer = _Sealer(*_bindings(expanded))
    sealed_module = sealer.visit(expanded)
    _strip_docstrings(sealed_module)
    ast.fix_missing_locations(sealed_module)
    functions = _module_functions(sealed_module)
    module_sites = _top_sites(sealed_module.body, functions, set())
    cases = []
    test_names = {t.split("::")[0] for _, t in targets}
    for shown, target in targets:
        body = _target_body(sealed_module, target)
        required = _top_sites(body, functions, set()) | module_sites
        own = target.split("::")[0]
        scope = [
            n for n in sealed_module.body
            if getattr(n, "name", None) not in test_names or getattr(n, "name", None) == own
        ]  # fmt: skip
        cases.append(Case(shown, target, frozenset(required), _mentions_skip(scope)))
    source = ast.unparse(sealed_module)
    prelude = spec.prelude if spec.style == "check" else None
    imported = frozenset(
        name.split(".")[0]
        for node in ast.walk(sealed_module)
        for name in (
            [a.name for a in node.names] if isinstance(node, ast.Import)
            else [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level
            else []
        )
    )  # fmt: skip
    return SealedSuite(source, tuple(cases), dict(sealer.sites), prelude, imported)


def _marked_skip(module: ast.Module, target: str) -> bool:
    """Whether a test (or its class) carries an unconditional ``skip`` mark.

    pytest never runs such a test, so it is no case here; a test skipped at run time
    (``skipif``, ``pytest.skip()``, a missing module) makes the verdict incomplete.
    """
    owners: list[Any] = []
    if "::" in target:
        cls = _last_def(module.body, target.split("::")[0], ast.ClassDef)
        if cls is not None:
            owners += [cls, _last_def(cls.body, target.split("::")[1], ast.FunctionDef)]
    else:
        owners.append(_last_def(module.body, target, ast.FunctionDef))
    for owner in owners:
        for dec in getattr(owner, "decorator_list", []):
            if _dotted(dec).endswith("mark.skip") or _dotted(dec) == "unittest.skip":
                return True
    return False


def _mentions_skip(nodes: list[ast.stmt]) -> bool:
    """Whether code can skip a test: any name or attribute with skip/xfail in it."""
    for top in nodes:
        for node in ast.walk(top):
            name = (
                node.id if isinstance(node, ast.Name)
                else node.attr if isinstance(node, ast.Attribute)
                else ""
            )  # fmt: skip
            if "skip" in name.lower() or "xfail" in name.lower():
                return True
    return False


def discover(module: ast.Module) -> list[tuple[str, str]]:
    """The tests pytest collects by default: ``test*`` functions, ``Test*`` classes, TestCases."""
    found: dict[str, str] = {}
    for node in module.body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test"):
            if not any(_is_fixture_decorator(d) for d in node.decorator_list):
                found[node.name] = node.name
            else:
                found.pop(node.name, None)
        elif isinstance(node, ast.ClassDef):
            for key in [k for k in found if k.startswith(node.name + "::")]:
                del found[key]
            unittest_case = any(_dotted(b).endswith("TestCase") for b in node.bases)
            plain = node.name.startswith("Test") and not any(
                isinstance(s, ast.FunctionDef) and s.name == "__init__" for s in node.body
            )
            if not (unittest_case or plain):
                continue
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name.startswith("test"):
                    found[f"{node.name}::{item.name}"] = f"{node.name}::{item.name}"
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AsyncFunctionDef):
            names = _assigned_names(node)
            for n in names:
                found.pop(n, None)
    return [(k, v) for k, v in found.items()]


def unknown_fixtures(module: ast.Module, targets: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """(test, fixture) for each fixture a test (or its fixtures) asks for that nobody provides."""
    provided = set(runner.BUILTIN_FIXTURES) | {"request"}
    fixtures: dict[str, ast.FunctionDef] = {}
    classes = {n.name: n for n in module.body if isinstance(n, ast.ClassDef)}
    scopes = [module.body, *[c.body for c in classes.values()]]
    for body in scopes:
        for node in body:
            if isinstance(node, ast.FunctionDef):
                for dec in node.decorator_list:
                    if _is_fixture_decorator(dec):
                        fixtures[_fixture_name(node, dec)] = node
    provided |= set(fixtures)
    missing: list[tuple[str, str]] = []
    for shown, target in targets:
        outer: set[str] = set()
        if "::" in target:
            cls = classes.get(target.split("::")[0])
            if cls is None or any(_dotted(b).endswith("TestCase") for b in cls.bases):
                continue
            fn = _last_def(cls.body, target.split("::")[1], ast.FunctionDef)
            outer = _parametrized_names(cls)  # type: ignore[arg-type]
        else:
            fn = _last_def(module.body, target, ast.FunctionDef)
        if fn is None:
            continue
        stack, seen = [fn], set()
        while stack:
            node = stack.pop()
            params = _parametrized_names(node) | outer
            for name in _required_args(node):
                if name in params or "*" in params or name in seen:
                    continue
                seen.add(name)
                if name not in provided:
                    missing.append((shown, name))
                elif name in fixtures:
                    stack.append(fixtures[name])
    return missing


def _fixture_name(node: ast.FunctionDef, dec: ast.expr) -> str:
    if isinstance(dec, ast.Call):
        for k in dec.keywords:
            value = k.value
            if k.arg == "name" and isinstance(value, ast.Constant) and isinstance(value.value, str):
                return k.value.value
    return node.name


def _required_args(fn: ast.FunctionDef) -> list[str]:
    """Arguments pytest fills: no defaults, not ``self``/``cls``."""
    args = [*fn.args.posonlyargs, *fn.args.args]
    required = args[: len(args) - len(fn.args.defaults)]
    kwonly = [a for a, d in zip(fn.args.kwonlyargs, fn.args.kw_defaults, strict=True) if d is None]
    return [a.arg for a in [*required, *kwonly] if a.arg not in ("self", "cls")]


def _parametrized_names(fn: ast.FunctionDef | ast.ClassDef) -> set[str]:
    names: set[str] = set()
    for dec in fn.decorator_list:
        if _is_parametrize(dec) and dec.args:  # type: ignore[attr-defined]
            try:
                value = ast.literal_eval(dec.args[0])  # type: ignore[attr-defined]
            except (ValueError, SyntaxError, TypeError):
                return {"*"}
            items = value.split(",") if isinstance(value, str) else list(value)
            names |= {str(n).strip() for n in items}
    return names


def _assigned_names(node: ast.AST) -> set[str]:
    if isinstance(node, ast.AsyncFunctionDef):
        return {node.name}
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]  # type: ignore[attr-defined]
    return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    if isinstance(node, ast.Call):
        return _dotted(node.func)
    return ""


def _is_fixture_decorator(node: ast.expr) -> bool:
    return _dotted(node).split(".")[-1] in ("fixture", "yield_fixture")


def _target_body(module: ast.Module, target: str) -> list[ast.stmt]:
    if "::" in target:
        cls_name, method = target.split("::", 1)
        cls = _last_def(module.body, cls_name, ast.ClassDef)
        fn = _last_def(cls.body, method, ast.FunctionDef) if cls else None
    else:
        fn = _last_def(module.body, target, ast.FunctionDef)
    return fn.body if fn is not None else []  # type: ignore[union-attr]


def _last_def(body: list[ast.stmt], name: str, kind: type) -> Any:
    found = None
    for node in body:
        if isinstance(node, kind) and node.name == name:  # type: ignore[attr-defined]
            found = node
    return found


def _module_functions(module: ast.Module) -> dict[str, ast.FunctionDef]:
    return {n.name: n for n in module.body if isinstance(n, ast.FunctionDef)}


def _top_sites(
    body: list[ast.stmt], functions: dict[str, ast.FunctionDef], seen: set[str]
) -> set[int]:
    """Checks a body always reaches when it finishes normally.

    Followed: calls of the test module's functions made as statements, the bodies of
    ``with`` blocks (but not of ``pytest.raises``, whose body stops at the exception) and
    of ``for`` loops over a non-empty literal; not ``if``/``while``/``try`` bodies, and
    nothing after a ``return``, ``raise``, ``break`` or ``continue``.
    """
    sites: set[int] = set()
    for stmt in body:
        if isinstance(stmt, ast.Return | ast.Raise | ast.Break | ast.Continue):
            break
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            call = stmt.value
            if isinstance(call.func, ast.Name) and call.func.id == CHECK_HOOK:
                sites.add(call.args[0].value)  # type: ignore[attr-defined]
            elif isinstance(call.func, ast.Name) and call.func.id in functions:
                name = call.func.id
                if name not in seen:
                    sites |= _top_sites(functions[name].body, functions, seen | {name})
        elif isinstance(stmt, ast.With):
            raises = False
            for item in stmt.items:
                ctx = item.context_expr
                if (
                    isinstance(ctx, ast.Call)
                    and isinstance(ctx.func, ast.Name)
                    and ctx.func.id == RAISES_HOOK
                ):
                    sites.add(ctx.args[0].value)  # type: ignore[attr-defined]
                    raises = True
            if not raises:
                sites |= _top_sites(stmt.body, functions, seen)
        elif isinstance(stmt, ast.For) and _non_empty_literal(stmt.iter):
            sites |= _top_sites(stmt.body, functions, seen)
    return sites


def _non_empty_literal(node: ast.expr) -> bool:
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return isinstance(value, list | tuple | set | dict | str) and len(value) > 0


def _strip_docstrings(module: ast.Module) -> None:
    """Drop docstrings (they can state expected values) from the code sent to the sandbox."""
    for node in ast.walk(module):
        if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):  # fmt: skip
                body.pop(0)
                if not body:
                    body.append(ast.Pass())


def _bindings(module: ast.Module) -> tuple[dict[str, str], frozenset[str]]:
    """Import aliases anywhere in the test code, and the other names it binds.

    Aliases map ``np`` → ``numpy``, ``approx`` → ``pytest.approx``; names bound otherwise
    are never taken for built-ins.
    """
    imports: dict[str, str] = {}
    shadowed: set[str] = set()
    for node in ast.walk(module):
        if isinstance(node, ast.Import):
            for a in node.names:
                name = a.asname or a.name.split(".")[0]
                origin = a.name if a.asname else a.name.split(".")[0]
                if imports.setdefault(name, origin) != origin:
                    shadowed.add(name)
        elif isinstance(node, ast.ImportFrom):
            for a in node.names:
                name = a.asname or a.name
                origin = f"{node.module}.{a.name}" if node.module and not node.level else "?"
                if imports.setdefault(name, origin) != origin:
                    shadowed.add(name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
            shadowed.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            shadowed.add(node.name)
        elif isinstance(node, ast.arg):
            shadowed.add(node.arg)
    return {k: v for k, v in imports.items() if k not in shadowed}, frozenset(
        shadowed | {k for k, v in imports.items() if v == "?"}
    )


# --- parametrize expansion ----------------------------------------------------------------


def expand_parametrize(
    module: ast.Module, targets: list[tuple[str, str]]
) -> tuple[ast.Module, list[tuple[str, str]]]:
    """Expand ``@pytest.mark.parametrize`` over literal rows into one function per row.

    Only plain module-level test functions whose parametrize decorators all have literal
    argument names and rows (``pytest.param(...)`` rows without marks included) and
    whose body never rebinds those names are expanded; the others run parametrized in
    the sandbox. Each row's values replace the names in the body, so the expected value
    of ``assert add(a, b) == expected`` becomes a literal of the shell.
    """
    module = copy.deepcopy(module)
    new_targets: list[tuple[str, str]] = []
    replaced: dict[str, list[ast.FunctionDef]] = {}
    for shown, target in targets:
        fn = _last_def(module.body, target, ast.FunctionDef) if "::" not in target else None
        rows = _literal_rows(fn) if fn is not None else None
        if not rows:
            new_targets.append((shown, target))
            continue
        copies = []
        for n, row in enumerate(rows):
            clone = copy.deepcopy(fn)
            clone.name = f"{fn.name}__tm_p{n}"
            clone.decorator_list = [d for d in clone.decorator_list if not _is_parametrize(d)]
            names = set(row)
            clone.args.args = [a for a in clone.args.args if a.arg not in names]
            clone.body = [_Substitute(row).visit(s) for s in clone.body]
            copies.append(clone)
            new_targets.append((f"{shown}[{n}]", clone.name))
        replaced[fn.name] = copies
    if replaced:
        body: list[ast.stmt] = []
        for node in module.body:
            if isinstance(node, ast.FunctionDef) and node.name in replaced:
                body.extend(replaced[node.name])
            else:
                body.append(node)
        module.body = body
    return module, new_targets


def _is_parametrize(node: ast.expr) -> bool:
    return isinstance(node, ast.Call) and _dotted(node.func).endswith("mark.parametrize")


def _literal_rows(fn: ast.FunctionDef) -> list[dict[str, ast.expr]] | None:
    decorators = [d for d in fn.decorator_list if _is_parametrize(d)]
    if not decorators:
        return None
    axes: list[list[dict[str, ast.expr]]] = []
    for dec in decorators:
        assert isinstance(dec, ast.Call)
        if dec.keywords and any(k.arg not in ("ids",) for k in dec.keywords) or len(dec.args) != 2:
            return None
        try:
            names = ast.literal_eval(dec.args[0])
        except (ValueError, SyntaxError, TypeError):
            return None
        if isinstance(names, str):
            names = [n.strip() for n in names.split(",") if n.strip()]
        if not isinstance(names, list | tuple) or not all(
            isinstance(n, str) and n.isidentifier() for n in names
        ):
            return None
        rows_node = dec.args[1]
        if not isinstance(rows_node, ast.List | ast.Tuple):
            return None
        axis = []
        for row in rows_node.elts:
            if isinstance(row, ast.Call) and _dotted(row.func).endswith("param"):
                if row.keywords and any(k.arg != "id" for k in row.keywords):
                    return None
                values = list(row.args)
                if len(names) == 1 and len(values) != 1:
                    return None
            elif len(names) == 1:
                values = [row]
            elif isinstance(row, ast.Tuple | ast.List):
                values = list(row.elts)
            else:
                return None
            if len(values) != len(names) or not all(_is_literal(v) for v in values):
                return None
            axis.append(dict(zip(names, values, strict=True)))
        axes.append(axis)
    params = {a.arg for a in fn.args.args}
    all_names = {n for axis in axes for row in axis for n in row}
    if not all_names <= params or _rebinds(fn, all_names):
        return None
    rows: list[dict[str, ast.expr]] = [{}]
    for axis in reversed(axes):  # pytest: the decorator nearest the function varies last
        rows = [{**r, **a} for a in axis for r in rows]
    return rows if 0 < len(rows) <= 500 else None


def _rebinds(fn: ast.FunctionDef, names: set[str]) -> bool:
    for node in ast.walk(fn):
        if node is fn:
            continue
        if isinstance(node, ast.Name) and node.id in names and not isinstance(node.ctx, ast.Load):
            return True
        if isinstance(node, ast.arg) and node.arg in names and node not in fn.args.args:
            return True
        if isinstance(node, ast.Global | ast.Nonlocal) and names & set(node.names):
            return True
        if isinstance(node, ast.FunctionDef | ast.Lambda | ast.ClassDef) and node is not fn:
            inner = {a.arg for a in ast.walk(node) if isinstance(a, ast.arg)}
            if inner & names:
                return True
    return False


def inline_expected(fn: ast.FunctionDef) -> None:
    """Inline expected values bound to a name only to be compared (in place).

    ``expected = [1, 2]`` followed by ``assert f(x) == expected`` becomes ``assert f(x) ==
    [1, 2]`` (and the binding goes), so the value is a literal of the shell and never
    enters the sandbox. Only a name bound once, by a plain assignment of a literal in the
    function's own body, and otherwise used only as a whole operand of comparisons in
    later asserts, is inlined: nothing else can see or change its value.
    """
    assigned: dict[str, ast.Assign] = {}
    for stmt in fn.body:
        if (
            isinstance(stmt, ast.Assign)
            and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Name)
            and _is_literal(stmt.value)
        ):
            name = stmt.targets[0].id
            assigned[name] = None if name in assigned else stmt  # type: ignore[assignment]
    candidates = {k: v for k, v in assigned.items() if v is not None}
    if not candidates:
        return
    operands: set[int] = set()
    for node in ast.walk(fn):
        if isinstance(node, ast.Assert):
            for part in ast.walk(node.test):
                if isinstance(part, ast.Compare):
                    operands |= {id(o) for o in [part.left, *part.comparators]}
    for node in ast.walk(fn):
        if isinstance(node, ast.Global | ast.Nonlocal):
            for name in node.names:
                candidates.pop(name, None)
        elif isinstance(node, ast.arg):
            candidates.pop(node.arg, None)
        elif isinstance(node, ast.Name) and node.id in candidates:
            binding = candidates[node.id]
            if node is binding.targets[0]:
                continue
            if (
                not isinstance(node.ctx, ast.Load)
                or id(node) not in operands
                or node.lineno <= binding.end_lineno  # type: ignore[operator]
            ):
                candidates.pop(node.id)
    if not candidates:
        return
    bindings = {id(b) for b in candidates.values()}
    fn.body = [s for s in fn.body if id(s) not in bindings] or [ast.Pass()]
    _Substitute({k: v.value for k, v in candidates.items()}).visit(fn)


class _Substitute(ast.NodeTransformer):
    def __init__(self, row: dict[str, ast.expr]) -> None:
        self.row = row

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if isinstance(node.ctx, ast.Load) and node.id in self.row:
            return ast.copy_location(copy.deepcopy(self.row[node.id]), node)
        return node


# --- the rewriting ------------------------------------------------------------------------


def _is_literal(node: ast.AST) -> bool:
    try:
        ast.literal_eval(node)  # type: ignore[arg-type]
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


_CALLS = {
    "abs", "round", "len", "sorted", "set", "frozenset", "list", "tuple", "dict", "sum", "min",
    "max", "int", "float", "str", "bool", "repr", "isinstance", "any", "all", "divmod", "pow",
    "math.isclose", "math.isnan", "math.isinf", "math.isfinite", "math.fabs", "math.floor",
    "math.ceil", "math.sqrt", "pytest.approx", "collections.Counter",
}  # fmt: skip
_KEYWORDS = {
    "round": set(), "sorted": {"key", "reverse"}, "sum": {"start"}, "min": {"key", "default"},
    "max": {"key", "default"}, "int": {"base"}, "math.isclose": {"rel_tol", "abs_tol"},
    "pytest.approx": {"rel", "abs", "nan_ok"},
}  # fmt: skip
_CMP = (ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn, ast.Is, ast.IsNot)
_BINOPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.BitAnd,
           ast.BitOr, ast.BitXor, ast.LShift, ast.RShift)  # fmt: skip


class _Sealer(ast.NodeTransformer):
    """Replace every ``assert`` by a check-hook call; sealable ``pytest.raises`` by the hook."""

    def __init__(self, imports: dict[str, str], shadowed: frozenset[str]) -> None:
        self.imports, self.shadowed = imports, shadowed
        self.sites: dict[int, Site] = {}

    def _new_id(self) -> int:
        return len(self.sites)

    def _callee(self, node: ast.expr) -> str | None:
        """The whitelisted function a call's target names, if it is one."""
        dotted = _dotted(node)
        if not dotted or isinstance(node, ast.Call):
            return None
        head, _, rest = dotted.partition(".")
        origin = self.imports.get(head)
        if head in self.shadowed:
            return None
        full = (origin + ("." + rest if rest else "")) if origin is not None else dotted
        if (
            full.startswith("collections.")
            or full.startswith("pytest.")
            or full.startswith("math.")
        ):
            return full if full in _CALLS else None
        return full if full in _CALLS and not rest else None

    def _builtin_name(self, node: ast.expr) -> bool:
        return isinstance(node, ast.Name) and (
            (node.id in _BUILTIN_TYPES or node.id in _KEY_FUNCS) and node.id not in self.shadowed
        )

    def visit_Assert(self, node: ast.Assert) -> list[ast.stmt]:
        parts = _split_and(node.test)
        out: list[ast.stmt] = []
        for part in parts:
            holes: list[ast.expr] = []
            shell = self._shell(part, holes)
            site = self._new_id()
            self.sites[site] = Site(
                id=site, kind="check", source=ast.unparse(part)[:500], line=node.lineno,
                shell=shell, holes=len(holes), sealed=_has_literal(shell),
            )  # fmt: skip
            call = ast.Call(func=ast.Name(CHECK_HOOK, ast.Load()),
                            args=[ast.Constant(site), *holes], keywords=[])  # fmt: skip
            out.append(ast.copy_location(ast.Expr(call), node))
        return out

    def _shell(self, node: ast.expr, holes: list[ast.expr]) -> ast.expr:
        """The part of `node` evaluated outside; its other parts appended to `holes`.

        Comparisons and ``not`` are always kept outside (that is where an always-equal
        object would act), with their operands reported as values. Other forms
        (arithmetic, containers, ``abs``/``sorted``/``math.isclose``/``approx`` …) are
        kept outside only when they hold a literal, which is what must stay hidden;
        without one they are computed in the program's process like any test code
        (``len(f(x))``, ``str(e)``, ``sorted(f(x))``) and only their value is reported.
        """
        if _is_literal(node) or self._builtin_name(node):
            return node
        if isinstance(node, ast.Compare) and all(isinstance(op, _CMP) for op in node.ops):
            operands = [node.left, *node.comparators]
            for op, left, right in zip(node.ops, operands, operands[1:], strict=False):
                if isinstance(op, ast.Is | ast.IsNot) and not (
                    self._singleton(left) or self._singleton(right)
                ):
                    return self._hole(node, holes)
            shells = [self._shell(o, holes) for o in operands]
            return ast.Compare(left=shells[0], ops=node.ops, comparators=shells[1:])
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return ast.UnaryOp(op=node.op, operand=self._shell(node.operand, holes))
        mark = len(holes)
        shell = self._decompose(node, holes)
        if shell is not None and _has_literal(shell):
            return shell
        del holes[mark:]
        return self._hole(node, holes)

    def _decompose(self, node: ast.expr, holes: list[ast.expr]) -> ast.expr | None:
        """Arithmetic, containers and whitelisted calls with their parts as shells."""
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd | ast.Invert):
            return ast.UnaryOp(op=node.op, operand=self._shell(node.operand, holes))
        if isinstance(node, ast.BinOp) and isinstance(node.op, _BINOPS):
            return ast.BinOp(left=self._shell(node.left, holes), op=node.op,
                             right=self._shell(node.right, holes))  # fmt: skip
        if isinstance(node, ast.Tuple | ast.List | ast.Set) and not any(
            isinstance(e, ast.Starred) for e in node.elts
        ):
            elts = [self._shell(e, holes) for e in node.elts]
            if isinstance(node, ast.Set):
                return ast.Set(elts=elts)
            return type(node)(elts=elts, ctx=ast.Load())
        if isinstance(node, ast.Dict) and all(k is not None for k in node.keys):
            keys = [self._shell(k, holes) for k in node.keys]  # type: ignore[arg-type]
            return ast.Dict(keys=keys, values=[self._shell(v, holes) for v in node.values])
        if isinstance(node, ast.Call):
            name = self._callee(node.func)
            allowed = _KEYWORDS.get(name or "", set())
            if (
                name is not None
                and not any(isinstance(a, ast.Starred) for a in node.args)
                and all(
                    k.arg in allowed and (_is_literal(k.value) or self._builtin_name(k.value))
                    for k in node.keywords
                )
            ):
                mark = len(holes)
                args = [self._shell(a, holes) for a in node.args]
                if len(holes) == mark and "." not in name:
                    # ``sum(10, 15)`` calls the program when it defines ``sum`` (MBPP task
                    # 126 does): a built-in name applied to literals only is the program's
                    return None
                return ast.Call(func=ast.Name(id="__tm_fn__" + name, ctx=ast.Load()), args=args,
                                keywords=node.keywords)  # fmt: skip
        return None

    def _singleton(self, node: ast.expr) -> bool:
        """``None``/``True``/``False``/``...`` or a built-in type: what ``is`` may compare with."""
        if isinstance(node, ast.Constant):
            return any(node.value is s for s in _SINGLETONS)
        return (
            isinstance(node, ast.Name)
            and node.id in _BUILTIN_TYPES
            and node.id not in self.shadowed
        )

    @staticmethod
    def _hole(node: ast.expr, holes: list[ast.expr]) -> ast.expr:
        holes.append(node)
        return ast.Name(id=f"{_HOLE}{len(holes) - 1}", ctx=ast.Load())

    def visit_With(self, node: ast.With) -> ast.AST:
        self.generic_visit(node)
        for item in node.items:
            site = self._raises_site(item.context_expr, node.lineno)
            if site is not None:
                item.context_expr = ast.Call(func=ast.Name(RAISES_HOOK, ast.Load()),
                                             args=[ast.Constant(site.id)], keywords=[])  # fmt: skip
        return node

    def _raises_site(self, ctx: ast.expr, line: int) -> Site | None:
        """A site for ``pytest.raises(E[, match=LITERAL])`` / ``self.assertRaises(E)``."""
        if not isinstance(ctx, ast.Call) or len(ctx.args) != 1:
            return None
        dotted = _dotted(ctx.func)
        head, _, rest = dotted.partition(".")
        origin = self.imports.get(head, head) + ("." + rest if rest else "")
        if origin not in ("pytest.raises", "self.assertRaises", "self.assertRaisesRegex"):
            return None
        match: str | None = None
        for k in ctx.keywords:
            if k.arg not in ("match", "expected_regex") or not (
                isinstance(k.value, ast.Constant) and isinstance(k.value.value, str)
            ):
                return None
            match = k.value.value
        if origin == "self.assertRaisesRegex":
            return None  # the pattern is positional: leave it to unittest
        expected = _exception_names(ctx.args[0], self.shadowed)
        if expected is None:
            return None
        site_id = self._new_id()
        site = Site(id=site_id, kind="raises", source=ast.unparse(ctx)[:500], line=line,
                    expected=expected, match=match, sealed=True)  # fmt: skip
        self.sites[site_id] = site
        return site


def _exception_names(
    node: ast.expr, shadowed: frozenset[str]
) -> tuple[tuple[str | None, str], ...] | None:
    items = node.elts if isinstance(node, ast.Tuple) else [node]
    out = []
    for item in items:
        if isinstance(item, ast.Name):
            found = getattr(builtins, item.id, None)
            builtin = (
                isinstance(found, type)
                and issubclass(found, BaseException)
                and item.id not in shadowed
            )
            out.append(("builtins" if builtin else None, item.id))
        elif isinstance(item, ast.Attribute):
            out.append((None, item.attr))
        else:
            return None
    return tuple(out) or None


def _split_and(node: ast.expr) -> list[ast.expr]:
    if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.And):
        return [p for v in node.values for p in _split_and(v)]
    return [node]


def _has_literal(node: ast.AST) -> bool:
    """Whether a shell holds a literal (keyword arguments such as ``reverse=True`` aside).

    Empty containers count (``assert f(x) == []``, ``== set()``): they stay outside too.
    """
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.List | ast.Tuple | ast.Set | ast.Dict) and _is_literal(node):
        return True
    if isinstance(node, ast.Call):
        if not node.args and not node.keywords and _is_literal(node):
            return True  # set(), frozenset(), dict(), ...
        return any(_has_literal(a) for a in node.args)
    return any(_has_literal(c) for c in ast.iter_child_nodes(node))


# --- values reported from the sandbox -----------------------------------------------------


class Malformed(ValueError):
    """A record from the sandbox that is not a well-formed report."""


@dataclass(frozen=True, eq=False)
class ObjectValue:
    """An object of a class that is not a plain value: its class name and attributes.

    Equal to an object of the same class with equal attributes; its truth value is the
    one reported (the class's ``__bool__``/``__len__``, as ``assert obj`` sees it).
    """

    cls: str
    attrs: tuple[tuple[str, Any], ...]
    truth: bool = True

    def __bool__(self) -> bool:
        return self.truth

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, ObjectValue)
            and other.cls == self.cls
            and dict(other.attrs) == dict(self.attrs)
        )

    def __hash__(self) -> int:
        return hash(self.cls)

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self.attrs)
        return f"{self.cls.split(':')[-1]}({inner})"


@dataclass(frozen=True, eq=False)
class Opaque:
    """A value with no plain form (a function, a generator, a cycle): equal to nothing."""

    cls: str

    def __eq__(self, other: object) -> bool:
        return False

    def __hash__(self) -> int:
        return id(self)

    def __repr__(self) -> str:
        return f"<{self.cls.split(':')[-1]} object>"


@dataclass(frozen=True)
class TypeRef:
    """A class that is not a built-in type, by name."""

    name: str


def decode(value: Any, depth: int = 0) -> Any:
    """Rebuild a value written by ``_assert_runner.encode`` (untrusted: checked)."""
    if depth > runner.MAX_DEPTH + 2:
        raise Malformed("nested too deeply")
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, list):
        return [decode(v, depth + 1) for v in value]
    if not isinstance(value, dict) or not isinstance(value.get("#"), str):
        raise Malformed("not an encoded value")
    tag, v = value["#"], value.get("v")
    make = _DECODERS.get(tag)
    if make is None:
        raise Malformed(f"unknown value kind {tag!r}")
    try:
        return make(value, v, depth + 1)
    except (TypeError, ValueError, OverflowError, AttributeError, IndexError, KeyError) as e:
        raise Malformed(f"bad {tag} value ({type(e).__name__})") from None


def _items(v: Any, depth: int) -> list[Any]:
    if not isinstance(v, list):
        raise Malformed("expected a list")
    return [decode(x, depth) for x in v]


def _type_value(value: dict, v: Any, depth: int) -> Any:
    name = str(value["name"])
    module, _, qual = name.partition(":")
    if module == "builtins" and qual in _BUILTIN_TYPES:
        return _BUILTIN_TYPES[qual]
    if module == "builtins" and qual == "NoneType":
        return type(None)
    return TypeRef(name)


def _datetime_value(kind: str) -> Any:
    import datetime

    def make(value: dict, v: Any, depth: int) -> Any:
        if kind == "timedelta":
            days, seconds, micro = (int(x) for x in v)
            return datetime.timedelta(days=days, seconds=seconds, microseconds=micro)
        return getattr(datetime, kind).fromisoformat(str(v))

    return make


_DECODERS = {
    "int": lambda value, v, d: int(str(value["hex"]), 16),
    "float": lambda value, v, d: float.fromhex(str(v)),
    "tuple": lambda value, v, d: tuple(_items(v, d)),
    "set": lambda value, v, d: set(_items(v, d)),
    "frozenset": lambda value, v, d: frozenset(_items(v, d)),
    "dict": lambda value, v, d: {decode(k, d): decode(x, d) for k, x in v},
    "bytes": lambda value, v, d: bytes.fromhex(str(v)),
    "bytearray": lambda value, v, d: bytearray.fromhex(str(v)),
    "complex": lambda value, v, d: complex(float.fromhex(str(v[0])), float.fromhex(str(v[1]))),
    "range": lambda value, v, d: range(int(v[0]), int(v[1]), int(v[2])),
    "decimal": lambda value, v, d: Decimal(str(v)),
    "fraction": lambda value, v, d: Fraction(int(v[0]), int(v[1])),
    "enum": lambda value, v, d: ObjectValue(str(value["cls"]), (("name", str(value["name"])),)),
    "type": _type_value,
    "object": lambda value, v, d: ObjectValue(
        str(value["cls"]),
        tuple((str(k), decode(x, d)) for k, x in value["attrs"]),
        value.get("truth", True) is True,
    ),
    "opaque": lambda value, v, d: Opaque(str(value.get("cls", "?"))),
    **{k: _datetime_value(k) for k in ("datetime", "date", "time", "timedelta")},
}


# --- evaluating a check outside the sandbox -----------------------------------------------


class ShellError(Exception):
    """An assertion whose evaluation raised (so the assertion fails, as it would in Python)."""


def _guard_size(value: Any) -> Any:
    if isinstance(value, str | bytes | list | tuple) and len(value) > _MAX_SEQ:
        raise ShellError("value too large")
    return value


def _approx(expected: Any, rel: float | None = None, abs: float | None = None,
            nan_ok: bool = False) -> runner.Approx:  # fmt: skip
    return runner.Approx(expected, rel=rel, abs=abs, nan_ok=nan_ok)


def _sorted(iterable: Any, key: Any = None, reverse: bool = False) -> list[Any]:
    return sorted(iterable, key=key, reverse=reverse)


def _pow(a: Any, b: Any, mod: Any = None) -> Any:
    if mod is None and isinstance(a, int) and isinstance(b, int) and b > 0:
        if max(a.bit_length(), 1) * b > _MAX_POW_BITS:
            raise ShellError("power too large to evaluate")
    return pow(a, b, mod) if mod is not None else a**b


_FUNCTIONS: dict[str, Any] = {
    "abs": abs, "round": round, "len": len, "sorted": _sorted, "set": set, "frozenset": frozenset,
    "list": list, "tuple": tuple, "dict": dict, "sum": sum, "min": min, "max": max, "int": int,
    "float": float, "str": str, "bool": bool, "repr": repr, "isinstance": isinstance, "any": any,
    "all": all, "divmod": divmod, "pow": _pow, "math.isclose": math.isclose,
    "math.isnan": math.isnan, "math.isinf": math.isinf, "math.isfinite": math.isfinite,
    "math.fabs": math.fabs, "math.floor": math.floor, "math.ceil": math.ceil,
    "math.sqrt": math.sqrt, "pytest.approx": _approx, "collections.Counter": Counter,
}  # fmt: skip


def evaluate(node: ast.expr, holes: list[Any]) -> Any:
    """Evaluate a shell on the reported hole values (only the forms :func:`seal` keeps)."""
    try:
        return _eval(node, holes)
    except ShellError:
        raise
    except (TypeError, ValueError, ArithmeticError, AttributeError, KeyError, IndexError,
            RecursionError, MemoryError) as e:  # fmt: skip
        raise ShellError(f"{type(e).__name__}: {e}"[:300]) from None


def _eval(node: ast.expr, holes: list[Any]) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        if node.id.startswith(_HOLE):
            return holes[int(node.id[len(_HOLE) :])]
        if node.id in _BUILTIN_TYPES:
            return _BUILTIN_TYPES[node.id]
        return _KEY_FUNCS[node.id]
    if isinstance(node, ast.Tuple):
        return tuple(_eval(e, holes) for e in node.elts)
    if isinstance(node, ast.List):
        return [_eval(e, holes) for e in node.elts]
    if isinstance(node, ast.Set):
        return {_eval(e, holes) for e in node.elts}
    if isinstance(node, ast.Dict):
        return {
            _eval(k, holes): _eval(v, holes) for k, v in zip(node.keys, node.values, strict=True)
        }  # type: ignore[arg-type]
    if isinstance(node, ast.UnaryOp):
        value = _eval(node.operand, holes)
        if isinstance(node.op, ast.Not):
            return not value
        if isinstance(node.op, ast.USub):
            return -value
        if isinstance(node.op, ast.UAdd):
            return +value
        return ~value
    if isinstance(node, ast.BinOp):
        return _binop(node.op, _eval(node.left, holes), _eval(node.right, holes))
    if isinstance(node, ast.Compare):
        values = [_eval(node.left, holes), *(_eval(c, holes) for c in node.comparators)]
        for op, a, b in zip(node.ops, values, values[1:], strict=False):
            if not _compare(op, a, b):
                return False
        return True
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        fn = _FUNCTIONS[node.func.id.removeprefix("__tm_fn__")]
        args = [_eval(a, holes) for a in node.args]
        kwargs = {k.arg: _eval(k.value, holes) for k in node.keywords}
        return _guard_size(fn(*args, **kwargs))
    # literal containers literal_eval accepts but the cases above do not (e.g. set())
    return ast.literal_eval(node)


def _binop(op: ast.operator, a: Any, b: Any) -> Any:
    if isinstance(op, ast.Pow):
        return _pow(a, b)
    if isinstance(op, ast.Mult):
        for seq, n in ((a, b), (b, a)):
            if (
                isinstance(seq, str | bytes | list | tuple)
                and isinstance(n, int)
                and len(seq) * n > _MAX_SEQ
            ):
                raise ShellError("value too large")
    if isinstance(op, ast.LShift) and isinstance(b, int) and b > _MAX_POW_BITS:
        raise ShellError("shift too large")
    ops = {ast.Add: lambda: a + b, ast.Sub: lambda: a - b, ast.Mult: lambda: a * b,
           ast.Div: lambda: a / b, ast.FloorDiv: lambda: a // b, ast.Mod: lambda: a % b,
           ast.BitAnd: lambda: a & b, ast.BitOr: lambda: a | b, ast.BitXor: lambda: a ^ b,
           ast.LShift: lambda: a << b, ast.RShift: lambda: a >> b}  # fmt: skip
    return _guard_size(ops[type(op)]())


def _compare(op: ast.cmpop, a: Any, b: Any) -> bool:
    if isinstance(op, ast.Eq):
        return bool(a == b)
    if isinstance(op, ast.NotEq):
        return bool(a != b)
    if isinstance(op, ast.Lt):
        return bool(a < b)
    if isinstance(op, ast.LtE):
        return bool(a <= b)
    if isinstance(op, ast.Gt):
        return bool(a > b)
    if isinstance(op, ast.GtE):
        return bool(a >= b)
    if isinstance(op, ast.In):
        return a in b
    if isinstance(op, ast.NotIn):
        return a not in b
    if isinstance(op, ast.Is):
        return a is b
    return a is not b


# --- judging one case ---------------------------------------------------------------------


@dataclass
class CaseOutcome:
    """What one case's report says, judged."""

    reason: str
    """ok, wrong, runtime_error, or skipped."""
    detail: dict[str, Any] = field(default_factory=dict)


def judge_case(suite: SealedSuite, case: Case, raw: str | None) -> CaseOutcome:
    """Judge the records a case's process wrote (untrusted) against the sealed checks."""
    if raw is None:
        return CaseOutcome("runtime_error", {"error": "no report"})
    records = []
    for line in raw.splitlines():
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except (ValueError, RecursionError):
            return CaseOutcome("runtime_error", {"error": "malformed report"})
        if len(records) > MAX_RESULT_RECORDS:
            return CaseOutcome("runtime_error", {"error": "too many checks reported"})
    reached: set[int] = set()
    end: dict[str, Any] | None = None
    for record in records:
        if not isinstance(record, dict):
            return CaseOutcome("runtime_error", {"error": "malformed report"})
        if "end" in record:
            end = record
            break
        failure = _judge_record(suite, record, reached)
        if failure is not None:
            return failure
    if end is None:
        return CaseOutcome("runtime_error", {"error": "the test stopped before it finished"})
    kind = end.get("end")
    missing_module = end.get("missing_module")
    if kind == "failed" and isinstance(missing_module, str):
        if missing_module.split(".")[0] not in suite.imports:
            return CaseOutcome("runtime_error", {"error": str(end.get("error", ""))[:300]})
        return CaseOutcome("skipped", {"error": str(end.get("error", ""))[:300],
                                       "missing_module": missing_module})  # fmt: skip
    if kind == "failed":
        reason = "wrong" if end.get("assertion") else "runtime_error"
        return CaseOutcome(reason, {"error": str(end.get("error", ""))[:1000]})
    if kind == "skipped":
        if not case.may_skip:
            return CaseOutcome("runtime_error", {
                "error": "the test reported a skip, but nothing in it can skip"})  # fmt: skip
        return CaseOutcome("skipped", {"error": str(end.get("error", ""))[:300]})
    if kind != "passed":
        return CaseOutcome("runtime_error", {"error": "malformed report"})
    missing = sorted(case.required - reached)
    if missing:
        site = suite.sites[missing[0]]
        return CaseOutcome("runtime_error", {
            "error": "the test finished without reaching all of its checks",
            "check": site.source, "line": site.line,
        })  # fmt: skip
    return CaseOutcome("ok")


def _judge_record(
    suite: SealedSuite, record: dict[str, Any], reached: set[int]
) -> CaseOutcome | None:
    if "c" in record:
        site = suite.sites.get(record["c"]) if isinstance(record["c"], int) else None
        values = record.get("v")
        if (
            site is None
            or site.kind != "check"
            or not isinstance(values, list)
            or len(values) != site.holes
        ):
            return CaseOutcome("runtime_error", {"error": "malformed report"})
        try:
            decoded = [decode(v) for v in values]
        except (Malformed, RecursionError) as e:
            return CaseOutcome("runtime_error", {"error": f"malformed report: {e}"})
        reached.add(site.id)
        try:
            ok = bool(evaluate(site.shell, decoded))  # type: ignore[arg-type]
            error = None
        except ShellError as e:
            ok, error = False, str(e)
        if not ok:
            detail = {"check": site.source, "line": site.line, "got": [_show(v) for v in decoded]}
            if error:
                detail["error"] = error
            return CaseOutcome("wrong", detail)
        return None
    if "r" in record:
        site = suite.sites.get(record["r"]) if isinstance(record["r"], int) else None
        if site is None or site.kind != "raises":
            return CaseOutcome("runtime_error", {"error": "malformed report"})
        reached.add(site.id)
        raised = record.get("e")
        detail = {"check": site.source, "line": site.line}
        if raised is None:
            return CaseOutcome("wrong", {**detail, "got": "no exception"})
        if not isinstance(raised, dict) or not isinstance(raised.get("names"), list):
            return CaseOutcome("runtime_error", {"error": "malformed report"})
        names = [str(n) for n in raised["names"]]
        message = str(raised.get("msg", ""))[: runner.MAX_MESSAGE]
        if not _exception_matches(site.expected, names):
            return CaseOutcome("wrong", {**detail, "got": names[0] if names else "?"})
        if site.match is not None and not _search(site.match, message):
            return CaseOutcome("wrong", {**detail, "got": message[:200]})
        return None
    return CaseOutcome("runtime_error", {"error": "malformed report"})


def _exception_matches(expected: tuple[tuple[str | None, str], ...], names: list[str]) -> bool:
    for module, name in expected:
        for reported in names:
            r_module, _, r_qual = reported.partition(":")
            if r_qual.split(".")[-1] == name and (module is None or module == r_module):
                return True
    return False


def _search(pattern: str, message: str) -> bool:
    try:
        return re.search(pattern, message) is not None
    except re.error:
        return False


def _show(value: Any) -> str:
    try:
        text = repr(value)
    except (ValueError, RecursionError):
        text = "<unprintable>"
    return text if len(text) <= 200 else text[:200] + "…"
