"""The model kinds: one registration each, and what the package's generic tools ask of a kind.

A model kind (``engine``, ``aqueous``, ``gas``, ...) lives in its own folder or module, which defines
``KIND``, an instance of a ``ModelKind`` subclass: how its model files are loaded, what a sweep may
vary and how a block of rows is solved, how ``chemsolve run`` reports a result, which figure fits it,
and what advisors may propose for it. The command line, model files, sweeps, plots, bench and
advisors ask the registry for the kind of a model (``kind_of(model)``) or of an advisor's summary
(``get(summary["kind"])``) instead of testing kind names.

Adding a model kind touches its own folder plus the one line that registers it in ``KINDS``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["KINDS", "ModelKind", "get", "kind_of", "names"]

# one registration per model kind: its name -> the module that defines KIND (imported on first use)
KINDS: dict[str, str] = {
    "aqueous": "chemsolve.aqueous.kind",
    "gas": "chemsolve.gas.kind",
    "engine": "chemsolve.engine_kind",
    "flash": "chemsolve.flash.kind",
}


class ModelKind:
    """What a model kind provides. Subclass it in the kind's module and set ``KIND = YourKind()``.

    Class attributes
    ----------------
    name : the ``kind:`` of its model files.
    about : one line, for listings.
    keys : {top-level key of a model file: required?}, the common keys included.
    sweep_help : what ``chemsolve sweep`` may vary, for messages (e.g. "T [K], pH").
    amount_prefix : the prefix of the amount columns of its sweep tables ("X_", "m_"), or None.
    damping_types : the damping schedule types an advisor may propose (``advisors.FLAT_DAMPING_TYPES``).
    column_families : {prefix of sweep output columns: (axis label, log scale)} for the kind's own column
        families in a sweep's figure (``plots.plot_columns``), beside the common ones.
    bench_suite : the kind's own ``chemsolve bench`` suite, or None: ("module:function", default size,
        peer module, one line); the function takes (n, peer version or None, log) and returns a
        ``chemsolve.bench.Report`` (``chemsolve.bench.suites`` lists it beside the built-in ones).
    """

    name: str = ""
    about: str = ""
    keys: dict[str, bool] = {}
    sweep_help: str = ""
    amount_prefix: str | None = None
    damping_types: tuple[str, ...] = ("constant", "ramp", "adaptive", "linesearch")
    column_families: dict[str, tuple[str, bool]] = {}
    bench_suite: tuple[str, int, str, str] | None = None

    # -- model files
    def load(self, path: Path, data: dict, where: Callable[..., str]) -> Any:
        """The validated model of a file's parsed ``data`` (``where(*key)`` names file and line)."""
        raise NotImplementedError

    def resource_key(self, model: Any) -> tuple:
        """Models with equal keys share one loaded ``model.resource()`` per process (sweeps, workers)."""
        return (self.name, getattr(model, "path", None))

    # -- sweeps (chemsolve.sweeps)
    def complete_grid(self, model: Any, grid: Any) -> Any:
        """The grid a sweep of ``model`` runs: ``grid`` plus any range the model file itself sweeps and
        the grid leaves out (so that no range of the file is silently dropped)."""
        return grid

    def check_sweep(self, model: Any, cols: dict[str, Any]) -> None:
        """Refuse an input that cannot be swept, or values outside its range (InvalidInputError)."""
        raise NotImplementedError

    def sweep_block(self, model: Any, resource: Any, cols: dict[str, Any], n: int, chunk: int,
                    columns: list | None) -> tuple[Any, Any, dict[str, Any]]:
        """Solve one block of ``n`` sweep rows (warm-started chunks of ``chunk``): returns
        (status codes (n,), iterations (n,), {output column: (n,) array})."""
        raise NotImplementedError

    def sweep_columns(self, model: Any, resource: Any, species: list[str] | None) -> list | None:
        """The amount columns a sweep keeps for the requested ``species`` (None: all)."""
        return None

    # -- command line (chemsolve run)
    def report(self, model: Any, result: Any, fmt: str, out: Any) -> int:
        """Print ``result`` of ``model`` as ``fmt`` (table, json, csv or parquet) to ``out``; return
        the exit code (0 converged, 1 not; the reason on stderr)."""
        raise NotImplementedError

    # -- plots (chemsolve.plots.plot_model)
    def plot(self, model: Any, ax: Any) -> None:
        """Draw the figure that fits ``model`` on the matplotlib axes ``ax``."""
        raise NotImplementedError

    def plot_figure(self, model: Any, fig: Any) -> None:
        """Draw the figure of ``model`` on the matplotlib Figure ``fig`` (``plots.plot_model``): one panel,
        ``plot``, unless the kind's figure has several."""
        self.plot(model, fig.add_subplot())

    # -- advisors
    def retry_rungs(self, summary: dict[str, Any]) -> list:
        """The PHREEQC-style rungs of ``advisors.RetryLadder`` for this kind (Suggestions)."""
        return []

    def guess_schema(self, summary: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
        """JSON schema of an LLM's initial guess for this problem, and its explanation."""
        return None, "'guess': null (this problem needs no guess)."

    # -- first use (chemsolve warmup)
    def warmup(self) -> str:
        """Compile (or load from the disk cache) every kernel of this kind by solving a tiny case;
        returns what was done, one line."""
        return "nothing to compile"

    def __repr__(self) -> str:
        return f"<model kind {self.name!r}>"


def names() -> list[str]:
    """The registered kinds, in registration order."""
    return list(KINDS)


def get(name: Any) -> ModelKind:
    """The registered kind called ``name``; KeyError if there is none."""
    if not isinstance(name, str) or name not in KINDS:
        raise KeyError(name)
    return importlib.import_module(KINDS[name]).KIND


def kind_of(model: Any) -> ModelKind:
    """The kind of a loaded model (its ``kind`` attribute)."""
    return get(getattr(model, "kind", None))
