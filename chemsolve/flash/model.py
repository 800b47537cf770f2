"""Model files of kind ``flash``: the parsed YAML mapping -> ``FlashModel`` (the schema is in
``models/README.md``, section "kind: flash").

``load_model(mapping, where=..., convert=...)`` checks every key (unknown keys are errors naming them),
builds the ``Mixture`` and the options, and converts units through ``convert`` — the model-file loader's
unit converter (``convert(quantity, value, unit) -> value in chemsolve's unit``). Without one, only
chemsolve's own units are accepted (K, Pa, J/mol, J/mol/K), so this module needs no unit library.

``where`` is a text that prefixes every error (a file name), or — as the model-file front door
(``chemsolve.flash.kind``) passes it — a function ``where(*key) -> "file:line"`` naming the line of a key.
Every value a flash would refuse is refused here, when the file is loaded: a loaded model runs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import InvalidInputError
from ..modelfile import ModelError, as_float, show
from .mixture import Mixture
from .options import FlashOptions
from .results import Envelope, FlashBatch, FlashResult

__all__ = ["KEYS", "SPEC_KEYS", "FlashModel", "load_model"]

KEYS = {"kind": True, "name": True, "provenance": True, "units": False, "solver": False, "eos": False,
        "components": True, "kij": False, "volume_shift": False, "z": True, "T": False, "P": False, "H": False,
        "S": False, "VF": False, "warm_start": False, "envelope": False}
# the pairs a state may hold, and the spec each one is
SPEC_KEYS = {("P", "T"): "TP", ("H", "P"): "PH", ("P", "S"): "PS", ("T", "VF"): "TVF", ("P", "VF"): "PVF"}
_UNITS = {"T": "K", "P": "Pa", "H": "J/mol", "S": "J/mol/K"}
_ENVELOPE_KEYS = ("P_start", "max_points", "step")


@dataclass(frozen=True)
class FlashModel:
    """A loaded flash model: ``mixture``, the feed ``z`` (normalised), the state(s) ``state`` ({"T": ...,
    "P": ...}: numbers or lists, chemsolve's units), ``warm_start``, ``options``; ``envelope_args`` when the
    file asks for the phase envelope. ``run()`` flashes the state(s); ``envelope()`` traces the envelope.

    ``path`` : the model file (or the ``where`` text given); ``feed`` : the file's amounts before they
    were normalised (a sweep of ``z.<component>`` replaces one of them); ``solver`` : the options the file
    gives, as a mapping."""

    name: str
    provenance: str
    mixture: Mixture
    z: np.ndarray
    state: Mapping[str, Any]
    warm_start: bool = False
    options: FlashOptions = field(default_factory=FlashOptions)
    envelope_args: Mapping[str, Any] | None = None
    source: str = ""
    path: str = ""
    feed: np.ndarray | None = None
    solver: Mapping[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return "flash"

    @property
    def spec(self) -> str:
        """What the state holds: "TP", "PH", "PS", "TVF" or "PVF"."""
        return SPEC_KEYS[tuple(sorted(self.state))]

    @property
    def n_states(self) -> int | None:
        """The number of states of a list (a batch), None for one state."""
        sizes = [len(v) for v in self.state.values() if isinstance(v, list)]
        return sizes[0] if sizes else None

    def resource(self) -> Mixture:
        """The model's mixture (built when the file was loaded)."""
        return self.mixture

    def run(self, resource: Mixture | None = None, **kw: Any) -> FlashResult | FlashBatch:
        """Flash the model's state(s); keyword arguments override (e.g. ``throw=True``, ``threads=2``).
        ``resource``: the mixture to use (``resource()``; default the model's own)."""
        args: dict[str, Any] = {**self.state, "z": self.z, "options": self.options, "warm_start": self.warm_start}
        args.update(kw)
        return (resource if resource is not None else self.mixture).flash(**args)

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


def _allowed(keys: Any) -> str:
    return str(sorted(keys))


def load_model(d: Mapping[str, Any], *, where: str | Callable[..., str] = "<mapping>",
               convert: Callable[[str, Any, str], Any] | None = None, path: str | None = None) -> FlashModel:
    """Check a ``kind: flash`` mapping and build its ``FlashModel``. Errors (``ModelError``, an
    ``InvalidInputError``) name ``where`` — or, when ``where`` is a function, ``where(*key)``: the file
    and line of the key — and the key. ``path``: the model's file (default: the ``where`` text)."""
    at: Callable[..., str] = where if callable(where) else (lambda *key, _w=str(where): _w)
    top = str(path) if path is not None else (at() if callable(where) else str(where))
    if not isinstance(d, Mapping):
        raise ModelError(f"{top}: a model file must be a mapping")
    for k in d:
        if k not in KEYS:
            raise ModelError(f"{at(k)}: unknown key {show(k)} for kind flash; allowed: {_allowed(KEYS)}")
    if d.get("kind") != "flash":
        raise ModelError(f"{at('kind')}: kind={show(d.get('kind'))}; this loader reads kind: flash")
    for k, required in KEYS.items():
        if required and k not in d:
            raise ModelError(f"{top}: missing key {k!r}")
    for k in ("name", "provenance"):
        if not isinstance(d[k], str) or not d[k].strip():
            raise ModelError(f"{at(k)}: {k} must be a non-empty text")
    units = d.get("units") or {}
    if not isinstance(units, Mapping):
        raise ModelError(f"{at('units')}: units is a mapping quantity: unit, e.g. {{T: degC, P: bar}}")
    for q, u in units.items():
        if q not in _UNITS:
            raise ModelError(f"{at('units', q)}: unknown key {show(q)} in units for kind flash; "
                             f"allowed: {list(_UNITS)}")
        if not isinstance(u, str) or not u.strip():
            raise ModelError(f"{at('units', q)}: units.{q} = {show(u)} is not a unit, e.g. 'degC'")
    conv = convert or _plain_convert

    def number(key: tuple, v: Any) -> float:
        x = as_float(v)
        if x is None or not math.isfinite(x):
            raise ModelError(f"{at(*key)}: {'.'.join(map(str, key))} = {show(v)} is not a finite number")
        return x

    def in_units(key: str, v: float) -> float:
        if key not in units:
            return v
        try:
            out = float(conv(key, v, str(units[key]).strip()))
        except ModelError:  # (the model-file converter names the file and line itself)
            raise
        except InvalidInputError as e:
            raise ModelError(f"{at('units', key)}: {e}") from None
        if not math.isfinite(out):
            raise ModelError(f"{at(key)}: {key} = {v:g} {units[key]} is not a finite number of {_UNITS[key]}")
        return out

    mix = _mixture(d, at)
    z = d["z"]
    if isinstance(z, Mapping):
        given = [c if isinstance(c, str) else (c.get("name") if isinstance(c, Mapping) else None)
                 for c in d["components"]]
        idx = {nm: i for i, nm in enumerate(mix.names)}
        idx.update({str(g).strip(): i for i, g in enumerate(given) if g is not None})  # names as written too
        zl = [0.0] * mix.n
        for k, v in z.items():
            if not isinstance(k, str) or k.strip() not in idx:
                raise ModelError(f"{at('z', k)}: z names {show(k)}, not one of the components {list(mix.names)}")
            a = number(("z", k), v)
            if a < 0:
                raise ModelError(f"{at('z', k)}: z.{k} = {show(v)} is negative")
            zl[idx[k.strip()]] += a
    elif isinstance(z, list):
        if len(z) != mix.n:
            raise ModelError(f"{at('z')}: z has {len(z)} values for {mix.n} components")
        zl = [number(("z",), v) for v in z]
    else:
        raise ModelError(f"{at('z')}: z must be a list (in component order) or a mapping name: amount")
    feed = np.array(zl, dtype=float)
    if np.any(feed < 0) or feed.sum() <= 0 or not np.isfinite(feed.sum()):
        raise ModelError(f"{at('z')}: z must be >= 0 and not all zero, got {show(zl)}")
    za = feed / feed.sum()
    state: dict[str, Any] = {}
    for k in ("T", "P", "H", "S", "VF"):
        if k not in d:
            continue
        v = d[k]
        vals = v if isinstance(v, list) else [v]
        if not vals:
            raise ModelError(f"{at(k)}: {k} is an empty list")
        out = []
        for x in vals:
            y = in_units(k, number((k,), x)) if k in _UNITS else number((k,), x)
            if k in ("T", "P") and not y > 0:
                raise ModelError(f"{at(k)}: {k} = {show(x)} must be > 0 (in {_UNITS[k]}: {y:g})")
            if k == "VF" and not 0.0 <= y <= 1.0:
                raise ModelError(f"{at(k)}: VF = {show(x)} must lie in [0, 1]")
            out.append(y)
        state[k] = out if isinstance(v, list) else out[0]
    given_keys = tuple(sorted(state))
    if given_keys not in SPEC_KEYS:
        raise ModelError(f"{at(*given_keys[:1])}: give one pair of T+P, P+H, P+S, T+VF or P+VF; "
                         f"got {list(given_keys) or 'none'}")
    lens = {len(v) for v in state.values() if isinstance(v, list)}
    if len(lens) > 1:
        raise ModelError(f"{at(given_keys[0])}: the state lists have different lengths {sorted(lens)}")
    if SPEC_KEYS[given_keys] in ("PH", "PS") and not mix.has_cp:
        lack = [c.name for c in mix.components if c.cp is None]
        raise ModelError(f"{at('H' if 'H' in state else 'S')}: a P-{'H' if 'H' in state else 'S'} flash needs "
                         f"ideal-gas Cp data, which {lack} lack (give 'cp' in the component)")
    warm = d.get("warm_start", False)
    if not isinstance(warm, bool):
        raise ModelError(f"{at('warm_start')}: warm_start = {show(warm)} must be true or false")
    solver = FlashOptions.given(d.get("solver"), at)
    opts = FlashOptions(**solver)
    env_args = _envelope(d.get("envelope"), at, number, in_units)
    return FlashModel(d["name"].strip(), " ".join(d["provenance"].split()), mix, za, state, warm, opts, env_args,
                      top, top, feed, solver)


def _mixture(d: Mapping[str, Any], at: Callable[..., str]) -> Mixture:
    """The mixture of the file, each error named by its key: ``eos``, ``components``, ``kij``,
    ``volume_shift`` (the mixture is built once per key, cheaply, so that the culprit is known)."""
    from . import eos as _eos
    from .components import component

    eos = d.get("eos", "PR")
    if not isinstance(eos, str):
        raise ModelError(f"{at('eos')}: eos = {show(eos)}; expected PR, PR76, PR78 or SRK")
    try:
        _eos.eos_constants(eos)
    except InvalidInputError as e:
        raise ModelError(f"{at('eos')}: {e}") from None
    comps = d["components"]
    if not isinstance(comps, list) or not comps:
        raise ModelError(f"{at('components')}: components must be a non-empty list of names or mappings")
    try:
        objs = [component(c, where=f"components[{i}]") for i, c in enumerate(comps)]
        Mixture(objs, eos=eos, kij="zero")
    except InvalidInputError as e:
        raise ModelError(f"{at('components')}: {e}") from None
    kij = d.get("kij", "default")
    try:
        Mixture(objs, eos=eos, kij=kij)
    except InvalidInputError as e:
        raise ModelError(f"{at('kij')}: {e}") from None
    try:
        return Mixture(objs, eos=eos, kij=kij, volume_shift=d.get("volume_shift"))
    except InvalidInputError as e:
        raise ModelError(f"{at('volume_shift')}: {e}") from None


def _envelope(env: Any, at: Callable[..., str], number: Callable[..., float],
              in_units: Callable[[str, float], float]) -> dict[str, Any] | None:
    """The ``envelope:`` settings (None: not asked for), checked as ``Mixture.envelope`` checks them."""
    if env is None or env is False:
        return None
    if env is True:
        return {}
    if not isinstance(env, Mapping):
        raise ModelError(f"{at('envelope')}: envelope must be true, false or a mapping {list(_ENVELOPE_KEYS)}")
    out: dict[str, Any] = {}
    for k, v in env.items():
        if k not in _ENVELOPE_KEYS:
            raise ModelError(f"{at('envelope', k)}: unknown key {show(k)} in envelope; allowed: {list(_ENVELOPE_KEYS)}")
        x = number(("envelope", k), v)
        if k == "P_start":
            x = in_units("P", x)
            if not x > 0:
                raise ModelError(f"{at('envelope', k)}: envelope.P_start = {show(v)} must be > 0")
        elif k == "max_points":
            if x != int(x) or not 10 <= x <= 100000:
                raise ModelError(f"{at('envelope', k)}: envelope.max_points = {show(v)} must be an integer in "
                                 "[10, 100000]")
            x = int(x)
        elif not 0.0 < x <= 1.0:
            raise ModelError(f"{at('envelope', k)}: envelope.step = {show(v)} must lie in (0, 1] (a change of ln P)")
        out[k] = x
    return out
