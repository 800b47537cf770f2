"""``chemsolve run input.pqi``: a PHREEQC input file through the command line (issue 14, item 4), as a
user drives it: a subprocess, its outputs parsed and compared live with IPhreeqc (the PyPI ``phreeqc``
package) on the same input text and database file; exit codes and one-line errors."""

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from chemsolve.aqueous.phreeqc_input import looks_like_phreeqc_input

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "tests" / "data" / "phreeqc_examples"

# a water at a CO2 partial pressure with calcite and dolomite, three temperatures, and a SELECTED_OUTPUT
INPUT = """# calcite and dolomite in CO2-charged water
TITLE carbonates at three temperatures
SOLUTION 1
  units mmol/kgw
  temp 25
  pH 7 charge
  Na 2
  Cl 2
  Mg 0.5
  Ca 1
  C(4) 3
EQUILIBRIUM_PHASES 1
  Calcite 0 10
  Dolomite 0 1
  CO2(g) -2.5 10
REACTION_TEMPERATURE 1
  10 40 70
SELECTED_OUTPUT 1
  -temperature
  -si Calcite Dolomite
END
"""
TOL_LOG = 1e-5  # pH and SI: the agreement with PHREEQC (chemsolve.aqueous.compare.TOL_LOG)
TOL_REL = 1e-6  # phase moles and mass of water, relative: the same issue's criterion


def cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "chemsolve.cli", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=600, env={**os.environ, "PYTHONPATH": str(ROOT)})


def _peer(text, database="phreeqc.dat"):
    pytest.importorskip("phreeqc")
    from chemsolve.aqueous.peer import IPhreeqcPeer

    steps = IPhreeqcPeer(database).run(text)
    assert steps is not None, "IPhreeqc failed on the test input"
    return steps


@pytest.mark.parametrize("database", [None, "wateq4f.dat"])
def test_json_csv_and_table_agree_with_iphreeqc(tmp_path, database):
    src = tmp_path / "carbonates.pqi"
    src.write_text(INPUT)
    db = ["--database", database] if database else []
    peer = _peer(INPUT, database or "phreeqc.dat")
    assert [s.state for s in peer] == ["i_soln", "react", "react", "react"]

    out = cli("run", str(src), "--format", "json", *db)
    assert out.returncode == 0 and out.stderr == "", out.stderr
    d = json.loads(out.stdout)
    assert Path(d["database"]).name == (database or "phreeqc.dat") and d["stopped"] == ""
    steps = d["steps"]
    assert [(s["sim"], s["state"], s["soln"]) for s in steps] == [(p.sim, p.state, p.soln) for p in peer]
    for s, p in zip(steps, peer):
        where = f"{s['state']} step {s['step']}"
        assert s["status"] == "CONVERGED", where
        assert abs(s["pH"] - p.pH) <= TOL_LOG, (where, s["pH"], p.pH)
        assert abs(s["temp_C"] - p.tc) < 1e-9, where
        assert abs(s["mass_H2O"] - p.water_mass) <= TOL_REL * p.water_mass, where
        for ph in ("Calcite", "Dolomite"):
            assert abs(s["si"][ph] - p.saturation_index[ph]) <= TOL_LOG, (where, ph)
        if s["state"] == "react":
            assert set(s["phase_moles"]) == set(p.phase_moles), where
            for ph, m in p.phase_moles.items():
                ours = s["phase_moles"][ph]
                assert abs(ours - m) <= TOL_REL * max(abs(m), 1e-12), (where, ph, ours, m)
    # SELECTED_OUTPUT 1: a row per calculation, its columns as the block asks for them
    sel = d["selected_output"]["1"]
    assert [r["pH"] for r in sel] == [s["pH"] for s in steps]
    assert [r["si_Calcite"] for r in sel] == [s["si"]["Calcite"] for s in steps]

    # CSV: the same numbers, written exactly (repr)
    dest = tmp_path / "out.csv"
    out = cli("run", str(src), "--format", "csv", "--output", str(dest), *db)
    assert out.returncode == 0 and out.stdout == "" and out.stderr == "", out.stderr
    rows = list(csv.DictReader(io.StringIO(dest.read_text())))
    assert len(rows) == len(steps)
    for r, s in zip(rows, steps):
        assert float(r["pH"]) == s["pH"] and float(r["si_Dolomite"]) == s["si"]["Dolomite"]
        assert r["status"] == "CONVERGED" and r["state"] == s["state"]
        if s["state"] == "react":
            assert float(r["eq_Calcite"]) == s["phase_moles"]["Calcite"]
    assert sorted(os.listdir(tmp_path)) == ["carbonates.pqi", "out.csv"]  # no temporary file left

    # the default table: one row per calculation, pH to 6 decimals, the assemblage's SI and moles
    out = cli("run", str(src), *db)
    assert out.returncode == 0 and out.stderr == "", out.stderr
    lines = out.stdout.splitlines()
    head = lines[1].split()
    assert head[:7] == ["sim", "state", "soln", "step", "status", "T", "[C]"] and "mol Dolomite" in lines[1]
    body = lines[3:3 + len(steps)]
    for ln, s in zip(body, steps):
        cells = ln.split()
        assert cells[1] == s["state"] and cells[4] == "CONVERGED"
        assert cells[6] == f"{s['pH']:.6f}"
    assert "SELECTED_OUTPUT 1" in out.stdout


def test_a_refused_block_exits_2_naming_file_and_line_and_writes_nothing(tmp_path):
    src = tmp_path / "kin.pqi"
    src.write_text("SOLUTION 1\n pH 7\nEND\nSOLUTION 2\n Na 1\n Cl 1\nKINETICS 1\n Calcite\nEND\n")
    dest = tmp_path / "out.json"
    dest.write_text("an earlier result\n")
    out = cli("run", str(src), "--format", "json", "--output", str(dest))
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.count("\n") == 1 and f"error: {src}:7: KINETICS is not supported" in out.stderr, out.stderr
    assert dest.read_text() == "an earlier result\n"  # untouched by a failed run
    assert sorted(os.listdir(tmp_path)) == ["kin.pqi", "out.json"]  # no temporary file left
    # a bad value names its line too
    src.write_text("SOLUTION 1\n units mmol/kgw\n Na abc\nEND\n")
    out = cli("run", str(src))
    assert out.returncode == 2 and out.stderr.startswith(f"error: {src}:3: ") and out.stderr.count("\n") == 1, \
        out.stderr


@pytest.mark.parametrize("args, culprit", [
    (["--database", "nope.dat"], "error: --database nope.dat: database 'nope.dat' not found"),
    (["--set", "pH=7"], "error: --set does not apply to a PHREEQC input"),
    (["--plot", "x.png"], "error: --plot does not apply to a PHREEQC input"),
    (["--format", "parquet", "--output", "x.parquet"], "error: --format parquet: a PHREEQC input"),
])
def test_options_that_do_not_apply_exit_2_naming_them(tmp_path, args, culprit):
    src = tmp_path / "w.pqi"
    src.write_text("SOLUTION 1\n Na 1\n Cl 1\nEND\n")
    out = cli("run", str(src), *args, cwd=tmp_path)
    assert out.returncode == 2 and out.stdout == "" and out.stderr.count("\n") == 1, out.stderr
    assert out.stderr.startswith(culprit), out.stderr
    assert sorted(os.listdir(tmp_path)) == ["w.pqi"]


def test_database_line_and_database_option_on_a_model_file_exit_2(tmp_path):
    src = tmp_path / "db.pqi"
    src.write_text("# my input\nDATABASE C:\\phreeqc\\database\\phreeqc.dat\nSOLUTION 1\nEND\n")
    out = cli("run", str(src))
    assert out.returncode == 2 and out.stderr.startswith(f"error: {src}:2: DATABASE is not read") \
        and "--database" in out.stderr, out.stderr
    out = cli("run", "engine/propane", "--database", "phreeqc.dat")
    assert out.returncode == 2 and out.stderr.startswith("error: --database is for PHREEQC inputs"), out.stderr


def test_a_calculation_that_does_not_converge_exits_1_after_writing_those_done(tmp_path):
    """Cl by charge balance against 20 meq/kgw of sulfate and 1 of sodium would need a negative
    amount of Cl: PHREEQC fails on it too (checked). The run stops there, as PHREEQC's."""
    text = ("SOLUTION 1\n units mmol/kgw\n Na 1\n Cl 1\nEND\n"
            "SOLUTION 2\n units mmol/kgw\n Na 1\n S(6) 10\n Cl 1 charge\nEND\n"
            "SOLUTION 3\n units mmol/kgw\n Na 1\n Cl 1\nEND\n")
    pytest.importorskip("phreeqc")
    from chemsolve.aqueous.peer import IPhreeqcPeer

    peer = IPhreeqcPeer("phreeqc.dat")
    assert peer.run(text) is None and "S(6) has not converged" in peer.error
    src = tmp_path / "neg.pqi"
    src.write_text(text)
    dest = tmp_path / "out.json"
    out = cli("run", str(src), "--format", "json", "--output", str(dest))
    assert out.returncode == 1, out.stderr
    assert out.stderr.count("\n") == 1 and out.stderr.startswith(f"error: {src}:6: simulation 2, initial solution 2"), \
        out.stderr
    d = json.loads(dest.read_text())
    assert [s["status"] for s in d["steps"]][0] == "CONVERGED" and len(d["steps"]) == 2
    assert d["steps"][1]["status"] != "CONVERGED" and d["stopped"]


def test_which_files_are_phreeqc_inputs(tmp_path):
    for f in sorted(EXAMPLES.glob("*.pqi")):
        assert looks_like_phreeqc_input(f), f
    for f in sorted((ROOT / "models").rglob("*.yaml")):
        assert not looks_like_phreeqc_input(f), f
    txt = tmp_path / "input.txt"
    txt.write_text("# a comment\n\n   # another\nTITLE a water\nSOLUTION 1\nEND\n")
    assert looks_like_phreeqc_input(txt)
    txt.write_text("; \n  solution 1 ; pH 7\n")  # keywords are case-insensitive, ';' separates
    assert looks_like_phreeqc_input(txt)
    yml = tmp_path / "model"  # a model file without a suffix is still a model file
    yml.write_text("# a model\nkind: engine\nname: x\n")
    assert not looks_like_phreeqc_input(yml)
    yml.write_text("-solution 1\n")  # an option is no keyword
    assert not looks_like_phreeqc_input(yml)
    assert not looks_like_phreeqc_input(tmp_path / "missing") and looks_like_phreeqc_input(tmp_path / "missing.pqi")
    assert not looks_like_phreeqc_input("aqueous/seawater")  # a bundled model's name


# -- the docs -----------------------------------------------------------------------------------------

DOC_PAGES = ["docs/guide/aqueous.md", "docs/guide/quickstart.md", "docs/guide/phreeqc_examples.md"]


def _doc_commands():
    """Every ``chemsolve run ... .pqi`` line of the bash blocks of the pages that show one."""
    import re

    cmds = []
    for page in DOC_PAGES:
        for block in re.findall(r"```bash\n(.*?)```", (ROOT / page).read_text(encoding="utf-8"), re.S):
            for ln in block.splitlines():
                cmd = ln.split("#", 1)[0].split()
                if cmd[:2] == ["chemsolve", "run"] and any(a.endswith(".pqi") for a in cmd):
                    cmds.append((page, cmd[2:]))
    return cmds


def test_the_docs_commands_run(tmp_path):
    """As written, from a checkout (the examples are in tests/data): exit 0, output where it says."""
    cmds = _doc_commands()
    assert {p for p, _ in cmds} == set(DOC_PAGES) and len(cmds) >= 5
    (tmp_path / "tests").symlink_to(ROOT / "tests")  # a copy of the checkout's layout; outputs land here
    for page, args in cmds:
        out = cli("run", *args, cwd=tmp_path)
        assert out.returncode == 0, (page, args, out.stderr)
        if "-o" in args:
            dest = tmp_path / args[args.index("-o") + 1]
            assert dest.stat().st_size > 0 and (out.stdout == ""), (page, args)
        else:
            assert "CONVERGED" in out.stdout, (page, args)


def test_the_docs_example_table_lists_exactly_the_examples():
    """docs/guide/phreeqc_examples.md's table (python -m chemsolve.aqueous.compare --markdown) has one
    row per input of tests/data/phreeqc_examples, no more, no less; the live comparison behind it is
    tests/test_phreeqc_examples.py."""
    import re

    text = (ROOT / "docs" / "guide" / "phreeqc_examples.md").read_text(encoding="utf-8")
    table = text.split("<!-- phreeqc-examples:begin", 1)[1].split("<!-- phreeqc-examples:end -->", 1)[0]
    first = table.split("\n\n")[1]  # the per-input table (the distribution table comes after)
    assert first.startswith("| input | steps |")
    names = re.findall(r"^\| ([\w.-]+) \| (\d+) \|", first, re.M)
    assert sorted(n for n, _ in names) == sorted(p.stem for p in EXAMPLES.glob("*.pqi"))
    assert all(int(k) > 0 for _, k in names)
    idx = (ROOT / "docs" / "index.md").read_text(encoding="utf-8")
    assert "guide/phreeqc_examples" in idx  # in the site's table of contents
