"""The reactor behind BMI 2.0 (``chemsolve.reactor.bmi.BmiReactor``): bmi-tester's three stages pass, and
a BMI update is the reactor's step.

bmi-tester 0.5.10 runs its stages with ``pytest.main`` on its own test folders; with pytest >= 8 the
conftest.py one level above them (its fixtures) is not loaded unless ``--confcutdir`` points there, so
the stages are run here as its ``bmi-test`` command runs them, with that option added, in a subprocess.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

pytest.importorskip("bmipy")

CONFIG = """\
database: phreeqc.dat
cells: 5
solution:
  totals: {Ca: 1.0, C(4): 2.0, Na: 1.0, Cl: 1.0}
  units: mmol/kgw
  pH: 7 charge
phases: {Calcite: [0.0, 0.1]}
exchange: {CaX2: 0.005, NaX: 0.001}
elements: [Mg]
kinetics:
  - {name: Dolomite, moles: 0.01, rate: {law: palandri_kharaka, area: 0.5}}
time_step: 3600.0
end_time: 36000.0
"""


@pytest.fixture()
def config(tmp_path):
    p = tmp_path / "reactor.yaml"
    p.write_text(CONFIG)
    return p


def reference_reactor(db):
    """The reactor the configuration above describes, built directly: what a BMI update must equal."""
    from chemsolve.aqueous import Solution
    from chemsolve.reactor import Kinetic, Reactor, palandri_kharaka

    w = Solution(db, totals={"Ca": 1.0, "C(4)": 2.0, "Na": 1.0, "Cl": 1.0}, units="mmol/kgw", pH="7 charge").speciate()
    return Reactor(db, 5, solution=w, phases={"Calcite": (0.0, 0.1)}, exchange={"CaX2": 0.005, "NaX": 0.001},
                   elements=["Mg"], kinetics=[Kinetic("Dolomite", palandri_kharaka("Dolomite", 0.5), moles=0.01)])


def test_bmi_tester_stages_pass(config, tmp_path):
    pytest.importorskip("bmi_tester")
    code = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        import bmi_tester
        from bmi_tester.api import check_bmi
        root = Path(bmi_tester.__file__).parent / "_tests"
        rcs = []
        for stage in sorted(root.glob("stage_*")):
            rcs.append(int(check_bmi("chemsolve.reactor.bmi:BmiReactor", tests_dir=str(stage),
                                     input_file={config.name!r}, manifest=[{config.name!r}],
                                     extra_args=["--confcutdir", str(root), "-p", "no:cacheprovider", "-q",
                                                 "-W", "ignore::UserWarning"])))
        print("RCS", rcs)
        sys.exit(max(rcs))
    """)
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert "RCS [0, 0, 0]" in r.stdout
    assert "passed" in r.stdout and "failed" not in r.stdout and "error" not in r.stdout.lower()


def test_bmi_update_is_a_reactor_step(config, db):
    from chemsolve.reactor.bmi import BmiReactor

    m = BmiReactor()
    m.initialize(str(config))
    assert m.get_grid_size(0) == 5 and m.get_time_step() == 3600.0
    na = np.empty(5)
    m.get_value("Na__concentration", na)
    na *= np.linspace(1.0, 3.0, 5)
    m.set_value("Na__concentration", na)
    m.update()
    assert m.get_current_time() == 3600.0
    rm = reference_reactor(db)
    c = rm.get_concentrations()
    c[:, rm.components.index("Na")] = na
    rm.set_concentrations(c)
    rm.step(3600.0)
    ph = np.empty(5)
    m.get_value("pH", ph)
    assert np.array_equal(ph, rm.pH)
    assert np.array_equal(m.get_value_ptr("CaX2__moles"), rm.exchange[:, rm.exchange_species.index("CaX2")])
    assert np.array_equal(m.get_value_ptr("Dolomite__kinetic_moles"), rm.kinetic_moles[:, 0])
    assert (rm.kinetic_moles[:, 0] < 0.01).all() and m.get_var_units("Dolomite__kinetic_moles") == "mol"
    m.update_until(4 * 3600.0)
    assert m.get_current_time() == 4 * 3600.0
    assert (m.get_value_ptr("step_status") == 0).all()
    m.finalize()


def test_bmi_bad_configuration_named(tmp_path):
    from chemsolve.errors import InvalidInputError
    from chemsolve.reactor.bmi import BmiReactor

    p = tmp_path / "bad.yaml"
    p.write_text(CONFIG.replace("cells: 5", "cells: 5\nwhatever: 1"))
    with pytest.raises(InvalidInputError, match="unknown key 'whatever'"):
        BmiReactor().initialize(str(p))
    p.write_text(CONFIG.replace("time_step: 3600.0", "time_step: -1"))
    with pytest.raises(InvalidInputError, match="time_step must be finite and > 0"):
        BmiReactor().initialize(str(p))
    p.write_text(CONFIG.replace("law: palandri_kharaka", "law: arrhenius"))
    with pytest.raises(InvalidInputError, match=r"kinetics\[0\]: rate law 'arrhenius'"):
        BmiReactor().initialize(str(p))
    p.write_text(CONFIG.replace("area: 0.5", "area: -0.5"))
    with pytest.raises(InvalidInputError, match=r"kinetics\[0\]: .*area"):
        BmiReactor().initialize(str(p))
    m = BmiReactor()
    p.write_text(CONFIG)
    m.initialize(str(p))
    with pytest.raises(InvalidInputError, match="not an input variable"):
        m.set_value("pH", np.zeros(5))


def test_bmi_update_until_reacts_exactly_the_time_asked(config, db):
    """update_until(t) with t not a multiple of the time step: whole steps, then one step of what is left, so
    the kinetics react over exactly t (PhreeqcRM's update_until reacts over t minus the current time). It
    used to take round((t - now) / dt) whole steps: 5400 s asked, 7200 s of dolomite dissolved (status 0),
    and 1000 s asked from 0 did nothing. Compared with the reactor stepped 3600 s then 1800 s: the same
    steps, bit for bit."""
    from chemsolve.errors import InvalidInputError
    from chemsolve.reactor.bmi import BmiReactor

    m = BmiReactor()
    m.initialize(str(config))
    m.update_until(5400.0)
    assert m.get_current_time() == 5400.0
    rm = reference_reactor(db)
    rm.set_concentrations(rm.get_concentrations())  # as the adapter's push before every step
    rm.step(3600.0)
    rm.set_concentrations(rm.get_concentrations())
    rm.step(1800.0)
    assert np.array_equal(m.get_value_ptr("Dolomite__kinetic_moles"), rm.kinetic_moles[:, 0])
    assert (m.get_value_ptr("step_status") == 0).all()
    with pytest.raises(InvalidInputError, match="update_until"):
        m.update_until(1000.0)  # back in time
    m.finalize()
