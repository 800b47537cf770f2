"""Output files written whole or not at all.

Every file chemsolve writes (CSV, JSON, Parquet, figures, bench reports) is written to a
temporary name in the destination's folder — ``.<name>.<random>.part``, hidden, and not ending
in the destination's suffix — and renamed over the destination only once complete. A run that is
interrupted (Ctrl-C, an error, a full disk) removes the temporary file and leaves the
destination as it was: no file that looks complete but is cut off at a row boundary.

The rename is atomic on POSIX and on Windows (``os.replace``) because both names are in one
folder. A destination that exists and is not a regular file (``/dev/stdout``, a FIFO) cannot be
replaced: it is written in place. A symbolic link is followed: its target is replaced.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import IO

__all__ = ["atomic_path", "atomic_open"]


def _target(dest: str | os.PathLike) -> Path | None:
    """The regular file to replace (a symlink's target), or None when ``dest`` exists and is
    not a regular file."""
    p = Path(dest)
    if p.is_symlink():
        p = Path(os.path.realpath(p))
    if p.exists() and not p.is_file():
        return None
    return p


def _temporary(final: Path) -> tuple[Path, int]:
    """A new file next to ``final``, created exclusively (mode 0666 less the umask, as ``open``
    would give the destination); returns its path and an open descriptor."""
    for _ in range(100):
        tmp = final.with_name(f".{final.name}.{secrets.token_hex(4)}.part")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        except FileExistsError:
            continue
        except OSError as e:  # (no such folder, no permission): name the file the user gave
            raise type(e)(e.errno, e.strerror, str(final)) from None
        return tmp, fd
    raise FileExistsError(f"no free temporary name next to {final}")


@contextlib.contextmanager
def atomic_path(dest: str | os.PathLike) -> Iterator[str]:
    """A temporary path to write (by a library that takes a path: pandas, matplotlib), moved to
    ``dest`` when the block ends normally; removed when it raises (Ctrl-C included).
    Writers that infer a format from the file name must be told the format: the temporary name
    ends in ``.part``."""
    final = _target(dest)
    if final is None:  # a device or FIFO: nothing to rename over
        yield str(dest)
        return
    tmp, fd = _temporary(final)
    os.close(fd)
    try:
        yield str(tmp)
        os.replace(tmp, final)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_open(dest: str | os.PathLike, mode: str = "w", encoding: str | None = "utf-8",
                newline: str | None = None) -> Iterator[IO]:
    """``open(dest, mode)`` for writing, whole or not at all (see the module's docstring).
    ``mode``: "w" or "wb"."""
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open writes a new file: mode 'w' or 'wb', not {mode!r}")
    text = mode == "w"
    final = _target(dest)
    if final is None:
        with open(dest, mode, encoding=encoding if text else None, newline=newline if text else None) as f:
            yield f
        return
    tmp, fd = _temporary(final)
    try:
        with os.fdopen(fd, mode, encoding=encoding if text else None, newline=newline if text else None) as f:
            yield f
        os.replace(tmp, final)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
