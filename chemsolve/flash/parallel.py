"""Rows of a flash batch on several cores: the serial row kernels (``kernels.flash_*.*_rows(lo, hi, ...)``,
compiled with ``nogil=True``) called on chunks of rows from Python threads.

Why threads and not numba's ``prange``: a parallel kernel is a second compiled specialisation of the whole
call tree (numba's parfor lowering of ``tp_batch`` took 20 s on top of the serial kernel's compilation),
while the serial kernel is the one a single state needs anyway. A chunk is one kernel call that releases the
GIL, so two chunks run on two cores; the cost of a chunk's dispatch (a few microseconds) is spread over its
rows. A row's answer depends only on its chunk (a warm-started chunk starts cold at its first row), never on
the thread that solved it, so one thread and many give the same arrays.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

__all__ = ["run_rows"]

# rows per task of a batch that is not warm-started: small enough to balance the load (a near-critical
# row costs a hundred times an easy one), large enough that the dispatch of a task (~5-20 us) is noise
BALANCE_CHUNK = 64

_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def _pool(n: int) -> ThreadPoolExecutor:
    global _POOL
    with _POOL_LOCK:
        if _POOL is None or _POOL._max_workers < n:  # noqa: SLF001 - the pool's own size
            _POOL = ThreadPoolExecutor(max_workers=n, thread_name_prefix="chemsolve-flash")
        return _POOL


def threads_in_use() -> int:
    """numba's thread setting (``chemsolve.kernels.threads``): the number of cores a batch may use."""
    from ..kernels import threads

    return threads()[0]


def run_rows(kernel: Callable[..., Any], nrow: int, chunk: int | None, *args: Any) -> None:
    """Call ``kernel(lo, hi, *args)`` on every chunk of ``chunk`` rows of ``range(nrow)`` (None: any split,
    the rows are independent), on as many threads as numba's setting allows. Chunks are handed out in
    order to whichever thread is free. A KeyboardInterrupt in the caller stops the handing out; the chunks
    already running finish (a kernel call cannot be interrupted)."""
    if nrow <= 0:
        return
    nthr = threads_in_use()
    if chunk is None:
        if nthr == 1 or nrow <= BALANCE_CHUNK:
            kernel(0, nrow, *args)
            return
        chunk = BALANCE_CHUNK
    nchunk = -(-nrow // chunk)
    if nthr == 1 or nchunk == 1:
        for lo in range(0, nrow, chunk):
            kernel(lo, min(nrow, lo + chunk), *args)
        return
    counter = itertools.count()
    stop = threading.Event()

    def work() -> None:
        while not stop.is_set():
            ck = next(counter)
            if ck >= nchunk:
                return
            lo = ck * chunk
            kernel(lo, min(nrow, lo + chunk), *args)

    futures = [_pool(nthr).submit(work) for _ in range(min(nthr, nchunk))]
    try:
        for f in futures:
            f.result()
    except BaseException:
        stop.set()
        raise
