"""Model files of kind ``flash``: the parsed YAML mapping -> ``FlashModel`` (the schema is in
``models/README.md``, section "kind: flash").

``load_model(mapping, where=..., convert=...)`` checks every key (unknown keys are errors naming them),
builds the ``Mixture`` and the options, and converts units through ``convert`` — the model-file loader's
unit converter (``convert(quantity, value, unit) -> value in chemsolve's unit``). Without one, only
chemsolve's own units are accepted (K, Pa, J/mol, J/mol/K), so this module needs no unit library.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import InvalidInputError
from .mixture import Mixture
from .options import FlashOptions
from .results import Envelope, FlashBatch, FlashResult

__all__ = ["KEYS", "FlashModel", "load_model"]

KEYS = {"kind", "name", "provenance", "units", "solver", "eos", "components", "kij", "volume_shift", "z", "T", "P",
        "H", "S", "VF", "warm_start", "envelope"}
_UNITS = {"T": "K", "P": "Pa", "H": "J/mol", "S": "J/mol/K"}
_ENVELOPE_KEYS = {"P_start", "max_points", "step"}


@dataclass(frozen=True)
class FlashModel:
    """A loaded flash model: ``mixture``, the feed ``z``, the state(s) ``state`` ({"T": ..., "P": ...}:
    numbers or lists, chemsolve's units), ``warm_start``, ``options``; ``envelope_args`` when the file
    asks for the phase envelope. ``run()`` flashes the state(s); ``envelope()`` traces the envelope."""

    name: str
    provenance: str
    mixture: Mixture
    z: np.ndarray
    state: Mapping[str, Any]
    warm_start: bool = False
    options: FlashOptions = field(default_factory=FlashOptions)
    envelope_args: Mapping[str, Any] | None = None
    source: str = ""

    @property
    def kind(self) -> str:
        return "flash"

    def run(self, **kw: Any) -> FlashResult | FlashBatch:
        """Flash the model's state(s); keyword arguments override (e.g. ``throw=True``, ``threads=2``)."""
        args: dict[str, Any] = {**self.state, "z": self.z, "options": self.options, "warm_start": self.warm_start}
        args.update(kw)
        return self.mixture.flash(**args)

    def envelope(self, **kw: Any) -> Envelope:
        """The phase envelope of the model's feed (``envelope:`` settings of the file, overridable)."""
        args = dict(self.envelope_args or {})
        args.update(kw)
        return self.mixture.envelope(self.z, options=self.options, **args)


def _plain_convert(quantity: str, value: Any, unit: str) -> Any:
    if unit != _UNITS[quantity]:
        raise InvalidInputError(f"unit {unit!r} of {quantity}: without the model loader's unit converter only "
                                f"{_UNITS[quantity]!r} is accepted")
    return value


def load_model(d: Mapping[str, Any], *, where: str = "<mapping>",
               convert: Callable[[str, Any, str], Any] | None = None) -> FlashModel:
    """Check a ``kind: flash`` mapping and build its ``FlashModel``. Errors name ``where`` and the key."""
    if not isinstance(d, Mapping):
        raise InvalidInputError(f"{where}: a model file must be a mapping")
    extra = sorted(set(d) - KEYS)
    if extra:
        raise InvalidInputError(f"{where}: unknown key(s) {extra} for kind flash; allowed: {sorted(KEYS)}")
    if d.get("kind") != "flash":
        raise InvalidInputError(f"{where}: kind={d.get('kind')!r}; this loader reads kind: flash")
    for k in ("name", "provenance", "components", "z"):
        if k not in d:
            raise InvalidInputError(f"{where}: missing required key {k!r}")
    for k in ("name", "provenance"):
        if not isinstance(d[k], str) or not d[k].strip():
            raise InvalidInputError(f"{where}: {k} must be a non-empty text")
    units = d.get("units", {}) or {}
    if not isinstance(units, Mapping):
        raise InvalidInputError(f"{where}: units must be a mapping quantity: unit")
    bad_u = sorted(set(units) - set(_UNITS))
    if bad_u:
        raise InvalidInputError(f"{where}: units: unknown quantity {bad_u}; allowed: {sorted(_UNITS)}")
    conv = convert or _plain_convert
    comps = d["components"]
    if not isinstance(comps, list) or not comps:
        raise InvalidInputError(f"{where}: components must be a non-empty list of names or mappings")
    try:
        mix = Mixture(comps, eos=d.get("eos", "PR"), kij=d.get("kij", "default"), volume_shift=d.get("volume_shift"))
    except InvalidInputError as e:
        raise InvalidInputError(f"{where}: {e}") from None
    z = d["z"]
    if isinstance(z, Mapping):
        unknown = sorted(set(z) - set(mix.names))
        if unknown:
            raise InvalidInputError(f"{where}: z names {unknown}, not in components {list(mix.names)}")
        zl = [z.get(nm, 0.0) for nm in mix.names]
    elif isinstance(z, list):
        zl = z
    else:
        raise InvalidInputError(f"{where}: z must be a list (in component order) or a mapping name: amount")
    try:
        za = np.array(zl, dtype=float)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{where}: z={z!r} holds a value that is not a number") from None
    if za.shape != (mix.n,):
        raise InvalidInputError(f"{where}: z has {za.size} values for {mix.n} components")
    if not np.all(np.isfinite(za)) or np.any(za < 0) or za.sum() <= 0:
        raise InvalidInputError(f"{where}: z must be finite, >= 0 and not all zero, got {za.tolist()}")
    za = za / za.sum()
    state: dict[str, Any] = {}
    for k in ("T", "P", "H", "S", "VF"):
        if k not in d:
            continue
        v = d[k]
        vals = v if isinstance(v, list) else [v]
        out = []
        for x in vals:
            if isinstance(x, bool) or not isinstance(x, (int, float)):
                raise InvalidInputError(f"{where}: {k}={x!r} is not a number")
            if k in _UNITS and k in units:
                try:
                    x = conv(k, float(x), str(units[k]))
                except InvalidInputError as e:
                    raise InvalidInputError(f"{where}: {e}") from None
            if not math.isfinite(float(x)):
                raise InvalidInputError(f"{where}: {k}={x!r} is not finite")
            out.append(float(x))
        state[k] = out if isinstance(v, list) else out[0]
    given = sorted(state)
    if given not in (["P", "T"], ["H", "P"], ["P", "S"], ["T", "VF"], ["P", "VF"]):
        raise InvalidInputError(f"{where}: give one pair of T+P, P+H, P+S, T+VF or P+VF; got {given or 'none'}")
    lens = {len(v) for v in state.values() if isinstance(v, list)}
    if len(lens) > 1:
        raise InvalidInputError(f"{where}: the state lists have different lengths {sorted(lens)}")
    warm = d.get("warm_start", False)
    if not isinstance(warm, bool):
        raise InvalidInputError(f"{where}: warm_start must be true or false")
    try:
        opts = FlashOptions.from_mapping(d.get("solver", {}) or {}, where=f"{where}: solver")
    except InvalidInputError as e:
        raise InvalidInputError(str(e)) from None
    env = d.get("envelope")
    env_args = None
    if env is not None and env is not False:
        if env is True:
            env_args = {}
        elif isinstance(env, Mapping):
            bad = sorted(set(env) - _ENVELOPE_KEYS)
            if bad:
                raise InvalidInputError(f"{where}: envelope: unknown key(s) {bad}; allowed: {sorted(_ENVELOPE_KEYS)}")
            env_args = dict(env)
            if "P_start" in env_args and "P" in units:
                env_args["P_start"] = conv("P", float(env_args["P_start"]), str(units["P"]))
        else:
            raise InvalidInputError(f"{where}: envelope must be true, false or a mapping {sorted(_ENVELOPE_KEYS)}")
    return FlashModel(str(d["name"]), str(d["provenance"]), mix, za, state, warm, opts, env_args, where)
