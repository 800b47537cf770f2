"""The initial solution calculation of an ``aqueous.Solution`` (PHREEQC's SOLUTION) on the compiled
model: its tableau (valence states given apart, redox couples, totals held by phases or by the
charge balance), its rows, the certificate and the water's conserved totals for reaction steps."""

from __future__ import annotations

import math

import numpy as np

from ..certificate import failed_message
from ..kernels import codes as _c
from ..status import Status
from . import model as _model
from .reaction_step import _peff, pr_log10_phi, water_state
from .speciation import SpeciationResult
from .system import build


def _tableau(sol, keys, couples, default, extra):
    db = sol.db
    ck = ("solution", tuple(keys), tuple(sorted(couples.items())), default, tuple(extra))
    cache = db.__dict__.setdefault("_model_tableaux", {})
    t = cache.get(ck)
    if t is None:
        t = build(db, list(keys), mode="initial", couples=couples, default_couple=default, extra_reactions=tuple(extra))
        if len(cache) > 256:
            cache.clear()
        cache[ck] = t
    return t


def _target(db, phase: str, si: float, T: float) -> float:
    """A phase's target SI; a gas with Peng-Robinson data: its fugacity at the partial pressure 10^SI
    (PHREEQC's adjust_setup_solution; the pressure capped at 10^3.5 atm as PHREEQC)."""
    ph = db.phases[phase]
    if ph.t_c > 0 and ph.p_c > 0:
        return si + pr_log10_phi(ph.t_c, ph.p_c, ph.omega, T, 10.0 ** min(si, 3.5))
    return si


def solve(sol, *, ionic_strength: str = "newton", damping=None):
    db = sol.db
    W = float(sol.water)
    T = float(sol.T)
    moles = sol.moles_per_kgw()
    totals = [t for t in sol._totals if moles[t.key] > 0]  # PHREEQC skips totals <= 0
    keys = [t.key for t in totals if not (sol._alk_ph and t.key == "Alkalinity")]
    couples = {t.key.split("(")[0]: t.redox for t in totals if t.redox is not None and "(" not in t.key}
    extra = sorted({t.phase for t in totals if t.how == "phase"}
                   | ({sol._pH[2]} if sol._pH[0] == "phase" else set())
                   | ({sol._pe[2]} if sol._pe[0] == "phase" else set()))
    t_ = _tableau(sol, keys, couples, sol._redox, extra)
    rows = _model.new_rows(t_, 1)
    rows.T[0], rows.P[0] = T, float(sol.P)
    by_key = {t.key: t for t in totals}
    nc = t_.nc
    for j, k in enumerate(t_.components):
        tot = by_key.get(k)
        v = moles.get(k, 0.0) * W
        rows.aux[0, j] = j
        rows.val[0, j] = v
        rows.XC[0, j] = math.log10(v / W / t_.atoms[j]) if v > 0 else -10.0
        if tot is None or tot.how == "mb":
            rows.kind[0, j] = _c.AQ_BALLOG if (v > 0 and k != "Alkalinity") else _c.AQ_BAL
        elif tot.how == "charge":
            rows.kind[0, j], rows.aux[0, j], rows.val[0, j] = _c.AQ_BAL, t_.b_charge, 0.0
        else:
            rows.kind[0, j] = _c.AQ_RX
            rows.aux[0, j] = t_.reactions.index(tot.phase)
            rows.val[0, j] = _target(db, tot.phase, tot.si, T)
    how, pH, ph_phase, ph_si = sol._pH
    rows.XC[0, t_.ih] = -pH
    if sol._alk_ph:  # alkalinity and carbon: the pH is adjusted to the alkalinity
        rows.kind[0, t_.ih], rows.aux[0, t_.ih], rows.val[0, t_.ih] = _c.AQ_BAL, t_.b_alk, moles["Alkalinity"] * W
    elif how == "fixed":
        rows.kind[0, t_.ih], rows.val[0, t_.ih] = _c.AQ_FIXED, -pH
    elif how == "charge":
        rows.kind[0, t_.ih], rows.aux[0, t_.ih], rows.val[0, t_.ih] = _c.AQ_BAL, t_.b_charge, 0.0
    elif how == "phase":
        rows.kind[0, t_.ih], rows.aux[0, t_.ih] = _c.AQ_RX, t_.reactions.index(ph_phase)
        rows.val[0, t_.ih] = _target(db, ph_phase, ph_si, T)
    pe_how, pe, pe_phase, pe_si = sol._pe
    ie = nc + 1
    rows.XC[0, ie] = -pe
    if pe_how == "phase":
        rows.kind[0, ie], rows.aux[0, ie] = _c.AQ_RX, t_.reactions.index(pe_phase)
        rows.val[0, ie] = _target(db, pe_phase, pe_si, T)
    else:
        rows.kind[0, ie], rows.val[0, ie] = _c.AQ_FIXED, -pe
    for c, cp in enumerate(t_.couples):
        k = nc + 2 + c
        rows.kind[0, k], rows.aux[0, k], rows.val[0, k] = _c.AQ_RX, t_.reactions.index(f"couple {cp}"), 0.0
        rows.XC[0, k] = -pe
    rows.kind[0, t_.ilw], rows.val[0, t_.ilw] = _c.AQ_FIXED, math.log10(W)
    rows.XC[0, t_.ilw] = math.log10(W)
    rows.XC[0, t_.iI] = math.log10(max(0.5 * sum(moles.values()), 1e-7))
    rows.X[:] = rows.XC
    raw = _model.run(t_, rows, mode=ionic_strength, damping=damping)
    st, msg = _model.status_message(raw.res[0], ionic_strength)
    X, m, lg, la = raw.X[0], raw.m[0], raw.lg[0], raw.la[0]
    pH_r, pe_r = -float(X[t_.ih]), -float(X[ie])
    si = {name: float(raw.si[0, i]) for i, name in enumerate(t_.reactions) if not name.startswith("couple ")}
    comp = {c: {t_.species[i]: float(t_.bal[i, j]) for i in np.flatnonzero(t_.bal[:, j])}
            for j, c in enumerate(t_.components)}
    res = SpeciationResult(
        status=st, message=msg, T=T, pH=pH_r, pe=pe_r, ionic_strength=float(raw.res[0, 4]),
        water_activity=float(raw.res[0, 5]), charge_balance=float(t_.z @ m),
        molality=dict(zip(t_.species, m.tolist())), activity=dict(zip(t_.species, (10.0 ** la).tolist())),
        log_gamma=dict(zip(t_.species, lg.tolist())), saturation_index=si,
        totals={t.key: moles[t.key] for t in sol._totals}, nit=int(raw.res[0, 1]), composition=comp,
        water_mass=W, P=float(sol.P))
    if st != Status.CONVERGED:
        return res
    from dataclasses import replace

    from .certificate import certify_states

    ckeys = list(t_.components) + (["Alkalinity"] if sol._alk_ph else [])
    ctot = [moles[k] if (by_key.get(k) is None or by_key[k].how == "mb") else np.nan for k in ckeys]
    fixed = {}
    for tt in totals:
        if tt.how == "phase":
            fixed[tt.phase] = _target(db, tt.phase, tt.si, T)
    if how == "phase":
        fixed[ph_phase] = _target(db, ph_phase, ph_si, T)
    if pe_how == "phase":
        fixed[pe_phase] = _target(db, pe_phase, pe_si, T)
    charge = how == "charge" or any(tt.how == "charge" for tt in totals)
    cert = certify_states(db, t_.species, ckeys, m[None, :], lg[None, :], pH_r, pe_r, T, res.ionic_strength,
                          res.water_activity, charge, np.array([ctot]), P=float(sol.P), fixed_si=fixed,
                          couples=couples, default_couple=sol._redox).row(0)
    if not cert.passed:
        return replace(res, status=Status.CHECK_FAILED, message=failed_message(cert), certificate=cert)
    # the water keeps the pressure it was at: above 100 C the saturation pressure (x a(H2O)), which a
    # later step at a lower temperature keeps (PHREEQC stores patm_x with the solution)
    state = water_state(db, t_.species, m, W, T, _peff(T, float(sol.P), res.water_activity), la, pH_r, pe_r,
                        res.ionic_strength,
                        res.water_activity)
    return replace(res, certificate=cert, state=state)


