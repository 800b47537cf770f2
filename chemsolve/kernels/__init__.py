"""Numba kernels. The only package that imports numba; importing it compiles nothing.

Submodules: ``codes`` (plain integers, no numba), ``linalg``, ``solver``.
"""


def threads(n: int | None = None) -> tuple[int, int]:
    """Set numba's thread count to ``n`` (when given); return (threads in use, most allowed)."""
    import numba

    if n is not None:
        numba.set_num_threads(n)
    return numba.get_num_threads(), numba.config.NUMBA_NUM_THREADS
