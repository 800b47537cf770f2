"""Plain tables for people and files: aligned text columns, and CSV or Parquet rows.

Used by ``chemsolve run`` (each model kind's ``report``), ``demo``, ``models``, ``sweep`` and
``bench``. Files are written whole or not at all (``chemsolve.outfile``).
"""

from __future__ import annotations

from typing import Any

__all__ = ["table", "write_rows", "need_parquet"]


def table(rows: list[list[Any]], header: list[str]) -> str:
    """Rows as aligned text: the first column left-aligned, the others right-aligned, a rule under
    the header."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(r: list[Any]) -> str:
        return "  ".join(str(c).rjust(w) if i else str(c).ljust(w) for i, (c, w) in enumerate(zip(r, widths)))

    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def need_parquet(dest: str | None) -> None:
    """Refuse --format parquet without a file to write, or without pyarrow (one-line errors)."""
    from .errors import InvalidInputError

    if not dest:
        raise InvalidInputError("--format parquet writes a file: give --output FILE.parquet")
    from .errors import require

    require("pyarrow")


def write_rows(rows: list[list[Any]], header: list[str], out: Any, digits: int = 10) -> None:
    """Rows as CSV to the stream ``out`` (floats with ``digits`` significant digits), or as a Parquet
    file when ``out`` is a path (written to a temporary name and renamed when complete)."""
    import csv

    if isinstance(out, str):
        import pandas as pd

        from .outfile import atomic_path

        with atomic_path(out) as tmp:
            pd.DataFrame(rows, columns=header).to_parquet(tmp, index=False)
        return
    rows = [[f"{c:.{digits}g}" if isinstance(c, float) else c for c in r] for r in rows]
    w = csv.writer(out, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
