"""Where numba's compile time goes: a recorder of numba's ``numba:compile`` events, for the benchmarks
that measure first use (``benchmarks/first_use.py``, ``chemsolve.flash.bench.compile_times``).

    with compile_times() as times:
        ...  # anything that may compile kernels
    times  # {"module.qualname": [inclusive s, exclusive s, specialisations]}

Inclusive time counts the kernels a kernel's compilation compiled on the way (its callees), exclusive
time leaves them out. ``clock`` picks the clock (``time.perf_counter`` for wall time,
``time.process_time`` for CPU time, which a busy machine disturbs less).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from numba.core import event as ev

__all__ = ["compile_times"]


class _Recorder(ev.Listener):
    def __init__(self, clock: Callable[[], float]):
        self.clock = clock
        self.buffer: list[tuple[float, ev.Event]] = []

    def on_start(self, event: ev.Event) -> None:
        self.buffer.append((self.clock(), event))

    def on_end(self, event: ev.Event) -> None:
        self.buffer.append((self.clock(), event))


@contextmanager
def compile_times(clock: Callable[[], float] = time.perf_counter) -> Iterator[dict[str, list[float]]]:
    """Record the compilations inside the block; the yielded dict is filled when the block ends."""
    rec = _Recorder(clock)
    out: dict[str, list[float]] = {}
    ev.register("numba:compile", rec)
    try:
        yield out
    finally:
        ev.unregister("numba:compile", rec)
        stack: list[list] = []
        for ts, e in rec.buffer:
            d = e.data["dispatcher"]
            name = f"{d.py_func.__module__}.{d.py_func.__qualname__}"
            if e.is_start:
                stack.append([name, ts, 0.0])
                continue
            nm, t1, child = stack.pop()
            dt = ts - t1
            r = out.setdefault(nm, [0.0, 0.0, 0])
            r[0] += dt
            r[1] += dt - child
            r[2] += 1
            if stack:
                stack[-1][2] += dt
