"""Advisors: who proposes the initial guess and the damping schedule of a solve.

Every model's solve (``chemsolve.solve``, ``chemsolve.aqueous.speciate``,
``GasMixture.equilibrate``, ``chemsolve.flash.Mixture.flash``) takes ``advisor=``; the result's
``guess_source`` says whose suggestion was used and ``advice`` keeps the record (attempts, rejected
suggestions and why, advisor time, tokens).

- ``DefaultAdvisor``: the model's own physics defaults (the baseline).
- ``WarmStartAdvisor``: the solution of the nearest state solved so far.
- ``RetryLadder``: default first; on failure smaller steps, then stronger damping, then the
  other formulation (as PHREEQC retries with smaller steps and other options).
- ``RandomSearchTuner``, ``TPETuner`` (Optuna), ``CMAESTuner`` (``cmaes``), ``GPTuner`` (numpy/scipy):
  tune a damping schedule over a set of problem instances with a fixed evaluation budget; then advise
  that schedule.
- ``OpenAIAdvisor`` (``chemsolve[llm]``): a language model behind any OpenAI-compatible
  endpoint; one-shot or iterative (OPRO-style). Imported lazily: the core never imports openai.
"""

from __future__ import annotations

from typing import Any

from .base import AdviceWarning, Advisor, Suggestion, consult, damping_from_flat
from .classical import (
    CMAESTuner,
    DefaultAdvisor,
    FixedAdvisor,
    GPTuner,
    RandomSearchTuner,
    RetryLadder,
    TPETuner,
    WarmStartAdvisor,
)

__all__ = ["Advisor", "Suggestion", "AdviceWarning", "consult", "damping_from_flat", "DefaultAdvisor",
           "FixedAdvisor", "WarmStartAdvisor", "RetryLadder", "RandomSearchTuner", "TPETuner", "CMAESTuner", "GPTuner",
           "OpenAIAdvisor"]


def __getattr__(name: str) -> Any:
    if name == "OpenAIAdvisor":
        from .llm import OpenAIAdvisor  # noqa: PLC0415 - needs the optional openai package

        return OpenAIAdvisor
    raise AttributeError(name)
