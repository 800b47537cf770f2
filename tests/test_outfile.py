"""chemsolve.outfile: a file is written whole or not at all."""

from __future__ import annotations

import os
import stat

import pytest

from chemsolve.outfile import atomic_open, atomic_path

pytestmark = pytest.mark.nojit


def test_a_complete_write_replaces_the_file_with_the_usual_permissions(tmp_path):
    dest = tmp_path / "a.csv"
    dest.write_text("old\n")
    with atomic_open(dest) as f:
        f.write("x,y\n")
        parts = [p for p in os.listdir(tmp_path) if p.endswith(".part")]
        assert len(parts) == 1 and parts[0].startswith(".a.csv.")  # hidden, not named like the result
        assert dest.read_text() == "old\n"  # not yet
    assert dest.read_text() == "x,y\n" and os.listdir(tmp_path) == ["a.csv"]
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(dest.stat().st_mode) == 0o666 & ~umask  # as open() would have made it


@pytest.mark.parametrize("error", [KeyboardInterrupt, OSError, ValueError])
def test_an_interrupted_write_leaves_the_old_file_and_no_temporary(tmp_path, error):
    dest = tmp_path / "a.csv"
    dest.write_text("old\n")
    with pytest.raises(error):
        with atomic_open(dest) as f:
            f.write("half a row")
            raise error("stop")
    with pytest.raises(error):
        with atomic_path(tmp_path / "b.parquet") as tmp:
            open(tmp, "wb").write(b"PAR1")
            raise error("stop")
    assert os.listdir(tmp_path) == ["a.csv"] and dest.read_text() == "old\n"


def test_devices_are_written_in_place_and_links_followed(tmp_path):
    with atomic_open(os.devnull) as f:  # a device cannot be renamed over: written directly
        f.write("nothing\n")
    assert os.path.exists(os.devnull) and not stat.S_ISREG(os.stat(os.devnull).st_mode)
    target = tmp_path / "real.json"
    target.write_text("{}")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    with atomic_path(link) as tmp:
        with open(tmp, "w") as f:
            f.write("[1]")
    assert link.is_symlink() and target.read_text() == "[1]"
    with pytest.raises(ValueError, match="mode"):
        with atomic_open(tmp_path / "x", mode="a"):
            pass


def test_an_unwritable_destination_is_named_not_its_temporary(tmp_path):
    with pytest.raises(FileNotFoundError) as e:
        with atomic_open(tmp_path / "no" / "such" / "out.csv"):
            pass
    assert e.value.filename == str(tmp_path / "no" / "such" / "out.csv")
