"""Options of the gas-equilibrium solver (``GasMixture.equilibrate``; model files' ``solver:``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from .. import damping as _damping
from ..options import Options, damping_schedule, integer, number, optional, temperature_range

__all__ = ["GasOptions"]


@dataclass(frozen=True)
class GasOptions(Options):
    """damping : ``ControlFactor()`` (NASA CEA's, the default) or any engine schedule. max_iter :
    Newton iterations [-]. tol : relative residual of the final element-balance and energy check, in
    (0, 1e-2). T_guess : first temperature of a cold HP/SP/UV solve [K] (None: CEA's 3800 K).
    T_bounds : the search range of T in HP/SP/UV [K] (TP and TV hold the T they are given).
    chunk : rows per parallel chunk of a batch (None: automatic)."""

    MODEL: ClassVar[str] = "gas"
    CHECKS: ClassVar[dict[str, Callable[[Any], Any]]] = {
        "damping": damping_schedule(), "max_iter": integer(1), "tol": number(0.0, 1e-2, hi_open=True),
        "T_guess": optional(number(0.0)), "T_bounds": temperature_range, "chunk": optional(integer(1)),
    }

    damping: Any = None
    max_iter: int = 500
    tol: float = 1e-9
    T_guess: float | None = None
    T_bounds: tuple[float, float] = (100.0, 20000.0)
    chunk: int | None = None

    def _validate(self) -> None:
        if self.damping is None:
            object.__setattr__(self, "damping", _damping.ControlFactor())
