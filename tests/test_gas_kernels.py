"""The shape of the compiled gas kernels (issue 13): one compiled form for every call, every kernel
loaded by ``warmup``, and a disk cache that notices an edit to any module the kernels are built from.

The answers themselves are tested against Cantera and CEA in test_gas.py, test_gas_certificate.py,
test_cantera_suite.py and test_gas_cea.py.
"""

from __future__ import annotations

import os
import shutil
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


def test_cache_stamp_follows_every_module_a_kernel_imports(tmp_path):
    """The disk cache of every kernel is stamped with the sources of all the modules its compiled code
    comes from (disk_cache.closure: its own module and every kernel module it imports, directly or
    through others). Shown on a copy of the kernel package: an edit to aqueous_eqs.py changes the
    stamp of aqueous_solve.py (which calls it) and not that of gas_newton.py; an edit to linalg.py
    (imported by both) changes both. A missing module would let a stale kernel run after an edit."""
    from chemsolve.kernels import disk_cache

    for name in os.listdir(disk_cache.HERE):
        if name.endswith(".py"):
            shutil.copy(os.path.join(disk_cache.HERE, name), tmp_path / name)
    root = str(tmp_path)
    aq = set(disk_cache.closure("aqueous_solve.py", root))
    assert {"aqueous_eqs.py", "linalg.py", "damping.py", "codes.py"} <= aq
    assert {"gas_thermo.py", "gas_state.py", "linalg.py"} <= set(disk_cache.closure("gas.py", root))
    assert "aqueous_eqs.py" not in disk_cache.closure("gas_newton.py", root)

    def stamps():
        return {n: disk_cache.stamp(os.path.join(root, n), root) for n in ("aqueous_solve.py", "gas_newton.py")}

    s0 = stamps()
    assert all(len(v) == 64 for v in s0.values())
    with open(tmp_path / "aqueous_eqs.py", "a") as f:
        f.write("\n# an edit\n")
    s1 = stamps()
    assert s1["aqueous_solve.py"] != s0["aqueous_solve.py"] and s1["gas_newton.py"] == s0["gas_newton.py"]
    with open(tmp_path / "linalg.py", "a") as f:
        f.write("\n# an edit\n")
    s2 = stamps()
    assert s2["aqueous_solve.py"] != s1["aqueous_solve.py"] and s2["gas_newton.py"] != s1["gas_newton.py"]


@pytest.mark.skipif(not JIT, reason="numba's cache locators only matter with the JIT")
def test_kernels_use_the_chemsolve_cache_locator():
    from chemsolve.kernels import aqueous_solve as ka
    from chemsolve.kernels import flash_tp as kf
    from chemsolve.kernels import gas as kg
    from chemsolve.kernels import gas_newton as kn
    from chemsolve.kernels import solver as ks

    for d in (kg.equil_rows, kn.newton_system, kn.final_check, ka.solve_chunk, ka.solve_batch, kf.tp_rows,
              ks.make_workspace):
        assert getattr(type(d._cache._impl._locator), "_chemsolve_kernel", False), d
