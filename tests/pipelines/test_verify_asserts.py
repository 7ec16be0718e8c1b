"""Assertion-code tests: sealing, value encoding/decoding, judging, and runs in the sandbox."""

import ast
import json
import shutil
import types

import pytest
from tracemill.pipelines.verify import _assert_runner as runner
from tracemill.pipelines.verify import get_verifier
from tracemill.pipelines.verify.asserts import (
    CHECK_HOOK,
    AssertSpec,
    BadAssertTests,
    Malformed,
    ObjectValue,
    decode,
    evaluate,
    judge_case,
    seal,
)

needs_bwrap = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap not installed")

PYTEST_CODE = '''
import pytest
from solution import mean

def test_mean():
    """mean([1, 2, 3]) is 2.0"""
    assert mean([1, 2, 3]) == 2.0, "expected 2.0"
    assert abs(mean([1, 2]) - 1.5) < 1e-9

@pytest.mark.parametrize("xs, expected", [([2, 4], 3.0), ([7], 7.0)])
def test_rows(xs, expected):
    assert mean(xs) == expected

def test_empty():
    with pytest.raises(ValueError, match="empty list"):
        mean([])
'''


def spec_of(**kwargs):
    return AssertSpec.from_json(kwargs)


def test_sealed_code_holds_no_expected_value():
    suite = seal(spec_of(style="pytest", code=PYTEST_CODE))
    for hidden in ("2.0", "1.5", "3.0", "7.0", "1e-09", "empty list", "ValueError", "expected"):
        assert hidden not in suite.source, hidden
    assert "mean([1, 2, 3])" in suite.source and "mean([2, 4])" in suite.source  # inputs stay
    assert [c.name for c in suite.cases] == ["test_mean", "test_rows[0]", "test_rows[1]", "test_empty"]
    assert suite.open == 0 and suite.sealed == len(suite.sites) == 5
    assert {s.kind for s in suite.sites.values()} == {"check", "raises"}
    assert all(c.required for c in suite.cases)  # every test must report its checks


def test_shell_keeps_literals_and_comparisons_outside():
    code = (
        "def test_a():\n"
        "    assert len(f(1)) == 3\n"          # len(...) has no literal: computed inside
        "    assert f(2) is None\n"
        "    assert not g(3)\n"
        "    assert f(4) == g(5)\n"            # open: nothing to hide, compared outside
        "    assert math.isclose(f(6), 0.25, rel_tol=1e-3)\n"
        "    assert sorted(f(7)) == [1, 2] and f(8) != 9\n"
        "    assert f(9) is g(10)\n"            # identity: decided inside
        "    assert f(11) == [] and f(12) != set()\n"  # empty containers are literals too
    )
    suite = seal(spec_of(style="pytest", code="import math\n" + code))
    shells = [(ast.unparse(s.shell), s.holes, s.sealed) for s in suite.sites.values()]
    assert shells == [
        ("__tm_hole_0 == 3", 1, True),
        ("__tm_hole_0 is None", 1, True),
        ("not __tm_hole_0", 1, False),
        ("__tm_hole_0 == __tm_hole_1", 2, False),
        ("__tm_fn__math.isclose(__tm_hole_0, 0.25, rel_tol=0.001)", 1, True),
        ("__tm_hole_0 == [1, 2]", 1, True),
        ("__tm_hole_0 != 9", 1, True),
        ("__tm_hole_0", 1, False),
        ("__tm_hole_0 == []", 1, True),
        ("__tm_hole_0 != set()", 1, True),
    ]
    assert f"{CHECK_HOOK}(0, len(f(1)))" in suite.source
    assert "0.25" not in suite.source and "[1, 2]" not in suite.source


def test_parametrize_is_expanded_only_when_literal_and_untouched():
    code = (
        "import pytest\n"
        "@pytest.mark.parametrize('n', [1, 2])\n"
        "def test_lit(n):\n    assert f(n) == n * 10\n"
        "@pytest.mark.parametrize('n', make_rows())\n"
        "def test_computed(n):\n    assert f(n) > 0\n"
        "@pytest.mark.parametrize('n', [1])\n"
        "def test_rebinds(n):\n    n = n + 1\n    assert f(n) == 20\n"
    )
    suite = seal(spec_of(style="pytest", code=code))
    assert [c.target for c in suite.cases] == [
        "test_lit__tm_p0", "test_lit__tm_p1", "test_computed", "test_rebinds"]  # fmt: skip
    lit = [s for s in suite.sites.values() if "f(1)" in s.source or "f(2)" in s.source]
    assert lit and all(s.sealed for s in lit)


def test_expected_values_bound_to_names_are_inlined_only_when_nothing_else_sees_them():
    code = (
        "def test_inlined():\n"
        "    data = [3, 1, 2]\n"
        "    expected = [1, 2, 3]\n"
        "    assert f(data) == expected\n"
        "def test_kept():\n"
        "    shared = [1, 2]\n"
        "    g(shared)\n"                      # passed to a function: it may change
        "    assert f(1) == shared\n"
        "    again = 5\n"
        "    again = 6\n"                      # bound twice
        "    assert f(2) == again\n"
        "    assert f(3) == late\n"            # used before its binding
        "    late = 7\n"
    )
    suite = seal(spec_of(style="pytest", code=code))
    assert "[1, 2, 3]" not in suite.source and "expected" not in suite.source
    assert "data = [3, 1, 2]" in suite.source  # an input stays: the program receives it
    shells = {s.source: (ast.unparse(s.shell), s.sealed) for s in suite.sites.values()}
    assert shells["f(data) == [1, 2, 3]"] == ("__tm_hole_0 == [1, 2, 3]", True)
    assert not shells["f(1) == shared"][1] and not shells["f(2) == again"][1]
    assert not shells["f(3) == late"][1]


def test_styles_mbpp_and_check():
    mbpp = seal(spec_of(style="asserts", setup="import math",
                        asserts=["assert math.isclose(f(2), 0.5)", "assert f(3) == 1"]))  # fmt: skip
    assert [c.name for c in mbpp.cases] == ["assert 0", "assert 1"]
    assert "import math" in mbpp.source and "0.5" not in mbpp.source
    check = seal(spec_of(style="check", entry_point="f", prelude="def f(x):\n    '''doc'''\n",
                         code="def check(candidate):\n    assert candidate(1) == 2\n"))  # fmt: skip
    [case] = check.cases
    assert case.name == "check(f)" and case.required  # reached through the call of check()
    assert check.prelude.startswith("def f")


@pytest.mark.parametrize(
    "spec, message",
    [
        ({"style": "nope"}, "assert style"),
        ({"style": "check", "code": "def check(c):\n    assert c(1)"}, "entry_point"),
        ({"style": "asserts", "asserts": []}, "no asserts"),
        ({"style": "pytest", "code": "def helper():\n    assert 1"}, "defines no test"),
        ({"style": "pytest", "code": "def test_x(:"}, "not valid Python"),
        ({"style": "pytest", "code": "def test_x(db):\n    assert db"}, "fixture 'db'"),
    ],
)
def test_bad_specs_say_why(spec, message):
    with pytest.raises(BadAssertTests, match=message):
        seal(AssertSpec.from_json(spec))


def test_discovery_follows_pytest():
    code = (
        "import unittest, pytest\n"
        "@pytest.fixture\ndef test_data():\n    return 1\n"
        "def test_a(test_data):\n    assert test_data\n"
        "def test_b():\n    assert True\n"
        "def test_b():\n    assert f() == 2\n"  # redefined: the last one counts
        "class TestThing:\n    def test_m(self):\n        assert f() == 1\n"
        "class Helper:\n    def test_not_collected(self):\n        assert 0\n"
        "class Cases(unittest.TestCase):\n    def test_u(self):\n        self.assertEqual(f(), 1)\n"
    )
    suite = seal(spec_of(style="pytest", code=code))
    assert [c.target for c in suite.cases] == ["test_a", "test_b", "TestThing::test_m", "Cases::test_u"]


# --- values ------------------------------------------------------------------------------


class AlwaysEqual(int):
    def __eq__(self, other):
        return True

    __hash__ = int.__hash__


class Spoof:
    __class__ = property(lambda self: int)  # type: ignore[assignment]


class DictProperty:
    def __init__(self):
        self.a = 1

    @property
    def __dict__(self):  # noqa: D105 - an attack on naive serialisers
        return {"a": 99}


class Node:
    def __init__(self, val, nxt=None):
        self.val, self.next = val, nxt


def roundtrip(value):
    return decode(json.loads(json.dumps(runner.encode(value))))


def test_encode_uses_built_in_methods_only():
    assert roundtrip(AlwaysEqual(5)) == 5 and type(roundtrip(AlwaysEqual(5))) is int
    assert roundtrip((1, [2.5, "x"], {3: {4}})) == (1, [2.5, "x"], {3: {4}})
    assert roundtrip((1, 2)) != [1, 2] and roundtrip(True) is True and roundtrip(1) is not True
    assert roundtrip(float("-0.0")).hex() == "-0x0.0p+0" and roundtrip(10**5000) == 10**5000
    assert roundtrip(float("nan")) != roundtrip(float("nan"))
    assert roundtrip(DictProperty()) != ObjectValue(f"{__name__}:DictProperty", (("a", 99),))
    assert roundtrip(Node(1)) == ObjectValue(f"{__name__}:Node", (("val", 1), ("next", None)))
    assert roundtrip(Node(1, Node(2))) == roundtrip(Node(1, Node(2)))
    assert roundtrip(Node(1, Node(2))) != roundtrip(Node(1, Node(3)))
    assert roundtrip(Spoof()) != 0
    cyclic = Node(1)
    cyclic.next = cyclic
    assert roundtrip(cyclic) != roundtrip(cyclic)  # opaque: equal to nothing
    deep: list = []
    for _ in range(1000):
        deep = [deep]
    assert roundtrip(deep) != deep
    assert roundtrip(iter([1])) != [1]


@pytest.mark.parametrize(
    "bad",
    [{"#": "nope"}, {"v": 1}, {"#": "float", "v": "zz"}, {"#": "set", "v": [[1]]},
     {"#": "dict", "v": [[1]]}, {"#": "int"}],
)  # fmt: skip
def test_decode_rejects_malformed_values(bad):
    with pytest.raises(Malformed):
        decode(bad)


def shell_of(assertion):
    code = f"import pytest, math\ndef test_x():\n    assert {assertion}\n"
    [site] = seal(spec_of(style="pytest", code=code)).sites.values()
    return site.shell


def test_evaluate_follows_python_and_pytest_approx():
    assert evaluate(shell_of("f() == 1"), [1.0])
    assert not evaluate(shell_of("f() == (1, 2)"), [[1, 2]])
    assert evaluate(shell_of("f() == pytest.approx(0.3)"), [0.1 + 0.2])
    assert not evaluate(shell_of("f() == pytest.approx(0.3, abs=1e-20)"), [0.31])
    assert evaluate(shell_of("abs(f() - 0.33) < 1e-6"), [0.33])
    assert evaluate(shell_of("math.isclose(f(), 0.5, rel_tol=0.1)"), [0.52])
    assert evaluate(shell_of("f() is None"), [None])
    assert not evaluate(shell_of("f() is True"), [1])
    with pytest.raises(Exception, match="too large"):
        evaluate(shell_of("f() ** 10000000 == 1"), [3])


def judged(records, case_index=0, suite=None):
    suite = suite or seal(spec_of(style="pytest", code=PYTEST_CODE))
    raw = "".join(json.dumps(r) + "\n" for r in records)
    return judge_case(suite, suite.cases[case_index], raw).reason


def test_judging_needs_every_check_and_an_honest_end():
    good = [{"c": 0, "v": [{"#": "float", "v": (2.0).hex()}]},
            {"c": 1, "v": [{"#": "float", "v": (1.5).hex()}]}, {"end": "passed"}]  # fmt: skip
    assert judged(good) == "ok"
    assert judged(good[:1] + good[2:]) == "runtime_error"  # a check never reported
    assert judged(good[:2]) == "runtime_error"  # no end: the process stopped early
    assert judged([{"c": 0, "v": [2]}, *good[1:]]) == "ok"  # 2 == 2.0, as in Python
    assert judged([{"c": 0, "v": [3]}, *good[1:]]) == "wrong"
    assert judged([{"c": 0, "v": []}, *good[1:]]) == "runtime_error"  # malformed
    assert judged([{"end": "skipped"}]) == "runtime_error"  # nothing in test_mean can skip
    suite = seal(spec_of(style="pytest", code=PYTEST_CODE))
    site = next(s.id for s in suite.sites.values() if s.kind == "raises")

    def raised(names, message):
        return judged([{"r": site, "e": {"names": names, "msg": message}}, {"end": "passed"}], 3)

    assert raised(["builtins:ValueError", "builtins:Exception"], "empty list given") == "ok"
    assert raised(["solution:ValueError"], "empty list") == "wrong"  # a look-alike class
    assert raised(["builtins:ValueError"], "other message") == "wrong"  # match= fails
    assert judged([{"r": site, "e": None}, {"end": "passed"}], 3) == "wrong"


def test_required_checks_follow_straight_line_code_only():
    code = (
        "def helper(x):\n    assert f(x) == 1\n"
        "def test_a():\n"
        "    helper(1)\n"
        "    for n in [1, 2]:\n        assert f(n) == 1\n"
        "    with open('x') as fh:\n        assert f(3) == 1\n"
        "    if cond():\n        assert f(4) == 1\n"
        "    try:\n        assert f(5) == 1\n    except Exception:\n        pass\n"
        "    return\n"
        "    assert f(6) == 1\n"
    )
    suite = seal(spec_of(style="pytest", code=code))
    by_source = {s.source: s.id for s in suite.sites.values()}
    required = {src for src, i in by_source.items() if i in suite.cases[0].required}
    assert required == {"f(x) == 1", "f(n) == 1", "f(3) == 1"}


# --- the pytest subset, in this process ---------------------------------------------------


def test_pytest_subset_fixtures_parametrize_and_marks():
    calls: list = []
    pt = runner.pytest_module()
    module = types.ModuleType("fake_tests")

    @pt.fixture(params=[10, 20])
    def base(request):
        return request.param

    @pt.fixture
    def logged(base, tmp_path, capsys):
        print("hello")
        yield base + 1
        calls.append("teardown")

    @pt.mark.parametrize("k", [1, pt.param(2)])
    def test_it(logged, k, capsys):
        calls.append((logged, k, capsys.readouterr().out))

    @pt.mark.skipif(True, reason="never")
    def test_skipped():
        raise AssertionError

    module.__dict__.update(base=base, logged=logged, test_it=test_it, test_skipped=test_skipped)
    assert runner.run_function(test_it, "test_it", module, None) == "passed"
    assert sorted(c for c in calls if c != "teardown") == [
        (11, 1, "hello\n"), (11, 2, "hello\n"), (21, 1, "hello\n"), (21, 2, "hello\n")]  # fmt: skip
    assert calls.count("teardown") == 4
    assert runner.run_function(test_skipped, "test_skipped", module, None) == "skipped"
    with pytest.raises(runner.Failed, match="DID NOT RAISE"):
        with pt.raises(ValueError):
            pass
    assert pt.approx([0.1 + 0.2, 1]) == [0.3, 1] and pt.approx(1.0, abs=0.1) != 1.2


# --- in the sandbox -------------------------------------------------------------------------

KODCODE_LIKE = '''
import pytest
from solution import Stack, mean

class TestStack:
    def setup_method(self, method):
        self.stack = Stack()

    def test_push_pop(self):
        self.stack.push(3)
        assert self.stack.pop() == 3
        with pytest.raises(IndexError):
            self.stack.pop()

@pytest.fixture
def numbers():
    yield [1, 2, 3, 4]

def test_mean_fixture(numbers, capsys, tmp_path, monkeypatch):
    monkeypatch.setattr("builtins.input", lambda: "5")
    (tmp_path / "x.txt").write_text("7")
    print(mean(numbers))
    assert capsys.readouterr().out == "2.5\\n"
    assert mean([int(input()), int((tmp_path / "x.txt").read_text())]) == pytest.approx(6.0)

@pytest.mark.parametrize("xs, expected", [([1], 1.0), ([1, 2], 1.5)])
def test_rows(xs, expected):
    assert mean(xs) == expected

def test_needs_numpy():
    np = pytest.importorskip("numpy_not_installed_here")
    assert np
'''
KODCODE_GOOD = '''
class Stack:
    def __init__(self):
        self.items = []
    def push(self, x):
        self.items.append(x)
    def pop(self):
        return self.items.pop()

def mean(xs: List[int]) -> float:
    return sum(xs) / len(xs)
'''


def verify(spec, program):
    problem = {"verifier_spec": json.dumps(spec)}
    return get_verifier("code")(problem, f"```python\n{program}\n```")


@needs_bwrap
def test_kodcode_like_tests_in_the_sandbox():
    spec = {"assert": {"style": "pytest", "code": KODCODE_LIKE}}
    verdict = verify(spec, KODCODE_GOOD)  # test_needs_numpy skips: not fully checked
    assert verdict.reason == "sandbox_error" and not verdict.passed
    assert verdict.detail["passed"] == 4 and verdict.detail["skipped"] == 1
    assert verify({"assert": {"style": "pytest", "code": KODCODE_LIKE.split("def test_needs")[0]}},
                  KODCODE_GOOD).passed  # fmt: skip
    wrong = KODCODE_GOOD.replace("return self.items.pop()", "return self.items[-1]")
    verdict = verify(spec, wrong)
    assert not verdict.passed and verdict.reason == "wrong" and verdict.score == 0.75
    failure = verdict.detail["first_failure"]
    assert failure["test"] == "TestStack::test_push_pop" and failure["got"] == "no exception"


@needs_bwrap
def test_mbpp_setup_and_humaneval_prelude_in_the_sandbox():
    mbpp = {"assert": {"style": "asserts", "setup": "import math\nR = 2",
                       "asserts": ["assert math.isclose(area(R), 12.566, rel_tol=1e-3)",
                                   "assert area(1) == math.pi"]}}  # fmt: skip
    assert verify(mbpp, "import math\ndef area(r):\n    return math.pi * r * r").passed
    verdict = verify(mbpp, "def area(r):\n    return 3.14 * r * r")
    assert verdict.reason == "wrong" and verdict.score == 0.5
    prompt = ("def is_palindrome(s: str) -> bool:\n    return s == s[::-1]\n\n"
              "def make_palindrome(s: str) -> str:\n    '''shortest palindrome starting with s'''\n")  # fmt: skip
    check = {"assert": {"style": "check", "entry_point": "make_palindrome", "prelude": prompt,
                        "code": "def check(candidate):\n    assert candidate('cat') == 'catac'\n"}}  # fmt: skip
    body = ("def make_palindrome(s: str) -> str:\n    i = 0\n"
            "    while not is_palindrome(s[i:]):\n        i += 1\n    return s + s[:i][::-1]\n")  # fmt: skip
    assert verify(check, body).passed  # is_palindrome comes from the prompt, as in HumanEval
    assert not verify(check, body.replace("s[:i][::-1]", "s[:i]")).passed


@needs_bwrap
def test_preimports_for_function_calls_but_real_python_otherwise():
    spec = {"fn_name": "top", "tests": [{"args": [[3, 1, 2], 2], "expected": [3, 2]}]}
    program = "def top(xs: List[int], k: int) -> List[int]:\n    return nlargest(k, xs)\n"
    assert verify(spec, program).passed  # List and nlargest come pre-imported
    undefined = "def top(xs: Tree, k: int) -> list:\n    return sorted(xs)[::-1][:k]\n"
    assert verify(spec, undefined).reason == "runtime_error"  # annotations evaluate, as in Python


@needs_bwrap
def test_every_test_skipped_is_an_infrastructure_error():
    code = "import numpy_not_installed_here as np\n\ndef test_a():\n    assert f(np) == 1\n"
    verdict = verify({"assert": {"style": "pytest", "code": code}}, "def f(x):\n    return 1")
    assert verdict.reason == "sandbox_error" and verdict.detail["missing_modules"] == [
        "numpy_not_installed_here"]  # fmt: skip


@needs_bwrap
def test_a_program_may_define_a_function_named_like_a_built_in():
    # MBPP task 126: "assert sum(10,15) == 6", sum being the program's function
    spec = {"assert": {"style": "asserts", "asserts": ["assert sum(10,15) == 6",
                                                       "assert abs(sum(4, 6) - 3) < 1e-9"]}}  # fmt: skip
    suite = seal(AssertSpec.from_json(spec["assert"]))
    assert "== 6" not in suite.source and "1e-09" not in suite.source and suite.open == 0
    program = "def sum(a, b):\n    return 6 if a == 10 else 3\n"
    assert verify(spec, program).passed
    assert verify(spec, "def sum(a, b):\n    return a + b\n").reason == "wrong"


@needs_bwrap
def test_a_program_needing_a_module_the_tests_need_too_is_not_a_negative():
    code = "import numpy_not_installed_here as np\n\ndef test_a():\n    assert f(np) == 1\n"
    program = "import numpy_not_installed_here\ndef f(x):\n    return 1"
    verdict = verify({"assert": {"style": "pytest", "code": code}}, program)
    assert verdict.reason == "sandbox_error"  # the sandbox's Python lacks what the tests need
    plain = "def test_a():\n    assert f(1) == 1\n"  # tests that need no such module
    verdict = verify({"assert": {"style": "pytest", "code": plain}}, program)
    assert verdict.reason == "runtime_error"
