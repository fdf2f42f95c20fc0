"""CSV for CRM import: one row per open lead, formula-injection safe."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import TextIO

from royalroad.analysis.nba import CLOSE, NextResult
from royalroad.report.safe import csv_safe

COLUMNS = (
    "lead_id",
    "status",
    "recommended_action",
    "expected_win_rate",
    "evidence_n",
    "stalled",
    "current_step",
    "second_action",
    "current_win_rate",
    "days_idle",
)


def _cell(name: str, value) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    if name in ("expected_win_rate", "current_win_rate"):
        return f"{value:.4f}"
    if name == "days_idle":
        return f"{value:.1f}"
    if name == "stalled":
        return "true" if value else "false"
    if name in ("recommended_action", "second_action") and value == CLOSE:
        return "(close)"
    return csv_safe(str(value))


def write_next_csv(result: NextResult, target: Path | TextIO) -> None:
    """Write the hand-off table (UTF-8 with BOM so Excel in Japan opens it correctly)."""
    rows = result.leads.to_pylist()
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([_cell(c, row.get(c)) for c in COLUMNS])
    if isinstance(target, Path):
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(buf.getvalue(), encoding="utf-8-sig", newline="")
    else:
        target.write(buf.getvalue())
