"""Options of the aqueous solvers (``speciate``; model files' ``solver:``), validated once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from ..options import Options, choice, damping_schedule, integer

__all__ = ["AqueousOptions"]


@dataclass(frozen=True)
class AqueousOptions(Options):
    """ionic_strength : "newton" (log10 I a Newton unknown, the default) or "outer" (a damped fixed
    point around Newton at fixed activity coefficients). max_outer : outer iterations [-].
    damping : the inner Newton's schedule (None: ``LineSearch()``)."""

    MODEL: ClassVar[str] = "aqueous"
    CHECKS: ClassVar[dict[str, Callable[[Any], Any]]] = {
        "ionic_strength": choice("newton", "outer"), "max_outer": integer(1), "damping": damping_schedule(),
    }

    ionic_strength: str = "newton"
    max_outer: int = 100
    damping: Any = None
