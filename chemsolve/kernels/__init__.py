"""Numba kernels. The only package that imports numba; importing it compiles nothing.

Submodules: ``codes`` (plain integers, no numba), ``damping`` (what each damping code means),
``linalg``, ``solver`` (the engine's loop), ``aqueous``, ``gas`` and their certificates.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

# A kernel call that has not returned after this many seconds on its first use in a process is
# compiling (a cached kernel loads in well under a second): say so on stderr, so that nobody waits
# silently (DESIGN.md section 1). CHEMSOLVE_QUIET=1 silences it.
NOTICE_AFTER_S = 1.0


def threads(n: int | None = None) -> tuple[int, int]:
    """Set numba's thread count to ``n`` (when given); return (threads in use, most allowed)."""
    import numba

    if n is not None:
        numba.set_num_threads(n)
    return numba.get_num_threads(), int(numba.config.NUMBA_NUM_THREADS)  # type: ignore[attr-defined]


_announced: set[str] = set()


@contextmanager
def first_use(what: str, *dispatchers: Any, note: str = "first use only; cached on disk afterwards",
              stream: Any = None) -> Iterator[None]:
    """Around the first call of compiled kernels in a process: when the call takes longer than
    ``NOTICE_AFTER_S`` (numba is compiling them: first use on this machine, or a kernel that is
    compiled per process), print ``chemsolve: compiling <what> (first use only) ...`` on stderr,
    and the seconds it took when done. Later calls (the dispatchers already hold a compiled or
    cache-loaded specialisation) run without a timer."""
    if what in _announced or os.environ.get("CHEMSOLVE_QUIET") == "1" or any(
            getattr(d, "signatures", None) for d in dispatchers):
        yield
        return
    out = stream if stream is not None else sys.stderr
    said = threading.Event()
    t0 = time.perf_counter()

    def notice() -> None:
        said.set()
        print(f"chemsolve: compiling {what} ({note}) ...", file=out, flush=True)

    timer = threading.Timer(NOTICE_AFTER_S, notice)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        _announced.add(what)
        if said.is_set():
            print(f"chemsolve: {what} ready ({time.perf_counter() - t0:.1f} s)", file=out, flush=True)
