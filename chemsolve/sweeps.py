"""Sweeps: a model solved over a grid of conditions, in warm-started chunks, locally or on Dask.

``sweep(model, grid)`` returns a ``pandas.DataFrame`` with one row per state: the grid's columns,
``status`` and ``iterations``, then the outputs of the model's kind (gas: ``T_K``, ``P_Pa``,
``X_<species>``, ``n_<condensed>``; aqueous: ``pH``, ``ionic_strength``, ``water_activity``,
``m_<species>``; engine: ``residual_norm``, ``x_<i>``).

How the work is split, and why both paths give the same table. The rows are cut into *chunks*
of ``chunk`` rows; the first row of a chunk starts cold and every other row starts from its
predecessor's solution (a warm start, as in a CFD table sweep). Chunks are grouped into *blocks*
of ``block`` rows (a multiple of ``chunk``); a block is one call of the model's compiled batch
kernel, whose threads share out the block's chunks. Locally the blocks run one after the other
on all cores; with ``scheduler=`` a ``dask.distributed.Client`` they run as one task each on the
cluster's workers. A row's answer depends only on its chunk, never on the block, the thread or
the machine that solved it, so the two paths return identical tables.

Grid values are in chemsolve's units: T [K], P [Pa], totals [mol/kgw], phi, pH, pe.
"""

from __future__ import annotations

import math
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from .errors import InvalidInputError
from .status import Status

__all__ = ["sweep", "grid_columns", "SWEEP_KEYS"]

SWEEP_KEYS = {
    "gas": "phi (needs fuel:/oxidizer: in the model), T [K], P [Pa]",
    "aqueous": "T [K], pH, pe, totals.<element> [mol/kgw]",
    "engine": "params.<name>",
}
_RESOURCES: dict[tuple, Any] = {}  # per process: the database or the mixture of a model, loaded once


def _load(model):
    if isinstance(model, (str, Path)):
        from .models import load_model

        return load_model(model)
    if getattr(model, "kind", None) not in SWEEP_KEYS:
        raise InvalidInputError(f"sweep: expected a model file or a loaded model, got {type(model).__name__}")
    return model


def _resource(model):
    """The model's database or gas mixture, loaded once per process (also in each Dask worker)."""
    key = (model.kind, getattr(model, "database", None), getattr(model, "mechanism", None),
           tuple(getattr(model, "condensed", ()) or ()))
    if model.kind == "engine":
        return None
    if key not in _RESOURCES:
        from .aqueous import DatabaseWarning

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DatabaseWarning)
            _RESOURCES[key] = model.resource()
    return _RESOURCES[key]


def grid_columns(grid) -> dict[str, np.ndarray]:
    """A grid as named columns of one length: a mapping of 1-D ranges is expanded to their
    Cartesian product (first key slowest, as ``numpy.meshgrid(indexing='ij')``); a
    ``pandas.DataFrame`` is taken row by row."""
    if hasattr(grid, "columns") and hasattr(grid, "to_numpy"):  # a DataFrame: its rows as given
        cols = {str(c): np.asarray(grid[c], dtype=float) for c in grid.columns}
    elif isinstance(grid, dict) and grid:
        axes = {}
        for k, v in grid.items():
            a = np.atleast_1d(np.asarray(v, dtype=float))
            if a.ndim != 1 or a.size == 0:
                raise InvalidInputError(f"grid[{k!r}]: expected a non-empty 1-D range, got shape {a.shape}")
            axes[str(k)] = a
        shape = tuple(a.size for a in axes.values())
        if math.prod(shape) > 100_000_000:
            raise InvalidInputError(f"grid of {math.prod(shape):,} states (shape {shape}); at most 100,000,000")
        mesh = np.meshgrid(*axes.values(), indexing="ij") if len(axes) > 1 else list(axes.values())
        cols = {k: np.ascontiguousarray(m.reshape(-1)) for k, m in zip(axes, mesh)}
    else:
        raise InvalidInputError("grid: expected a mapping {input: values} or a pandas DataFrame of inputs")
    for k, a in cols.items():
        bad = np.flatnonzero(~np.isfinite(a))
        if bad.size:
            raise InvalidInputError(f"grid[{k!r}][{bad[0]}] = {float(a[bad[0]])!r} is not a finite number")
    return cols


def _check_keys(model, cols: dict[str, np.ndarray]) -> None:
    kind = model.kind
    for k, a in cols.items():
        ok = False
        if kind == "gas":
            ok = k in ("T", "P") or (k == "phi" and getattr(model, "fuel", None) is not None)
            if k == "phi" and not ok:
                raise InvalidInputError(f"sweep phi: {model.path} gives X:, not fuel:/oxidizer:/phi:")
            if ok and (a <= 0).any():
                i = int(np.flatnonzero(a <= 0)[0])
                raise InvalidInputError(f"sweep {k}={a[i]:g}: must be > 0")
        elif kind == "aqueous":
            ok = k in ("T", "pH", "pe") or (k.startswith("totals.") and len(k) > 7)
            from .aqueous.speciation import T_RANGE

            if k == "T" and ((a < T_RANGE[0]) | (a > T_RANGE[1])).any():
                i = int(np.flatnonzero((a < T_RANGE[0]) | (a > T_RANGE[1]))[0])
                raise InvalidInputError(f"sweep T={a[i]:g} K: outside {T_RANGE[0]}-{T_RANGE[1]} K, the range of "
                                        "the database's log K fits")
            if k == "pH" and ((a < -2) | (a > 16)).any():
                raise InvalidInputError(f"sweep pH: values outside [-2, 16] (first {a[(a < -2) | (a > 16)][0]:g})")
            if k.startswith("totals.") and (a <= 0).any():
                raise InvalidInputError(f"sweep {k}={a[a <= 0][0]:g}: a total must be > 0 mol/kgw")
        elif kind == "engine":
            ok = k.startswith("params.") and k[7:] in tuple(model.param_names)
        if not ok:
            raise InvalidInputError(f"sweep: {k!r} cannot be swept in the {kind} model; use {SWEEP_KEYS[kind]}")


def _species_columns(model, res, species) -> list[int] | None:
    """Indices of the requested species (None: all)."""
    if species is None or model.kind == "engine":
        return None
    names = list(res.species_names) if model.kind == "gas" else None
    if names is None:
        return list(species)  # aqueous: names checked against the batch's species in the block
    out = []
    for s in species:
        if s not in names:
            raise InvalidInputError(f"species {s!r} is not in {model.mechanism}")
        out.append(names.index(s))
    return out


def _gas_feed(model, mix, phi: np.ndarray | None) -> np.ndarray:
    def vec(d):
        v = np.zeros(mix.n_species)
        for k, a in d.items():
            v[mix.species_index(k)] += a
        return v

    if phi is None:
        return vec(model.feeds[0])[None, :]
    from .models import _mix_feed

    fuel = vec(model.fuel)
    ox_at_1 = vec(_mix_feed(model.fuel, model.oxidizer, 1.0, Path(model.path), lambda *k: model.path)) - fuel
    return fuel[None, :] + ox_at_1[None, :] / phi[:, None]  # oxidizer scales as 1/phi


def _solve_block(model, cols: dict[str, np.ndarray], chunk: int, species, threads: int | None):
    """Solve one block of rows (one batch-kernel call); returns ``(status, iterations, outputs)``
    with outputs an ordered mapping column -> array. Runs in this process or in a Dask worker."""
    from .kernels import threads as numba_threads  # numba stays inside chemsolve.kernels

    prev, most = numba_threads()
    if threads:
        numba_threads(max(1, min(int(threads), most)))
    try:
        res = _resource(model)
        n = len(next(iter(cols.values())))
        if model.kind == "gas":
            return _gas_block(model, res, cols, n, chunk, species)
        if model.kind == "aqueous":
            return _aqueous_block(model, res, cols, n, chunk, species)
        return _engine_block(model, cols, n, chunk)
    finally:
        numba_threads(prev)


def _gas_block(model, mix, cols, n, chunk, species):
    X = _gas_feed(model, mix, cols.get("phi"))
    T = cols.get("T", np.full(n, model.T))
    P = cols.get("P", np.full(n, model.P))
    opts = dict(getattr(model, "solver", None) or {})
    r = mix.equilibrate(T, P, np.broadcast_to(X, (n, mix.n_species)), mode=model.mode, warm_start=True,
                        chunk=chunk, **opts)
    idx = range(mix.n_species) if species is None else species
    out = {"T_K": r.T, "P_Pa": r.P}
    out.update({f"X_{r.species_names[j]}": r.X[:, j] for j in idx})
    out.update({f"n_{c}": r.condensed[:, k] for k, c in enumerate(r.condensed_names)})
    return r.status, r.iterations, out


def _aqueous_block(model, db, cols, n, chunk, species):
    from . import aqueous

    totals = {k: np.full(n, v) for k, v in model.totals.items()}
    for k, a in cols.items():
        if k.startswith("totals."):
            totals[k[7:]] = a
    T = cols.get("T", np.full(n, model.T))
    pH = cols.get("pH", np.full(n, np.nan if model.pH is None else model.pH))
    pe = cols.get("pe", np.full(n, model.pe))
    opts = dict(getattr(model, "solver", None) or {})
    if model.equilibrium_phases or opts:  # the batch kernel has neither: state by state
        rows = [aqueous.speciate(db, {k: float(a[i]) for k, a in totals.items()}, float(T[i]),
                                 None if np.isnan(pH[i]) else float(pH[i]), float(pe[i]),
                                 equilibrium_phases=model.equilibrium_phases or None, **opts) for i in range(n)]
        names = sorted({s for r in rows for s in r.molality}) if species is None else list(species)
        out = {"pH": np.array([r.pH for r in rows]), "ionic_strength": np.array([r.ionic_strength for r in rows]),
               "water_activity": np.array([r.water_activity for r in rows])}
        for s in names:
            out[f"m_{s}"] = np.array([r.molality.get(s, 0.0) for r in rows])
        return (np.array([int(r.status) for r in rows], dtype=np.int8),
                np.array([r.nit for r in rows]), out)
    b = aqueous.speciate_batch(db, totals, T, pH, pe, warm_start=True, chunk=chunk)
    out = {"pH": b.pH, "ionic_strength": b.ionic_strength, "water_activity": b.water_activity}
    names = b.species if species is None else list(species)
    for s in names:
        if s not in b.species:
            raise InvalidInputError(f"species {s!r} is not among this water's species ({len(b.species)} species)")
        out[f"m_{s}"] = b.molality[:, b.species.index(s)]
    return b.status, b.nit, out


def _engine_block(model, cols, n, chunk):
    from .engine import solve_batch

    fun, jac = model.functions()
    params = np.tile(np.asarray(model.params, dtype=float), (n, 1))
    for j, name in enumerate(model.param_names):
        if f"params.{name}" in cols:
            params[:, j] = cols[f"params.{name}"]
    X0 = np.tile(np.asarray(model.x0, dtype=float), (n, 1))
    opts = {k: v for k, v in (model.solver or {}).items() if k != "jit"}  # a batch always runs compiled
    b = solve_batch(fun, X0, params, jac=jac, warm_start=True, chunk=chunk, **opts)
    out = {"residual_norm": b.residual_norm}
    out.update({f"x_{i}": b.x[:, i] for i in range(b.x.shape[1])})
    return b.status, b.nit, out


def _frame(cols, status, iterations, out):
    import pandas as pd

    names = [s.name for s in Status]
    df = pd.DataFrame(cols)
    df["status"] = pd.Categorical.from_codes(np.asarray(status, dtype=np.int64), categories=names)
    df["iterations"] = np.asarray(iterations, dtype=np.int64)
    for k, v in out.items():
        df[k] = np.asarray(v)
    return df


def _block_task(model, cols, chunk, species, threads):
    """What a Dask worker runs: one block, returned as a DataFrame."""
    return _frame(cols, *_solve_block(model, cols, chunk, species, threads))


def sweep(model, grid, scheduler=None, *, chunk: int = 1024, block: int | None = None,
          species: list[str] | None = None, threads: int | None = None, progress: bool = False):
    """Solve ``model`` at every point of ``grid``; one row per state, in grid order.

    model : a model file path or a loaded model (``chemsolve.models.load_model``).
    grid : ``{input: 1-D values}`` (Cartesian product, first key slowest) or a DataFrame of
        inputs (its rows as given). Inputs: gas ``phi``, ``T`` [K], ``P`` [Pa]; aqueous ``T`` [K],
        ``pH``, ``pe``, ``totals.<element>`` [mol/kgw]; engine ``params.<name>``.
    scheduler : None (this process, all cores) or a ``dask.distributed.Client``: each block is one
        task; the table is the same.
    chunk : rows per warm-started chunk (the first row of each starts cold).
    block : rows per kernel call / Dask task (a multiple of ``chunk``; default 64 chunks).
    species : output columns to keep (gas: mole fractions ``X_<s>``; aqueous: molalities
        ``m_<s>``); default all. For 10^6 states name a few: every column is 8 MB.
    threads : numba threads per block (default: all locally, 1 per Dask task).
    progress : a progress bar (tqdm, on stderr) when the sweep lasts more than a second.

    A state that did not converge keeps its row, with its ``status``; nothing is dropped. For an
    ``xarray.Dataset`` of a Cartesian grid: ``df.set_index(list(grid)).to_xarray()``.
    """
    model = _load(model)
    if isinstance(chunk, bool) or not isinstance(chunk, (int, np.integer)) or chunk < 1:
        raise InvalidInputError(f"chunk={chunk!r}: must be an integer >= 1")
    block = int(block or 64 * chunk)
    if block < chunk or block % chunk:
        raise InvalidInputError(f"block={block}: must be a positive multiple of chunk={chunk}")
    cols = grid_columns(grid)
    _check_keys(model, cols)
    n = len(next(iter(cols.values())))
    sp = _species_columns(model, _resource(model), species)
    starts = list(range(0, n, block))
    parts = [{k: a[s:s + block] for k, a in cols.items()} for s in starts]
    import pandas as pd
    from tqdm.auto import tqdm

    bar = tqdm(total=n, unit="state", unit_scale=True, delay=1.0, disable=not progress, file=sys.stderr,
               dynamic_ncols=True)
    frames: list = [None] * len(parts)
    try:
        if scheduler is None:
            for i, part in enumerate(parts):
                frames[i] = _block_task(model, part, int(chunk), sp, threads)
                bar.update(len(frames[i]))
        else:
            from distributed import as_completed

            futs = [scheduler.submit(_block_task, model, part, int(chunk), sp, threads or 1, pure=False)
                    for part in parts]
            index = {f.key: i for i, f in enumerate(futs)}
            for fut in as_completed(futs):
                i = index[fut.key]
                frames[i] = fut.result()
                bar.update(len(frames[i]))
    finally:
        bar.close()
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]

