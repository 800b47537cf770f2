"""The flash model kind: model files of vapour-liquid flashes (``kind: flash``), sweeps, report and plot.

The file gives the components, the equation of state and k_ij, the feed ``z``, one state pair (T+P, P+H,
P+S, T+VF or P+VF; numbers, or lists for a batch) and ``solver:`` options (``FlashOptions``); the schema is
in ``models/README.md``. Loading is ``chemsolve.flash.model.load_model`` with the model-file machinery's
``where`` (file and line of every key) and unit converter. Registered in ``chemsolve.registry``.

- ``chemsolve run flash/...``: one state, or the file's list of states (a warm-started batch), as a table,
  JSON, CSV or Parquet (one row per state); exit 1 when a state did not converge.
- ``chemsolve sweep``: either variable of the file's pair (``T``, ``P``, ``H``, ``S``, ``VF``) and
  ``z.<component>`` (its amount in the feed, in the file's amounts; the feed is normalised after);
  output columns ``T_K``, ``P_Pa``, ``beta``, ``phases``, ``Z_L``, ``Z_V``, ``x_<component>``,
  ``y_<component>``.
- ``chemsolve run --plot``: the phase envelope with the model's states on it; a (T, P) file with a list of T
  at one P (or of P at one T) gets the vapour fraction and the K-values along its list beside it
  (``plots.flash_beta_K``; without ``envelope:``, those two panels alone).
"""

from __future__ import annotations

import json
import math
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InvalidInputError
from ..modelfile import Where, in_units, units_of
from ..registry import ModelKind
from ..tables import table, write_rows
from .model import KEYS, FlashModel, load_model

__all__ = ["KIND", "FlashKind", "load"]

_PAIR_LABEL = {"T": "T [K]", "P": "P [Pa]", "H": "H [J/mol]", "S": "S [J/mol/K]", "VF": "VF [-]"}


def load(path: Path, data: dict, where: Where) -> FlashModel:
    """A flash model from a file's parsed data; units through ``chemsolve.modelfile`` (pint for any unit
    beyond chemsolve's own), errors naming file, line and key."""
    if isinstance(data.get("units"), dict):
        units_of(data, where, "flash", ("T", "P", "H", "S"))  # each unit named and checked (its line on error)
    return load_model(data, where=where, convert=lambda q, v, u: in_units(where, v, q, u), path=str(path))


def _state_columns(model: FlashModel, cols: dict[str, np.ndarray], n: int) -> dict[str, np.ndarray]:
    """The model's state pair as (n,) columns: swept values, else the file's (its first value of a list)."""
    out = {}
    for k, v in model.state.items():
        if k in cols:
            out[k] = np.asarray(cols[k], dtype=float)
        else:
            out[k] = np.full(n, float(v[0] if isinstance(v, list) else v))
    return out


def _feed_rows(model: FlashModel, cols: dict[str, np.ndarray], n: int) -> np.ndarray:
    """(n, ncomp) feeds: the file's amounts with the swept ``z.<component>`` columns in place (the flash
    normalises each row)."""
    base = np.asarray(model.feed if model.feed is not None else model.z, dtype=float)
    Z = np.tile(base, (n, 1))
    for j, c in enumerate(model.mixture.names):
        if f"z.{c}" in cols:
            Z[:, j] = cols[f"z.{c}"]
    return Z


def _finite_or_none(v: Any) -> Any:
    """``v`` with every non-finite float as None (JSON has no NaN: an absent phase's x, y and Z are null)."""
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, dict):
        return {k: _finite_or_none(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_finite_or_none(x) for x in v]
    return v


def _fmt(v: float, spec: str = ".6g") -> str:
    return "-" if not math.isfinite(v) else format(v, spec)


class FlashKind(ModelKind):
    name = "flash"
    about = "vapour-liquid flash of a cubic-EOS mixture (Peng-Robinson, SRK): TP, PH, PS, T-VF, P-VF, envelope"
    keys = KEYS
    sweep_help = ("either variable of the model's state pair (T [K], P [Pa], H [J/mol], S [J/mol/K], VF) and "
                  "z.<component> (its amount in the feed, renormalised)")
    amount_prefix = "x_"
    column_families = {"x_": ("liquid mole fraction x [-]", True), "y_": ("vapour mole fraction y [-]", True)}
    damping_types = ("constant", "ramp", "adaptive")
    bench_suite = ("chemsolve.flash.bench:suite", 1000, "thermo",
                   "(T, P) flash of five alkanes vs thermo and thermopack, cold and warm")

    def load(self, path: Path, data: dict, where: Where) -> FlashModel:
        return load(path, data, where)

    def resource_key(self, model: FlashModel) -> tuple:
        """Models of one mixture share it: the EOS and every constant the kernels read."""
        mix = model.mixture
        return (self.name, mix.eos, mix.names, mix._comp.tobytes(), mix.kij.tobytes(), mix._eosp.tobytes())

    # -- sweeps
    def complete_grid(self, model: FlashModel, grid: Any) -> Any:
        """A file whose state is a list keeps it: sweeping another input over it gives the grid inputs x
        list (the list fastest). Two lists of the file (paired, not a grid) cannot become an axis: the
        sweep uses their first values, and a warning says so; so does a DataFrame of rows."""
        listed = [k for k, v in model.state.items() if isinstance(v, list)]
        if not listed:
            return grid
        keys = set(grid) if isinstance(grid, dict) else set(getattr(grid, "columns", ()))
        left = [k for k in listed if k not in keys]
        if not left:
            return grid
        if isinstance(grid, dict) and len(listed) == 1:
            return {**grid, left[0]: np.asarray(model.state[left[0]], dtype=float)}
        what = ", ".join(f"{k} ({len(model.state[k])} values)" for k in left)
        warnings.warn(f"{model.path}: the model's list of {what} is not swept ("
                      + ("a table of rows has no such column" if not isinstance(grid, dict) else
                         "paired lists are no grid axis") + "): every row uses its first value", UserWarning,
                      stacklevel=3)
        return grid

    def check_sweep(self, model: FlashModel, cols: dict[str, np.ndarray]) -> None:
        names = model.mixture.names
        for k, a in cols.items():
            if k.startswith("z."):
                if k[2:] not in names:
                    raise InvalidInputError(f"sweep {k}: {k[2:]!r} is not a component of {model.path} "
                                            f"({', '.join(names)})")
                if (a < 0).any():
                    i = int(np.flatnonzero(a < 0)[0])
                    raise InvalidInputError(f"sweep {k}={a[i]:g}: an amount must be >= 0")
                continue
            if k not in model.state:
                pair = "+".join(sorted(model.state))
                raise InvalidInputError(f"sweep: {k!r} cannot be swept in {model.path}, whose state is {pair}; "
                                        f"use {' or '.join(sorted(model.state))}, or z.<component>")
            if k in ("T", "P") and (a <= 0).any():
                i = int(np.flatnonzero(a <= 0)[0])
                raise InvalidInputError(f"sweep {k}={a[i]:g}: must be > 0")
            if k == "VF" and ((a < 0) | (a > 1)).any():
                i = int(np.flatnonzero((a < 0) | (a > 1))[0])
                raise InvalidInputError(f"sweep VF={a[i]:g}: must lie in [0, 1]")

    def sweep_columns(self, model: FlashModel, mix: Any, species: list[str] | None) -> list | None:
        if species is None:
            return None
        names = list(model.mixture.names)
        out = []
        for s in species:
            if s not in names:
                raise InvalidInputError(f"component {s!r} is not in {model.path} ({', '.join(names)})")
            out.append(names.index(s))
        return out

    def sweep_block(self, model: FlashModel, mix: Any, cols: dict[str, np.ndarray], n: int, chunk: int,
                    columns: list | None):
        r = mix.flash(**_state_columns(model, cols, n), z=_feed_rows(model, cols, n), options=model.options,
                      warm_start=True, chunk=chunk)
        idx = range(mix.n) if columns is None else columns
        out: dict[str, Any] = {"T_K": r.T, "P_Pa": r.P, "beta": r.beta, "phases": r.phases, "Z_L": r.Z[:, 0],
                               "Z_V": r.Z[:, 1]}
        out.update({f"x_{mix.names[j]}": r.x[:, j] for j in idx})
        out.update({f"y_{mix.names[j]}": r.y[:, j] for j in idx})
        return r.status, r.nit, out

    # -- chemsolve run
    def report(self, model: FlashModel, r: Any, fmt: str, out: Any) -> int:
        """One row per state (T, P, status, phases, beta, Z, x, y); a single state's table also lists the
        compositions by component. Exit 1 (the count and the first failure on stderr) unless every state
        converged and was certified."""
        b = r if hasattr(r, "counts") else None
        names = model.mixture.names
        rows = [b.row(i) for i in range(len(b))] if b is not None else [r]
        status = [s.status.name for s in rows]
        if fmt in ("csv", "parquet"):
            head = (["T_K", "P_Pa", "status", "phase", "beta", "Z_L", "Z_V"] + [f"x_{c}" for c in names]
                    + [f"y_{c}" for c in names])
            write_rows([[float(s.T), float(s.P), s.status.name, s.phase, float(s.beta), float(s.Z[0]), float(s.Z[1])]
                        + [float(v) for v in s.x] + [float(v) for v in s.y] for s in rows], head, out, digits=12)
        elif fmt == "json":
            doc: dict[str, Any] = {"model": model.name, "file": model.path, "eos": model.mixture.eos,
                                   "spec": rows[0].spec, "components": list(names), "z": model.z.tolist()}
            if b is None:
                d = r.to_dict()
                d.pop("components", None)
                d.pop("z", None)
                doc.update(d)
            else:
                doc.update({"status": status, "message": b.message, "T_K": b.T.tolist(), "P_Pa": b.P.tolist(),
                            "phases": b.phases.tolist(), "phase": [s.phase for s in rows], "beta": b.beta.tolist(),
                            "Z": b.Z.tolist(), "x": {c: b.x[:, j].tolist() for j, c in enumerate(names)},
                            "y": {c: b.y[:, j].tolist() for j, c in enumerate(names)},
                            "K": {c: b.K[:, j].tolist() for j, c in enumerate(names)},
                            "iterations": b.nit.tolist(), "path": [s.path for s in rows],
                            "certificate": [s.certificate.to_dict() if s.certificate is not None else None
                                            for s in rows]})
            json.dump(_finite_or_none(doc), out, indent=1)
            out.write("\n")
        else:
            mix = model.mixture
            print(f"{model.name}  [{model.path}]", file=out)
            print(f"{mix.eos}, {mix.n} components, k_ij {mix.kij_source}; {rows[0].spec} flash"
                  + (f", {len(rows)} states" + (", warm-started" if model.warm_start else "") if b is not None else ""),
                  file=out)
            print(table([[_fmt(s.T, ".3f"), _fmt(s.P, ".6g"), s.status.name, s.phase, _fmt(s.beta, ".6f"),
                          _fmt(s.Z[0], ".5f"), _fmt(s.Z[1], ".5f"), s.nit, s.path] for s in rows],
                        ["T [K]", "P [Pa]", "status", "phase", "beta", "Z liquid", "Z vapour", "iterations", "path"]),
                  file=out)
            if b is None:
                print(table([[c, f"{r.z[j]:.6g}", _fmt(r.x[j], ".6g"), _fmt(r.y[j], ".6g"), _fmt(r.K[j], ".6g")]
                             for j, c in enumerate(names)], ["component", "z", "x (liquid)", "y (vapour)", "K"]),
                      file=out)
        bad = [i for i, s in enumerate(rows) if not s.success]
        if bad:
            s = rows[bad[0]]
            first = f"state {bad[0]}, T = {s.T:.6g} K, P = {s.P:.6g} Pa" if b is not None else "the state"
            print(f"error: {model.path}: {len(bad)} of {len(rows)} state(s) did not converge (first: {first}): "
                  f"{s.status.name}: {' '.join(s.message.split())}", file=sys.stderr)
            return 1
        return 0

    # -- plots
    def plot(self, model: FlashModel, ax: Any) -> None:
        """The phase envelope of the feed (dew and bubble curves, the critical point) with the model's
        states on it, converged ones by their phase count, failed ones as red crosses. A file with a list
        of states and no ``envelope:`` gets the vapour fraction beta along its list instead."""
        from ..plots import _mark_failed

        res = model.run()
        b = res if hasattr(res, "counts") else None
        T = np.atleast_1d(res.T)
        P = np.atleast_1d(res.P)
        ok = np.atleast_1d(res.success)
        phases = np.atleast_1d(res.phases)
        listed = [k for k, v in model.state.items() if isinstance(v, list)]
        if model.envelope_args is None and b is not None and listed:
            key = listed[0]
            x = np.asarray(model.state[key], dtype=float)
            beta = np.where(ok, b.beta, np.nan)
            ax.plot(x, beta, "o-", lw=1.5, color="tab:blue", label="vapour fraction beta", gid="beta")
            _mark_failed(ax, x, np.nan_to_num(b.beta, nan=0.0), ok)
            ax.set_xlabel(_PAIR_LABEL[key])
            ax.set_ylabel("vapour mole fraction beta [-]")
            ax.set_ylim(-0.05, 1.05)
        else:
            env = model.envelope()
            P_bar = env.P / 1e5
            dew = np.array([k == "dew" for k in env.kind], dtype=bool)
            for sel, label, colour in ((dew, "dew curve", "tab:blue"), (~dew, "bubble curve", "tab:green")):
                if sel.any():
                    ax.plot(env.T[sel], P_bar[sel], ".-", ms=3, lw=1.2, color=colour, label=label, gid=label)
            if math.isfinite(env.critical["T"]):
                ax.plot([env.critical["T"]], [env.critical["P"] / 1e5], "*", ms=12, color="black",
                        label=f"critical point ({env.critical['T']:.1f} K, {env.critical['P'] / 1e5:.1f} bar)",
                        gid="critical")
            if not env.success:
                ax.text(0.02, 0.02, f"envelope: {env.status.name} after {len(env.T)} points", transform=ax.transAxes,
                        fontsize=8, color="tab:red")
            for nph, marker, colour in ((2, "o", "tab:orange"), (1, "s", "tab:purple")):
                sel = ok & (phases == nph)
                if sel.any():
                    ax.plot(T[sel], P[sel] / 1e5, marker, ms=5, color=colour, linestyle="none",
                            label=f"flash: {'two phases' if nph == 2 else 'one phase'} ({int(sel.sum())})",
                            gid=f"flash{nph}")
            _mark_failed(ax, T, P / 1e5, ok)
            ax.set_xlabel("T [K]")
            ax.set_ylabel("P [bar]")
        ax.set_title(model.name, fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)

    def plot_figure(self, model: FlashModel, fig: Any) -> None:
        """A (T, P) model with a list of T at one P (or of P at one T): the vapour fraction and the K-values
        along the list (``plots.flash_beta_K``), beside the phase envelope with the states when the file asks
        for the envelope. Any other model: the one panel of ``plot``."""
        from ..plots import flash_beta_K

        listed = [k for k, v in model.state.items() if isinstance(v, list)]
        if model.spec != "TP" or len(listed) != 1:
            self.plot(model, fig.add_subplot())
            return
        if model.envelope_args is not None:
            fig.set_size_inches(12.0, 6.0)
            grid = fig.add_gridspec(2, 2)
            self.plot(model, fig.add_subplot(grid[:, 0]))
            ax_b = fig.add_subplot(grid[0, 1])
            axes = (ax_b, fig.add_subplot(grid[1, 1], sharex=ax_b))
        else:
            fig.set_size_inches(7.0, 6.5)
            axes = tuple(fig.subplots(2, 1, sharex=True))
        flash_beta_K(model, axes=axes, title="" if model.envelope_args is not None else None)

    # -- advisors
    def retry_rungs(self, summary: dict[str, Any]) -> list:
        """After a failed flash (FLASH_MESSAGES' advice): smaller substitution steps with two-eigenvalue
        extrapolation, then Anderson mixing, then Newton on ln K from the start (near a critical point)."""
        from .. import damping
        from ..advisors.base import Suggestion

        return [
            Suggestion(damping=damping.Constant(0.5), options={"acceleration": {"type": "gdem"}},
                       rationale="smaller substitution steps, GDEM acceleration"),
            Suggestion(options={"acceleration": {"type": "anderson", "m": 3}},
                       rationale="Anderson mixing instead of eigenvalue extrapolation"),
            Suggestion(options={"max_ss": 0}, rationale="Newton on ln K from the start (near a critical point)"),
        ]

    def guess_schema(self, summary: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
        n = len(summary.get("components") or [])
        if n == 0:
            return None, "'guess': null (this problem needs no guess)."
        return ({"type": "object", "properties": {"K": {"type": "array", "items": {"type": "number"}, "minItems": n,
                                                       "maxItems": n}},
                 "required": ["K"], "additionalProperties": False},
                f"'guess': {{'K': [{n} K-values y_i/x_i (vapour over liquid mole fraction), one per component in "
                "the order of 'components', each > 0]}.")

    # -- chemsolve warmup
    def warmup(self) -> str:
        from .mixture import Mixture

        fl = Mixture(["methane", "ethane", "propane", "n-butane", "n-pentane"])
        z = [0.5, 0.2, 0.15, 0.1, 0.05]
        fl.flash(T=250.0, P=20e5, z=z)
        fl.flash(T=[250.0, 260.0], P=[20e5, 20e5], z=z, warm_start=True)
        return "the (T, P) flash kernels and their certificate (single state and batch)"


KIND = FlashKind()
