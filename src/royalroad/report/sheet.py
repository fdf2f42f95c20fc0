"""The data model of a workbook sheet: columns with their number formats, and tables.

Sheet builders (``sheets_*.py``) turn results into :class:`Table` objects holding
rendered text and typed values only; :mod:`royalroad.report.excel` writes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

NUMBER_FORMATS = {
    "int": "#,##0",
    "pct": "0.0%",
    "ratio": "0.00",
    "mcc": "0.000",
    "p": "0.00E+00",
    "days": "0.0",
    "dec1": "0.0",
    "num": "General",
    "datetime": "yyyy-mm-dd hh:mm:ss",
}
COLUMN_KINDS = {
    **dict.fromkeys(
        (
            "rank",
            "min_count",
            "within_days",
            "leads",
            "won",
            "lost",
            "open",
            "count",
            "rows_read",
            "accepted",
            "quarantined",
            "blank_rows",
            "header_line",
            "preamble_rows",
            "step",
            "followed",
            "total",
            "exits",
            "evidence_n",
            "decile",
            "n_nurture",
            "n_sales_ready",
            "n_stalled",
            "events_so_far",
        ),
        "int",
    ),
    **dict.fromkeys(("brier", "log_loss", "auc"), "mcc"),
    **dict.fromkeys(
        (
            "win_rate",
            "win_rate_ci_low",
            "win_rate_ci_high",
            "recall",
            "precision",
            "npv",
            "specificity",
            "p_win_after",
            "share",
            "p_win",
            "removal_effect",
            "expected_win_rate",
            "current_win_rate",
            "win_low",
            "win_high",
            "state_rate",
            "predicted",
            "observed",
            "observed_ci_low",
            "observed_ci_high",
            "gap",
            "gap_nurture",
            "gap_sales_ready",
            "gap_stalled",
            "max_decile_gap",
            "gain",
            "gain_low",
            "gain_high",
        ),
        "pct",
    ),
    **dict.fromkeys(
        (
            "lift",
            "odds_ratio",
            "odds_ratio_ci_low",
            "odds_ratio_ci_high",
            "adjusted_odds_ratio",
            "adjusted_odds_ratio_ci_low",
            "adjusted_odds_ratio_ci_high",
        ),
        "ratio",
    ),
    **dict.fromkeys(("p_value", "q_value"), "p"),
    **dict.fromkeys(
        ("median_days_to_reach", "median_days_to_close", "median_days", "days_idle"), "days"
    ),
    **dict.fromkeys(("expected_steps", "median_hours"), "dec1"),
    **dict.fromkeys(("recommended", "outcome_proxy", "confounded", "eligible", "stalled"), "bool"),
    "mcc": "mcc",
}


@dataclass(frozen=True)
class Column:
    """A column by canonical name; ``kind`` picks the number format (``row``: per row).

    ``header``: message key of the translated header when the canonical name's
    usual one (``excel.col.<name>``) would mislead on this sheet.
    """

    name: str
    kind: str = "text"
    header: str | None = None


def cols(*names: str) -> tuple[Column, ...]:
    return tuple(Column(n, COLUMN_KINDS.get(n, "text")) for n in names)


@dataclass(frozen=True)
class Table:
    """One sheet's content: data only, localised text already rendered."""

    key: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Any, ...], ...]
    row_kinds: tuple[str, ...] = ()
    freeze_cols: int = 0
    row_levels: tuple[int, ...] = ()
    """Outline level per row: level-1 rows are folded under the level-0 row above them."""


def infer_kind(series) -> str:
    if series is None:
        return "text"
    kind = getattr(series.dtype, "kind", "O")
    return {"b": "bool", "i": "int", "u": "int", "f": "num"}.get(kind, "text")


def as_of_datetime(text: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text)).replace(tzinfo=None)
    except ValueError:
        return None
