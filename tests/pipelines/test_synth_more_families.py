"""Family-specific checks of the calendar, cipher, sequence, graph and grid families."""

import itertools
import json
import re
from datetime import date, timedelta
from fractions import Fraction

import pytest
from tracemill.pipelines.synth import generate_problems, get_task
from tracemill.pipelines.synth.families.cipher import shift_text
from tracemill.pipelines.synth.families.graph_coloring import colourable
from tracemill.pipelines.synth.families.lights_out import apply_presses
from tracemill.pipelines.synth.families.number_sequence import ORDER, RULES, predictions
from tracemill.pipelines.synth.families.shortest_path import WALL
from tracemill.pipelines.synth.families.word_ladder import distances
from tracemill.pipelines.verify import get_verifier


def rows(family, level, count=4, seed=5):
    return generate_problems(family, count, level=level, seed=seed).to_pylist()


def score(family, spec, answer):
    result = get_task(family).check(spec, answer)
    return result if isinstance(result, float) else result.score


# -- lights_out ------------------------------------------------------------------------


def test_lights_out_hand_made_board():
    spec = {"size": 3, "state": [[0, 1, 0], [1, 1, 1], [0, 1, 0]]}
    assert score("lights_out", spec, "0 0 0\n0 1 0\n0 0 0") == 1.0
    assert score("lights_out", spec, "...\n.#.\n...") == 1.0
    assert score("lights_out", spec, "1 0 0\n0 0 0\n0 0 0") == 0.0
    with pytest.raises(ValueError):
        score("lights_out", spec, "0 0 0\n0 2 0\n0 0 0")


def test_lights_out_accepts_another_press_set_on_singular_boards():
    # on 4x4 some non-empty press sets change nothing; adding one gives another solution
    dark = [[0] * 4 for _ in range(4)]
    quiet = next(
        p
        for bits in itertools.product((False, True), repeat=16)
        if any(bits)
        for p in [[list(bits[r * 4 : r * 4 + 4]) for r in range(4)]]
        if apply_presses(dark, p) == dark
    )
    verifier = get_verifier("lights_out")
    for row in rows("lights_out", 4):
        spec = json.loads(row["verifier_spec"])
        assert spec["size"] == 4 and any(map(any, spec["state"]))
        ref = [[v == "1" for v in line.split()] for line in row["answer"].splitlines()]
        other = [
            [a != b for a, b in zip(x, y, strict=True)] for x, y in zip(ref, quiet, strict=True)
        ]
        text = "\n".join(" ".join("1" if v else "0" for v in line) for line in other)
        assert text != row["answer"]
        assert verifier(row, f"<answer>{text}</answer>").passed


# -- date_arithmetic -------------------------------------------------------------------


def test_date_arithmetic_hand_made_specs():
    after = {"kind": "after", "date": "2024-03-01"}
    assert score("date_arithmetic", after, "2024-03-01") == 1.0
    assert score("date_arithmetic", after, " 2024/3/1. ") == 1.0
    assert score("date_arithmetic", after, "2024-02-29") == 0.0
    with pytest.raises(ValueError):
        score("date_arithmetic", after, "2024-02-30")
    between = {"kind": "between", "days": 366}
    assert score("date_arithmetic", between, "366 days") == 1.0
    assert score("date_arithmetic", between, "365") == 0.0
    weekday = {"kind": "weekday", "weekday": "thursday"}
    assert score("date_arithmetic", weekday, "Thursday") == 1.0
    assert score("date_arithmetic", weekday, "thu") == 1.0
    assert score("date_arithmetic", weekday, "Friday") == 0.0


def test_date_arithmetic_answers_follow_the_question():
    for row in rows("date_arithmetic", 10, count=12):
        question, answer = row["question"], row["answer"]
        if "Start from" not in question:
            found = re.findall(r"\d{4}-\d\d-\d\d", question)[1:3]
            first, second = (date.fromisoformat(d) for d in found)
            assert int(answer) == (second - first).days
            continue
        end = date.fromisoformat(re.search(r"Start from (\S+);", question)[1])
        for verb, days in re.findall(r"(add|subtract) (\d+) day", question):
            end += timedelta(days=int(days) * (1 if verb == "add" else -1))
        assert answer in (end.isoformat(), end.strftime("%A"))


# -- cipher ----------------------------------------------------------------------------


def test_cipher_hand_made_caesar_and_vigenere():
    assert shift_text("hello world", [3]) == "khoor zruog"
    assert shift_text("attack at dawn", [11, 4, 12, 14, 13]) == "lxfopv ef rnhr"  # key "lemon"
    spec = {"plaintext": ["hello", "world"]}
    assert score("cipher", spec, "Hello, World!") == 1.0
    assert score("cipher", spec, "hello words") == 0.0
    with pytest.raises(ValueError, match="lengths"):  # not the ciphertext's shape
        score("cipher", spec, "hello word")


def test_cipher_decoding_the_ciphertext_gives_the_answer():
    for level in (1, 10):
        for row in rows("cipher", level):
            q = row["question"]
            cipher = re.search(r"Ciphertext: (.+)", q)[1]
            key = re.search(r'keyword "([a-z]+)"', q)
            caesar = re.search(r"shifted (\d+)", q)
            shifts = [ord(ch) - 97 for ch in key[1]] if key else [int(caesar[1])]
            assert shift_text(cipher, [-s for s in shifts]) == row["answer"]


# -- number_sequence -------------------------------------------------------------------


def test_number_sequence_is_unique_among_the_listed_rules():
    for level in (1, 5, 10):
        for row in rows("number_sequence", level, count=10):
            line = next(x for x in row["question"].splitlines() if x.endswith("?"))
            terms = [Fraction(int(t)) for t in line.rstrip("?, ").split(", ")]
            listed = [name for name, text in RULES.items() if f"- {text}" in row["question"]]
            assert len(listed) == [2, 4, 6][(level - 1) // 4]
            assert predictions(terms, listed) == {Fraction(int(row["answer"]))}
            assert predictions(terms, ORDER) >= {Fraction(int(row["answer"]))}


def test_number_sequence_fits_and_parsing():
    ones = [Fraction(x) for x in (1, 1, 2, 3, 5, 8)]
    assert predictions(ones, ["fibonacci"]) == {13}
    assert predictions([Fraction(x) for x in (1, 4, 9, 16, 25)], ["quadratic"]) == {36}
    assert predictions([Fraction(x) for x in (1, 3, 7, 15, 31)], ["affine"]) == {63}
    assert predictions([Fraction(x) for x in (1, 10, 2, 20, 3, 30)], ["interleaved"]) == {4}
    assert score("number_sequence", {"next": -12}, " -12. ") == 1.0
    assert score("number_sequence", {"next": 1200}, "1,200") == 1.0
    with pytest.raises(ValueError):
        score("number_sequence", {"next": 12}, "12 13")


# -- binary_arithmetic -----------------------------------------------------------------


def test_binary_arithmetic_value_matches_an_independent_evaluation():
    for level in (1, 5, 10):
        for row in rows("binary_arithmetic", level):
            expr = row["question"].split("\n\n")[1]
            py = re.sub(r"(?<![<>] )\b[01]+\b", lambda m: str(int(m[0], 2)), expr)
            py = py.replace("AND", "&").replace("XOR", "^").replace("OR", "|")
            assert eval(py, {"__builtins__": {}}) == int(row["answer"], 2)  # noqa: S307


def test_binary_arithmetic_parsing():
    assert score("binary_arithmetic", {"value": 5}, "0b0101") == 1.0
    assert score("binary_arithmetic", {"value": 5}, "1 01") == 1.0
    assert score("binary_arithmetic", {"value": 5}, "100") == 0.0
    with pytest.raises(ValueError):
        score("binary_arithmetic", {"value": 5}, "5")


# -- graph_coloring --------------------------------------------------------------------


def test_graph_coloring_accepts_any_proper_colouring_and_needs_k_colours():
    verifier = get_verifier("graph_coloring")
    for level in (1, 5, 10):
        for row in rows("graph_coloring", level):
            spec = json.loads(row["verifier_spec"])
            names = spec["colours"]
            edges = [tuple(e) for e in spec["edges"]]
            assert colourable(spec["nodes"], edges, len(names))
            assert not colourable(spec["nodes"], edges, len(names) - 1)
            swap = dict(zip(names, names[1:] + names[:1], strict=True))
            other = ", ".join(swap[c] for c in row["answer"].split(", "))
            labelled = ", ".join(f"{i + 1}: {c}" for i, c in enumerate(other.split(", ")))
            assert verifier(row, f"<answer>{other}</answer>").passed
            assert verifier(row, f"<answer>{labelled}</answer>").passed


def test_graph_coloring_hand_made_triangle():
    spec = {"nodes": 3, "colours": ["red", "green", "blue"], "edges": [[0, 1], [1, 2], [0, 2]]}
    assert score("graph_coloring", spec, "blue, red, green") == 1.0
    assert score("graph_coloring", spec, "red, green, red") == 0.0
    with pytest.raises(ValueError):
        score("graph_coloring", spec, "red, green, pink")
    # labelled pairs are read by their labels, in any order
    assert score("graph_coloring", spec, "2: red, 1: green, 3: blue") == 1.0
    assert score("graph_coloring", spec, "Vertex 1 → red\nVertex 2 → red\nVertex 3 → blue") == 0.0
    with pytest.raises(ValueError, match="each of the vertices"):
        score("graph_coloring", spec, "1: red, 3: blue")


# -- shortest_path ---------------------------------------------------------------------


def _bellman_ford(grid):
    rows_, cols = len(grid), len(grid[0])
    inf = 10**9
    dist = [[inf] * cols for _ in range(rows_)]
    dist[0][0] = grid[0][0]
    for _ in range(rows_ * cols):
        for r in range(rows_):
            for c in range(cols):
                if grid[r][c] == WALL:
                    continue
                for a, b in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)):
                    if 0 <= a < rows_ and 0 <= b < cols and dist[a][b] + grid[r][c] < dist[r][c]:
                        dist[r][c] = dist[a][b] + grid[r][c]
    return dist[-1][-1]


def test_shortest_path_optimum_matches_bellman_ford():
    for level in (1, 5, 10):
        for row in rows("shortest_path", level):
            spec = json.loads(row["verifier_spec"])
            assert spec["cost"] == _bellman_ford(spec["grid"])


def test_shortest_path_hand_made_grid_accepts_every_cheapest_path():
    spec = {"grid": [[1, 1, 1], [1, WALL, 1], [1, 1, 1]], "cost": 5}
    assert score("shortest_path", spec, "(1,1) (1,2) (1,3) (2,3) (3,3)") == 1.0
    assert score("shortest_path", spec, "r1c1 r2c1 r3c1 r3c2 r3c3") == 1.0
    assert score("shortest_path", spec, "(1,1),(2,1),(2,2),(2,3),(3,3)") == 0.0  # wall
    assert score("shortest_path", spec, "(1,1),(1,2),(1,3),(2,3),(3,3),(3,2),(3,3)") == 0.0
    assert score("shortest_path", spec, "(1,1),(1,3),(3,3)") == 0.0  # jumps
    with pytest.raises(ValueError):
        score("shortest_path", spec, "(1,1),(1,4)")


# -- word_ladder -----------------------------------------------------------------------


def test_word_ladder_hand_made_spec_accepts_every_shortest_ladder():
    words = ["cold", "cord", "card", "ward", "warm", "word", "worm", "wore"]
    spec = {"start": "cold", "target": "warm", "steps": 4, "words": words}
    assert score("word_ladder", spec, "cold, cord, card, ward, warm") == 1.0
    assert score("word_ladder", spec, "COLD -> CORD -> WORD -> WORM -> WARM") == 1.0
    assert score("word_ladder", spec, "cold cord word ward warm") == 1.0
    assert score("word_ladder", spec, "cold, cord, wore, word, worm, warm") == 0.0  # 2 letters
    assert score("word_ladder", spec, "cold, cord, word, ward, card, ward, warm") == 0.0  # long
    assert score("word_ladder", spec, "cold, bold, bald, ward, warm") == 0.0  # not listed
    assert score("word_ladder", spec, "cold, warm") == 0.0


def test_word_ladder_steps_are_the_shortest_within_the_listed_words():
    for level in (1, 5, 10):
        for row in rows("word_ladder", level):
            spec = json.loads(row["verifier_spec"])
            assert distances(spec["start"], spec["words"])[spec["target"]] == spec["steps"]
            assert all(w in row["question"] for w in spec["words"])
            assert len(row["answer"].split(", ")) == spec["steps"] + 1
