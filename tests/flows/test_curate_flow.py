import json
from pathlib import Path

import pytest
from tracemill.catalogs import problem_id
from tracemill.catalogs.views import create_views, kept_problems_sql
from tracemill.flows.cli import app
from tracemill.flows.curate import CurateStage, curate
from tracemill.flows.stages import StageContext, get_stage
from tracemill.stores.catalog import open_catalog
from tracemill.stores.embeddings import EmbeddingCache, embeddings_root
from typer.testing import CliRunner

from ..pipelines.curate_fakes import FakeEncoder, tiny_static_models


@pytest.fixture
def static_models(tmp_path_factory, monkeypatch) -> Path:
    """$TRACEMILL_MODELS holding a tiny static model (the default CPU encoder)."""
    root = tiny_static_models(tmp_path_factory.getbasetemp() / "static-models")
    monkeypatch.setenv("TRACEMILL_MODELS", str(root))
    return root

BASE = (
    "A farmer has a rectangular field whose length is three times its width and whose "
    "perimeter is {p} metres; find the area of the field in square metres"
)
QUESTIONS = [
    BASE.format(p=64),  # 0
    BASE.format(p=64).replace("  ", " ").upper(),  # 1: exact duplicate of 0
    BASE.format(p=64).replace("A farmer has", "A farmer owns"),  # 2: near duplicate of 0
    BASE.format(p=80),  # 3: renumbered: distinct
    "How many ways can five books be arranged on a shelf",  # 4
    "On a shelf, five books: in how many ways can they be arranged",  # 5: semantic dup of 4
    "Let N be the greatest four-digit positive integer with the property that whenever one "
    "of its digits is changed to 1, the resulting number is divisible by 7.",  # 6: leaked
]


def pid(i: int) -> str:
    return problem_id("math", QUESTIONS[i])


def seed(catalog_dir: Path, questions: list[str] = QUESTIONS, answers: dict | None = None):
    answers = answers or {}
    rows = [
        {
            "problem_id": problem_id("math", q),
            "source": "test",
            "domain": "math",
            "question": q,
            "answer": answers.get(i),
        }
        for i, q in enumerate(questions)
    ]
    with open_catalog(catalog_dir) as store:
        store.append({"problems": rows})


def dedup_rows(catalog_dir: Path) -> list[dict]:
    with open_catalog(catalog_dir, read_only=True) as store:
        return store.sql(
            "SELECT problem_id, method, kept, cluster, representative, contamination, config_id "
            "FROM dedup ORDER BY method, problem_id"
        ).to_pylist()


@pytest.mark.slow  # distills a tiny static model once per test process (seconds)
def test_stage_writes_rows_and_rerun_inserts_nothing(
    catalog_dir: Path, tmp_path: Path, static_models: Path
) -> None:
    seed(catalog_dir)
    spec = get_stage("curate")
    # the defaults: exact, near and semantic with the static encoder
    cfg = spec.config.model_validate({"near_threshold": 0.6, "near_ngram": 3})
    ctx = StageContext(catalog=str(catalog_dir), run_id="r1", base_dir=tmp_path)
    counts = spec.fn(ctx, cfg)
    assert counts["exact.dropped"] == 1 and counts["near.dropped"] == 1
    assert counts["semantic.status"] == "ran" and counts["semantic.input"] == 5
    assert counts["semantic.model"].startswith("tracemill/all-MiniLM-L6-v2-static")
    # one row per examined problem and method: 7 for exact, 6 (exact's survivors) for
    # near, 5 for semantic
    assert counts["inserted"] == 18 and counts["kept"] == 5 - counts["semantic.dropped"]
    assert counts["exact.status"] == counts["near.status"] == "ran"
    # the static model was used from $TRACEMILL_MODELS, not distilled beside the catalog
    assert not (catalog_dir / "models").exists()
    rows = dedup_rows(catalog_dir)
    dropped = {(r["method"], r["problem_id"]) for r in rows if not r["kept"]}
    # exact: equal length, so the smaller id wins; near: the reworded copy is longer
    assert {d for d in dropped if d[0] != "semantic"} == {
        ("exact", max(pid(0), pid(1))),
        ("near", pid(2)),
    }
    # semantic (tiny model): only the number-free pair 4/5 may merge (number guard)
    assert {d[1] for d in dropped if d[0] == "semantic"} <= {pid(4), pid(5)}
    # renumbered: never merged, kept alone (a row with no cluster)
    assert {(r["method"], r["cluster"]) for r in rows if r["problem_id"] == pid(3)} == {
        ("exact", None),
        ("near", None),
        ("semantic", None),
    }
    again = spec.fn(StageContext(catalog=str(catalog_dir), run_id="r2"), cfg)
    assert again["exact.status"] == again["near.status"] == again["semantic.status"] == "skipped"
    assert again["inserted"] == 0 and again["skipped"] == 0 and again["kept"] == counts["kept"]
    assert again["exact.dropped"] == 1 and again["near.dropped"] == 1
    assert len(dedup_rows(catalog_dir)) == 18
    with open_catalog(catalog_dir, read_only=True) as store:
        create_views(store.con)
        n = store.sql("SELECT count(*) AS n FROM kept_problems").column("n")[0].as_py()
        assert n == counts["kept"]
        n = store.sql(f"SELECT count(*) AS n FROM ({kept_problems_sql(['exact'])})")
        assert n.column("n")[0].as_py() == 6


def test_keep_policy_reads_verdicts_and_earlier_decisions_stand(catalog_dir: Path) -> None:
    seed(catalog_dir, QUESTIONS[:2])
    with open_catalog(catalog_dir) as store:
        store.append(
            {
                "verdicts": [
                    {
                        "sample_id": "s1",
                        "problem_id": pid(0),
                        "verifier": "math",
                        "verifier_version": "1",
                        "passed": True,
                        "score": 1.0,
                        "reason": "ok",
                    }
                ]
            }
        )
    cfg = CurateStage(methods=["exact"])
    curate(cfg, catalog=str(catalog_dir))
    rows = {r["problem_id"]: r for r in dedup_rows(catalog_dir)}
    assert rows[pid(0)]["kept"] and not rows[pid(1)]["kept"]  # passing verdict beats length
    # a new copy with a reference answer would win, but the earlier representative stands
    late = QUESTIONS[0].lower()
    seed(catalog_dir, [late], answers={0: "768"})
    report = curate(cfg, catalog=str(catalog_dir))
    assert report.inserted == 1
    rows = {r["problem_id"]: r for r in dedup_rows(catalog_dir)}
    late_id = problem_id("math", late)
    assert rows[pid(0)]["kept"] and not rows[late_id]["kept"]
    assert rows[late_id]["representative"] == pid(0)


def test_semantic_uses_cache_and_rethreshold_does_not_encode(catalog_dir: Path) -> None:
    seed(catalog_dir)
    enc = FakeEncoder()
    cfg = CurateStage(methods=["semantic"], encoder="fake", semantic_threshold=0.8)
    report = curate(cfg, catalog=str(catalog_dir), encoder=enc)
    # problems 0 and 1 differ only in case and spacing: one matching text, encoded once
    assert report.methods["semantic"]["encoded"] == 6 and enc.texts == 6
    rows = dedup_rows(catalog_dir)
    clustered = {r["problem_id"] for r in rows if r["cluster"] is not None}
    assert {pid(4), pid(5)} <= clustered
    assert pid(3) not in clustered  # number guard
    cache = EmbeddingCache(embeddings_root(catalog_dir.resolve()), "fake")
    assert cache.count() == 6
    again = curate(cfg, catalog=str(catalog_dir), encoder=enc)
    # nothing new: no work at all (not even reading the cache), no rows
    assert again.methods["semantic"]["status"] == "skipped" and enc.texts == 6
    assert again.methods["semantic"]["encoded"] == again.methods["semantic"]["reused"] == 0
    assert again.inserted == 0 and again.skipped == 0
    # rethreshold: a dry run from cached vectors only, with no encoder at all
    lower = CurateStage(methods=["semantic"], encoder="fake", semantic_threshold=0.3)
    preview = curate(lower, catalog=str(catalog_dir), dry_run=True, allow_encode=False)
    assert preview.methods["semantic"]["dropped"] >= again.methods["semantic"]["dropped"]
    assert preview.inserted == 0 and len(dedup_rows(catalog_dir)) == len(rows)
    assert cache.count() == 6


def test_decontam_with_benchmarks_and_report(catalog_dir: Path, tmp_path: Path) -> None:
    seed(catalog_dir)
    bench = tmp_path / "aime.jsonl"
    leaked = QUESTIONS[6].replace("greatest", "largest")
    bench.write_text(json.dumps({"problem": leaked}) + "\n")
    config = tmp_path / "benchmarks.yaml"
    config.write_text("aime: {path: aime.jsonl, field: problem}\n")
    report_path = tmp_path / "report.json"
    cfg = CurateStage(methods=["exact"], benchmarks=str(config), report=str(report_path))
    report = curate(cfg, catalog=str(catalog_dir))
    decontam = [r for r in dedup_rows(catalog_dir) if r["method"] == "decontam"]
    assert len(decontam) == 7  # every problem checked: clean ones get a kept row
    contaminated = [r for r in decontam if not r["kept"]]
    assert [(r["problem_id"], r["contamination"], r["kept"]) for r in contaminated] == [
        (pid(6), "aime", False)
    ]
    assert all(r["contamination"] is None for r in decontam if r["kept"])
    saved = json.loads(report_path.read_text())
    assert saved["benchmarks"][0]["name"] == "aime" and saved["benchmarks"][0]["problems"] == 1
    assert report.kept == 5
    again = curate(cfg, catalog=str(catalog_dir))
    assert again.inserted == 0 and again.methods["decontam"]["status"] == "skipped"
    assert again.methods["decontam"]["dropped"] == 1 and again.kept == 5
    # a changed benchmark file is a new config
    bench.write_text(json.dumps({"problem": "something else entirely, nothing leaked"}) + "\n")
    assert curate(cfg, catalog=str(catalog_dir)).methods["decontam"]["dropped"] == 0


def test_config_validation() -> None:
    with pytest.raises(ValueError, match="benchmarks"):
        CurateStage(methods=["decontam"])
    with pytest.raises(ValueError, match="keep criteria"):
        CurateStage(keep=["nicest"])
    with pytest.raises(ValueError):
        CurateStage(methods=["fuzzy"])  # type: ignore[list-item]
    assert CurateStage(benchmarks="b.yaml").chosen() == ["exact", "near", "semantic", "decontam"]


def test_cli_curate_and_explain(catalog_dir: Path, tmp_path: Path) -> None:
    seed(catalog_dir)
    runner = CliRunner()
    report = tmp_path / "r.json"
    result = runner.invoke(
        app,
        ["curate", "--method", "exact", "--method", "near", "--threshold", "0.6",
         "--near-ngram", "3", "--report-json", str(report)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "exact" in result.output and "near" in result.output
    assert json.loads(report.read_text())["methods"]["exact"]["dropped"] == 1
    explained = runner.invoke(app, ["dedup", "explain", pid(1)])
    assert explained.exit_code == 0, explained.output
    assert "exact" in explained.output
    bad = runner.invoke(app, ["curate", "--method", "near", "--method", "semantic",
                              "--threshold", "0.5"])  # fmt: skip
    assert bad.exit_code == 2 and "--threshold" in bad.output


def test_rerun_skips_and_new_problems_only_add_their_rows(catalog_dir: Path) -> None:
    seed(catalog_dir, QUESTIONS[:6])
    enc = FakeEncoder()
    cfg = CurateStage(
        methods=["exact", "near", "semantic"],
        near_threshold=0.6,
        near_ngram=3,
        encoder="fake",
        semantic_threshold=0.8,
    )
    first = curate(cfg, catalog=str(catalog_dir), encoder=enc)
    assert all(m["status"] == "ran" for m in first.methods.values())
    before = {(r["problem_id"], r["method"]): r for r in dedup_rows(catalog_dir)}
    calls = enc.calls
    again = curate(cfg, catalog=str(catalog_dir), encoder=enc)
    assert {m["status"] for m in again.methods.values()} == {"skipped"}
    assert enc.calls == calls and again.inserted == 0 and again.kept == first.kept
    # two new problems: a copy of the (kept alone) problem 3 and a problem of its own
    new = [QUESTIONS[3].upper(), "Find all primes p such that p squared plus 2 is prime"]
    seed(catalog_dir, new)
    third = curate(cfg, catalog=str(catalog_dir), encoder=enc)
    assert third.methods["exact"]["status"] == "ran" and third.methods["exact"]["new"] == 2
    assert third.methods["semantic"]["encoded"] == 1  # only the new distinct problem
    rows = {(r["problem_id"], r["method"]): r for r in dedup_rows(catalog_dir)}
    added = set(rows) - set(before)
    new_ids = {problem_id("math", q) for q in new}
    assert {key[0] for key in added} == new_ids
    assert third.inserted == len(added) and third.skipped == 0
    assert all(rows[k] == v for k, v in before.items())  # earlier rows untouched
    copy = rows[(problem_id("math", new[0]), "exact")]
    assert not copy["kept"] and copy["representative"] == pid(3)  # the earlier one stands
    explained = CliRunner().invoke(app, ["dedup", "explain", pid(3)])
    assert explained.exit_code == 0, explained.output
    assert "cluster members" in explained.output  # found through the representative


def test_cli_explain_and_rethreshold(catalog_dir: Path) -> None:
    seed(catalog_dir)
    runner = CliRunner()
    missing = runner.invoke(app, ["dedup", "explain", "nope"])
    assert missing.exit_code == 1 and "no problem" in missing.output
    fresh = runner.invoke(app, ["dedup", "explain", pid(0)])
    assert fresh.exit_code == 0 and "not curated yet" in fresh.output
    # rethreshold needs cached vectors: none yet
    early = runner.invoke(app, ["dedup", "rethreshold", "--threshold", "0.5", "--encoder", "fake"])
    assert early.exit_code == 1 and "no cached" in early.output
    enc = FakeEncoder()
    cfg = CurateStage(methods=["exact", "semantic"], encoder="fake", semantic_threshold=0.8)
    curate(cfg, catalog=str(catalog_dir), encoder=enc)
    rows = dedup_rows(catalog_dir)
    cache = EmbeddingCache(embeddings_root(catalog_dir.resolve()), "fake")
    cached, encoded = cache.count(), enc.texts
    assert cached == encoded == 6  # exact dropped one copy before semantic ran
    explained = runner.invoke(app, ["dedup", "explain", pid(5)])
    assert explained.exit_code == 0, explained.output
    assert "semantic" in explained.output and "cluster members" in explained.output
    preview = runner.invoke(
        app, ["dedup", "rethreshold", "--threshold", "0.3", "--encoder", "fake"]
    )
    assert preview.exit_code == 0, preview.output
    assert "dry run" in preview.output and "semantic" in preview.output
    near = runner.invoke(app, ["dedup", "rethreshold", "--method", "near", "--threshold", "0.5"])
    assert near.exit_code == 0, near.output
    assert "near" in near.output
    bad = runner.invoke(app, ["dedup", "rethreshold", "--method", "exact", "--threshold", "0.5"])
    assert bad.exit_code == 2
    # nothing written, nothing encoded
    assert dedup_rows(catalog_dir) == rows and cache.count() == cached and enc.texts == encoded


def test_benchmark_files_are_checked_before_any_work(catalog_dir: Path, tmp_path: Path) -> None:
    seed(catalog_dir)
    config = tmp_path / "benchmarks.yaml"
    config.write_text("aime: {path: missing.jsonl}\n")
    enc = FakeEncoder()
    cfg = CurateStage(methods=["exact", "semantic"], encoder="fake", benchmarks=str(config))
    with pytest.raises(FileNotFoundError, match="missing.jsonl"):
        curate(cfg, catalog=str(catalog_dir), encoder=enc)
    assert enc.calls == 0 and dedup_rows(catalog_dir) == []  # nothing encoded or written
    (tmp_path / "empty.jsonl").write_text(json.dumps({"question": " "}) + "\n")
    config.write_text("aime: {path: empty.jsonl}\n")
    with pytest.raises(ValueError, match="no questions"):
        curate(cfg, catalog=str(catalog_dir), encoder=enc)
    result = CliRunner().invoke(app, ["curate", "--method", "exact", "--benchmarks", str(config)])
    # a benchmark file without questions is bad input, not bad usage: exit 1, one line
    assert result.exit_code == 1 and "no questions" in result.output
    assert "Traceback" not in result.output


def test_decontam_report_covers_every_problem_on_every_run(
    catalog_dir: Path, tmp_path: Path
) -> None:
    seed(catalog_dir)
    (tmp_path / "aime.jsonl").write_text(json.dumps({"problem": QUESTIONS[6]}) + "\n")
    config = tmp_path / "benchmarks.yaml"
    config.write_text("aime: {path: aime.jsonl, field: problem}\n")
    cfg = CurateStage(methods=["exact"], benchmarks=str(config))
    first = curate(cfg, catalog=str(catalog_dir))
    assert first.benchmarks[0]["problems"] == 1
    # a new, clean problem: only it is checked, but the report still covers all 8
    seed(catalog_dir, ["Count the lattice points inside a circle of radius 10"])
    again = curate(cfg, catalog=str(catalog_dir))
    assert again.methods["decontam"]["checked"] == 1
    assert again.methods["decontam"]["earlier"] == 7
    assert again.benchmarks[0]["problems"] == 1 and again.benchmarks[0]["matches"] == 1
    assert again.benchmarks[0]["examples"][0]["problem_id"] == pid(6)
    third = curate(cfg, catalog=str(catalog_dir))  # nothing new at all
    assert third.methods["decontam"]["status"] == "skipped"
    assert third.benchmarks[0]["problems"] == 1


def test_explain_names_the_deciding_keep_criterion(catalog_dir: Path) -> None:
    seed(catalog_dir, QUESTIONS[:2], answers={1: "768"})
    curate(CurateStage(methods=["exact"]), catalog=str(catalog_dir))
    runner = CliRunner()
    dropped = runner.invoke(app, ["dedup", "explain", pid(0)])
    assert dropped.exit_code == 0, dropped.output
    text = " ".join(dropped.output.split())
    assert "deciding keep criterion: answer" in text
    assert "the representative has a reference answer, this one no answer" in text
    kept = runner.invoke(app, ["dedup", "explain", pid(1)])
    assert "kept as the representative of a cluster of 2" in " ".join(kept.output.split())


def test_rethreshold_lists_the_pairs_that_would_change(catalog_dir: Path, tmp_path: Path) -> None:
    seed(catalog_dir)
    enc = FakeEncoder()
    cfg = CurateStage(methods=["exact", "semantic"], encoder="fake", semantic_threshold=0.99)
    curate(cfg, catalog=str(catalog_dir), encoder=enc)
    before = dedup_rows(catalog_dir)
    out = tmp_path / "changes.jsonl"
    result = CliRunner().invoke(
        app,
        ["dedup", "rethreshold", "--threshold", "0.5", "--encoder", "fake", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    changes = [json.loads(line) for line in out.read_text().splitlines()]
    assert changes and all(c["change"] == "drop" for c in changes)
    # each change names the pair: the problem and the representative it would be dropped for
    assert {c["problem_id"] for c in changes} | {c["representative"] for c in changes} <= {
        pid(i) for i in range(7)
    }
    assert "changed pairs" in result.output and "newly dropped" in result.output
    assert dedup_rows(catalog_dir) == before  # a preview writes nothing


@pytest.mark.slow  # distills a tiny static model once per test process (seconds)
def test_cli_curate_with_no_flags_runs_all_three(catalog_dir: Path, static_models: Path) -> None:
    seed(catalog_dir)
    result = CliRunner().invoke(app, ["curate"])
    assert result.exit_code == 0, result.output
    methods = {r["method"] for r in dedup_rows(catalog_dir)}
    assert methods == {"exact", "near", "semantic"}
    assert "static" in result.output
