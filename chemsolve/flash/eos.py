"""The cubic equations of state of the flash model, as constants and arrays for the kernels.

- ``"PR"`` (= ``"PR76"``): Peng & Robinson (1976), Ind. Eng. Chem. Fundam. 15, 59-64,
  doi:10.1021/i160057a011; m = 0.37464 + 1.54226 w - 0.26992 w^2.
- ``"PR78"``: the 1978 revision (Robinson & Peng 1978, "The characterization of the heptanes and heavier
  fractions for the GPA Peng-Robinson programs", GPA Research Report RR-28): for w > 0.491,
  m = 0.379642 + 1.48503 w - 0.164423 w^2 + 0.016666 w^3 (the switch at 0.491 as in ``thermo``'s PR78MIX;
  below it, the 1976 form).
- ``"SRK"``: Soave (1972), Chem. Eng. Sci. 27, 1197-1203, doi:10.1016/0009-2509(72)80096-4;
  m = 0.480 + 1.574 w - 0.176 w^2.

Omega_a and Omega_b are the exact values of the critical conditions (the cubic in Z has a triple root
at Tc, Pc), to 40 digits: PR 0.45723552892138218938 and 0.07779607390388845597, SRK
1 / (9 (2^(1/3) - 1)) and (2^(1/3) - 1) / 3 — the values ``thermo`` uses, so the two agree to rounding.

Péneloux volume translation (Péneloux, Rauzy & Fréze 1982, "A consistent correction for
Redlich-Kwong-Soave volumes", Fluid Phase Equilib. 8, 7-23, doi:10.1016/0378-3812(82)80002-2):
v = v_eos - sum_i x_i c_i. From the Rackett compressibility: SRK c_i = 0.40768 (R Tc/Pc)(0.29441 - Z_RA);
PR c_i = 0.50033 (R Tc/Pc)(0.25969 - Z_RA) (the same construction for PR, as thermopack implements it,
``src/volume_shift.f90``). A constant shift changes every ln phi_i by -c_i P/(R T) in all phases alike, so
it leaves phase compositions and fractions unchanged; it moves volumes, Z and H (by -P sum x_i c_i).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import InvalidInputError

__all__ = ["EOS_NAMES", "R", "alpha_m", "eos_constants", "peneloux_shift"]

R = 8.314462618  # [J/mol/K], CODATA 2018 (the kernels' value)

_SQ2 = math.sqrt(2.0)


@dataclass(frozen=True)
class EosConstants:
    name: str
    d1: float
    d2: float
    omega_a: float
    omega_b: float


_EOS = {
    "PR": EosConstants("PR", 1.0 + _SQ2, 1.0 - _SQ2, 0.4572355289213821893834601962251837888504,
                       0.07779607390388845597184471003733318397109),
    "PR78": EosConstants("PR78", 1.0 + _SQ2, 1.0 - _SQ2, 0.4572355289213821893834601962251837888504,
                         0.07779607390388845597184471003733318397109),
    "SRK": EosConstants("SRK", 1.0, 0.0, 0.4274802335403414043909906940611707345513,
                        0.08664034996495772158907020242607611685675),
}
_ALIASES = {"PR76": "PR", "PENG-ROBINSON": "PR", "PR1976": "PR", "PR1978": "PR78", "SOAVE": "SRK",
            "SOAVE-REDLICH-KWONG": "SRK"}
EOS_NAMES = tuple(_EOS)


def eos_constants(name: str) -> EosConstants:
    """The constants of an EOS by name (``PR``/``PR76``, ``PR78``, ``SRK``), or an error naming it."""
    if not isinstance(name, str):
        raise InvalidInputError(f"eos={name!r}: expected one of {list(EOS_NAMES)}")
    key = _ALIASES.get(name.strip().upper(), name.strip().upper())
    if key not in _EOS:
        raise InvalidInputError(f"eos={name!r} is not supported; expected one of {list(EOS_NAMES)} (or PR76)")
    return _EOS[key]


def alpha_m(eos: str, omega: np.ndarray) -> np.ndarray:
    """The slope m_i of the Soave-form alpha (1 + m (1 - sqrt(T/Tc)))^2 of each component."""
    w = np.asarray(omega, dtype=float)
    if eos == "SRK":
        return 0.480 + 1.574 * w - 0.176 * w * w
    m76 = 0.37464 + 1.54226 * w - 0.26992 * w * w
    if eos == "PR78":
        m78 = 0.379642 + 1.48503 * w - 0.164423 * w * w + 0.016666 * w ** 3
        return np.where(w > 0.491, m78, m76)
    return m76


def peneloux_shift(eos: str, Tc: np.ndarray, Pc: np.ndarray, Z_RA: np.ndarray) -> np.ndarray:
    """Péneloux volume translation c_i [m^3/mol] from the Rackett compressibility (see module doc)."""
    rtp = R * np.asarray(Tc, dtype=float) / np.asarray(Pc, dtype=float)
    if eos == "SRK":
        return 0.40768 * rtp * (0.29441 - np.asarray(Z_RA, dtype=float))
    return 0.50033 * rtp * (0.25969 - np.asarray(Z_RA, dtype=float))


def pack(eos: str, Tc, Pc, omega, shift, cp, has_cp, MW=None) -> tuple[np.ndarray, np.ndarray]:
    """(comp, eosp): the component table (kernels.flash_eos.N_COMP_ROWS, n) and the EOS vector."""
    from ..kernels import flash_layout as k

    c = eos_constants(eos)
    n = len(Tc)
    comp = np.zeros((k.N_COMP_ROWS, n))
    Tc = np.asarray(Tc, dtype=float)
    Pc = np.asarray(Pc, dtype=float)
    comp[k.C_TC] = Tc
    comp[k.C_PC] = Pc
    comp[k.C_OMEGA] = omega
    comp[k.C_M] = alpha_m(c.name, np.asarray(omega, dtype=float))
    comp[k.C_AC] = c.omega_a * (R * Tc) ** 2 / Pc
    comp[k.C_B] = c.omega_b * R * Tc / Pc
    comp[k.C_SHIFT] = shift
    comp[k.C_CP0:k.C_CP0 + 5] = np.asarray(cp, dtype=float).T
    comp[k.C_HAS_CP] = np.asarray(has_cp, dtype=float)
    comp[k.C_MW] = np.nan if MW is None else np.asarray(MW, dtype=float)
    eosp = np.zeros(k.N_EOSP)
    eosp[k.E_D1] = c.d1
    eosp[k.E_D2] = c.d2
    return np.ascontiguousarray(comp), eosp
