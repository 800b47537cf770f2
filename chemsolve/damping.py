"""Damping schedules: how much of the proposed step (Newton) or of the update G(x) - x
(fixed point) is taken at each iteration.

Each schedule is a small immutable object that the kernels see as a kind code and a float
parameter vector, so the compiled kernels stay cacheable. Schedules round-trip through a
JSON-friendly dict (``to_dict`` / ``from_dict``), the form in which advisors exchange them.

- ``Constant(a)``: always ``a``; no backtracking (a trial point with a non-finite residual is
  still halved away).
- ``Ramp(start, factor, max)``: ``min(max, start * factor**k)`` at iteration k — cautious
  first steps, full steps later.
- ``Adaptive(start, grow, shrink, min, max)``: multiplied by ``grow`` after a step accepted at
  once, by ``shrink`` while a trial step fails the decrease test (Armijo for Newton, plain
  decrease of abs(G(x) - x) for fixed point); below ``min`` the step fails.
- ``LineSearch(start, c, shrink, min)``: Armijo backtracking from ``start`` each iteration
  (sufficient decrease of 0.5|F/fscale|^2 with constant ``c``); the default for Newton.
- ``ControlFactor(max_change, trace_ln, trace_target_ln)``: the control factor of NASA CEA
  (Gordon & McBride 1994, NASA RP-1311, eq. 3.1-3.2): the step is scaled so that no unknown
  changes by more than ``max_change`` (in log variables: a factor e**2). In the gas-equilibrium
  kernel it also applies CEA's second factor: a trace species (ln x below ``-trace_ln``) may grow
  at most to ln x = ``-trace_target_ln``. The default damping of ``chemsolve.gas``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any, ClassVar

import numpy as np

from .errors import InvalidInputError
from .kernels import codes as _c

__all__ = ["Damping", "Constant", "Ramp", "Adaptive", "LineSearch", "ControlFactor", "from_dict",
           "resolve"]


def _check(name: str, value: float, lo: float, hi: float, lo_open: bool = True) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InvalidInputError(f"damping parameter {name}={value!r} is not a number") from None
    ok = math.isfinite(v) and (v > lo if lo_open else v >= lo) and v <= hi
    if not ok:
        left = "(" if lo_open else "["
        raise InvalidInputError(f"damping parameter {name}={value!r} must lie in {left}{lo}, {hi}]")
    return v


@dataclass(frozen=True)
class Damping:
    """Base class; use one of the subclasses."""

    kind: ClassVar[int] = -1
    name: ClassVar[str] = ""

    def params(self) -> np.ndarray:
        """The float64 parameter vector the kernels read (length ``codes.N_DAMP_PARAMS``)."""
        out = np.zeros(_c.N_DAMP_PARAMS)
        vals = [float(getattr(self, f.name)) for f in fields(self)]
        out[: len(vals)] = vals
        return out

    def to_dict(self) -> dict[str, Any]:
        """``{"type": "ramp", "start": 0.1, ...}`` — JSON-serialisable."""
        return {"type": self.name, **asdict(self)}


@dataclass(frozen=True)
class Constant(Damping):
    """Fixed damping factor ``alpha`` in (0, 1]."""

    alpha: float = 1.0
    kind: ClassVar[int] = _c.DAMP_CONSTANT
    name: ClassVar[str] = "constant"

    def __post_init__(self) -> None:
        object.__setattr__(self, "alpha", _check("alpha", self.alpha, 0.0, 1.0))


@dataclass(frozen=True)
class Ramp(Damping):
    """Geometric ramp ``min(max, start * factor**k)``; ``factor >= 1``."""

    start: float = 0.1
    factor: float = 2.0
    max: float = 1.0
    kind: ClassVar[int] = _c.DAMP_RAMP
    name: ClassVar[str] = "ramp"

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", _check("start", self.start, 0.0, 1.0))
        object.__setattr__(self, "factor", _check("factor", self.factor, 1.0, 1e6, lo_open=False))
        object.__setattr__(self, "max", _check("max", self.max, 0.0, 1.0))
        if self.max < self.start:
            raise InvalidInputError(f"Ramp: max={self.max} is below start={self.start}")


@dataclass(frozen=True)
class Adaptive(Damping):
    """Grow on success (``grow >= 1``), shrink on failure (``0 < shrink < 1``), within [min, max]."""

    start: float = 1.0
    grow: float = 2.0
    shrink: float = 0.5
    min: float = 1e-8
    max: float = 1.0
    kind: ClassVar[int] = _c.DAMP_ADAPTIVE
    name: ClassVar[str] = "adaptive"

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", _check("start", self.start, 0.0, 1.0))
        object.__setattr__(self, "grow", _check("grow", self.grow, 1.0, 1e6, lo_open=False))
        object.__setattr__(self, "shrink", _check("shrink", self.shrink, 0.0, 0.99))
        object.__setattr__(self, "min", _check("min", self.min, 0.0, 1.0))
        object.__setattr__(self, "max", _check("max", self.max, 0.0, 1.0))
        if not self.min <= self.start <= self.max:
            raise InvalidInputError(
                f"Adaptive: need min <= start <= max, got min={self.min}, start={self.start}, "
                f"max={self.max}"
            )


@dataclass(frozen=True)
class LineSearch(Damping):
    """Armijo backtracking: start at ``start``, multiply by ``shrink`` until
    ``phi(x + a p) <= phi(x) + c a phi'(x; p)``; fail below ``min``."""

    start: float = 1.0
    c: float = 1e-4
    shrink: float = 0.5
    min: float = 1e-10
    kind: ClassVar[int] = _c.DAMP_LINESEARCH
    name: ClassVar[str] = "linesearch"

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", _check("start", self.start, 0.0, 1.0))
        object.__setattr__(self, "c", _check("c", self.c, 0.0, 0.5))
        object.__setattr__(self, "shrink", _check("shrink", self.shrink, 0.0, 0.99))
        object.__setattr__(self, "min", _check("min", self.min, 0.0, 1.0))


@dataclass(frozen=True)
class ControlFactor(Damping):
    """NASA CEA's control factor: ``alpha = min(1, max_change / max_i |dx_i|)``, no backtracking.

    Defaults are CEA's: a change of at most 2 in a log variable per iteration, trace species
    (x < exp(-18.420681) = 1e-8) allowed to grow at most to x = exp(-9.2103404) = 1e-4.
    """

    max_change: float = 2.0
    trace_ln: float = 18.420681
    trace_target_ln: float = 9.2103404
    kind: ClassVar[int] = _c.DAMP_CONTROL
    name: ClassVar[str] = "cea"

    def __post_init__(self) -> None:
        object.__setattr__(self, "max_change", _check("max_change", self.max_change, 0.0, 1e3))
        object.__setattr__(self, "trace_ln", _check("trace_ln", self.trace_ln, 0.0, 700.0))
        object.__setattr__(self, "trace_target_ln",
                           _check("trace_target_ln", self.trace_target_ln, 0.0, 700.0))
        if self.trace_target_ln > self.trace_ln:
            raise InvalidInputError(
                f"ControlFactor: trace_target_ln={self.trace_target_ln} exceeds "
                f"trace_ln={self.trace_ln} (a trace species would be allowed to stay trace)"
            )


_BY_NAME: dict[str, type[Damping]] = {
    cls.name: cls for cls in (Constant, Ramp, Adaptive, LineSearch, ControlFactor)
}


def from_dict(d: dict[str, Any]) -> Damping:
    """Rebuild a schedule from ``to_dict`` output; unknown types or keys are errors."""
    if not isinstance(d, dict) or "type" not in d:
        raise InvalidInputError(f"a damping dict needs a 'type' key, got {d!r}")
    kind = d["type"]
    cls = _BY_NAME.get(str(kind).lower())
    if cls is None:
        raise InvalidInputError(
            f"unknown damping type {kind!r}; expected one of {sorted(_BY_NAME)}"
        )
    allowed = {f.name for f in fields(cls)}
    extra = set(d) - allowed - {"type"}
    if extra:
        raise InvalidInputError(
            f"unknown key(s) {sorted(extra)} for damping type {kind!r}; allowed: {sorted(allowed)}"
        )
    return cls(**{k: v for k, v in d.items() if k != "type"})


def resolve(damping: Damping | str | dict | float | None, method: str) -> Damping:
    """Turn the ``damping=`` argument of ``solve`` into a schedule object.

    None gives the method's default: ``LineSearch()`` for Newton, ``Constant(1.0)`` for
    fixed point and Anderson. A string names a type with default parameters, a float is
    ``Constant(value)``, a dict goes through ``from_dict``.
    """
    if damping is None:
        return LineSearch() if method == "newton" else Constant(1.0)
    if isinstance(damping, Damping):
        return damping
    if isinstance(damping, str):
        cls = _BY_NAME.get(damping.lower())
        if cls is None:
            raise InvalidInputError(
                f"unknown damping {damping!r}; expected one of {sorted(_BY_NAME)}"
            )
        return cls()
    if isinstance(damping, dict):
        return from_dict(damping)
    if isinstance(damping, (int, float)) and not isinstance(damping, bool):
        return Constant(float(damping))
    raise InvalidInputError(
        f"damping={damping!r}: expected a chemsolve.damping object, a name, a dict or a float"
    )
