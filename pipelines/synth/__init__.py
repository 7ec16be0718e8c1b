"""Synthetic task families (SAT, logic puzzles) behind one registry."""

from tracemill.pipelines.synth.base import (
    Item,
    Task,
    curriculum,
    generate_item,
    generate_problems,
    get_task,
    item_rng,
    knob_trends,
    level_table,
    make_config,
    parse_levels,
    register_task,
    spread_count,
    task_names,
)

__all__ = [
    "Item",
    "Task",
    "curriculum",
    "generate_item",
    "generate_problems",
    "get_task",
    "item_rng",
    "knob_trends",
    "level_table",
    "make_config",
    "parse_levels",
    "register_task",
    "spread_count",
    "task_names",
]
