"""The disk cache of the gas kernels is keyed by the source of every module they are built from.

numba keys a cached function by the source of its own file only, while a compiled function
contains the code of every function it calls: after an edit to ``gas_newton.py`` alone, the
cached ``gas.equil_rows`` would go on running the old Newton loop. Every gas kernel module imports
this one first; it puts a cache locator in front of numba's that serves the functions of the gas
kernel modules (the same cache files, next to the source or under NUMBA_CACHE_DIR) and stamps
them with a hash of all the modules below, so that any edit recompiles them all. (A released
package rewrites every file, which numba notices anyway; this is for a working copy.) If numba's
cache internals change shape, numba's own locators stay in charge and nothing else changes.
"""

from __future__ import annotations

import functools
import hashlib
import os

_HERE = os.path.dirname(os.path.abspath(__file__))
# the modules whose code ends up in the compiled gas kernels
SOURCES = ("borrow.py", "codes.py", "damping.py", "gas.py", "gas_cache.py", "gas_certificate.py", "gas_lp.py",
           "gas_newton.py", "gas_state.py", "gas_thermo.py", "gas_vecmath.py", "linalg.py", "pool.py")


@functools.cache
def _stamp(key: tuple) -> str:
    h = hashlib.sha256()
    for name in SOURCES:
        with open(os.path.join(_HERE, name), "rb") as f:
            h.update(name.encode() + b"\0" + f.read())
    return h.hexdigest()


def stamp() -> str:
    """A hash of the sources of every module in ``SOURCES`` (recomputed when one changes on disk)."""
    key = []
    for name in SOURCES:
        st = os.stat(os.path.join(_HERE, name))
        key.append((name, st.st_mtime_ns, st.st_size))
    return _stamp(tuple(key))


def _is_gas_kernel(py_file: str) -> bool:
    path = os.path.abspath(py_file)
    return os.path.dirname(path) == _HERE and os.path.basename(path) in SOURCES and \
        os.path.basename(path).startswith("gas")


def _install() -> None:
    try:
        from numba.core import caching
        impl = caching.CacheImpl
        bases = [c for c in impl._locator_classes
                 if c.__name__ in ("UserProvidedCacheLocator", "InTreeCacheLocator", "UserWideCacheLocator")]
    except (ImportError, AttributeError):  # numba's internals moved: keep its own locators
        return
    if any(getattr(c, "_chemsolve_gas", False) for c in impl._locator_classes):
        return
    ours = []
    for base in bases:

        def from_function(cls, py_func, py_file, _base=base):
            if not _is_gas_kernel(py_file):
                return None
            return super(cls, cls).from_function(py_func, py_file)

        ours.append(type("Gas" + base.__name__, (base,), {
            "_chemsolve_gas": True,
            "from_function": classmethod(from_function),
            "get_source_stamp": lambda self: stamp(),
        }))
    impl._locator_classes = ours + list(impl._locator_classes)


_install()
