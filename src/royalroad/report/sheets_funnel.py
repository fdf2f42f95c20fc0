"""Workbook sheets of the funnel: the stages, the cohorts (by creation period, then by
segment) and pipeline velocity with its parts.

Numbers stay numbers (rates with a percent format, each with its 95% bounds beside
it); stage names, periods and segment values are user text, written as text only.
"""

from __future__ import annotations

from typing import Any

from royalroad.analysis.funnel_result import Cohort, FunnelResult, Within
from royalroad.i18n import t
from royalroad.report.sheet import Column, Table

SERIES_STAGE = ("step_within", "cumulative_within")
SERIES_COHORT = ("goal_within", "win_within")


def _within_columns(series: tuple[str, ...], days: tuple[int, ...]) -> list[Column]:
    return [
        Column(f"{s}_{d}{part}", "pct")
        for s in series
        for d in days
        for part in ("", "_low", "_high")
    ]


def _within_values(items: tuple[Within, ...], days: tuple[int, ...]) -> list[Any]:
    by_day = {w.days: w for w in items}
    out: list[Any] = []
    for d in days:
        w = by_day.get(d)
        lo, hi = w.ci if w is not None and w.ci else (None, None)
        out += [w.rate if w is not None else None, lo, hi]
    return out


def funnel(result: FunnelResult | None, lang: str) -> list[Table]:
    """Three sheets (empty, with their headers, without a funnel)."""
    days = result.within if result is not None else (30, 90, 180)
    stage_cols = (
        Column("funnel_stage"),
        Column("is_goal", "bool"),
        Column("leads", "int"),
        Column("won", "int"),
        Column("lost", "int"),
        Column("open", "int"),
        Column("previous_leads", "int"),
        Column("converted", "int"),
        Column("drop_off", "int"),
        *(Column(n, "pct") for n in ("step_rate", "step_rate_ci_low", "step_rate_ci_high")),
        *(
            Column(n, "pct")
            for n in ("cumulative_rate", "cumulative_rate_ci_low", "cumulative_rate_ci_high")
        ),
        *(Column(n, "pct") for n in ("win_rate", "win_rate_ci_low", "win_rate_ci_high")),
        Column("median_days", "days", "funnel.head.median_days"),
        Column("median_days_from_start", "days"),
        *_within_columns(SERIES_STAGE, days),
        Column("funnel_stage_code"),
        Column("funnel_mode"),
    )
    stage_rows: tuple[tuple, ...] = ()
    if result is not None:
        stage_rows = tuple(
            (
                s.label(lang),
                s.is_goal,
                s.leads,
                s.won,
                s.lost,
                s.open,
                s.previous,
                s.converted,
                s.drop_off,
                s.step_rate,
                *(s.step_rate_ci or (None, None)),
                s.cumulative_rate,
                *s.cumulative_rate_ci,
                s.win_rate,
                *(s.win_rate_ci or (None, None)),
                s.median_days,
                s.median_days_from_start,
                *_within_values(s.step_within, days),
                *_within_values(s.cumulative_within, days),
                s.stage,
                t(f"funnel.mode_name.{result.mode}", lang=lang),
            )
            for s in result.stages
        )
    return [
        Table("funnel", stage_cols, stage_rows, freeze_cols=1),
        _cohorts(result, days, lang),
        _velocity(result, lang),
    ]


def _cohorts(result: FunnelResult | None, days: tuple[int, ...], lang: str) -> Table:
    columns = (
        Column("kind", header="funnel.head.cohort_kind"),
        Column("cohort_group"),
        Column("leads", "int", "funnel.head.cohort_leads"),
        Column("won", "int"),
        Column("lost", "int"),
        Column("open", "int"),
        Column("reached_goal", "int"),
        *_within_columns(SERIES_COHORT, days),
    )
    rows: list[tuple] = []
    if result is not None:
        period = t(f"funnel.cohort.{result.cohort_by}", lang=lang)

        def row(kind: str, c: Cohort) -> tuple:
            return (
                kind,
                c.group,
                c.leads,
                c.won,
                c.lost,
                c.open,
                c.reached_goal,
                *_within_values(c.goal_within, days),
                *_within_values(c.win_within, days),
            )

        rows += [row(period, c) for c in result.cohorts]
        rows += [row(result.segment or "", c) for c in result.segments]
    return Table("funnel_cohorts", columns, tuple(rows), freeze_cols=2)


VELOCITY_ITEMS = (
    ("open_leads", "int"),
    ("win_rate", "pct"),
    ("mean_won_amount", "int"),
    ("median_cycle_days", "days"),
    ("per_day", "int"),
    ("per_30_days", "int"),
    ("won", "int"),
    ("lost", "int"),
    ("amount_n", "int"),
    ("cycle_n", "int"),
)


def _velocity(result: FunnelResult | None, lang: str) -> Table:
    """Item / value / bounds: the parts of pipeline velocity and the result."""
    rows: list[tuple] = []
    kinds: list[str] = []
    if result is not None:
        v = result.velocity
        values = {
            **{k: getattr(v, k) for k, _ in VELOCITY_ITEMS if hasattr(v, k)},
            "per_30_days": 30 * v.per_day if v.per_day is not None else None,
        }
        bounds = {
            "win_rate": v.win_rate_ci,
            "mean_won_amount": v.mean_won_amount_ci,
            "per_day": v.per_day_range,
            "per_30_days": (
                (30 * v.per_day_range[0], 30 * v.per_day_range[1]) if v.per_day_range else None
            ),
        }
        for key, kind in VELOCITY_ITEMS:
            lo, hi = bounds.get(key) or (None, None)
            rows.append((t(f"funnel.item.{key}", lang=lang), values[key], lo, hi, key))
            kinds.append(kind)
    columns = (
        Column("item"),
        Column("value", "row"),
        Column("ci_low", "row"),
        Column("ci_high", "row"),
        Column("key"),
    )
    return Table("funnel_velocity", columns, tuple(rows), tuple(kinds))
