"""Pure-component constants of the flash model: a bundled, cited table (``data/components.csv``), the
``chemicals`` package for anything else (when it is installed), or the user's own constants.

A component is a ``Component``: Tc [K], Pc [Pa], omega [-], MW [g/mol], and optionally the ideal-gas heat
capacity ``Cp/R = a0 + a1 T + ... + a4 T^4`` (needed for P-H and P-S flashes, enthalpies and
entropies) and the Rackett compressibility Z_RA (needed for the Péneloux volume translation). Each
carries ``source``, which says where every number came from.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from ..errors import InvalidInputError

__all__ = ["Component", "bundled_names", "component", "kij_chemsep_pr"]

_DATA = os.path.join(os.path.dirname(__file__), "data")


@dataclass(frozen=True)
class Component:
    """Constants of one component.

    name : as given or as in the table. Tc : critical temperature [K]. Pc : critical pressure [Pa].
    omega : acentric factor [-]. MW : molar mass [g/mol]. cp : ideal-gas Cp/R coefficients (a0..a4,
    ``Cp/R = a0 + a1 T + a2 T^2 + a3 T^3 + a4 T^4``, T in K) or None. cp_range : (Tmin, Tmax) [K] of the
    fit. Z_RA : Rackett compressibility factor [-] or None. cas : CAS number or "". source : {quantity:
    data set} (see ``chemsolve/flash/data/README.md``).
    """

    name: str
    Tc: float
    Pc: float
    omega: float
    MW: float = math.nan
    cp: tuple[float, float, float, float, float] | None = None
    cp_range: tuple[float, float] | None = None
    Z_RA: float | None = None
    cas: str = ""
    source: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for key, lo in (("Tc", 0.0), ("Pc", 0.0)):
            v = getattr(self, key)
            if not isinstance(v, (int, float)) or not math.isfinite(v) or v <= lo:
                raise InvalidInputError(f"component {self.name!r}: {key}={v!r} must be a finite number > 0")
        w = self.omega
        if not isinstance(w, (int, float)) or not math.isfinite(w) or not -1.0 < w < 3.0:
            raise InvalidInputError(f"component {self.name!r}: omega={w!r} must be a finite number in (-1, 3)")
        if self.cp is not None:
            if len(self.cp) != 5 or not all(isinstance(a, (int, float)) and math.isfinite(a) for a in self.cp):
                raise InvalidInputError(f"component {self.name!r}: cp={self.cp!r} must be 5 finite numbers "
                                        "(Cp/R = a0 + a1 T + a2 T^2 + a3 T^3 + a4 T^4)")
        if self.Z_RA is not None and not (isinstance(self.Z_RA, (int, float)) and 0.0 < self.Z_RA < 1.0):
            raise InvalidInputError(f"component {self.name!r}: Z_RA={self.Z_RA!r} must lie in (0, 1)")

    @classmethod
    def from_mapping(cls, d: Mapping[str, Any], where: str = "") -> Component:
        """A user component from a mapping {name, Tc, Pc, omega[, MW, cp, cp_range, Z_RA]}; unknown keys
        are errors naming the key."""
        at = f"{where}: " if where else ""
        if not isinstance(d, Mapping):
            raise InvalidInputError(f"{at}a component must be a name or a mapping, got {d!r}")
        allowed = {"name", "Tc", "Pc", "omega", "MW", "cp", "cp_range", "Z_RA"}
        extra = sorted((k for k in d if k not in allowed), key=str)
        if extra:
            raise InvalidInputError(f"{at}unknown key(s) {extra} in component {d.get('name', '?')!r}; "
                                    f"allowed: {sorted(allowed)}")
        for k in ("name", "Tc", "Pc", "omega"):
            if k not in d:
                raise InvalidInputError(f"{at}component {d.get('name', '?')!r} lacks {k!r} "
                                        "(a user component needs name, Tc [K], Pc [Pa], omega)")
        kw: dict[str, Any] = {"name": str(d["name"])}
        for k in ("Tc", "Pc", "omega", "MW"):
            if k in d:
                try:
                    kw[k] = float(d[k])
                except (TypeError, ValueError, OverflowError):
                    raise InvalidInputError(f"{at}component {d['name']!r}: {k}={d[k]!r} is not a number") from None
        if "Z_RA" in d:
            try:
                kw["Z_RA"] = float(d["Z_RA"])
            except (TypeError, ValueError, OverflowError):
                raise InvalidInputError(f"{at}component {d['name']!r}: Z_RA={d['Z_RA']!r} is not a number") from None
        for k, size in (("cp", 5), ("cp_range", 2)):
            if k in d:
                try:
                    kw[k] = tuple(float(a) for a in d[k])
                except (TypeError, ValueError, OverflowError):
                    raise InvalidInputError(f"{at}component {d['name']!r}: "
                                            f"{k}={d[k]!r} must be {size} numbers") from None
                if len(kw[k]) != size:
                    raise InvalidInputError(f"{at}component {d['name']!r}: {k}={d[k]!r} must be {size} numbers")
        kw["source"] = {"constants": "given by the user"}
        try:
            return cls(**kw)
        except InvalidInputError as e:
            raise InvalidInputError(f"{at}{e}") from None


def _key(name: str) -> str:
    return "".join(name.lower().split()).replace("_", "-")


@lru_cache(maxsize=1)
def _table() -> tuple[dict[str, Component], dict[str, str]]:
    """The bundled table: {key: Component} by name, alias and CAS (keys lowercased, no spaces)."""
    by: dict[str, Component] = {}
    names: dict[str, str] = {}
    with open(os.path.join(_DATA, "components.csv"), newline="") as fh:
        lines = [ln for ln in fh if not ln.startswith("#")]
    for r in csv.DictReader(lines):
        cp = None
        rng = None
        if r["cp_a0"]:
            cp = tuple(float(r[f"cp_a{k}"]) for k in range(5))
            rng = (float(r["cp_Tmin"]), float(r["cp_Tmax"]))
        src = {"Tc": r["src_Tc"], "Pc": r["src_Pc"], "omega": r["src_omega"], "MW": "chemicals.MW"}
        if cp is not None:
            src["cp"] = r["src_cp"]
        if r["Z_RA"]:
            src["Z_RA"] = r["src_Z_RA"]
        c = Component(r["name"], float(r["Tc"]), float(r["Pc"]), float(r["omega"]), float(r["MW"]), cp, rng,
                      float(r["Z_RA"]) if r["Z_RA"] else None, r["CAS"], src)
        names[r["name"]] = r["CAS"]
        for k in [r["name"], r["CAS"]] + [a for a in r["aliases"].split(";") if a]:
            by[_key(k)] = c
    return by, names


def bundled_names() -> list[str]:
    """Names of the components in the bundled table (``chemsolve/flash/data/components.csv``)."""
    return list(_table()[1])


def component(spec: Any, where: str = "") -> Component:
    """A ``Component`` from a name (bundled table first, then the ``chemicals`` package), a mapping of
    constants, or a ``Component``."""
    if isinstance(spec, Component):
        return spec
    if isinstance(spec, Mapping):
        return Component.from_mapping(spec, where)
    if not isinstance(spec, str) or not spec.strip():
        raise InvalidInputError(f"{where + ': ' if where else ''}component {spec!r}: expected a name, a mapping "
                                "{name, Tc, Pc, omega} or a Component")
    found = _table()[0].get(_key(spec))
    if found is not None:
        return Component(spec, found.Tc, found.Pc, found.omega, found.MW, found.cp, found.cp_range, found.Z_RA,
                         found.cas, dict(found.source, table="chemsolve/flash/data/components.csv"))
    return _from_chemicals(spec, where)


def _from_chemicals(name: str, where: str) -> Component:
    at = f"{where}: " if where else ""
    try:
        import chemicals
        from chemicals import MW, CAS_from_any
        from chemicals.acentric import omega, omega_methods
        from chemicals.critical import Pc, Pc_methods, Tc, Tc_methods
    except ImportError:
        raise InvalidInputError(
            f"{at}component {name!r} is not in the bundled table (chemsolve.flash.components.bundled_names()) "
            "and the 'chemicals' package is not installed to look it up; give its constants as "
            "{name, Tc, Pc, omega}") from None
    try:
        cas = CAS_from_any(name)
    except Exception:  # noqa: BLE001 - chemicals raises ValueError for unknown names
        raise InvalidInputError(f"{at}component {name!r} is unknown to the bundled table and to 'chemicals'; "
                                "give its constants as {name, Tc, Pc, omega}") from None
    src: dict[str, str] = {}
    vals: dict[str, float] = {}
    for key, fn, methods in (("Tc", Tc, Tc_methods), ("Pc", Pc, Pc_methods), ("omega", omega, omega_methods)):
        ms = methods(cas)
        if not ms:
            raise InvalidInputError(f"{at}component {name!r} (CAS {cas}): 'chemicals' has no {key}; give its "
                                    "constants as {name, Tc, Pc, omega}")
        vals[key] = float(fn(cas, method=ms[0]))
        src[key] = f"chemicals {chemicals.__version__} ({ms[0]})"
    cp = rng = None
    try:
        from chemicals.heat_capacity import Cp_data_Poling

        if cas in Cp_data_Poling.index:
            d = Cp_data_Poling.loc[cas]
            cp = tuple(float(d[k]) for k in ("a0", "a1", "a2", "a3", "a4"))
            if all(math.isfinite(a) for a in cp):
                rng = (float(d["Tmin"]), float(d["Tmax"]))
                src["cp"] = f"chemicals {chemicals.__version__} (POLING)"
            else:
                cp = None
    except ImportError:  # pragma: no cover - part of chemicals
        pass
    zra = None
    try:
        from chemicals.volume import rho_data_COSTALD

        if cas in rho_data_COSTALD.index and math.isfinite(float(rho_data_COSTALD.loc[cas, "Z_RA"])):
            zra = float(rho_data_COSTALD.loc[cas, "Z_RA"])
            src["Z_RA"] = f"chemicals {chemicals.__version__} (COSTALD)"
    except ImportError:  # pragma: no cover
        pass
    src["MW"] = "chemicals.MW"
    return Component(name, vals["Tc"], vals["Pc"], vals["omega"], float(MW(cas)), cp, rng, zra, cas, src)


@lru_cache(maxsize=1)
def _kij_table() -> dict[frozenset[str], float]:
    out: dict[frozenset[str], float] = {}
    with open(os.path.join(_DATA, "kij_pr_chemsep.csv"), newline="") as fh:
        lines = [ln for ln in fh if not ln.startswith("#")]
    for r in csv.DictReader(lines):
        out[frozenset((r["CAS1"], r["CAS2"]))] = float(r["kij"])
    return out


def kij_chemsep_pr(comps: Sequence[Component]) -> tuple[list[list[float]], list[tuple[str, str]]]:
    """The ChemSep Peng-Robinson k_ij matrix of the components (by CAS number) and the pairs that the
    table lacks (their k_ij is 0)."""
    tab = _kij_table()
    n = len(comps)
    k = [[0.0] * n for _ in range(n)]
    missing = []
    for i in range(n):
        for j in range(i + 1, n):
            v = tab.get(frozenset((comps[i].cas, comps[j].cas))) if comps[i].cas and comps[j].cas else None
            if v is None:
                missing.append((comps[i].name, comps[j].name))
            else:
                k[i][j] = k[j][i] = v
    return k, missing
