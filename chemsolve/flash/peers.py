"""Live peers of the flash model, with the same constants: ``thermo`` (C. Bell, pure Python) and
``thermopack`` (SINTEF, Fortran). Used by the validation tests and by ``chemsolve.flash.bench``.

Both are built from a ``Mixture``'s own Tc, Pc, omega and k_ij, so the three codes solve the same
equations:

- thermo: ``FlashVL`` over ``CEOSLiquid`` / ``CEOSGas`` of ``PRMIX`` (PR 1976), ``PR78MIX`` or ``SRKMIX``
  with identical Tcs, Pcs, omegas, kijs; ideal-gas heat capacities ``HeatCapacityGas`` with the
  ``POLING_POLY`` method (the Poling table this package bundles) when every component has one. thermo's
  alpha functions are the Soave form with the same m(omega) (checked in the tests), its Omega_a, Omega_b
  the exact values, R = 8.314462618. ``tight=True`` tightens thermo's successive-substitution
  tolerance (``PT_SS_TOL``, a sum of squared fugacity-ratio errors, default 1e-13: fugacities to ~3e-7)
  to 1e-26 so its answers are converged to ~1e-13 and can be compared at 1e-8.
- thermopack: ``cubic`` with every component declared ``PSEUDO`` and set by ``init_pseudo`` to the same
  Tc, Pc, omega, M (thermopack's own database holds other constants for the same names), k_ij set pair
  by pair; alpha "Classic" (PR 1976 / Soave) or "PR78". Its EOS constants equal ours: ln phi agrees to
  ~1e-15 (tests/test_flash_peers.py).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "POOL",
    "gibbs",
    "split_difference",
    "thermo_flasher",
    "thermo_tp",
    "thermopack_eos",
    "thermopack_states",
    "thermopack_tp",
    "validation_cases",
]


def thermo_flasher(mix: Any, tight: bool = True) -> Any:
    """A thermo ``FlashVL`` for ``mix`` (same constants and k_ij)."""
    from thermo import (
        PR78MIX,
        PRMIX,
        SRKMIX,
        CEOSGas,
        CEOSLiquid,
        ChemicalConstantsPackage,
        FlashVL,
        PropertyCorrelationsPackage,
    )

    cls = {"PR": PRMIX, "PR78": PR78MIX, "SRK": SRKMIX}[mix.eos]
    cas = [c.cas or f"00000-00-{i}" for i, c in enumerate(mix.components)]
    constants = ChemicalConstantsPackage(Tcs=list(mix.Tc), Pcs=list(mix.Pc), omegas=list(mix.omega),
                                         MWs=[float(m) if np.isfinite(m) else 100.0 for m in mix.MW], CASs=cas)
    cps = None
    if mix.has_cp:
        from thermo.heat_capacity import HeatCapacityGas

        from .eos import R

        cps = []
        for c in mix.components:
            # the same polynomial, used at every T as chemsolve does (the range 1..10000 K keeps thermo from
            # switching to its linear extrapolation outside the fit's own range)
            h = HeatCapacityGas()
            a = [R * v for v in c.cp]
            h.add_correlation(name="POLY", model="DIPPR100", Tmin=1.0, Tmax=10000.0, A=a[0], B=a[1], C=a[2],
                              D=a[3], E=a[4])
            h.method = "POLY"
            cps.append(h)
    props = PropertyCorrelationsPackage(constants, HeatCapacityGases=cps, skip_missing=True)
    kw = {"Tcs": list(mix.Tc), "Pcs": list(mix.Pc), "omegas": list(mix.omega), "kijs": mix.kij.tolist()}
    liq = CEOSLiquid(cls, kw, HeatCapacityGases=cps)
    gas = CEOSGas(cls, kw, HeatCapacityGases=cps)
    fl = FlashVL(constants, props, liquid=liq, gas=gas)
    if tight:
        fl.PT_SS_TOL = 1e-26
    return fl


def thermo_tp(flasher: Any, T: float, P: float, z: Any) -> dict[str, Any]:
    """thermo's (T, P) flash as {phases, beta, x, y}: y the phase thermo calls gas (its phase
    identification), NaN for an absent phase; {"error": text} when thermo raised. Compare splits with
    ``split_difference``, which matches phases by composition, not by label."""
    try:
        r = flasher.flash(T=float(T), P=float(P), zs=[float(v) for v in z])
    except Exception as e:  # noqa: BLE001 - a peer failure is data, reported by the caller
        return {"error": f"{type(e).__name__}: {e}"}
    n = len(z)
    nan = np.full(n, np.nan)
    if r.phase_count == 1:
        return {"phases": 1, "beta": float(r.gas_beta if r.gas is not None else 0.0), "x": nan, "y": nan}
    if r.gas is not None:
        return {"phases": 2, "beta": float(r.gas_beta), "x": np.array(r.liquid0.zs), "y": np.array(r.gas.zs)}
    a, b = r.phases[0], r.phases[1]  # two liquids by thermo's label
    return {"phases": 2, "beta": float(r.betas[1]), "x": np.array(a.zs), "y": np.array(b.zs)}


def split_difference(beta: float, x: Any, y: Any, peer: dict[str, Any]) -> float:
    """max |d beta|, |d x|, |d y| between a split and a peer's, the peer's phases matched to ours by
    composition (labels differ between codes when both phases are dense)."""
    px, py, pb = np.asarray(peer["x"]), np.asarray(peer["y"]), float(peer["beta"])
    if np.abs(px - y).sum() < np.abs(px - x).sum():
        px, py, pb = py, px, 1.0 - pb
    return float(max(abs(pb - beta), np.max(np.abs(px - x)), np.max(np.abs(py - y))))


def thermopack_eos(mix: Any) -> Any:
    """A thermopack ``cubic`` for ``mix``: PSEUDO components with its Tc, Pc, omega, M; its k_ij."""
    from thermopack.cubic import cubic

    eos = {"PR": "PR", "PR78": "PR", "SRK": "SRK"}[mix.eos]
    alpha = "PR78" if mix.eos == "PR78" else "Classic"
    tp = cubic()
    names = ",".join(["PSEUDO"] * mix.n)
    tp.init(names, eos, alpha=alpha)
    mw = [float(m) / 1000.0 if np.isfinite(m) else 0.1 for m in mix.MW]
    tp.init_pseudo(",".join(f"C{i}" for i in range(mix.n)), list(mix.Tc), list(mix.Pc), list(mix.omega), mw,
                   alpha=alpha)
    for i in range(mix.n):
        for j in range(i + 1, mix.n):
            tp.set_kij(i + 1, j + 1, float(mix.kij[i, j]))
    return tp


def thermopack_tp(tp: Any, T: float, P: float, z: Any) -> dict[str, Any]:
    """thermopack's (T, P) flash as {phases, beta, x, y} (y the vapour)."""
    try:
        r = tp.two_phase_tpflash(float(T), float(P), np.asarray(z, dtype=float))
    except Exception as e:  # noqa: BLE001
        return {"error": f"{type(e).__name__}: {e}"}
    n = len(z)
    if r.phase == tp.TWOPH:  # the phase flags are set on the object when it is created
        return {"phases": 2, "beta": float(r.betaV), "x": np.array(r.x), "y": np.array(r.y)}
    return {"phases": 1, "beta": float(r.betaV), "x": np.full(n, np.nan), "y": np.full(n, np.nan)}


# ------------------------------------------------------------------------------------------------
# validation cases and an independent judge of disagreements

POOL = ("nitrogen", "carbon dioxide", "hydrogen sulfide", "methane", "ethane", "propane", "isobutane", "n-butane",
        "isopentane", "n-pentane", "n-hexane", "n-heptane", "n-octane", "n-decane", "n-dodecane")


def validation_cases(n_mixtures: int, per_mixture: int, seed: int, eos: str = "PR") -> list[dict[str, Any]]:
    """Random mixtures of 2..10 components of ``POOL`` (k_ij "default"), each with ``per_mixture`` states:
    a third anywhere (T 150-550 K, P 1 bar - 300 bar, log-uniform), a third near the mixture's critical
    point (from chemsolve's envelope: T and P within a few per cent), a third outside the envelope (above
    the cricondentherm or the cricondenbar: one phase). Returns [{names, eos, z, T, P, kind}]."""
    from .mixture import Mixture

    rng = np.random.default_rng(seed)
    cases = []
    for _m in range(n_mixtures):
        k = int(rng.integers(2, 11))
        names = [POOL[i] for i in sorted(rng.choice(len(POOL), size=k, replace=False))]
        z = rng.dirichlet(np.full(k, 0.7))
        z = np.maximum(z, 1e-3)
        z /= z.sum()
        mix = Mixture(names, eos=eos)
        try:
            env = mix.envelope(z, max_points=400)
            crit = env.critical
            cb = env.cricondenbar
            ct = env.cricondentherm
        except Exception:  # noqa: BLE001 - no envelope: the cases are random states only
            crit = cb = ct = {"T": np.nan, "P": np.nan}
        T = np.empty(per_mixture)
        P = np.empty(per_mixture)
        kind = []
        for s in range(per_mixture):
            r = s % 3
            if r == 1 and np.isfinite(crit["T"]):
                T[s] = crit["T"] * (1.0 + rng.uniform(-0.03, 0.03))
                P[s] = crit["P"] * (1.0 + rng.uniform(-0.05, 0.05))
                kind.append("near-critical")
            elif r == 2 and np.isfinite(ct["T"]):
                if rng.random() < 0.5:
                    T[s] = ct["T"] + rng.uniform(5.0, 80.0)
                    P[s] = np.exp(rng.uniform(np.log(1e5), np.log(3e7)))
                else:
                    T[s] = rng.uniform(150.0, 550.0)
                    P[s] = cb["P"] * rng.uniform(1.05, 2.0)
                kind.append("single-phase")
            else:
                T[s] = rng.uniform(150.0, 550.0)
                P[s] = np.exp(rng.uniform(np.log(1e5), np.log(3e7)))
                kind.append("random")
        cases.append({"names": names, "eos": eos, "z": z, "T": T, "P": P, "kind": kind})
    return cases


def gibbs(mix: Any, T: float, P: float, z: Any, phases: int, beta: float, x: Any, y: Any) -> float:
    """G/(RT) per mole of feed, less the ideal-gas part sum z_i mu_i^ig(T, P) / RT, of an answer (one phase:
    the feed; two: fractions 1 - beta of x, beta of y), each phase on its lowest-G root. The judge of a
    disagreement between two answers: the equilibrium has the lower value."""
    def g(w: np.ndarray) -> float:
        w = np.asarray(w, dtype=float)
        lnphi, _ = mix.lnphi(T, P, w)
        pos = w > 0
        return float(np.sum(w[pos] * (np.log(w[pos] / w.sum()) + lnphi[pos])))

    if phases == 1:
        return g(np.asarray(z, dtype=float) / np.sum(z))
    return (1.0 - beta) * g(x) + beta * g(y)


# ------------------------------------------------------------------------------------------------
# thermopack in a child process: its Fortran core ends the whole process (``stoperror``) when a flash
# does not converge (e.g. "tp_solver::twoPhaseTPflash: The nonlinear solver did not converge"), so the
# validation runs it where a crash costs only the state that caused it.

class _MixSpec:
    """The constants thermopack needs, picklable (a Mixture holds more than that)."""

    def __init__(self, mix: Any):
        self.eos = mix.eos
        self.n = mix.n
        self.Tc = np.array(mix.Tc)
        self.Pc = np.array(mix.Pc)
        self.omega = np.array(mix.omega)
        self.MW = np.array(mix.MW)
        self.kij = np.array(mix.kij)


def _tp_worker(conn: Any, spec: _MixSpec, T: np.ndarray, P: np.ndarray, Z: np.ndarray, start: int) -> None:
    import contextlib
    import os

    # thermopack prints warnings on stdout; keep the parent's output clean
    with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
        tp = thermopack_eos(spec)
        for i in range(start, len(T)):
            conn.send((i, thermopack_tp(tp, T[i], P[i], Z[i])))
    conn.send(None)
    conn.close()


def thermopack_states(mix: Any, T: Any, P: Any, Z: Any) -> list[dict[str, Any]]:
    """thermopack's (T, P) flashes of N states, each run in a child process; a state that makes thermopack
    end the process gets {"error": "thermopack aborted ..."} and the child is restarted after it."""
    import multiprocessing as mp

    T = np.asarray(T, dtype=float)
    P = np.broadcast_to(np.asarray(P, dtype=float), T.shape)
    Z = np.broadcast_to(np.asarray(Z, dtype=float), (T.shape[0], mix.n))
    spec = _MixSpec(mix)
    out: list[dict[str, Any] | None] = [None] * len(T)
    # fork (where there is one): the child needs no re-import of the caller's main module; it runs only
    # thermopack, so numba's thread pool in the parent does not matter
    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    start = 0
    while start < len(T):
        parent, child = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_tp_worker, args=(child, spec, np.array(T), np.array(P), np.array(Z), start))
        proc.start()
        child.close()
        nxt = start
        while True:
            try:
                msg = parent.recv()
            except EOFError:
                out[nxt] = {"error": "thermopack aborted the process (stoperror) on this state"}
                nxt += 1
                break
            if msg is None:
                nxt = len(T)
                break
            i, res = msg
            out[i] = res
            nxt = i + 1
        proc.join()
        start = nxt
    return [o if o is not None else {"error": "not run"} for o in out]
