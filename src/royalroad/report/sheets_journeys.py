"""Workbook sheets of the journeys: royal road, Markov states, removal effects, variants,
the directly-follows graph and every open lead's next best action."""

from __future__ import annotations

import math

from royalroad.analysis.journeys import WON
from royalroad.analysis.nba import NextResult
from royalroad.analysis.paths_result import PathsResult, state_label
from royalroad.i18n import t
from royalroad.report.sheet import Column, Table, cols

SHEET_LEADS = 10_000
"""Open leads the next-actions sheet lists (this week's first); past it the sheet ends
with a line pointing to :data:`LEADS_FILE`, which has every open lead: writing 200k
rows cell by cell took 30 s of a 10M-event run, and no one reads them in Excel."""
LEADS_FILE = "next_actions.parquet"


def journeys(paths: PathsResult, lang: str) -> list[Table]:
    """Royal road (with its conformance), Markov states, removal effects, variants and DFG."""
    road = tuple(
        (i, state_label(s.activity, lang) if s.activity == WON else s.activity, s.p_win_after)
        for i, s in enumerate(paths.royal_road, start=1)
    )
    c = paths.conformance
    fit = (
        tuple(
            (t(f"word.{o}", lang=lang), getattr(c, f"{o}_followed"), getattr(c, o), c.share(o), o)
            for o in ("won", "lost", "open")
        )
        if c is not None
        else ()
    )
    conformance = Table(
        "conformance",
        (Column("outcome"), *cols("followed", "total", "share"), Column("outcome_code")),
        fit,
    )
    states = sorted(
        paths.states, key=lambda s: (-(s.p_win if math.isfinite(s.p_win) else -1), s.state)
    )
    return [
        Table("royal_road", cols("step", "activity", "p_win_after"), road),
        conformance,
        Table(
            "markov_states",
            cols("state", "p_win", "expected_steps", "exits"),
            tuple((state_label(s.state, lang), s.p_win, s.expected_steps, s.exits) for s in states),
            freeze_cols=1,
        ),
        Table(
            "removal_effects",
            cols("activity", "removal_effect"),
            tuple(paths.removal_effects.items()),
        ),
        _variants("variants", paths.variants),
        _variants("winning_variants", paths.winning_variants),
        Table(
            "dfg",
            (
                *cols("from", "to"),
                Column("count", "int", "excel.head.dfg_count"),
                *cols("won", "lost", "open", "median_hours"),
            ),
            tuple(
                (e.src, e.dst, e.count, e.won, e.lost, e.open, e.median_hours) for e in paths.dfg
            ),
            freeze_cols=2,
        ),
    ]


def _variants(key: str, variants) -> Table:
    columns = (
        *cols("rank", "path"),
        Column("leads", "int", "excel.head.variant_leads"),
        *cols(
            "won", "lost", "open", "win_rate", "win_rate_ci_low", "win_rate_ci_high", "median_days"
        ),
    )
    rows = tuple(
        (
            i,
            " → ".join(v.path),
            v.leads,
            v.won,
            v.lost,
            v.open,
            v.win_rate,
            *v.win_rate_ci,
            v.median_days,
        )
        for i, v in enumerate(variants, start=1)
    )
    return Table(key, columns, rows, freeze_cols=2)


def next_actions(nxt: NextResult, lang: str, limit: int = SHEET_LEADS) -> Table:
    """Open leads in this week's order (stalled, then sales-ready, then longest idle),
    with the columns of the CRM CSV: owner, action and why, status translated. At most
    ``limit`` of them, then a last line naming :data:`LEADS_FILE` (every open lead)."""
    from royalroad.presenters.nba_terminal import action_label, whole_adjustments

    columns = (
        Column("lead_id"),
        Column("owner"),
        Column("status", header="excel.head.lead_status"),
        Column("recommended_action"),
        Column("action_kind"),
        *cols("gain", "gain_low", "gain_high"),
        Column("reason", header="excel.head.advice_reason"),
        *cols("expected_win_rate", "evidence_n", "current_win_rate", "win_low", "win_high"),
        *cols("state_rate"),
        Column("adjustments", header="excel.head.adjustments"),
        *cols("days_idle", "stalled"),
        Column("state", header="excel.head.milestones_passed"),
        Column("current_step"),
        Column("second_action"),
        Column("status_code"),
    )
    ordered = nxt.ordered(lang, limit)
    total = nxt.leads.num_rows
    rows = tuple(
        (
            r["lead_id"],
            r["owner"],
            t(f"nba.status.{r['status']}", lang=lang),
            action_label(r["recommended_action"], lang),
            t(f"nba.kind.{r['action_kind']}", lang=lang) if r["action_kind"] else None,
            r["gain"],
            *r["gain_ci"],
            r["reason"],
            r["expected_win_rate"],
            r["evidence_n"],
            r["current_win_rate"],
            *r["current_win_rate_ci"],
            r["state_rate"],
            "; ".join(f"{label} {pts:+d}" for label, pts in whole_adjustments(r)),
            r["days_idle"],
            r["stalled"],
            r["state"],
            r["current_step"],
            action_label(r["second_action"], lang) if r["second_action"] else None,
            r["status"],
        )
        for r in ordered
    )
    if total > limit:
        more = t("excel.more_leads", lang=lang, n=f"{total - limit:,}", file=LEADS_FILE)
        rows += ((more, *[None] * (len(columns) - 1)),)
    return Table("next_actions", columns, rows, freeze_cols=1)
