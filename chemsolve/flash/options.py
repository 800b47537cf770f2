"""Options of the flash model: ``FlashOptions`` (one typed, frozen object, validated at construction)
and the acceleration schedules of successive substitution (``NoAcceleration``, ``DEM``, ``GDEM``,
``Anderson``).

Damping of the substitution step is a ``chemsolve.damping`` schedule: ``Constant(a)`` relaxes every
step (ln K <- ln K - a g), ``Ramp`` starts cautious, ``Adaptive`` grows after a step that lowered
max|g| and shrinks after one that did not, ``ControlFactor(max_change)`` caps the change of any ln K per
step. ``LineSearch`` has no meaning for substitution (there is no descent test) and is refused.

Everything here round-trips through plain dicts (``to_dict`` / ``from_mapping``), the form model files
and advisors use.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from functools import lru_cache
from typing import Any, ClassVar

import numpy as np

from .. import damping as dmp
from ..errors import InvalidInputError
from ..kernels import codes as _c

__all__ = ["DEM", "GDEM", "Acceleration", "Anderson", "FlashOptions", "NoAcceleration"]


def _num(owner: str, name: str, value: Any, lo: float, hi: float, lo_open: bool = True, integer: bool = False,
         hi_open: bool = False) -> float:
    if isinstance(value, bool):
        raise InvalidInputError(f"{owner}: {name}={value!r} is not a number")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{owner}: {name}={value!r} is not a number") from None
    if integer and (not math.isfinite(v) or v != int(v)):
        raise InvalidInputError(f"{owner}: {name}={value!r} must be an integer")
    ok = (math.isfinite(v) or (hi == math.inf and v == math.inf and not hi_open)) and \
        (v > lo if lo_open else v >= lo) and (v < hi if hi_open else v <= hi)
    if not ok:
        left = "(" if lo_open else "["
        right = ")" if hi_open else "]"
        raise InvalidInputError(f"{owner}: {name}={value!r} must lie in {left}{lo:g}, {hi:g}{right}")
    return v


@dataclass(frozen=True)
class Acceleration:
    """Base of the acceleration schedules of successive substitution."""

    kind: ClassVar[int] = _c.ACC_NONE
    name: ClassVar[str] = "none"

    def params(self) -> tuple[float, float]:
        return 0.0, 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.name, **asdict(self)}


@dataclass(frozen=True)
class NoAcceleration(Acceleration):
    """Plain (damped) successive substitution."""

    kind: ClassVar[int] = _c.ACC_NONE
    name: ClassVar[str] = "none"


@dataclass(frozen=True)
class DEM(Acceleration):
    """Dominant eigenvalue method (Crowe & Nishio 1975; Michelsen 1982b): after every ``every``-th
    substitution step, with the last two steps s_k, s_(k-1), lambda = s_k.s_k / s_(k-1).s_k; if
    0 < lambda < 1 the step is extrapolated by min(lambda / (1 - lambda), max_factor) s_k, and kept
    only if max|g| did not grow (else the plain point is used)."""

    every: int = 5
    max_factor: float = 20.0
    kind: ClassVar[int] = _c.ACC_DEM
    name: ClassVar[str] = "dem"

    def __post_init__(self) -> None:
        object.__setattr__(self, "every", int(_num("DEM", "every", self.every, 2, 1000, lo_open=False, integer=True)))
        object.__setattr__(self, "max_factor", _num("DEM", "max_factor", self.max_factor, 0.0, 1e6))

    def params(self) -> tuple[float, float]:
        return float(self.every), float(self.max_factor)


@dataclass(frozen=True)
class GDEM(Acceleration):
    """General dominant eigenvalue method (Crowe & Nishio 1975; Michelsen & Mollerup 2007, ch. 10): DEM with
    two eigenvalues. After every ``every``-th substitution step (at least 3), the last three steps s_k,
    s_(k-1), s_(k-2) give by least squares the coefficients of s_k + a1 s_(k-1) + a2 s_(k-2) = 0; when both
    roots of l^2 + a1 l + a2 lie inside the unit circle, ln K moves on by the sum of the steps still to come,
    (-(a1 + a2) s_k - a2 s_(k-1)) / (1 + a1 + a2), its length capped at ``max_factor`` x ``|s_k|``, and the point
    is kept only if max|g| did not grow. Near a critical point two eigenvalues of the substitution approach 1
    together, where one-eigenvalue DEM extrapolates too little."""

    every: int = 5
    max_factor: float = 20.0
    kind: ClassVar[int] = _c.ACC_GDEM
    name: ClassVar[str] = "gdem"

    def __post_init__(self) -> None:
        object.__setattr__(self, "every", int(_num("GDEM", "every", self.every, 3, 1000, lo_open=False,
                                                   integer=True)))
        object.__setattr__(self, "max_factor", _num("GDEM", "max_factor", self.max_factor, 0.0, 1e6))

    def params(self) -> tuple[float, float]:
        return float(self.every), float(self.max_factor)


@dataclass(frozen=True)
class Anderson(Acceleration):
    """Anderson mixing of depth ``m`` (1..6) on the substitution map ln K -> ln K - g (Anderson 1965;
    Walker & Ni 2011), least squares regularised by ``reg`` (relative)."""

    m: int = 3
    reg: float = 1e-10
    kind: ClassVar[int] = _c.ACC_ANDERSON
    name: ClassVar[str] = "anderson"

    def __post_init__(self) -> None:
        object.__setattr__(self, "m", int(_num("Anderson", "m", self.m, 1, 6, lo_open=False, integer=True)))
        object.__setattr__(self, "reg", _num("Anderson", "reg", self.reg, 0.0, 1.0, lo_open=False))

    def params(self) -> tuple[float, float]:
        return float(self.m), float(self.reg)


_ACC = {c.name: c for c in (NoAcceleration, DEM, GDEM, Anderson)}


def acceleration(value: Any, owner: str = "FlashOptions") -> Acceleration:
    """An acceleration schedule from an object, a name ("none", "dem", "gdem", "anderson"), None (none) or a
    mapping {type: ..., parameters}."""
    if value is None:
        return NoAcceleration()
    if isinstance(value, Acceleration):
        return value
    if isinstance(value, str):
        cls = _ACC.get(value.strip().lower())
        if cls is None:
            raise InvalidInputError(f"{owner}: acceleration={value!r}; expected one of {sorted(_ACC)}")
        return cls()
    if isinstance(value, Mapping):
        if "type" not in value:
            raise InvalidInputError(f"{owner}: acceleration mapping {dict(value)!r} needs a 'type' key")
        cls = _ACC.get(str(value["type"]).lower())
        if cls is None:
            raise InvalidInputError(f"{owner}: acceleration type {value['type']!r}; expected one of {sorted(_ACC)}")
        allowed = {f.name for f in fields(cls)}
        extra = sorted((k for k in value if k not in allowed and k != "type"), key=str)
        if extra:
            raise InvalidInputError(f"{owner}: unknown key(s) {extra} for acceleration {value['type']!r}; "
                                    f"allowed: {sorted(allowed)}")
        return cls(**{k: v for k, v in value.items() if k != "type"})
    raise InvalidInputError(f"{owner}: acceleration={value!r}: expected a name, a mapping or an Acceleration")


def _damping(value: Any) -> dmp.Damping:
    try:
        d = dmp.resolve(value, "fixed_point")
    except InvalidInputError as e:
        raise InvalidInputError(f"FlashOptions: damping: {e}") from None
    if isinstance(d, dmp.LineSearch):
        raise InvalidInputError("FlashOptions: damping=LineSearch has no meaning for successive substitution "
                                "(no descent test); use Constant, Ramp, Adaptive or ControlFactor")
    return d


@dataclass(frozen=True)
class FlashOptions:
    """Settings of every flash (validated here; errors name the field).

    Parameters
    ----------
    tol : float
        Converged when max_i abs(ln K_i + ln phi_i^V - ln phi_i^L) <= tol (default 1e-11: Newton's last
        step makes it ~1e-14, and phase fractions and compositions are then exact to ~1e-11).
    max_iter : int
        Iterations of one two-phase solve (substitution + Newton steps).
    damping : chemsolve.damping schedule
        Of the substitution step (default ``Constant(1.0)``).
    acceleration : DEM, GDEM, Anderson or NoAcceleration
        ``DEM()`` (default), ``GDEM()``, ``Anderson(m)`` or ``NoAcceleration()`` (also by name).
    newton_switch, max_ss : float, int
        Substitution hands over to Newton on ln K when max abs(g) < newton_switch or after max_ss
        substitution steps (max_ss = 0: Newton from the start; newton_switch = 0 and max_ss >= max_iter:
        substitution only).
    stability : bool
        Run Michelsen's stability analysis before a cold two-phase solve (default True); off, a cold solve
        starts from Wilson's K and a converged beta outside (0, 1) means one phase (the certificate still
        tests stability).
    stability_trials : str
        "wilson" (vapour- and liquid-like Wilson trials) or "all" (also one trial per pure component,
        Michelsen 1982a; default).
    stability_tol, stability_max_iter : float, int
        Convergence (max abs(d ln W)) and iterations of one trial.
    tpd_tol : float
        A trial with tangent-plane distance below -tpd_tol proves the feed unstable.
    negative_flash : bool
        A single-phase state reports its negative-flash split (beta < 0 or > 1) when one converges
        (Whitson & Michelsen 1989); off (default), beta is 0 or 1.
    T_bounds, T_guess : tuple, float
        Search interval [K] and first T of P-H / P-S flashes (T_guess 0: estimated).
    energy_tol : float
        Relative tolerance of the held H or S in P-H / P-S flashes.
    P_bounds : tuple
        Search interval [Pa] of the pressure of T-VF flashes and of the envelope.
    P_guess : float
        First P [Pa] of a T-VF flash started from K0 (0: Wilson's estimate; without K0 the start is always
        Wilson's). T_guess plays the same part for P-VF flashes.
    sat_max_iter : int
        Iterations of a saturation (T-VF, P-VF) solve.
    """

    tol: float = 1e-11
    max_iter: int = 200
    damping: Any = field(default_factory=lambda: dmp.Constant(1.0))
    acceleration: Any = field(default_factory=DEM)
    newton_switch: float = 1e-2
    max_ss: int = 25
    stability: bool = True
    stability_trials: str = "all"
    stability_tol: float = 1e-10
    stability_max_iter: int = 500
    tpd_tol: float = 1e-10
    negative_flash: bool = False
    T_bounds: tuple[float, float] = (20.0, 3000.0)
    T_guess: float = 0.0
    energy_tol: float = 1e-10
    P_bounds: tuple[float, float] = (1.0, 1e9)
    P_guess: float = 0.0
    sat_max_iter: int = 100

    def __post_init__(self) -> None:
        o = "FlashOptions"
        set_ = object.__setattr__
        set_(self, "tol", _num(o, "tol", self.tol, 0.0, 1e-4))
        set_(self, "max_iter", int(_num(o, "max_iter", self.max_iter, 1, 1e6, lo_open=False, integer=True)))
        set_(self, "damping", _damping(self.damping))
        set_(self, "acceleration", acceleration(self.acceleration))
        set_(self, "newton_switch", _num(o, "newton_switch", self.newton_switch, 0.0, 1e3, lo_open=False))
        set_(self, "max_ss", int(_num(o, "max_ss", self.max_ss, 0, 1e6, lo_open=False, integer=True)))
        for name in ("stability", "negative_flash"):
            v = getattr(self, name)
            if not isinstance(v, (bool, np.bool_)):
                raise InvalidInputError(f"{o}: {name}={v!r} must be true or false")
            set_(self, name, bool(v))
        if self.stability_trials not in ("wilson", "all"):
            raise InvalidInputError(f"{o}: stability_trials={self.stability_trials!r}; expected 'wilson' or 'all'")
        set_(self, "stability_tol", _num(o, "stability_tol", self.stability_tol, 0.0, 1e-3))
        set_(self, "stability_max_iter", int(_num(o, "stability_max_iter", self.stability_max_iter, 1, 1e6,
                                                  lo_open=False, integer=True)))
        set_(self, "tpd_tol", _num(o, "tpd_tol", self.tpd_tol, 0.0, 1e-3))
        set_(self, "T_bounds", self._pair("T_bounds", self.T_bounds, 1e-3, 1e5))
        set_(self, "T_guess", _num(o, "T_guess", self.T_guess, 0.0, 1e5, lo_open=False))
        set_(self, "energy_tol", _num(o, "energy_tol", self.energy_tol, 0.0, 1e-3))
        set_(self, "P_bounds", self._pair("P_bounds", self.P_bounds, 1e-6, 1e12))
        set_(self, "P_guess", _num(o, "P_guess", self.P_guess, 0.0, 1e12, lo_open=False))
        set_(self, "sat_max_iter", int(_num(o, "sat_max_iter", self.sat_max_iter, 1, 1e6, lo_open=False,
                                            integer=True)))

    @staticmethod
    def _pair(name: str, v: Any, lo: float, hi: float) -> tuple[float, float]:
        try:
            a, b = (float(t) for t in v)
        except (TypeError, ValueError):
            raise InvalidInputError(f"FlashOptions: {name}={v!r} must be [low, high]") from None
        if not (math.isfinite(a) and math.isfinite(b) and lo <= a < b <= hi):
            raise InvalidInputError(f"FlashOptions: {name}={v!r} must satisfy {lo:g} <= low < high <= {hi:g}")
        return a, b

    @classmethod
    def from_mapping(cls, d: Mapping[str, Any] | None, where: str = "") -> FlashOptions:
        """Options from a mapping (a model file's ``solver:``); an unknown key is an error naming it."""
        if d is None:
            return cls()
        at = f"{where}: " if where else ""
        if not isinstance(d, Mapping):
            raise InvalidInputError(f"{at}flash options must be a mapping, got {d!r}")
        allowed = {f.name for f in fields(cls)}
        extra = sorted((k for k in d if k not in allowed), key=str)
        if extra:
            raise InvalidInputError(f"{at}unknown flash option(s) {extra}; allowed: {sorted(allowed)}")
        try:
            return cls(**dict(d))
        except InvalidInputError as e:
            raise InvalidInputError(f"{at}{e}") from None

    @classmethod
    def given(cls, mapping: Any, where: Any = None) -> dict[str, Any]:
        """The options a model file's ``solver:`` mapping gives, each validated, as {field: value} of those
        fields only (``chemsolve.modelfile.solver_mapping`` calls this). Errors are ``ModelError`` naming
        ``where('solver', field)`` — the file and line — the field and the value."""
        from ..modelfile import ModelError, show

        at = where if callable(where) else (lambda *key: str(where or "solver"))
        if mapping is None:
            return {}
        if not isinstance(mapping, Mapping):
            raise ModelError(f"{at('solver')}: solver is a mapping option: value, e.g. {{acceleration: anderson}}")
        allowed = [f.name for f in fields(cls)]
        out: dict[str, Any] = {}
        for k, v in mapping.items():
            if k not in allowed:
                raise ModelError(f"{at('solver', k)}: unknown solver option {show(k)} for kind flash; "
                                 f"allowed: {sorted(allowed)}")
            try:
                out[k] = getattr(cls(**{k: v}), k)
            except InvalidInputError as e:
                reason = str(e).removeprefix("FlashOptions: ")
                raise ModelError(f"{at('solver', k)}: solver.{k} = {show(v)}: {reason}") from None
        try:
            cls(**out)
        except InvalidInputError as e:  # a check of several fields together
            raise ModelError(f"{at('solver')}: {e}") from None
        return out

    def replace(self, **kw: Any) -> FlashOptions:
        """A copy with some fields changed (validated again); unknown names are errors."""
        allowed = {f.name for f in fields(self)}
        extra = sorted(set(kw) - allowed)
        if extra:
            raise InvalidInputError(f"unknown flash option(s) {extra}; allowed: {sorted(allowed)}")
        return replace(self, **kw)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            out[f.name] = v.to_dict() if hasattr(v, "to_dict") else (list(v) if isinstance(v, tuple) else v)
        return out

    def pack(self) -> tuple[np.ndarray, int, np.ndarray]:
        """(fopt, damping kind, damping parameters) for the kernels (cached per options object: they are
        frozen; the arrays are read-only to the kernels)."""
        return _packed(self)

    def _pack(self) -> tuple[np.ndarray, int, np.ndarray]:
        from ..kernels import flash_layout as L

        f = np.zeros(L.N_FOPT)
        f[L.FO_TOL] = self.tol
        f[L.FO_MAX_ITER] = self.max_iter
        f[L.FO_STABILITY] = 1.0 if self.stability else 0.0
        f[L.FO_TRIALS] = 1.0 if self.stability_trials == "all" else 0.0
        f[L.FO_STAB_TOL] = self.stability_tol
        f[L.FO_STAB_MAX_ITER] = self.stability_max_iter
        f[L.FO_TPD_TOL] = self.tpd_tol
        f[L.FO_NEWTON_SWITCH] = self.newton_switch
        f[L.FO_MAX_SS] = self.max_ss
        f[L.FO_NEGATIVE] = 1.0 if self.negative_flash else 0.0
        f[L.FO_ACC_KIND] = self.acceleration.kind
        f[L.FO_ACC_P1], f[L.FO_ACC_P2] = self.acceleration.params()
        f[L.FO_T_MIN], f[L.FO_T_MAX] = self.T_bounds
        f[L.FO_T_GUESS] = self.T_guess
        f[L.FO_E_TOL] = self.energy_tol
        f[L.FO_P_MIN], f[L.FO_P_MAX] = self.P_bounds
        f[L.FO_SAT_MAX_ITER] = self.sat_max_iter
        return f, int(self.damping.kind), self.damping.params()


@lru_cache(maxsize=64)
def _packed(o: FlashOptions) -> tuple[np.ndarray, int, np.ndarray]:
    return o._pack()
