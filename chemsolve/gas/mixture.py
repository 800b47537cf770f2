"""``GasMixture``: species thermo compiled into arrays, and the equilibrium calls around the kernels."""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .. import damping as dmp
from ..certificate import BatchCertificate, Certificate, failed_message
from ..errors import ConvergenceError, InvalidInputError, require
from ..kernels import codes as _c
from ..result import BatchResultBase, Result
from ..status import Status
from . import certificate as _cert
from .options import GasOptions

__all__ = ["GasMixture", "GasEquilibrium", "GasBatch", "ThermoRangeWarning"]

R = 8.314462618  # molar gas constant [J/mol/K], Cantera's value (CODATA 2018)
ONE_ATM = 101325.0  # [Pa]
_MAX_REGIONS = 3

GAS_MESSAGES = {
    Status.CONVERGED: (
        "Converged and certified: element balances, gas moles and the fixed property hold to tol, every "
        "gas species sits at its equilibrium condition, no absent condensed species would lower G "
        "(checked independently of the solver: see the result's certificate)."
    ),
    Status.MAX_ITER: (
        "No converged state within max_iter iterations (or the condensed phase set kept "
        "changing). Try damping=ControlFactor(max_change=1.0), a larger max_iter, or T_guess."
    ),
    Status.NONFINITE: "An amount, T or P became non-finite; try stronger damping (ControlFactor).",
    Status.SINGULAR: (
        "The reduced Newton matrix is singular: the element abundances may be linearly "
        "dependent on the species present, or a condensed set violates the phase rule."
    ),
    Status.LINE_SEARCH_FAILED: (
        "Backtracking could not reduce the constraint residuals; use the default ControlFactor."
    ),
    Status.INVALID_INPUT: "Invalid input: nothing was solved (see the message of the error).",
}


class ThermoRangeWarning(UserWarning):
    """A temperature lies outside a species' thermo fit; the fit is extrapolated (as Cantera does)."""


@dataclass(frozen=True)
class _Thermo:
    names: list[str]
    coeffs: np.ndarray  # (n, R, 9)
    bounds: np.ndarray  # (n, R + 1)
    nreg: np.ndarray  # (n,) int64
    lnpref: np.ndarray  # (n,) ln(reference pressure [Pa])
    tmin: np.ndarray
    tmax: np.ndarray


def _thermo_rows(species: Sequence[Any]) -> _Thermo:
    """NASA 7 / NASA 9 / constant-cp species thermo as NASA-9 rows (a1..a7, b1, b2)."""
    n = len(species)
    coeffs = np.zeros((n, _MAX_REGIONS, 9))
    bounds = np.zeros((n, _MAX_REGIONS + 1))
    nreg = np.zeros(n, dtype=np.int64)
    lnpref = np.zeros(n)
    tmin = np.zeros(n)
    tmax = np.zeros(n)
    for j, sp in enumerate(species):
        th = sp.thermo
        kind = type(th).__name__
        c = np.asarray(th.coeffs, dtype=float)
        if kind == "NasaPoly2":
            tmid = c[0]
            hi, lo = c[1:8], c[8:15]
            for r, a in enumerate((lo, hi)):
                coeffs[j, r, 2:7] = a[:5]
                coeffs[j, r, 7] = a[5]
                coeffs[j, r, 8] = a[6]
            nreg[j] = 2
            bounds[j, :3] = [th.min_temp, tmid, th.max_temp]
        elif kind == "Nasa9PolyMultiTempRegion":
            k = int(c[0])
            if k > _MAX_REGIONS:
                raise InvalidInputError(
                    f"species {sp.name!r}: {k} NASA-9 temperature regions; at most {_MAX_REGIONS} "
                    "are supported"
                )
            for r in range(k):
                row = c[1 + 11 * r: 12 + 11 * r]
                if r == 0:
                    bounds[j, 0] = row[0]
                # Cantera evaluates a NASA-9 species exactly at a region boundary with the upper
                # region (NASA-7: with the lower one); the kernel moves up when T > bound, so the
                # inner NASA-9 boundaries are stored one ulp low
                bounds[j, r + 1] = row[1] if r == k - 1 else np.nextafter(row[1], -np.inf)
                coeffs[j, r] = row[2:11]
            nreg[j] = k
        elif kind == "ConstantCp":
            t0, h0, s0, cp0 = c[:4]  # J/kmol, J/kmol/K
            rk = R * 1e3
            coeffs[j, 0, 2] = cp0 / rk
            coeffs[j, 0, 7] = (h0 - cp0 * t0) / rk
            coeffs[j, 0, 8] = (s0 - cp0 * math.log(t0)) / rk
            nreg[j] = 1
            bounds[j, :2] = [th.min_temp, th.max_temp]
        else:
            raise InvalidInputError(
                f"species {sp.name!r}: thermo model {kind} is not supported "
                "(NASA7, NASA9 and constant-cp are)"
            )
        lnpref[j] = math.log(th.reference_pressure)
        tmin[j] = th.min_temp
        tmax[j] = th.max_temp
    return _Thermo([s.name for s in species], coeffs, bounds, nreg, lnpref, tmin, tmax)


def _load_species(source: Any, phase: str | None) -> tuple[list[Any], str, Any]:
    """Species objects of a Cantera phase, a species-only YAML file, or a Cantera object."""
    ct = require("cantera")

    if isinstance(source, ct.ThermoPhase):
        if source.thermo_model not in ("ideal-gas", "IdealGas"):
            raise InvalidInputError(
                f"phase {source.name!r} has thermo model {source.thermo_model!r}; only ideal-gas "
                "phases can be the gas of a GasMixture"
            )
        return list(source.species()), source.name, source
    if not isinstance(source, (str, os.PathLike)):
        raise InvalidInputError(f"from_cantera: expected a file name or a cantera phase, got {source!r}")
    src = os.fspath(source)
    try:
        sol = ct.ThermoPhase(src, phase) if phase else ct.ThermoPhase(src)
    except ct.CanteraError as err:
        text = str(err)
        if "Key 'phases' not found" in text or "phases" in text and "not found" in text:
            try:
                return list(ct.Species.list_from_file(src)), src, None
            except ct.CanteraError as err2:
                raise InvalidInputError(f"{src}: Cantera could not read species: {_first_line(err2)}") from None
        raise InvalidInputError(f"{src}: Cantera could not load it: {_first_line(err)}") from None
    return _load_species(sol, None)[0], src, sol


def _first_line(err: Exception) -> str:
    lines = [ln.strip() for ln in str(err).splitlines() if ln.strip() and not set(ln.strip()) <= {"*"}]
    return " ".join(lines[:3])


def _condensed_species(spec: Any) -> list[Any]:
    """'graphite.yaml' (a fixed-stoichiometry phase), 'nasa_condensed.yaml:H2O(L)', a ct.Species."""
    ct = require("cantera")

    if isinstance(spec, ct.Species):
        return [spec]
    if isinstance(spec, ct.ThermoPhase):
        if spec.n_species != 1:
            raise InvalidInputError(f"condensed phase {spec.name!r} has {spec.n_species} species; "
                                    "only pure (single-species) condensed phases are supported")
        return [spec.species(0)]
    if not isinstance(spec, (str, os.PathLike)):
        raise InvalidInputError(f"condensed entry {spec!r}: expected 'file.yaml', 'file.yaml:SPECIES' "
                                "or a cantera Species")
    text = os.fspath(spec)
    if ".yaml:" in text or ".yml:" in text:
        path, name = text.rsplit(":", 1)
        try:
            found = [s for s in ct.Species.list_from_file(path) if s.name == name]
        except ct.CanteraError as err:
            raise InvalidInputError(f"condensed entry {text!r}: {_first_line(err)}") from None
        if not found:
            raise InvalidInputError(f"condensed entry {text!r}: no species {name!r} in {path}")
        return found
    try:
        ph = ct.ThermoPhase(text)
    except ct.CanteraError as err:
        raise InvalidInputError(f"condensed entry {text!r}: {_first_line(err)}") from None
    return _condensed_species(ph)


def _amount(what: str, v: Any) -> float:
    """A finite, non-negative amount, or an error naming ``what``."""
    try:
        val = float(v)
    except (TypeError, ValueError):
        raise InvalidInputError(f"amount of {what} is {v!r}, not a number") from None
    if not math.isfinite(val) or val < 0.0:
        raise InvalidInputError(f"amount of {what} is {val!r}: amounts must be finite and >= 0")
    return val


def _parse_composition(text: str) -> dict[str, float]:
    """Cantera's compact form 'CH4:1, O2:2, N2:7.52'."""
    out: dict[str, float] = {}
    for item in text.replace(",", " ").split():
        name, sep, val = item.rpartition(":")
        if not sep or not name:
            raise InvalidInputError(f"composition {text!r}: item {item!r} is not NAME:VALUE")
        try:
            out[name] = out.get(name, 0.0) + float(val)
        except ValueError:
            raise InvalidInputError(f"composition {text!r}: value {val!r} of {name!r} is not a number") from None
    return out


@dataclass(frozen=True)
class GasEquilibrium(Result):
    """One equilibrium state. Arrays line up with ``GasMixture.species_names``.

    X : (ng,) gas mole fractions [-]. ln_X : (ng,) their natural logs (exact for trace species
    far below the smallest double; -inf for species excluded because an element is absent).
    T [K], P [Pa]. moles : gas moles per mole of feed. condensed : {name: moles per mole of feed}
    for every condensed species of the mixture (0 when absent). element_potentials :
    {element: mu/RT}. diagnostics: final element-balance and energy residuals (relative), the
    most negative driving force of an absent condensed species, phase changes. certificate : the
    independent check of the state (``chemsolve.gas.certificate``; empty unless the solver
    converged); a state it refuses has status CHECK_FAILED and a message naming the worst residual.
    """

    X: np.ndarray
    ln_X: np.ndarray
    T: float
    P: float
    moles: float
    condensed: dict[str, float]
    status: Status
    nit: int
    element_potentials: dict[str, float]
    diagnostics: dict[str, float]
    mode: str
    species_names: list[str] = field(repr=False)
    message: str = ""
    guess_source: str = "default"
    advice: dict | None = None  # with an advisor: attempts, rejected suggestions, advisor time
    certificate: Certificate | None = field(default=None, repr=False)  # the independent check

    def mole_fraction_dict(self, threshold: float = 0.0) -> dict[str, float]:
        """{species: X} for X above ``threshold``."""
        return {n: float(x) for n, x in zip(self.species_names, self.X) if x > threshold}

    def to_cantera(self, gas: Any) -> Any:
        """Set ``gas`` (a cantera.Solution with these species) to (T, P, X); returns ``gas``."""
        return _to_cantera(gas, self.species_names, self.T, self.P, self.X)


def _to_cantera(gas: Any, names: list[str], T: float, P: float, X: np.ndarray) -> Any:
    idx = {n: i for i, n in enumerate(gas.species_names)}
    Y = np.zeros(gas.n_species)
    for n, x in zip(names, X):
        if n in idx:
            Y[idx[n]] = x
        elif x > 0.0:
            raise InvalidInputError(f"to_cantera: species {n!r} (X={x:.3g}) is not in phase {gas.name!r}")
    gas.TPX = T, P, Y
    return gas


@dataclass(frozen=True)
class GasBatch(BatchResultBase):
    """Many equilibrium states: X (n, ng), ln_X (n, ng), T (n,), P (n,), moles (n,),
    condensed (n, nc) moles per mole of feed (columns: ``condensed_names``), status (n,),
    nit (n,) iterations, element_potentials (n, ne) (columns: ``element_names``), certificate (a
    ``BatchCertificate``: every check's worst residual per row, and which rows were checked)."""

    X: np.ndarray
    ln_X: np.ndarray
    T: np.ndarray
    P: np.ndarray
    moles: np.ndarray
    condensed: np.ndarray
    status: np.ndarray
    nit: np.ndarray
    element_potentials: np.ndarray
    diagnostics: np.ndarray = field(repr=False)
    mode: str = "TP"
    species_names: list[str] = field(default_factory=list, repr=False)
    condensed_names: list[str] = field(default_factory=list, repr=False)
    element_names: list[str] = field(default_factory=list, repr=False)
    guess_source: str = "default"
    advice: dict | None = None
    certificate: BatchCertificate | None = field(default=None, repr=False)  # the independent check, per row

    def _frame_columns(self) -> dict[str, Any]:
        cols = super()._frame_columns()
        cols.update({f"X_{s}": self.X[:, j] for j, s in enumerate(self.species_names)})
        cols.update({f"n_{c}": self.condensed[:, k] for k, c in enumerate(self.condensed_names)})
        return cols

    def row(self, i: int) -> GasEquilibrium:
        """State ``i`` as a ``GasEquilibrium``."""
        st = Status(int(self.status[i]))
        d = self.diagnostics[i]
        cert = self.certificate.row(i) if self.certificate is not None else None
        msg = (failed_message(cert) if (st == Status.CHECK_FAILED and cert is not None)
               else GAS_MESSAGES.get(st, st.message))
        return GasEquilibrium(
            X=self.X[i].copy(), ln_X=self.ln_X[i].copy(), T=float(self.T[i]), P=float(self.P[i]),
            moles=float(self.moles[i]),
            condensed={n: float(v) for n, v in zip(self.condensed_names, self.condensed[i])},
            status=st, nit=int(self.nit[i]),
            element_potentials={n: float(v) for n, v in zip(self.element_names, self.element_potentials[i])},
            diagnostics=_diag(d), mode=self.mode, species_names=self.species_names,
            message=msg, guess_source=self.guess_source, advice=self.advice, certificate=cert,
        )

    def to_cantera(self, gas: Any, i: int) -> Any:
        """Set ``gas`` to state ``i``; returns ``gas``."""
        return _to_cantera(gas, self.species_names, float(self.T[i]), float(self.P[i]), self.X[i])


def _diag(st_row: np.ndarray) -> dict[str, float]:
    from ..kernels import gas as kg  # noqa: PLC0415 - numba only when solving

    return {
        "element_residual": float(st_row[kg.ST_ELEM]),
        "energy_residual": float(st_row[kg.ST_ENERGY]),
        "min_condensed_driving_force": float(st_row[kg.ST_DRIVE]),
        "phase_changes": float(st_row[kg.ST_PHASE_CHANGES]),
    }


class GasMixture:
    """An ideal-gas phase plus optional pure condensed species, with thermo as kernel arrays.

    Build with ``GasMixture.from_cantera``. Attributes: species_names (ng), element_names (ne),
    condensed_names (nc), A (ng, ne) and Ac (nc, ne) formula matrices, molecular_weights (ng,)
    [kg/kmol], T_fit (ng, 2) fitted range of each species [K].
    """

    def __init__(self, gas_species: list[Any], condensed_species: list[Any], source: str, phase: Any = None):
        ct = require("cantera")

        if not gas_species:
            raise InvalidInputError(f"{source}: no gas species")
        names = [s.name for s in gas_species]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise InvalidInputError(f"{source}: duplicate species {dup}")
        elements: list[str] = []
        for sp in list(gas_species) + list(condensed_species):
            for el in sp.composition:
                if el not in elements:
                    elements.append(el)
        if phase is not None:  # Cantera's element order first
            elements = [e for e in phase.element_names if e in elements] + [
                e for e in elements if e not in phase.element_names]
        self.source = source
        self.species_names = names
        self.element_names = elements
        self.condensed_names = [s.name for s in condensed_species]
        eidx = {e: i for i, e in enumerate(elements)}
        self.A = np.zeros((len(gas_species), len(elements)))
        for j, sp in enumerate(gas_species):
            for el, v in sp.composition.items():
                self.A[j, eidx[el]] = v
        self.Ac = np.zeros((len(condensed_species), len(elements)))
        for j, sp in enumerate(condensed_species):
            for el, v in sp.composition.items():
                self.Ac[j, eidx[el]] = v
        weights = {}
        for el in elements:
            weights[el] = ct.Element(el).weight if el != "E" else ct.electron_mass * ct.avogadro
        self.molecular_weights = np.array(
            [sum(v * weights[el] for el, v in sp.composition.items()) for sp in gas_species])
        self.charges = np.array([float(sp.charge) for sp in gas_species])
        self._gas = _thermo_rows(gas_species)
        self._cond = _thermo_rows(condensed_species) if condensed_species else _Thermo(
            [], np.zeros((0, _MAX_REGIONS, 9)), np.zeros((0, _MAX_REGIONS + 1)), np.zeros(0, np.int64),
            np.zeros(0), np.zeros(0), np.zeros(0))
        self.T_fit = np.column_stack([self._gas.tmin, self._gas.tmax])
        # where each condensed species may take part (its fit; the lowest phase of a formula also
        # below it): see chemsolve.gas.certificate.condensed_windows
        self._cwin = np.ascontiguousarray(_cert.condensed_windows(self.Ac, self._cond.tmin, self._cond.tmax))
        self.condensed_windows = self._cwin
        self._index = {n: i for i, n in enumerate(names)}

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_cantera(cls, source: Any, *, species: Sequence[str] | None = None,
                     elements: Sequence[str] | None = None, condensed: Sequence[Any] = (),
                     phase: str | None = None) -> GasMixture:
        """Read species from a Cantera YAML file (``gri30.yaml``, a species-only file such as
        ``nasa_gas.yaml``, a user's file) or a ``cantera.Solution``.

        species : keep only these gas species (names must exist). elements : keep only gas
        species made of these elements (useful with the 748 species of nasa_gas.yaml).
        condensed : pure condensed species, each ``'graphite.yaml'`` (a one-species phase),
        ``'nasa_condensed.yaml:H2O(L)'``, a ``cantera.Species`` or one-species phase.
        phase : phase name within a multi-phase file. Species keep the file's order.
        """
        sp, src, ph = _load_species(source, phase)
        if species is not None:
            have = {s.name: s for s in sp}
            missing = [n for n in species if n not in have]
            if missing:
                raise InvalidInputError(f"{src}: unknown species {missing}")
            keep = set(species)
            sp = [s for s in sp if s.name in keep]
        if elements is not None:
            allowed = set(elements)
            sp = [s for s in sp if set(s.composition) <= allowed]
            if not sp:
                raise InvalidInputError(f"{src}: no species made only of elements {sorted(allowed)}")
        cond = [c for spec in condensed for c in _condensed_species(spec)]
        return cls(sp, cond, src, ph)

    # ------------------------------------------------------------------ helpers
    @property
    def n_species(self) -> int:
        return len(self.species_names)

    def species_index(self, name: str) -> int:
        try:
            return self._index[name]
        except KeyError:
            raise InvalidInputError(f"unknown species {name!r} (not in {self.source})") from None

    def _feed_rows(self, X: Any) -> np.ndarray:
        """Mole fractions (n, ng) or (ng,) from a dict, 'A:1, B:2', or an array; validated."""
        if isinstance(X, str):
            X = _parse_composition(X)
        if isinstance(X, dict):
            row = np.zeros(self.n_species)
            for name, v in X.items():
                j = self.species_index(str(name))
                row[j] += _amount(repr(name), v)
            arr = row
        else:
            arr = np.asarray(X, dtype=float)
            if arr.shape[-1:] != (self.n_species,) or arr.ndim > 2:
                raise InvalidInputError(
                    f"X has shape {arr.shape}; expected ({self.n_species},) or (n, {self.n_species}) "
                    "in the order of species_names"
                )
        tot = arr.sum(axis=-1, keepdims=True)
        # every amount >= 0 (NaN fails) with finite row sums (an inf amount makes its sum inf)
        # means every amount is finite and >= 0; only otherwise look for the offending entry
        if not ((arr >= 0.0).all() and np.isfinite(tot).all()):
            bad = np.argwhere(~np.isfinite(arr) | (arr < 0.0))
            if bad.size:
                idx = tuple(bad[0])
                raise InvalidInputError(
                    f"X{list(idx)} (species {self.species_names[idx[-1]]!r}) = {arr[idx]!r}: amounts "
                    "must be finite and >= 0"
                )
        if np.any(tot <= 0.0):
            row = int(np.argmin(tot.reshape(-1)))
            raise InvalidInputError(f"X (row {row}) is all zero: nothing to equilibrate")
        return arr / tot

    def _check_range(self, T: np.ndarray, x: np.ndarray, what: str) -> None:
        """Warn when T lies outside the fit of a gas species of the feed x ("feed") or of any gas
        species made of the feed's elements ("equilibrium")."""
        Tf = np.atleast_1d(T)
        used = np.atleast_2d(x).max(axis=0) > 0.0
        if what == "feed":
            present = used
        else:
            elems = np.abs(self.A[used]).sum(axis=0) > 0.0
            present = np.all((self.A == 0.0) | elems[None, :], axis=1)
        lo, hi = self._gas.tmin[present], self._gas.tmax[present]
        names = [n for n, p in zip(self.species_names, present) if p]
        bad_lo = Tf.min() < lo
        bad_hi = Tf.max() > hi
        bad = np.flatnonzero(bad_lo | bad_hi)
        if bad.size:
            j = bad[0]
            warnings.warn(
                f"{what} temperature {Tf.min():.6g}..{Tf.max():.6g} K is outside the thermo fit of "
                f"{bad.size} species (e.g. {names[j]}: {lo[j]:g}-{hi[j]:g} K); the fits are "
                "extrapolated, as Cantera does",
                ThermoRangeWarning, stacklevel=3,
            )

    def _check_condensed_range(self, T: np.ndarray, nc: np.ndarray) -> None:
        """Warn when a condensed species is present outside its fit (the lowest phase of a formula
        may be: see ``condensed_windows``)."""
        if nc.size == 0:
            return
        th = self._cond
        out = (nc > 0.0) & ((T[:, None] < th.tmin[None, :]) | (T[:, None] > th.tmax[None, :]))
        if out.any():
            i, k = (int(v) for v in np.argwhere(out)[0])
            warnings.warn(
                f"condensed species {self.condensed_names[k]} is present at {T[i]:.6g} K, outside its thermo "
                f"fit {th.tmin[k]:g}-{th.tmax[k]:g} K ({int(out.any(axis=0).sum())} species, "
                f"{int(out.any(axis=1).sum())} states): it is the lowest-temperature phase of its formula "
                "in this mixture, so its fit is extrapolated down; add the phase below for better data",
                ThermoRangeWarning, stacklevel=3,
            )

    # ------------------------------------------------------------------ equilibrium
    def _feed_from_elements(self, elements: dict[str, float], mode: str) -> np.ndarray:
        """A non-negative gas feed x with A^T x = b for element amounts b (TP and TV only)."""
        from scipy.optimize import nnls  # noqa: PLC0415

        if mode != "TP":
            raise InvalidInputError(
                f"elements= fixes only the element amounts, not the enthalpy, entropy, energy or "
                f"volume of a feed; use it with mode 'TP', not {mode!r}")
        if not isinstance(elements, dict) or not elements:
            raise InvalidInputError(f"elements={elements!r}: expected a dict such as {{'C': 1, 'H': 4}}")
        b = np.zeros(len(self.element_names))
        for el, v in elements.items():
            if el not in self.element_names:
                raise InvalidInputError(
                    f"unknown element {el!r}: the mixture's elements are {self.element_names}")
            b[self.element_names.index(el)] = _amount(f"element {el!r}", v)
        if not b.any():
            raise InvalidInputError("elements: all amounts are zero; nothing to equilibrate")
        for i, el in enumerate(self.element_names):
            if b[i] > 0.0 and not np.any(self.A[:, i] > 0.0):
                raise InvalidInputError(
                    f"element {el!r} (amount {b[i]:g}) is carried by no gas species of {self.source}")
        # only species made of the given elements, so that no other element sneaks in
        usable = np.all((self.A == 0.0) | (b > 0.0)[None, :], axis=1)
        x = np.zeros(self.n_species)
        xs, res = nnls(self.A[usable].T, b)
        x[usable] = np.where(xs > 1e-14 * xs.max(initial=0.0), xs, 0.0)
        res = float(np.linalg.norm(self.A.T @ x - b))
        if res > 1e-10 * np.abs(b).sum() or not x.any():
            raise InvalidInputError(
                f"elements {elements!r}: no non-negative combination of the gas species has these "
                f"element amounts (residual {res:.3g})")
        return x

    def equilibrate(self, T: Any, P: Any, X: Any = None, mode: str = "TP", *, elements: Any = None,
                    damping: Any = None,
                    warm_start: bool = False, H: Any = None, U: Any = None, S: Any = None,
                    max_iter: int = 500, tol: float = 1e-9, T_guess: float | None = None,
                    T_bounds: tuple[float, float] = (100.0, 20000.0), chunk: int | None = None,
                    throw_on_input: bool = True, advisor: Any = None, options: GasOptions | None = None,
                    throw: bool = False) -> GasEquilibrium | GasBatch:
        """Chemical equilibrium of the feed (T [K], P [Pa], X) holding two properties fixed.

        mode : 'TP', 'HP', 'SP', 'TV', 'UV'. As in Cantera, the feed state fixes the held
        properties: HP holds the feed's enthalpy and P, UV its internal energy and volume, and
        so on. ``elements={'C': 1, 'H': 4, 'O': 4}`` gives the element amounts instead of X
        (TP only: element amounts carry no enthalpy and no volume). ``H`` [J/kg], ``U`` [J/kg] or
        ``S`` [J/kg/K] override the feed's value (HP, UV,
        SP). Scalars give a ``GasEquilibrium``; arrays of T / P or an (n, ng) X give a
        ``GasBatch`` (solved in parallel; ``warm_start=True`` starts each state from the previous
        one, for sweeps). damping : ``ControlFactor()`` (NASA CEA's, the default) or any engine
        schedule (Constant, Ramp, Adaptive, LineSearch). tol : relative residual of the final
        element-balance and energy check. T_guess : first temperature of a cold HP/SP/UV solve
        (default: CEA's 3800 K). T_bounds : the search for T in HP, SP and UV stays inside [K]
        (TP and TV states are solved at the T given, whatever T_bounds; outside the species' fits
        with a ThermoRangeWarning). Every state the solver calls converged is then certified
        (``chemsolve.gas.certificate``); one the certificate refuses is CHECK_FAILED.
        options : a ``GasOptions`` holding damping, max_iter, tol, T_guess, T_bounds and chunk at once (the
        object a model file's ``solver:`` builds); then leave those keywords at their defaults.
        throw : raise ``chemsolve.ConvergenceError`` (carrying the result) unless every state converged.
        advisor : a ``chemsolve.advisors`` advisor, consulted once per call (a batch is one
        problem: never once per state). It may suggest ``{"T": K}`` (the first temperature of
        HP/SP/UV, inside T_bounds) and a damping schedule; bad parts are replaced by the defaults
        and the reason kept in ``advice``. A retry re-solves only the states that failed.
        """
        if options is not None:  # the options object's values, as keywords (after the clash check)
            o = _gas_options(options, damping=damping, max_iter=max_iter, tol=tol, T_guess=T_guess,
                             T_bounds=T_bounds, chunk=chunk)
            damping, max_iter, tol, T_guess, T_bounds, chunk = (o.damping, o.max_iter, o.tol, o.T_guess, o.T_bounds,
                                                                 o.chunk)
            options = None
        if advisor is not None:
            out = self._advised(advisor, dict(T=T, P=P, X=X, mode=mode, elements=elements, damping=damping,
                                              warm_start=warm_start, H=H, U=U, S=S, max_iter=max_iter, tol=tol,
                                              T_guess=T_guess, T_bounds=T_bounds, chunk=chunk,
                                              throw_on_input=throw_on_input))
            if throw and not bool(np.all(out.success)):
                raise ConvergenceError(out)
            return out
        from ..kernels import first_use  # noqa: PLC0415
        from ..kernels import gas as kg  # noqa: PLC0415 - numba only when solving
        from ..kernels import gas_certificate as kc  # noqa: PLC0415

        mode_u = str(mode).upper()
        if mode_u not in _c.MODE_NAMES:
            raise InvalidInputError(f"mode={mode!r}; expected one of {sorted(_c.MODE_NAMES)}")
        mcode = _c.MODE_NAMES[mode_u]
        if elements is not None:
            if X is not None:
                raise InvalidInputError("give either X (species) or elements, not both")
            X = self._feed_from_elements(elements, mode_u)
        elif X is None:
            raise InvalidInputError("no feed: give X (species amounts) or elements")
        x = self._feed_rows(X)
        Ta = np.asarray(T, dtype=float)
        Pa = np.asarray(P, dtype=float)
        batch = x.ndim == 2 or Ta.ndim > 0 or Pa.ndim > 0
        try:
            shape = np.broadcast_shapes(Ta.shape, Pa.shape, x.shape[:-1])
        except ValueError:
            raise InvalidInputError(
                f"T {Ta.shape}, P {Pa.shape} and X {x.shape} do not broadcast to one batch") from None
        if len(shape) > 1:
            raise InvalidInputError(f"a batch is one-dimensional; got shape {shape}")
        n = int(shape[0]) if shape else 1
        Tb = np.ascontiguousarray(np.broadcast_to(Ta, (n,)) if shape else Ta.reshape(1), dtype=float)
        Pb = np.ascontiguousarray(np.broadcast_to(Pa, (n,)) if shape else Pa.reshape(1), dtype=float)
        Xb = np.ascontiguousarray(np.broadcast_to(x, (n, self.n_species)), dtype=float)
        for nm, arr, unit in (("T", Tb, "K"), ("P", Pb, "Pa")):
            bad = np.flatnonzero(~np.isfinite(arr) | (arr <= 0.0))
            if bad.size:
                where = f"[{bad[0]}]" if batch else ""
                raise InvalidInputError(f"{nm}{where} = {float(arr[bad[0]])!r} {unit}: must be finite and > 0")
        for val in (H, U, S):  # an H (U, S) sweep at one feed state
            try:
                shp = np.shape(np.asarray(val, dtype=float)) if val is not None else ()
            except (TypeError, ValueError):
                continue  # _targets names it
            if n == 1 and len(shp) == 1 and shp[0] > 1:
                n = shp[0]
                batch = True
                Tb = np.ascontiguousarray(np.broadcast_to(Tb, (n,)))
                Pb = np.ascontiguousarray(np.broadcast_to(Pb, (n,)))
                Xb = np.ascontiguousarray(np.broadcast_to(Xb, (n, self.n_species)))
        target = _targets(self, mode_u, Xb, n, H=H, U=U, S=S)
        o = _gas_options(options, damping=damping, max_iter=max_iter, tol=tol, T_guess=T_guess, T_bounds=T_bounds,
                         chunk=chunk)
        sched, max_iter, tol, T_guess, chunk = o.damping, o.max_iter, o.tol, o.T_guess, o.chunk
        lo_t, hi_t = o.T_bounds
        T_bounds = o.T_bounds
        gopt = np.zeros(kg.N_GOPT)
        gopt[kg.GOPT_MAX_ITER] = int(max_iter)
        gopt[kg.GOPT_TOL] = float(tol)
        gopt[kg.GOPT_TMIN] = lo_t
        gopt[kg.GOPT_TMAX] = hi_t
        gopt[kg.GOPT_T_GUESS] = 3800.0 if T_guess is None else float(T_guess)
        self._check_range(Tb, Xb, "feed" if mode_u in ("HP", "SP", "UV") else "equilibrium")

        ng, ne, ncs = self.n_species, len(self.element_names), len(self.condensed_names)
        lnn = np.empty((n, ng))  # every row is written by the kernel (NaN if not solved)
        nc = np.zeros((n, ncs))
        cact = np.zeros((n, ncs), dtype=np.bool_)
        pi = np.zeros((n, ne))
        st = np.zeros((n, kg.N_ST))
        status = np.full(n, _c.INVALID_INPUT, dtype=np.int64)
        if chunk is None:
            chunk = kg.default_chunk(n, bool(warm_start))
        g, c = self._gas, self._cond
        X_out = np.empty((n, ng))
        # the first call in a process loads the compiled kernels from numba's disk cache, or
        # compiles them (first use on this machine): the latter is said on stderr
        with first_use("the gas kernels", kg.equil_rows, kc.certify_rows):
            kg.equil_batch(mcode, Xb, Tb, Pb, target, self.A, g.coeffs, g.bounds, g.nreg, g.lnpref,
                           self.Ac, c.coeffs, c.bounds, c.nreg, self._cwin, sched.kind, sched.params(),
                           gopt, 1 if warm_start else 0, int(chunk), lnn, nc, cact, pi, st, status, X_out)
            ln_x = lnn  # the kernel leaves ln mole fractions here
            moles = np.exp(st[:, kg.ST_LNSUM])
            T_used = st[:, kg.ST_T].copy()  # the temperature the kernel solved at (TP, TV: must be T)
            Tout = Tb.copy() if mode_u in ("TP", "TV") else T_used
            Pout = st[:, kg.ST_P].copy()
            # the certificate: every state the solver calls converged is checked independently;
            # those that fail become CHECK_FAILED
            cert = _cert.certify_arrays(self, mode_u, Xb, Tb, Pb, target, T_used, Pout, X_out, ln_x, moles, nc,
                                        pi, status, float(tol))
        conv = status == _c.CONVERGED
        if conv.any():
            if mode_u in ("HP", "SP", "UV"):
                self._check_range(Tout[conv], Xb[conv], "equilibrium")
            self._check_condensed_range(Tout[conv], nc[conv])
        if mode_u in ("HP", "SP", "UV"):
            recheck = None
            if sched != dmp.ControlFactor():
                # a failure pinned at a T bound under another schedule may be the schedule's doing:
                # the target is called infeasible only if the default fails there too
                def recheck(idx, kw=dict(mode=mode_u, X=Xb, P=Pb, T=Tb, H=H, U=U, S=S)):  # noqa: B006 - bound now, never mutated
                    sub = {k: (np.broadcast_to(np.asarray(v, dtype=float), (n,) + np.shape(v)[1:])[idx]
                               if k != "X" else v[idx]) for k, v in kw.items() if v is not None and k != "mode"}
                    r = self.equilibrate(sub.pop("T"), sub.pop("P"), sub.pop("X"), mode=kw["mode"], max_iter=max_iter,
                                         tol=tol, T_guess=T_guess, T_bounds=T_bounds, throw_on_input=False, **sub)
                    return np.atleast_1d(r.success)
            self._infeasible_targets(status, Tout, lo_t, hi_t, mode_u, batch and not throw_on_input, recheck,
                                     (Xb, Tb, Pb, target, float(tol), int(max_iter)))
        res = GasBatch(X=X_out, ln_X=ln_x, T=Tout, P=Pout, moles=moles, condensed=nc, status=status,
                       nit=st[:, kg.ST_ITER].astype(np.int64), element_potentials=pi,
                       diagnostics=st, mode=mode_u, species_names=self.species_names,
                       condensed_names=self.condensed_names, element_names=self.element_names,
                       certificate=cert)
        out = res if batch else res.row(0)
        if throw and not bool(np.all(out.success)):
            raise ConvergenceError(out)
        return out


    def _advised(self, advisor: Any, kw: dict[str, Any]) -> GasEquilibrium | GasBatch:
        """``equilibrate`` with an advisor (see ``chemsolve.advisors.consult``)."""
        from ..advisors import base as adv  # noqa: PLC0415

        mode_u = str(kw["mode"]).upper()
        try:
            Ta, Pa = np.atleast_1d(np.asarray(kw["T"], dtype=float)), np.atleast_1d(np.asarray(kw["P"], dtype=float))
            fine = bool(np.all(np.isfinite(Ta)) and np.all(Ta > 0) and np.all(np.isfinite(Pa)) and np.all(Pa > 0))
        except (TypeError, ValueError):
            fine = False
        if not fine or mode_u not in _c.MODE_NAMES:
            return self.equilibrate(**kw)  # the plain call names the bad input
        feed = (self._feed_from_elements(kw["elements"], mode_u) if kw["elements"] is not None
                else self._feed_rows(kw["X"]))
        x0 = np.atleast_2d(feed)[0]
        b = x0 @ self.A
        tot = float(np.sum(np.abs(b))) or 1.0
        elems = {e: float(v) for e, v in zip(self.element_names, b / tot)}
        top = np.argsort(-x0)[:8]
        summary = {
            "kind": "gas", "mode": mode_u, "signature": f"gas:{self.source}:{mode_u}:{','.join(self.element_names)}",
            "elements": elems, "T": float(Ta[0]), "P": float(Pa[0]),
            "feed": {self.species_names[i]: float(x0[i] / x0.sum()) for i in top if x0[i] > 0},
            "condensed": list(self.condensed_names),
            "batch_size": int(max(Ta.size, Pa.size, np.atleast_2d(feed).shape[0])),
            "features": [*(v for v in elems.values()), math.log(float(Ta[0])) , math.log(float(Pa[0]))],
        }
        lo_t, hi_t = float(kw["T_bounds"][0]), float(kw["T_bounds"][1])
        free_T = mode_u in ("HP", "SP", "UV")

        def check(sug):
            parts = {"damping": adv.check_damping(sug.damping)}
            g = sug.initial_guess
            if g is not None:
                if not isinstance(g, dict) or set(g) - {"T"}:
                    parts["initial_guess"] = adv.Part(None, f"expected {{'T': K}}, got {g!r:.80}")
                elif not free_T:
                    parts["initial_guess"] = adv.Part(None, f"mode {mode_u} fixes T: a T guess is not used")
                else:
                    parts["initial_guess"] = adv.finite_number(g.get("T"), lo_t, hi_t, "T")
            if sug.options:
                parts["options"] = adv.Part(None, f"unknown option(s) {sorted(sug.options)}; the gas model has none")
            return parts

        best: list[Any] = []
        row_attempt: list[np.ndarray] = []  # which attempt solved each state of a batch
        n_att = [0]

        def attempt(p):
            args = dict(kw)
            if "damping" in p:
                args["damping"] = p["damping"]
            if "initial_guess" in p:
                args["T_guess"] = p["initial_guess"]
            prev = best[0] if best and isinstance(best[0], GasBatch) else None
            n_att[0] += 1
            if prev is None:
                r = self.equilibrate(**args)
                work = int(np.sum(r.nit))
                if isinstance(r, GasBatch):
                    row_attempt[:] = [np.zeros(len(r), dtype=np.int64)]
            else:  # a retry: only the states that failed, patched into the earlier result
                n = len(prev)
                idx = np.flatnonzero(~prev.success)
                for k in ("T", "P", "H", "U", "S"):
                    if args[k] is not None:
                        args[k] = np.broadcast_to(np.asarray(args[k], dtype=float), (n,))[idx]
                if args["X"] is not None:
                    rows = self._feed_rows(args["X"])
                    if rows.ndim == 2:
                        args["X"] = np.broadcast_to(rows, (n, rows.shape[1]))[idx]
                sub = self.equilibrate(**args)
                work = int(np.sum(sub.nit))
                fields_ = ("X", "ln_X", "T", "P", "moles", "condensed", "status", "element_potentials", "diagnostics")
                r = replace(prev, **{f: _patched(getattr(prev, f), getattr(sub, f), idx) for f in fields_},
                            nit=_patched(prev.nit, prev.nit[idx] + sub.nit, idx),
                            certificate=_patched_certificate(prev.certificate, sub.certificate, idx))
                row_attempt[0][idx] = n_att[0] - 1
            best[:] = [r]
            conv = bool(np.all(r.success))
            sol = {"T": float(np.atleast_1d(r.T)[0])} if (free_T and conv) else {}
            rec = {"status": "CONVERGED" if conv else (r.status.name if isinstance(r, GasEquilibrium)
                                                       else f"{int(np.sum(~r.success))} of {len(r)} failed"),
                   "converged": conv, "iterations": work, "residual_trace": [], "solution": sol,
                   "damping": p["damping"].to_dict() if "damping" in p else "default"}
            return r, rec

        res, source, log = adv.consult(advisor, summary, check, attempt)
        if isinstance(res, GasBatch) and row_attempt and len(log["attempts"]) > 1:
            srcs = [log["attempts"][min(int(k), len(log["attempts"]) - 1)]["source"] for k in row_attempt[0]]
            log["row_source"] = srcs
            counts = {a: srcs.count(a) for a in dict.fromkeys(srcs)}
            if len(counts) > 1:
                source = ", ".join(f"{a} x{c}" for a, c in counts.items())
        return replace(res, guess_source=source, advice=log)

    def _infeasible_targets(self, status, T, lo, hi, mode, quiet, recheck=None, request=None) -> None:
        """A state that failed with T pinned at a bound may have a target outside the reachable
        range. It is called infeasible (INVALID_INPUT) only when the TP (UV: TV) equilibrium at
        that bound confirms it: the held property of that state lies on the far side of the
        target (with a non-default schedule, also only if the default fails there too). The
        equilibrium H, U and S rise with T (``condensed_windows``), so the confirmation is exact."""
        failed = (status != _c.CONVERGED) & (status != _c.CHECK_FAILED)
        at_lo = failed & (np.abs(T - lo) < 1e-9 * lo)
        at_hi = failed & (np.abs(T - hi) < 1e-9 * hi)
        pinned = at_lo | at_hi
        if not np.any(pinned):
            return
        if recheck is not None:
            idx = np.flatnonzero(pinned)
            pinned[idx[recheck(idx)]] = False
        gap = np.full(T.shape[0], np.nan)  # target - property at the bound, per mole of feed
        if request is not None and np.any(pinned):
            gap[pinned] = self._gap_at_bound(np.flatnonzero(pinned), np.where(at_lo, lo, hi)[pinned], mode, *request)
        confirmed = pinned & np.where(at_lo, gap < 0.0, gap > 0.0)
        if not np.any(confirmed):
            return
        i = int(np.flatnonzero(confirmed)[0])
        side = "below" if at_lo[i] else "above"
        what = {"HP": "enthalpy", "UV": "internal energy", "SP": "entropy"}[mode]
        bound = lo if side == "below" else hi
        msg = (f"infeasible {mode} target (state {i}): the {what} to hold lies {side} the equilibrium "
               f"{what} at T_bounds {side.replace('below', 'low').replace('above', 'high')} end "
               f"{bound:g} K (by {abs(gap[i]):.4g}{'' if mode == 'SP' else ' K'} in {mode[0]}/R per mole of feed); "
               "check H/U/S or widen T_bounds")
        status[confirmed] = _c.INVALID_INPUT
        if not quiet:
            raise InvalidInputError(msg)

    def _gap_at_bound(self, idx, Tbound, mode, Xb, Tb, Pb, target, tol, max_iter) -> np.ndarray:
        """target - (the held property of the TP (UV: TV) equilibrium at Tbound) for rows idx, per
        mole of feed; NaN where that equilibrium does not converge."""
        from ..kernels import first_use  # noqa: PLC0415
        from ..kernels import gas_certificate as kc  # noqa: PLC0415

        fixed = "TP" if mode in ("HP", "SP") else "TV"
        # TV at Tbound holds the feed's volume R T0 / P0: the kernel takes V from (T, P), so P scales with T
        P = Pb[idx] if fixed == "TP" else Pb[idx] * Tbound / Tb[idx]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ThermoRangeWarning)
            r = self.equilibrate(np.ascontiguousarray(Tbound, dtype=float), np.ascontiguousarray(P, dtype=float),
                                 Xb[idx], mode=fixed, tol=tol, max_iter=max_iter, throw_on_input=False)
        mcode = _c.MODE_NAMES[mode]
        g, c = self._gas, self._cond
        prop = np.empty(len(idx))
        tgt = target[idx].copy()
        own = np.isnan(tgt)
        with first_use("the gas property kernels", kc.property_batch, kc.feed_property_batch):
            kc.property_batch(mcode, r.T, r.P, r.X, r.ln_X, r.moles, r.condensed, g.coeffs, g.bounds, g.nreg,
                              g.lnpref, c.coeffs, c.bounds, c.nreg, prop)
            if own.any():
                fp = np.empty(int(own.sum()))
                kc.feed_property_batch(mcode, np.ascontiguousarray(Xb[idx][own]), np.ascontiguousarray(Tb[idx][own]),
                                       np.ascontiguousarray(Pb[idx][own]), g.coeffs, g.bounds, g.nreg, g.lnpref, fp)
                tgt[own] = fp
        return np.where(r.success, tgt - prop, np.nan)


def _targets(mix: GasMixture, mode_u: str, Xb: np.ndarray, n: int, H: Any = None, U: Any = None,
             S: Any = None) -> np.ndarray:
    """The held property per mole of feed (H/R [K], U/R [K] or S/R [-]) from H, U [J/kg] or S [J/kg/K]
    given for n states of feed rows Xb; NaN where the feed's own value is held."""
    target = np.full(n, np.nan)
    for nm, val, ok_mode in (("H", H, "HP"), ("U", U, "UV"), ("S", S, "SP")):
        if val is None:
            continue
        if mode_u != ok_mode:
            raise InvalidInputError(f"{nm}= is only used with mode='{ok_mode}', not {mode_u!r}")
        try:
            v = np.asarray(val, dtype=float)
        except (TypeError, ValueError):
            raise InvalidInputError(f"{nm} = {val!r} is not a number") from None
        if v.ndim > 1 or (v.ndim == 1 and v.shape[0] != n):
            raise InvalidInputError(f"{nm} has shape {v.shape}; expected a scalar or ({n},) like T")
        v = np.broadcast_to(v, (n,))
        if not np.all(np.isfinite(v)):
            raise InvalidInputError(f"{nm} = {val!r}: must be finite")
        mw = Xb @ mix.molecular_weights * 1e-3  # kg/mol of feed
        target = v * mw / R  # per mole of feed: H/R [K], U/R [K] or S/R [-]
    return target


def _patched_certificate(prev: BatchCertificate | None, new: BatchCertificate | None,
                         rows: np.ndarray) -> BatchCertificate | None:
    """``prev`` with the certificates of rows ``rows`` taken from ``new`` (a re-solve of those rows)."""
    if prev is None or new is None:
        return prev
    where = {k: _cert.IndexedNames(_patched(w.idx, new.where[k].idx, rows), w.names) for k, w in prev.where.items()}
    return BatchCertificate({k: _patched(v, new.values[k], rows) for k, v in prev.values.items()},
                            dict(prev.tolerances), where, dict(prev.units), _patched(prev.checked, new.checked, rows),
                            prev.domain)


def _gas_options(options: GasOptions | None, **kw: Any) -> GasOptions:
    """``options``, or the options built from the keywords (validated once, by ``GasOptions``)."""
    if options is None:
        return GasOptions(**kw)
    if not isinstance(options, GasOptions):
        raise InvalidInputError(f"options={options!r}: expected a chemsolve.gas.GasOptions")
    default = GasOptions()
    clash = sorted(k for k, v in kw.items() if v is not None and k != "damping" and v != getattr(default, k))
    if clash or kw.get("damping") is not None:
        raise InvalidInputError("give the solver options either as options= or as keywords, not both "
                                f"({clash or ['damping']})")
    return options


def _patched(prev: np.ndarray, new: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``prev`` with the rows ``rows`` replaced by ``new`` (one row of ``new`` per index)."""
    out = np.array(prev, copy=True)
    out[rows] = new
    return out
