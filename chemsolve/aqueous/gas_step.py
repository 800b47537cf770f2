"""A reaction step with a GAS_PHASE (``react(..., gas=...)``; the model: ``gas_phase``).

The gas's components take the slots of equilibrium phases in the compiled Newton system (``codes.GAS_FIXED_V``
/ ``GAS_FIXED_P``): slot g holds -n_g, the moles in the gas, whose initial moles are in the step's
totals; its row is SI_g = log10 n_g + target_g with target_g = log10(phi_g P / n_gas) (at a fixed
volume, P / n_gas = Z R T / V). The steps:

1. every row solved with the gas absent (its initial moles in the water): the water's partial
   pressures 10^SI_g. At a fixed pressure the gas is absent where they add up to no more than P (+1e-7
   atm, PHREEQC's mb_gases margin): that state is the answer;
2. elsewhere the gas takes part, from moles started at those partial pressures (capped by what the
   system holds), and the rows are solved again while phi_g, Z and the water's pressure (the gas's,
   PHREEQC's patm_x), taken from the last solve, change by more than ``SETTLE`` (at most
   ``MAX_REFRESH`` solves, each warm from the last; a row that does not settle is MAX_ITER).
"""

from __future__ import annotations

import math

import numpy as np

from ..kernels import codes as _c
from . import model as _model
from .gas_phase import R_LITER_ATM, GasPhase, pr_mixture
from .system import P_MAX

SETTLE = 1e-12  # [log10 units] largest change of a target or of log10 P between two solves that ends the refresh
MAX_REFRESH = 60
P_MARGIN = 1e-7  # [atm] PHREEQC's: a fixed-pressure gas takes part when its partial pressures exceed P by more
START_SCARCE = -30.0  # log10 activity a gas's element new to the water starts at (see solve)


def with_gas(st, g: GasPhase, terms):
    """The water's totals with the gas's initial moles added (step.cpp add_gas_phase); the mass of water
    to start from stays the water's (the gas's elements are no water: a CO2 gas of 20 mol would otherwise
    "remove" the water its canonical form counts)."""
    from dataclasses import replace

    from .reaction_step import add_terms

    new = add_terms(st, terms, [g.moles[k] for k in g.moles])
    return replace(new, water_at_start=None if st.water_at_start is None
                   else st.water_at_start + (new.water - st.water))


def start_pressure(g: GasPhase, T: float, P_water: float) -> float:
    """The water's pressure to start from: the gas's (fixed) pressure, or at a fixed volume that of its
    initial moles at T (the water's own when the gas is empty)."""
    if g.fixed == "pressure":
        return g.pressure
    if g.total_moles <= 0:
        return P_water
    return min(max(g.state(T)["pressure"], 1e-10), P_MAX)


def _combine(a: _model.Raw, b: _model.Raw, use_b: np.ndarray) -> _model.Raw:
    sel = use_b[:, None]
    return _model.Raw(np.where(sel, b.X, a.X), np.where(sel, b.res, a.res), np.where(sel, b.m, a.m),
                      np.where(sel, b.lg, a.lg), np.where(sel, b.la, a.la), np.where(sel, b.si, a.si),
                      np.where(sel, b.act, a.act))


def solve(db, t, rows, eq, gps: list[GasPhase], qg: list[int], mode, damping, chain, chunk):
    """Solve the rows with the gas (slots ``qg`` of ``eq``). Returns (raw, info): info has per row
    "present" (N,), "n" (N, ng) moles in the gas, "P" (N,) its pressure [atm], "V" (N,) its volume
    [L], "lphi" (N, ng), "settled" (N,)."""
    N = rows.n
    ng = len(qg)
    ip = t.nb + 2
    names = [eq[q].name for q in qg]
    slots = [ip + q for q in qg]
    fixed_p = gps[0].fixed == "pressure"
    T = rows.T.copy()
    Pg = np.array([g.pressure for g in gps], dtype=float)
    Vg = np.array([g.volume for g in gps], dtype=float)
    for q in qg:
        rows.lo[:, q] = -np.inf
        rows.hi[:, q] = np.inf
    # 1. the gas absent
    X_in, warm_in = rows.X.copy(), rows.warm.copy()
    rows.on[:, qg] = 0
    rows.act[:, qg] = 0
    raw0 = _model.run(t, rows, mode=mode, damping=damping, chain=chain, chunk=chunk)
    ok0 = raw0.status == _c.CONVERGED
    sicol = [t.reactions.index(k) for k in names]
    SI0 = raw0.si[:, sicol]
    p0 = np.where(np.isfinite(SI0), 10.0 ** np.minimum(SI0, 300.0), 0.0)
    psum = p0.sum(axis=1)
    # where the water with all of the gas dissolved in it is not solved (a reduced gas's CH4 and N2 in one
    # kg of water), the gas is tried present, from its own moles: at a fixed pressure a solution with
    # moles in the gas has partial pressures adding up to P, so the gas is present there
    present = ~ok0 | ((psum > Pg + P_MARGIN) if fixed_p else (psum > 0))
    info = {"present": present, "n": np.zeros((N, ng)), "P": np.where(fixed_p, Pg, rows.P), "V": np.zeros(N),
            "lphi": np.zeros((N, ng)), "settled": np.ones(N, dtype=bool), "names": names}
    if fixed_p:  # absent: the volume of nothing; its pressure the one held
        info["V"][:] = 0.0
    if not present.any():
        return raw0, info
    # 2. the gas present: moles to start from (what the system holds of each gas's scarcest element)
    comps = list(t.components)
    avail = np.full((N, ng), 1e-3)
    for j, k in enumerate(names):
        els = [(e, c) for e, c in db.phases[k].elements.items() if e not in ("H", "O")]
        if els:
            avail[:, j] = np.min(np.column_stack([rows.val[:, comps.index(e)] / c for e, c in els]), axis=1)
    x0 = p0 / np.where(psum > 0, psum, 1.0)[:, None]
    if fixed_p:
        Ng = np.maximum(1.0 - Pg / np.where(psum > 0, psum, 1.0), 1e-6) * (avail * x0).sum(axis=1)
        n0 = x0 * Ng[:, None]
    else:
        n0 = p0 * (Vg / (R_LITER_ATM * T))[:, None]
    n0 = np.minimum(n0, 0.5 * avail)
    n0 = np.where(x0 > 0, np.maximum(n0, 1e-30), 1e-30)
    given = np.array([[g.moles[k] for k in names] for g in gps], dtype=float).reshape(N, ng)
    n0 = np.where(ok0[:, None], n0, np.where(given > 0, given, np.minimum(1e-3, 0.5 * avail)))
    rows.X[:] = np.where(ok0[:, None], raw0.X, X_in)
    rows.warm[:] = np.where(ok0, 1, warm_in)
    # the water total of water and gas together can be negative (the canonical form of CH4 holds -2 H2O,
    # PHREEQC's total O less the gas's): the water's row is then linear, not a log of the total
    low = rows.val[:, t.ilw] <= 0.0
    rows.kind[low, t.ilw] = _c.AQ_BAL
    # there, an element the water did not hold (its start is its total over the water: N2 of a 100-atm gas
    # puts 15 mol/kgw of nitrate at pe 4, and NH4+ at 1e155) starts scarce in the water: the gas holds it
    gas_els = {e for k in names for e in db.phases[k].elements if e not in ("H", "O")}
    for j, k in enumerate(comps):
        if k in gas_els:
            fresh = ~ok0 & (X_in[:, j] == rows.XC[:, j])
            rows.X[fresh, j] = START_SCARCE
            rows.XC[fresh, j] = START_SCARCE
    rows.act[:] = raw0.act
    rows.on[:, qg] = present[:, None].astype(rows.on.dtype)
    rows.act[:, qg] = present[:, None].astype(rows.act.dtype)
    rows.X[:, slots] = np.where(present[:, None], -n0, 0.0)
    rows.XC[:, slots] = rows.X[:, slots]
    n = n0.copy()
    lphi = np.zeros((N, ng))
    Pw = rows.P.copy()
    target = np.zeros((N, ng))
    settled = ~present
    raw = raw0
    for it in range(MAX_REFRESH):
        if it > 0:  # a failed solve ends its row (its status says so)
            settled |= present & ((raw.status != _c.CONVERGED) | ~(n.sum(axis=1) > 0))
        # the fugacity coefficients, the gas's pressure and the targets at the moles n
        new_t = target.copy()
        new_P = Pw.copy()
        for r in np.flatnonzero(present & ~settled):
            P_r, _Vm, lp = pr_mixture(db, names, n[r], float(T[r]), P=Pg[r] if fixed_p else None,
                                      V=None if fixed_p else Vg[r])
            lphi[r] = lp
            new_P[r] = min(P_r, P_MAX)
            # the kernel's row adds log10 n_gas itself at a fixed pressure (the mole fraction)
            new_t[r] = lp + (math.log10(P_r) if fixed_p else math.log10(P_r / n[r].sum()))
        if it > 0:
            change = np.maximum(np.abs(new_t - target).max(axis=1), np.abs(np.log10(new_P / Pw)))
            settled |= present & (change <= SETTLE)
        if settled.all():
            break
        target, Pw = np.where(settled[:, None], target, new_t), np.where(settled, Pw, new_P)
        rows.si[:, qg] = target
        rows.P[:] = Pw
        raw = _model.run(t, rows, mode=mode, damping=damping, chain=chain, chunk=chunk)
        n = np.where(present[:, None], np.maximum(-raw.X[:, slots], 0.0), 0.0)
        rows.X[:] = np.where((raw.status == _c.CONVERGED)[:, None], raw.X, rows.X)
        rows.warm[:] = 1
        rows.act[:] = raw.act
    raw = _combine(raw0, raw, present)
    unsettled = present & ~settled & (raw.status == _c.CONVERGED)
    raw.res[unsettled, 0] = _c.MAX_ITER
    info.update(n=n, P=np.where(present, Pw, info["P"]), lphi=lphi, settled=~unsettled)
    Nt = n.sum(axis=1)
    for r in range(N):
        if present[r] and Nt[r] > 0:
            if fixed_p:
                _P, Vm, _ = pr_mixture(db, names, n[r], float(T[r]), P=Pg[r])
                info["V"][r] = Vm * Nt[r]
            else:
                info["V"][r] = Vg[r]
        elif not fixed_p:
            info["V"][r] = Vg[r]
    rows.P[:] = np.where(present, Pw, rows.P)
    return raw, info
