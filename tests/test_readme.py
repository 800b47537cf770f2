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


def test_first_use_table_is_the_measured_one():
    """The README's first-use rows summarise benchmarks/results/first_use.md (python benchmarks/first_use.py):
    every measured command falls in its README row's range, cold and cached."""
    readme = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    measured = open(os.path.join(ROOT, "benchmarks", "results", "first_use.md"), encoding="utf-8").read()
    assert "FIRST_USE_TABLE" not in readme
    rng = r"([\d.]+)(?:-([\d.]+))?"
    rows = re.findall(rf"^\| `chemsolve ([^`]+)`(?: \(each of (\d+)\))? \| {rng} \| {rng} \|$", readme, re.M)
    got = {m[0]: (float(m[1]), float(m[2]))
           for m in re.findall(r"^\| `chemsolve (.+?)` \| ([\d.]+) \| ([\d.]+) \|", measured, re.M)}
    assert rows and got
    seen = 0
    for cmd, each, c0, c1, w0, w1 in rows:
        match = [v for k, v in got.items() if k == cmd or (cmd.endswith("/...") and k.startswith(cmd[:-3]))]
        assert len(match) == int(each or 1), (cmd, match)
        for cold, warm in match:
            assert float(c0) <= cold <= float(c1 or c0) and float(w0) <= warm <= float(w1 or w0), (cmd, cold, warm)
        seen += len(match)
    assert seen == len(got)  # every measured command is in the README
