"""The actor pool's scheduling (``map_actors``) on a deterministic stand-in for Ray.

Each actor runs its calls in order; of all calls in flight, the oldest finishes first.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any

import pytest
import tracemill.flows.executor as executor


class _Ref:
    def __init__(self, seq: int, value: Any) -> None:
        self.seq, self.value = seq, value


class FakeRay:
    def __init__(self) -> None:
        self.seq = 0
        self.killed = 0

    def remote(self, cls: type) -> Any:
        ray = self

        class Method:
            def __init__(self, fn: Any) -> None:
                self.fn = fn

            def remote(self, *args: Any) -> _Ref:
                ray.seq += 1
                return _Ref(ray.seq, self.fn(*args))

        class Handle:
            def __init__(self, obj: Any) -> None:
                self.run = Method(obj.run)

        class Factory:
            def options(self, **_: Any) -> Factory:
                return self

            def remote(self, *init: Any) -> Handle:
                return Handle(cls(*init))

        return Factory()

    def wait(self, refs: list[_Ref], num_returns: int = 1) -> tuple[list[_Ref], list[_Ref]]:
        first = min(refs, key=lambda r: r.seq)
        return [first], [r for r in refs if r is not first]

    def get(self, ref: _Ref) -> Any:
        return ref.value

    def kill(self, handle: Any, no_restart: bool = True) -> None:
        self.killed += 1


class Echo:
    def __init__(self, tag: str) -> None:
        self.tag = tag

    def run(self, i: int) -> tuple[str, int]:
        return self.tag, i


@pytest.fixture
def fake_ray(monkeypatch):
    ray = FakeRay()
    monkeypatch.setattr(executor, "connect", lambda address=None: ray)
    return ray


def _run(n: int, actors: int, **kw: Any) -> tuple[list[int], list[str], int]:
    """Results, a log of what happened (read i / yield i / hold / release), calls consumed."""
    log: list[str] = []
    consumed = 0

    def calls():
        nonlocal consumed
        for i in range(n):
            consumed += 1
            log.append(f"read {i}")
            yield (i,)

    @contextmanager
    def hold():
        log.append("hold")
        yield
        log.append("release")

    got = []
    for _tag, i in executor.map_actors(Echo, ("x",), calls(), address=None, actors=actors,
                                       hold=hold, **kw):  # fmt: skip
        log.append(f"yield {i}")
        got.append(i)
        # lazily consumed: never more than depth calls per actor in flight, plus (in
        # rounds) the finished results kept for the next round
        ahead = actors * kw.get("depth", 2) * (2 if kw.get("low_water") is not None else 1)
        assert consumed - len(got) <= ahead
    return got, log, consumed


def test_every_result_once_and_one_hold_per_result_by_default(fake_ray):
    got, log, consumed = _run(20, actors=2)
    assert sorted(got) == list(range(20)) and consumed == 20
    assert log.count("hold") == 20 + 1  # the first round, then one per result
    assert log.count("hold") == log.count("release")
    assert fake_ray.killed == 2


def test_rounds_share_one_hold_among_several_results(fake_ray):
    got, log, consumed = _run(60, actors=2, depth=3, low_water=1)
    assert sorted(got) == list(range(60)) and consumed == 60
    holds = log.count("hold")
    assert holds == log.count("release")
    assert holds <= 60 // 2, holds  # about a third of the results' count, never one each
    # results are handed back only inside a hold, after the refill that preceded them
    inside = False
    for entry in log:
        if entry == "hold":
            inside = True
        elif entry == "release":
            inside = False
        elif entry.startswith("yield"):
            assert inside


def test_rounds_never_leave_an_actor_idle(fake_ray):
    """At the moment a round is due, the finished actor still has a call queued
    (low_water=1), so refilling never waits on an empty actor."""
    seen: list[int] = []

    class Watch(Echo):
        def run(self, i: int) -> tuple[str, int]:
            seen.append(i)
            return super().run(i)

    results = list(executor.map_actors(Watch, ("w",), ((i,) for i in range(30)), address=None,
                                       actors=3, depth=3, low_water=1))  # fmt: skip
    assert sorted(i for _, i in results) == list(range(30))
    assert sorted(seen) == list(range(30))


def test_rounds_come_as_lists_and_the_tail_one_by_one(fake_ray):
    rounds = list(executor.map_actor_rounds(Echo, ("r",), ((i,) for i in range(40)),
                                            address=None, actors=2, depth=3, low_water=1))  # fmt: skip
    assert sorted(i for r in rounds for _, i in r) == list(range(40))
    assert max(len(r) for r in rounds) >= 3  # several results share a round
    assert all(len(r) == 1 for r in rounds[-4:])  # input exhausted: each as it comes


def test_a_short_input_is_handed_back_whole(fake_ray):
    got, _, _ = _run(2, actors=4, depth=3, low_water=1)
    assert sorted(got) == [0, 1]
    got, _, _ = _run(0, actors=2, depth=3, low_water=1)
    assert got == []
