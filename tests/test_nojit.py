"""Run the fast subset (marker ``nojit``) again with NUMBA_DISABLE_JIT=1: numba hides bugs
that CPython would raise (a variable bound on one branch only, an out-of-range index...).

In that mode every kernel, including ``solve_core`` and the prange batch kernel, runs as
plain Python, so this checks the kernel source itself, not only the compiled code.
"""

import os
import subprocess
import sys

import pytest


@pytest.mark.skipif(os.environ.get("NUMBA_DISABLE_JIT") == "1", reason="already running without JIT")
def test_fast_subset_without_jit():
    env = dict(os.environ, NUMBA_DISABLE_JIT="1")
    here = os.path.dirname(__file__)
    cmd = [sys.executable, "-m", "pytest", "-q", "-m", "nojit", "-p", "no:cacheprovider", here]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1200)
    tail = "\n".join(out.stdout.splitlines()[-15:])
    assert out.returncode == 0, tail + out.stderr[-2000:]
    assert " passed" in tail and "error" not in tail.lower(), tail
