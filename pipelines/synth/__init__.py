"""Synthetic task families (SAT, logic puzzles) behind one registry."""

from pipelines.synth.base import (
    Item,
    Task,
    generate_item,
    generate_problems,
    get_task,
    item_rng,
    make_config,
    register_task,
    task_names,
)

__all__ = [
    "Item",
    "Task",
    "generate_item",
    "generate_problems",
    "get_task",
    "item_rng",
    "make_config",
    "register_task",
    "task_names",
]
