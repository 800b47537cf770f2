"""The volume of a cell's solution as PHREEQC computes it (``calc_dens`` and ``calc_solution_volume`` in
PHREEQC's basicsubs.cpp), which PhreeqcRM divides the moles by in ``GetConcentrations`` (mol/L, with
``UseSolutionDensityVolume(true)``, its default), in ``InitialPhreeqc2Concentrations`` and when it scales
an initial SOLUTION into a cell (``InitialPhreeqc2Module``: by porosity * saturation * representative
volume / the solution's volume).

PHREEQC's density (after Millero 2000, as PHREEQC writes it): with M_T = sum m_i gfw_i [g/kgw] and
V_s = sum m_i Vm_i [cm3/kgw] over the aqueous species (H2O and e- excluded; Vm_i the species' molar
volume at T, P and I from its -Vm data, 0 without), rho = rho_0 (1000 + M_T) / (rho_0 V_s + 1000), and
the volume [L] = W (1 + M_T / 1000) / rho, with W the mass of water [kg] and rho_0 pure water's density
[kg/L]. rho_0 and Vm_i are those the certificate already computes (``aqueous.certificate._water``,
``_volumes``: PHREEQC's calc_rho_0 and calc_vm written again); gfw_i is the sum of the element weights of
the species' formula (SOLUTION_MASTER_SPECIES, PHREEQC's compute_gfw).

What can differ from PHREEQC: PHREEQC evaluates Vm_i in ``k_temp`` at the ionic strength of its last
iteration, not the converged one, and its molalities carry its own convergence tolerance; against
PhreeqcRM's GetSolutionVolume / InitialPhreeqc2Concentrations this gives 1e-10 to 1e-8 relative
(``tests/test_reactor_init.py``).
"""

from __future__ import annotations

import numpy as np


def species_data(db, species: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(counted, gfw [g/mol], charge, -Vm data (ns, 10)) of aqueous species; ``counted``: False for H2O,
    e- and anything without a formula (not solutes in PHREEQC's sums)."""
    counted = np.array([s not in ("H2O", "e-") and db.species[s].elements is not None for s in species], dtype=bool)
    gfw = np.array([sum(k * db.masters[el].gfw for el, k in db.species[s].elements.items()) if c else 0.0
                    for s, c in zip(species, counted)], dtype=float)
    z = np.array([db.species[s].charge for s in species], dtype=float)
    vm = np.array([db.species[s].vm if (c and db.species[s].vm is not None) else (0.0,) * 10
                   for s, c in zip(species, counted)], dtype=float).reshape(len(species), 10)
    return counted, gfw, z, vm


def solution_volume(data, molality: np.ndarray, T, P, I, aw, W) -> tuple[np.ndarray, np.ndarray]:
    """(volume [L], density [kg/L]) of N solutions: ``molality`` (N, ns) of the species of ``data``
    (``species_data``), T [K], P [atm], ionic strength, water activity, mass of water [kg] (N,)."""
    from ..aqueous.certificate import _volumes, _water

    counted, gfw, z, vm = data
    m = np.where(counted[None, :], np.asarray(molality, dtype=float), 0.0)
    N = m.shape[0]
    T, P, I, aw, W = (np.broadcast_to(np.asarray(v, dtype=float), (N,)) for v in (T, P, I, aw, W))
    w = _water(T, aw, P)
    V = _volumes(vm, z, T, I, w)
    rho0 = w["rho"]
    MT = (m * gfw[None, :]).sum(axis=1)
    Vs = (m * V).sum(axis=1)
    rho = np.where(MT > 0.0, rho0 * (1e3 + MT) / (rho0 * Vs + 1e3), rho0)
    return W * (1.0 + 1e-3 * MT) / rho, rho
