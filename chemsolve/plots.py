"""Figures of models and solver runs (matplotlib, the optional extra ``pip install 'chemsolve[plot]'``).

- ``bjerrum(model, component)``: fraction of a component in each species vs pH (fixed totals).
- ``flame(model)``: equilibrium mole fractions and temperature vs equivalence ratio (gas, fuel/oxidizer).
- ``composition(model)``: TP equilibrium mole fractions vs T (gas model given by its feed ``X:``).
- ``convergence(fun, x0)``: max|F| per iteration, one line per damping schedule.
- ``flash_beta_K(model)``: vapour fraction and K-values of a flash along T at fixed P (or along P at fixed T).
- ``plot_model(model, path)``: the figure that fits ``model.kind``, written to a PNG.

Every drawing function takes an optional ``ax`` and returns the Axes it drew on; the plotted numbers
are the lines' data (``line.get_xydata()``), the solver's results unchanged. Non-converged states or
runs are drawn, never dropped, and marked (red crosses, dashed lines). matplotlib is imported here
only, inside the functions; ``import chemsolve`` does not import this module.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .errors import ChemsolveError, InvalidInputError, MissingExtraError, require

__all__ = ["MissingExtraError", "bjerrum", "composition", "convergence", "flame", "flash_beta_K", "plot_columns",
           "plot_model", "require_matplotlib", "standard_schedules"]

_FAILED = {"marker": "x", "color": "tab:red", "linestyle": "none", "markersize": 7, "zorder": 5}


def require_matplotlib():
    """Import matplotlib or raise ``MissingExtraError`` naming the extra to install."""
    return require("matplotlib")


def _axes(ax):
    require_matplotlib()
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(7, 4.5))[1]


def _mark_failed(ax, x, y, ok, what: str = "state") -> None:
    bad = ~np.asarray(ok, dtype=bool)
    if bad.any():
        ax.plot(np.asarray(x)[bad], np.asarray(y)[bad], label=f"not converged ({int(bad.sum())} {what}s)",
                gid="failed", **_FAILED)


# ----------------------------------------------------------------------------------------- aqueous

def _component(db, comps: list[str], want: str | None) -> str:
    """The component of ``comps`` (database spelling, e.g. "C(+4)") that ``want`` names:
    a totals key ("C(4)"), the database's key, or a plain element ("C") with one component."""
    from .aqueous.speciation import total_key as _total_key

    if want is None:
        return next((c for c in comps if c.split("(")[0] == "C" and c != "C(-4)"), comps[0])
    if want in comps:
        return want
    try:
        key = _total_key(db, want)
    except InvalidInputError:
        key = None
    hits = [key] if key in comps else [c for c in comps if c.split("(")[0] == want]
    if len(hits) != 1:
        raise InvalidInputError(f"component {want!r} is not one of this water's components {comps}")
    return hits[0]


def bjerrum(model: Any, component: str | None = None, pH: Any = None, ax: Any = None, *, db: Any = None,
            T: float | None = None, pe: float | None = None, min_fraction: float = 0.01):
    """Speciation (Bjerrum) diagram: fraction of ``component``'s total in each species vs pH.

    Parameters
    ----------
    model
        an aqueous ``Model`` (its totals, T, pe and database), or a dict of totals [mol/kgw]
        together with ``db`` (a loaded database or its name) and optionally ``T`` [K] (298.15) and
        ``pe`` (4). The totals stay fixed; the pH is imposed (no charge balance), and equilibrium
        phases of the model are not applied (``speciate_batch`` has none).
    component
        a total's key ("C(4)", "S(6)", "Ca") or a plain element; default the carbonate
        component C(4) when present, else the first. pH : grid [-], default ``linspace(2, 12, 201)``.
    min_fraction
        a species gets a line when its fraction reaches this anywhere on the grid.

    Notes
    -----
    One line per species (label: the species name), y = count of the component in the species x its
    molality / the component's total [-], so the lines sum to at most 1 (species below
    ``min_fraction`` are left out). pH values where the speciation did not converge are NaN in the
    lines and marked with red crosses at y = 0. Returns the Axes.
    """
    from . import aqueous
    from .aqueous.speciation import build_system

    ax = _axes(ax)
    if isinstance(model, dict):
        if db is None:
            raise InvalidInputError("bjerrum(totals, ...) needs db=, a loaded database or its name")
        totals, title = dict(model), "water"
        T, pe = 298.15 if T is None else float(T), 4.0 if pe is None else float(pe)
    else:
        totals, title = dict(model.totals), model.name
        T, pe = model.T if T is None else float(T), model.pe if pe is None else float(pe)
        db = db if db is not None else model.resource()
    if isinstance(db, (str, Path)):
        db = aqueous.load_database(str(db))
    pH = np.linspace(2.0, 12.0, 201) if pH is None else np.atleast_1d(np.asarray(pH, dtype=float))
    b = aqueous.speciate_batch(db, totals, T, pH, pe)
    tab = build_system(db, totals, T)  # the tableau speciate_batch solved: same species columns
    if list(tab.species) != list(b.species):  # pragma: no cover - both come from one function
        raise ChemsolveError("internal: batch species differ from the tableau's")
    comp = _component(db, list(tab.components), component)
    j = list(tab.components).index(comp)
    frac = b.molality * tab.nu[:, j] / tab.totals[j]
    frac[~b.success] = np.nan
    for i in np.flatnonzero(tab.nu[:, j]):
        if np.nanmax(frac[:, i], initial=0.0) >= min_fraction:
            ax.plot(pH, frac[:, i], label=tab.species[i], gid=tab.species[i], lw=1.8)
    _mark_failed(ax, pH, np.zeros_like(pH), b.success, "pH value")
    ax.set_xlabel("pH [-]")
    ax.set_ylabel(f"fraction of total {comp} [mol/mol]")
    ax.set_xlim(pH.min(), pH.max())
    ax.set_ylim(0.0, 1.02)
    ax.set_title(f"{title}: {comp} at {T - 273.15:.4g} \N{DEGREE SIGN}C, fixed totals", fontsize=10)
    ax.legend(fontsize=8, loc="best")
    ax.grid(alpha=0.3)
    return ax


# --------------------------------------------------------------------------------------------- gas

def _species_lines(ax, x, X, names: list[str], species, ok, min_x: float = 1e-3, most: int = 8) -> None:
    auto = species is None
    if auto:
        peak = X.max(axis=0)
        species = [names[k] for k in np.argsort(-peak)[:most] if peak[k] >= min_x]
    for s in species:
        if s not in names:
            raise InvalidInputError(f"species {s!r} is not in the mixture; e.g. {names[:10]}")
        y = np.where(ok, X[:, names.index(s)], np.nan)
        ax.plot(x, y, label=s, gid=s, lw=1.6)
    ax.set_yscale("log")
    if auto:  # the major species: traces below min_x / 100 would only squeeze them
        ax.set_ylim(min_x / 100, 1.5)
    ax.set_ylabel("mole fraction [-]")
    ax.grid(alpha=0.3, which="both", lw=0.5)


def flame(model: Any, phi: Any = None, species: list[str] | None = None, ax: Any = None):
    """Equilibrium mole fractions (log axis) and temperature (twin axis) vs equivalence ratio.

    Parameters
    ----------
    model
        a gas ``GasModel`` given by ``fuel:``, ``oxidizer:`` and ``phi:``, solved in its own mode
        (HP: the adiabatic flame temperature) at its T and P, all states in one warm-started batch.
    phi
        equivalence ratios [-]; default the model's phi sweep, or ``linspace(0.5, 2.0, 31)`` for a
        single phi (feeds from the model's ``fuel`` and ``oxidizer``).
    species
        names to draw; default up to 8 species whose mole fraction reaches 1e-3.

    Notes
    -----
    A model given by its feed ``X:`` has no equivalence ratio: ``InvalidInputError`` (use
    ``composition``). Lines: one per species (label and gid the name; NaN where a state failed);
    on the twin axis ``ax.figure.axes``, the temperature line (gid "T", the batch's T unchanged, failed
    states marked with red crosses). Returns the (mole fraction) Axes.
    """
    from dataclasses import replace

    from .gas.kind import mix_feed

    if getattr(model, "fuel", None) is None:
        raise InvalidInputError(f"{model.path} gives its feed as X:, so it has no equivalence ratio to plot "
                                "against; composition(model) draws it vs T")
    ax = _axes(ax)
    if phi is None and model.phi is not None:
        m = model
    else:
        grid = np.linspace(0.5, 2.0, 31) if phi is None else np.atleast_1d(np.asarray(phi, dtype=float))
        if not (np.isfinite(grid).all() and (grid > 0).all()):
            raise InvalidInputError(f"phi must be positive and finite, got {grid.tolist()[:10]}")
        feeds = [mix_feed(model.fuel, model.oxidizer, float(f), model.path, lambda *k: str(model.path)) for f in grid]
        m = replace(model, feeds=feeds, phi=[float(f) for f in grid])
    r = m.run()
    x = np.asarray(m.phi)
    _species_lines(ax, x, r.X, list(r.species_names), species, r.success)
    ax.set_xlabel("equivalence ratio \N{GREEK SMALL LETTER PHI} [-]")
    ax.set_xlim(x.min(), x.max())
    tx = ax.twinx()
    tx.plot(x, r.T, color="k", lw=2.2, ls="--", label="T", gid="T")
    _mark_failed(tx, x, r.T, r.success)
    tx.set_ylabel("adiabatic flame temperature [K]" if m.mode == "HP" else f"temperature ({m.mode}) [K]")
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = tx.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=6)
    ax.set_title(f"{m.name}\n{m.mode} equilibrium at {m.P / 1e5:.4g} bar from {m.T:.4g} K", fontsize=10)
    return ax


def composition(model: Any, T: Any = None, species: list[str] | None = None, ax: Any = None):
    """TP equilibrium mole fractions of a gas model's feed vs temperature (whatever the model's mode).

    model : a ``GasModel`` (its first feed, P and mechanism). T : grid [K], default
    ``linspace(max(200, T/2), 2 T, 61)`` around the model's T. Lines as in ``flame``; failed states
    are NaN and marked. Condensed phases (if any) are solved but not drawn. Returns the Axes.
    """
    ax = _axes(ax)
    grid = (np.linspace(max(200.0, 0.5 * model.T), 2.0 * model.T, 61) if T is None
            else np.atleast_1d(np.asarray(T, dtype=float)))
    mix = model.feed_check(model.resource())
    X = np.zeros(mix.n_species)
    for k, v in model.feeds[0].items():
        X[mix.species_index(k)] += v
    r = mix.equilibrate(grid, model.P, np.tile(X, (grid.size, 1)), mode="TP", warm_start=True)
    _species_lines(ax, grid, r.X, list(r.species_names), species, r.success)
    _mark_failed(ax, grid, np.full(grid.shape, ax.get_ylim()[0]), r.success)
    ax.set_xlabel("temperature [K]")
    ax.set_xlim(grid.min(), grid.max())
    ax.legend(fontsize=8, loc="best", ncol=2)
    ax.set_title(f"{model.name}\nTP equilibrium at {model.P / 1e5:.4g} bar", fontsize=10)
    return ax


# ------------------------------------------------------------------------------------------- flash

def flash_beta_K(model: Any, T: Any = None, P: Any = None, *, z: Any = None, axes: Any = None,
                 saturation: bool = True, title: str | None = None):
    """Vapour fraction beta and the K-values of a (T, P) flash along T at fixed P, or along P at fixed T.

    model : a flash model (``chemsolve.models.load_model("flash/...")``: its mixture, feed and options; by
    default its own list of T, or of P, at its one value of the other) or a ``chemsolve.flash.Mixture``
    with ``z`` given. T, P : one an array (the x axis), the other a number; they override the model's.
    axes : two Axes (beta, K) or None for a new figure of two panels. saturation : also mark the bubble
    and dew points at the fixed P (T) as vertical lines (gid "bubble point", "dew point"), when they
    converge. title : the first line of the title (default: the model's name, or the mixture's EOS and
    components; "" for none).

    The states are flashed in one warm-started batch (``Mixture.flash(..., warm_start=True)``), and the
    lines' data are its results unchanged: the beta line (gid "beta") holds ``beta`` of the converged rows
    (NaN where a row failed, drawn as a red cross); the K line of each component (gid ``"K_<component>"``,
    log axis) holds ``K`` = y/x of the rows that split into two phases, NaN elsewhere (the K of a single
    phase is its incipient phase's, a start for the next flash rather than an equilibrium ratio). Returns
    the two Axes.
    """
    from .flash.mixture import Mixture

    if isinstance(model, Mixture):
        mix, opts, state = model, None, {}
        if z is None:
            raise InvalidInputError("flash_beta_K: give z, the feed, with a Mixture")
        name = f"{mix.eos}: {', '.join(mix.names)}"
    else:
        mix, opts, state = model.mixture, model.options, dict(model.state)
        if model.spec != "TP" and (T is None or P is None):
            raise InvalidInputError(f"flash_beta_K: {getattr(model, 'path', model.name)} holds {model.spec}, "
                                    "not T and P: give T and P")
        z = model.z if z is None else z
        name = model.name
    T = state.get("T") if T is None else T
    P = state.get("P") if P is None else P
    if T is None or P is None:
        raise InvalidInputError("flash_beta_K: give T [K] and P [Pa], one of them an array")
    Ta, Pa = np.atleast_1d(np.asarray(T, dtype=float)), np.atleast_1d(np.asarray(P, dtype=float))
    if (Ta.size > 1) == (Pa.size > 1) or np.ndim(T) > 1 or np.ndim(P) > 1:
        raise InvalidInputError(f"flash_beta_K: one of T ({Ta.size} values) and P ({Pa.size}) must be an array "
                                "and the other one number")
    along_T = Ta.size > 1
    x = Ta if along_T else Pa
    fixed = float(Pa[0]) if along_T else float(Ta[0])
    b = mix.flash(T=Ta if along_T else fixed, P=fixed if along_T else Pa, z=z, warm_start=True, options=opts)
    if axes is None:
        fig = _figure((7.0, 6.5))
        axes = fig.subplots(2, 1, sharex=True)
    ax_b, ax_k = axes
    ok = np.asarray(b.success, dtype=bool)
    xs = x / 1e5 if not along_T else x
    ax_b.plot(xs, np.where(ok, b.beta, np.nan), "o-", ms=3, lw=1.5, color="tab:blue", label="vapour fraction beta",
              gid="beta")
    _mark_failed(ax_b, xs, np.where(ok, b.beta, 0.0), ok)
    two = ok & (b.phases == 2)
    for j, name in enumerate(mix.names):
        ax_k.plot(xs, np.where(two, b.K[:, j], np.nan), ".-", ms=3, lw=1.3, label=name, gid=f"K_{name}")
    ax_k.set_yscale("log")
    if saturation:
        zz = np.asarray(z, dtype=float)
        for what, VF, style in (("bubble point", 0.0, "--"), ("dew point", 1.0, ":")):
            s = mix.flash(z=zz, VF=VF, P=fixed, options=opts) if along_T else mix.flash(z=zz, VF=VF, T=fixed,
                                                                                         options=opts)
            v = s.T if along_T else s.P / 1e5
            if s.success and xs.min() <= v <= xs.max():
                for ax in (ax_b, ax_k):
                    ax.axvline(v, color="0.4", ls=style, lw=1.0, gid=what,
                               label=f"{what} ({v:.5g} {'K' if along_T else 'bar'})" if ax is ax_b else None)
    ax_b.set_ylabel("vapour mole fraction beta [-]")
    ax_b.set_ylim(-0.05, 1.05)
    ax_k.set_ylabel("K = y/x [-] (two phases)")
    ax_k.set_xlabel("T [K]" if along_T else "P [bar]")
    at = f"P = {fixed / 1e5:.5g} bar" if along_T else f"T = {fixed:.5g} K"
    head = name if title is None else title
    ax_b.set_title(f"{head}\n(T, P) flash at {at}" if head else f"(T, P) flash at {at}", fontsize=9)
    for ax in (ax_b, ax_k):
        ax.grid(alpha=0.3, which="both", lw=0.5)
    ax_b.legend(fontsize=7, loc="best")
    ax_k.legend(fontsize=7, ncol=2, loc="best")
    return ax_b, ax_k


# ------------------------------------------------------------------------------------------ engine

def standard_schedules(method: str = "newton") -> dict[str, Any]:
    """The schedules ``convergence`` draws by default, ``{label: schedule}``; extend it to add your own."""
    from . import damping as d

    if method == "newton":
        return {"line search": d.LineSearch(), "constant 1.0": d.Constant(1.0), "ramp": d.Ramp(),
                "adaptive": d.Adaptive()}
    return {"constant 1.0": d.Constant(1.0), "constant 0.5": d.Constant(0.5), "ramp": d.Ramp(),
            "adaptive": d.Adaptive()}


def _label(sched: Any, method: str) -> str:
    """``ramp (start=0.2)``: the schedule's name and the parameters that differ from its defaults."""
    from . import damping as d

    s = d.resolve(sched, method)
    base = type(s)().to_dict()
    diff = ", ".join(f"{k}={v:g}" for k, v in s.to_dict().items() if k != "type" and v != base[k])
    return f"{s.name} ({diff})" if diff else s.name


def convergence(fun: Any, x0: Any, schedules: Any = None, jac: Any = None, args: tuple = (), ax: Any = None,
                method: str = "newton", **options: Any):
    """Residual max|F/fscale| per iteration (log axis), one line per damping schedule.

    fun, x0, jac, args, method, ``options`` (e.g. ``max_rel_step=0.9``, ``max_iter``): as for
    ``chemsolve.solve``, which runs once per schedule (a numba-jitted ``fun`` compiles once per
    process; plain Python needs none). schedules : a dict ``{label: schedule}`` or a list of
    schedules (``Damping`` objects, names, dicts or floats, labelled by name and non-default
    parameters); default: line search, Constant(1.0), Ramp and Adaptive for Newton, Constant(1.0),
    Constant(0.5), Ramp and Adaptive for the fixed-point methods.

    Each line's y-data is ``result.history.residual_norm`` (entry 0: the start), x the iteration;
    the label ends with the status and the iteration count; a run that did not converge is dashed
    with a red cross on its last iterate. The ftol line is dotted (gid "ftol"). Returns the Axes.
    """
    from .engine import solve

    ax = _axes(ax)
    if schedules is None:
        schedules = standard_schedules(method.lower())
    if not isinstance(schedules, dict):
        schedules = {_label(s, method.lower()): s for s in schedules}
    if not schedules:
        raise InvalidInputError("schedules is empty; give at least one damping schedule (or None for the standard set)")
    for label, sched in schedules.items():
        r = solve(fun, x0, jac=jac, args=args, method=method, damping=sched, **options)
        y = r.history.residual_norm
        it = np.arange(y.size)
        ax.plot(it, y, lw=1.6, marker="o", ms=3, ls="-" if r.success else "--", gid=str(label),
                        label=f"{label}: {r.status.name}, {r.nit} it")
        if not r.success:
            ax.plot(it[-1:], y[-1:], gid="failed", **{**_FAILED, "markersize": 10})
    ax.axhline(options.get("ftol", 1e-10), color="0.5", ls=":", lw=1, gid="ftol", label="ftol")
    ax.set_yscale("log")
    ax.set_xlabel("iteration [-]")
    ax.set_ylabel("max|F/fscale| [-]" if "fscale" in options else "max|F| [units of F]")
    ax.set_title(f"{getattr(fun, '__name__', 'residual')}: {method}, one line per damping schedule", fontsize=10)
    ax.legend(fontsize=8, loc="best")
    ax.grid(alpha=0.3, which="both", lw=0.5)
    return ax


def engine_plot_options(model) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """``model.solver`` (None, a method name or a dict of ``solve`` keywords) -> method, the other
    options, and the schedules to draw: the model's own damping (if any) first, then the standard set."""
    import inspect

    from .engine import solve

    solver = model.solver
    opts = {} if solver is None else ({"method": solver} if isinstance(solver, str) else dict(solver))
    known = set(inspect.signature(solve).parameters) - {"fun", "x0", "jac", "args", "advisor", "throw"}
    extra = sorted(set(opts) - known)
    if extra:
        raise InvalidInputError(f"{getattr(model, 'path', model.name)}: solver option(s) {extra} unknown; "
                                f"chemsolve.solve takes {sorted(known)}")
    method = str(opts.pop("method", "newton")).lower()
    own = opts.pop("damping", None)
    sets = standard_schedules(method)
    if own is not None:
        sets = {f"model: {_label(own, method)}": own, **sets}
    return method, opts, sets


# ------------------------------------------------------------------------------------------- files

def _figure(size=(7.0, 4.5)):
    """A Figure on the Agg canvas, apart from pyplot's global state and the user's backend."""
    require_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, dpi=100)
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path) -> str:
    from .outfile import atomic_path

    fig.tight_layout()
    fmt = Path(path).suffix[1:].lower() or "png"  # the temporary name ends in .part: say the format
    with atomic_path(path) as tmp:  # renamed into place when complete (chemsolve.outfile)
        fig.savefig(tmp, format=fmt, dpi=100, metadata={"Software": None})  # no version stamp: same bytes each run
    return str(path)


def plot_model(model: Any, path: str | Path) -> str:
    """Draw the figure that fits ``model.kind`` and write it to ``path`` (PNG); returns the path.

    aqueous: ``bjerrum`` of C(4) (else the first component); gas: ``flame`` for fuel/oxidizer models,
    ``composition`` vs T for a model given by ``X:``; flash: the phase envelope with the states, and for a
    list of T (or P) states at one P (T) ``flash_beta_K`` beside it; engine: ``convergence`` of ``model.functions()``
    -> (fun, jac) from ``model.x0`` with ``args=(model.params,)`` and ``model.solver`` (None, a
    method name or a dict of ``solve`` keywords; its damping is drawn beside the standard set).
    """
    from .registry import kind_of

    try:
        kind = kind_of(model)
    except KeyError:
        raise InvalidInputError(f"cannot plot a model of kind {getattr(model, 'kind', None)!r}; "
                                "a model has a registered kind (chemsolve.registry)") from None
    fig = _figure()
    kind.plot_figure(model, fig)
    return _save(fig, path)


_COLUMN_LABELS = {"T_K": "T [K]", "P_Pa": "P [Pa]", "pH": "pH [-]", "ionic_strength": "I [mol/kgw]",
                  "water_activity": "a(H2O) [-]", "iterations": "iterations [-]", "residual_norm": "max|F| [-]",
                  "T": "T [K]", "P": "P [Pa]", "phi": "equivalence ratio \N{GREEK SMALL LETTER PHI} [-]",
                  "pe": "pe [-]"}
# column families of a sweep table sharing one panel: prefix -> (axis label, log scale)
_COMMON_FAMILIES = {"X_": ("mole fraction [-]", True), "m_": ("molality [mol/kgw]", True),
                    "n_": ("moles per mole of feed [-]", False), "x_": ("unknowns x [-]", False)}


def plot_columns(header: list[str], rows: list[list], path: str | Path, *, title: str = "",
                 families: dict[str, tuple[str, bool]] | None = None) -> str:
    """A sweep's table as a figure: every output column vs the first column (the swept input), one
    panel each; a family of columns (``X_*`` mole fractions, ``m_*`` molalities, ``n_*`` condensed
    amounts, ``x_*`` unknowns, and a model kind's own ``families``: {prefix: (axis label, log scale)},
    ``ModelKind.column_families``) shares one panel. Columns constant over the sweep are left out. Rows
    whose "status" is not CONVERGED are red crosses. Writes a PNG to ``path`` and returns the path."""
    fams = {**_COMMON_FAMILIES, **(families or {})}
    key = header[0]
    x = np.array([float(r[0]) for r in rows])
    ok = (np.array([r[header.index("status")] == "CONVERGED" for r in rows]) if "status" in header
          else np.ones(len(rows), bool))
    data = {}
    for k, c in enumerate(header[1:], 1):
        try:
            data[c] = np.array([float(r[k]) for r in rows])
        except (TypeError, ValueError):
            continue  # status and other text
    fam = {c: next((p for p in fams if c.startswith(p)), None) for c in data}
    varies = {c: bool(np.isfinite(v).any() and np.nanmax(v) > np.nanmin(v)) for c, v in data.items()}  # NaN: absent
    groups = [[c] for c in data if fam[c] is None and varies[c]]
    groups += [[c for c in data if fam[c] == p] for p in fams if p in fam.values()]
    if not groups:
        raise InvalidInputError(f"nothing to plot: no output column of {header} varies over the sweep")
    fig = _figure((7.0, 1.2 + 2.2 * len(groups)))
    axes = fig.subplots(len(groups), 1, sharex=True, squeeze=False)[:, 0]
    for ax, group in zip(axes, groups):
        p = fam[group[0]]
        for c in group:
            ax.plot(x, data[c], lw=1.5, label=c[len(p):] if p else None, gid=c)
            _mark_failed(ax, x, data[c], ok)
        if p:
            ax.set_ylabel(fams[p][0])
            ax.set_yscale("log" if fams[p][1] else "linear")
            ax.legend(fontsize=7, ncol=4)
        else:
            ax.set_ylabel(_COLUMN_LABELS.get(group[0], group[0]))
        ax.grid(alpha=0.3)
    axes[-1].set_xlabel(_COLUMN_LABELS.get(key, key))
    axes[0].set_title(title, fontsize=10)
    return _save(fig, path)
