"""Chemistry for transport codes: ``Reactor`` holds a grid of cells, each a water with its equilibrium
phases, exchanger and kinetic reactants (``kinetics``), and reacts every cell after each transport
step (the role PhreeqcRM plays for MODFLOW, OpenGeoSys and others; DESIGN section 7).

    from chemsolve.aqueous import Solution, load_database
    from chemsolve.reactor import Reactor

    db = load_database("phreeqc.dat")
    water = Solution(db, totals={"Ca": 1e-3, "C(4)": 2e-3, "Na": 1e-3, "Cl": 1e-3}, units="mol/kgw").speciate()
    rm = Reactor(db, 1000, solution=water, phases={"Calcite": (0.0, 0.1), "Dolomite": (0.0, 0.05)},
                 exchange={"CaX2": 5e-3, "NaX": 1e-3})
    c = rm.get_concentrations()            # (cells, components) mol/kgw: H, O, Charge, then the elements
    ... transport moves c ...
    rm.set_concentrations(c)
    rm.step()                              # every cell to equilibrium, each from its own last state
    rm.status, rm.pH, rm.phase_moles, rm.exchange

Components are those PhreeqcRM transports: total H, total O, the charge imbalance and each element
(all its valence states), in moles per kg of water of each cell (``units="mol/kgw"``), moles per
cell (``"mol"``) or per litre as PhreeqcRM (``"mol/L"``, with porosity, saturation and representative
volume). What is solid (the phases) or sorbed (the exchanger) stays in its cell.
``Reactor.from_phreeqc(text, ncells, initial={"solution": [...], ...})`` makes the cells from a PHREEQC
input's numbered blocks (PhreeqcRM's InitialPhreeqc2Module); ``boundary_concentrations(solution=n)``
gives a numbered SOLUTION as transported components (InitialPhreeqc2Concentrations).

A step is one compiled batch over the cells (``aqueous.model.run``), each row warm-started from its
cell's last solution and certified like any reaction step (``aqueous.certificate``). Components are
conserved to round-off. A cell that fails keeps its last good state, its status says why, and the
others go on.
"""

from __future__ import annotations

from .core import Reactor
from .kinetics import TST, FirstOrder, Kinetic, Mechanism, Monod, UserRate, palandri_kharaka

__all__ = ["FirstOrder", "Kinetic", "Mechanism", "Monod", "Reactor", "TST", "UserRate", "palandri_kharaka"]
