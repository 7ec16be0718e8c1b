"""Generate the sample data sets under ``examples/``.

Run ``python examples/make_examples.py`` from the repository root. The script is
deterministic: a fixed seed and sorted JSON keys make every re-run write byte-identical
files. Every math answer is computed with sympy and checked with math_verify; every
code reference solution is run on its test cases before anything is written.
"""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import math_verify
import sympy as sp

SEED = 20240607
HERE = Path(__file__).resolve().parent
X = sp.Symbol("x")
BOXED_PROMPT = " Put your final answer in \\boxed{}."


@dataclass(frozen=True)
class MathItem:
    """One generated math problem before it gets an id."""

    question: str
    answer: str
    solution: str
    topic: str
    level: int
    value: sp.Expr | None = None  # numeric value, used to build wrong chat answers


# --------------------------------------------------------------------------- formatting


def tex(expr: sp.Expr) -> str:
    r"""LaTeX for a sympy expression, written the way people type it (``2x^2``, ``2\sqrt{3}``)."""
    s = sp.latex(sp.sympify(expr))
    s = re.sub(r"\^\{(\d)\}", r"^\1", s)
    s = re.sub(r"(\d) (?=[a-z]|\\sqrt|\\pi)", r"\1", s)
    s = re.sub(r"^- ", "-", s)
    return s


def frac(p: int, q: int = 1) -> str:
    """LaTeX for the rational p/q in lowest terms."""
    return tex(sp.Rational(p, q))


def dec(value: sp.Rational) -> str:
    """A terminating rational as a plain decimal string (``0.375``, ``12``)."""
    f = Fraction(int(value.p), int(value.q))
    sign = "-" if f < 0 else ""
    f = abs(f)
    whole, rest = divmod(f.numerator, f.denominator)
    if rest == 0:
        return f"{sign}{whole}"
    digits = ""
    while rest and len(digits) < 12:
        rest *= 10
        digits += str(rest // f.denominator)
        rest %= f.denominator
    if rest:
        raise ValueError(f"{value} does not terminate")
    return f"{sign}{whole}.{digits}"


def poly(expr: sp.Expr) -> str:
    """LaTeX for a polynomial in x, terms in descending degree."""
    p = sp.Poly(sp.expand(expr), X)
    parts: list[str] = []
    for (deg,), c in zip(p.monoms(), p.coeffs(), strict=True):
        c = sp.Rational(c)
        mag = abs(c)
        if deg == 0:
            body = tex(mag)
        else:
            var = "x" if deg == 1 else f"x^{deg}" if deg < 10 else f"x^{{{deg}}}"
            if mag == 1:
                body = var
            elif mag.q == 1:
                body = f"{mag}{var}"
            else:
                body = f"{tex(mag)}{var}"
        if not parts:
            parts.append(("-" if c < 0 else "") + body)
        else:
            parts.append(("- " if c < 0 else "+ ") + body)
    return " ".join(parts) if parts else "0"


def coef(n: int) -> str:
    """A coefficient as written before a variable: ``""`` for 1, ``"-"`` for -1."""
    return "" if n == 1 else "-" if n == -1 else str(n)


def ordinal(n: int) -> str:
    """``1st``, ``2nd``, ``43rd``, ``11th``."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def linear(a: int, b: int, var: str = "x") -> str:
    """LaTeX for ``a*var + b`` with tidy signs."""
    head = var if a == 1 else f"-{var}" if a == -1 else f"{a}{var}"
    if b == 0:
        return head
    return f"{head} {'+' if b > 0 else '-'} {abs(b)}"


def signed(n: int) -> str:
    """`` + n`` or `` - n`` for use after a term."""
    return f" + {n}" if n >= 0 else f" - {-n}"


def interval(lo: sp.Expr, hi: sp.Expr, left_closed: bool, right_closed: bool) -> str:
    """Interval notation; infinite ends are always open."""
    lo_s = "-\\infty" if lo == -sp.oo else tex(lo)
    hi_s = "\\infty" if hi == sp.oo else tex(hi)
    left = "[" if left_closed and lo != -sp.oo else "("
    right = "]" if right_closed and hi != sp.oo else ")"
    return f"{left}{lo_s}, {hi_s}{right}"


def tex_eq(val: sp.Rational, num: int, den: int) -> str:
    r"""``\frac{num}{den} = val``, or just ``val`` when the fraction is already reduced."""
    if sp.igcd(num, den) == 1 and den != 1:
        return tex(val)
    return f"\\frac{{{num}}}{{{den}}} = {tex(val)}"


def boxed(answer: str) -> str:
    """The closing sentence of every solution."""
    return f"The answer is $\\boxed{{{answer}}}$"


# --------------------------------------------------------------------------- math topics


def gen_integer_arithmetic(rng: random.Random) -> MathItem:
    """Multi-step integer arithmetic."""
    a, b, c, d = (rng.randint(2, 40) for _ in range(4))
    kind = rng.randrange(3)
    if kind == 0:
        expr, val = f"{a} \\times {b} - {c} \\times {d}", a * b - c * d
        work = f"${a} \\times {b} = {a * b}$ and ${c} \\times {d} = {c * d}$, "
        work += f"so the result is ${a * b} - {c * d} = {val}$."
    elif kind == 1:
        expr, val = f"({a} + {b}) \\times {c} - {d}", (a + b) * c - d
        work = f"First ${a} + {b} = {a + b}$, then ${a + b} \\times {c} = {(a + b) * c}$, "
        work += f"and ${(a + b) * c} - {d} = {val}$."
    else:
        expr, val = f"{a}^2 - {b}^2", a * a - b * b
        work = f"Using $a^2 - b^2 = (a - b)(a + b)$: $({a} - {b})({a} + {b}) = "
        work += f"({a - b})({a + b}) = {val}$."
    return MathItem(
        f"Compute ${expr}$.",
        str(val),
        f"{work} {boxed(str(val))}",
        "arithmetic",
        1,
        sp.Integer(val),
    )


def gen_fraction_arithmetic(rng: random.Random) -> MathItem:
    """Adding, subtracting, multiplying and dividing fractions."""
    b, d = rng.randint(2, 12), rng.randint(2, 12)
    a, c = rng.randint(1, b - 1), rng.randint(1, 2 * d)
    while sp.igcd(a, b) != 1:
        a = rng.randint(1, b - 1)
    while sp.igcd(c, d) != 1:
        c = rng.randint(1, 2 * d)
    op = rng.choice(["+", "-", "\\times", "\\div"])
    x, y = sp.Rational(a, b), sp.Rational(c, d)
    if op == "+":
        val = x + y
    elif op == "-":
        val = x - y
    elif op == "\\times":
        val = x * y
    else:
        val = x / y
    if val.q == 1:
        val_note = "which is an integer"
    else:
        val_note = "in lowest terms"
    lhs = f"\\frac{{{a}}}{{{b}}} {op} \\frac{{{c}}}{{{d}}}"
    if op in "+-":
        den = sp.ilcm(b, d)
        work = (
            f"With common denominator ${den}$: $\\frac{{{a * den // b}}}{{{den}}} {op} "
            f"\\frac{{{c * den // d}}}{{{den}}} = {tex(val)}$, {val_note}."
        )
    elif op == "\\times":
        work = (
            f"Multiply numerators and denominators: "
            f"${tex_eq(sp.Rational(a * c, b * d), a * c, b * d)}$."
        )
    else:
        work = (
            f"Dividing is multiplying by the reciprocal: $\\frac{{{a}}}{{{b}}} \\times "
            f"\\frac{{{d}}}{{{c}}} = {tex_eq(val, a * d, b * c)}$."
        )
    level = 1 if op in "+-" else 2
    return MathItem(
        f"Compute ${lhs}$. Express your answer as a fraction in lowest terms.",
        tex(val),
        f"{work} {boxed(tex(val))}",
        "fractions",
        level,
        val,
    )


def gen_decimals(rng: random.Random) -> MathItem:
    """Decimal arithmetic and fraction-to-decimal conversion."""
    if rng.random() < 0.5:
        q = rng.choice([2, 4, 5, 8, 16, 20, 25, 40])
        p = rng.randint(1, 3 * q)
        while sp.gcd(p, q) != 1:
            p += 1
        val = sp.Rational(p, q)
        question = f"Write $\\frac{{{p}}}{{{q}}}$ as a decimal."
        work = f"Divide ${p}$ by ${q}$: $\\frac{{{p}}}{{{q}}} = {dec(val)}$."
    else:
        a = sp.Rational(rng.randint(11, 99), 10) * rng.choice([1, sp.Rational(1, 10)])
        b = sp.Rational(rng.randint(2, 40), rng.choice([4, 5, 10]))
        op = rng.choice(["+", "-", "\\times"])
        val = a + b if op == "+" else a - b if op == "-" else a * b
        question = f"Compute ${dec(a)} {op} {dec(b)}$."
        work = f"Line up the decimal places: ${dec(a)} {op} {dec(b)} = {dec(val)}$."
    return MathItem(question, dec(val), f"{work} {boxed(dec(val))}", "decimals", 1, val)


def gen_percentages(rng: random.Random) -> MathItem:
    """Percent of a number, percent change and discounts."""
    kind = rng.randrange(3)
    if kind == 0:
        p, n = (
            rng.choice([5, 10, 12, 15, 20, 25, 30, 35, 40, 45, 60, 75, 80]),
            rng.randint(4, 90) * 4,
        )
        val = sp.Rational(p * n, 100)
        ans = dec(val)
        question = f"What is ${p}\\%$ of ${n}$?"
        work = f"${p}\\%$ of ${n}$ is $\\frac{{{p}}}{{100}} \\times {n} = {ans}$."
        level = 1
    elif kind == 1:
        old = rng.choice([20, 40, 50, 80, 120, 160, 200, 250, 400])
        pct = rng.choice([-50, -25, -20, -10, 5, 10, 15, 20, 25, 30, 40, 50, 60, 75])
        new = old * (100 + pct) // 100
        verb = "increases" if pct > 0 else "decreases"
        val = sp.Rational(abs(pct), 100)
        ans = f"{abs(pct)}\\%"
        question = (
            f"A price {verb} from ${old}$ dollars to ${new}$ dollars. By what percent does it "
            f"{verb[:-1]}?"
        )
        work = (
            f"The change is ${abs(new - old)}$ dollars, and $\\frac{{{abs(new - old)}}}{{{old}}} "
            f"= {dec(val)} = {ans}$."
        )
        level = 2
    else:
        price = rng.randint(8, 60) * 5
        off = rng.choice([10, 15, 20, 25, 30, 40])
        val = sp.Rational(price * (100 - off), 100)
        ans = dec(val)
        question = (
            f"A jacket costs ${price}$ dollars and is on sale for ${off}\\%$ off. What is the sale "
            f"price in dollars?"
        )
        work = (
            f"The sale price is ${100 - off}\\%$ of ${price}$: ${dec(sp.Rational(100 - off, 100))}"
        )
        work += f" \\times {price} = {ans}$."
        level = 2
    return MathItem(question, ans, f"{work} {boxed(ans)}", "percentages", level, val)


def gen_linear_equation(rng: random.Random) -> MathItem:
    """One linear equation in one unknown."""
    a, c = rng.randint(2, 9), rng.randint(-6, 9)
    while c == a or c == 0:
        c = rng.randint(-6, 9)
    b, d = rng.randint(-20, 20), rng.randint(-20, 20)
    val = sp.Rational(d - b, a - c)
    ans = tex(val)
    question = f"Solve for $x$: ${linear(a, b)} = {linear(c, d)}$."
    work = (
        f"Collect terms: ${coef(a - c)}x = {d - b}$, so $x = {ans}$."
        if a - c != 1
        else f"Collect terms: $x = {d - b}$."
    )
    level = 1 if val.q == 1 else 2
    return MathItem(question, ans, f"{work} {boxed(ans)}", "linear equations", level, val)


def gen_quadratic(rng: random.Random) -> MathItem:
    """Real roots of a quadratic, as a set."""
    roll = rng.random()
    if roll < 0.2:
        p, q = sorted(rng.sample(range(1, 7), 2))
        expr = sp.expand((X**2 - p * p) * (X**2 - q * q))
        roots = [-q, -p, p, q]
        ans = "\\{" + ", ".join(str(r) for r in roots) + "\\}"
        work = (
            f"Substitute $u = x^2$: $u^2 - {p * p + q * q}u + {p * p * q * q} = 0$ gives "
            f"$u = {p * p}$ or $u = {q * q}$, so $x = \\pm {p}$ or $x = \\pm {q}$."
        )
        return MathItem(
            f"Find all real solutions of ${poly(expr)} = 0$.",
            ans,
            f"{work} {boxed(ans)}",
            "quadratics",
            4,
        )
    if roll < 0.65:
        r1, r2 = rng.sample(range(-9, 10), 2)
        a = rng.choice([1, 1, 1, 2, 3])
        expr = sp.expand(a * (X - r1) * (X - r2))
        level = 2
    else:
        h, k = rng.randint(-5, 5), rng.choice([2, 3, 5, 6, 7, 8, 12])
        expr = sp.expand((X - h) ** 2 - k)  # roots h ± sqrt(k), irrational
        level = 3
    roots = sorted(sp.solve(expr, X), key=lambda r: float(r))
    if level == 3:  # write h - sqrt(k) and h + sqrt(k) in that order, not sympy's sqrt(k) + h
        rad = tex(sp.sqrt(k))
        shown = [f"-{rad}", rad] if h == 0 else [f"{h} - {rad}", f"{h} + {rad}"]
    else:
        shown = [tex(r) for r in roots]
    ans = "\\{" + ", ".join(shown) + "\\}"
    question = f"Find all real solutions of ${poly(expr)} = 0$."
    coeffs = sp.Poly(expr, X).all_coeffs()
    disc = coeffs[1] ** 2 - 4 * coeffs[0] * coeffs[2]
    work = (
        f"The discriminant is ${disc}$, and the quadratic formula gives "
        f"$x = {shown[0]}$ or $x = {shown[1]}$."
    )
    return MathItem(question, ans, f"{work} {boxed(ans)}", "quadratics", level)


def gen_system(rng: random.Random) -> MathItem:
    """A 2x2 linear system with an integer solution, answered as an ordered pair."""
    while True:
        x0, y0 = rng.randint(-6, 6), rng.randint(-6, 6)
        a, b, c, d = (rng.choice([-3, -2, -1, 1, 2, 3, 4, 5]) for _ in range(4))
        if a * d - b * c != 0:
            break
    e, f = a * x0 + b * y0, c * x0 + d * y0
    sol = sp.solve([a * X + b * sp.Symbol("y") - e, c * X + d * sp.Symbol("y") - f])
    xs, ys = sol[X], sol[sp.Symbol("y")]
    ans = f"({tex(xs)}, {tex(ys)})"

    def side(p: int, q: int) -> str:
        first = "x" if p == 1 else "-x" if p == -1 else f"{p}x"
        second = ("+ " if q > 0 else "- ") + ("y" if abs(q) == 1 else f"{abs(q)}y")
        return f"{first} {second}"

    question = (
        f"Solve the system ${side(a, b)} = {e}$ and ${side(c, d)} = {f}$. "
        f"Give your answer as an ordered pair $(x, y)$."
    )
    work = (
        f"Eliminating $y$ gives ${coef(a * d - b * c)}x = {e * d - b * f}$, so $x = {tex(xs)}$; "
        f"substituting back gives $y = {tex(ys)}$."
    )
    return MathItem(question, ans, f"{work} {boxed(ans)}", "systems of equations", 2)


def gen_inequality(rng: random.Random) -> MathItem:
    """Linear, compound and quadratic inequalities, answered in interval notation."""
    kind = rng.randrange(3)
    tail = " Express your answer in interval notation."
    if kind == 0:
        a = rng.choice([-5, -4, -3, -2, 2, 3, 4, 5, 6])
        b, c = rng.randint(-15, 15), rng.randint(-15, 15)
        rel = rng.choice(["<", "\\le", ">", "\\ge"])
        bound = sp.Rational(c - b, a)
        flip = a < 0
        less = rel in ("<", "\\le")
        if flip:
            less = not less
        closed = rel in ("\\le", "\\ge")
        if less:
            ans = interval(-sp.oo, bound, False, closed)
        else:
            ans = interval(bound, sp.oo, closed, False)
        question = f"Solve the inequality ${linear(a, b)} {rel} {c}$.{tail}"
        move = f"Subtract ${b}$" if b >= 0 else f"Add ${-b}$"
        work = f"{move} and divide by ${a}$" + (
            ", flipping the inequality because it is negative" if flip else ""
        )
        work += f": the boundary is $x = {tex(bound)}$, so $x$ lies in ${ans}$."
        level = 2
    elif kind == 1:
        a = rng.choice([2, 3, 4])
        b = rng.randint(-6, 6)
        lo, hi = sorted(rng.sample(range(-12, 16), 2))
        lo_rel, hi_rel = rng.choice(["<", "\\le"]), rng.choice(["<", "\\le"])
        xlo, xhi = sp.Rational(lo - b, a), sp.Rational(hi - b, a)
        ans = interval(xlo, xhi, lo_rel == "\\le", hi_rel == "\\le")
        question = f"Solve ${lo} {lo_rel} {linear(a, b)} {hi_rel} {hi}$.{tail}"
        work = (
            f"{'Subtract' if b >= 0 else 'Add'} ${abs(b)}$ "
            f"{'from' if b >= 0 else 'to'} every part and divide by ${a}$: "
            f"${tex(xlo)} {lo_rel} x {hi_rel} {tex(xhi)}$, which is ${ans}$."
        )
        level = 2
    else:
        r1, r2 = sorted(rng.sample(range(-8, 9), 2))
        rel = rng.choice(["<", "\\le"])
        expr = sp.expand((X - r1) * (X - r2))
        ans = interval(sp.Integer(r1), sp.Integer(r2), rel == "\\le", rel == "\\le")
        question = f"Solve the inequality ${poly(expr)} {rel} 0$.{tail}"
        work = (
            f"The quadratic factors as $({linear(1, -r1)})({linear(1, -r2)})$ and opens upward, "
            f"so it is {'negative' if rel == '<' else 'at most zero'} between its roots: ${ans}$."
        )
        level = 3
    return MathItem(question, ans, f"{work} {boxed(ans)}", "inequalities", level)


def gen_radicals(rng: random.Random) -> MathItem:
    """Simplifying square roots and rationalizing denominators."""
    kind = rng.randrange(3)
    if kind == 0:
        k, m = rng.randint(2, 9), rng.choice([2, 3, 5, 6, 7, 10, 11])
        n = k * k * m
        val = sp.sqrt(n)
        question = f"Simplify $\\sqrt{{{n}}}$."
        work = f"$\\sqrt{{{n}}} = \\sqrt{{{k * k} \\cdot {m}}} = {tex(val)}$."
        level = 2
    elif kind == 1:
        a, m = rng.randint(1, 9), rng.choice([2, 3, 5, 6, 7, 10])
        val = sp.Integer(a) / sp.sqrt(m)
        question = f"Rationalize the denominator: $\\frac{{{a}}}{{\\sqrt{{{m}}}}}$."
        first = f"\\frac{{{coef(a)}\\sqrt{{{m}}}}}{{{m}}}"
        shown = first if first == tex(val) else f"{first} = {tex(val)}"
        work = f"Multiply top and bottom by $\\sqrt{{{m}}}$ to get ${shown}$."
        level = 2
    else:
        m = rng.choice([2, 3, 5, 6, 7])
        p, q = rng.randint(2, 7), rng.randint(2, 7)
        a, b = p * p * m, q * q * m
        val = sp.sqrt(a) + sp.sqrt(b)
        question = f"Simplify $\\sqrt{{{a}}} + \\sqrt{{{b}}}$."
        work = (
            f"$\\sqrt{{{a}}} = {p}\\sqrt{{{m}}}$ and $\\sqrt{{{b}}} = {q}\\sqrt{{{m}}}$, "
            f"so the sum is ${tex(val)}$."
        )
        level = 3
    return MathItem(question, tex(val), f"{work} {boxed(tex(val))}", "radicals", level, val)


def gen_polynomial_algebra(rng: random.Random) -> MathItem:
    """Expanding products and factoring quadratics."""
    kind = rng.randrange(3)
    if kind == 0:
        a, b = rng.choice([-1, 1]) * rng.randint(1, 9), rng.choice([-1, 1]) * rng.randint(1, 9)
        expr = (X + a) * (X + b)
        question = f"Expand $({linear(1, a)})({linear(1, b)})$."
        ans = poly(expr)
        work = (
            f"The product is $x^2 + ({a}{signed(b)})x + ({a})({b})$; the middle coefficient is "
            f"${a + b}$ and the constant is ${a * b}$, giving ${ans}$."
        )
        level = 1
    elif kind == 1:
        p, q = rng.randint(2, 5), rng.choice([-7, -5, -3, -1, 1, 3, 5, 7])
        expr = (p * X + q) ** 2
        question = f"Expand $({linear(p, q)})^2$."
        ans = poly(expr)
        work = f"$(a + b)^2 = a^2 + 2ab + b^2$ with $a = {p}x$, $b = {q}$ gives ${ans}$."
        level = 2
    else:
        r1, r2 = rng.sample([n for n in range(-9, 10) if n != 0], 2)
        r1, r2 = max(r1, r2), min(r1, r2)
        expr = sp.expand((X - r1) * (X - r2))
        question = f"Factor ${poly(expr)}$ completely."
        ans = f"({linear(1, -r1)})({linear(1, -r2)})"
        work = (
            f"We need two numbers with product ${r1 * r2}$ and sum ${-(r1 + r2)}$: they are "
            f"${-r1}$ and ${-r2}$, so the factorization is ${ans}$."
        )
        level = 2
    return MathItem(question, ans, f"{work} {boxed(ans)}", "polynomials", level)


def gen_derivative(rng: random.Random) -> MathItem:
    """Derivatives of polynomials, symbolically or at a point."""
    deg = rng.randint(2, 4)
    coeffs = [rng.choice([-5, -4, -3, -2, -1, 1, 2, 3, 4, 5, 6])] + [
        rng.randint(-9, 9) for _ in range(deg)
    ]
    f = sum(c * X ** (deg - i) for i, c in enumerate(coeffs))
    df = sp.diff(f, X)
    if rng.random() < 0.6:
        ans = poly(df)
        question = f"Find $f'(x)$ if $f(x) = {poly(f)}$."
        work = f"Differentiate term by term with the power rule: $f'(x) = {ans}$."
        val = None
        level = 2
    else:
        t = rng.randint(-3, 3)
        val = df.subs(X, t)
        ans = tex(val)
        question = f"Let $f(x) = {poly(f)}$. Compute $f'({t})$."
        work = f"By the power rule $f'(x) = {poly(df)}$, so $f'({t}) = {ans}$."
        level = 3
    return MathItem(question, ans, f"{work} {boxed(ans)}", "derivatives", level, val)


def gen_integral(rng: random.Random) -> MathItem:
    """Definite integrals of polynomials."""
    deg = rng.randint(1, 3)
    coeffs = [rng.randint(1, 6)] + [rng.randint(-6, 6) for _ in range(deg)]
    f = sum(c * X ** (deg - i) for i, c in enumerate(coeffs))
    lo = rng.randint(-2, 1)
    hi = lo + rng.randint(1, 3)
    val = sp.integrate(f, (X, lo, hi))
    F = sp.integrate(f, X)
    ans = tex(val)
    question = f"Evaluate $\\int_{{{lo}}}^{{{hi}}} ({poly(f)}) \\, dx$."
    work = (
        f"An antiderivative is $F(x) = {poly(F)}$, and $F({hi}) - F({lo}) = "
        f"{tex(F.subs(X, hi))} - ({tex(F.subs(X, lo))}) = {ans}$."
    )
    return MathItem(question, ans, f"{work} {boxed(ans)}", "integrals", 3 if deg < 3 else 4, val)


def gen_sequence(rng: random.Random) -> MathItem:
    """Arithmetic and geometric sequences and series."""
    kind = rng.randrange(3)
    if kind == 0:
        a1, d, n = (
            rng.randint(-10, 20),
            rng.choice([-4, -3, -2, 2, 3, 4, 5, 7]),
            rng.randint(10, 60),
        )
        terms = ", ".join(str(a1 + i * d) for i in range(4))
        val = sp.Integer(a1 + (n - 1) * d)
        question = f"What is the {ordinal(n)} term of the arithmetic sequence ${terms}, \\ldots$?"
        work = (
            f"The common difference is ${d}$, so $a_{{{n}}} = {a1} + {n - 1} \\cdot ({d}) = {val}$."
        )
        level = 2
    elif kind == 1:
        a1, d, n = rng.randint(1, 15), rng.randint(1, 6), rng.randint(8, 40)
        val = sp.Integer(n * (2 * a1 + (n - 1) * d) // 2)
        last = a1 + (n - 1) * d
        question = (
            f"Find the sum of the first ${n}$ terms of the arithmetic sequence "
            f"${a1}, {a1 + d}, {a1 + 2 * d}, \\ldots$."
        )
        work = (
            f"The ${n}$th term is ${last}$,"
            f" so the sum is $\\frac{{{n}({a1} + {last})}}{{2}} = {val}$."
        )
        level = 2
    else:
        a1, r, n = rng.randint(1, 5), rng.choice([2, 3, -2, sp.Rational(1, 2)]), rng.randint(4, 8)
        val = sum(a1 * r**i for i in range(n))
        terms = ", ".join(tex(a1 * r**i) for i in range(3))
        question = (
            f"Find the sum of the first ${n}$ terms of the geometric sequence ${terms}, \\ldots$."
        )
        work = (
            f"With first term ${a1}$ and ratio ${tex(r)}$, the sum is "
            f"${a1} \\cdot \\frac{{1 - ({tex(r)})^{{{n}}}}}{{1 - ({tex(r)})}} = {tex(val)}$."
        )
        level = 3
    return MathItem(question, tex(val), f"{work} {boxed(tex(val))}", "sequences", level, val)


def gen_combinatorics(rng: random.Random) -> MathItem:
    """Binomial coefficients, committees and arrangements of letters."""
    kind = rng.randrange(4)
    if kind == 3:
        n = rng.randint(3, 7)
        k = rng.randint(1, n - 1)
        a, b = rng.choice([1, 2, 3]), rng.choice([-3, -2, -1, 1, 2, 3])
        val = sp.Poly(sp.expand((a * X + b) ** n), X).coeff_monomial(X**k)
        question = (
            f"What is the coefficient of $x^{{{k}}}$"
            f" in the expansion of $({linear(a, b)})^{{{n}}}$?"
        )
        work = (
            f"By the binomial theorem the $x^{{{k}}}$ term is $\\binom{{{n}}}{{{k}}} "
            f"({a}x)^{{{k}}} "
            f"({b})^{{{n - k}}}$, whose coefficient is ${sp.binomial(n, k)} \\cdot {a**k} \\cdot "
            f"{b ** (n - k) if b ** (n - k) >= 0 else f'({b ** (n - k)})'} = {val}$."
        )
        return MathItem(question, str(val), f"{work} {boxed(str(val))}", "combinatorics", 4, val)
    if kind == 0:
        n = rng.randint(5, 20)
        k = rng.randint(2, min(6, n - 2))
        val = sp.binomial(n, k)
        question = f"Compute $\\binom{{{n}}}{{{k}}}$."
        work = f"$\\binom{{{n}}}{{{k}}} = \\frac{{{n}!}}{{{k}!\\,{n - k}!}} = {val}$."
        level = 2
    elif kind == 1:
        n = rng.randint(6, 15)
        k = rng.randint(2, 5)
        role = rng.choice(["committee", "team", "study group", "panel"])
        val = sp.binomial(n, k)
        question = f"In how many ways can a {role} of ${k}$ people be chosen from ${n}$ people?"
        work = f"Order does not matter, so the count is $\\binom{{{n}}}{{{k}}} = {val}$."
        level = 2
    else:
        word = rng.choice(
            [
                "BANANA",
                "LETTER",
                "COOKIE",
                "PEPPER",
                "BALLOON",
                "MISSISSIPPI",
                "COFFEE",
                "ALGEBRA",
                "TOMATO",
                "PUZZLE",
                "RADAR",
                "GAMMA",
                "STATISTICS",
                "BOOKKEEPER",
                "SUCCESS",
            ]
        )
        counts = {ch: word.count(ch) for ch in sorted(set(word))}
        val = sp.factorial(len(word))
        for c in counts.values():
            val /= sp.factorial(c)
        question = f"How many distinct arrangements of the letters of the word {word} are there?"
        reps = " ".join(f"{c}!" for c in counts.values() if c > 1)
        work = f"There are ${len(word)}$ letters with repeats, so the count is "
        work += f"$\\frac{{{len(word)}!}}{{{reps}}} = {val}$."
        level = 3
    return MathItem(question, str(val), f"{work} {boxed(str(val))}", "combinatorics", level, val)


def gen_probability(rng: random.Random) -> MathItem:
    """Dice, coins and marbles, answered as fractions."""
    kind = rng.randrange(4)
    if kind == 3:
        n = rng.randint(2, 5)
        val = 1 - sp.Rational(5, 6) ** n
        question = (
            f"A fair six-sided die is rolled ${n}$ times. What is the probability that at least "
            f"one roll is a six?"
        )
        work = (
            f"The complement is no six at all, with probability $(\\frac{{5}}{{6}})^{{{n}}} = "
            f"{tex(sp.Rational(5, 6) ** n)}$, so the answer is $1 - {tex(sp.Rational(5, 6) ** n)} "
            f"= {tex(val)}$."
        )
        return MathItem(question, tex(val), f"{work} {boxed(tex(val))}", "probability", 4, val)
    if kind == 0:
        s = rng.randint(3, 11)
        ways = sum(1 for i in range(1, 7) for j in range(1, 7) if i + j == s)
        val = sp.Rational(ways, 36)
        question = (
            f"Two fair six-sided dice are rolled. What is the probability that the sum is ${s}$?"
        )
        work = (
            f"There are ${ways}$ ordered outcomes with sum ${s}$ out of $36$,"
            f" so $\\frac{{{ways}}}{{36}} = {tex(val)}$."
        )
        level = 2
    elif kind == 1:
        n = rng.randint(3, 8)
        k = rng.randint(0, n)
        val = sp.Rational(sp.binomial(n, k), 2**n)
        question = (
            f"A fair coin is flipped ${n}$ times. What is the probability of getting exactly "
            f"${k}$ heads?"
        )
        work = (
            f"$\\binom{{{n}}}{{{k}}}$ of the $2^{{{n}}}$"
            f" outcomes work: $\\frac{{{sp.binomial(n, k)}}}{{{2**n}}} = {tex(val)}$."
        )
        level = 3
    else:
        r, b = rng.randint(2, 9), rng.randint(2, 9)
        color = rng.choice(["red", "blue"])
        m = r if color == "red" else b
        val = sp.Rational(m * (m - 1), (r + b) * (r + b - 1))
        question = (
            f"A bag holds ${r}$ red and ${b}$ blue marbles. Two marbles are drawn without "
            f"replacement. What is the probability that both are {color}?"
        )
        work = f"$\\frac{{{m}}}{{{r + b}}} \\cdot \\frac{{{m - 1}}}{{{r + b - 1}}} = {tex(val)}$."
        level = 3
    return MathItem(question, tex(val), f"{work} {boxed(tex(val))}", "probability", level, val)


def gen_geometry(rng: random.Random) -> MathItem:
    """Areas and lengths whose answers involve square roots or pi."""
    kind = rng.randrange(4)
    if kind == 0:
        a = rng.randint(2, 20)
        val = sp.sqrt(3) * a**2 / 4
        question = f"What is the area of an equilateral triangle with side length ${a}$?"
        work = (
            f"The area is $\\frac{{\\sqrt{{3}}}}{{4}} s^2"
            f" = \\frac{{\\sqrt{{3}}}}{{4}} \\cdot {a * a} = {tex(val)}$."
        )
        level = 2
    elif kind == 1:
        w, h = rng.randint(1, 15), rng.randint(1, 15)
        val = sp.sqrt(w * w + h * h)
        question = f"A rectangle measures ${w}$ by ${h}$. How long is its diagonal?"
        work = (
            f"By Pythagoras the diagonal is $\\sqrt{{{w}^2 + {h}^2}}"
            f" = \\sqrt{{{w * w + h * h}}} = {tex(val)}$."
        )
        level = 2
    elif kind == 2:
        x1, y1, x2, y2 = (rng.randint(-8, 8) for _ in range(4))
        if (x1, y1) == (x2, y2):
            x2 += 3
        val = sp.sqrt((x2 - x1) ** 2 + (y2 - y1) ** 2)
        question = f"Find the distance between the points $({x1}, {y1})$ and $({x2}, {y2})$."
        work = (
            f"$\\sqrt{{({x2 - x1})^2 + ({y2 - y1})^2}} = "
            f"\\sqrt{{{(x2 - x1) ** 2 + (y2 - y1) ** 2}}} = {tex(val)}$."
        )
        level = 2
    else:
        r = rng.randint(2, 15)
        if rng.random() < 0.5:
            val = sp.pi * r**2
            question = (
                f"What is the area of a circle with radius ${r}$?"
                f" Express your answer in terms of $\\pi$."
            )
            work = f"The area is $\\pi r^2 = {tex(val)}$."
        else:
            val = sp.pi * r**2 / 2
            question = (
                f"What is the area of a semicircle with diameter ${2 * r}$? Express your answer "
                f"in terms of $\\pi$."
            )
            work = f"The radius is ${r}$, so the area is $\\frac{{\\pi r^2}}{{2}} = {tex(val)}$."
        level = 1
    return MathItem(question, tex(val), f"{work} {boxed(tex(val))}", "geometry", level, val)


def gen_gcd_lcm(rng: random.Random) -> MathItem:
    """Greatest common divisors and least common multiples."""
    g = rng.choice([2, 3, 4, 5, 6, 7, 8, 9, 12, 15])
    a, b = g * rng.randint(2, 20), g * rng.randint(2, 20)
    if rng.random() < 0.5:
        val = sp.igcd(a, b)
        question = f"What is the greatest common divisor of ${a}$ and ${b}$?"
        work = f"By the Euclidean algorithm, $\\gcd({a}, {b}) = {val}$."
        level = 1
    else:
        val = sp.ilcm(a, b)
        question = f"What is the least common multiple of ${a}$ and ${b}$?"
        work = (
            f"$\\operatorname{{lcm}}({a}, {b}) = \\frac{{{a} \\cdot {b}}}{{\\gcd({a}, {b})}} = "
            f"\\frac{{{a * b}}}{{{sp.igcd(a, b)}}} = {val}$."
        )
        level = 2
    return MathItem(
        question, str(val), f"{work} {boxed(str(val))}", "number theory", level, sp.Integer(val)
    )


def gen_counting(rng: random.Random) -> MathItem:
    """Divisor counts and inclusion-exclusion counts of integers."""
    kind = rng.randrange(3)
    if kind == 0:
        n = rng.choice([2, 3, 4, 6, 8, 9, 10, 12]) * rng.choice([6, 10, 14, 15, 21, 35, 45, 50])
        factors = sp.factorint(n)
        val = sp.Integer(sp.divisor_count(n))
        shown = " \\cdot ".join(f"{p}^{{{e}}}" if e > 1 else str(p) for p, e in factors.items())
        question = f"How many positive divisors does ${n}$ have?"
        counts = " \\cdot ".join(f"({e} + 1)" for e in factors.values())
        work = f"${n} = {shown}$, so the number of divisors is ${counts} = {val}$."
        level = 3
    elif kind == 1:
        a, b = rng.sample([2, 3, 4, 5, 6, 7, 9, 10, 11], 2)
        n = rng.randint(5, 40) * 25
        lab = sp.ilcm(a, b)
        val = sp.Integer(n // a + n // b - n // lab)
        question = (
            f"How many integers from $1$ to ${n}$ inclusive are divisible by ${a}$ or by ${b}$?"
        )
        work = (
            f"By inclusion-exclusion: $\\lfloor {n}/{a} \\rfloor + \\lfloor {n}/{b} \\rfloor - "
            f"\\lfloor {n}/{lab} \\rfloor = {n // a} + {n // b} - {n // lab} = {val}$."
        )
        level = 4
    else:
        m = rng.choice([6, 10, 12, 14, 15, 18, 20, 21, 30, 35, 42])
        n = rng.randint(4, 30) * m
        primes = sorted(sp.factorint(m))
        val = sp.Integer(sum(1 for k in range(1, n + 1) if sp.igcd(k, m) == 1))
        question = f"How many integers from $1$ to ${n}$ inclusive are relatively prime to ${m}$?"
        plist = ", ".join(f"${p}$" for p in primes)
        work = (
            f"An integer is coprime to ${m}$ exactly when it avoids the primes {plist}. Each "
            f"block of ${m}$ consecutive integers holds $\\varphi({m}) = {sp.totient(m)}$ such "
            f"integers, and there are ${n // m}$ blocks, so the count is ${val}$."
        )
        level = 5
    return MathItem(question, str(val), f"{work} {boxed(str(val))}", "number theory", level, val)


def gen_modular(rng: random.Random) -> MathItem:
    """Remainders of powers and linear congruences."""
    if rng.random() < 0.6:
        a, n, m = rng.randint(2, 13), rng.randint(20, 500), rng.choice([5, 7, 11, 13, 17])
        if a % m == 0:
            a += 1
        val = pow(a, n, m)
        question = f"What is the remainder when ${a}^{{{n}}}$ is divided by ${m}$?"
        order = next(k for k in range(1, m) if pow(a, k, m) == 1)
        work = (
            f"The powers of ${a}$ modulo ${m}$ repeat with period ${order}$, and ${n} \\equiv "
            f"{n % order} \\pmod{{{order}}}$, so ${a}^{{{n}}} \\equiv {val} \\pmod{{{m}}}$."
        )
        level = 3
    else:
        m = rng.choice([7, 11, 13, 17, 19, 23])
        a, b = rng.randint(2, m - 1), rng.randint(1, m - 1)
        inv = pow(a, -1, m)
        val = b * inv % m
        question = (
            f"Find the integer $x$ with $0 \\le x < {m}$"
            f" such that ${a}x \\equiv {b} \\pmod{{{m}}}$."
        )
        work = (
            f"The inverse of ${a}$ modulo ${m}$ is ${inv}$, so $x \\equiv {b} \\cdot {inv} "
            f"\\equiv {val} \\pmod{{{m}}}$."
        )
        level = 4
    return MathItem(
        question,
        str(val),
        f"{work} {boxed(str(val))}",
        "modular arithmetic",
        level,
        sp.Integer(val),
    )


def gen_logarithm(rng: random.Random) -> MathItem:
    """Evaluating logarithms and solving logarithmic equations."""
    kind = rng.randrange(3)
    base = rng.choice([2, 3, 4, 5, 10])
    if kind == 0:
        e = rng.randint(-3, 6 if base < 5 else 4)
        arg = sp.Integer(base) ** e
        val = sp.Integer(e)
        shown = tex(arg) if arg.q == 1 else f"\\left({tex(arg)}\\right)"
        question = f"Evaluate $\\log_{{{base}}} {shown}$."
        work = f"Since ${base}^{{{e}}} = {tex(arg)}$, the logarithm is ${e}$."
        level = 2
    elif kind == 1:
        k, c = rng.randint(1, 5 if base < 5 else 3), rng.randint(-10, 10)
        val = sp.Integer(base**k - c)
        question = f"Solve for $x$: $\\log_{{{base}}}({linear(1, c)}) = {k}$."
        work = f"Exponentiate: ${linear(1, c)} = {base}^{{{k}}} = {base**k}$, so $x = {val}$."
        level = 3
    else:
        p, q = rng.randint(2, 30), rng.randint(2, 30)
        e = rng.randint(1, 3)
        # log_b(p) + log_b(q') where p * q' = b^e
        prod = base**e
        divisors = [d for d in range(1, prod + 1) if prod % d == 0 and 1 < d < prod]
        p = rng.choice(divisors) if divisors else base
        q = prod // p
        if q == 1:
            q, p = base, prod // base
        val = sp.Integer(sp.log(p * q, base))
        question = f"Compute $\\log_{{{base}}} {p} + \\log_{{{base}}} {q}$."
        work = f"$\\log_{{{base}}} {p} + \\log_{{{base}}} {q} = \\log_{{{base}}} {p * q} = {val}$."
        level = 2
    return MathItem(question, tex(val), f"{work} {boxed(tex(val))}", "logarithms", level, val)


MATH_TOPICS: list[tuple[Callable[[random.Random], MathItem], int]] = [
    (gen_integer_arithmetic, 14),
    (gen_fraction_arithmetic, 16),
    (gen_decimals, 12),
    (gen_percentages, 14),
    (gen_linear_equation, 14),
    (gen_quadratic, 16),
    (gen_system, 14),
    (gen_inequality, 18),
    (gen_radicals, 14),
    (gen_polynomial_algebra, 16),
    (gen_derivative, 14),
    (gen_integral, 12),
    (gen_sequence, 14),
    (gen_combinatorics, 12),
    (gen_probability, 14),
    (gen_geometry, 16),
    (gen_gcd_lcm, 12),
    (gen_counting, 12),
    (gen_modular, 12),
    (gen_logarithm, 12),
]


def normalize(text: str) -> str:
    """Whitespace-normalized text, for duplicate checks."""
    return " ".join(text.split())


def last_boxed(text: str) -> str:
    r"""The content of the last ``\boxed{...}`` in text (balanced braces)."""
    start = text.rindex("\\boxed{") + len("\\boxed{")
    depth, i = 1, start
    while depth:
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        i += 1
    return text[start : i - 1]


def answers_match(gold: str, predicted: str) -> bool:
    """math_verify's verdict on a predicted answer against a gold answer (main thread only)."""
    parsed_gold = math_verify.parse(f"${gold}$")
    parsed_pred = math_verify.parse(f"$\\boxed{{{predicted}}}$")
    return bool(parsed_gold) and bool(math_verify.verify(parsed_gold, parsed_pred))


def build_math(seed: int) -> list[tuple[dict, MathItem]]:
    """Generate, de-duplicate and self-check the math problems."""
    rows: list[tuple[dict, MathItem]] = []
    seen: set[str] = set()
    for t_index, (gen, count) in enumerate(MATH_TOPICS):
        rng = random.Random(seed * 1000 + t_index)
        made, tries = 0, 0
        while made < count:
            tries += 1
            if tries > count * 50:
                raise RuntimeError(f"{gen.__name__}: could not make {count} distinct problems")
            item = gen(rng)
            question = item.question + BOXED_PROMPT
            key = normalize(question)
            if key in seen:
                continue
            if not answers_match(item.answer, last_boxed(item.solution)):
                raise AssertionError(f"self-check failed: {item}")
            seen.add(key)
            made += 1
            row = {
                "id": f"ex-math-{len(rows) + 1:04d}",
                "question": question,
                "answer": item.answer,
                "solution": item.solution,
                "topic": item.topic,
                "level": item.level,
            }
            rows.append((row, item))
    return rows


# --------------------------------------------------------------------------- code problems


@dataclass(frozen=True)
class CodeProblem:
    """A competitive-programming task with a reference solution and tests."""

    title: str
    statement: str
    input_format: str
    output_format: str
    solution: str
    tests: list[tuple[str, str]]
    difficulty: str = "easy"


CODE_PROBLEMS: list[CodeProblem] = [
    CodeProblem(
        "Sum of Numbers",
        "Given a list of integers, print their sum.",
        "The first line contains an integer n (0 <= n <= 10^5). The second line contains n "
        "integers a_i (|a_i| <= 10^9), separated by spaces; it may be empty when n = 0.",
        "Print a single integer: the sum of the n numbers.",
        "import sys\n\ndata = sys.stdin.read().split()\nn = int(data[0])\n"
        "print(sum(int(v) for v in data[1:1 + n]))\n",
        [
            ("3\n1 2 3\n", "6"),
            ("1\n-5\n", "-5"),
            ("0\n\n", "0"),
            ("5\n1000000000 1000000000 1000000000 1000000000 1000000000\n", "5000000000"),
            ("4\n-1 1 -2 2\n", "0"),
        ],
    ),
    CodeProblem(
        "Reverse a String",
        "Print the given line of text reversed, character by character.",
        "A single line containing a string s of at most 1000 printable ASCII characters "
        "(it may contain spaces, and it may be empty).",
        "Print s reversed.",
        "import sys\n\nline = sys.stdin.readline().rstrip('\\n')\nprint(line[::-1])\n",
        [
            ("hello\n", "olleh"),
            ("a\n", "a"),
            ("abc def\n", "fed cba"),
            ("racecar\n", "racecar"),
            ("\n", ""),
            ("12345!\n", "!54321"),
        ],
    ),
    CodeProblem(
        "Palindrome Check",
        "A phrase is a palindrome if, after converting all letters to lowercase and removing "
        "every character that is not a letter or digit, it reads the same forward and backward. "
        "Decide whether the given phrase is a palindrome.",
        "A single line containing the phrase (at most 10^5 characters).",
        "Print YES if the phrase is a palindrome and NO otherwise.",
        "import sys\n\ns = sys.stdin.readline()\nt = [c.lower() for c in s if c.isalnum()]\n"
        "print('YES' if t == t[::-1] else 'NO')\n",
        [
            ("A man, a plan, a canal: Panama\n", "YES"),
            ("hello\n", "NO"),
            ("x\n", "YES"),
            ("Ab\n", "NO"),
            ("No 'x' in Nixon\n", "YES"),
            ("!!!\n", "YES"),
        ],
    ),
    CodeProblem(
        "FizzBuzz with a Twist",
        "For every integer i from 1 to n, print FizzBuzz if i is divisible by both a and b, "
        "Fizz if it is divisible only by a, Buzz if it is divisible only by b, and i itself "
        "otherwise.",
        "A single line with three integers n, a, b (1 <= n <= 10^5, 1 <= a, b <= 100).",
        "Print n lines, the i-th line being the word or number for i.",
        "n, a, b = map(int, input().split())\nout = []\nfor i in range(1, n + 1):\n"
        "    word = ('Fizz' if i % a == 0 else '') + ('Buzz' if i % b == 0 else '')\n"
        "    out.append(word or str(i))\nprint('\\n'.join(out))\n",
        [
            ("6 2 3\n", "1\nFizz\nBuzz\nFizz\n5\nFizzBuzz"),
            ("1 1 1\n", "FizzBuzz"),
            ("8 7 2\n", "1\nBuzz\n3\nBuzz\n5\nBuzz\nFizz\nBuzz"),
            ("3 4 5\n", "1\n2\n3"),
            ("15 3 5\n", "1\n2\nFizz\n4\nBuzz\nFizz\n7\n8\nFizz\nBuzz\n11\nFizz\n13\n14\nFizzBuzz"),
        ],
    ),
    CodeProblem(
        "Primes up to N",
        "Print all prime numbers less than or equal to n in increasing order.",
        "A single integer n (0 <= n <= 10^6).",
        "Print the primes separated by single spaces on one line. If there are none, print "
        "an empty line.",
        "n = int(input())\nsieve = bytearray([1]) * (n + 1)\nsieve[0:2] = b'\\x00\\x00'[: n + 1]\n"
        "for i in range(2, int(n ** 0.5) + 1):\n    if sieve[i]:\n"
        "        sieve[i * i :: i] = bytearray(len(range(i * i, n + 1, i)))\n"
        "print(' '.join(str(i) for i in range(n + 1) if sieve[i]))\n",
        [
            ("10\n", "2 3 5 7"),
            ("1\n", ""),
            ("2\n", "2"),
            ("30\n", "2 3 5 7 11 13 17 19 23 29"),
            ("0\n", ""),
            ("3\n", "2 3"),
        ],
        "medium",
    ),
    CodeProblem(
        "Fibonacci Modulo",
        "The Fibonacci numbers are F(0) = 0, F(1) = 1 and F(k) = F(k-1) + F(k-2). Compute F(n) "
        "modulo m.",
        "A single line with two integers n and m (0 <= n <= 10^6, 1 <= m <= 10^9 + 7).",
        "Print F(n) mod m.",
        "n, m = map(int, input().split())\na, b = 0, 1\nfor _ in range(n):\n"
        "    a, b = b, (a + b) % m\nprint(a % m)\n",
        [
            ("10 100\n", "55"),
            ("0 7\n", "0"),
            ("1 1\n", "0"),
            ("50 1000000007\n", "586268941"),
            ("2 10\n", "1"),
            ("1000000 10\n", "5"),
        ],
        "medium",
    ),
    CodeProblem(
        "Sort the Words",
        "Sort the given words in lexicographic (ASCII) order.",
        "A single line with one or more words made of lowercase English letters, separated by "
        "spaces.",
        "Print the words in sorted order, separated by single spaces.",
        "print(' '.join(sorted(input().split())))\n",
        [
            ("banana apple cherry\n", "apple banana cherry"),
            ("zebra\n", "zebra"),
            ("b a b a\n", "a a b b"),
            ("car card care cab\n", "cab car card care"),
        ],
    ),
    CodeProblem(
        "Count the Vowels",
        "Count how many vowels (a, e, i, o, u, in either case) appear in a line of text.",
        "A single line of text (at most 10^5 characters, possibly empty).",
        "Print the number of vowels.",
        "import sys\n\ns = sys.stdin.readline()\nprint(sum(c in 'aeiouAEIOU' for c in s))\n",
        [
            ("Hello World\n", "3"),
            ("rhythm\n", "0"),
            ("AEIOU aeiou\n", "10"),
            ("\n", "0"),
            ("Programming in Python\n", "5"),
        ],
    ),
    CodeProblem(
        "Maximum Subarray Sum",
        "Find the largest possible sum of a non-empty contiguous subarray.",
        "The first line contains n (1 <= n <= 2 * 10^5). The second line contains n integers "
        "a_i (|a_i| <= 10^9).",
        "Print the maximum subarray sum.",
        "import sys\n\ndata = sys.stdin.read().split()\nn = int(data[0])\n"
        "a = list(map(int, data[1:1 + n]))\nbest = cur = a[0]\nfor v in a[1:]:\n"
        "    cur = max(v, cur + v)\n    best = max(best, cur)\nprint(best)\n",
        [
            ("9\n-2 1 -3 4 -1 2 1 -5 4\n", "6"),
            ("1\n-7\n", "-7"),
            ("3\n-3 -1 -2\n", "-1"),
            ("5\n1 2 3 4 5\n", "15"),
            ("6\n5 -10 6 -1 2 -20\n", "7"),
        ],
        "medium",
    ),
    CodeProblem(
        "Matrix Transpose",
        "Print the transpose of an r x c integer matrix.",
        "The first line contains r and c (1 <= r, c <= 100). Each of the next r lines contains "
        "c integers.",
        "Print c lines with r integers each: the transposed matrix.",
        "import sys\n\ndata = sys.stdin.read().split()\nr, c = int(data[0]), int(data[1])\n"
        "vals = data[2:]\nrows = [vals[i * c:(i + 1) * c] for i in range(r)]\n"
        "for j in range(c):\n    print(' '.join(rows[i][j] for i in range(r)))\n",
        [
            ("2 3\n1 2 3\n4 5 6\n", "1 4\n2 5\n3 6"),
            ("1 1\n7\n", "7"),
            ("3 1\n1\n2\n3\n", "1 2 3"),
            ("1 4\n-1 0 1 2\n", "-1\n0\n1\n2"),
            ("2 2\n1 2\n3 4\n", "1 3\n2 4"),
        ],
    ),
    CodeProblem(
        "GCD of a List",
        "Compute the greatest common divisor of n positive integers.",
        "The first line contains n (1 <= n <= 10^5). The second line contains n integers "
        "1 <= a_i <= 10^18.",
        "Print the greatest common divisor of all the numbers.",
        "import math\nimport sys\n\ndata = sys.stdin.read().split()\nn = int(data[0])\ng = 0\n"
        "for v in data[1:1 + n]:\n    g = math.gcd(g, int(v))\nprint(g)\n",
        [
            ("3\n12 18 24\n", "6"),
            ("1\n17\n", "17"),
            ("4\n7 13 19 23\n", "1"),
            ("2\n1000000000000000000 500000000000000000\n", "500000000000000000"),
            ("5\n100 100 100 100 100\n", "100"),
        ],
    ),
    CodeProblem(
        "Binary Representation",
        "Print the binary representation of a non-negative integer without leading zeros.",
        "A single integer n (0 <= n <= 10^18).",
        "Print n in base 2 (print 0 for n = 0).",
        "n = int(input())\ndigits = ''\nwhile n:\n    digits = str(n % 2) + digits\n    n //= 2\n"
        "print(digits or '0')\n",
        [
            ("5\n", "101"),
            ("0\n", "0"),
            ("1\n", "1"),
            ("1024\n", "10000000000"),
            ("255\n", "11111111"),
        ],
    ),
    CodeProblem(
        "Anagram Check",
        "Two words are anagrams if one can be rearranged into the other. Decide whether the two "
        "given words are anagrams.",
        "Two lines, each containing a word of lowercase English letters (1 to 10^5 letters).",
        "Print YES if the words are anagrams and NO otherwise.",
        "from collections import Counter\n\na = input().strip()\nb = input().strip()\n"
        "print('YES' if Counter(a) == Counter(b) else 'NO')\n",
        [
            ("listen\nsilent\n", "YES"),
            ("apple\npaple\n", "YES"),
            ("rat\ncar\n", "NO"),
            ("a\na\n", "YES"),
            ("aab\nabb\n", "NO"),
            ("abc\nabcd\n", "NO"),
        ],
    ),
    CodeProblem(
        "Balanced Brackets",
        "A bracket string is balanced if every opening bracket (, [ or { is closed by the "
        "matching bracket in the correct order. Decide whether the given string is balanced.",
        "A single line containing only the characters ()[]{} (length 0 to 10^5).",
        "Print YES if the string is balanced and NO otherwise.",
        "s = input().strip()\npairs = {')': '(', ']': '[', '}': '{'}\nstack = []\nok = True\n"
        "for ch in s:\n    if ch in '([{':\n        stack.append(ch)\n"
        "    elif not stack or stack.pop() != pairs[ch]:\n        ok = False\n        break\n"
        "print('YES' if ok and not stack else 'NO')\n",
        [
            ("([]{})\n", "YES"),
            ("([)]\n", "NO"),
            ("\n", "YES"),
            ("((\n", "NO"),
            ("}\n", "NO"),
            ("{[()()]}[]\n", "YES"),
        ],
        "medium",
    ),
    CodeProblem(
        "Run-Length Encoding",
        "Compress a string by replacing every maximal run of equal characters with the "
        "character followed by the length of the run.",
        "A single line with a string of lowercase letters (length 0 to 10^5).",
        "Print the encoded string (an empty line for an empty input).",
        "s = input().strip()\nout = []\ni = 0\nwhile i < len(s):\n    j = i\n"
        "    while j < len(s) and s[j] == s[i]:\n        j += 1\n"
        "    out.append(s[i] + str(j - i))\n    i = j\nprint(''.join(out))\n",
        [
            ("aaabccdddd\n", "a3b1c2d4"),
            ("a\n", "a1"),
            ("abc\n", "a1b1c1"),
            ("\n", ""),
            ("zzzzzzzzzzzz\n", "z12"),
        ],
    ),
    CodeProblem(
        "Two Sum",
        "Find indices i < j with a_i + a_j = t. If several pairs exist, choose the one with "
        "the smallest j, and among those the smallest i.",
        "The first line contains n and t (2 <= n <= 2 * 10^5, |t| <= 10^9). The second line "
        "contains n integers a_1, ..., a_n (|a_i| <= 10^9).",
        "Print the 1-based indices i and j separated by a space, or -1 if no pair exists.",
        "import sys\n\ndata = sys.stdin.read().split()\nn, t = int(data[0]), int(data[1])\n"
        "a = list(map(int, data[2:2 + n]))\nfirst = {}\nans = '-1'\nfor j, v in enumerate(a):\n"
        "    if t - v in first:\n        ans = f'{first[t - v] + 1} {j + 1}'\n        break\n"
        "    first.setdefault(v, j)\nprint(ans)\n",
        [
            ("4 9\n2 7 11 15\n", "1 2"),
            ("3 6\n3 2 4\n", "2 3"),
            ("2 6\n3 3\n", "1 2"),
            ("3 100\n1 2 3\n", "-1"),
            ("5 0\n-1 5 1 -5 0\n", "1 3"),
            ("6 8\n4 1 7 4 1 7\n", "2 3"),
        ],
        "medium",
    ),
    CodeProblem(
        "Longest Common Prefix",
        "Find the longest string that is a prefix of every given word.",
        "The first line contains n (1 <= n <= 1000). Each of the next n lines contains a "
        "non-empty word of lowercase letters.",
        "Print the longest common prefix, or an empty line if there is none.",
        "import sys\n\ndata = sys.stdin.read().split()\nwords = data[1:1 + int(data[0])]\n"
        "prefix = min(words)\nlast = max(words)\nk = 0\n"
        "while k < len(prefix) and k < len(last) and prefix[k] == last[k]:\n    k += 1\n"
        "print(prefix[:k])\n",
        [
            ("3\nflower\nflow\nflight\n", "fl"),
            ("3\ndog\nracecar\ncar\n", ""),
            ("1\nalone\n", "alone"),
            ("2\nabc\nabc\n", "abc"),
            ("3\ninterview\ninternet\ninterval\n", "inter"),
        ],
    ),
    CodeProblem(
        "Digit Sum",
        "Compute the sum of the decimal digits of a (possibly very large) non-negative integer.",
        "A single non-negative integer with at most 10^5 digits.",
        "Print the sum of its digits.",
        "s = input().strip()\nprint(sum(int(c) for c in s))\n",
        [
            ("12345\n", "15"),
            ("0\n", "0"),
            ("9\n", "9"),
            ("99999999999999999999\n", "180"),
            ("1000000\n", "1"),
        ],
    ),
    CodeProblem(
        "Leap Years",
        "A year is a leap year if it is divisible by 4, except years divisible by 100, which are "
        "leap years only if they are also divisible by 400. Classify each given year.",
        "The first line contains q (1 <= q <= 10^5). Each of the next q lines contains a year y "
        "(1 <= y <= 10^9).",
        "For each year print YES if it is a leap year and NO otherwise, one per line.",
        "import sys\n\ndata = sys.stdin.read().split()\nout = []\n"
        "for y in map(int, data[1:1 + int(data[0])]):\n"
        "    leap = y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)\n"
        "    out.append('YES' if leap else 'NO')\nprint('\\n'.join(out))\n",
        [
            ("4\n2000\n1900\n2024\n2023\n", "YES\nNO\nYES\nNO"),
            ("1\n4\n", "YES"),
            ("1\n1\n", "NO"),
            ("3\n2100\n2400\n1600\n", "NO\nYES\nYES"),
        ],
    ),
    CodeProblem(
        "Minimum Coins",
        "Using unlimited coins of the given denominations, find the minimum number of coins "
        "whose values add up exactly to the amount.",
        "The first line contains k and amount (1 <= k <= 100, 0 <= amount <= 10^4). The second "
        "line contains k distinct positive denominations.",
        "Print the minimum number of coins, or -1 if the amount cannot be made.",
        "import sys\n\ndata = sys.stdin.read().split()\nk, amount = int(data[0]), int(data[1])\n"
        "coins = list(map(int, data[2:2 + k]))\nINF = float('inf')\nbest = [0] + [INF] * amount\n"
        "for v in range(1, amount + 1):\n    for c in coins:\n"
        "        if c <= v and best[v - c] + 1 < best[v]:\n            best[v] = best[v - c] + 1\n"
        "print(best[amount] if best[amount] != INF else -1)\n",
        [
            ("3 11\n1 2 5\n", "3"),
            ("1 3\n2\n", "-1"),
            ("2 0\n3 7\n", "0"),
            ("3 6\n1 3 4\n", "2"),
            ("2 10000\n7 3\n", "1432"),
        ],
        "medium",
    ),
    CodeProblem(
        "Grid Paths",
        "A robot starts at the top-left cell of a grid and wants to reach the bottom-right "
        "cell, moving only right or down and never entering a blocked cell (#). Count the "
        "paths modulo 1000000007.",
        "The first line contains r and c (1 <= r, c <= 1000). Each of the next r lines contains "
        "c characters, each . (free) or # (blocked).",
        "Print the number of paths modulo 1000000007 (0 if the start or the end is blocked).",
        "import sys\n\nlines = sys.stdin.read().split()\nr, c = int(lines[0]), int(lines[1])\n"
        "grid = lines[2:2 + r]\nMOD = 10 ** 9 + 7\nrow = [0] * c\nfor i in range(r):\n"
        "    for j in range(c):\n        if grid[i][j] == '#':\n            row[j] = 0\n"
        "        elif i == 0 and j == 0:\n            row[j] = 1\n        elif j > 0:\n"
        "            row[j] = (row[j] + row[j - 1]) % MOD\nprint(row[c - 1])\n",
        [
            ("3 3\n...\n.#.\n...\n", "2"),
            ("1 1\n.\n", "1"),
            ("1 1\n#\n", "0"),
            ("2 2\n.#\n#.\n", "0"),
            ("3 4\n....\n....\n....\n", "10"),
            ("2 3\n...\n..#\n", "0"),
        ],
        "medium",
    ),
    CodeProblem(
        "String Rotation",
        "A string t is a rotation of s if it can be obtained by moving some prefix of s to its "
        "end. Decide whether t is a rotation of s.",
        "Two lines containing the strings s and t (lowercase letters, 1 to 10^5 characters).",
        "Print YES if t is a rotation of s and NO otherwise.",
        "s = input().strip()\nt = input().strip()\n"
        "print('YES' if len(s) == len(t) and t in s + s else 'NO')\n",
        [
            ("waterbottle\nerbottlewat\n", "YES"),
            ("abc\nacb\n", "NO"),
            ("a\na\n", "YES"),
            ("abc\nabcabc\n", "NO"),
            ("aab\naba\n", "YES"),
        ],
    ),
    CodeProblem(
        "Collatz Steps",
        "Starting from n, repeatedly replace n by n / 2 if n is even and by 3n + 1 if n is odd. "
        "Count the steps needed to reach 1.",
        "A single integer n (1 <= n <= 10^6).",
        "Print the number of steps (0 for n = 1).",
        "n = int(input())\nsteps = 0\nwhile n != 1:\n    n = n // 2 if n % 2 == 0 else 3 * n + 1\n"
        "    steps += 1\nprint(steps)\n",
        [
            ("6\n", "8"),
            ("1\n", "0"),
            ("2\n", "1"),
            ("27\n", "111"),
            ("7\n", "16"),
        ],
    ),
    CodeProblem(
        "Unique Elements in Order",
        "Remove repeated values from a list, keeping the first occurrence of each value in its "
        "original order.",
        "The first line contains n (1 <= n <= 2 * 10^5). The second line contains n integers.",
        "Print the distinct values in order of first appearance, separated by spaces.",
        "import sys\n\ndata = sys.stdin.read().split()\nseen = set()\nout = []\n"
        "for v in data[1:1 + int(data[0])]:\n    if v not in seen:\n        seen.add(v)\n"
        "        out.append(v)\nprint(' '.join(out))\n",
        [
            ("7\n3 1 3 2 1 4 2\n", "3 1 2 4"),
            ("1\n5\n", "5"),
            ("4\n9 9 9 9\n", "9"),
            ("5\n-1 0 -1 0 1\n", "-1 0 1"),
        ],
    ),
    CodeProblem(
        "Most Frequent Word",
        "Find the word that occurs most often in a line of text. If several words tie, print "
        "the lexicographically smallest of them.",
        "A single line with one or more words of lowercase letters separated by spaces.",
        "Print the most frequent word.",
        "from collections import Counter\n\ncounts = Counter(input().split())\n"
        "best = max(counts.values())\nprint(min(w for w, c in counts.items() if c == best))\n",
        [
            ("the cat and the hat\n", "the"),
            ("b a\n", "a"),
            ("solo\n", "solo"),
            ("x y y x z\n", "x"),
        ],
    ),
    CodeProblem(
        "Caesar Cipher",
        "Shift every letter of the text forward by k positions in the alphabet, wrapping from z "
        "to a and preserving case. Other characters stay unchanged.",
        "The first line contains k (0 <= k <= 10^9). The second line contains the text.",
        "Print the encrypted text.",
        "import sys\n\nk = int(sys.stdin.readline()) % 26\n"
        "text = sys.stdin.readline().rstrip('\\n')\n"
        "out = []\nfor ch in text:\n    if ch.islower():\n"
        "        out.append(chr((ord(ch) - 97 + k) % 26 + 97))\n    elif ch.isupper():\n"
        "        out.append(chr((ord(ch) - 65 + k) % 26 + 65))\n    else:\n        out.append(ch)\n"
        "print(''.join(out))\n",
        [
            ("3\nHello, World!\n", "Khoor, Zruog!"),
            ("0\nabc\n", "abc"),
            ("26\nxyz\n", "xyz"),
            ("1\nzZ 9\n", "aA 9"),
            ("1000000000\nabc\n", "mno"),
        ],
    ),
]


def code_question(p: CodeProblem) -> str:
    """The full problem statement shown to a model."""
    example_in, example_out = p.tests[0]
    return (
        f"{p.title}\n\n{p.statement}\n\nInput\n{p.input_format}\n\nOutput\n{p.output_format}\n\n"
        f"Example\nInput:\n{example_in.rstrip(chr(10))}\nOutput:\n{example_out}\n\n"
        "Write a Python 3 program that reads the input from standard input and writes the "
        "answer to standard output."
    )


def run_solution(solution: str, stdin: str) -> str:
    """Run a reference solution on one input and return its stdout."""
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", solution],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=5,
        check=True,
    )
    return done.stdout


def outputs_match(got: str, want: str) -> bool:
    """Compare outputs line by line, ignoring trailing whitespace and blank trailing lines."""
    return [ln.rstrip() for ln in got.strip().splitlines()] == [
        ln.rstrip() for ln in want.strip().splitlines()
    ]


def build_code() -> list[dict]:
    """Check every reference solution on its tests and build the code rows."""
    jobs = [(p, i, o) for p in CODE_PROBLEMS for i, o in p.tests]
    with ThreadPoolExecutor(max_workers=8) as pool:
        outs = list(pool.map(lambda job: run_solution(job[0].solution, job[1]), jobs))
    for (p, stdin, want), got in zip(jobs, outs, strict=True):
        if not outputs_match(got, want):
            raise AssertionError(f"{p.title}: input {stdin!r} gave {got!r}, expected {want!r}")
    rows = []
    for n, p in enumerate(CODE_PROBLEMS, start=1):
        if not 4 <= len(p.tests) <= 8:
            raise AssertionError(f"{p.title}: needs 4-8 tests")
        rows.append(
            {
                "id": f"ex-code-{n:03d}",
                "question": code_question(p),
                "test_cases": [{"input": i, "output": o} for i, o in p.tests],
                "solution": p.solution,
                "difficulty": p.difficulty,
            }
        )
    return rows


# --------------------------------------------------------------------------- chat / OpenR1


def wrong_value(value: sp.Expr) -> sp.Expr:
    """A plausible wrong answer: off by one for integers, a slipped numerator otherwise."""
    value = sp.nsimplify(value)
    if value.is_Integer:
        return value - 1 if value > 1 else value + 1
    if value.is_Rational:
        return sp.Rational(value.p + 1, value.q)
    return value * 2


def build_chat(math_rows: list[tuple[dict, MathItem]]) -> list[dict]:
    """Twelve teacher-style chat rows; every third one reaches a wrong final answer."""
    pool = [(row, item) for row, item in math_rows if item.value is not None]
    picks = [pool[(i * 37 + 5) % len(pool)] for i in range(12)]
    openers = [
        "Okay, let me work through this carefully.",
        "Let me think about what the problem is asking.",
        "Alright, I need to find this step by step.",
    ]
    rows = []
    for i, (row, item) in enumerate(picks):
        wrong = i % 3 == 2
        final = tex(wrong_value(item.value)) if wrong else item.answer
        steps = item.solution.rsplit("The answer is", 1)[0].strip()
        if wrong:
            reasoning = (
                f"{openers[i % 3]} {row['question'].replace(BOXED_PROMPT, '')}\n\n"
                f"Working it out quickly, I get ${final}$."
                f" That seems reasonable, so I'll go with it."
            )
            summary = f"Carrying out the computation gives ${final}$."
        else:
            reasoning = (
                f"{openers[i % 3]} {row['question'].replace(BOXED_PROMPT, '')}\n\n{steps}\n\n"
                f"Let me double-check: yes, ${final}$ is consistent with every step."
            )
            summary = steps
        if answers_match(item.answer, final) == wrong:
            raise AssertionError(f"chat row {i}: wrong={wrong} but verdict disagrees")
        content = (
            f"<think>\n{reasoning}\n</think>\n\n{summary}"
            f"\n\nThe final answer is $\\boxed{{{final}}}$."
        )
        rows.append(
            {
                "messages": [
                    {"role": "user", "content": row["question"]},
                    {"role": "assistant", "content": content},
                ],
                "model": "example-teacher",
                "answer": item.answer,
            }
        )
    return rows


PROBLEM_TYPES = {
    "arithmetic": "Algebra",
    "fractions": "Algebra",
    "decimals": "Algebra",
    "percentages": "Algebra",
    "linear equations": "Algebra",
    "quadratics": "Algebra",
    "systems of equations": "Algebra",
    "inequalities": "Inequalities",
    "radicals": "Algebra",
    "polynomials": "Algebra",
    "derivatives": "Calculus",
    "integrals": "Calculus",
    "sequences": "Algebra",
    "combinatorics": "Combinatorics",
    "probability": "Combinatorics",
    "geometry": "Geometry",
    "number theory": "Number Theory",
    "modular arithmetic": "Number Theory",
    "logarithms": "Algebra",
}


OPENR1_TOPICS = [
    "quadratics",
    "inequalities",
    "geometry",
    "combinatorics",
    "probability",
    "number theory",
    "modular arithmetic",
    "derivatives",
    "integrals",
    "logarithms",
]


def build_openr1(math_rows: list[tuple[dict, MathItem]]) -> list[dict]:
    """Ten rows in the OpenR1-Math layout: the hardest problem of ten topics."""
    rows = []
    for topic in OPENR1_TOPICS:
        candidates = [(row, item) for row, item in math_rows if item.topic == topic]
        row, item = max(candidates, key=lambda pair: pair[1].level)  # first of the top level
        rows.append(
            {
                "problem": row["question"].replace(BOXED_PROMPT, ""),
                "solution": row["solution"],
                "answer": row["answer"],
                "uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"tracemill/examples/{row['id']}")),
                "problem_type": PROBLEM_TYPES[item.topic],
                "source": "tracemill_examples",
            }
        )
    return rows


# --------------------------------------------------------------------------- main


def write_jsonl(path: Path, rows: list[dict]) -> None:
    """Write rows as JSON lines with sorted keys."""
    text = "".join(json.dumps(r, sort_keys=True, ensure_ascii=False) + "\n" for r in rows)
    path.write_text(text, encoding="utf-8")


def main() -> None:
    """Generate, check and write every example file."""
    math_rows = build_math(SEED)
    code_rows = build_code()
    chat_rows = build_chat(math_rows)
    openr1_rows = build_openr1(math_rows)
    write_jsonl(HERE / "math.jsonl", [row for row, _ in math_rows])
    write_jsonl(HERE / "code.jsonl", code_rows)
    write_jsonl(HERE / "chat.jsonl", chat_rows)
    write_jsonl(HERE / "openr1.jsonl", openr1_rows)
    print(
        f"wrote {len(math_rows)} math, {len(code_rows)} code, {len(chat_rows)} chat, "
        f"{len(openr1_rows)} openr1 rows to {HERE}"
    )


if __name__ == "__main__":
    main()
