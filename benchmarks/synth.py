"""Synthetic generation throughput: items/s per family at levels 1, 5 and 10.

    python benchmarks/synth.py [--families sat,sudoku] [--levels 1,5,10]
                               [--per-cell 200] [--seconds 0.5] [--seed 0]

Each cell (family × level) generates items 0, 1, 2, … in-process, single-threaded,
until ``--per-cell`` items are done or ``--seconds`` have passed (at least one item), so
the default run over all families stays near a minute. One untimed item per family
warms imports first. Prints a table of items/s (and items timed per cell).
"""

from __future__ import annotations

import argparse
import time

from tracemill.pipelines.synth import curriculum, get_task, item_rng, parse_levels, task_names


def measure(
    family: str, config: object, per_cell: int, seconds: float, seed: int
) -> tuple[int, float]:
    """Generate up to ``per_cell`` items within ``seconds``; return (items, elapsed s)."""
    task = get_task(family)
    done = 0
    began = time.perf_counter()
    elapsed = 0.0
    while done < per_cell:
        task.generate(config, item_rng(family, seed, done))
        done += 1
        elapsed = time.perf_counter() - began
        if elapsed >= seconds:
            break
    return done, elapsed


def main() -> None:
    """Measure every requested cell and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", default="", help="comma-separated (default: the native ones)")
    parser.add_argument("--levels", default="1,5,10", help="levels, e.g. 1,5,10 or 1-10")
    parser.add_argument("--per-cell", type=int, default=200, help="most items per cell")
    parser.add_argument("--seconds", type=float, default=0.5, help="time cap per cell")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    families = [f.strip() for f in args.families.split(",") if f.strip()] or task_names(
        source="tracemill"
    )
    levels = parse_levels(args.levels)
    if args.per_cell < 1:
        parser.error("--per-cell must be >= 1")
    unknown = sorted(set(families) - set(task_names()))
    if unknown:
        parser.error(f"unknown families: {', '.join(unknown)} (see `tracemill synth --list`)")

    width = max(len("family"), *map(len, families))
    header = f"{'family':<{width}}" + "".join(
        f"  {f'L{lv} items/s':>14} {'(n)':>5}" for lv in levels
    )
    print(header)
    print("-" * len(header))
    began = time.perf_counter()
    total_items = 0
    for family in families:
        task = get_task(family)
        task.generate(task.config_for_level(levels[0]), item_rng(family, args.seed, -1))
        cells = []
        for _level, config in curriculum(family, levels):
            n, elapsed = measure(family, config, args.per_cell, args.seconds, args.seed)
            total_items += n
            cells.append(f"  {n / elapsed if elapsed > 0 else float('inf'):>14,.1f} {n:>5}")
        print(f"{family:<{width}}" + "".join(cells), flush=True)
    print(
        f"\n{len(families)} families x {len(levels)} levels, {total_items} items, "
        f"{time.perf_counter() - began:.1f} s (cap: {args.per_cell} items or "
        f"{args.seconds} s per cell, single-threaded)"
    )


if __name__ == "__main__":
    main()
