"""Build ``responses.jsonl.gz``: real model responses to logic tasks, mapped onto our families.

    python tests/data/logic_responses/build.py RG_EVAL_GIT_DIR BBH_GIT_DIR

Not run by the tests (the sources are not on disk there); kept so the file can be rebuilt
and audited. Sources (read from bare git snapshots of the public repositories):

- ``open-thought/reasoning-gym-eval`` @ 5f09fecc342a25d693895b7304a9dec43b47f436
  (Apache-2.0): ``reasoninggym-paper-experiments/zero-shot/{easy,hard}/<model>/<cat>/<task>.json``,
  every completion of ten to eleven chat models (Claude 3.5 Sonnet / Sonnet 4, DeepSeek-R1,
  Gemma 3 27B, Grok 3 mini, Llama 3.3 70B / 4 Maverick / 4 Scout, Mistral Small 3.1,
  o3-mini, QwQ-32B), prompted to answer inside ``<answer>`` tags. The source label is
  reasoning-gym's own score of the *last* answer tag (``score == 1`` is correct); responses
  without any tag get no source label (reasoning-gym scores them 0 whatever they say).
- ``suzgunmirac/BIG-Bench-Hard`` @ 9ee07bd481feebf959a6b59d61ea57bdcf30964d (MIT):
  ``code-davinci-002-outputs/code-davinci-002-cot/<task>_few_shot_template_0-255000.json``,
  Codex few-shot chain-of-thought predictions ending "So the answer is X."; the source label
  is whether the text after the last "So the answer is" equals the task's target.

Each row keeps the response and question unchanged and adds what our verifier needs: the
family, a ``verifier_spec`` in our family's format built from the source's puzzle and
expected answer, and ``answer`` (the source's expected answer). Only tasks whose puzzles
map one-to-one onto a family are taken: sudoku/mini_sudoku → ``sudoku``, futoshiki,
puzzle24 → ``game_of_24``, number_sequence, caesar_cipher → ``cipher``, cryptarithm,
word_sorting (lower-case alphabetic words only), knights_knaves (knight/knave islands only),
calendar_arithmetic weekday questions → ``date_arithmetic``; BBH boolean_expressions,
object_counting, web_of_lies, dyck_languages, word_sorting.
"""

from __future__ import annotations

import gzip
import json
import random
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PER_GROUP = 14
"""Rows kept per (family, source, label) group, spread over models."""
MAX_RESPONSE = 12_000


def _git(git_dir: str, *args: str) -> str:
    return subprocess.run(
        ["git", "--git-dir", git_dir, *args], capture_output=True, text=True, check=True
    ).stdout


def _grid(text: str) -> list[list[int]]:
    return [[0 if v == "_" else int(v) for v in line.split()] for line in text.strip().split("\n")]


def _sudoku(q: str, expected: str) -> dict[str, Any] | None:
    lines = [ln for ln in q.split("\n") if re.fullmatch(r"[_\d](?: [_\d])+", ln.strip())]
    puzzle = _grid("\n".join(lines))
    solution = _grid(expected)
    if len(puzzle) not in (4, 9) or len(solution) != len(puzzle):
        return None
    return {"puzzle": puzzle, "size": len(puzzle), "solution": solution}


def _futoshiki(q: str, expected: str) -> dict[str, Any] | None:
    m = re.search(r"puzzle:\n\n(.*?)\n\nEnsure", q, re.S)
    if not m:
        return None
    lines = m.group(1).split("\n")
    cells, between = lines[0::2], lines[1::2]
    n = len(cells)
    givens, less = [], []
    for r, line in enumerate(cells):
        for c in range(n):
            v = line[4 * c] if 4 * c < len(line) else "_"
            if v.isdigit():
                givens.append([r, c, int(v)])
            sign = line[4 * c + 2] if 4 * c + 2 < len(line) else " "
            if sign == "<":
                less.append([[r, c], [r, c + 1]])
            elif sign == ">":
                less.append([[r, c + 1], [r, c]])
    for r, line in enumerate(between):
        for c in range(n):
            sign = line[4 * c] if 4 * c < len(line) else " "
            if sign == "∧":
                less.append([[r, c], [r + 1, c]])
            elif sign == "∨":
                less.append([[r + 1, c], [r, c]])
    solution = [[int(v) for v in ln.split() if v.isdigit()] for ln in expected.split("\n")[0::2]]
    if len(solution) != n or any(len(row) != n for row in solution):
        return None
    return {"givens": givens, "less": less, "size": n, "solution": solution}


def _cryptarithm(q: str, expected: str) -> dict[str, Any] | None:
    rows = re.findall(r"^\s*\+?\s*([A-Z]+)\s*$", q, re.M)
    if len(rows) < 3:
        return None
    return {"addends": rows[:-1], "hints": {}, "result": rows[-1]}


def _word_sorting(q: str, expected: str) -> dict[str, Any] | None:
    words = expected.split(", ")
    if not all(re.fullmatch(r"[a-z]+", w) for w in words):
        return None
    return {"words": words}


def _knights(q: str, expected: str) -> dict[str, Any] | None:
    if "knights and knaves" not in q:
        return None
    roles = dict(re.findall(r"(\w+) is a (knight|knave)", expected))
    return {"roles": {k: v == "knight" for k, v in roles.items()}} if roles else None


def _weekday(q: str, expected: str) -> dict[str, Any] | None:
    days = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    if expected.lower() not in days:
        return None
    return {"kind": "weekday", "weekday": expected.lower()}


RG_TASKS: dict[str, tuple[str, Any]] = {
    "sudoku": ("sudoku", _sudoku),
    "mini_sudoku": ("sudoku", _sudoku),
    "futoshiki": ("futoshiki", _futoshiki),
    "puzzle24": (
        "game_of_24",
        lambda q, e: {
            "numbers": [int(v) for v in re.findall(r"\d+", q.split("using")[1].split(".")[0])],
            "target": 24,
        },
    ),
    "number_sequence": ("number_sequence", lambda q, e: {"next": int(e)}),
    "caesar_cipher": ("cipher", lambda q, e: {"plaintext": e.lower().split()}),
    "cryptarithm": ("cryptarithm", _cryptarithm),
    "word_sorting": ("word_sorting", _word_sorting),
    "knights_knaves": ("knights_and_knaves", _knights),
    "calendar_arithmetic": ("date_arithmetic", _weekday),
}

BBH_TASKS: dict[str, tuple[str, Any]] = {
    "boolean_expressions": ("boolean_expressions", lambda inp, t: {"value": t == "True"}),
    "object_counting": ("object_counting", lambda inp, t: {"count": int(t)}),
    "web_of_lies": ("web_of_lies", lambda inp, t: {"answers": [t.lower()]}),
    "dyck_languages": (
        "dyck_language",
        lambda inp, t: {
            "closing": t.replace(" ", ""),
            "prefix": inp.rsplit("Input: ", 1)[1].split("\n")[0].replace(" ", ""),
        },
    ),
    "word_sorting": (
        "word_sorting",
        lambda inp, t: {"words": t.split()} if all(w.isalpha() for w in t.split()) else None,
    ),
}


def rg_rows(git_dir: str) -> list[dict[str, Any]]:
    """Mapped completions of reasoning-gym-eval (see the module docstring)."""
    out = []
    for path in _git(git_dir, "ls-tree", "-r", "--name-only", "HEAD").split():
        parts = path.split("/")
        if "zero-shot" not in parts or not path.endswith(".json"):
            continue
        task = parts[-1][:-5]
        if task not in RG_TASKS:
            continue
        text = _git(git_dir, "show", f"HEAD:{path}")
        if not text.strip():
            continue  # a large file the snapshot does not hold
        family, make_spec = RG_TASKS[task]
        for k, result in enumerate(json.loads(text)["results"]):
            spec = make_spec(result["question"], result["expected_answer"])
            if spec is None:
                continue
            for j, completion in enumerate(result["completions"]):
                response = completion["full_model_response"] or ""
                if not response.strip() or len(response) > MAX_RESPONSE:
                    continue
                tagged = "<answer>" in response and "</answer>" in response
                label = (completion["score"] >= 1.0) if tagged else None
                out.append(
                    {
                        "id": f"rg/{parts[-4]}/{parts[-3]}/{task}/{k}/{j}",
                        "source": "reasoning-gym-eval",
                        "model": parts[-3],
                        "task": task,
                        "family": family,
                        "question": result["question"],
                        "answer": result["expected_answer"],
                        "verifier_spec": json.dumps(spec),
                        "response": response,
                        "source_label": label,
                    }
                )
    return out


_SO = re.compile(r"So the answer is (.*?)\.?\s*$", re.S)


def bbh_rows(git_dir: str) -> list[dict[str, Any]]:
    """Mapped Codex predictions of BIG-Bench Hard (see the module docstring)."""
    out = []
    for task, (family, make_spec) in BBH_TASKS.items():
        path = (
            f"code-davinci-002-outputs/code-davinci-002-cot/{task}_few_shot_template_0-255000.json"
        )
        for k, row in enumerate(json.loads(_git(git_dir, "show", f"HEAD:{path}"))["outputs"]):
            spec = make_spec(row["input"], row["target"])
            if spec is None:
                continue
            question = row["input"].rsplit("\n\nQ: ", 1)[-1]
            m = _SO.search(row["prediction"])
            label = bool(m) and m.group(1).strip() == row["target"].strip()
            out.append(
                {
                    "id": f"bbh/{task}/{k}",
                    "source": "BIG-Bench-Hard",
                    "model": "code-davinci-002",
                    "task": task,
                    "family": family,
                    "question": question,
                    "answer": row["target"],
                    "verifier_spec": json.dumps(spec),
                    "response": row["prediction"],
                    "source_label": label,
                }
            )
    return out


def select(rows: list[dict[str, Any]], seed: int = 15) -> list[dict[str, Any]]:
    """Up to ``PER_GROUP`` rows per (family, source, label), round-robin over models."""
    rng = random.Random(seed)
    groups: dict[tuple[str, str, Any], dict[str, list[dict[str, Any]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for row in rows:
        groups[(row["family"], row["source"], row["source_label"])][row["model"]].append(row)
    out = []
    for key in sorted(groups, key=str):
        by_model = groups[key]
        for rs in by_model.values():
            rng.shuffle(rs)
        picked: list[dict[str, Any]] = []
        while len(picked) < PER_GROUP and any(by_model.values()):
            for model in sorted(by_model):
                if by_model[model] and len(picked) < PER_GROUP:
                    picked.append(by_model[model].pop())
        out.extend(picked)
    return out


def main() -> None:
    """Read both snapshots, select rows and write the gzipped JSONL."""
    rg_dir, bbh_dir = sys.argv[1], sys.argv[2]
    rows = select(rg_rows(rg_dir) + bbh_rows(bbh_dir))
    data = "".join(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n" for row in rows)
    with gzip.GzipFile(HERE / "responses.jsonl.gz", "wb", mtime=0) as f:  # reproducible bytes
        f.write(data.encode("utf-8"))
    print(f"{len(rows)} rows")


if __name__ == "__main__":
    main()
