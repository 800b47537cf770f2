"""Threads for the batch kernels that share rows out themselves (``gas``, ``gas_certificate``).

A compiled function with ``nogil=True`` runs in parallel on Python threads: each thread calls it
once for its share of the chunks (chunk k to thread k mod threads). Unlike a ``prange`` loop this
compiles nothing more: numba's parallel lowering of a loop that calls a large kernel compiles that
kernel's code again into the loop's own module (measured: about as long as the kernel itself).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np


def thread_count(nchunk: int) -> int:
    """Threads to use for nchunk chunks: numba's thread count (``chemsolve.kernels.threads``), at
    most one per chunk."""
    import numba

    return max(1, min(numba.get_num_threads(), nchunk))


def run_threads(work: Callable[[int, int], None], nthreads: int) -> None:
    """Call ``work(k, nthreads)`` for k = 0 .. nthreads - 1, on this thread and nthreads - 1 others;
    re-raise the first exception (there is none from a compiled kernel: they return codes)."""
    if nthreads <= 1:
        work(0, 1)
        return
    errors: list[BaseException] = []

    def run(k: int) -> None:
        try:
            work(k, nthreads)
        except BaseException as exc:  # noqa: BLE001 - handed to the calling thread
            errors.append(exc)

    others = [threading.Thread(target=run, args=(k,), daemon=True) for k in range(1, nthreads)]
    for t in others:
        t.start()
    run(0)
    for t in others:
        t.join()
    if errors:
        raise errors[0]


def writable(a: Any, dtype: Any = np.float64) -> np.ndarray:
    """``a`` as a C-contiguous, writable array of ``dtype``: itself when it is one, else a copy.
    numba compiles a kernel for each combination of argument types, and a read-only or strided
    array (``np.broadcast_to``, a column) is another type: one form for every call means one
    compilation."""
    a = np.asarray(a)
    if a.dtype == dtype and a.flags.c_contiguous and a.flags.writeable:
        return a
    return np.array(a, dtype=dtype, order="C")
