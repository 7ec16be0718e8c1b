r"""Normalisation of math answers before math-verify compares them.

math-verify parses LaTeX well but misreads many ways people and models write answers.
This module rewrites an answer into the spelling math-verify reads as intended, and
splits it into its parts, so :mod:`tracemill.pipelines.verify.math_answer` can decide
order, arity and hedging itself. What it handles, and where the idea was seen in other
graders (ideas only, no code taken):

- thousands separators in every spelling: ``1,000``, ``1{,}000``, ``1\,000``,
  ``1\!000``, ``1,\!000``, ``1\ 000``, ``1~000``, thin or plain spaces (PRM800K, Hendrycks
  MATH, math-verify);
- repeating decimals: ``0.\overline{3}``, ``0.1\overline{6}``, ``0.\dot{3}``, ``0.(3)``,
  ``0.333...`` (a tail that repeats) become exact fractions; scientific notation
  (``2.5 \times 10^{-4}``, ``1.6e-19``) becomes an exact decimal;
- ``\text{}``/``\mathrm{}``/``\textbf{}``/``\mbox{}`` wrappers are unwrapped; trailing unit
  words (``cm``, ``km/h``, ``square units``, ``dollars``) and currency signs are dropped
  (Qwen2.5-Math, Hendrycks MATH, NeMo-Skills);
- degrees (``^\circ``, ``°``, "degrees") are dropped: 30° equals 30, not π/6 (inside a
  trigonometric function they can be read as angles instead: ``\sin 30^\circ`` is ½);
- a short word after a number is a unit only if it is one (``5 cm``, not ``6 ab``);
- percent signs and the words "percent"/"pct" become one marker ``\%`` (the policy that
  uses it is in :func:`percent_variants`);
- number words ("twenty-five", "one hundred and five") become numerals (Qwen2.5-Math,
  SkyThought);
- ``\dfrac``/``\tfrac``/``\cfrac`` → ``\frac``; a doubled backslash before a command
  (``\\frac``) → one; ``\left``/``\right`` dropped (an unbalanced pair makes the answer
  malformed); trailing punctuation and backslashes dropped (NeMo-Skills);
- inequalities ↔ intervals (``x \ge 2`` ↔ ``[2, \infty)``, ``-1 < x \le 3``, unions joined
  by "or", ``|x - 2| < 3``); "all real numbers" / ``\mathbb{R}`` ↔ ``(-\infty, \infty)``;
- column vectors ↔ tuples; subscripts are names (``I_{\max}``, ``R_{\odot}`` parse);
  equations whose left side only names the answer (:func:`is_label`, :func:`same_quantity`);
  times of day (:func:`time_of_day`);
- the shape of an answer (:func:`split_answer`): a scalar, an ordered sequence (bare
  comma list, tuple, vector) or a set (``\{…\}``, ``{…}``, alternatives joined by "or", ``\pm``),
  with its parts, so ordered answers keep their order.

Every function takes any string and never raises. Work is linear in the input (callers
refuse answers longer than ``MAX_ANSWER_CHARS`` before calling).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

# ---------------------------------------------------------------------------------------
# character-level clean-up

_UNICODE = {
    "\u2212": "-",
    "\u2013": "-",
    "\u00d7": "\\times ",
    "\u22c5": "\\cdot ",
    "\u00b7": "\\cdot ",
    "\u00f7": "\\div ",
    "\u221a": "\\sqrt",
    "\u03c0": "\\pi ",
    "\u221e": "\\infty ",
    "\u2264": "\\le ",
    "\u2265": "\\ge ",
    "\u2260": "\\ne ",
    "\u222a": "\\cup ",
    "\u2229": "\\cap ",
    "\u2208": "\\in ",
    "\u2205": "\\emptyset ",
    "\u00b1": "\\pm ",
    "\u00b0": "^\\circ ",
    "\u00b2": "^2",
    "\u00b3": "^3",
    "\u00a0": "\\,",
    "\u2009": "\\,",
    "\u202f": "\\,",
    "\u2007": "\\,",
    "\u00bd": "\\frac{1}{2}",
    "\u00bc": "\\frac{1}{4}",
    "\u00be": "\\frac{3}{4}",
    "\uff0c": ",",
    "\u3002": ".",
}
_UNICODE_RE = re.compile("|".join(map(re.escape, _UNICODE)))

_KNOWN_COMMANDS = (
    "frac|dfrac|tfrac|cfrac|sqrt|pi|cdot|times|text|textbf|mathrm|mathbf|left|right|"
    "infty|le|ge|leq|geq|ne|neq|pm|mp|cup|cap|in|sin|cos|tan|log|ln|exp|circ|alpha|beta|"
    "theta|boxed|begin|end|mbox|overline|dots|ldots|cdots|emptyset|varnothing"
)
_DOUBLED_BACKSLASH = re.compile(r"(?<!\\)\\\\(?=(?:" + _KNOWN_COMMANDS + r")(?![A-Za-z]))")
_FRAC_VARIANTS = re.compile(r"\\[dtc]frac(?![A-Za-z])")
_STYLE_NOARG = re.compile(
    r"\\(?:displaystyle|textstyle|scriptstyle|limits|nolimits|bigl|bigr|Bigl|Bigr|biggl|"
    r"biggr|Biggl|Biggr|big|Big|bigg|Bigg|middle|quad|qquad|mathstrut|strut|!)(?![A-Za-z])|\\\\"
)
_SPACING = re.compile(r"\\\\|\\[,;: ]|~")
_LEFT_RIGHT = re.compile(r"\\(left|right)(?![A-Za-z])\s*")
_LEFT_RIGHT_DOT = re.compile(r"\\(?:left|right)\s*\.")

# commands whose first argument is shown as is
_UNWRAP_1 = (
    "text|textrm|textnormal|textbf|textit|textsf|texttt|emph|mathrm|mathbf|mathit|mathsf|"
    "mathtt|mathnormal|mbox|hbox|fbox|boxed|bm|boldsymbol|underline|operatorname"
)
_UNWRAP_1_RE = re.compile(r"\\(" + _UNWRAP_1 + r")\s*\{")
# commands whose first argument is not shown (or only styles what follows)
_DROP_1 = re.compile(
    r"\\(?:phantom|hphantom|vphantom|hspace\*?|vspace\*?|color|label|tag|mkern|kern|mspace)"
    r"\s*\{"
)
# commands with two arguments of which the second is shown
_UNWRAP_2ND = re.compile(r"\\(?:textcolor|colorbox|href)\s*\{")
_STRUCK = re.compile(r"\\(?:cancel|bcancel|xcancel|sout|st|cancelto)(?![A-Za-z])")


def _group_end(text: str, open_at: int) -> int:
    """Index just past the brace group opening at `open_at` (``len(text)`` if unclosed)."""
    depth = 0
    i, n = open_at, len(text)
    while i < n:
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return n


def _rewrite_groups(text: str, pattern: re.Pattern[str], keep: str) -> str:
    r"""Rewrite ``\cmd{arg}`` (``keep='arg'``), drop it (``''``) or keep the 2nd arg (``'2nd'``)."""
    out: list[str] = []
    pos = 0
    for _ in range(64):  # nested wrappers; each pass removes at least one
        m = pattern.search(text, pos)
        if not m:
            break
        open_at = m.end() - 1
        end = _group_end(text, open_at)
        inner = text[open_at + 1 : end - 1] if end <= len(text) and end > open_at + 1 else ""
        if keep == "2nd":
            j = end
            while j < len(text) and text[j] == " ":
                j += 1
            if j < len(text) and text[j] == "{":
                end2 = _group_end(text, j)
                inner = text[j + 1 : end2 - 1]
                end = end2
        out.append(text[pos : m.start()])
        if keep:
            out.append(" " + inner + " " if m.group(0).startswith("\\text") else inner)
        pos = end
    out.append(text[pos:])
    return "".join(out)


_SUBSCRIPT = re.compile(r"_\s*\{((?:[^{}]|\{[^{}]*\})*)\}")
_SUBSCRIPT_COMMAND = re.compile(r"\\([A-Za-z]+)")
_GREEK_NAMES = frozenset(
    "alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu "
    "xi pi rho sigma tau upsilon phi varphi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma "
    "Upsilon Phi Psi Omega".split()
)


def flatten_subscripts(text: str) -> str:
    r"""``R_{\odot}`` → ``R_{odot}``, ``I_{\max}`` → ``I_{max}``: a subscript is a name.

    latex2sympy reads ``\odot``/``\max`` as operators and gives up on the whole answer;
    inside a subscript they only spell a label. Greek letters stay (they parse).
    """
    if "_" not in text or "\\" not in text:
        return text

    def flatten(m: re.Match[str]) -> str:
        inner = _SUBSCRIPT_COMMAND.sub(
            lambda c: c.group(0) if c.group(1) in _GREEK_NAMES else c.group(1), m.group(1)
        )
        return "_{" + inner.strip() + "}"

    return _SUBSCRIPT.sub(flatten, text)


def unwrap_commands(text: str) -> str:
    r"""Unwrap ``\text{…}``-like wrappers and drop invisible ones (``\phantom``, ``\color``)."""
    for _ in range(8):
        before = text
        text = _rewrite_groups(text, _DROP_1, "")
        text = _rewrite_groups(text, _UNWRAP_2ND, "2nd")
        text = _rewrite_groups(text, _UNWRAP_1_RE, "arg")
        if text == before:
            break
    return text


# ---------------------------------------------------------------------------------------
# numbers

_SEP = r"(?:\s?\{,\s?\}|,\\!\s?|\\[,!;: ]|~|\s|'|,)"
_THOUSANDS = re.compile(r"(?<![\d.,])([1-9]\d{0,2})((?:" + _SEP + r"\d{3})+)(\.\d+)?(?![\d])")
_SEP_ONLY = re.compile(_SEP)


def _strip_thousands(match: re.Match[str]) -> str:
    head, rest = match.group(1), match.group(2)
    seps = _SEP_ONLY.findall(rest)
    if len(set(seps)) > 1:
        return match.group(0)  # mixed separators: a list, not one number
    if seps[0] in (",", " ") and len(seps) == 1:
        # "1,000" is a thousand when it stands alone, but "(12,102)" is a pair
        text = match.string
        others = text[: match.start()] + text[match.end() :]
        others = re.sub(r"\^\s*\{?\s*-?\d+\s*\}?", "", others)  # m^2 is a unit
        if re.search(r"[\d,()\[\]{}]", others):
            return match.group(0)
    return head + _SEP_ONLY.sub("", rest) + (match.group(3) or "")


def strip_thousands(text: str, comma: bool = True) -> str:
    r"""``1\,000`` / ``1{,}000`` / ``12,345,678`` / ``1 000`` → digits only.

    With ``comma=False`` a plain comma is left alone (it separates numbers).
    """
    if not comma:
        return _THOUSANDS.sub(
            lambda m: m.group(0) if "," in _SEP_ONLY.findall(m.group(2)) else _strip_thousands(m),
            text,
        )
    return _THOUSANDS.sub(_strip_thousands, text)


_SCIENTIFIC = re.compile(
    r"(?<![\w.\\}^])(-?)(\d+(?:\.\d+)?)\s*(?:\\times|\\cdot|\*)\s*10\s*\^\s*"
    r"(?:\{\s*([+-]?\d{1,3})\s*\}|([+-]?\d))(?![\d.^])"
)


def _scientific_parts(sign: str, mantissa: str, exponent: str, match: re.Match[str]) -> str:
    from decimal import Decimal

    power = int(exponent)
    if abs(power) > 60:
        return match.group(0)  # left to math-verify rather than spelt out in digits
    return sign + format(Decimal(mantissa).scaleb(power).normalize(), "f")


def _scientific(match: re.Match[str]) -> str:
    sign, mantissa, braced, bare = match.groups()
    return _scientific_parts(sign, mantissa, braced or bare, match)


_E_NOTATION = re.compile(r"(?<![\w.\\{^])(-?)(\d+(?:\.\d+)?)[eE]([+-]?\d{1,3})(?![\w.])")


def scientific_to_decimal(text: str) -> str:
    r"""``2.31 \times 10^{-3}`` → ``0.00231``; ``1.5 \cdot 10^6``, ``1.5e6`` → ``1500000`` (exact).

    math-verify rounds a decimal to ``float_rounding`` places only when it stands alone;
    as a product with a power of ten it must equal the reference exactly, so a long
    decimal (``2.314814814815 \times 10^{-3}`` for ``\frac{1}{432}``) never matched.
    """
    text = _E_NOTATION.sub(lambda m: _scientific_parts(m.group(1), m.group(2), m.group(3), m), text)
    if "10" not in text:
        return text
    return _SCIENTIFIC.sub(_scientific, text)


_OVERLINE = re.compile(
    r"(-?)(\d*)\.(\d*)\s*\\(?:overline|bar|dot)\s*\{?\s*(\d+)\s*\}?"
    r"(?:\s*\\dot\s*\{?\s*(\d)\s*\}?)?"
)
_PAREN_REPEAT = re.compile(r"(?<![\w.])(-?)(\d+)\.(\d*)\((\d+)\)")
_ELLIPSIS_DECIMAL = re.compile(r"(?<![\w.])(-?)(\d+)\.(\d+)\s*(?:\.\.\.|\\ldots|\\dots|\\cdots|…)")


def _repeating_fraction(sign: str, whole: str, fixed: str, period: str) -> str:
    r"""``whole.fixed(period)`` repeating → ``\frac{p}{q}`` (exact)."""
    whole = whole or "0"
    num = int(whole + fixed + period) - int(whole + fixed)
    den = (10 ** len(period) - 1) * 10 ** len(fixed)
    value = Fraction(num, den)
    if sign:
        value = -value
    if value.denominator == 1:
        return str(value.numerator)
    neg = "-" if value < 0 else ""
    return f"{neg}\\frac{{{abs(value.numerator)}}}{{{value.denominator}}}"


def _overline(m: re.Match[str]) -> str:
    sign, whole, fixed, period, dot_end = m.groups()
    full = m.group(0)
    if dot_end is not None and "\\dot" in full:
        # 0.\dot{1}4\dot{2}: the period runs from the first dotted digit to the last
        period = period + dot_end
    return _repeating_fraction(sign, whole, fixed, period)


def _ellipsis(m: re.Match[str]) -> str:
    sign, whole, digits = m.group(1), m.group(2), m.group(3)
    for p in range(1, 7):
        if len(digits) >= 2 * p and digits[-p:] == digits[-2 * p : -p]:
            fixed = digits[: len(digits) - 2 * p]
            # shortest start of the repetition
            while fixed and fixed[-1] == digits[len(fixed) + p - 1]:
                fixed = fixed[:-1]
            period = digits[len(fixed) : len(fixed) + p]
            return _repeating_fraction(sign, whole, fixed, period)
    if len(digits) == 1:
        return _repeating_fraction(sign, whole, "", digits)
    return f"{sign}{whole}.{digits}"  # a truncated decimal, not a repeating one


def repeating_decimals(text: str) -> str:
    r"""``0.\overline{3}`` / ``0.1\overline{6}`` / ``0.(3)`` / ``0.333...`` → exact fractions."""
    if "." not in text:
        return text
    text = _OVERLINE.sub(_overline, text)
    text = _PAREN_REPEAT.sub(lambda m: _repeating_fraction(*m.groups()), text)
    return _ELLIPSIS_DECIMAL.sub(_ellipsis, text)


_UNITS_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}  # fmt: skip
_SCALES = {"hundred": 100, "thousand": 1000, "million": 10**6, "billion": 10**9}
_FRACTION_WORDS = {"half": 2, "halves": 2, "third": 3, "thirds": 3, "quarter": 4,
                   "quarters": 4, "fourth": 4, "fourths": 4, "fifth": 5, "fifths": 5}  # fmt: skip


def words_to_number(text: str) -> str | None:
    """English number words ("twenty-five", "one hundred and five", "one half") → numeral."""
    words = re.sub(r"[-,]", " ", text.strip().lower()).split()
    if not words or len(words) > 12:
        return None
    negative = words[0] in ("minus", "negative")
    if negative:
        words = words[1:]
    if not words:
        return None
    if len(words) in (1, 2) and words[-1] in _FRACTION_WORDS:
        num = 1 if len(words) == 1 or words[0] in ("a", "one") else _UNITS_WORDS.get(words[0])
        if num is None:
            return None
        value = Fraction(num, _FRACTION_WORDS[words[-1]])
        return ("-" if negative else "") + f"\\frac{{{value.numerator}}}{{{value.denominator}}}"
    total, current, seen = 0, 0, False
    for w in words:
        if w == "and":
            continue
        if w in _UNITS_WORDS:
            current += _UNITS_WORDS[w]
        elif w == "hundred":
            current = max(current, 1) * 100
        elif w in _SCALES:
            total += max(current, 1) * _SCALES[w]
            current = 0
        else:
            return None
        seen = True
    if not seen:
        return None
    value = total + current
    return str(-value if negative else value)


# ---------------------------------------------------------------------------------------
# units, degrees, percent, currency

_DEGREES = re.compile(
    r"\^\s*\{?\s*\\circ\s*\}?|\\degree(?![A-Za-z])|\\textdegree(?![A-Za-z])|"
    r"(?<=[\d}\s])\s*degrees?(?![A-Za-z])"
)
_TRIG = re.compile(r"\\(?:sin|cos|tan|sec|csc|cot)(?![A-Za-z])")
_DEGREE_VALUE = re.compile(r"(\d+(?:\.\d+)?)\s*(?:\^\s*\{?\s*\\circ\s*\}?|\\degree(?![A-Za-z])|°)")


def trig_degrees_to_radians(text: str) -> str:
    r"""``\sin(90^\circ - x)`` → ``\sin((\frac{90\pi}{180}) - x)``: degrees in a trig expression.

    Degrees are otherwise dropped (30° is 30, never π/6), which makes ``\sin 30^\circ``
    the sine of 30 radians; :func:`normalize` with ``trig_degrees=True`` converts the
    angles of an expression that applies a trigonometric function instead (the verifier
    tries that reading second).
    """
    if not _TRIG.search(text):
        return text
    return _DEGREE_VALUE.sub(lambda m: f"(\\frac{{{m.group(1)}\\pi}}{{180}})", text)


_PERCENT = re.compile(r"\\?%|(?<=[\d}\s])\s*(?:percent(?:age)?|pct)(?![A-Za-z])")
_CURRENCY = re.compile(
    r"\\\$|\$|€|£|¥|\\euro|(?<![A-Za-z])(?:USD|EUR|GBP|Rs\.?|INR)(?![A-Za-z])|"
    r"(?<=[\d}\s])\s*(?:dollars?|cents?|euros?|pounds?|rupees?)(?![A-Za-z])"
)
_HEDGE_WORDS = frozenset(
    {"or", "and", "not", "either", "maybe", "perhaps", "possibly", "probably", "else", "to",
     "nor", "approximately", "about", "roughly", "around", "between", "from", "through"}
)  # fmt: skip
_MATH_WORDS = frozenset(
    {"sin", "cos", "tan", "sec", "csc", "cot", "log", "ln", "exp", "pi", "sqrt", "frac", "mod",
     "gcd", "lcm", "max", "min", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "det",
     "infty", "inf", "lim", "cdot", "times", "circ", "pmod", "bmod", "deg", "dim", "ker"}
)  # fmt: skip
_SINGLE_LETTER_UNITS = frozenset("mgsLKNJWV")
_VALUE_END = re.compile(r"(?:[\d})]|\\pi)\s*$")
r"""What a value with a unit after it ends with: a digit, a group, a bracket or ``\pi``."""
_UNIT_WORD = r"[A-Za-z]+\.?(?:\s*\^\s*\{?\s*-?\d\s*\}?)?"
_UNIT_JOIN = r"(?:\s*(?:/|\\cdot)\s*|\s+(?:per\s+)?)"
_TRAILING_UNITS = re.compile(
    r"(?<=[\d}\s)])\s*(" + _UNIT_WORD + r"(?:" + _UNIT_JOIN + _UNIT_WORD + r"){0,3})\s*$"
)
_ATTACHED_UNITS = frozenset(
    {"cm", "mm", "km", "m", "kg", "g", "mg", "s", "ms", "h", "hr", "hrs", "min", "ft", "yd",
     "mi", "mph", "kph", "kmh", "lb", "lbs", "oz", "L", "mL", "ml", "cc", "sec", "cm^2",
     "m^2", "km^2", "cm^3", "m^3"}
)  # fmt: skip

_SHORT_UNITS = frozenset(
    {"cm", "mm", "km", "dm", "nm", "kg", "mg", "lb", "lbs", "oz", "ft", "yd", "mi", "sq", "cu",
     "ms", "ns", "min", "hr", "hrs", "sec", "day", "yr", "yrs", "h", "ml", "cc", "pa", "kpa",
     "mpa", "hpa", "hz", "khz", "mhz", "ghz", "ev", "kev", "mev", "kj", "cal", "mph", "kph",
     "kmh", "kn", "rad", "deg", "mol", "atm", "bar", "yen", "usd", "pts", "pt", "cup", "gal",
     "qt", "ton", "per", "km2", "m2", "cm2", "in", "yds", "kw", "db"}
)  # fmt: skip
"""Unit words of up to three letters; any other short word after a number is a variable."""


def strip_units(text: str, letter_units: bool = False) -> str:
    """Drop trailing unit words after a number (``5 cm``, ``12 km/h``, ``3 square units``)."""
    m = _TRAILING_UNITS.search(text)
    if not m:
        return text
    head = text[: m.start()].rstrip()
    if not head or not _VALUE_END.search(head):
        return text
    words = re.findall(r"[A-Za-z]+", m.group(1))
    if any(w.lower() in _HEDGE_WORDS or w.lower() in _MATH_WORDS for w in words):
        return text
    if head.endswith(")") and not re.search(r"\d", head):
        return text
    if len(words) > 1 or len(words[0]) > 1:
        short = [w for w in words if len(w) <= 3]
        if any(w.lower() not in _SHORT_UNITS and w not in _SINGLE_LETTER_UNITS for w in short):
            return text  # "2 ab", "6 xy": a product of variables, not a unit
    unit_text = m.group(1).replace(" ", "")
    attached = m.start(1) == len(head) and re.search(r"\d$", head)
    if attached and unit_text not in _ATTACHED_UNITS and not (letter_units and len(words) == 1):
        return text  # "2x", "3ab": a product, not a unit
    if len(words) == 1 and len(words[0]) == 1 and not letter_units:
        # "2m", "5 s": a variable as often as a unit (callers allow it for numeric references)
        return text
    if len(words) == 1 and len(words[0]) == 1 and words[0] not in _SINGLE_LETTER_UNITS:
        return text
    return head


_TEXT_UNIT = re.compile(
    r"(?<=[\d}\s)])\s*\\(?:text|textrm|textnormal|mathrm|mbox|rm)\s*"
    r"\{\s*([A-Za-z][A-Za-z/. ]{0,30})\}(?:\s*\^\s*\{?\s*-?\d\s*\}?)?\s*$"
)


def strip_text_units(text: str) -> str:
    r"""Drop a trailing ``\text{ cm}^2`` / ``\mathrm{m}`` unit after a number (before unwrap)."""
    for _ in range(3):
        m = _TEXT_UNIT.search(text)
        if not m:
            break
        words = re.findall(r"[A-Za-z]+", m.group(1))
        if any(w.lower() in _HEDGE_WORDS or w.lower() in _MATH_WORDS for w in words):
            break
        head = text[: m.start()].rstrip()
        if not _VALUE_END.search(head):
            break
        text = head
    return text


# ---------------------------------------------------------------------------------------
# the whole clean-up


@dataclass(frozen=True)
class Normalized:
    """An answer rewritten for math-verify, with what the rewrite noticed."""

    text: str
    percent: bool = False
    malformed: str | None = None
    """Why the answer cannot be read safely (unbalanced ``\\left``/``\\right``, struck-out
    text), or ``None``."""


_TRAILING_JUNK = re.compile(r"(?:\s|\\[.,;!:\s]|\\\\|\\$|[.,;:?。])+$")
_LEADING_JUNK = re.compile(r"^(?:\s|[:=]|\\[,;!: ])+")
_MATH_DELIMS = (("$$", "$$"), ("\\[", "\\]"), ("\\(", "\\)"), ("$", "$"))
_EMPTY_SET = re.compile(
    r"^(?:\\emptyset|\\varnothing|\\\{\s*\\\}|\{\s*\}|\\o|none|no\s+solutions?|"
    r"no\s+real\s+solutions?|there\s+(?:is|are)\s+no\s+solutions?|empty\s+set)$",
    re.IGNORECASE,
)
_ALL_REALS = re.compile(
    r"^(?:[A-Za-z]\s*\\in\s*)?(?:\\mathbb\s*\{?R\}?|\\R|ℝ|\\text\{R\}|all\s+real\s+numbers|"
    r"all\s+reals|every\s+real\s+number|the\s+set\s+of\s+(?:all\s+)?real\s+numbers|"
    r"\(\s*-\s*\\infty\s*,\s*\+?\s*\\infty\s*\))$",
    re.IGNORECASE,
)
_COLUMN_VECTOR = re.compile(r"^\\begin\{([pbBvV]?matrix)\}(.*)\\end\{\1\}$", re.DOTALL)
_MIXED_NUMBER = re.compile(r"^(-?)(\d+)\s+(\d+)/(\d+)$")


def column_vector_to_tuple(text: str) -> str:
    r"""``\begin{pmatrix} 1 \\ 2 \end{pmatrix}`` → ``(1, 2)``: a column vector is its components.

    Vectors are asked for as columns and answered as tuples as often; a matrix with more
    than one column (or a single row) stays a matrix.
    """
    bare = text.strip()
    if bare.startswith("(") and bare.endswith(")") and bare[1:].lstrip().startswith("\\begin"):
        bare = bare[1:-1].strip()  # "(\begin{pmatrix}…\end{pmatrix})"
    m = _COLUMN_VECTOR.match(bare)
    if not m or "&" in m.group(2):
        return text
    rows = [r.strip() for r in m.group(2).split("\\\\")]
    rows = [r for r in rows if r]
    if len(rows) < 2:
        return text
    return "(" + ", ".join(rows) + ")"


_VAR_IN = re.compile(r"^\s*[A-Za-z](?:_\{?\w+\}?)?\s*\\in\s*")


def _keep_row_breaks(m: re.Match[str]) -> str:
    r"""Replacement that keeps ``\\`` (a row break) and turns a spacing command into a space."""
    return m.group(0) if m.group(0) == "\\\\" else " "


def _strip_delimiters(text: str) -> str:
    text = text.strip()
    for _ in range(4):
        changed = False
        for open_, close in _MATH_DELIMS:
            if (
                len(text) >= len(open_) + len(close)
                and text.startswith(open_)
                and text.endswith(close)
                and open_ not in text[len(open_) : len(text) - len(close)]
            ):
                text = text[len(open_) : len(text) - len(close)].strip()
                changed = True
        if not changed:
            break
    return text


def _left_right_balanced(text: str) -> bool:
    lefts = len(re.findall(r"\\left(?![A-Za-z])", text))
    rights = len(re.findall(r"\\right(?![A-Za-z])", text))
    return lefts == rights


def normalize(
    text: str, comma_thousands: bool = True, letter_units: bool = False, trig_degrees: bool = False
) -> Normalized:
    """Rewrite an answer into the spelling math-verify reads as intended (see module doc).

    With ``comma_thousands=False`` a plain comma never joins digit groups ("100,200" stays
    a list of two numbers). With ``letter_units=True`` a trailing one-letter unit
    (``5 m``, ``2s``) is dropped too (callers do so only against a numeric reference).
    With ``trig_degrees=True`` angles in degrees inside a trigonometric expression become
    radians (:func:`trig_degrees_to_radians`) instead of being dropped.
    """
    if not text:
        return Normalized("")
    text = _UNICODE_RE.sub(lambda m: _UNICODE[m.group(0)], text)
    text = text.replace("\r", " ").replace("\n", " ").replace("\t", " ")
    text = _strip_delimiters(text)
    malformed = None
    if not _left_right_balanced(text):
        malformed = "unbalanced \\left/\\right"
    if _STRUCK.search(text):
        malformed = "struck-out text in the answer"
    text = _DOUBLED_BACKSLASH.sub(r"\\", text)
    text = _FRAC_VARIANTS.sub(r"\\frac", text)
    text = _LEFT_RIGHT_DOT.sub("", text)
    text = _LEFT_RIGHT.sub("", text)
    text = strip_text_units(text)
    text = unwrap_commands(text)
    text = flatten_subscripts(text)
    text = text.replace("\\lor", " or ").replace("\\vee", " or ")
    text = re.sub(r"\\(?:dots[bcmo]?|ldots|cdots|mathellipsis)(?![A-Za-z])|…", r"\\ldots ", text)
    if trig_degrees:
        text = trig_degrees_to_radians(text)
    text = _DEGREES.sub(" ", text)
    text = _CURRENCY.sub(" ", text)
    text = strip_thousands(text, comma_thousands)
    text = scientific_to_decimal(text)
    text = repeating_decimals(text)
    percent = False
    if _PERCENT.search(text):
        text = _PERCENT.sub("\\%", text)
        percent = True
    text = _STYLE_NOARG.sub(_keep_row_breaks, text)
    text = _SPACING.sub(_keep_row_breaks, text)
    text = re.sub(r"\s+", " ", text).strip()
    text = _TRAILING_JUNK.sub("", text)
    text = _LEADING_JUNK.sub("", text)
    text = _strip_delimiters(text)
    text = _VAR_IN.sub("", text)
    text = strip_units(text, letter_units)
    text = _TRAILING_JUNK.sub("", text).strip()
    if _EMPTY_SET.match(text):
        text = "\\emptyset"
    elif _ALL_REALS.match(text):
        text = "(-\\infty, \\infty)"
    else:
        number = words_to_number(text) if re.fullmatch(r"[A-Za-z \-,]+", text) else None
        if number is not None:
            text = number
    text = column_vector_to_tuple(text)
    mixed = _MIXED_NUMBER.match(text)
    if mixed:  # "7 3/4" is seven and three quarters
        sign, whole, num, den = mixed.groups()
        text = f"{sign}({whole} + \\frac{{{num}}}{{{den}}})"
    text = re.sub(r"^(-?\d+)\.0+$", r"\1", text)
    text = re.sub(r"^(-?)\.(\d)", r"\g<1>0.\2", text)
    return Normalized(text, percent, malformed)


# ---------------------------------------------------------------------------------------
# shape: scalar, ordered sequence or set


@dataclass(frozen=True)
class Shape:
    """The parts of an answer and whether their order matters."""

    items: tuple[str, ...]
    kind: str
    """``scalar``, ``seq`` (ordered: bare list, tuple, vector), ``set`` (``\\{…\\}``, "or",
    ``\\pm``), ``interval`` (bounds with mixed brackets or infinities), ``union``."""
    open: str = ""
    close: str = ""


_OPENERS = {"(": ")", "[": "]", "{": "}"}
_CLOSERS = {")", "]", "}"}


def split_top_level(text: str, separators: tuple[str, ...] = (",", ";")) -> list[str]:
    r"""Split on separators outside brackets, braces and ``\{…\}`` (linear)."""
    parts: list[str] = []
    depth = 0
    start = 0
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if depth == 0 and ch == "\\" and any(text.startswith(sep, i) for sep in separators):
            sep = next(sep for sep in separators if text.startswith(sep, i))
            parts.append(text[start:i])
            start = i + len(sep)
            i = start
            continue
        if ch == "\\":
            nxt = text[i + 1 : i + 2]
            if nxt == "{":
                depth += 1
            elif nxt == "}":
                depth = max(depth - 1, 0)
            elif text.startswith("langle", i + 1):
                depth += 1
            elif text.startswith("rangle", i + 1):
                depth = max(depth - 1, 0)
            i += 2
            continue
        if ch in _OPENERS:
            depth += 1
        elif ch in _CLOSERS:
            depth = max(depth - 1, 0)
        elif depth == 0:
            for sep in separators:
                if text.startswith(sep, i):
                    parts.append(text[start:i])
                    start = i + len(sep)
                    i = start - 1
                    break
        i += 1
    parts.append(text[start:])
    return [p.strip() for p in parts]


_WORD_SEPS = re.compile(
    # never starts inside a run of blanks (blank before and after): a match from there
    # would also match from where the run starts, which comes first; linear, not cubic,
    # on long runs of blanks, with the same splits
    r"(?:(?<!\s)|(?=\S))(?:\s+(?:or|and|and/or)\s+|\s*(?:,\s*)?(?:or|and)\s+(?=[-\d\\(\[{a-zA-Z]))"
)


def _outer(text: str) -> tuple[str, str, str] | None:
    """(open, inner, close) when one bracket pair encloses all of `text`."""
    pairs = (("\\{", "\\}"), ("\\langle", "\\rangle"), ("(", ")"), ("[", "]"), ("(", "]"),
             ("[", ")"), ("{", "}"))  # fmt: skip
    for open_, close in pairs:
        if text.startswith(open_) and text.endswith(close) and len(text) > len(open_ + close):
            inner = text[len(open_) : len(text) - len(close)]
            if _balanced_prefixes(inner):
                return open_, inner, close
    return None


def _balanced_prefixes(inner: str) -> bool:
    """True when no prefix of `inner` closes more brackets than it opened."""
    depth = 0
    i = 0
    while i < len(inner):
        ch = inner[i]
        if ch == "\\":
            i += 2
            continue
        if ch in _OPENERS:
            depth += 1
        elif ch in _CLOSERS:
            depth -= 1
            if depth < 0:
                return False
        i += 1
    return depth == 0


def split_answer(text: str) -> Shape:
    """The parts of a normalised answer (see :class:`Shape`)."""
    text = text.strip()
    if not text:
        return Shape((), "scalar")
    if "\\cup" in text and len(split_top_level(text, ("\\cup",))) > 1:
        return Shape((text,), "union")
    outer = _outer(text)
    if outer is not None:
        open_, inner, close = outer
        parts = split_top_level(inner)
        if open_ == "\\{":
            return Shape(tuple(p for p in parts if p), "set", open_, close)
        if open_ == "{":
            inner_shape = split_answer(inner)
            if inner_shape.kind == "seq" and not inner_shape.open:
                # "{1, 2}" written without backslashes: a set, as in plain-text references
                return Shape(inner_shape.items, "set", "\\{", "\\}")
            return inner_shape
        if len(parts) >= 2:
            if len(parts) == 2 and (open_ + close in ("(]", "[)") or "\\infty" in inner):
                return Shape(tuple(parts), "interval", open_, close)
            if open_ == "\\langle":
                open_, close = "(", ")"
            return Shape(tuple(parts), "seq", open_, close)
        if open_ in ("(", "[") and not re.search(r"[-+*/^=<>]", inner.strip().lstrip("-")):
            return Shape((inner.strip(),), "scalar")
    words = [p for p in _WORD_SEPS.split(text) if p and p.strip()]
    if len(words) >= 2 and all(p.strip() not in ("or", "and") for p in words):
        parts = [q for p in words for q in split_top_level(p) if q]
        return Shape(tuple(p.strip() for p in parts), "set")
    parts = [p for p in split_top_level(text) if p]
    if len(parts) >= 2:
        return Shape(tuple(parts), "seq")
    return Shape((text,), "scalar")


# ---------------------------------------------------------------------------------------
# inequalities ↔ intervals

_REL = r"(<=|>=|\\leq?|\\geq?|\\le|\\ge|<|>|\\lt|\\gt)"
_REL_NORM = {"<=": "le", ">=": "ge", "\\le": "le", "\\leq": "le", "\\ge": "ge", "\\geq": "ge",
             "<": "lt", ">": "gt", "\\lt": "lt", "\\gt": "gt"}  # fmt: skip
_VAR = r"([A-Za-z](?:_\{?\w+\}?)?|\\[a-z]+)"
_ONE_SIDED_VAR_FIRST = re.compile(r"^\s*" + _VAR + r"\s*" + _REL + r"\s*(.+?)\s*$")
_ONE_SIDED_VAR_LAST = re.compile(r"^\s*(.+?)\s*" + _REL + r"\s*" + _VAR + r"\s*$")
_TWO_SIDED = re.compile(r"^\s*(.+?)\s*" + _REL + r"\s*" + _VAR + r"\s*" + _REL + r"\s*(.+?)\s*$")


_NOT_EQUAL = re.compile(r"^\s*" + _VAR + r"\s*(?:\\neq?|!=)\s*(-?[\w.\\{}]+)\s*$")


def _flip(rel: str) -> str:
    return {"lt": "gt", "gt": "lt", "le": "ge", "ge": "le"}[rel]


def _half_line(rel: str, bound: str) -> tuple[str, str, str, str]:
    """`x REL bound` → (open, low, high, close)."""
    if rel == "lt":
        return "(", "-\\infty", bound, ")"
    if rel == "le":
        return "(", "-\\infty", bound, "]"
    if rel == "gt":
        return "(", bound, "\\infty", ")"
    return "[", bound, "\\infty", ")"


def _bound_ok(bound: str) -> bool:
    return bool(bound) and not re.search(r"[<>=]|\\[lg]eq?(?![A-Za-z])", bound)


def _one_inequality(text: str) -> tuple[str, str, tuple[str, str, str, str]] | None:
    """(variable, kind, interval) for one simple inequality in one variable."""
    m = _TWO_SIDED.match(text)
    if m:
        low, r1, var, r2, high = m.groups()
        k1, k2 = _REL_NORM.get(r1), _REL_NORM.get(r2)
        if k1 and k2 and _bound_ok(low) and _bound_ok(high):
            if k1 in ("gt", "ge") and k2 in ("gt", "ge"):
                low, high, k1, k2 = high, low, _flip(k2), _flip(k1)
            if k1 in ("lt", "le") and k2 in ("lt", "le"):
                return (
                    var,
                    "two",
                    ("(" if k1 == "lt" else "[", low, high, ")" if k2 == "lt" else "]"),
                )
        return None
    m = _ONE_SIDED_VAR_FIRST.match(text)
    if m and _REL_NORM.get(m.group(2)) and _bound_ok(m.group(3)):
        return m.group(1), "one", _half_line(_REL_NORM[m.group(2)], m.group(3))
    m = _ONE_SIDED_VAR_LAST.match(text)
    if m and _REL_NORM.get(m.group(2)) and _bound_ok(m.group(1)):
        return m.group(3), "one", _half_line(_flip(_REL_NORM[m.group(2)]), m.group(1))
    return None


_ABS_INEQUALITY = re.compile(
    r"^\s*\|\s*"
    + _VAR
    + r"\s*(?:([+-])\s*(\d+(?:\.\d+)?)\s*)?\|\s*"
    + _REL
    + r"\s*(\d+(?:\.\d+)?)\s*$"
)


def _abs_inequality(text: str) -> str | None:
    r"""``|x| \le 1`` → ``[-1, 1]``; ``|x - 2| > 3`` → ``(-\infty, -1) \cup (5, \infty)``."""
    m = _ABS_INEQUALITY.match(text)
    if not m:
        return None
    from fractions import Fraction

    _var, sign, shift, rel, bound = m.groups()
    center = Fraction(shift or "0") * (1 if sign == "+" else -1 if sign else 0)
    center = -center  # |x + c| is the distance from -c
    radius = Fraction(bound)
    low, high = center - radius, center + radius
    kind = _REL_NORM.get(rel)

    def num(v: Fraction) -> str:
        return (
            str(v.numerator)
            if v.denominator == 1
            else f"\\frac{{{v.numerator}}}{{{v.denominator}}}"
        )

    if kind == "lt":
        return f"({num(low)}, {num(high)})"
    if kind == "le":
        return f"[{num(low)}, {num(high)}]"
    if kind == "gt":
        return f"(-\\infty, {num(low)}) \\cup ({num(high)}, \\infty)"
    if kind == "ge":
        return f"(-\\infty, {num(low)}] \\cup [{num(high)}, \\infty)"
    return None


def inequality_to_interval(text: str) -> str | None:
    r"""``x \ge 2`` → ``[2,\infty)``; ``x<-1 or x>3`` → a union; ``None`` if not one."""
    absolute = _abs_inequality(text)
    if absolute is not None:
        return absolute
    ne = _NOT_EQUAL.match(text)
    if ne:
        bound = ne.group(2)
        return f"(-\\infty, {bound}) \\cup ({bound}, \\infty)"
    pieces = [p for p in re.split(r"\s+(?:or|\\text\{\s*or\s*\})\s+|\\cup|\\lor|\\vee", text)
              if p.strip()]  # fmt: skip
    if not pieces or len(pieces) > 8:
        return None
    intervals: list[str] = []
    variables = set()
    for piece in pieces:
        ands = [a for a in re.split(r"\s+and\s+|\\land|\\wedge|\\cap|,", piece) if a.strip()]
        if len(ands) == 2:
            first, second = _one_inequality(ands[0]), _one_inequality(ands[1])
            if not first or not second or first[0] != second[0]:
                return None
            (o1, l1, h1, c1), (o2, l2, h2, c2) = first[2], second[2]
            low = (o2, l2) if l1 == "-\\infty" else (o1, l1)
            high = (h1, c1) if h2 == "\\infty" else (h2, c2)
            variables.add(first[0])
            intervals.append(f"{low[0]}{low[1]}, {high[0]}{high[1]}")
            continue
        if len(ands) != 1:
            return None
        one = _one_inequality(ands[0])
        if one is None:
            return None
        variables.add(one[0])
        o, low_, high_, c = one[2]
        intervals.append(f"{o}{low_}, {high_}{c}")
    if len(variables) != 1:
        return None
    return " \\cup ".join(intervals)


def looks_like_inequality(text: str) -> bool:
    """True when `text` has a strict or non-strict inequality sign."""
    return bool(
        re.search(r"<|>|!=|\\[lg]eq?(?![A-Za-z])|\\[lg]t(?![A-Za-z])|\\neq?(?![A-Za-z])", text)
    )


# ---------------------------------------------------------------------------------------
# equations: which side names the answer

_GREEK = (
    "alpha|beta|gamma|delta|epsilon|varepsilon|zeta|eta|theta|vartheta|iota|kappa|lambda|mu|"
    "nu|xi|rho|sigma|tau|upsilon|phi|varphi|chi|psi|omega|Gamma|Delta|Theta|Lambda|Xi|Sigma|"
    "Upsilon|Phi|Psi|Omega|hbar|ell"
)
_NAME = r"(?:[A-Za-z]|\\(?:" + _GREEK + r")(?![A-Za-z]))"
_SUB = (
    r"(?:_\s*\{(?:[^{}]|\{[^{}]*\})*\}|_\s*[A-Za-z0-9]|\^\s*\{\s*-1\s*\}"
    r"|\^\s*\{\s*\\prime\s*\}|'|\\prime)"
)
_ARGS = r"(?:\s*\(\s*" + _NAME + r"(?:\s*,\s*" + _NAME + r")*\s*\))"
_LABEL = re.compile(r"^\s*" + _NAME + r"(?:\s*" + _SUB + r")*(?:\s+" + _NAME + r"(?:\s*" + _SUB
                    + r")*)?" + _ARGS + r"?\s*$")  # fmt: skip
_FUNCTION_LABEL = re.compile(r"^(.*?)" + _ARGS + r"\s*$")


def equation_sides(text: str) -> tuple[str, str] | None:
    """(left, right) of an equation with one top-level ``=`` (``None`` otherwise)."""
    if "=" not in text or looks_like_inequality(text):
        return None
    parts = split_top_level(text, ("=",))
    if len(parts) != 2 or not parts[0] or not parts[1]:
        return None
    return parts[0], parts[1]


def is_label(side: str) -> bool:
    r"""True when an equation's side only names a quantity, so the other side is the answer.

    Names: ``x``, ``a_n``, ``I_{\max}``, ``f(x)``, ``h^{-1}(x)``, ``\Delta p``.
    """
    return bool(_LABEL.match(side))


def same_quantity(left: str, right: str) -> bool:
    """True when two equation sides name the same quantity.

    They do when equal up to spacing, or when one is a function of its arguments
    (``f(x)``) and the other that function's value (``y``, or another name applied to the
    same arguments). Two different plain variables never do.
    """
    a, b = re.sub(r"\s+", "", left), re.sub(r"\s+", "", right)
    if a == b:
        return True
    if not (is_label(a) and is_label(b)):
        return False
    fa, fb = _FUNCTION_LABEL.match(a), _FUNCTION_LABEL.match(b)
    if fa and fb:
        return a[len(fa.group(1)) :] == b[len(fb.group(1)) :]
    return bool(fa and b == "y" or fb and a == "y")


# ---------------------------------------------------------------------------------------
# time of day

_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?\s*(?:([ap])\.?\s*m\.?)?$", re.IGNORECASE)


def time_of_day(text: str) -> tuple[int, bool] | None:
    """(seconds after midnight, explicit) for ``20:34``, ``8:34:00``, ``08:34 P.M.``.

    ``explicit`` says the text is unmistakably a time (it has seconds or a.m./p.m.);
    a bare ``20:34`` may as well be a ratio. ``None`` when it is no time.
    """
    m = _TIME.match(unwrap_commands(text).replace("$", " ").strip())
    if not m:
        return None
    hours, minutes, seconds, half = m.groups()
    h, mi, sec = int(hours), int(minutes), int(seconds or 0)
    if mi >= 60 or sec >= 60 or h > 24 or (half and not 1 <= h <= 12):
        return None
    if half:
        h = h % 12 + (12 if half.lower() == "p" else 0)
    return (h * 3600 + mi * 60 + sec) % 86400, bool(seconds or half)


# ---------------------------------------------------------------------------------------
# percent policy


def percent_variants(text: str) -> list[str]:
    r"""The values a percentage may stand for: ``p\%`` → ``p`` and ``p/100``.

    Policy (as most peer graders): a percentage matches the bare number written with it
    (``50\%`` ~ ``50``) and its value as a fraction (``50\%`` ~ ``0.5`` ~ ``\frac12``).
    A bare number never matches a hundred times itself (``0.75`` is not ``75``) unless
    one side carries a percent sign.
    """
    bare = text.replace("\\%", "").strip()
    if not bare:
        return [text]
    if re.fullmatch(r"-?\d+(?:\.\d+)?", bare):
        from decimal import Decimal

        scaled = format((Decimal(bare) / 100).normalize(), "f")
        return [bare, scaled]
    return [bare, f"\\frac{{{bare}}}{{100}}"]


# ---------------------------------------------------------------------------------------
# question wording

_ANY_ORDER = re.compile(
    r"in\s+any\s+order|order\s+(?:does\s+not|doesn't)\s+matter|"
    r"(?<!for )(?<!over )(?:all|every)\s+(?:of\s+the\s+)?"
    r"(?:possible\s+|real\s+|integer\s+|positive\s+|"
    r"negative\s+|complex\s+|distinct\s+)*(?:solutions?|values?|roots?|zeros?|zeroes|numbers|"
    r"integers|answers|x|real\s+numbers)|"
    r"find\s+all|enter\s+all|list\s+all",
    re.IGNORECASE,
)
_ALL_TUPLES = re.compile(
    r"all\s+(?:the\s+|possible\s+|such\s+)*ordered\s+(?:pairs|triples|tuples|quadruples)",
    re.IGNORECASE,
)
_ORDERED = re.compile(r"ordered\s+(?:pair|triple|tuple|list|quadruple|n-tuple)|"
                      r"in\s+(?:increasing|decreasing|ascending|descending)\s+order",
                      re.IGNORECASE)  # fmt: skip


def question_allows_any_order(question: str | None) -> bool:
    """True when the question asks for a collection whose order does not matter."""
    if not question:
        return False
    if _ALL_TUPLES.search(question):
        return True  # "find all ordered pairs": each pair is ordered, the list of them is not
    if _ORDERED.search(question):
        return False
    return bool(_ANY_ORDER.search(question))
