"""Lights Out: find presses that switch every light off.

Pressing a cell toggles it and its orthogonal neighbours. The start state is the effect
of a random non-trivial set of presses, so a solution exists; on sizes whose toggle
matrix is singular (4×4, 5×5) several press sets work, and ``check`` accepts any of them
by simulating the presses.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tracemill.pipelines.synth.base import Item, Task, check_level, register_task
from tracemill.pipelines.synth.grid import (
    format_grid,
    grid_answer_format,
    neighbors4,
    parse_shaded,
    positive_int,
    wrong,
)
from tracemill.pipelines.verify.registry import Verdict

_LEVELS = {
    1: (3, 2),
    2: (3, 3),
    3: (4, 3),
    4: (4, 4),
    5: (4, 6),
    6: (5, 6),
    7: (5, 8),
    8: (5, 10),
    9: (6, 10),
    10: (6, 14),
}


@dataclass(frozen=True)
class LightsOutConfig:
    """Knobs: grid size and how many presses built the start state."""

    size: int = 3
    """Side of the square grid (2–8)."""
    presses: int = 2
    """Presses applied to a dark board to make the start state (1–size²)."""

    def __post_init__(self) -> None:
        positive_int("size", self.size, 2, 8)
        positive_int("presses", self.presses, 1, self.size * self.size)


def apply_presses(state: list[list[int]], presses: list[list[bool]]) -> list[list[int]]:
    """The board after pressing every marked cell once (order does not matter)."""
    n = len(state)
    out = [list(row) for row in state]
    for r in range(n):
        for c in range(n):
            if presses[r][c]:
                for a, b in [(r, c), *neighbors4(r, c, n, n)]:
                    out[a][b] ^= 1
    return out


@register_task
class LightsOutTask(Task):
    """Turn all the lights off (any working set of presses is accepted)."""

    name = "lights_out"
    domain = "logic"
    version = "3"
    description = "Lights Out: choose cells to press so that every light ends off."
    Config = LightsOutConfig

    @classmethod
    def config_for_level(cls, level: int) -> LightsOutConfig:
        """Bigger boards built from more presses as levels rise."""
        size, presses = _LEVELS[check_level(level)]
        return LightsOutConfig(size=size, presses=presses)

    def generate(self, config: LightsOutConfig, rng: random.Random) -> Item:
        """Random presses on a dark board give the start state (never already dark)."""
        n = config.size
        dark = [[0] * n for _ in range(n)]
        while True:
            chosen = set(rng.sample([(r, c) for r in range(n) for c in range(n)], config.presses))
            presses = [[(r, c) in chosen for c in range(n)] for r in range(n)]
            state = apply_presses(dark, presses)
            if any(any(row) for row in state):
                break
        example = format_grid([[(r + c) % 2 for c in range(n)] for r in range(2)])
        question = (
            f"Lights Out on a {n}x{n} board. 1 means a light is on, 0 means it is off. "
            "Pressing a cell toggles that cell and its up, down, left and right neighbours "
            "(those inside the board). Pressing a cell twice undoes it, so each cell is "
            "either pressed once or not at all, and the order of presses does not matter.\n\n"
            f"{format_grid(state)}\n\n"
            "Find a set of cells to press so that every light ends off (any such set is "
            "accepted). Mark a pressed cell with 1 and an unpressed cell with 0. "
            + grid_answer_format(n, n, "0/1 values", example + "\n...")
        )
        return Item(
            question=question,
            answer=format_grid([[int(v) for v in row] for row in presses]),
            spec={"size": n, "state": state},
            difficulty=float(n * n + 2 * config.presses),
            metadata={"lit": sum(map(sum, state))},
        )

    def parse(self, spec: Mapping[str, Any], text: str) -> list[list[bool]]:
        """A size × size grid of pressed (1) / unpressed (0) cells."""
        n = int(spec["size"])
        return parse_shaded(text, n, n)

    def echoes(self, spec: Mapping[str, Any]) -> list[Any]:
        """The starting board (0/1 lights), which reads like a press grid."""
        return [[[bool(v) for v in row] for row in spec["state"]]]

    def judge(self, spec: Mapping[str, Any], presses: list[list[bool]]) -> Verdict | float:
        """Simulate the presses: every light must be off afterwards."""
        final = apply_presses([[int(v) for v in row] for row in spec["state"]], presses)
        lit = sum(map(sum, final))
        return wrong(f"{lit} light(s) still on") if lit else 1.0
