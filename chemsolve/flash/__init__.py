"""Vapour-liquid flash of cubic-EOS mixtures (DESIGN.md section 6).

    fl = chemsolve.flash.Mixture(["methane", "ethane", "propane", "n-butane", "n-pentane"], eos="PR",
                                 kij="default")
    r = fl.flash(T=250.0, P=20e5, z=[0.5, 0.2, 0.15, 0.1, 0.05])      # also P+H, P+S, T+VF, P+VF
    r.phases, r.beta, r.x, r.y, r.K, r.Z, r.status, r.certificate
    b = fl.flash(T=T_array, P=P_array, z=Z_array, warm_start=True)     # batch, one status per row
    e = fl.envelope(z)                                                  # bubble/dew curves, critical point

Public names:

- ``Mixture`` (``mixture.py``): components, EOS (``"PR"``, ``"PR78"``, ``"SRK"``), k_ij, volume shift;
  verbs ``flash``, ``bubble_point``, ``dew_point``, ``envelope``; helpers ``lnphi``, ``wilson_K``.
- ``FlashOptions`` and the acceleration schedules ``DEM``, ``GDEM``, ``Anderson``, ``NoAcceleration``
  (``options.py``); damping schedules are ``chemsolve.damping``'s.
- ``FlashResult``, ``FlashBatch``, ``Envelope`` (``results.py``); the certificate's checks and
  tolerances (``certificate.py``: ``TOLERANCES``).
- ``Component``, ``component``, ``bundled_names`` (``components.py``): the cited component table.
- ``load_model`` (``model.py``): a ``kind: flash`` model file's mapping -> ``FlashModel``.
- ``run_bench`` (``bench.py``): chemsolve against ``thermo`` and ``thermopack`` on the same states.

Importing this package does not import numba; kernels compile (or load from the disk cache) on first use.
"""

from .certificate import TOLERANCES
from .components import Component, bundled_names, component
from .mixture import Mixture
from .model import FlashModel, load_model
from .options import DEM, GDEM, Acceleration, Anderson, FlashOptions, NoAcceleration
from .results import Envelope, FlashBatch, FlashResult

__all__ = [
    "DEM",
    "GDEM",
    "TOLERANCES",
    "Acceleration",
    "Anderson",
    "Component",
    "Envelope",
    "FlashBatch",
    "FlashModel",
    "FlashOptions",
    "FlashResult",
    "Mixture",
    "NoAcceleration",
    "bundled_names",
    "component",
    "load_model",
    "run_bench",
]


def run_bench(*args, **kwargs):
    """chemsolve's flash against thermo and thermopack; see ``chemsolve.flash.bench.run_bench``."""
    from .bench import run_bench as _run

    return _run(*args, **kwargs)
