"""CSV for CRM import: one row per open lead, formula-injection safe; one file per owner."""

from __future__ import annotations

import csv
import io
import math
import re
import unicodedata
from pathlib import Path
from typing import TextIO

from royalroad.analysis.nba_result import CLOSE, KEEP, NextResult
from royalroad.presenters.nba_terminal import pwin_breakdown
from royalroad.report.safe import csv_safe

COLUMNS = (
    "lead_id",
    "status",
    "recommended_action",
    "expected_win_rate",
    "evidence_n",
    "stalled",
    "owner",
    "action_kind",
    "gain",
    "gain_low",
    "gain_high",
    "reason",
    "state",
    "current_step",
    "second_action",
    "current_win_rate",
    "days_idle",
    "current_win_low",
    "current_win_high",
    "current_win_made_up",
)
"""The first six are the columns of the first release, kept in place for CRM mappings;
new columns are only ever appended."""
UNASSIGNED = "unassigned"
"""File stem for open leads with no owner, with ``--by-owner``."""


def _cell(name: str, value) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    if name in (
        "expected_win_rate",
        "current_win_rate",
        "current_win_low",
        "current_win_high",
        "gain",
        "gain_low",
        "gain_high",
    ):
        return f"{value:.4f}"
    if name == "days_idle":
        return f"{value:.1f}"
    if name == "stalled":
        return "true" if value else "false"
    if name in ("recommended_action", "second_action") and value in (CLOSE, KEEP):
        return "(close)" if value == CLOSE else "(keep nurturing)"
    return csv_safe(str(value))


def _text(rows: list[dict]) -> str:
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        gain_low, gain_high = row.get("gain_ci") or (None, None)
        win_low, win_high = row.get("current_win_rate_ci") or (None, None)
        values = row | {
            "gain_low": gain_low,
            "gain_high": gain_high,
            "current_win_low": win_low,
            "current_win_high": win_high,
            "current_win_made_up": pwin_breakdown(row),
        }
        writer.writerow([_cell(c, values.get(c)) for c in COLUMNS])
    return buf.getvalue()


def _write(text: str, target: Path | TextIO) -> None:
    if isinstance(target, Path):
        target.parent.mkdir(parents=True, exist_ok=True)
        # UTF-8 with BOM so that Excel in Japan opens it correctly
        target.write_text(text, encoding="utf-8-sig", newline="")
    else:
        target.write(text)


def write_next_csv(
    result: NextResult,
    target: Path | TextIO,
    *,
    owner: str | None = None,
    every_owner: bool | None = None,
) -> None:
    """Write the hand-off table: every open lead, or only ``owner``'s.

    ``every_owner`` defaults to ``owner is None``; pass ``owner=None,
    every_owner=False`` for the leads that have no owner."""
    rows = result.rows()
    if every_owner is None:
        every_owner = owner is None
    if not every_owner:
        rows = [r for r in rows if r["owner"] == owner]
    _write(_text(rows), target)


def file_stem(owner: str | None) -> str:
    """A file name for an owner: letters and digits of any script kept, the rest ``_``.

    >>> file_stem("佐藤 健"), file_stem("../x"), file_stem(None)
    ('佐藤_健', 'x', 'unassigned')
    """
    if owner is None:
        return UNASSIGNED
    text = unicodedata.normalize("NFKC", owner)
    stem = re.sub(r"[^\w]+", "_", text).strip("_")
    return stem[:80] or "owner"


def write_by_owner(result: NextResult, out_dir: Path) -> dict[str | None, Path]:
    """One CSV per owner in ``out_dir`` (``next_<owner>.csv``); returns owner → path.

    Two owners whose names give the same file name get ``-2``, ``-3`` … in owner order.
    """
    rows = result.rows()
    out: dict[str | None, Path] = {}
    used: set[str] = set()
    for owner in result.owners():
        stem = file_stem(owner)
        name, n = stem, 1
        while name.casefold() in used:
            n += 1
            name = f"{stem}-{n}"
        used.add(name.casefold())
        path = out_dir / f"next_{name}.csv"
        _write(_text([r for r in rows if r["owner"] == owner]), path)
        out[owner] = path
    return out
