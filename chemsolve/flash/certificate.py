"""The flash certificate (DESIGN.md section 3): the checks a returned state must pass to be CONVERGED.

The values are computed by ``chemsolve.kernels.flash_cert`` from the answer's T, P, feed, beta and phase
compositions alone, with its own equation-of-state code, root finder and tangent-plane minimisation
(nothing of the solver is reused). Tolerances and why:

- ``material balance`` <= 1e-12: max_i |z_i - (1 - beta) x_i - beta y_i| and |sum x - 1|, |sum y - 1|. The
  solver computes x, y from Rachford-Rice exactly; what remains is rounding (~1e-16 per term); 1e-12
  leaves four orders for sums of many components and still catches any real imbalance.
- ``fugacity`` <= 1e-8: max_i |ln f_i^L - ln f_i^V|. The solver stops at 1e-11 (``FlashOptions.tol``);
  the two EOS implementations agree to ~1e-13. 1e-8 is a relative fugacity mismatch far below any
  measurement, and it still fails a state whose compositions are off by ~1e-8 relative.
- ``Rachford-Rice`` <= 1e-10: |sum_i z_i (K_i - 1)/(1 + beta (K_i - 1))| with K = y/x — beta consistent
  with the compositions (rounding ~1e-15; a beta off by 1e-10 fails).
- ``root`` <= 1e-9: the reported Z of each phase is the lowest-Gibbs-energy mechanically stable root of
  its composition (relative difference; both codes solve the cubic to ~1e-15).
- ``stability`` <= 1e-8: no trial phase (Wilson vapour- and liquid-like, every pure component, minimised
  by successive substitution) reaches a tangent-plane distance below -1e-8 from the tested phase. The
  value is max(0, -tm_min); a negative tm of 1e-8 is a Gibbs-energy decrease of 1e-8 R T per mole of the
  trial phase, the size left by fugacities equal to ~1e-8; anything below is rounding. A trial that does
  not settle within its iterations makes the value NaN, which fails (never a silent pass).
- ``spec`` <= 1e-8: the held quantity. P-H: |H - H_spec| / max(|H_spec|, R T); P-S: |S - S_spec| /
  max(|S_spec|, R); T-VF, P-VF: |beta - VF|. The solvers stop at 1e-10 (``energy_tol``) / exactly.
"""

from __future__ import annotations

import numpy as np

from ..certificate import BatchCertificate, Certificate, Check

__all__ = ["TOLERANCES", "certify_arrays", "certify_one"]

NAMES = ("material balance", "fugacity", "Rachford-Rice", "root", "stability", "spec")
TOLERANCES = {"material balance": 1e-12, "fugacity": 1e-8, "Rachford-Rice": 1e-10, "root": 1e-9,
              "stability": 1e-8, "spec": 1e-8}
UNITS = {"material balance": "mol/mol", "fugacity": "|d ln f|", "Rachford-Rice": "", "root": "relative",
         "stability": "-tm (RT per mol)", "spec": "relative"}


def _where_names(k: str, idx: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    out = np.empty(idx.shape[0], dtype=object)
    n = len(names)
    for r, i in enumerate(idx.tolist()):
        if i < 0:
            out[r] = "sums" if k == "material balance" else ""
        elif k in ("material balance", "fugacity"):
            out[r] = names[i] if i < n else str(i)
        elif k == "root":
            out[r] = "liquid" if i == 0 else "vapour"
        elif k == "stability":
            out[r] = ("Wilson vapour-like trial" if i == 0 else "Wilson liquid-like trial" if i == 1
                      else f"pure {names[i - 2]} trial" if i - 2 < n else f"trial {i}")
        else:
            out[r] = ""
    return out


def _raw(spec_code: int, target: np.ndarray, T: np.ndarray, P: np.ndarray, Z: np.ndarray, X: np.ndarray,
         Y: np.ndarray, st: np.ndarray, status: np.ndarray, comp: np.ndarray, kij: np.ndarray,
         eosp: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from ..kernels import flash_cert as fc
    from .parallel import run_rows

    nrow = T.shape[0]
    vals = np.full((nrow, fc.N_CK), np.nan)
    where = np.full((nrow, fc.N_CK), -1, dtype=np.int64)
    checked = np.zeros(nrow, dtype=np.bool_)
    from ..kernels import first_use

    with first_use("the flash certificate", fc.certify_rows):
        run_rows(fc.certify_rows, nrow, None, int(spec_code), np.ascontiguousarray(target, dtype=np.float64), T, P, Z,
                 X, Y, st, status, comp, kij, eosp, vals, where, checked)
    return vals, where, checked


def certify_one(spec_code: int, target: float, T: float, P: float, z: np.ndarray, x: np.ndarray, y: np.ndarray,
                st: np.ndarray, status: int, comp: np.ndarray, kij: np.ndarray, eosp: np.ndarray,
                names: tuple[str, ...]) -> tuple[Certificate | None, int]:
    """The certificate of one state (None when the solver did not converge) and its status (CHECK_FAILED
    when refused)."""
    from ..kernels import codes as _c

    vals, where, checked = _raw(spec_code, np.array([target]), np.array([T]), np.array([P]), z[None, :], x[None, :],
                                y[None, :], st[None, :], np.array([status], dtype=np.int8), comp, kij, eosp)
    if not checked[0]:
        return None, status
    cert = Certificate({k: Check(float(vals[0, j]), TOLERANCES[k], UNITS[k],
                                 str(_where_names(k, where[:1, j], names)[0]))
                        for j, k in enumerate(NAMES)}, "flash")
    return cert, (status if cert.passed else _c.CHECK_FAILED)


def certify_arrays(spec_code: int, target: np.ndarray, T: np.ndarray, P: np.ndarray, Z: np.ndarray,
                   X: np.ndarray, Y: np.ndarray, st: np.ndarray, status: np.ndarray, comp: np.ndarray,
                   kij: np.ndarray, eosp: np.ndarray, names: tuple[str, ...]) -> tuple[BatchCertificate, np.ndarray]:
    """Certify the converged rows (on as many threads as numba's setting allows); returns the
    BatchCertificate and the status with refused rows set to CHECK_FAILED."""
    from ..kernels import codes as _c

    vals, where, checked = _raw(spec_code, target, T, P, Z, X, Y, st, status, comp, kij, eosp)
    values = {k: vals[:, j].copy() for j, k in enumerate(NAMES)}
    wh = {k: _where_names(k, where[:, j], names) for j, k in enumerate(NAMES)}
    cert = BatchCertificate(values, dict(TOLERANCES), wh, dict(UNITS), checked.copy(), "flash")
    new = status.copy()
    refused = checked & ~cert.passed
    new[refused] = _c.CHECK_FAILED
    return cert, new
