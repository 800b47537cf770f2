"""Gas-phase chemical equilibrium (Cantera / NASA CEA class), DESIGN.md section 4.

>>> mix = GasMixture.from_cantera("gri30.yaml")
>>> eq = mix.equilibrate(T=1500.0, P=101325.0, X={"CH4": 1, "O2": 2, "N2": 7.52}, mode="TP")
>>> eq.X, eq.T, eq.P, eq.status

Cantera is used only to *read* species thermo (NASA 7 / NASA 9 polynomials) and composition;
the equilibrium itself is solved by the compiled kernels of ``chemsolve.kernels.gas``
(formulation documented there). Import cost: importing this module imports neither Cantera
nor numba; ``from_cantera`` imports Cantera, the first solve loads the (disk-cached) kernels
(``warmup()`` loads or compiles them all at once).
"""

from .mixture import GasBatch, GasEquilibrium, GasMixture, ThermoRangeWarning
from .options import GasOptions
from .warmup import warmup

__all__ = ["GasMixture", "GasEquilibrium", "GasBatch", "GasOptions", "ThermoRangeWarning", "warmup"]
