"""PHREEQC's GAS_PHASE: a gas of several components (phases of the database: ``CO2(g)``, ``CH4(g)``...)
that comes to equilibrium with the water in a reaction step, at a fixed total pressure (its volume
follows) or in a fixed volume (its pressure follows).

The model (PHREEQC 3, Parkhurst & Appelo 2013; read in PHREEQC 3.8 gases.cpp, prep.cpp calc_PR,
model.cpp calc_gas_pressures, tidy.cpp tidy_gas_phase, step.cpp add_gas_phase):

- each component g has a partial pressure p_g with log10(p_g phi_g) = SI_g of the water, phi_g its
  fugacity coefficient: 1 for an ideal gas, the multicomponent Peng-Robinson value where the
  database gives -T_c, -P_c, -Omega for every component (PHREEQC refuses a mixture of both);
- fixed pressure: p_g = x_g P, x_g the mole fraction; the gas is absent (no moles) when the water's
  partial pressures add up to no more than P (PHREEQC's mb_gases: the gas takes part only when their
  sum exceeds P, or it already holds moles);
- fixed volume: n_g = p_g V / (Z R T) (ideal: Z = 1; Peng-Robinson: P from the equation of state at
  V_m = V / sum n, and Z = P V_m / R T), and the pressure is that of the gas;
- the water is at the gas's pressure (PHREEQC's patm_x): log K and the water's properties follow it;
- the elements of the gas count in the step's totals (step.cpp adds the gas to the water's).

In the reaction step the moles of each component are unknowns of the one compiled Newton system (the
slot of an equilibrium phase, ``codes.GAS_FIXED_V`` / ``GAS_FIXED_P``); the fugacity coefficients,
Z and the water's pressure are refreshed between solves until they no longer change (PHREEQC also
takes them from the last iterate, model.cpp calc_gas_pressures), so the state returned satisfies all
of the equations above, which the certificate checks at the returned moles.

- ``gas_phase(db, {"CO2(g)": 0.1, "N2(g)": 0.9}, fixed="pressure", pressure=1.0, volume=1.0)``: the
  initial moles from partial pressures [atm] at ``temperature`` (PHREEQC's GAS_PHASE lines), or from
  moles (``units="mol"``);
- ``react(water, gas=g)``: the step; the result's ``gas`` (pressure, volume, moles and partial
  pressures) and ``gas_phase`` (the gas after the step, to react further).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..errors import InvalidInputError, nonnegative
from .database import Database

__all__ = ["GasPhase", "gas_phase", "pr_mixture"]

R_LITER_ATM = 0.0820597  # [L atm/(mol K)] as PHREEQC (global_structures.h)
FIXED = ("pressure", "volume")


@dataclass(frozen=True)
class GasPhase:
    """A gas phase: ``moles`` {gas phase: moles}; ``fixed`` "pressure" (``pressure`` [atm] held, the
    volume follows) or "volume" (``volume`` [L] held, the pressure follows); ``pressure`` and
    ``volume`` are the current ones of the other kind."""

    db: Database
    fixed: str
    moles: dict[str, float]
    pressure: float
    volume: float
    temperature: float = 298.15  # [K] at which it was given or last equilibrated
    guess: dict[str, Any] = field(default_factory=dict)

    @property
    def total_moles(self) -> float:
        return float(sum(self.moles.values()))

    @property
    def peng_robinson(self) -> bool:
        return is_pr(self.db, list(self.moles))

    def state(self, T: float | None = None) -> dict[str, Any]:
        """Pressure [atm], volume [L], moles, partial pressures [atm] and log10 phi at T [K] (default:
        its own): for a fixed pressure, the volume the moles fill; for a fixed volume, the pressure."""
        T = self.temperature if T is None else T
        names = list(self.moles)
        n = np.array([self.moles[k] for k in names])
        N = n.sum()
        if N <= 0:
            return {"pressure": self.pressure if self.fixed == "pressure" else 0.0,
                    "volume": 0.0 if self.fixed == "pressure" else self.volume, "total_moles": 0.0,
                    "moles": dict.fromkeys(names, 0.0), "partial_pressure": dict.fromkeys(names, 0.0),
                    "log10_phi": dict.fromkeys(names, 0.0)}
        if self.fixed == "pressure":
            P, Vm, lphi = pr_mixture(self.db, names, n, T, P=self.pressure)
            V = Vm * N
        else:
            P, Vm, lphi = pr_mixture(self.db, names, n, T, V=self.volume)
            V = self.volume
        return {"pressure": P, "volume": V, "total_moles": N, "moles": dict(zip(names, n.tolist())),
                "partial_pressure": dict(zip(names, (n / N * P).tolist())),
                "log10_phi": dict(zip(names, lphi.tolist()))}

    def to_dict(self) -> dict[str, Any]:
        return {"fixed": self.fixed, "moles": dict(self.moles), "pressure": self.pressure, "volume": self.volume,
                "temperature": self.temperature}

    def __repr__(self) -> str:
        comp = ", ".join(f"{k} {v:.4g} mol" for k, v in self.moles.items())
        held = f"P={self.pressure:.6g} atm" if self.fixed == "pressure" else f"V={self.volume:.6g} L"
        return f"GasPhase(fixed {self.fixed}, {held}; {comp})"


def is_pr(db: Database, names: list[str]) -> bool:
    """True when every component has Peng-Robinson data, False when none has; a mixture is refused
    (PHREEQC: "Cannot calculate a mixture of ideal and Peng_Robinson gases")."""
    flags = [db.phases[k].t_c > 0 and db.phases[k].p_c > 0 for k in names]
    if any(flags) and not all(flags):
        ideal = [k for k, f in zip(names, flags) if not f]
        raise InvalidInputError(f"gas phase: {ideal[0]!r} has no -T_c/-P_c in {db.path} while other components "
                                "have: PHREEQC cannot calculate a mixture of ideal and Peng-Robinson gases")
    return bool(flags) and all(flags)


def _binary(a: str, b: str) -> float:
    """PHREEQC's default factor on sqrt(a_i a_j) between H2O(g) and another gas (gases.cpp
    calc_gas_binary_parameter: Soreide and Whitson 1992; phreeqc.dat's GAS_BINARY_PARAMETERS give the
    same values, 1 - k_ij)."""
    if a == b:
        return 1.0
    if b == "H2O(g)":
        a, b = b, a
    if a != "H2O(g)":
        return 1.0
    if b in ("CO2(g)", "H2S(g)", "H2Sg(g)"):
        return 0.81
    if b in ("CH4(g)", "Mtg(g)", "Methane(g)", "N2(g)", "Ntg(g)", "Ethane(g)"):
        return 0.51
    if b == "Propane(g)":
        return 0.45
    return 1.0


def pr_mixture(db: Database, names: list[str], n, T: float, P: float | None = None, V: float | None = None):
    """(P [atm], V_m [L/mol], log10 phi (k,)) of a gas of moles ``n`` at T [K] and either its total
    pressure P (V_m the root PHREEQC's calc_PR picks of the cubic) or its volume V [L] (P from the
    equation of state at V_m = V / sum n). Ideal gases (no critical data): phi = 1, P V_m = R T.
    Peng-Robinson as PHREEQC's calc_PR (prep.cpp): a = 0.457235 (R T_c)^2 / P_c, b = 0.077796 R T_c /
    P_c, alpha = (1 + kappa (1 - sqrt(T / T_c)))^2, the van der Waals mixing rules with its binary
    factors, ln phi clamped to [-4.6, 4.44]; at a given volume, below 150 atm and V_m < 1.01 L/mol, the
    pressure at the top of the isotherm's loop where V_m is inside it (``_loop_top``, as PHREEQC)."""
    n = np.asarray(n, dtype=float)
    N = float(n.sum())
    RT = R_LITER_ATM * T
    k = len(names)
    if N <= 0:
        raise InvalidInputError("gas phase: no moles")
    x = n / N
    if not is_pr(db, names):
        if P is None:
            Vm = V / N
            return RT / Vm, Vm, np.zeros(k)
        return float(P), RT / P, np.zeros(k)
    a = np.empty(k)
    b = np.empty(k)
    for i, nm in enumerate(names):
        ph = db.phases[nm]
        kk = 0.37464 + ph.omega * (1.54226 - 0.26992 * ph.omega)
        alpha = (1.0 + kk * (1.0 - math.sqrt(T / ph.t_c))) ** 2
        a[i] = 0.457235 * R_LITER_ATM ** 2 * ph.t_c ** 2 / ph.p_c * alpha
        b[i] = 0.077796 * R_LITER_ATM * ph.t_c / ph.p_c
    if k == 1:
        x = np.ones(1)
    aij = np.sqrt(np.outer(a, a)) * np.array([[_binary(p, q) for q in names] for p in names])
    present = x > 0
    aij = aij * present[None, :]
    b_sum = float(x @ b)
    a_sum = float(x @ aij @ x)
    a_sum2 = aij @ x
    b2 = b_sum * b_sum
    if P is None:
        Vm = V / N
        P = RT / (Vm - b_sum) - a_sum / (Vm * (Vm + 2.0 * b_sum) - b2)
        if P <= 0:
            P = 1.0  # as PHREEQC
        elif P < 150.0 and Vm < 1.01:
            P = _loop_top(RT, P, Vm, a_sum, b_sum)
    else:
        P = max(float(P), 1e-10)
        Vm = pr_volume(RT, P, a_sum, b_sum)
    z = P * Vm / RT
    A = a_sum * P / (RT * RT)
    B = b_sum * P / RT
    lphi = np.zeros(k)
    for i in range(k):
        if x[i] == 0.0:
            continue
        lphi[i] = pr_ln_phi(z, A, B, b[i] / b_sum, a_sum2[i] / a_sum) / math.log(10.0)
    return float(P), float(Vm), lphi


def _loop_top(RT: float, P: float, Vm: float, a_sum: float, b_sum: float) -> float:
    """PHREEQC's pressure of a fixed-volume Peng-Robinson gas in the loop of the isotherm (gases.cpp calc_PR,
    below 150 atm and 1.01 L/mol): where the cubic at P(Vm) has three real roots (its discriminant > 0) and
    Vm is below the molar volume of the loop's local maximum of P, the gas is at that maximum (a liquid and
    a vapour: CO2 at 25 C holds 65 atm while it fills). Else P. The maximum: the largest root of dP/dV on
    V > b, bracketed on a grid and bisected to the last bit (PHREEQC's own search stops at |dP/dV| < 1e-11)."""
    b2 = b_sum * b_sum
    r1 = b_sum - RT / P
    r2 = -3.0 * b2 + (a_sum - RT * 2.0 * b_sum) / P
    r3 = b2 * b_sum + (RT * b2 - b_sum * a_sum) / P
    disc = 18.0 * r1 * r2 * r3 - 4.0 * r1 ** 3 * r3 + r1 * r1 * r2 * r2 - 4.0 * r2 ** 3 - 27.0 * r3 * r3
    if not disc > 0.0:
        return P

    def slope(v: float) -> float:
        f = v * (v + 2.0 * b_sum) - b2
        return -RT / (v - b_sum) ** 2 + 2.0 * a_sum * (v + b_sum) / (f * f)

    grid = b_sum * np.exp(np.linspace(math.log(1.0 + 1e-6), math.log(1e4), 2000))
    up = [i for i in range(len(grid) - 1) if slope(grid[i]) > 0.0 >= slope(grid[i + 1])]
    if not up:
        return P
    lo, hi = float(grid[up[-1]]), float(grid[up[-1] + 1])
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):
            break
        lo, hi = (mid, hi) if slope(mid) > 0.0 else (lo, mid)
    v1 = lo
    if not Vm < v1:
        return P
    return RT / (v1 - b_sum) - a_sum / (v1 * (v1 + 2.0 * b_sum) - b2)


def pr_volume(RT: float, P: float, a_sum: float, b_sum: float) -> float:
    """The molar volume [L/mol] of a gas of Peng-Robinson parameters a_sum, b_sum at P [atm], RT [L atm/mol]:
    the root of the cubic PHREEQC takes (gases.cpp calc_PR, Cardano's and the trigonometric forms)."""
    b2 = b_sum * b_sum
    r1 = b_sum - RT / P
    r2 = -3.0 * b2 + (a_sum - RT * 2.0 * b_sum) / P
    r3 = b2 * b_sum + (RT * b2 - b_sum * a_sum) / P
    rp = r2 - r1 * r1 / 3.0
    rq = (2.0 * r1 * r1 * r1 - 9.0 * r1 * r2) / 27.0 + r3
    rz = rq * rq / 4.0 + rp ** 3 / 27.0
    if rz >= 0.0:
        ri = math.sqrt(rz)
        if ri + rq / 2.0 <= 0.0:
            return _cbrt(ri - rq / 2.0) + _cbrt(-ri - rq / 2.0) - r1 / 3.0
        ri = -_cbrt(ri + rq / 2.0)
        return ri - rp / (3.0 * ri) - r1 / 3.0
    ri = math.sqrt(-rp ** 3 / 27.0)
    return 2.0 * ri ** (1.0 / 3.0) * math.cos(math.acos(-rq / 2.0 / ri) / 3.0) - r1 / 3.0


def pr_ln_phi(z: float, A: float, B: float, Br: float, a_ratio: float) -> float:
    """ln phi of a component (b_i / b = Br, sum_j x_j a_ij / a = a_ratio) in a Peng-Robinson gas of
    compressibility z, as PHREEQC's calc_PR, with its clamp to [-4.6, 4.44] (-4.6 where z <= B)."""
    if z <= B:
        return -4.6
    ln = Br * (z - 1.0) - math.log(z - B) + A / (2.828427 * B) * (Br - 2.0 * a_ratio) * math.log(
        (z + 2.41421356 * B) / (z - 0.41421356 * B))
    return min(max(ln, -4.6), 4.44)


def _cbrt(v: float) -> float:
    """C's pow(v, 1/3): NaN for v < 0 as PHREEQC's (its Cardano branches avoid that), here the real root."""
    return math.copysign(abs(v) ** (1.0 / 3.0), v)


def _positive(who: str, v, allow_zero: bool = False) -> float:
    return nonnegative(v, f"gas phase: {who}", allow_zero)


def gas_phase(db: Database, components, *, fixed: str = "pressure", pressure: float = 1.0, volume: float = 1.0,
              temperature: float = 298.15, units: str = "atm") -> GasPhase:
    """A ``GasPhase`` from {gas phase: partial pressure [atm]} (``units="atm"``, PHREEQC's GAS_PHASE
    lines; the moles as PHREEQC's tidy_gas_phase: p V / R T for ideal gases, x V / V_m with the
    Peng-Robinson V_m at the sum of the partial pressures otherwise) or {gas phase: moles}
    (``units="mol"``). fixed : "pressure" (``pressure`` [atm] the total held) or "volume" (``volume``
    [L] held); temperature [K] at which the partial pressures are given."""
    if isinstance(components, GasPhase):
        if components.db is not db:
            raise InvalidInputError("gas phase: it comes from another database")
        return components
    if fixed not in FIXED:
        raise InvalidInputError(f"gas phase: fixed={fixed!r}; expected 'pressure' or 'volume'")
    if units not in ("atm", "mol"):
        raise InvalidInputError(f"gas phase: units={units!r}; expected 'atm' (partial pressures) or 'mol'")
    if not isinstance(components, dict) or not components:
        raise InvalidInputError(f"gas phase: expected {{gas phase: partial pressure}}, got {components!r:.80}")
    P = _positive("pressure", pressure)
    V = _positive("volume", volume)
    T = _positive("temperature", temperature)
    vals: dict[str, float] = {}
    for name, v in components.items():
        name = str(name)
        if name not in db.phases:
            raise InvalidInputError(f"gas phase: {name!r} is not a phase of {db.path}")
        if name in vals:
            raise InvalidInputError(f"gas phase: {name!r} given twice")
        vals[name] = _positive(f"{'partial pressure' if units == 'atm' else 'moles'} of {name!r}", v, allow_zero=True)
    names = list(vals)
    pr = is_pr(db, names)
    if units == "mol":
        moles = dict(vals)
    else:
        psum = sum(vals.values())
        if pr and psum > 0:
            live = [k for k in names if vals[k] > 0]
            _, Vm, _ = pr_mixture(db, live, np.array([vals[k] / psum for k in live]), T, P=psum)
            moles = {k: (vals[k] / psum * V / Vm if vals[k] > 0 else 0.0) for k in names}
        else:
            moles = {k: vals[k] * V / (R_LITER_ATM * T) for k in names}
    g = GasPhase(db, fixed, moles, P, V, T)
    if fixed == "volume" and g.total_moles > 0:
        g = replace(g, pressure=g.state()["pressure"])
    return g


def gas_phases(db: Database, spec, N: int) -> list[GasPhase] | None:
    """One ``GasPhase`` per row from ``react``'s ``gas=`` (None, one, or a list of N)."""
    if spec is None:
        return None
    if isinstance(spec, (list, tuple)):
        if len(spec) != N:
            raise InvalidInputError(f"gas: {len(spec)} gas phases for {N} rows")
        out = [gas_phase(db, g) for g in spec]
    else:
        out = [gas_phase(db, spec)] * N
    names = list(out[0].moles)
    fixed = out[0].fixed
    for g in out:
        if list(g.moles) != names or g.fixed != fixed:
            raise InvalidInputError("gas: the rows of a batch must have gas phases of the same components and kind")
    return out
