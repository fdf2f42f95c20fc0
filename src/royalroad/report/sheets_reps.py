"""Workbook sheets of the reps analysis: one row per rep (the headline rates, observed /
expected, the decomposition of the gap), every rate in long form, and the practices.

Numbers stay numbers (rates with a percent format, each with its 95% bounds beside
it); names, zones and activities are text, written as text only. Not wired into
:func:`royalroad.report.excel.build_tables` yet (see ``docs/commands.md``).
"""

from __future__ import annotations

from typing import Any

from royalroad.analysis.reps_result import METRICS, Rate, RepRow, RepsResult
from royalroad.presenters.reps_terminal import coach, metric_name, zone_text
from royalroad.report.sheet import Column, Table


def _pair(ci: tuple[float, float] | None) -> tuple[Any, Any]:
    return ci if ci else (None, None)


def _rate_values(r: Rate | None) -> list[Any]:
    if r is None:
        return [None] * 6
    return [r.rate, *_pair(r.ci), r.shrunk, *_pair(r.shrunk_ci)]


def _rate_columns(prefix: str) -> list[Column]:
    return [
        Column(f"{prefix}", "pct", "reps.xl.rate"),
        Column(f"{prefix}_ci_low", "pct", "reps.xl.rate_low"),
        Column(f"{prefix}_ci_high", "pct", "reps.xl.rate_high"),
        Column(f"{prefix}_shrunk", "pct", "reps.xl.shrunk"),
        Column(f"{prefix}_shrunk_ci_low", "pct", "reps.xl.shrunk_low"),
        Column(f"{prefix}_shrunk_ci_high", "pct", "reps.xl.shrunk_high"),
    ]


def _rows(result: RepsResult | None) -> list[RepRow]:
    if result is None:
        return []
    return [*result.reps, *(r for r in (result.unassigned, result.team) if r is not None)]


def reps(result: RepsResult | None, lang: str) -> list[Table]:
    """Three sheets (empty, with their headers, without a reps result)."""
    return [_headline(result, lang), _rates(result, lang), _practices(result, lang)]


def _headline(result: RepsResult | None, lang: str) -> Table:
    metric = result.rank_metric if result is not None else "reach"
    columns = (
        Column("rank", "int"),
        Column("rank_adjusted", "int", "reps.xl.rank_adjusted"),
        Column("rep", header="reps.xl.rep"),
        Column("kind", header="reps.xl.kind"),
        Column("leads", "int"),
        Column("won", "int"),
        Column("lost", "int"),
        Column("open", "int"),
        Column("goal_reach", "pct", "reps.xl.goal_reach"),
        Column("goal_reach_ci_low", "pct", "reps.xl.rate_low"),
        Column("goal_reach_ci_high", "pct", "reps.xl.rate_high"),
        Column("median_days_to_goal", "days", "reps.xl.median_days"),
        *_rate_columns(metric),
        Column("funnel_plot_zone", header="reps.xl.zone"),
        Column("observed_expected", "ratio", "reps.xl.oe"),
        Column("observed_expected_ci_low", "ratio", "reps.xl.oe_low"),
        Column("observed_expected_ci_high", "ratio", "reps.xl.oe_high"),
        *_rate_columns("post_goal_win_rate"),
        Column("gap_total", "pct", "reps.xl.gap_total"),
        Column("gap_reach", "pct", "reps.xl.gap_reach"),
        Column("gap_conversion", "pct", "reps.xl.gap_conversion"),
        Column("gap_no_goal", "pct", "reps.xl.gap_no_goal"),
        Column("gap_wins", "dec1", "reps.xl.gap_wins"),
        Column("coach", header="reps.col.coach"),
        Column("funnel_plot_zone_code"),
    )
    rows = []
    for r in _rows(result):
        m = r.metrics.get(metric)
        g = r.gap
        rows.append(
            (
                r.rank,
                r.rank_adjusted,
                r.name(lang),
                r.kind,
                r.leads,
                r.won,
                r.lost,
                r.open,
                r.goal_reach,
                *_pair(r.goal_reach_ci),
                r.median_days_to_goal,
                *_rate_values(m),
                zone_text(m.zone, lang) if m is not None and m.zone else None,
                m.observed_expected if m is not None else None,
                *_pair(m.observed_expected_ci if m is not None else None),
                *_rate_values(r.metrics.get("post_goal")),
                g.total if g else None,
                g.reach if g else None,
                g.conversion if g else None,
                g.no_goal if g else None,
                g.wins if g else None,
                coach(r, lang) if g else None,
                m.zone if m is not None else None,
            )
        )
    return Table("reps", columns, tuple(rows), freeze_cols=3)


def _rates(result: RepsResult | None, lang: str) -> Table:
    columns = (
        Column("rep", header="reps.xl.rep"),
        Column("kind", header="reps.xl.kind"),
        Column("metric", header="reps.xl.metric"),
        Column("k", "int", "reps.xl.k"),
        Column("n", "int", "reps.xl.n"),
        *_rate_columns("rate"),
        Column("funnel_plot_zone", header="reps.xl.zone"),
        Column("expected", "dec1", "reps.xl.expected"),
        Column("observed_expected", "ratio", "reps.xl.oe"),
        Column("observed_expected_ci_low", "ratio", "reps.xl.oe_low"),
        Column("observed_expected_ci_high", "ratio", "reps.xl.oe_high"),
        Column("metric_code", header="reps.xl.metric_code"),
    )
    rows = []
    for r in _rows(result):
        for name in METRICS:
            m = r.metrics.get(name)
            if m is None or result is None:
                continue
            rows.append(
                (
                    r.name(lang),
                    r.kind,
                    metric_name(result, name, lang),
                    m.k,
                    m.n,
                    *_rate_values(m),
                    zone_text(m.zone, lang) if m.zone else None,
                    m.expected,
                    m.observed_expected,
                    *_pair(m.observed_expected_ci),
                    name,
                )
            )
    return Table("reps_rates", columns, tuple(rows), freeze_cols=3)


def _practices(result: RepsResult | None, lang: str) -> Table:
    columns = (
        Column("feature", header="reps.xl.feature"),
        Column("activity", header="reps.xl.activity"),
        Column("then", header="reps.xl.then"),
        Column("top_leads", "int", "reps.xl.top_leads"),
        Column("top_n", "int", "reps.xl.top_n"),
        Column("share_top", "pct", "reps.xl.share_top"),
        Column("rest_leads", "int", "reps.xl.rest_leads"),
        Column("rest_n", "int", "reps.xl.rest_n"),
        Column("share_rest", "pct", "reps.xl.share_rest"),
        Column("log_odds", "ratio", "reps.xl.log_odds"),
        Column("z", "ratio", "reps.xl.z"),
        Column("q_value", "p", "reps.xl.q"),
        Column("days_top", "days", "reps.xl.days_top"),
        Column("days_rest", "days", "reps.xl.days_rest"),
    )
    practices = result.practices if result is not None else ()
    rows = tuple(
        (
            p.label(lang),
            p.activity,
            p.then,
            p.top_leads,
            p.top_n,
            p.share_top,
            p.rest_leads,
            p.rest_n,
            p.share_rest,
            p.log_odds,
            p.z,
            p.q_value,
            p.days_top,
            p.days_rest,
        )
        for p in practices
    )
    return Table("reps_practices", columns, rows, freeze_cols=1)
