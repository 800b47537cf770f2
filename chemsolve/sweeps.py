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
from .registry import kind_of
from .status import Status

__all__ = ["sweep", "grid_columns", "as_model", "resource_of"]

_RESOURCES: dict[tuple, Any] = {}  # per process: the database or the mixture of a model, loaded once


def as_model(model):
    """A loaded model: ``model`` itself, or the model file it names (``load_model``)."""
    if isinstance(model, (str, Path)):
        from .models import load_model

        return load_model(model)
    try:
        kind_of(model)
    except KeyError:
        raise InvalidInputError(f"sweep: expected a model file or a loaded model, got {type(model).__name__}") from None
    return model


def resource_of(model):
    """What the model needs besides its numbers (the database, the gas mixture; ``model.resource()``),
    loaded once per process (also in each Dask worker)."""
    key = kind_of(model).resource_key(model)
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


def _solve_block(model, cols: dict[str, np.ndarray], chunk: int, species, threads: int | None):
    """Solve one block of rows (one batch-kernel call); returns ``(status, iterations, outputs)``
    with outputs an ordered mapping column -> array. Runs in this process or in a Dask worker."""
    from .kernels import threads as numba_threads  # numba stays inside chemsolve.kernels

    prev, most = numba_threads()
    if threads:
        numba_threads(max(1, min(int(threads), most)))
    try:
        res = resource_of(model)
        n = len(next(iter(cols.values())))
        return kind_of(model).sweep_block(model, res, cols, n, chunk, species)
    finally:
        numba_threads(prev)


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

    Parameters
    ----------
    model
        a model file path or a loaded model (``chemsolve.models.load_model``).
    grid
        ``{input: 1-D values}`` (Cartesian product, first key slowest) or a DataFrame of
        inputs (its rows as given). Inputs, per model kind (``registry.get(kind).sweep_help``): gas
        ``phi``, ``T`` [K], ``P`` [Pa]; aqueous ``T`` [K], ``pH``, ``pe``, ``totals.<element>``
        [mol/kgw]; engine ``params.<name>``.
    scheduler
        None (this process, all cores) or a ``dask.distributed.Client``: each block is one
        task; the table is the same.
    chunk
        rows per warm-started chunk (the first row of each starts cold).
    block
        rows per kernel call / Dask task (a multiple of ``chunk``; default 64 chunks).
    species
        output columns to keep (gas: mole fractions ``X_<s>``; aqueous: molalities
        ``m_<s>``); default all. For 10^6 states name a few: every column is 8 MB.
    threads
        numba threads per block (default: all locally, 1 per Dask task).
    progress
        a progress bar (tqdm, on stderr) when the sweep lasts more than a second.

    Notes
    -----
    A state that did not converge keeps its row, with its ``status``; nothing is dropped. For an
    ``xarray.Dataset`` of a Cartesian grid: ``df.set_index(list(grid)).to_xarray()``.
    """
    model = as_model(model)
    if isinstance(chunk, bool) or not isinstance(chunk, (int, np.integer)) or chunk < 1:
        raise InvalidInputError(f"chunk={chunk!r}: must be an integer >= 1")
    block = int(block or 64 * chunk)
    if block < chunk or block % chunk:
        raise InvalidInputError(f"block={block}: must be a positive multiple of chunk={chunk}")
    kind = kind_of(model)
    cols = grid_columns(kind.complete_grid(model, grid))
    kind.check_sweep(model, cols)
    n = len(next(iter(cols.values())))
    sp = kind.sweep_columns(model, resource_of(model), species)
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

