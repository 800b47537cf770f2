"""Tables of the study from its stored units only (no solve, no model): ``write(out)``."""

from __future__ import annotations

import glob
import json
import os
from typing import Any


def load(out: str) -> list[dict[str, Any]]:
    units = []
    for p in sorted(glob.glob(os.path.join(out, "units", "*", "*", "rep*.json"))):
        if p.endswith(".replay.json"):
            continue
        with open(p, encoding="utf-8") as f:
            units.append(json.load(f))
    return units


def write(out: str) -> str:
    units = load(out)
    text = f"{len(units)} units\n"
    with open(os.path.join(out, "study.md"), "w", encoding="utf-8") as f:
        f.write(text)
    return text
