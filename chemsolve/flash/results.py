"""Results of the flash model: ``FlashResult`` (one state), ``FlashBatch`` (N states, arrays) and
``Envelope`` (a phase envelope). Both state results share chemsolve's result base (``Result`` /
``BatchResultBase``): ``status``, ``message``, ``success``, ``nit``, ``guess_source``, ``advice``,
``certificate``, ``to_dict()``, ``to_frame()``; a batch adds ``counts()`` and ``row(i)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..certificate import BatchCertificate, Certificate, failed_message
from ..result import BatchResultBase, Result
from ..status import Status

__all__ = ["FLASH_MESSAGES", "Envelope", "FlashBatch", "FlashResult"]

FLASH_MESSAGES = {
    Status.CONVERGED: ("Converged and certified: material balance, equal fugacities, Rachford-Rice and "
                       "stability (no trial phase with negative tangent-plane distance) hold to their tolerances."),
    Status.MAX_ITER: ("No converged state within max_iter iterations. Try acceleration='anderson' or a "
                      "Constant(0.5) damping, a larger max_iter, or (near a critical point) max_ss=0 for "
                      "Newton from the start."),
    Status.NONFINITE: ("The equation of state had no physical root or a value became non-finite (an "
                       "extreme T or P, or a K start far from the answer); try a cold start (no K0)."),
    Status.SINGULAR: "A Newton matrix was singular at every attempt (a critical point, or identical phases).",
    Status.STAGNATED: ("The iteration reached the trivial solution (both phases equal) or left the phase "
                       "split although stability analysis found the feed unstable; for a saturation point, "
                       "there may be none at this T or P (above the cricondentherm or cricondenbar)."),
    Status.DIVERGED: "The iteration diverged; try stronger damping (Constant(0.5)) or a cold start.",
    Status.INVALID_INPUT: ("Invalid input row: T, P or a mole fraction is not finite, T or P is not positive, "
                           "or the feed is empty; nothing was solved."),
    Status.CHECK_FAILED: Status.CHECK_FAILED.message,
}


def flash_message(status: Status, cert: Certificate | None = None) -> str:
    if status == Status.CHECK_FAILED and cert is not None:
        return failed_message(cert)
    return FLASH_MESSAGES.get(status, status.message)


@dataclass(frozen=True)
class FlashResult(Result):
    """One flashed state.

    spec : "TP", "PH", "PS", "TVF" or "PVF" (what was held). T [K], P [Pa] : the state (solved T of a
        P-H, P-S or P-VF flash; solved P of a T-VF flash). z : (n,) feed mole fractions.
    phases : 1 or 2. phase : "L", "V" (one phase, by the phase identification parameter of Venkatarathnam
        & Oellrich 2011) or "LV". beta : vapour mole fraction (0 or 1 for one phase; outside [0, 1] for
        a negative-flash answer, ``FlashOptions(negative_flash=True)``).
    x, y : (n,) liquid and vapour mole fractions (NaN for an absent phase). K : (n,) y/x of a split;
        of one phase, the K of its incipient phase (from stability analysis) or Wilson's — a warm start.
    Z : (2,) compressibility factors [liquid, vapour] (NaN for an absent phase; with volume
        translation). V : (2,) molar volumes [m^3/mol]. H [J/mol], S [J/mol/K] : molar enthalpy and
        entropy (ideal gas: H = 0 at 298.15 K, S = 0 at 298.15 K and 101325 Pa; NaN without Cp data).
    nit : two-phase iterations; nstab : stability iterations; tpd_min : most negative tangent-plane
        distance the solver found; path : how the state was found ("warm", "stable", "split",
        "wilson", "saturation").
    """

    spec: str
    T: float
    P: float
    z: np.ndarray
    phases: int
    phase: str
    beta: float
    x: np.ndarray
    y: np.ndarray
    K: np.ndarray
    Z: np.ndarray
    V: np.ndarray
    H: float
    S: float
    status: Status
    nit: int
    nstab: int
    tpd_min: float
    path: str
    components: tuple[str, ...] = ()
    message: str = ""
    guess_source: str = "default"
    advice: dict | None = None
    certificate: Certificate | None = None

    def __post_init__(self) -> None:
        if not self.message:
            object.__setattr__(self, "message", flash_message(self.status, self.certificate))

    def _frame_row(self) -> dict[str, Any]:
        row = super()._frame_row()
        names = self.components or tuple(str(i) for i in range(len(self.z)))
        for arr, tag in ((self.x, "x"), (self.y, "y"), (self.K, "K"), (self.z, "z")):
            row.update({f"{tag}_{nm}": float(v) for nm, v in zip(names, arr)})
        row["Z_L"], row["Z_V"] = float(self.Z[0]), float(self.Z[1])
        return row

    def __repr__(self) -> str:
        return (f"FlashResult(status={self.status.name}, spec={self.spec}, T={self.T:.6g} K, P={self.P:.6g} Pa, "
                f"phases={self.phases} ({self.phase}), beta={self.beta:.10g})")


@dataclass(frozen=True)
class FlashBatch(BatchResultBase):
    """N flashed states as arrays (fields as ``FlashResult``'s): spec; T, P, beta, H, S, tpd_min (N,);
    phases, nit, nstab (N,) int; status (N,) int8 codes (compare with ``Status``); z, x, y, K (N, n);
    Z, V (N, 2); path (N,) codes; certificate : ``BatchCertificate``."""

    spec: str
    T: np.ndarray
    P: np.ndarray
    z: np.ndarray
    phases: np.ndarray
    beta: np.ndarray
    x: np.ndarray
    y: np.ndarray
    K: np.ndarray
    Z: np.ndarray
    V: np.ndarray
    H: np.ndarray
    S: np.ndarray
    status: np.ndarray
    nit: np.ndarray
    nstab: np.ndarray
    tpd_min: np.ndarray
    path: np.ndarray
    label: np.ndarray
    components: tuple[str, ...] = ()
    certificate: BatchCertificate | None = None
    guess_source: str = "default"
    advice: dict | None = None
    compile_note: str = field(default="", repr=False)

    @property
    def message(self) -> str:
        """One line: the counts per status, and the first failure's message."""
        c = self.counts()
        bad = np.nonzero(self.status != Status.CONVERGED)[0]
        head = ", ".join(f"{k}: {v}" for k, v in c.items())
        if len(bad) == 0:
            return f"all {len(self)} states converged and certified"
        return f"{head}; first failure row {int(bad[0])}: {self.row(int(bad[0])).message}"

    def row(self, i: int) -> FlashResult:
        """State ``i`` as a ``FlashResult``."""
        st = Status(int(self.status[i]))
        cert = self.certificate.row(i) if self.certificate is not None else None
        if cert is not None and not cert.checks:
            cert = None
        return FlashResult(self.spec, float(self.T[i]), float(self.P[i]), self.z[i].copy(), int(self.phases[i]),
                           _label(int(self.phases[i]), int(self.label[i])), float(self.beta[i]), self.x[i].copy(),
                           self.y[i].copy(), self.K[i].copy(), self.Z[i].copy(), self.V[i].copy(), float(self.H[i]),
                           float(self.S[i]), st, int(self.nit[i]), int(self.nstab[i]), float(self.tpd_min[i]),
                           PATH_NAMES.get(int(self.path[i]), "?"), self.components, "", self.guess_source,
                           self.advice, cert)

    def _frame_columns(self) -> dict[str, Any]:
        cols = super()._frame_columns()
        cols.pop("label", None)
        cols["phase"] = [_label(int(p), int(l)) for p, l in zip(self.phases, self.label)]
        cols["path"] = [PATH_NAMES.get(int(p), "?") for p in self.path]
        names = self.components or tuple(str(i) for i in range(self.z.shape[1]))
        for arr, tag in ((self.x, "x"), (self.y, "y"), (self.K, "K"), (self.z, "z")):
            cols.update({f"{tag}_{nm}": arr[:, j] for j, nm in enumerate(names)})
        cols["Z_L"], cols["Z_V"] = self.Z[:, 0], self.Z[:, 1]
        return cols


PATH_NAMES = {0: "none", 1: "warm", 2: "stable", 3: "split", 4: "wilson", 5: "saturation"}


def _label(phases: int, label: int) -> str:
    if phases == 2:
        return "LV"
    if phases != 1:
        return "?"
    return "V" if label == 1 else "L"


@dataclass(frozen=True)
class Envelope:
    """A phase envelope of one feed, traced by continuation (Michelsen 1980).

    T [K], P [Pa] : (m,) points in tracing order, from the low-pressure dew point up through the
    critical point and down the bubble curve. kind : (m,) "dew" or "bubble" (the incipient phase is
    the vapour on the bubble side, the liquid on the dew side). lnK : (m, n) ln(y/x) of each point,
    incipient over feed on the dew side's convention (K = incipient / feed for dew points).
    critical : {"T": Tc, "P": Pc} of the mixture (NaN if the curve did not pass one).
    cricondenbar, cricondentherm : {"T", "P"} of the highest pressure and temperature points.
    status : Status of the trace; message; steps : continuation steps taken.
    """

    z: np.ndarray
    T: np.ndarray
    P: np.ndarray
    kind: tuple[str, ...]
    lnK: np.ndarray
    critical: dict[str, float]
    cricondenbar: dict[str, float]
    cricondentherm: dict[str, float]
    status: Status
    message: str
    steps: int
    components: tuple[str, ...] = ()

    @property
    def success(self) -> bool:
        return self.status == Status.CONVERGED

    def to_frame(self) -> Any:
        import pandas as pd

        return pd.DataFrame({"T": self.T, "P": self.P, "kind": list(self.kind)})

    def to_dict(self) -> dict[str, Any]:
        return {"z": self.z.tolist(), "T": self.T.tolist(), "P": self.P.tolist(), "kind": list(self.kind),
                "critical": self.critical, "cricondenbar": self.cricondenbar,
                "cricondentherm": self.cricondentherm, "status": self.status.name, "message": self.message,
                "steps": self.steps, "success": self.success}

    def __repr__(self) -> str:
        c = self.critical
        crit = f"Tc={c['T']:.6g} K, Pc={c['P']:.6g} Pa" if math.isfinite(c.get("T", math.nan)) else "no critical point"
        return f"Envelope(status={self.status.name}, {len(self.T)} points, {crit})"
