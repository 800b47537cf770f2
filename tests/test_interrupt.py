"""Ctrl-C, as a user sends it: a subprocess gets SIGINT at chosen moments — while numba compiles
the kernels on a cold cache, while a sweep solves, while it writes a big CSV to a file or to
stdout. Every time: exit status 130, one line on stderr, no traceback, and no output file that
looks complete (an existing file is left as it was; no temporary file is left behind).

The moments are chosen by what the process shows, not by timing: numba's own cache log
(``NUMBA_DEBUG_CACHE``) says which kernel it has just compiled; the temporary output file
(``.<name>.<random>.part``) shows that writing has begun.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import threading
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ONE_LINE = "chemsolve: interrupted\n"


def _child_setup():
    # the child must see Ctrl-C as a terminal would send it, even when pytest itself runs in the
    # background (where SIGINT is ignored and the child would inherit that)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    resource.setrlimit(resource.RLIMIT_AS, (8 << 30, 8 << 30))


def interrupt(args, when, env=None, cwd=ROOT, timeout=900):
    """Run ``chemsolve *args``; as soon as ``when(out_lines)`` is true send SIGINT. Returns
    (returncode, stdout, stderr, fired): ``fired`` is False if the process ended first."""
    p = subprocess.Popen([sys.executable, "-m", "chemsolve.cli", *args], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, cwd=cwd, preexec_fn=_child_setup,
                         env={**os.environ, "PYTHONPATH": ROOT, "PYTHONUNBUFFERED": "1", **(env or {})})
    out: list[str] = []
    err: list[str] = []
    readers = [threading.Thread(target=lambda s=s, acc=acc: acc.extend(s), daemon=True)
               for s, acc in ((p.stdout, out), (p.stderr, err))]
    for r in readers:
        r.start()
    fired = False
    deadline = time.monotonic() + timeout
    while p.poll() is None and time.monotonic() < deadline:
        if when(out):
            p.send_signal(signal.SIGINT)
            fired = True
            break
        time.sleep(0.02)
    try:
        p.wait(timeout=300)
    finally:
        if p.poll() is None:
            p.kill()
    for r in readers:
        r.join(timeout=60)
    return p.returncode, "".join(out), "".join(err), fired


def _parts(folder) -> list[str]:
    return [f for f in os.listdir(folder) if f.endswith(".part")]


def _writing(path):
    """True once the temporary file next to ``path`` holds some bytes (writing has begun)."""
    folder, name = os.path.split(path)

    def check(_out):
        for f in os.listdir(folder):
            if f.startswith(f".{name}.") and f.endswith(".part") and os.path.getsize(os.path.join(folder, f)) > 0:
                return True
        return False

    return check


@pytest.mark.slow  # a cold numba cache: compiles for tens of seconds
@pytest.mark.parametrize("kernels", [1, 8, 20])
def test_ctrl_c_while_numba_compiles_on_a_cold_cache(tmp_path, kernels):
    """A cold NUMBA_CACHE_DIR: the aqueous batch kernels take ~30 s to compile on a 2-core machine.
    SIGINT after the first, the 8th, the 20th compiled function — before the batch kernel itself."""
    dest = tmp_path / "out.csv"
    dest.write_text("old\n")
    cache = tmp_path / "numba_cache"
    saved = lambda out: sum("[cache] data saved" in ln for ln in out)  # noqa: E731
    code, out, err, fired = interrupt(
        ["sweep", "aqueous/seawater", "--sweep", "T=280,290,300", "--format", "csv", "--output", str(dest), "-q"],
        lambda out: saved(out) >= kernels, env={"NUMBA_CACHE_DIR": str(cache), "NUMBA_DEBUG_CACHE": "1"})
    assert fired, "the process ended before the moment chosen"
    assert (code, err) == (130, ONE_LINE), err
    assert "speciate_batch" not in out  # it was stopped inside the compilation
    assert dest.read_text() == "old\n" and _parts(tmp_path) == []


def test_ctrl_c_while_a_sweep_writes_a_big_csv_leaves_no_file(tmp_path):
    """~370,000 rows (40 MB of CSV, seconds to write): SIGINT once the temporary file has bytes."""
    dest = tmp_path / "big.csv"
    code, out, err, fired = interrupt(
        ["sweep", "engine/propane", "--sweep", "params.R=3:40:0.0002", "--sweep", "params.P=10,100",
         "--format", "csv", "--output", str(dest), "-q"], _writing(dest))
    assert fired, "the sweep finished before it was interrupted"
    assert (code, err) == (130, ONE_LINE), err
    assert not dest.exists() and _parts(tmp_path) == []


def test_ctrl_c_while_a_sweep_solves_keeps_the_old_output(tmp_path):
    dest = tmp_path / "big.parquet"
    pytest.importorskip("pyarrow")
    dest.write_bytes(b"an earlier result")
    started = []

    def soon(out):  # numba has loaded its first kernel from the cache; a second more: compiling or solving
        if not started and any("[cache]" in ln for ln in out):
            started.append(time.monotonic())
        return bool(started) and time.monotonic() - started[0] > 1.0

    code, out, err, fired = interrupt(
        ["sweep", "engine/propane", "--sweep", "params.R=3:40:0.0002", "--sweep", "params.P=10,100",
         "--format", "parquet", "--output", str(dest), "-q"], soon, env={"NUMBA_DEBUG_CACHE": "1"})
    assert fired and (code, err) == (130, ONE_LINE), err
    assert dest.read_bytes() == b"an earlier result" and _parts(tmp_path) == []


def test_ctrl_c_while_printing_a_csv_to_stdout():
    code, out, err, fired = interrupt(
        ["sweep", "engine/propane", "--sweep", "params.R=3:40:0.0002", "--sweep", "params.P=10,100",
         "--format", "csv", "-q"], lambda out: len(out) > 1000)
    assert fired and (code, err) == (130, ONE_LINE), err
    assert out.startswith("params.R,params.P,status,")


def test_ctrl_c_while_a_phreeqc_input_runs_keeps_the_old_output(tmp_path):
    """``chemsolve run input.pqi --output FILE``: the temporary file is opened before the run (a
    bad destination is reported before any work); SIGINT as soon as it exists, while the database
    loads or the 2,000 reaction steps are solved."""
    src = tmp_path / "long.pqi"
    src.write_text("SOLUTION 1\n units mmol/kgw\n Na 1\n Cl 1\n C(4) 2 CO2(g) -3.5\nEQUILIBRIUM_PHASES 1\n"
                   " Calcite 0 10\n Dolomite 0 1\nREACTION 1\n NaCl 1\n 0.5 moles in 2000 steps\nEND\n")
    dest = tmp_path / "out.csv"
    dest.write_text("old\n")

    def opened(_out):
        return any(f.startswith(".out.csv.") for f in os.listdir(tmp_path))

    code, out, err, fired = interrupt(["run", str(src), "--format", "csv", "--output", str(dest), "-q"], opened)
    assert fired, "the run ended before it was interrupted"
    assert (code, err) == (130, ONE_LINE), err
    assert dest.read_text() == "old\n" and _parts(tmp_path) == []
