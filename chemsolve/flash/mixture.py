"""``Mixture``: a cubic-EOS mixture packed into arrays, and the flash verbs around the kernels."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from ..errors import ConvergenceError, InvalidInputError
from ..status import Status
from . import eos as _eos
from .certificate import certify_arrays
from .components import Component, component, kij_chemsep_pr
from .options import FlashOptions
from .results import Envelope, FlashBatch, FlashResult

__all__ = ["Mixture"]

SPECS = ("TP", "PH", "PS", "TVF", "PVF")
_SPEC_CODE = {"TP": 0, "PH": 1, "PS": 2, "TVF": 3, "PVF": 4}


def _spec(T: Any, P: Any, H: Any, S: Any, VF: Any) -> str:
    given = {k for k, v in (("T", T), ("P", P), ("H", H), ("S", S), ("VF", VF)) if v is not None}
    for spec, need in (("TP", {"T", "P"}), ("PH", {"P", "H"}), ("PS", {"P", "S"}), ("TVF", {"T", "VF"}),
                       ("PVF", {"P", "VF"})):
        if given == need:
            return spec
    raise InvalidInputError("flash: give exactly one pair of T+P, P+H, P+S, T+VF or P+VF; "
                            f"got {sorted(given) or 'none'}")


class Mixture:
    """A mixture of components described by a cubic equation of state.

    Parameters
    ----------
    components : sequence of names (the bundled table ``chemsolve.flash.components.bundled_names()``, then
        the ``chemicals`` package when installed), mappings ``{name, Tc [K], Pc [Pa], omega[, MW, cp, Z_RA]}``
        or ``Component`` objects.
    eos : "PR" (Peng-Robinson 1976; also "PR76"), "PR78" (its 1978 alpha) or "SRK" (Soave 1972).
    kij : "default" (Peng-Robinson: the ChemSep table, pairs it lacks are 0 and listed in
        ``kij_missing``; SRK: 0, as no cited SRK table is available), "zero", an (n, n) symmetric matrix, or a
        mapping of pairs
        ``{"methane/ethane": 0.01, ...}`` (other pairs 0).
    volume_shift : None (default), "peneloux" (Péneloux et al. 1982, from each component's Z_RA) or
        (n,) shifts c_i [m^3/mol] (v = v_eos - sum x_i c_i).
    options : ``FlashOptions`` (or a mapping of its fields) used by every call unless overridden.

    Examples
    --------
    >>> fl = Mixture(["methane", "ethane", "propane", "n-butane", "n-pentane"], eos="PR", kij="default")
    >>> r = fl.flash(T=250.0, P=20e5, z=[0.5, 0.2, 0.15, 0.1, 0.05])
    >>> r.phases, r.beta, r.x, r.y, r.status
    """

    def __init__(self, components: Sequence[Any], eos: str = "PR", kij: Any = "default", volume_shift: Any = None,
                 options: FlashOptions | Mapping[str, Any] | None = None):
        if isinstance(components, (str, bytes)) or not isinstance(components, Sequence) or len(components) == 0:
            raise InvalidInputError(f"Mixture: components must be a non-empty list, got {components!r}")
        comps = [component(c, where=f"components[{i}]") for i, c in enumerate(components)]
        names = [c.name for c in comps]
        dup = sorted({nm for nm in names if names.count(nm) > 1})
        if dup:
            raise InvalidInputError(f"Mixture: component(s) {dup} listed twice")
        cas = [c.cas for c in comps]
        for i, c in enumerate(cas):
            if c and cas.index(c) != i:
                raise InvalidInputError(f"Mixture: {names[cas.index(c)]!r} and {names[i]!r} are the same component "
                                        f"(CAS {c}) listed twice")
        self.components: tuple[Component, ...] = tuple(comps)
        self.names: tuple[str, ...] = tuple(names)
        self.n = len(comps)
        self.eos = _eos.eos_constants(eos).name
        self.Tc = np.array([c.Tc for c in comps])
        self.Pc = np.array([c.Pc for c in comps])
        self.omega = np.array([c.omega for c in comps])
        self.MW = np.array([c.MW for c in comps])
        self.kij, self.kij_source, self.kij_missing = self._kij(kij)
        self.shift = self._shift(volume_shift)
        self.has_cp = all(c.cp is not None for c in comps)
        cp = np.array([c.cp if c.cp is not None else (0.0,) * 5 for c in comps], dtype=float)
        self._comp, self._eosp = _eos.pack(self.eos, self.Tc, self.Pc, self.omega, self.shift, cp,
                                           [c.cp is not None for c in comps], self.MW)
        if options is None:
            options = FlashOptions()
        elif isinstance(options, Mapping):
            options = FlashOptions.from_mapping(options)
        elif not isinstance(options, FlashOptions):
            raise InvalidInputError(f"Mixture: options={options!r}: expected FlashOptions or a mapping")
        self.options: FlashOptions = options

    # ------------------------------------------------------------------ set-up
    def _kij(self, kij: Any) -> tuple[np.ndarray, str, list[tuple[str, str]]]:
        n = self.n
        if isinstance(kij, str):
            key = kij.strip().lower()
            if key == "default":
                if self.eos in ("PR", "PR78"):
                    k, missing = kij_chemsep_pr(self.components)
                    return np.array(k, dtype=float), "ChemSep pr.ipd (chemsolve/flash/data/kij_pr_chemsep.csv)", missing
                pairs = [(self.names[i], self.names[j]) for i in range(n) for j in range(i + 1, n)]
                # thermo 0.6.1's interaction-parameter database (IPDB) has no SRK table: ChemSep's PR k_ij
                # only (besides NRTL, UNIQUAC, Wilson and Henry tables); see chemsolve/flash/data/README.md
                return np.zeros((n, n)), "zero (no SRK k_ij table exists in thermo's database)", pairs
            if key in ("zero", "none", "0"):
                return np.zeros((n, n)), "zero", []
            raise InvalidInputError(f"Mixture: kij={kij!r}; expected 'default', 'zero', a matrix or a mapping of pairs")
        if isinstance(kij, (int, float)) and not isinstance(kij, bool) and kij == 0:
            return np.zeros((n, n)), "zero", []
        if isinstance(kij, Mapping):
            k = np.zeros((n, n))
            for pair, v in kij.items():
                parts = pair.split("/") if isinstance(pair, str) else pair if isinstance(pair, tuple) else ()
                try:
                    a, b = parts
                    i, j = self.names.index(str(a).strip()), self.names.index(str(b).strip())
                except ValueError:
                    raise InvalidInputError(f"Mixture: kij pair {pair!r} is not 'name/name' of two components of "
                                            f"{list(self.names)}") from None
                if i == j:
                    raise InvalidInputError(f"Mixture: kij pair {pair!r} pairs a component with itself")
                try:
                    val = float(v)
                except (TypeError, ValueError, OverflowError):
                    raise InvalidInputError(f"Mixture: kij[{pair!r}]={v!r} is not a number") from None
                if not math.isfinite(val) or abs(val) >= 1.0:
                    raise InvalidInputError(f"Mixture: kij[{pair!r}]={v!r} must be finite with |k| < 1")
                k[i, j] = k[j, i] = val
            return k, "given (pairs)", []
        try:
            k = np.array(kij, dtype=float)
        except (TypeError, ValueError, OverflowError):
            raise InvalidInputError(f"Mixture: kij={kij!r} is not a matrix of numbers") from None
        if k.shape != (n, n):
            raise InvalidInputError(f"Mixture: kij has shape {k.shape}; expected ({n}, {n})")
        if not np.all(np.isfinite(k)) or np.any(np.abs(k) >= 1.0):
            raise InvalidInputError("Mixture: kij must be finite with |k_ij| < 1")
        if not np.allclose(k, k.T, rtol=0, atol=0):
            i, j = np.argwhere(k != k.T)[0]
            raise InvalidInputError(f"Mixture: kij is not symmetric: k[{i},{j}]={k[i, j]} but k[{j},{i}]={k[j, i]}")
        if np.any(np.diag(k) != 0.0):
            raise InvalidInputError("Mixture: kij must have a zero diagonal")
        return k, "given (matrix)", []

    def _shift(self, vs: Any) -> np.ndarray:
        if vs is None or vs is False:
            return np.zeros(self.n)
        if isinstance(vs, str):
            if vs.strip().lower() != "peneloux":
                raise InvalidInputError(f"Mixture: volume_shift={vs!r}; "
                                        "expected None, 'peneloux' or (n,) shifts [m^3/mol]")
            missing = [c.name for c in self.components if c.Z_RA is None]
            if missing:
                raise InvalidInputError(f"Mixture: volume_shift='peneloux' needs Z_RA, which {missing} lack; give "
                                        "Z_RA in the component or explicit shifts")
            return _eos.peneloux_shift(self.eos, self.Tc, self.Pc, np.array([c.Z_RA for c in self.components]))
        try:
            c = np.array(vs, dtype=float)
        except (TypeError, ValueError, OverflowError):
            raise InvalidInputError(f"Mixture: volume_shift={vs!r} is not a list of numbers") from None
        if c.shape != (self.n,) or not np.all(np.isfinite(c)):
            raise InvalidInputError(f"Mixture: volume_shift must be {self.n} finite numbers [m^3/mol]")
        return c

    @property
    def provenance(self) -> dict[str, Any]:
        """Where every number comes from: per component, its sources; the kij table; the EOS."""
        return {"eos": self.eos, "kij": self.kij_source, "kij_missing": [list(p) for p in self.kij_missing],
                "components": {c.name: dict(c.source) for c in self.components}}

    def __repr__(self) -> str:
        return f"Mixture({list(self.names)}, eos={self.eos!r}, kij={self.kij_source!r})"

    # ------------------------------------------------------------------ inputs
    def _feed(self, z: Any, nrow: int | None) -> np.ndarray:
        if isinstance(z, Mapping):
            unknown = sorted(set(z) - set(self.names))
            if unknown:
                raise InvalidInputError(f"flash: z names {unknown}, not components of {list(self.names)}")
            z = [z.get(nm, 0.0) for nm in self.names]
        try:
            arr = np.array(z, dtype=float)
        except (TypeError, ValueError):
            raise InvalidInputError(f"flash: z={z!r} is not an array of numbers") from None
        if arr.ndim not in (1, 2) or arr.shape[-1] != self.n:
            raise InvalidInputError(f"flash: z has shape {arr.shape}; expected ({self.n},) or (N, {self.n})")
        return arr

    @staticmethod
    def _col(name: str, v: Any) -> np.ndarray:
        try:
            a = np.array(v, dtype=float)
        except (TypeError, ValueError):
            raise InvalidInputError(f"flash: {name}={v!r} is not a number or an array of numbers") from None
        if a.ndim > 1:
            raise InvalidInputError(f"flash: {name} has shape {a.shape}; expected a number or (N,)")
        return a

    # ------------------------------------------------------------------ the verbs
    def flash(self, *, z: Any, T: Any = None, P: Any = None, H: Any = None, S: Any = None, VF: Any = None,
              K0: Any = None, warm_start: bool = False, options: FlashOptions | Mapping[str, Any] | None = None,
              throw: bool = False, threads: int | None = None, chunk: int | None = None, advisor: Any = None,
              **option_fields: Any) -> FlashResult | FlashBatch:
        """Flash the feed ``z`` at a pair of T [K], P [Pa], H [J/mol], S [J/mol/K] or VF (vapour mole
        fraction): T+P, P+H, P+S, T+VF or P+VF.

        Numbers give one state (``FlashResult``); arrays (and a (N, n) z) give N states in one compiled
        call (``FlashBatch``; scalars are broadcast).

        Parameters
        ----------
        z : array_like
            (n,) or (N, n) feed mole fractions.
        T, P, H, S, VF : float or array_like, optional
            Two of them: the held pair. T+VF / P+VF hold the given one and solve for the other; H, S and
            VF flashes start their search from ``options.T_guess`` or an estimate.
        K0 : array_like, optional
            (n,) or (N, n) K-values to start from (a simulator cell's previous answer): a two-phase solve
            is tried from them first, without stability analysis (the certificate tests stability; a
            row it refutes is solved again cold).
        warm_start : bool
            Along a sweep, each row starts from the K of the row before it when that row split into two
            phases (rows are split into one contiguous chunk per thread).
        options : FlashOptions or mapping, optional
            Settings for this call; ``option_fields`` give fields of it as keywords.
        throw : bool
            Raise ``chemsolve.ConvergenceError`` unless every state converged (a batch raises for its
            first failed row, ``err.result``; the whole batch is ``err.batch``).
        threads : int, optional
            Numba threads for this call (default: numba's setting).
        chunk : int, optional
            Rows per warm-started chunk of a ``warm_start`` batch (each chunk's first row starts cold);
            default one chunk per thread. A row's answer depends on its chunk only, never on the thread
            that solved it (``chemsolve.sweep`` passes its own chunk).
        advisor : a ``chemsolve.advisors`` advisor, optional
            Consulted once per call (a batch is one problem, never once per state). It may suggest
            ``{"K": [n K-values]}`` (the start of a two-phase solve, as ``K0``), ``{"T": K}`` (the first T
            of a P-H, P-S or P-VF flash, inside ``T_bounds``) or ``{"P": Pa}`` (of a T-VF flash, inside
            ``P_bounds``), a damping schedule, and ``options`` ``acceleration``, ``newton_switch`` and
            ``max_ss``; never a tolerance. Each part is checked; a bad part is replaced by the default,
            with the reason in ``guess_source`` and ``advice``; when an advised attempt fails, the default
            runs after it. A retry re-solves only the states that failed.
        **option_fields
            Fields of ``FlashOptions``.

        Returns
        -------
        FlashResult or FlashBatch
            A row with a non-finite or non-positive T/P or a bad feed gets status INVALID_INPUT in a
            batch (nothing is raised); for one state ``InvalidInputError`` names the value.
        """
        spec = _spec(T, P, H, S, VF)
        opts = self._options(options, option_fields)
        Zf, full, single, nrow, lnK, start, source = self._inputs(spec, z, T, P, H, S, VF, K0, warm_start, chunk)
        if advisor is not None:
            return self._advised(advisor, spec, opts, throw, single, nrow,
                                 dict(z=z, T=T, P=P, H=H, S=S, VF=VF, K0=K0, warm_start=warm_start, threads=threads,
                                      chunk=chunk))
        with self._threads(threads):
            res = self._run(spec, full, Zf, lnK, start, bool(warm_start), opts, single, source,
                            None if chunk is None else int(chunk))
        if single:
            if throw and not res.success:
                raise ConvergenceError(res)
            return res
        if throw and not np.all(res.success):
            i = int(np.nonzero(~res.success)[0][0])
            err = ConvergenceError(res.row(i))
            err.batch = res  # type: ignore[attr-defined]
            raise err
        return res

    def _inputs(self, spec: str, z: Any, T: Any, P: Any, H: Any, S: Any, VF: Any, K0: Any, warm_start: bool,
                chunk: Any) -> tuple[np.ndarray, dict[str, np.ndarray], bool, int, np.ndarray, np.ndarray, str]:
        """The inputs of ``flash`` checked and as row arrays: (Zf (N, n), {held: (N,)}, single, N, lnK (N, n),
        start (N,), guess source). Raises ``InvalidInputError`` naming the culprit."""
        zz = self._feed(z, None)
        cols = {k: self._col(k, v) for k, v in (("T", T), ("P", P), ("H", H), ("S", S), ("VF", VF)) if v is not None}
        single = zz.ndim == 1 and all(a.ndim == 0 for a in cols.values()) and (K0 is None or np.ndim(K0) <= 1)
        sizes = {a.shape[0] for a in cols.values() if a.ndim == 1}
        if zz.ndim == 2:
            sizes.add(zz.shape[0])
        if K0 is not None and np.ndim(K0) == 2:
            sizes.add(np.shape(K0)[0])
        if len(sizes) > 1:
            raise InvalidInputError(f"flash: array inputs have different lengths {sorted(sizes)}")
        nrow = sizes.pop() if sizes else 1
        Zf = np.ascontiguousarray(np.broadcast_to(zz, (nrow, self.n)), dtype=np.float64).copy()
        full = {k: np.ascontiguousarray(np.broadcast_to(a, (nrow,)), dtype=np.float64).copy() for k, a in cols.items()}
        if single:
            self._check_single(spec, full, Zf[0])
        if spec in ("PH", "PS") and not self.has_cp:
            lack = [c.name for c in self.components if c.cp is None]
            raise InvalidInputError(f"flash: a {spec} flash needs ideal-gas Cp data, which {lack} lack "
                                    "(give 'cp' in the component)")
        lnK = np.zeros((nrow, self.n))
        start = np.zeros(nrow, dtype=np.int8)
        source = "default"
        if K0 is not None:
            k0 = np.array(K0, dtype=float)
            if k0.shape[-1] != self.n or k0.ndim > 2:
                raise InvalidInputError(f"flash: K0 has shape {k0.shape}; expected ({self.n},) or (N, {self.n})")
            k0 = np.broadcast_to(k0, (nrow, self.n))
            with np.errstate(divide="ignore", invalid="ignore"):
                lk = np.log(k0)
            good = np.all(np.isfinite(lk), axis=1)
            if single and not good[0]:
                raise InvalidInputError(f"flash: K0={K0!r} must be finite positive numbers")
            lnK[good] = lk[good]
            start[good] = 1
            source = "K0"
        elif warm_start:
            source = "warm_start"
        if chunk is not None and (isinstance(chunk, bool) or not isinstance(chunk, (int, np.integer)) or chunk < 1):
            raise InvalidInputError(f"flash: chunk={chunk!r} must be an integer >= 1")
        return Zf, full, single, nrow, lnK, start, source

    def _advised(self, advisor: Any, spec: str, opts: FlashOptions, throw: bool, single: bool, nrow: int,
                 kw: dict[str, Any]) -> FlashResult | FlashBatch:
        """``flash`` with an advisor (see ``chemsolve.advisors.consult``): the summary of the problem, the
        checks of a suggestion, and one attempt per consultation (a retry re-solves the failed rows only).
        The inputs were checked by the caller (``_inputs``)."""
        from dataclasses import replace as _replace

        from ..advisors import base as adv
        from .options import acceleration as _acceleration

        n = self.n
        zz = np.atleast_2d(self._feed(kw["z"], None))[0]
        z0 = zz / zz.sum() if zz.sum() > 0 else zz
        held = {k: float(np.atleast_1d(np.asarray(kw[k], dtype=float))[0]) for k in ("T", "P", "H", "S", "VF")
                if kw[k] is not None}
        scale = {"T": lambda v: v / 100.0, "P": lambda v: math.log(v) if v > 0 else 0.0, "H": lambda v: v / 1e4,
                 "S": lambda v: v / 10.0, "VF": lambda v: 10.0 * v}
        summary: dict[str, Any] = {
            "kind": "flash", "spec": spec, "eos": self.eos, "components": list(self.names),
            "z": [round(float(v), 6) for v in z0], **held,
            "batch_size": nrow,
            "damping": opts.damping.to_dict(), "acceleration": opts.acceleration.to_dict(),
            "signature": f"flash:{self.eos}:{','.join(self.names)}:{spec}",
            "features": [scale[k](v) if math.isfinite(v) else 0.0 for k, v in held.items()] + [float(v) for v in z0],
        }
        free_T = spec in ("PH", "PS", "PVF")

        def guess_part(g: Any) -> Any:
            if not isinstance(g, dict):
                return adv.Part(None, f"expected a mapping {{'K': [{n} numbers]}}, got {str(g)[:80]!r}")
            if not g:
                return adv.Part(None, "empty guess")
            extra = sorted(str(k) for k in g if k not in ("K", "T", "P"))
            if extra:
                return adv.Part(None, f"unknown guess key(s) {extra}; expected 'K', 'T' or 'P'")
            out: dict[str, Any] = {}
            if "K" in g:
                k = g["K"]
                if kw["K0"] is not None:
                    return adv.Part(None, "K: the caller's K0 is kept")
                if not isinstance(k, (list, tuple, np.ndarray)) or len(k) != n:
                    return adv.Part(None, f"K must be a list of {n} numbers (one per component)")
                ks = [adv.finite_number(v, 1e-10, 1e10, f"K[{self.names[i]}]") for i, v in enumerate(k)]
                bad = [q.reason for q in ks if q.reason]
                if bad:
                    return adv.Part(None, bad[0])
                out["K0"] = np.array([q.value for q in ks])
            for key, free, bounds in (("T", free_T, opts.T_bounds), ("P", spec == "TVF", opts.P_bounds)):
                if key in g:
                    if not free:
                        return adv.Part(None, f"a {spec} flash does not solve {key}: a {key} guess is not used")
                    q = adv.finite_number(g[key], bounds[0], bounds[1], key)
                    if q.reason:
                        return q
                    out[f"{key}_guess"] = q.value
            return adv.Part(out)

        def options_part(o: dict[str, Any]) -> Any:
            allowed = ("acceleration", "newton_switch", "max_ss")
            extra = sorted(str(k) for k in o if k not in allowed)
            if extra:
                return adv.Part(None, f"option(s) {extra} are not an advisor's to set (allowed: {list(allowed)}; "
                                "never a tolerance)")
            out: dict[str, Any] = {}
            try:
                for k, v in o.items():
                    if isinstance(v, (bool, np.bool_)):
                        return adv.Part(None, f"{k}={v!r} is not a number")
                    out[k] = _acceleration(v, "advice") if k == "acceleration" else v
                opts.replace(**out)  # the options' own checks (ranges, integers)
            except InvalidInputError as e:
                return adv.Part(None, str(e))
            except (TypeError, ValueError) as e:
                return adv.Part(None, f"{type(e).__name__}: {e}")
            return adv.Part(out)

        def check(sug: Any) -> dict[str, Any]:
            parts: dict[str, Any] = {}
            if sug.damping is not None:
                p = adv.check_damping(sug.damping)
                if not p.reason:
                    try:
                        opts.replace(damping=p.value)  # FlashOptions refuses LineSearch
                    except InvalidInputError as e:
                        p = adv.Part(None, str(e))
                parts["damping"] = p
            if sug.initial_guess is not None:
                parts["initial_guess"] = guess_part(sug.initial_guess)
            if sug.options:
                parts["options"] = options_part(sug.options)
            return parts

        best: list[Any] = []  # the result so far
        row_attempt: list[np.ndarray] = []  # which attempt solved each row of a batch
        n_att = [0]

        def attempt(p: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
            fields_ = dict(p.get("options", {}))
            if "damping" in p:
                fields_["damping"] = p["damping"]
            guess = dict(p.get("initial_guess", {}))
            fields_.update({k: v for k, v in guess.items() if k in ("T_guess", "P_guess")})
            o = opts.replace(**fields_) if fields_ else opts
            args = dict(kw, K0=guess.get("K0", kw["K0"]))
            prev = best[0] if best and not single else None
            if prev is None:
                r = work = self.flash(**args, options=o)
                if not single:
                    row_attempt[:] = [np.zeros(len(r), dtype=np.int64)]
            else:  # a retry: only the rows that failed, patched into the earlier result
                idx = np.flatnonzero(~prev.success)
                work = self.flash(**_rows(args, idx), options=o)
                r = _patched_batch(prev, work, idx)
                row_attempt[0][idx] = n_att[0]
            n_att[0] += 1
            best[:] = [r]
            conv = bool(np.all(r.success))
            sol = {"K": [float(v) for v in r.K]} if single and conv and np.all(np.isfinite(r.K)) else {}
            rec = {"status": "CONVERGED" if conv else (r.status.name if single
                                                       else f"{int(np.sum(~r.success))} of {len(r)} failed"),
                   "converged": conv, "iterations": int(np.sum(work.nit)) + int(np.sum(work.nstab)),
                   "residual_trace": [], "solution": sol, "damping": o.damping.to_dict(),
                   "acceleration": o.acceleration.to_dict()}
            return r, rec

        res, source, log = adv.consult(advisor, summary, check, attempt)
        if not single and row_attempt and len(log["attempts"]) > 1:
            srcs = [log["attempts"][min(int(k), len(log["attempts"]) - 1)]["source"] for k in row_attempt[0]]
            log["row_source"] = srcs
            counts = {a: srcs.count(a) for a in dict.fromkeys(srcs)}
            if len(counts) > 1:
                source = ", ".join(f"{a} x{c}" for a, c in counts.items())
        out = _replace(res, guess_source=source, advice=log)
        if throw and not bool(np.all(out.success)):
            if single:
                raise ConvergenceError(out)
            i = int(np.nonzero(~out.success)[0][0])
            err = ConvergenceError(out.row(i))
            err.batch = out  # type: ignore[attr-defined]
            raise err
        return out

    def bubble_point(self, z: Any, *, T: Any = None, P: Any = None, **kw: Any) -> FlashResult | FlashBatch:
        """The bubble point (VF = 0) of z at T (solving P) or at P (solving T)."""
        return self.flash(z=z, T=T, P=P, VF=0.0 if T is None or P is None else None, **kw)

    def dew_point(self, z: Any, *, T: Any = None, P: Any = None, **kw: Any) -> FlashResult | FlashBatch:
        """The dew point (VF = 1) of z at T (solving P) or at P (solving T)."""
        return self.flash(z=z, T=T, P=P, VF=1.0 if T is None or P is None else None, **kw)

    def envelope(self, z: Any, *, P_start: float = 1e5, max_points: int = 400, step: float = 0.05,
                 options: FlashOptions | Mapping[str, Any] | None = None, **option_fields: Any) -> Envelope:
        """The phase envelope of feed z by continuation (Michelsen 1980): from the dew point at
        ``P_start`` [Pa] up the dew curve, through the critical point, down the bubble curve to
        ``P_start`` again. ``step``: first step in ln P; ``max_points``: at most this many points."""
        from .envelope import trace

        opts = self._options(options, option_fields)
        zz = self._feed(z, None)
        if zz.ndim != 1:
            raise InvalidInputError("envelope: z must be one feed (n,)")
        zz = zz / zz.sum()
        return trace(self, zz, float(P_start), int(max_points), float(step), opts)

    # ------------------------------------------------------------------ helpers
    def wilson_K(self, T: float, P: float) -> np.ndarray:
        """Wilson's (1969) K-values at T [K], P [Pa]."""
        return self.Pc / P * np.exp(5.373 * (1.0 + self.omega) * (1.0 - self.Tc / T))

    def lnphi(self, T: float, P: float, x: Any, root: str = "min_g") -> tuple[np.ndarray, float]:
        """(ln phi_i, Z) of composition x at T, P on the root "min_g" (lowest Gibbs energy), "liquid" or
        "vapour" (without volume translation, which shifts every ln phi_i by -c_i P / (R T))."""
        from ..kernels import flash_eos as k

        which = {"min_g": 0, "liquid": 1, "vapour": 2}.get(root)
        if which is None:
            raise InvalidInputError(f"lnphi: root={root!r}; expected 'min_g', 'liquid' or 'vapour'")
        xx = np.array(x, dtype=float)
        xx = xx / xx.sum()
        aij = np.zeros((self.n, self.n))
        daij = np.zeros((self.n, self.n))
        k.t_params(float(T), self._comp, self.kij, aij, daij)
        out = np.zeros(self.n)
        Z = k.lnphi(xx, float(T), float(P), aij, self._comp, self._eosp, which, np.zeros(self.n), out)
        return out, float(Z)

    def _options(self, options: Any, fields_: Mapping[str, Any]) -> FlashOptions:
        if options is None:
            base = self.options
        elif isinstance(options, FlashOptions):
            base = options
        elif isinstance(options, Mapping):
            base = FlashOptions.from_mapping(options)
        else:
            raise InvalidInputError(f"flash: options={options!r}: expected FlashOptions or a mapping")
        return base.replace(**fields_) if fields_ else base

    @staticmethod
    @contextmanager
    def _threads(n: int | None) -> Iterator[None]:
        if n is None:
            yield
            return
        from ..kernels import threads as _threads

        old, most = _threads()
        if not (isinstance(n, int) and 1 <= n <= most):
            raise InvalidInputError(f"flash: threads={n!r} must be an integer in [1, {most}]")
        _threads(n)
        try:
            yield
        finally:
            _threads(old)

    def _check_single(self, spec: str, cols: dict[str, np.ndarray], z: np.ndarray) -> None:
        for k, a in cols.items():
            v = float(a[0])
            if not math.isfinite(v):
                raise InvalidInputError(f"flash: {k}={v!r} is not finite")
            if k in ("T", "P") and v <= 0.0:
                raise InvalidInputError(f"flash: {k}={v!r} must be > 0")
            if k == "VF" and not 0.0 <= v <= 1.0:
                raise InvalidInputError(f"flash: VF={v!r} must lie in [0, 1]")
        bad = [self.names[i] for i in range(self.n) if not (math.isfinite(z[i]) and z[i] >= 0.0)]
        if bad:
            raise InvalidInputError(f"flash: z of {bad} must be finite and >= 0, got {z.tolist()}")
        if z.sum() <= 0.0:
            raise InvalidInputError("flash: the feed z is empty (all zero)")

    def _run(self, spec: str, cols: dict[str, np.ndarray], Zf: np.ndarray, lnK: np.ndarray, start: np.ndarray,
             sweep: bool, opts: FlashOptions, single: bool = False, source: str = "default",
             chunk: int | None = None) -> Any:
        from ..kernels import first_use
        from ..kernels import flash_layout as L
        from .parallel import run_rows, threads_in_use

        nrow = Zf.shape[0]
        fopt, dkind, dpar = opts.pack()
        X = np.zeros((nrow, self.n))
        Y = np.zeros((nrow, self.n))
        st = np.zeros((nrow, L.N_ST))
        status = np.zeros(nrow, dtype=np.int8)
        if sweep and chunk is None:
            chunk = max(1, -(-nrow // threads_in_use()))  # one warm-started chunk per thread
        hs = 1 if self.has_cp else 0
        if spec == "TP":
            from ..kernels import flash_tp as k

            what, kernel = "the flash (T, P) kernel", k.tp_rows
            target = np.zeros(nrow)
            T, P = cols["T"], cols["P"]
        elif spec in ("PH", "PS"):
            from ..kernels import flash_spec as k

            what, kernel = "the flash (P, H / P, S) kernel", k.spec_rows
            target = cols["H"] if spec == "PH" else cols["S"]
            T = np.full(nrow, opts.T_guess if opts.T_guess > 0 else np.nan)
            P = cols["P"]
        else:
            from ..kernels import flash_sat as k

            what, kernel = "the flash (T, VF / P, VF) kernel", k.sat_rows
            target = cols["VF"]
            held_T = spec == "TVF"
            T = cols["T"] if held_T else np.full(nrow, opts.T_guess if opts.T_guess > 0 else np.nan)
            P = cols["P"] if not held_T else np.full(nrow, opts.P_guess if opts.P_guess > 0 else np.nan)
        code = _SPEC_CODE[spec]
        comp, kij, eosp = self._comp, self.kij, self._eosp

        def solve(rows: np.ndarray | None, lk: np.ndarray, stt: np.ndarray, sw: int) -> None:
            """Solve every row (rows None, in ``chunk``s), or again the ``rows`` given, each cold."""
            if rows is None:
                outs: tuple = (X, Y, st, status)
                ins: tuple = (code, target, T, P, Zf, lk, stt)
            else:
                outs = tuple(a[rows].copy() for a in (X, Y, st, status))
                ins = (code, target[rows], T[rows], P[rows], Zf[rows], lk, stt)
            if spec == "TP":
                run_rows(kernel, len(ins[2]), chunk if rows is None else None, *ins[2:], comp, kij, eosp, fopt,
                         dkind, dpar, sw, hs, *outs)
            elif spec in ("PH", "PS"):
                run_rows(kernel, len(ins[2]), chunk if rows is None else None, *ins, comp, kij, eosp, fopt, dkind,
                         dpar, sw, *outs)
            else:
                run_rows(kernel, len(ins[2]), chunk if rows is None else None, *ins, comp, kij, eosp, fopt, dkind,
                         dpar, sw, hs, *outs)
            if rows is not None:
                for a, b in zip((X, Y, st, status), outs):
                    a[rows] = b
                lnK[rows] = lk

        with first_use(what, kernel):
            solve(None, lnK, start, 1 if sweep else 0)
        Zn = Zf / np.where(Zf.sum(axis=1, keepdims=True) > 0, Zf.sum(axis=1, keepdims=True), 1.0)
        if single:
            return self._one(spec, float(target[0]), Zn[0], X, Y, lnK, st, status, solve, source)
        Tst = st[:, L.ST_T].copy()
        Pst = st[:, L.ST_P].copy()
        cert, new = certify_arrays(code, target, Tst, Pst, Zn, X, Y, st, status, comp, kij, eosp, self.names)
        # a row solved from a warm K without stability analysis and refuted by the certificate: solve it
        # again cold (stability analysis first), and certify again
        warm_rows = np.nonzero((new == Status.CHECK_FAILED) & (st[:, L.ST_PATH] == L.PATH_WARM))[0]
        if len(warm_rows):
            solve(warm_rows, np.zeros((len(warm_rows), self.n)), np.zeros(len(warm_rows), dtype=np.int8), 0)
            Tst = st[:, L.ST_T].copy()
            Pst = st[:, L.ST_P].copy()
            cert, new = certify_arrays(code, target, Tst, Pst, Zn, X, Y, st, status, comp, kij, eosp, self.names)
        b = self._batch(spec, Zn, X, Y, lnK, st, new, cert)
        return FlashBatch(**{**b.__dict__, "guess_source": source})

    def _one(self, spec: str, target: float, z: np.ndarray, X: np.ndarray, Y: np.ndarray, lnK: np.ndarray,
             ST: np.ndarray, STATUS: np.ndarray, solve: Any, source: str) -> FlashResult:
        """Row 0 as one state's result, certified, without the batch machinery (a single call stays cheap).
        A warm state the certificate refutes is solved again cold, as in a batch."""
        from ..kernels import flash_eos as ke
        from ..kernels import flash_layout as L
        from .certificate import certify_one

        code = _SPEC_CODE[spec]
        x, y, lnk, st = X[0], Y[0], lnK[0], ST[0]
        cert, new = certify_one(code, target, float(st[L.ST_T]), float(st[L.ST_P]), z, x, y, st, int(STATUS[0]),
                                self._comp, self.kij, self._eosp, self.names)
        if new == Status.CHECK_FAILED and st[L.ST_PATH] == L.PATH_WARM:
            solve(np.array([0]), np.zeros((1, self.n)), np.zeros(1, dtype=np.int8), 0)
            x, y, lnk, st = X[0], Y[0], lnK[0], ST[0]
            cert, new = certify_one(code, target, float(st[L.ST_T]), float(st[L.ST_P]), z, x, y, st, int(STATUS[0]),
                                    self._comp, self.kij, self._eosp, self.names)
        T, P = st[L.ST_T], st[L.ST_P]  # numpy floats: a failed row's 0 or NaN gives NaN below, not an error
        phases = int(st[L.ST_PHASES])
        beta = float(st[L.ST_BETA])
        Z = np.array([st[L.ST_ZL], st[L.ST_ZV]])
        cx = float(np.dot(x, self.shift)) if np.all(np.isfinite(x)) else 0.0
        cy = float(np.dot(y, self.shift)) if np.all(np.isfinite(y)) else 0.0
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            Zt = Z - np.array([cx, cy]) * (P / (ke.R * T))
            V = Zt * (ke.R * T / P)
            K = np.exp(lnk)
        T, P = float(T), float(P)
        from .results import PATH_NAMES, _label

        return FlashResult(spec, T, P, z.copy(), phases, _label(phases, int(st[L.ST_LABEL])), beta, x.copy(), y.copy(),
                           K, Zt, V, float(st[L.ST_H]), float(st[L.ST_S]), Status(int(new)), int(st[L.ST_NIT]),
                           int(st[L.ST_NSTAB]), float(st[L.ST_TPD]), PATH_NAMES.get(int(st[L.ST_PATH]), "?"),
                           self.names, "", source, None, cert)

    def _batch(self, spec: str, Zn: np.ndarray, X: np.ndarray, Y: np.ndarray, lnK: np.ndarray, st: np.ndarray,
               status: np.ndarray, cert: Any) -> FlashBatch:
        from ..kernels import flash_eos as ke
        from ..kernels import flash_layout as L

        T = st[:, L.ST_T].copy()
        P = st[:, L.ST_P].copy()
        phases = st[:, L.ST_PHASES].astype(np.int64)
        Zc = np.stack([st[:, L.ST_ZL], st[:, L.ST_ZV]], axis=1)
        # volume translation: v = v_eos - sum w_i c_i, per phase
        with np.errstate(invalid="ignore", divide="ignore"):
            cx = np.nansum(np.where(np.isfinite(X), X, 0.0) * self.shift, axis=1)
            cy = np.nansum(np.where(np.isfinite(Y), Y, 0.0) * self.shift, axis=1)
            one = phases == 1
            cx = np.where(one & ~np.all(np.isfinite(X), axis=1), 0.0, cx)
            cy = np.where(one & ~np.all(np.isfinite(Y), axis=1), 0.0, cy)
            Zt = Zc - np.stack([cx, cy], axis=1) * (P / (ke.R * T))[:, None]
            V = Zt * (ke.R * T / P)[:, None]
            K = np.exp(lnK)
        return FlashBatch(spec, T, P, Zn, phases, st[:, L.ST_BETA].copy(), X, Y, K, Zt, V, st[:, L.ST_H].copy(),
                          st[:, L.ST_S].copy(), status, st[:, L.ST_NIT].astype(np.int64),
                          st[:, L.ST_NSTAB].astype(np.int64), st[:, L.ST_TPD].copy(),
                          st[:, L.ST_PATH].astype(np.int64), st[:, L.ST_LABEL].astype(np.int64), self.names, cert)


def _rows(args: dict[str, Any], idx: np.ndarray) -> dict[str, Any]:
    """The ``flash`` arguments of rows ``idx`` of a batch call: every (N,) or (N, n) input indexed, scalars and
    a single feed kept (a batch has at least one such input, so the rows stay a batch)."""
    out = dict(args)
    for k in ("T", "P", "H", "S", "VF"):
        if out[k] is not None and np.ndim(out[k]) == 1:
            out[k] = np.asarray(out[k], dtype=float)[idx]
    if not isinstance(out["z"], Mapping) and np.ndim(out["z"]) == 2:
        out["z"] = np.asarray(out["z"], dtype=float)[idx]
    if out["K0"] is not None and np.ndim(out["K0"]) == 2:
        out["K0"] = np.asarray(out["K0"], dtype=float)[idx]
    return out


def _patched_batch(prev: FlashBatch, sub: FlashBatch, idx: np.ndarray) -> FlashBatch:
    """``prev`` with rows ``idx`` taken from ``sub`` (a re-solve of those rows); iterations add up."""
    from dataclasses import fields as _fields
    from dataclasses import replace as _replace

    from ..certificate import BatchCertificate

    def patch(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        out = np.array(a, copy=True, dtype=object if a.dtype.kind in "US" else a.dtype)
        out[idx] = b
        return out

    arrays = {f.name: patch(getattr(prev, f.name), getattr(sub, f.name)) for f in _fields(prev)
              if isinstance(getattr(prev, f.name), np.ndarray) and f.name not in ("nit", "nstab")}
    arrays["nit"] = patch(prev.nit, prev.nit[idx] + sub.nit)
    arrays["nstab"] = patch(prev.nstab, prev.nstab[idx] + sub.nstab)
    pc, sc = prev.certificate, sub.certificate
    cert = pc
    if pc is not None and sc is not None:
        cert = BatchCertificate({k: patch(np.asarray(v), np.asarray(sc.values[k])) for k, v in pc.values.items()},
                                dict(pc.tolerances),
                                {k: patch(np.asarray(v), np.asarray(sc.where[k])) for k, v in pc.where.items()},
                                dict(pc.units), patch(np.asarray(pc.checked), np.asarray(sc.checked)), pc.domain)
    return _replace(prev, **arrays, certificate=cert)
