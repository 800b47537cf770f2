"""Importing chemsolve compiles nothing and pulls in no heavy optional package."""

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.nojit

CHECK = """
import json, sys, time
t = time.perf_counter()
import chemsolve
dt = time.perf_counter() - t
heavy = [m for m in ("numba", "chemsolve.kernels.solver", "openai", "cantera", "dask", "matplotlib") \
if m in sys.modules]
print(json.dumps([dt, heavy]))
"""


def test_import_is_light_and_compiles_nothing():
    out = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, check=True)
    dt, heavy = json.loads(out.stdout.strip().splitlines()[-1])
    assert heavy == []  # numba is not even imported, so nothing can be compiled
    assert dt < 1.0, f"import took {dt:.2f} s"


def test_public_names():
    import chemsolve as cs

    for name in ("solve", "solve_batch", "damping", "Status", "SolveResult", "BatchResult", "ConvergenceError"):
        assert hasattr(cs, name)
    for name in ("Constant", "Ramp", "Adaptive", "LineSearch"):
        assert hasattr(cs.damping, name)


def test_submodules_resolve_lazily_without_importing_numba():
    code = ("import sys, chemsolve as cs; mods = [cs.aqueous, cs.gas, cs.advisors, cs.models, cs.sweeps, "
            "cs.certificate]; print('numba' in sys.modules, all(m.__name__.startswith('chemsolve.') for m in mods))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]
    import chemsolve as cs

    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        cs.nonexistent  # noqa: B018


def test_version_is_written_once():
    import importlib.metadata

    import chemsolve as cs

    assert importlib.metadata.version("chemsolve") == cs.__version__
