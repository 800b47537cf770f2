"""The advisor study (benchmarks/llm_vs_classical.py) runs end to end; here with the classical
advisors only, one seed, a small budget and the gas and aqueous suites (the README's full run adds
the local language model, three seeds and the engine suite)."""

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_study_runs_end_to_end(tmp_path):
    pytest.importorskip("cantera")
    pytest.importorskip("optuna")
    pytest.importorskip("matplotlib")
    out = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "llm_vs_classical.py"), "--no-llm",
                          "--seeds", "1", "--budget", "3", "--suites", "gas,aqueous", "--out", str(tmp_path)],
                         capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-2000:]
    md = (tmp_path / "llm_vs_classical.md").read_text()
    for name in ("defaults", "warm start", "retry ladder", "random search", "TPE (Optuna)"):
        assert f"| gas | {name} |" in md and f"| aqueous | {name} |" in md
    assert (tmp_path / "llm_vs_classical.png").stat().st_size > 10_000
    data = json.loads((tmp_path / "llm_vs_classical.json").read_text())
    rows = [r for r in data["summary"] if r["advisor"] == "defaults"]
    assert all(0.0 <= r["success"] <= 1.0 for r in rows) and len(rows) == 2
