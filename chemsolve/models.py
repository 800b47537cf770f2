"""Model files: load any model file (``load_model``) or solve it (``run_model``).

The file's ``kind:`` picks its model kind in ``chemsolve.registry``; the kind's loader reads the rest
with the generic machinery of ``chemsolve.modelfile`` (bounded safe reading, the line of every key,
``--set`` overrides, units). The schema of every kind is documented in ``models/README.md``.

The model classes are re-exported here: ``Model`` (aqueous, ``chemsolve.aqueous.kind.AqueousModel``),
``GasModel`` and ``EngineModel``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import registry
from .errors import InvalidInputError
from .modelfile import (
    INTERNAL,
    MAX_ALIASES,
    MAX_BYTES,
    MAX_DEPTH,
    MAX_INT_CHARS,
    MAX_NODES,
    ModelError,
    bundled_models_dir,
    read_model_file,
    resolve_model_path,
    show,
)

__all__ = ["Model", "GasModel", "EngineModel", "ModelError", "KINDS", "ENGINE_PROBLEMS", "load_model",  # noqa: F822
           "run_model", "resolve_model_path", "bundled_models_dir", "MAX_BYTES", "MAX_NODES", "MAX_ALIASES",
           "MAX_DEPTH", "MAX_INT_CHARS"]

KINDS = tuple(registry.KINDS)


def load_model(path: str | Path, overrides: dict[str, str] | None = None) -> Any:
    """Read and validate a model file (a path, or a bundled model's name such as
    "gas/hydrogen_air"); ``overrides`` are ``--set`` values ({"T": "350K"}). The file's ``kind``
    picks the loader (``chemsolve.registry``) and the returned class."""
    p = resolve_model_path(path)
    try:
        p, data, where = read_model_file(p, overrides)
        name = data.get("kind")
        try:
            kind = registry.get(name)
        except KeyError:
            raise ModelError(f"{where('kind')}: kind: {show(name)} is not supported "
                             f"(supported: {', '.join(registry.names())})") from None
        return kind.load(p, data, where)
    except InvalidInputError:
        raise
    except (ArithmeticError, LookupError, TypeError, ValueError, AttributeError, RecursionError) as e:
        # the checks should have named the culprit; a file that gets here is a bug to report (the
        # fuzzer, tests/test_fuzz_models.py, fails on this message), not a traceback for the user
        raise ModelError(f"{p}: {INTERNAL}: {type(e).__name__}: {e}") from e


def run_model(path: str | Path) -> Any:
    """Load and solve a model file; returns the result object."""
    return load_model(path).run()


def __getattr__(name: str) -> Any:
    # the model classes live with their kinds; imported on first use (import chemsolve.models stays light)
    if name == "Model":
        from .aqueous.kind import AqueousModel

        return AqueousModel
    if name == "GasModel":
        from .gas.kind import GasModel

        return GasModel
    if name in ("EngineModel", "ENGINE_PROBLEMS"):
        from . import engine_kind

        return getattr(engine_kind, name)
    raise AttributeError(f"module 'chemsolve.models' has no attribute {name!r}")
