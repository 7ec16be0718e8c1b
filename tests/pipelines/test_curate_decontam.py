import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tracemill.pipelines.curate import (
    Benchmark,
    DecontamConfig,
    contamination_report,
    contamination_rows,
    embedding_matches,
    ngram_matches,
)
from tracemill.stores.benchmarks import load_benchmarks, read_benchmark_config

from .curate_fakes import FakeEncoder

AIME = [
    "Find the number of ordered pairs of positive integers (m, n) such that m^2 n = 20^20.",
    "Let N be the greatest four-digit positive integer with the property that whenever one "
    "of its digits is changed to 1, the resulting number is divisible by 7.",
]
MATH = ["Compute the sum of all positive divisors of 360 that are perfect squares."]
GPQA = [
    "Which of the following molecules has C3h symmetry among triisopropyl borate, quinuclidine?"
]


def write_benchmarks(root: Path) -> Path:
    from datasets import Dataset

    (root / "aime.jsonl").write_text(
        "".join(json.dumps({"problem": q, "answer": "1"}) + "\n" for q in AIME)
    )
    pq.write_table(pa.table({"question": MATH}), root / "math.parquet")
    Dataset.from_dict({"Question": GPQA}).save_to_disk(str(root / "gpqa"))
    config = root / "benchmarks.yaml"
    config.write_text(
        "benchmarks:\n"
        "  aime: {path: aime.jsonl, field: problem}\n"
        "  math: math.parquet\n"
        "  gpqa: {path: gpqa}\n"
    )
    return config


def problems(questions: list[str]) -> pa.Table:
    return pa.table({"problem_id": [f"p{i}" for i in range(len(questions))], "question": questions})


def test_load_benchmarks_from_three_formats(tmp_path: Path) -> None:
    benches = load_benchmarks(write_benchmarks(tmp_path))
    assert [(b.name, list(b.questions)) for b in benches] == [
        ("aime", AIME),
        ("math", MATH),
        ("gpqa", GPQA),
    ]


def test_benchmark_config_errors(tmp_path: Path) -> None:
    bad = tmp_path / "b.yaml"
    bad.write_text("aime: {path: x.jsonl, colour: red}\n")
    with pytest.raises(ValueError, match="unknown key"):
        read_benchmark_config(bad)
    missing = tmp_path / "m.json"
    missing.write_text(json.dumps({"aime": "nope.jsonl"}))
    with pytest.raises(FileNotFoundError, match="nope.jsonl"):
        load_benchmarks(missing)
    (tmp_path / "f.jsonl").write_text('{"text": "x"}\n')
    wrong = tmp_path / "w.yaml"
    wrong.write_text("f: f.jsonl\n")
    with pytest.raises(ValueError, match="no question field"):
        load_benchmarks(wrong)


def test_ngram_finds_leak_with_small_edits(tmp_path: Path) -> None:
    benches = [Benchmark(b.name, b.questions) for b in load_benchmarks(write_benchmarks(tmp_path))]
    leaked = AIME[1].replace("greatest", "largest").replace("7.", "seven.")  # small edits
    t = problems(
        [
            leaked,
            "Prove that the square root of two is irrational, using the well ordering principle.",
            "compute the SUM of all positive divisors of 360 that are perfect squares!!",
            "Find the number of ordered pairs",  # shares words but no 8-gram
        ]
    )
    matches = ngram_matches(t, benches, DecontamConfig())
    found = {(r["problem_id"], r["benchmark"], r["item"]) for r in matches.to_pylist()}
    assert found == {("p0", "aime", 1), ("p2", "math", 0)}
    rows = contamination_rows(matches, config_id="cfg").to_pylist()
    assert {r["problem_id"]: r["contamination"] for r in rows} == {"p0": "aime", "p2": "math"}
    assert all(r["method"] == "decontam" and r["kept"] is False for r in rows)
    detail = json.loads(rows[0]["detail"])
    assert detail["matches"][0]["how"] == "ngram" and detail["matches"][0]["evidence"]
    report = {r.name: r for r in contamination_report(matches, benches)}
    assert report["aime"].matches == 1 and report["aime"].items == 2
    assert report["aime"].examples[0]["problem_id"] == "p0"
    assert report["gpqa"].matches == 0 and report["gpqa"].examples == []
    # stricter settings drop the edited leak
    strict = ngram_matches(t, benches, DecontamConfig(ngram=26))
    assert "p0" not in strict.column("problem_id").to_pylist()


def test_short_items_and_char_ngrams() -> None:
    bench = [Benchmark("tiny", ("What is 17 times 23?",))]
    t = problems(["Quick one: what is 17 times 23? Show work.", "Compute 17 times 24."])
    assert ngram_matches(t, bench).column("problem_id").to_pylist() == ["p0"]
    chars = ngram_matches(t, bench, DecontamConfig(ngram=12, unit="char"))
    assert chars.column("problem_id").to_pylist() == ["p0"]


def test_embedding_matches_with_fake_encoder() -> None:
    enc = FakeEncoder()
    bench = [Benchmark("b", ("five books arranged on a shelf in how many ways",))]
    t = problems(["In how many ways can five books on a shelf be arranged", "Graph colouring"])
    pv = enc.encode(t.column("question").to_pylist())
    pv /= (pv**2).sum(axis=1, keepdims=True) ** 0.5
    bv = enc.encode(list(bench[0].questions))
    bv /= (bv**2).sum(axis=1, keepdims=True) ** 0.5
    m = embedding_matches(t.column("problem_id").to_pylist(), pv, bench, [bv], 0.7)
    assert m.column("problem_id").to_pylist() == ["p0"]
    assert m.column("how").to_pylist() == ["embedding"]


@pytest.mark.parametrize(
    "cfg",
    [DecontamConfig(), DecontamConfig(ngram=3), DecontamConfig(ngram=13, unit="char")],
    ids=["word8", "word3", "char13"],
)
def test_screening_loses_no_match(cfg: DecontamConfig, monkeypatch) -> None:
    import random

    from tracemill.pipelines.curate import decontam

    rng = random.Random(5)
    items = [*AIME, *MATH, "What is 17 times 23?", "Primes"]
    bench = [Benchmark("b", tuple(items))]
    words = " ".join(items).split()
    questions = []
    for _ in range(400):  # random excerpts of the items, shuffled words, other text
        item = rng.choice(items).split()
        start = rng.randrange(len(item))
        piece = item[start : start + rng.randint(1, 12)]
        noise = [rng.choice(words) for _ in range(rng.randint(0, 8))]
        questions.append(" ".join(noise + piece if rng.random() < 0.5 else piece + noise))
    t = problems(questions)
    screened = decontam.ngram_matches(t, bench, cfg)
    monkeypatch.setattr(decontam, "_screen", lambda problems, *a: problems)
    full = decontam.ngram_matches(t, bench, cfg)
    assert full.num_rows > 20 and screened.equals(full)


def test_stored_matches_read_rows_back() -> None:
    from tracemill.pipelines.curate.decontam import stored_matches

    bench = [Benchmark("aime", tuple(AIME)), Benchmark("math", tuple(MATH))]
    t = problems(["leak: " + AIME[1], MATH[0] + " now"])
    matches = ngram_matches(t, bench)
    rows = contamination_rows(matches, config_id="cfg")
    back = stored_matches(rows.select(["problem_id", "detail"]), bench)
    key = ["problem_id", "benchmark", "item", "how"]
    assert back.select(key).sort_by([(k, "ascending") for k in key]).equals(
        matches.select(key).sort_by([(k, "ascending") for k in key])
    )
    assert back.column("benchmark_question").to_pylist() == matches.column(
        "benchmark_question"
    ).to_pylist()
    # a benchmark no longer configured is left out
    assert stored_matches(rows.select(["problem_id", "detail"]), bench[:1]).num_rows == 1
