"""Workbook sheets of the goal analysis: summary, candidates, runner-ups, proxies, caveats."""

from __future__ import annotations

import dataclasses
from typing import Any

from royalroad import __version__
from royalroad.analysis.goals_result import Candidate, GoalResult
from royalroad.i18n import has, t
from royalroad.quality import IngestSummary
from royalroad.report.sheet import COLUMN_KINDS, Column, Table, as_of_datetime, infer_kind


def summary(goals: GoalResult, q: IngestSummary, meta: dict, lang: str) -> Table:
    rows: list[tuple] = []
    kinds: list[str] = []

    def add(key: str, value: Any, kind: str, ci: tuple | None = None) -> None:
        lo, hi = ci or (None, None)
        rows.append((t(f"excel.item.{key}", lang=lang), value, lo, hi, key))
        kinds.append(kind)

    add("sentence", goals.sentence(lang), "text")
    add("reason", goals.reason_text(lang), "text")
    if (g := goals.recommended) is not None:
        add("goal", g.label(lang), "text")
        add("goal_win_rate", g.win_rate, "pct", g.win_rate_ci)
        add("goal_lift", g.lift, "ratio")
        add("goal_recall", g.recall, "pct")
        add("goal_odds_ratio", g.odds_ratio, "ratio", g.odds_ratio_ci)
        add("goal_q_value", g.q_value, "p")
        add("goal_days_to_reach", g.median_days_to_reach, "days")
        add("goal_days_to_close", g.median_days_to_close, "days")
    add("base_rate", goals.base_rate, "pct", goals.base_rate_ci)
    for key in ("closed", "won", "lost", "open"):
        add(key, getattr(goals, key), "int")
    add("candidates_tried", len(goals.candidates), "int")
    for key in (
        "leads",
        "events",
        "events_counted",
        "activities",
        "notes",
        "rows_read",
        "quarantined",
    ):
        add(key, getattr(q, key), "int")
    as_of = as_of_datetime(meta.get("as_of") or q.as_of)
    add("as_of", as_of or (meta.get("as_of") or q.as_of), "datetime" if as_of else "text")
    add("tz", meta.get("tz") or q.tz, "text")
    add("version", __version__, "text")
    cols = (
        Column("item"),
        Column("value", "row"),
        Column("ci_low", "row"),
        Column("ci_high", "row"),
        Column("key"),
    )
    return Table("summary", cols, tuple(rows), tuple(kinds))


def _candidate_columns() -> list[str]:
    """Columns of ``GoalResult.to_frame()`` when there is no candidate to take them from."""
    names = []
    for f in dataclasses.fields(Candidate):
        names += [f"{f.name}_low", f"{f.name}_high"] if f.name.endswith("_ci") else [f.name]
    return names


def _status(c: Candidate, lang: str) -> str:
    key = "goal.status.eligible" if c.eligible else f"goal.status.{c.why_not}"
    return t(key, lang=lang) if has(key) else (c.why_not or "")


def candidates(goals: GoalResult, lang: str) -> Table:
    """Every candidate, one outline group per milestone family: the family's best (or
    the recommended goal, marked ★) on top, its other counts and windows folded below
    it (Excel's + button opens them). ``rank`` is the candidate's overall rank."""
    frame = goals.to_frame()
    names = [n for n in (list(frame.columns) or _candidate_columns()) if n != "label"]
    goal_key = goals.recommended.key if goals.recommended else None
    records = frame[names].to_dict("records") if len(frame) else []
    by_key = {
        c.key: (i, r)
        for i, (c, r) in enumerate(zip(goals.candidates, records, strict=True), start=1)
    }
    rows, levels = [], []
    for fam in goals.families():
        for c in fam.members:
            rank, r = by_key[c.key]
            label = ("★ " if c.key == goal_key else "") + c.label(lang)
            rows.append((rank, c.key == goal_key, label, _status(c, lang), *(r[n] for n in names)))
            levels.append(0 if c is fam.best else 1)
    kinds = {n: COLUMN_KINDS.get(n) or infer_kind(frame.get(n)) for n in names}
    cols = (
        Column("rank", "int"),
        Column("recommended", "bool"),
        Column("label"),
        Column("status"),
        *(Column(n, kinds[n]) for n in names),
    )
    return Table("candidates", cols, tuple(rows), freeze_cols=3, row_levels=tuple(levels))


def runner_ups(goals: GoalResult, lang: str) -> Table:
    metrics = ("won", "lost", "win_rate", "lift", "recall", "mcc", "q_value")
    rows = tuple(
        (
            i,
            r.candidate.label(lang),
            r.why,
            r.text(lang),
            *(getattr(r.candidate, m) for m in metrics[:3]),
            *r.candidate.win_rate_ci,
            *(getattr(r.candidate, m) for m in metrics[3:]),
        )
        for i, r in enumerate(goals.runner_ups, start=1)
    )
    names = (
        "rank",
        "label",
        "why",
        "why_text",
        *metrics[:3],
        "win_rate_ci_low",
        "win_rate_ci_high",
        *metrics[3:],
    )
    return Table(
        "runner_ups",
        tuple(Column(n, COLUMN_KINDS.get(n, "text")) for n in names),
        rows,
        freeze_cols=2,
    )


def proxies(goals: GoalResult, lang: str) -> Table:
    return Table(
        "proxies",
        (Column("activity"), Column("reason"), Column("reason_text")),
        tuple((p.activity, p.reason, p.text(lang)) for p in goals.proxies),
    )


def caveats(goals: GoalResult, q: IngestSummary, lang: str) -> Table:
    rows = [(c.key, c.text(lang)) for c in goals.caveats]
    if q.quarantined:
        key = "report.caveats.quarantined"
        rows.append((key, t(key, lang=lang, n=f"{q.quarantined:,}", read=f"{q.rows_read:,}")))
    return Table("caveats", (Column("key"), Column("text")), tuple(rows))
