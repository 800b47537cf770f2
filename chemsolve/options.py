"""Typed solver options: one frozen, validated options object per model.

Each model's options (``EngineOptions``, ``GasOptions``, ``AqueousOptions``, ...) is a frozen
dataclass deriving from ``Options``. Every field has a check; the checks run once, at construction,
and a bad value raises ``InvalidInputError`` naming the field and the value. The same object is
built from keyword arguments (the verbs: ``solve``, ``speciate``, ``equilibrate``), from a model
file's ``solver:`` mapping and from ``--set solver.KEY=VALUE`` (``Options.from_mapping``, whose errors
also name the file and line), and is packed once into the kernel's options array.

The checks are small callables ``check(value) -> value`` that raise ``ValueError("must be ...")``;
this module provides the common ones.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from .errors import InvalidInputError

__all__ = ["Options", "OptionError", "number", "integer", "choice", "boolean", "temperature_range", "optional",
           "damping_schedule"]

_NUMBER = r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?"


def _as_float(v: Any) -> float | None:
    """A number, or a text that reads as one ('1e-10', YAML 1.1 leaves it a string); None otherwise."""
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return float(v)
    try:
        import numpy as np

        if isinstance(v, (np.floating, np.integer)):
            return float(v)
    except ImportError:  # pragma: no cover
        pass
    if isinstance(v, str) and re.fullmatch(rf"\s*({_NUMBER}|[-+]?inf)\s*", v):
        return float(v)
    return None


def number(lo: float = -math.inf, hi: float = math.inf, *, lo_open: bool = True, hi_open: bool = False,
           inf: bool = False) -> Callable[[Any], float]:
    """A finite number in the interval (``lo`` open unless ``lo_open=False``; ``hi`` closed unless
    ``hi_open``); +infinity allowed only with ``inf``."""

    def check(v: Any) -> float:
        x = _as_float(v)
        ok = x is not None and not math.isnan(x)
        if x is not None and ok and x == math.inf:
            ok = inf
        elif x is not None and ok:
            ok = (x > lo if lo_open else x >= lo) and (x < hi if hi_open else x <= hi) and math.isfinite(x)
        if not ok:
            left = "(" if lo_open else "["
            right = ")" if hi_open and not inf else "]"
            top = "inf" if inf else f"{hi:g}"
            raise ValueError(f"must be a number in {left}{lo:g}, {top}{right}")
        return float(x)  # type: ignore[arg-type]

    return check


def integer(lo: int, hi: int = 10**9) -> Callable[[Any], int]:
    """An integer (not a bool) in [lo, hi]."""

    def check(v: Any) -> int:
        import operator

        try:
            i = operator.index(v)
        except TypeError:
            raise ValueError(f"must be an integer in [{lo}, {hi}]") from None
        if isinstance(v, bool) or not lo <= i <= hi:
            raise ValueError(f"must be an integer in [{lo}, {hi}]")
        return int(i)

    return check


def choice(*names: str) -> Callable[[Any], str]:
    """One of ``names`` (case-insensitive); returned in lower case."""

    def check(v: Any) -> str:
        if not isinstance(v, str) or v.lower() not in names:
            raise ValueError(f"must be one of {list(names)}")
        return v.lower()

    return check


def boolean(v: Any) -> bool:
    if not isinstance(v, bool):
        raise ValueError("must be true or false")
    return v


def optional(check: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``None``, or a value that passes ``check``."""

    def inner(v: Any) -> Any:
        return None if v is None else check(v)

    return inner


def temperature_range(v: Any) -> tuple[float, float]:
    """[low, high] in K with 0 < low < high < inf."""
    try:
        lo, hi = (_as_float(x) for x in v)
    except (TypeError, ValueError):
        lo = hi = None
    if lo is None or hi is None or not 0 < lo < hi < math.inf:
        raise ValueError("must be [low, high] in K with 0 < low < high")
    return (lo, hi)


def damping_schedule(method: str = "newton") -> Callable[[Any], Any]:
    """A ``chemsolve.damping`` schedule, its name, its dict or a float (Constant); None keeps the
    model's default."""

    def check(v: Any) -> Any:
        if v is None:
            return None
        from . import damping

        try:
            return damping.resolve(v, method)
        except InvalidInputError as e:
            raise ValueError(f"is not a damping schedule: {e}") from None

    return check


class OptionError(InvalidInputError):
    """A bad option value: ``field``, ``value`` and ``reason`` are kept so that a model file's loader
    can name the file, line and key (``solver.max_iter = 0 must be ...``)."""

    def __init__(self, field: str, value: Any, reason: str, whole: bool = False):
        self.field, self.value, self.reason = field, value, reason
        super().__init__(reason if whole else f"{field}={value!r} {reason}")


@dataclasses.dataclass(frozen=True)
class Options:
    """Base of the per-model options. Subclasses are frozen dataclasses with a default for every
    field and a ``CHECKS`` mapping field name -> check."""

    CHECKS: ClassVar[dict[str, Callable[[Any], Any]]] = {}
    MODEL: ClassVar[str] = ""

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            check = self.CHECKS.get(f.name)
            if check is None:
                continue
            v = getattr(self, f.name)
            try:
                object.__setattr__(self, f.name, check(v))
            except OptionError:
                raise
            except InvalidInputError as e:  # a check with a whole message of its own
                raise OptionError(f.name, v, str(e), whole=True) from None
            except ValueError as e:  # "must be ...": prefixed with the field and the value
                raise OptionError(f.name, v, str(e)) from None
        self._validate()

    def _validate(self) -> None:
        """Checks that involve several fields (subclasses)."""

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any] | None, where: Callable[..., str] | None = None,
                     **defaults: Any) -> Options:
        """Build from a mapping (a model file's ``solver:``, ``--set solver.KEY``): unknown keys and
        bad values are errors naming the key (and, with ``where(key)``, the file and line)."""
        from .modelfile import ModelError, show

        mapping = dict(mapping or {})
        allowed = cls.names()
        for k in mapping:
            if k not in allowed:
                at = f"{where('solver', k)}: " if where else ""
                raise (ModelError if where else InvalidInputError)(
                    f"{at}unknown solver option {show(k)} for kind {cls.MODEL or cls.__name__}; "
                    f"allowed: {sorted(allowed)}")
        try:
            return cls(**{**defaults, **mapping})
        except OptionError as e:
            if where is None:
                raise
            sep = ":" if str(e) == e.reason else ""
            raise ModelError(f"{where('solver', e.field)}: "
                             f"solver.{e.field} = {show(e.value)}{sep} {e.reason}") from None

    @classmethod
    def given(cls, mapping: Mapping[str, Any] | None, where: Callable[..., str] | None = None) -> dict[str, Any]:
        """The options a model file's ``solver:`` mapping gives, validated (``from_mapping``), as a dict of
        only those keys: what the model passes on to its verb as keywords."""
        o = cls.from_mapping(mapping, where)
        return {k: getattr(o, k) for k in (mapping or {})}

    def replace(self, **changes: Any) -> Options:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        out = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            out[f.name] = v.to_dict() if hasattr(v, "to_dict") else v
        return out
