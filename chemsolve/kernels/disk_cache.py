"""The disk cache of every kernel is keyed by the source of every kernel module its code comes from.

numba keys a cached function by the source of its own file only, while a compiled function contains
the code of every function it calls: after an edit to ``aqueous_eqs.py`` alone, the cached
``aqueous_solve.solve_chunk`` would go on running the old equations (and ``gas.equil_rows`` the old
Newton loop after an edit to ``gas_newton.py``). Every kernel module imports this one first; it puts
a cache locator in front of numba's that serves the functions of this package (the same cache files,
next to the source or under NUMBA_CACHE_DIR) and stamps each with a hash of its own module and of
every module of this package it imports, directly or through others (``closure``, read from the
modules' ``from . import`` / ``from .x import`` statements), so that an edit to any of them
recompiles it, and an edit elsewhere does not. (A released package rewrites every file, which numba
notices anyway; this is for a working copy.) If numba's cache internals change shape, numba's own
locators stay in charge and nothing else changes.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import os

HERE = os.path.dirname(os.path.abspath(__file__))


@functools.cache
def _imports(path: str, key: tuple) -> tuple[str, ...]:
    """The modules of this package that the module at ``path`` imports (file names)."""
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                out.add(node.module.split(".")[0] + ".py")
            else:
                out.update(a.name + ".py" for a in node.names)
    return tuple(sorted(out))


def _key(path: str) -> tuple:
    st = os.stat(path)
    return (st.st_mtime_ns, st.st_size)


def closure(name: str, root: str = HERE) -> list[str]:
    """The file names of module ``name`` (e.g. "aqueous_solve.py") and of every module of the
    package in ``root`` it imports, directly or through others, sorted."""
    seen: set[str] = set()
    todo = [name]
    while todo:
        n = todo.pop()
        path = os.path.join(root, n)
        if n in seen or not os.path.isfile(path):
            continue
        seen.add(n)
        todo.extend(_imports(path, _key(path)))
    return sorted(seen)


@functools.cache
def _hash(files: tuple) -> str:
    h = hashlib.sha256()
    for path, _ in files:
        with open(path, "rb") as f:
            h.update(os.path.basename(path).encode() + b"\0" + f.read())
    return h.hexdigest()


def stamp(py_file: str, root: str = HERE) -> str:
    """A hash of the sources of ``py_file``'s module and of every module in its ``closure``
    (recomputed when one of them changes on disk)."""
    files = tuple((os.path.join(root, n), _key(os.path.join(root, n)))
                  for n in closure(os.path.basename(py_file), root))
    return _hash(files)


def _is_kernel(py_file: str) -> bool:
    return os.path.dirname(os.path.abspath(py_file)) == HERE


def _install() -> None:
    try:
        from numba.core import caching
        impl = caching.CacheImpl
        bases = [c for c in impl._locator_classes
                 if c.__name__ in ("UserProvidedCacheLocator", "InTreeCacheLocator", "UserWideCacheLocator")]
    except (ImportError, AttributeError):  # numba's internals moved: keep its own locators
        return
    if any(getattr(c, "_chemsolve_kernel", False) for c in impl._locator_classes):
        return
    ours = []
    for base in bases:

        def from_function(cls, py_func, py_file, _base=base):
            if not _is_kernel(py_file):
                return None
            loc = super(cls, cls).from_function(py_func, py_file)
            if loc is not None:
                loc._chemsolve_file = os.path.abspath(py_file)
            return loc

        ours.append(type("Chemsolve" + base.__name__, (base,), {
            "_chemsolve_kernel": True,
            "from_function": classmethod(from_function),
            "get_source_stamp": lambda self: stamp(self._chemsolve_file),
        }))
    impl._locator_classes = ours + list(impl._locator_classes)


_install()
