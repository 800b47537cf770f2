"""The gas certificate (DESIGN.md section 3): every state the solver calls converged is re-checked here
before it may be labelled CONVERGED.

The checks are computed by ``chemsolve.kernels.gas_certificate`` (compiled, parallel over states,
its own NASA-polynomial evaluation and sums: no code of the solver, ``chemsolve.kernels.gas``, is
used). This module states the tolerances, turns the kernel's arrays into ``Certificate`` /
``BatchCertificate`` objects, and offers ``certify`` to check any state (also one that was changed
after the solve) and ``cost_share`` to measure what the certificate costs.

Checks and tolerances (``tol`` is the ``tol`` of ``GasMixture.equilibrate``, default 1e-9; the
solver's own final check holds the element balances, the held property and the gas-moles identity
to ``tol`` relative and the condensed conditions to ``tol`` RT):

=====================  ====================  ==================================================================
check                  tolerance             why
=====================  ====================  ==================================================================
element balance        tol + 1e-13           each element against its own total (a trace element, the
                                             charge 'E' too); the solver holds it to tol; rebuilding the
                                             amounts as X * moles from the reported values adds rounding of
                                             ~1e-15 (three roundings per term), the 1e-13 covers it 100-fold
T held (TP, TV)        0                     the temperature asked for is used as given: never clamped,
                                             never rounded (relative difference of the T the solver used)
P held (TP, HP, SP)    0                     likewise the pressure
V held (TV, UV)        1e-13                 V = N R T / P of the state against R T0 / P0 of the feed: the
                                             gas moles pass once through exp(ln N), ~1e-15
H / U held (HP, UV)    tol + 1e-12           relative to |H| + T (sum |n h| + 5/2 sum n_gas + sum n_c cp_c):
                                             the heat-capacity terms (cp/R >= 5/2 for an ideal gas, so a
                                             lower bound) make it a relative temperature error where the
                                             enthalpies nearly cancel (air near 298 K); the solver holds it
                                             to tol on a smaller scale; rounding 1e-14
S held (SP)            2 tol + 1e-12         as H, and the solver's entropy of mixing uses its gas moles N,
                                             which differ from sum n by up to tol (the gas-moles identity):
                                             at most N tol more, below tol of the scale (s/R > 1 per mole)
gas potential          tol + 1e-11 [RT]      |mu_j/RT - sum a_ij pi_i| of every gas species made of present
                                             elements, from ln X (trace species far below 1e-300 too). The
                                             solver builds ln n_j from pi exactly, so the residual is
                                             ln(N / sum n) <= tol, plus its first-order thermo carry
                                             (< 5e-15 |cp/R - h/RT|, ~5e-13) and rounding of terms up to
                                             ~1e3 in size (1e-12)
condensed potential    tol + 1e-11 [RT]      |g_c/RT - sum a_ic pi_i| of every condensed species present; the
                                             solver holds it to tol; rounding as above
condensed amount       0 [mol]               n_c >= 0 (the most negative amount, per mole of feed)
condensed window       0 [K]                 a condensed species present only inside its temperature window
                                             (``condensed_windows``)
absent condensed       tol + 1e-11 [RT]      no absent condensed species (made of present elements, inside its
                                             window) would lower G: g_c/RT - sum a_ic pi_i >= -tol; the solver
                                             adds any below -tol
=====================  ====================  ==================================================================
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..certificate import BatchCertificate, Certificate
from ..errors import InvalidInputError
from ..kernels import codes as _c

__all__ = ["certify", "tolerances", "check_names", "condensed_windows", "cost_share", "IndexedNames"]

R = 8.314462618  # [J/mol/K], as chemsolve.gas.mixture (Cantera's value)

# kernel column of each check (chemsolve.kernels.gas_certificate.CK_*), named per mode
_COLUMNS = {"element balance": 0, "T held": 1, "P held": 2, "V held": 2, "H held": 3, "U held": 3, "S held": 3,
            "gas potential": 4, "condensed potential": 5, "condensed amount": 6, "condensed window": 7,
            "absent condensed": 8}
_UNITS = {"element balance": "", "T held": "", "P held": "", "V held": "", "H held": "", "U held": "",
          "S held": "", "gas potential": "RT", "condensed potential": "RT", "condensed amount": "mol",
          "condensed window": "K", "absent condensed": "RT"}
_WHAT = {"element balance": "element", "gas potential": "gas", "condensed potential": "condensed",
         "condensed amount": "condensed", "condensed window": "condensed", "absent condensed": "condensed"}


def check_names(mode: str, has_condensed: bool = True) -> list[str]:
    """The checks of a mode, in order (the condensed ones only when the mixture has condensed species)."""
    mode = mode.upper()
    names = ["element balance"]
    if mode in ("TP", "TV"):
        names.append("T held")
    names.append("P held" if mode in ("TP", "HP", "SP") else "V held")
    if mode in ("HP", "UV", "SP"):
        names.append({"HP": "H held", "UV": "U held", "SP": "S held"}[mode])
    names.append("gas potential")
    if has_condensed:
        names += ["condensed potential", "condensed amount", "condensed window", "absent condensed"]
    return names


def tolerances(mode: str, tol: float = 1e-9) -> dict[str, float]:
    """{check: tolerance} for a mode and the solver's ``tol`` (the module docstring says why)."""
    t = {"element balance": tol + 1e-13, "T held": 0.0, "P held": 0.0, "V held": 1e-13,
         "H held": tol + 1e-12, "U held": tol + 1e-12, "S held": 2.0 * tol + 1e-12,
         "gas potential": tol + 1e-11, "condensed potential": tol + 1e-11, "condensed amount": 0.0,
         "condensed window": 0.0, "absent condensed": tol + 1e-11}
    return {k: t[k] for k in check_names(mode)}


def condensed_windows(Ac: np.ndarray, tmin: np.ndarray, tmax: np.ndarray) -> np.ndarray:
    """(nc, 2) temperature window [K] in which each condensed species may take part.

    A species' window is its fitted range, with one change: its lower end reaches down to the top
    of the next lower phase of the same formula (identical row of ``Ac``), or without limit (0 K)
    when there is none. So the lowest phase of a formula (ice, K(cr), KOH(a), or liquid water when
    the mixture has no ice) stays available below its fit, extrapolated, and no phase can appear
    on heating: the equilibrium enthalpy then rises with T (latent heats are taken up on heating,
    never given out), so HP, SP and UV have one solution, and a search pinned at a T bound means
    an infeasible target. Without it, a mixture whose only water is liquid above 273.15 K has two
    HP 'solutions' (CH4/air with 2 mol of water: 181 K all vapour, 363 K with liquid; Cantera's
    excluded_species_HP) and an HP search can stall below the lowest fit (Cantera's KOH test).
    Above its fitted range a species never takes part (an extrapolated liquid would condense in a
    flame); a phase of the same formula above takes over, as in CEA.
    """
    n = len(tmin)
    win = np.empty((n, 2))
    for c in range(n):
        same = [d for d in range(n) if d != c and np.array_equal(Ac[d], Ac[c])]
        lo = float(tmin[c])
        if any(tmin[d] < lo <= tmax[d] for d in same):  # a phase of this formula covers T just below
            low = lo
        else:
            below = [float(tmax[d]) for d in same if tmax[d] < lo]  # a gap down to the phase below
            low = max(below) if below else 0.0
        win[c] = (low, float(tmax[c]))
    return win


class IndexedNames:
    """Names of the worst element / species per row, stored as indices (cheap for 10^6 rows):
    ``obj[i]`` is ``names[idx[i]]``, or "" for -1."""

    __slots__ = ("idx", "names")

    def __init__(self, idx: np.ndarray, names: Sequence[str]):
        self.idx = idx
        self.names = list(names)

    def __getitem__(self, i: int) -> str:
        k = int(self.idx[i])
        return self.names[k] if 0 <= k < len(self.names) else ""

    def __len__(self) -> int:
        return int(self.idx.shape[0])

    def tolist(self) -> list[str]:
        return [self[i] for i in range(len(self))]


def _build(mix: Any, mode: str, values: np.ndarray, where: np.ndarray, checked: np.ndarray,
           tol: float) -> BatchCertificate:
    names = check_names(mode, len(mix.condensed_names) > 0)
    tols = tolerances(mode, tol)
    lists = {"element": mix.element_names, "gas": mix.species_names, "condensed": mix.condensed_names}
    vals = {k: values[:, _COLUMNS[k]] for k in names}
    wh = {k: IndexedNames(where[:, _COLUMNS[k]], lists[_WHAT[k]]) for k in names if k in _WHAT}
    return BatchCertificate(vals, {k: tols[k] for k in names}, wh, {k: _UNITS[k] for k in names},
                            checked, "gas")


def _tol_array(mode: str, tol: float) -> np.ndarray:
    from ..kernels import gas_certificate as kc  # noqa: PLC0415 - numba only when solving

    out = np.full(kc.N_CK, np.inf)  # a check the mode does not have holds 0 and cannot fail
    for k, v in tolerances(mode, tol).items():
        out[_COLUMNS[k]] = v
    return out


def certify_arrays(mix: Any, mode: str, Xfeed: np.ndarray, Treq: np.ndarray, Preq: np.ndarray,
                   target: np.ndarray, T: np.ndarray, P: np.ndarray, X: np.ndarray, lnX: np.ndarray,
                   moles: np.ndarray, nc: np.ndarray, pi: np.ndarray, status: np.ndarray, tol: float,
                   chunk: int = 256) -> BatchCertificate:
    """Certify the CONVERGED rows of a solve (arrays as ``GasMixture.equilibrate`` holds them; T is
    the temperature the solver used). Rows that fail become CHECK_FAILED in ``status`` (in place)."""
    from ..kernels import gas_certificate as kc  # noqa: PLC0415

    n = Xfeed.shape[0]
    checked = status == _c.CONVERGED
    values = np.empty((n, kc.N_CK))
    where = np.empty((n, kc.N_CK), dtype=np.int64)
    g, c = mix._gas, mix._cond
    f64 = lambda a: np.ascontiguousarray(a, dtype=np.float64)  # noqa: E731
    kc.certify_batch(_c.MODE_NAMES[mode], f64(Xfeed), f64(Treq), f64(Preq), f64(target), mix.A, g.coeffs,
                     g.bounds, g.nreg, g.lnpref, mix.Ac, c.coeffs, c.bounds, c.nreg, mix._cwin, f64(T), f64(P),
                     f64(X), f64(lnX), f64(moles), f64(nc), f64(pi), _tol_array(mode, tol), int(chunk),
                     status, values, where)
    return _build(mix, mode, values, where, checked, tol)


def certify(mix: Any, state: Any, X: Any, T: Any, P: Any, mode: str | None = None, *, H: Any = None,
            U: Any = None, S: Any = None, tol: float = 1e-9) -> Certificate | BatchCertificate:
    """Check a returned state against the request that produced it, independently of the solver.

    mix : the ``GasMixture``. state : a ``GasEquilibrium`` or ``GasBatch`` (as returned, or changed
    on purpose). X, T [K], P [Pa], H [J/kg], U [J/kg], S [J/kg/K] : the request, as given to
    ``equilibrate`` (mode: the state's, unless given). tol : the solver's ``tol``. Only states whose
    status is CONVERGED are checked; the state's T is taken as the temperature of its composition.
    Returns a ``Certificate`` for one state, a ``BatchCertificate`` for a batch.
    """
    from .mixture import GasEquilibrium, _targets  # noqa: PLC0415

    mode_u = str(mode or state.mode).upper()
    if mode_u not in _c.MODE_NAMES:
        raise InvalidInputError(f"mode={mode!r}; expected one of {sorted(_c.MODE_NAMES)}")
    one = isinstance(state, GasEquilibrium)
    if one:
        k = {n: i for i, n in enumerate(mix.condensed_names)}
        ncv = np.zeros((1, len(k)))
        for name, v in state.condensed.items():
            ncv[0, k[name]] = v
        arrs = dict(T=np.array([state.T]), P=np.array([state.P]), X=state.X[None, :], lnX=state.ln_X[None, :],
                    moles=np.array([state.moles]), nc=ncv,
                    pi=np.array([[state.element_potentials[e] for e in mix.element_names]]),
                    status=np.array([int(state.status)], dtype=np.int64))
    else:
        arrs = dict(T=state.T, P=state.P, X=state.X, lnX=state.ln_X, moles=state.moles, nc=state.condensed,
                    pi=state.element_potentials, status=np.asarray(state.status, dtype=np.int64).copy())
    n = arrs["X"].shape[0]
    feed = mix._feed_rows(X)
    Xb = np.ascontiguousarray(np.broadcast_to(feed, (n, mix.n_species)), dtype=float)
    Tb = np.ascontiguousarray(np.broadcast_to(np.asarray(T, dtype=float), (n,)))
    Pb = np.ascontiguousarray(np.broadcast_to(np.asarray(P, dtype=float), (n,)))
    target = _targets(mix, mode_u, Xb, n, H=H, U=U, S=S)
    from ..kernels import first_use  # noqa: PLC0415
    from ..kernels import gas_certificate as kc  # noqa: PLC0415

    with first_use("the gas certificate kernel", kc.certify_rows):
        cert = certify_arrays(mix, mode_u, Xb, Tb, Pb, target, arrs["T"], arrs["P"], arrs["X"], arrs["lnX"],
                              arrs["moles"], arrs["nc"], arrs["pi"], arrs["status"], tol)
    return cert.row(0) if one else cert


def cost_share(n: int = 10_000, repeats: int = 5, mechanism: str = "gri30.yaml",
               threads: int | None = None) -> dict[str, float]:
    """What the certificate costs on a warm HP sweep: n methane-air states (phi 0.5 .. 2.0, 300 K,
    1 atm, air as in models/gas/methane_air_flame.yaml), best of ``repeats`` for the whole warm
    ``equilibrate`` (which includes the certificate) and for the certificate alone on its result.

    threads : numba threads for both (default: as set). Returns {"n", "threads", "equilibrate_s",
    "certificate_s", "share", "converged"}; share = certificate / equilibrate. A measurement for a
    quiet machine: numbers taken while other work runs mean little.
    """
    from ..kernels import threads as _threads  # noqa: PLC0415
    from .mixture import GasMixture  # noqa: PLC0415

    prev, _ = _threads()
    if threads is not None:
        _threads(int(threads))
    try:
        mix = GasMixture.from_cantera(mechanism)
        phi = np.linspace(0.5, 2.0, n)
        X = np.zeros((n, mix.n_species))
        X[:, mix.species_index("CH4")] = phi / 2.0  # CH4 + 2 (O2 + 3.76 N2 + 0.0445 Ar) at phi = 1
        X[:, mix.species_index("O2")] = 1.0
        X[:, mix.species_index("N2")] = 3.76
        if "AR" in mix.species_names:
            X[:, mix.species_index("AR")] = 0.0445
        X /= X.sum(axis=1, keepdims=True)
        res = mix.equilibrate(300.0, 101325.0, X, mode="HP", warm_start=True)  # compile / load both kernels
        t_all = math.inf
        for _ in range(repeats):
            t0 = time.perf_counter()
            res = mix.equilibrate(300.0, 101325.0, X, mode="HP", warm_start=True)
            t_all = min(t_all, time.perf_counter() - t0)
        Tq = np.full(n, 300.0)
        Pq = np.full(n, 101325.0)
        tgt = np.full(n, np.nan)
        st = np.where(res.status == _c.CHECK_FAILED, _c.CONVERGED, res.status).astype(np.int64)
        t_cert = math.inf
        for _ in range(repeats):
            s = st.copy()
            t0 = time.perf_counter()
            certify_arrays(mix, "HP", X, Tq, Pq, tgt, res.T, res.P, res.X, res.ln_X, res.moles, res.condensed,
                           res.element_potentials, s, 1e-9)
            t_cert = min(t_cert, time.perf_counter() - t0)
        used, _ = _threads()
    finally:
        _threads(prev)
    return {"n": float(n), "threads": float(used), "equilibrate_s": t_all, "certificate_s": t_cert,
            "share": t_cert / t_all, "converged": float(np.count_nonzero(res.status == _c.CONVERGED))}
