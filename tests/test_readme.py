"""The README's two commands are the ones .ci/run executes, word for word."""

import os
import re

import pytest

pytestmark = pytest.mark.nojit
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_ci_runs_the_readme_commands():
    readme = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    ci = open(os.path.join(ROOT, ".ci", "run"), encoding="utf-8").read()
    first_block = re.search(r"```bash\n(.*?)```", readme, re.S).group(1)
    commands = [ln for ln in first_block.splitlines() if ln and not ln.startswith("#")]
    assert len(commands) == 2
    for cmd in commands:
        # .ci/run makes its own venv first, then runs the part after the venv activation
        tail = cmd.split(". .venv/bin/activate && ", 1)[1]
        assert tail in ci, f"README command not run by .ci/run: {tail}"
    assert "BENCH_" not in readme, "benchmark tables not filled in"
