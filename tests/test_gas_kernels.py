"""The shape of the compiled gas kernels (issue 13): one compiled form for every call, every kernel
loaded by ``warmup``, and a disk cache that notices an edit to any module the kernels are built from.

The answers themselves are tested against Cantera and CEA in test_gas.py, test_gas_certificate.py,
test_cantera_suite.py and test_gas_cea.py.
"""

from __future__ import annotations

import ast
import os
import warnings

import numpy as np
import pytest

pytest.importorskip("cantera")
numba = pytest.importorskip("numba")

from chemsolve import damping as dmp  # noqa: E402
from chemsolve.gas import GasMixture, ThermoRangeWarning, warmup  # noqa: E402

JIT = os.environ.get("NUMBA_DISABLE_JIT") != "1"


@pytest.mark.skipif(not JIT, reason="compiled specialisations only exist with the JIT")
def test_one_compiled_form_serves_every_call():
    """Single states and batches, read-only (broadcast) and writable inputs, warm and cold starts,
    every damping schedule, every mode, with and without condensed species and ions: all use one
    compiled form of the equilibrium kernel and of the certificate (a second form is a second
    compilation, tens of seconds on a cold cache)."""
    from chemsolve.kernels import gas as kg
    from chemsolve.kernels import gas_certificate as kc

    warnings.simplefilter("ignore", ThermoRangeWarning)  # flames above CH3O's 3000 K fit
    gri = GasMixture.from_cantera("gri30.yaml")
    gr = GasMixture.from_cantera("gri30.yaml", condensed=["graphite.yaml"])
    ion = GasMixture.from_cantera("gri30_ion.yaml")
    feed = {"CH4": 1.0, "O2": 2.0, "N2": 7.52}
    x = gri._feed_rows(feed)
    X = np.broadcast_to(x, (5, gri.n_species))  # read-only
    assert not X.flags.writeable
    T = np.broadcast_to(np.linspace(800.0, 2500.0, 5), (5,))
    for mode in ("TP", "HP", "SP", "TV", "UV"):
        gri.equilibrate(1500.0, 101325.0, feed, mode=mode)
        gri.equilibrate(T, 101325.0, X, mode=mode)
        gri.equilibrate(T, np.full(5, 2e5), x, mode=mode, warm_start=True)
    for sched in (dmp.Constant(0.5), dmp.Ramp(), dmp.Adaptive(), dmp.LineSearch()):
        gri.equilibrate(1500.0, 101325.0, feed, damping=sched)
    gr.equilibrate(923.0, 101325.0, elements={"C": 35.0, "H": 10.0, "O": 15.0})
    ion.equilibrate(3500.0, 101325.0, {"CH4": 1.0, "O2": 2.0, "N2": 7.52})
    assert len(kg.equil_rows.signatures) == 1, kg.equil_rows.signatures
    assert len(kc.certify_rows.signatures) == 1, kc.certify_rows.signatures


@pytest.mark.skipif(not JIT, reason="compiled specialisations only exist with the JIT")
def test_warmup_loads_every_gas_kernel():
    from chemsolve.kernels import gas as kg
    from chemsolve.kernels import gas_certificate as kc

    took = warmup()
    assert set(took) == {"gas kernels", "gas property kernels"} and all(v >= 0.0 for v in took.values())
    for d in (kg.equil_rows, kc.certify_rows, kc.property_batch, kc.feed_property_batch):
        assert d.signatures, d


def test_cache_stamp_covers_every_module_the_gas_kernels_import():
    """The disk cache of the gas kernels is stamped with the sources of all the modules their
    compiled code comes from (gas_cache.SOURCES): every gas module of chemsolve.kernels, and every
    module they import from it. A module missing from the list would let a stale kernel run after
    an edit to it."""
    from chemsolve.kernels import gas_cache

    here = os.path.dirname(gas_cache.__file__)
    gas_modules = sorted(f for f in os.listdir(here) if f.startswith("gas") and f.endswith(".py"))
    needed = set(gas_modules)
    for name in gas_modules:
        with open(os.path.join(here, name)) as f:
            tree = ast.parse(f.read())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                if node.module:
                    needed.add(node.module.split(".")[0] + ".py")
                else:
                    needed.update(a.name + ".py" for a in node.names)
    assert needed <= set(gas_cache.SOURCES), sorted(needed - set(gas_cache.SOURCES))
    assert len(gas_cache.stamp()) == 64


@pytest.mark.skipif(not JIT, reason="numba's cache locators only matter with the JIT")
def test_gas_kernels_use_the_gas_cache_locator():
    from chemsolve.kernels import gas as kg
    from chemsolve.kernels import gas_newton as kn

    for d in (kg.equil_rows, kn.newton_system, kn.final_check):
        assert getattr(type(d._cache._impl._locator), "_chemsolve_gas", False), d
