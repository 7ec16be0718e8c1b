"""Graph colouring: colour a small graph with k colours so no edge joins equal colours.

Graphs are built around a planted k-colouring (edges only join different planted
classes), so a colouring exists; one vertex from each class is joined to the others (a
k-clique), and the generator checks by backtracking that k - 1 colours are not enough,
so k is the chromatic number. Many colourings are valid and ``check`` accepts any of
them by checking every edge.
"""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tracemill.pipelines.synth.base import Item, Task, check_level, register_task
from tracemill.pipelines.synth.grid import number_in, positive_int, wrong
from tracemill.pipelines.synth.textutil import parse_list, refuse_hedge
from tracemill.pipelines.verify.answers import AmbiguousAnswer
from tracemill.pipelines.verify.registry import Verdict

COLOURS = ("red", "green", "blue", "yellow", "purple")

_LEVELS = {
    1: (5, 3, 0.5),
    2: (6, 3, 0.5),
    3: (7, 3, 0.5),
    4: (8, 3, 0.55),
    5: (9, 3, 0.55),
    6: (10, 4, 0.6),
    7: (11, 4, 0.6),
    8: (12, 4, 0.65),
    9: (13, 4, 0.65),
    10: (14, 5, 0.7),
}


@dataclass(frozen=True)
class GraphColoringConfig:
    """Knobs: vertices, colours, and the chance of an edge between different classes."""

    nodes: int = 5
    """Vertices (3–16)."""
    colours: int = 3
    """Colours allowed, also the chromatic number (2–5, at most ``nodes``)."""
    density: float = 0.5
    """Probability of each edge between differently planted vertices (0.1–1)."""

    def __post_init__(self) -> None:
        positive_int("nodes", self.nodes, 3, 16)
        positive_int("colours", self.colours, 2, min(len(COLOURS), self.nodes))
        number_in("density", self.density, 0.1, 1.0)


def colourable(n: int, edges: Sequence[tuple[int, int]], k: int) -> bool:
    """Whether the graph has a proper ``k``-colouring (backtracking, n ≤ 16)."""
    adj: list[list[int]] = [[] for _ in range(n)]
    for a, b in edges:
        adj[a].append(b)
        adj[b].append(a)
    colour = [-1] * n

    def place(v: int, used: int) -> bool:
        if v == n:
            return True
        for c in range(min(k, used + 1)):  # symmetry: a new colour is always the next one
            if all(colour[u] != c for u in adj[v]):
                colour[v] = c
                if place(v + 1, max(used, c + 1)):
                    return True
        colour[v] = -1
        return False

    return place(0, 0)


@register_task
class GraphColoringTask(Task):
    """Colour the vertices of a graph with k colours (any proper colouring passes)."""

    name = "graph_coloring"
    domain = "logic"
    version = "3"
    description = "Properly colour a small graph with its chromatic number of colours."
    Config = GraphColoringConfig

    @classmethod
    def config_for_level(cls, level: int) -> GraphColoringConfig:
        """More vertices, more colours and denser graphs as levels rise."""
        nodes, colours, density = _LEVELS[check_level(level)]
        return GraphColoringConfig(nodes=nodes, colours=colours, density=density)

    def generate(self, config: GraphColoringConfig, rng: random.Random) -> Item:
        """Plant a colouring, join one vertex per class, add random edges across classes."""
        n, k = config.nodes, config.colours
        planted = list(range(k)) + [rng.randrange(k) for _ in range(n - k)]
        rng.shuffle(planted)
        reps = {planted.index(c) for c in range(k)}  # a k-clique forces k colours
        edges = [
            (a, b)
            for a, b in itertools.combinations(range(n), 2)
            if planted[a] != planted[b]
            and ((a in reps and b in reps) or rng.random() < config.density)
        ]
        if colourable(n, edges, k - 1):  # pragma: no cover - the clique prevents it
            raise RuntimeError("graph needs fewer colours than planted")
        names = COLOURS[:k]
        edge_text = ", ".join(f"{a + 1}-{b + 1}" for a, b in edges)
        example = ", ".join(names[i % k] for i in range(min(n, 3)))
        question = (
            f"A graph has vertices 1 to {n} and these edges: {edge_text}.\n\n"
            f"Colour every vertex with one of the colours {', '.join(names)} so that the two "
            "ends of every edge get different colours (any valid colouring is accepted). "
            f"Give the colours of vertices 1 to {n} in order, separated by commas, inside "
            f"answer tags, for example <answer>{example}, …</answer>."
        )
        return Item(
            question=question,
            answer=", ".join(names[c] for c in planted),
            spec={"nodes": n, "colours": list(names), "edges": [list(e) for e in edges]},
            difficulty=float(n + len(edges) / 2 + 3 * k),
            metadata={"edges": len(edges)},
        )

    def parse(self, spec: Mapping[str, Any], text: str) -> tuple[str, ...]:
        """The colours of vertices 1…n: a plain list, or ``1: red`` / ``Vertex 1 → red`` pairs."""
        n = int(spec["nodes"])
        allowed = [str(c).lower() for c in spec["colours"]]
        if len(text) > 60 * n + 200:
            raise ValueError("answer too long")
        refuse_hedge(text, "colours")
        names = "|".join(re.escape(c) for c in allowed)
        pairs = re.findall(
            rf"(?:\b(?:vertex|vertices|node|v)\s*)?\b(\d{{1,3}})\s*(?:[:=|\-→]|->|is)\s*(?:colou?red\s+)?({names})\b",
            text,
            flags=re.I,
        )
        if pairs:
            colours: dict[int, str] = {}
            for vertex, colour in pairs:
                v, c = int(vertex), colour.lower()
                if colours.setdefault(v, c) != c:
                    raise AmbiguousAnswer(f"vertex {v} gets two colours")
            if sorted(colours) != list(range(1, n + 1)):
                raise ValueError(f"expected a colour for each of the vertices 1 to {n}")
            return tuple(colours[v] for v in range(1, n + 1))
        tokens = parse_list(text, max_items=n + 5)
        if len(tokens) != n:
            tokens = parse_list(text, split_spaces=True, max_items=n + 5)
        if len(tokens) != n:
            raise ValueError(f"expected {n} colours, found {len(tokens)}")
        for token in tokens:
            if token not in allowed:
                raise ValueError(f"{token[:30]!r} is not one of the colours {allowed}")
        return tuple(tokens)

    def judge(self, spec: Mapping[str, Any], colours: tuple[str, ...]) -> Verdict | float:
        """No edge joins two equal colours."""
        for a, b in spec["edges"]:
            if colours[a] == colours[b]:
                return wrong(f"edge {a + 1}-{b + 1} joins two {colours[a]} vertices")
        return 1.0
