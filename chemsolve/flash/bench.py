"""Benchmark of the (T, P) flash: chemsolve against thermo and thermopack in one process, on the same states.

``run_bench(n=1000, threads=(1, 2))`` prints a table and returns its rows. The mixture is the issue's anchor,
five alkanes (methane .. n-pentane) with Peng-Robinson and ChemSep k_ij, the same constants in all three codes
(``chemsolve.flash.peers``); the states are ``n`` random feeds at random T (200-360 K) and P (5-60 bar), half
of them splitting. Rows:

- thermo ``FlashVL.flash`` with its default tolerances (as users run it), one state per call, cold;
- thermopack ``two_phase_tpflash``, one state per call (its own initialisation: it takes no K start);
- chemsolve one state per ``Mixture.flash`` call (Python overhead and certificate included), cold;
- chemsolve one batch call, cold (stability analysis on every row), and warm: the states moved by +0.5 K and
  +0.5 % P — a simulator's next step — started from the K of the first answers (``K0``); each with 1 and 2
  numba threads (as many as the machine allows);
- the same two batch calls through the solver kernel alone, without the certificate (marked: these rows
  are not certified; they show what the certificate costs).

Every timing has the status counts of its answers beside it ("conv/split": converged states / states
that split in two phases), so a fast failure never reads as a win; the first call of each chemsolve path
(numba compile, or loading the disk cache) is reported apart. Timings are the best of ``repeat`` runs.
States on which thermopack's Fortran would end the process (``stoperror``) are screened out first in a
child process and counted. Do not draw conclusions from a busy machine.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["bench_states", "run_bench"]


def bench_states(n: int, seed: int = 2024) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n random states of the five-alkane mixture: T [K], P [Pa], z (n, 5)."""
    rng = np.random.default_rng(seed)
    T = rng.uniform(200.0, 360.0, n)
    P = rng.uniform(5e5, 60e5, n)
    Z = rng.dirichlet(np.array([5.0, 2.0, 1.5, 1.0, 0.5]), n)
    return T, P, Z


def _best(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    best, out = math.inf, None
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def _counts(status: np.ndarray, phases: np.ndarray) -> str:
    conv = int(np.sum(status == 0))
    return f"{conv}/{int(np.sum((status == 0) & (phases == 2)))}"


def run_bench(n: int = 1000, threads: tuple[int, ...] = (1, 2), repeat: int = 3, n_peer: int | None = None,
              seed: int = 2024, quiet: bool = False) -> list[dict[str, Any]]:
    """Time thermo, thermopack and chemsolve on the same ``n`` states (peers on the first ``n_peer``, default
    min(n, 500) for thermo: ~2 ms a state); print a table (unless ``quiet``) and return its rows:
    {"what", "threads", "us_per_flash", "states", "status" ("converged/split"), "note"}."""
    from ..kernels import threads as set_threads
    from ..status import Status
    from .mixture import Mixture

    rows: list[dict[str, Any]] = []

    def add(what: str, thr: Any, seconds: float, states: int, status: str, note: str = "") -> None:
        rows.append({"what": what, "threads": thr, "us_per_flash": seconds / max(states, 1) * 1e6, "states": states,
                     "status": status, "note": note})

    fl = Mixture(["methane", "ethane", "propane", "n-butane", "n-pentane"], eos="PR", kij="default")
    T, P, Z = bench_states(n, seed)
    T2, P2 = T + 0.5, P * 1.005
    n_peer = min(n, 500) if n_peer is None else min(n_peer, n)

    # first calls apart: the compile (first use on this machine) or the disk-cache load
    t0 = time.perf_counter()
    fl.flash(T=float(T[0]), P=float(P[0]), z=Z[0])
    first_single = time.perf_counter() - t0
    t0 = time.perf_counter()
    fl.flash(T=T[:2], P=P[:2], z=Z[:2])
    first_batch = time.perf_counter() - t0
    add("chemsolve first calls (compile or cache load)", "-", first_single + first_batch, 1, "-",
        f"single {first_single:.2f} s, batch {first_batch:.2f} s; not per flash")

    # ---- peers
    try:
        from . import peers

        th = peers.thermo_flasher(fl, tight=False)
        th.flash(T=float(T[0]), P=float(P[0]), zs=list(Z[0]))

        def thermo_all() -> tuple[np.ndarray, np.ndarray]:
            st, ph = np.zeros(n_peer, np.int8), np.zeros(n_peer, np.int64)
            for i in range(n_peer):
                try:
                    r = th.flash(T=float(T[i]), P=float(P[i]), zs=list(Z[i]))
                    ph[i] = r.phase_count
                except Exception:  # noqa: BLE001 - a failed peer state is counted, not raised
                    st[i] = 1
            return st, ph

        dt, (st, ph) = _best(thermo_all, 1)
        add("thermo FlashVL (defaults), one state per call", 1, dt, n_peer, _counts(st, ph), "pure Python")
    except ImportError:
        add("thermo", "-", math.nan, 0, "-", "not installed")
    try:
        from . import peers

        screen = peers.thermopack_states(fl, T, P, Z)
        ok = np.array(["error" not in s for s in screen])
        tp = peers.thermopack_eos(fl)
        idx = np.nonzero(ok)[0]

        def tp_all() -> tuple[np.ndarray, np.ndarray]:
            ph = np.zeros(len(idx), np.int64)
            for j, i in enumerate(idx):
                r = tp.two_phase_tpflash(float(T[i]), float(P[i]), Z[i])
                ph[j] = 2 if r.phase == tp.TWOPH else 1
            return np.zeros(len(idx), np.int8), ph

        tp_all()
        dt, (st, ph) = _best(tp_all, repeat)
        add("thermopack two_phase_tpflash, one state per call", 1, dt, len(idx), _counts(st, ph),
            f"{int((~ok).sum())} states screened out (thermopack aborts on them)")
    except ImportError:
        add("thermopack", "-", math.nan, 0, "-", "not installed")

    # ---- chemsolve, one state per call (cold, certified)
    m = min(n, 300)

    def single_all() -> tuple[np.ndarray, np.ndarray]:
        st, ph = np.zeros(m, np.int8), np.zeros(m, np.int64)
        for i in range(m):
            r = fl.flash(T=float(T[i]), P=float(P[i]), z=Z[i])
            st[i] = int(r.status)
            ph[i] = r.phases
        return st, ph

    dt, (st, ph) = _best(single_all, repeat)
    add("chemsolve Mixture.flash, one state per call, cold", 1, dt, m, _counts(st, ph), "certified")

    # ---- chemsolve batches
    from ..kernels import flash_layout as L
    from ..kernels import flash_tp as k

    fopt, dkind, dpar = fl.options.pack()
    old, most = set_threads()
    try:
        cold = fl.flash(T=T, P=P, z=Z)
        K0 = cold.K
        for nt in threads:
            if nt > most:
                add("chemsolve batch", nt, math.nan, 0, "-", f"only {most} threads here")
                continue
            set_threads(nt)
            dt, b = _best(lambda: fl.flash(T=T, P=P, z=Z), repeat)
            add("chemsolve batch, cold", nt, dt, n, _counts(b.status, b.phases), "certified")
            dt, b = _best(lambda: fl.flash(T=T2, P=P2, z=Z, K0=K0), repeat)
            add("chemsolve batch, warm (K0 of the previous step)", nt, dt, n, _counts(b.status, b.phases),
                "certified; states +0.5 K, +0.5 % P")

            def kernel(TT: np.ndarray, PP: np.ndarray, lnk0: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
                lnK = np.zeros((n, fl.n)) if lnk0 is None else lnk0.copy()
                start = np.zeros(n, np.int8) if lnk0 is None else np.ones(n, np.int8)
                X, Y = np.zeros((n, fl.n)), np.zeros((n, fl.n))
                st_ = np.zeros((n, L.N_ST))
                status = np.zeros(n, np.int8)
                k.tp_batch(TT, PP, Z, lnK, start, fl._comp, fl.kij, fl._eosp, fopt, dkind, dpar, 0, 16, 0, X, Y, st_,
                           status)
                return status, st_[:, L.ST_PHASES]

            dt, (s1, p1) = _best(lambda: kernel(T, P, None), repeat)
            add("chemsolve kernel only, cold (no certificate)", nt, dt, n, _counts(s1, p1), "NOT certified")
            dt, (s1, p1) = _best(lambda: kernel(T2, P2, np.log(K0)), repeat)
            add("chemsolve kernel only, warm (no certificate)", nt, dt, n, _counts(s1, p1), "NOT certified")
    finally:
        set_threads(old)
    assert all(r["status"] == "-" or "/" in r["status"] for r in rows)
    _ = Status  # status codes: 0 is CONVERGED (chemsolve.status.Status)
    if not quiet:
        print(format_table(rows, n))
    return rows


def format_table(rows: list[dict[str, Any]], n: int) -> str:
    """The rows as a plain-text table with the ratios the issue asks about."""
    out = [f"flash benchmark: 5 alkanes, Peng-Robinson, {n} states (conv/split = converged / two-phase states)",
           f"{'what':58s} {'thr':>3s} {'us/flash':>10s} {'states':>7s} {'conv/split':>11s}  note"]
    for r in rows:
        us = r["us_per_flash"]
        out.append(f"{r['what']:58s} {r['threads']!s:>3s} {us:10.2f} {r['states']:7d} {r['status']:>11s}  "
                   f"{r['note']}")

    def find(prefix: str, thr: int = 1) -> float:
        for r in rows:
            if r["what"].startswith(prefix) and r["threads"] == thr:
                return float(r["us_per_flash"])
        return math.nan

    th, tp = find("thermo FlashVL"), find("thermopack")
    cold, warm = find("chemsolve batch, cold"), find("chemsolve batch, warm")
    out.append(f"ratios on 1 thread: thermo / chemsolve batch cold = {th / cold:.0f}x (target >= 1000x); "
               f"thermopack / chemsolve batch warm = {tp / warm:.1f}x (target >= 20x)")
    return "\n".join(out)


_COMPILE_SCRIPT = r"""
import json, os, sys, time
from numba.core import event as ev
rec = ev.RecordingListener()
ev.register("numba:compile", rec)
import numpy as np
from chemsolve.flash import Mixture
fl = Mixture(["methane", "ethane", "propane", "n-butane", "n-pentane"])
z = [0.5, 0.2, 0.15, 0.1, 0.05]
what = sys.argv[1]
t0 = time.perf_counter()
if what == "tp":
    fl.flash(T=[250.0] * 8, P=[20e5] * 8, z=z, threads=2 if fl and __import__("numba").config.NUMBA_NUM_THREADS > 1 else 1)
elif what == "tp_single":
    fl.flash(T=250.0, P=20e5, z=z)
elif what == "ph":
    fl.flash(P=[20e5] * 8, H=[-1e4] * 8, z=z, threads=2 if __import__("numba").config.NUMBA_NUM_THREADS > 1 else 1)
elif what == "sat":
    fl.flash(T=[250.0] * 8, VF=[0.0] * 8, z=z, threads=2 if __import__("numba").config.NUMBA_NUM_THREADS > 1 else 1)
elif what == "envelope":
    fl.envelope(z)
total = time.perf_counter() - t0
stack, selft = [], {}
for ts, e in rec.buffer:
    key = e.data["dispatcher"].py_func.__qualname__
    if e.is_start:
        stack.append([key, ts, 0.0])
    else:
        k, t, child = stack.pop()
        selft[k] = selft.get(k, 0.0) + (ts - t) - child
        if stack:
            stack[-1][2] += ts - t
print(json.dumps({"total": total, "self": selft}))
"""


def compile_times(entries: tuple[str, ...] = ("tp_single", "tp", "ph", "sat", "envelope")) -> dict[str, Any]:
    """Cold numba compile time of each entry point, each in a fresh process with an empty cache: {entry:
    {"total": seconds (the first call, compile included), "self": {function: seconds of its own
    compilation, callees excluded}}}. An entry's total includes every kernel it calls that the process had
    not compiled yet (for "tp": the (T, P) kernels and the certificate). Prints a summary."""
    import json
    import os
    import subprocess
    import sys
    import tempfile

    out: dict[str, Any] = {}
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    for e in entries:
        with tempfile.TemporaryDirectory() as cache:
            env = {**os.environ, "NUMBA_CACHE_DIR": cache, "CHEMSOLVE_QUIET": "1",
                   "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}
            res = subprocess.run([sys.executable, "-c", _COMPILE_SCRIPT, e], capture_output=True, text=True, env=env,
                                 check=True)
            out[e] = json.loads(res.stdout.strip().splitlines()[-1])
        top = sorted(out[e]["self"].items(), key=lambda kv: -kv[1])[:6]
        print(f"{e:10s} cold first call {out[e]['total']:6.1f} s; largest own compile times: "
              + ", ".join(f"{k} {v:.1f} s" for k, v in top))
    return out
