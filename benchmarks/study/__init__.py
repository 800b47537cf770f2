"""The advisor study: does a language model beat classical tuning of initial guesses and damping?

A research harness, kept under ``benchmarks/`` rather than in the installed package: it draws generated
instance suites (``suites``), runs every advisor on them in resumable units (``runner``), records every
language-model exchange so the study re-runs without the model, and turns the stored results into the
tables, tests and figures of the report (``stats``, ``report``). The advisors it compares are the
package's own (``chemsolve.advisors``); the entry point is ``benchmarks/llm_vs_classical.py``.
"""
