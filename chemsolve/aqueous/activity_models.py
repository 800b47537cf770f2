"""The activity models a database selects, as arrays for the compiled model: SIT (sit.dat's SIT block),
Pitzer (pitzer.dat's PITZER block) and LLNL's B-dot (llnl.dat's LLNL_AQUEOUS_MODEL_PARAMETERS). The equations
are in ``chemsolve.kernels.aqueous_activity``; here the database's parameters are tied to the species of one
water, as PHREEQC's ``sit_tidy`` / ``pitzer_tidy`` / ``pitzer_make_lists`` tie them (pitzer.cpp, sit.cpp of PHREEQC 3):

- a parameter takes part when its species are among the water's aqueous species (the third of ZETA,
  PSI, MU, ETA is also tested per state: below 1e-25 mol/kgw it is absent, as PHREEQC's IPRSNT);
- B1 and B2 get alpha by charge type (2 and 12 when either ion is monovalent; 1.4 and 12 for 2-2;
  2 and 50 otherwise) unless an -ALPHAS row for the same ordered pair sets them;
- every pair of cations, and of anions, of unequal charge has an E-theta term;
- LAMDA and MU get PHREEQC's multiplicities for the log gamma and osmotic sums;
- MacInnes scaling (on unless the database says ``-MacInnes false``) needs Cl- and the K+ Cl-
  parameters; Cl- is kept as a species without molality when the water has no chloride.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from ..errors import InvalidInputError
from ..kernels.codes import (
    ACT_LLNL,
    ACT_NONE,
    ACT_PITZER,
    ACT_SIT,
    P_B0,
    P_B1,
    P_B2,
    P_C0,
    P_EPS,
    P_EPS1,
    P_EPS2,
    P_ETA,
    P_ETHETA,
    P_LAMDA,
    P_MU,
    P_PSI,
    P_THETA,
    P_ZETA,
)
from .database import Database

_PTYPE = {"B0": P_B0, "B1": P_B1, "B2": P_B2, "C0": P_C0, "THETA": P_THETA, "LAMDA": P_LAMDA, "ZETA": P_ZETA,
          "PSI": P_PSI, "MU": P_MU, "ETA": P_ETA, "EPSILON": P_EPS, "EPSILON1": P_EPS1, "EPSILON2": P_EPS2}
_THREE = ("ZETA", "PSI", "MU", "ETA")


def model_code(db: Database) -> int:
    """The activity model the compiled kernel runs for this database (ACT_*)."""
    if db.use_ion_association:
        return ACT_NONE
    m = db.activity_model
    if m == "llnl":
        return ACT_LLNL if db.llnl is not None else ACT_NONE
    return ACT_PITZER if m == "pitzer" else (ACT_SIT if m == "sit" else ACT_NONE)


def empty() -> tuple:
    """The arrays of no model (phreeqc.dat and the other ion-association databases)."""
    return pack_arrays(ACT_NONE, np.zeros(0), [], [], [], [], [], [], np.zeros((3, 7)), np.zeros(7), -1, 0, 0, 0)


def pack_arrays(code, z, ptype, pidx, pcoef, palpha, pln, pos, kcl, aphi, ic, icon, use_et, nreal) -> tuple:
    npar = len(ptype)
    return (np.array([code, len(z), ic, icon, use_et, nreal], dtype=np.int64),
            np.ascontiguousarray(z, dtype=np.float64),
            np.array(ptype, dtype=np.int64).reshape(npar),
            np.array(pidx, dtype=np.int64).reshape(npar, 3),
            np.array(pcoef, dtype=np.float64).reshape(npar, 6),
            np.array(palpha, dtype=np.float64).reshape(npar),
            np.array(pln, dtype=np.float64).reshape(npar, 3),
            np.array(pos, dtype=np.float64).reshape(npar),
            np.ascontiguousarray(kcl, dtype=np.float64), np.ascontiguousarray(aphi, dtype=np.float64))


def _coeffs(par) -> list[float]:
    return list(par.coeffs) + [0.0] * (6 - len(par.coeffs))


def pack(db: Database, species: list[str]) -> tuple:
    """The model's arrays for the aqueous species ``species`` (the tableau's, in its order)."""
    code = model_code(db)
    if code == ACT_NONE:
        return empty()
    name = Path(db.path).name
    sp = list(species)
    nreal = len(sp)
    z = [db.species[s].charge for s in sp]
    idx = {s: i for i, s in enumerate(sp)}
    if code == ACT_LLNL:  # the table [T (C), A, B, Bdot], the CO2 coefficients (aqueous_activity.llnl_gammas)
        ll = db.llnl
        assert ll is not None
        tbl = [[t, a, b, bd, 0.0, 0.0] for t, a, b, bd in zip(ll.temperatures, ll.dh_a, ll.dh_b, ll.bdot)]
        nt = len(tbl)
        return pack_arrays(ACT_LLNL, np.array(z), [0] * nt, [[-1, -1, -1]] * nt, tbl, [0.0] * nt, [[0.0] * 3] * nt,
                           [0.0] * nt, np.zeros((3, 7)), np.array([1.0] + list(ll.co2_coefs) + [0.0]), -1,
                           int(bool(ll.use_phreeqc_dha_dhb)), 0, nreal)
    if code == ACT_SIT:
        assert db.sit is not None
        rows = []
        for par in db.sit.parameters.values():
            a, b = par.species[:2]
            if a in idx and b in idx:
                rows.append((_PTYPE[par.kind], (idx[a], idx[b], -1), _coeffs(par)))
        return pack_arrays(ACT_SIT, np.array(z), [r[0] for r in rows], [r[1] for r in rows],
                           [r[2] for r in rows], [0.0] * len(rows), [[0.0] * 3] * len(rows), [0.0] * len(rows),
                           np.zeros((3, 7)), np.zeros(7), -1, 0, 0, nreal)
    pz = db.pitzer
    assert pz is not None
    icon = pz.macinnes is not False
    use_et = pz.use_etheta is not False
    kcl = np.zeros((3, 7))
    for r, kind in enumerate(("B0", "B1", "C0")):
        kpar = pz.parameters.get((kind, ("Cl-", "K+")))
        if kpar is not None:
            kcl[r] = [1.0] + _coeffs(kpar)
    if icon and not kcl[:, 0].any():
        warnings.warn(f"{name}: no K+ Cl- Pitzer parameters: MacInnes scaling off (as PHREEQC)", stacklevel=3)
        icon = False
    ic = -1
    if icon:
        if "Cl-" not in db.species:
            raise InvalidInputError(f"{name}: MacInnes scaling needs the species Cl-, which the database lacks")
        if "Cl-" not in idx:  # kept without molality (PHREEQC keeps Cl- in its lists for the scaling)
            idx["Cl-"] = len(sp)
            sp.append("Cl-")
            z.append(db.species["Cl-"].charge)
        ic = idx["Cl-"]
    aphi = np.zeros(7)
    if pz.aphi is not None:
        aphi[:] = [1.0] + _coeffs(pz.aphi)
    zz = np.array(z)
    ptype, pidx, pcoef, palpha, pln, pos = [], [], [], [], [], []
    alphas = {}
    for par in pz.parameters.values():
        if par.kind == "ALPHAS":
            alphas[tuple(par.species[:2])] = (par.coeffs + (0.0, 0.0))[:2]
    for par in pz.parameters.values():
        if par.kind in ("ALPHAS", "APHI"):
            continue
        names = par.species[:3] if par.kind in _THREE else par.species[:2]
        if any(s not in idx for s in names):
            continue
        ii = [idx[s] for s in names] + [-1] * (3 - len(names))
        alpha = 0.0
        ln = [0.0, 0.0, 0.0]
        os_ = 0.0
        if par.kind in ("B1", "B2"):
            z0, z1 = abs(zz[ii[0]]), abs(zz[ii[1]])
            order = 1 if (abs(z0 - 1) < 1e-8 or abs(z1 - 1) < 1e-8) else (2 if abs(z0 - 2) < 1e-8 and
                                                                            abs(z1 - 2) < 1e-8 else 3)
            if par.kind == "B1":
                alpha = 1.4 if order == 2 else 2.0
            else:
                alpha = 50.0 if order == 3 else 12.0
            given = alphas.get(tuple(par.species[:2]))
            if given is not None:
                alpha = given[0] if par.kind == "B1" else given[1]
        elif par.kind == "LAMDA":
            ln, os_ = ([1.0, 1.0, 0.0], 0.5) if ii[0] == ii[1] else ([2.0, 2.0, 0.0], 1.0)
        elif par.kind == "MU":
            ln, os_ = _mu_coefs(ii, zz)
        ptype.append(_PTYPE[par.kind])
        pidx.append(ii)
        pcoef.append(_coeffs(par))
        palpha.append(alpha)
        pln.append(ln)
        pos.append(os_)
    for sign in (1.0, -1.0):  # E-theta: every pair of cations, and of anions, of unequal charge
        ions = [i for i in range(len(sp)) if zz[i] * sign > 0.001]
        for ia in range(len(ions)):
            for ib in range(ia + 1, len(ions)):
                i, j = ions[ia], ions[ib]
                if zz[i] != zz[j]:
                    ptype.append(P_ETHETA)
                    pidx.append([i, j, -1])
                    pcoef.append([0.0] * 6)
                    palpha.append(0.0)
                    pln.append([0.0] * 3)
                    pos.append(0.0)
    return pack_arrays(ACT_PITZER, zz, ptype, pidx, pcoef, palpha, pln, pos, kcl, aphi, ic, int(icon), int(use_et),
                       nreal)


def _mu_coefs(ii, z):
    """PHREEQC's multiplicities of a MU row (pitzer_tidy): for the log gamma of each species and for
    the osmotic sum."""
    neut = sum(1 for i in ii if z[i] == 0)
    i0, i1, i2 = ii
    if neut == 3:
        os_ = 1.0 if i0 == i1 == i2 else (3.0 if (i0 == i1 or i1 == i2 or i0 == i2) else 6.0)
    else:
        os_ = 3.0 if (i0 == i1 or i1 == i2 or i0 == i2) else 6.0
    count = [sum(1 for k in ii if k == ii[j]) for j in range(3)]
    ln = [0.0, 0.0, 0.0]
    for j in range(3):
        if z[ii[j]] != 0:
            ln[j] = 3.0 if (count[0] > 1 or count[1] > 1) else 6.0
        elif count[j] == 3:
            ln[j] = 1.0
        elif count[j] == 2:
            ln[j] = 3.0
        else:
            ln[j] = 3.0 if (count[0] > 1 or count[1] > 1) else 6.0
    return ln, os_


def log_gamma_phi(am: tuple, m: np.ndarray, I: np.ndarray, T: np.ndarray, P: np.ndarray,
                  A: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """log10 gamma (N, n real species) and the osmotic coefficient (N,) of N states, each from its own
    molalities m (N, n), ionic strength, T [K], P [atm] and Debye-Hueckel A."""
    from ..kernels import aqueous as _k

    N = m.shape[0]
    nreal = int(am[0][5])
    nm = int(am[0][1])
    lg = np.zeros((N, nreal))
    phi = np.zeros(N)
    buf = np.zeros(nm)
    for r in range(N):
        phi[r] = _k.model_log_gamma(am, np.ascontiguousarray(m[r], dtype=np.float64), float(I[r]), float(T[r]),
                                    float(P[r]), float(A[r]), buf)
        lg[r] = buf[:nreal]
    return lg, phi
