"""Funnel queries: Ibis expressions over leads and events; nothing executes here.

:func:`lead_stages` builds one row per lead with the moment it reached each stage, in
the engine: *strict* follows the stages in order (the first occurrence of stage i after
the moment stage i − 1 was reached, the earliest way through), *any* takes each
stage's first occurrence on its own. Only events that feed milestones count
(``mark IS NULL``: strictly before the close, not after the as-of date).

:func:`summary` and :func:`incidence` aggregate that table into what Python needs: one
row of per-stage counts and medians, and per-day counts for the cumulative-incidence
estimates (stages, creation cohorts, segments). Both grow with stages and days, not
with leads or events.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import ibis
import ibis.expr.types as ir

from royalroad.analysis import milestones as m
from royalroad.backends import median

DAY = 86400.0
CLOSED = ("won", "lost")
STATUSES = ("event", "competing", "censored")


def entry_profile(events: ir.Table, activities: Sequence[str]) -> ir.Table:
    """Per activity of ``activities``: leads that did it and leads whose journey it opened
    (their first usable event). An activity that opens nearly every journey it is in
    is how leads arrive (a trade-show card exchange), not a stage they pass."""
    ev = events.filter(events.mark.isnull()).select(
        "lead_key", "pos", activity=events.activity.cast("string")
    )
    first = ev.group_by("lead_key").agg(first_pos=ev.pos.min())
    j = ev.filter(ev.activity.isin(list(activities))).join(first, "lead_key")
    return j.group_by("activity").agg(
        leads=j.lead_key.nunique(),
        opened=j.lead_key.nunique(where=j.pos == j.first_pos),
    )


def known_activities(events: ir.Table) -> ir.Table:
    """The distinct activities the analyses see (after any grouping of rare ones)."""
    return events.select(activity=events.activity.cast("string")).distinct()


def goal_times(events: ir.Table, leads: ir.Table, goal) -> ir.Table:
    """``(lead_key, goal_ts)``: when each lead reached the goal milestone (a Candidate)."""
    e = m.journey(events, leads)
    occ = m.with_occurrence(e, max(goal.min_count, 1))
    reach = m.goal_reach(e, occ, goal.activity, goal.min_count, goal.within_days, goal.then)
    at = e.select(g_lead=e.lead_key, g_pos=e.pos, goal_ts=e.ts)
    j = reach.join(at, [reach.lead_key == at.g_lead, reach.r_pos == at.g_pos])
    return j.group_by("lead_key").agg(goal_ts=j.goal_ts.min())


def lead_stages(
    events: ir.Table,
    leads: ir.Table,
    stages: Sequence[str],
    mode: str,
    *,
    cohort: str,
    segment: str | None = None,
    goal: ir.Table | None = None,
) -> ir.Table:
    """One row per lead: ``lead_key, created_at, closed_at, outcome, amount, cohort``,
    ``segment`` (text, when asked), ``goal_ts`` (when ``goal`` is given) and, for each
    stage i = 1…k, ``t{i}``: when the lead reached it (NULL: not reached).

    ``cohort`` is ``created_month`` or ``created_quarter``.
    """
    ld = m.with_periods(leads, [cohort])
    cols = {
        "lead_key": ld.lead_key,
        "created_at": ld.created_at,
        "closed_at": ld.closed_at,
        "outcome": ld.outcome,
        "amount": ld.amount.cast("float64"),
        "cohort": ld[cohort],
    }
    if segment is not None:
        cols["segment"] = ld[segment].cast("string")
    t = ld.select(**cols)
    if goal is not None:
        g = goal.rename(g_key="lead_key")
        t = t.left_join(g, t.lead_key == g.g_key).drop("g_key")
    ev = events.filter(events.mark.isnull() & events.activity.isin(list(stages))).select(
        "lead_key", "pos", "ts", activity=events.activity.cast("string")
    )
    for i, stage in enumerate(stages, start=1):
        es = ev.filter(ev.activity == stage)
        if mode == "strict" and i > 1:
            prev = t.filter(t[f"p{i - 1}"].notnull()).select(
                s_key=t.lead_key, s_prev=t[f"p{i - 1}"]
            )
            es = es.join(prev, [es.lead_key == prev.s_key, es.pos > prev.s_prev])
        hit = es.group_by(s_lead=es.lead_key).agg(**{f"p{i}": es.pos.min(), f"t{i}": es.ts.min()})
        t = t.left_join(hit, t.lead_key == hit.s_lead).drop("s_lead")
    return t


def _days(later: ir.Value, earlier: ir.Value) -> ir.FloatingValue:
    return (later.epoch_seconds() - earlier.epoch_seconds()) / DAY


def _closed(t: ir.Table) -> ir.BooleanValue:
    return t.outcome.isin(list(CLOSED))


def reached(t: ir.Table, i: int, k: int, mode: str) -> ir.BooleanValue:
    """Stage ``i`` reached: 0 is every lead, 1…k an activity, k + 1 the win (in strict
    mode only after every stage before it)."""
    if i == 0:
        return ibis.literal(True)
    if i <= k:
        return t[f"t{i}"].notnull()
    won = t.outcome == "won"
    return won & t[f"t{k}"].notnull() if (mode == "strict" and k) else won


def when(t: ir.Table, i: int, k: int) -> ir.TimestampValue:
    """When stage ``i`` was reached: creation, the activity, the close."""
    if i == 0:
        return t.created_at
    return t[f"t{i}"] if i <= k else t.closed_at


def _median(x: ir.NumericValue, where: ir.BooleanValue) -> ir.NumericScalar:
    """The median of ``x`` where ``where`` holds, in the form every backend accepts
    (:func:`royalroad.backends.median`)."""
    return median(x, where)


def summary(t: ir.Table, k: int, mode: str) -> ir.Table:
    """One row: per stage i (0…k + 1) ``n{i}`` leads and ``won{i}``/``lost{i}``/``open{i}``;
    for i ≥ 1 ``conv{i}`` (also at stage i − 1), ``med{i}`` (median days from stage
    i − 1, among leads that reached i after i − 1) and ``start{i}`` (median days from
    creation); and the parts of pipeline velocity."""
    aggs: dict[str, ir.Value] = {}
    for i in range(k + 2):
        r = reached(t, i, k, mode)
        aggs[f"n{i}"] = t.count(where=r)
        for o in ("won", "lost", "open"):
            aggs[f"{o}{i}"] = t.count(where=r & (t.outcome == o))
        if i == 0:
            continue
        prev = reached(t, i - 1, k, mode)
        gap = _days(when(t, i, k), when(t, i - 1, k))
        aggs[f"conv{i}"] = t.count(where=r & prev)
        aggs[f"med{i}"] = _median(gap, r & prev & (gap >= 0))
        aggs[f"start{i}"] = _median(_days(when(t, i, k), t.created_at), r)
    won = t.outcome == "won"
    amount = won & t.amount.notnull()
    aggs["amount_n"] = t.count(where=amount)
    aggs["amount_mean"] = t.amount.mean(where=amount)
    aggs["amount_sd"] = t.amount.std(where=amount)
    cycle = _days(t.closed_at, t.created_at)
    aggs["cycle_n"] = t.count(where=won & cycle.notnull())
    aggs["cycle_median"] = _median(cycle, won & cycle.notnull())
    return t.aggregate(**aggs)


def _timeline(
    t: ir.Table, origin: ir.TimestampValue, hit: ir.BooleanValue, at: ir.TimestampValue, as_of
) -> tuple[ir.StringValue, ir.IntegerValue]:
    """Status and whole days from ``origin`` for a cumulative-incidence estimate.

    The event (``hit`` at ``at``) and the competing close count at the whole day they
    fall in (``ceil``); an open lead is censored after the whole days it has been
    observed (``floor``), so it is never counted at risk beyond what was seen. Days
    before the origin count as day 0.
    """
    end = ibis.literal(as_of).cast("timestamp")
    status = ibis.cases((hit, "event"), (_closed(t), "competing"), else_="censored")
    seen = ibis.ifelse(
        hit,
        _days(at, origin).ceil(),
        ibis.ifelse(
            _closed(t),
            _days(ibis.coalesce(t.closed_at, end), origin).ceil(),
            _days(end, origin).floor(),
        ),
    )
    return status, ibis.greatest(seen, 0).cast("int64")


def incidence(
    t: ir.Table,
    k: int,
    mode: str,
    as_of: datetime,
    *,
    goal: bool,
    segment: bool,
) -> ir.Table:
    """Leads per ``(series, stage, grp, t, status)`` for every Aalen–Johansen estimate.

    * ``cumulative``, stage i: from creation, event = reaching stage i;
    * ``step``, stage i: from reaching stage i − 1, among the leads that did;
    * ``cohort_goal`` / ``cohort_win`` (and ``segment_goal`` / ``segment_win``), ``grp``
      the creation period (segment value): from creation, event = reaching the goal
      milestone (winning), competing = closing without it (losing).

    Leads without a creation date cannot be placed on the time axis and are left out.
    """
    dated = t.filter(t.created_at.notnull())
    parts = []

    def part(series: str, stage: int, src: ir.Table, grp, origin, hit, at) -> None:
        status, days = _timeline(src, origin, hit, at, as_of)
        x = src.select(
            series=ibis.literal(series),
            stage=ibis.literal(stage, "int64"),
            grp=grp if grp is not None else ibis.null("string"),
            t=days,
            status=status,
        )
        parts.append(x.group_by(["series", "stage", "grp", "t", "status"]).agg(n=x.count()))

    for i in range(1, k + 2):
        hit, at = reached(dated, i, k, mode), when(dated, i, k)
        part("cumulative", i, dated, None, dated.created_at, hit, at)
        if i > 1:
            base = dated.filter(reached(dated, i - 1, k, mode) & when(dated, i - 1, k).notnull())
            part(
                "step",
                i,
                base,
                None,
                when(base, i - 1, k),
                reached(base, i, k, mode),
                when(base, i, k),
            )
    groups = [("cohort", dated.cohort)]
    if segment:
        groups.append(("segment", dated.segment))
    for name, grp in groups:
        part(
            f"{name}_win", 0, dated, grp, dated.created_at, dated.outcome == "won", dated.closed_at
        )
        if goal:
            part(
                f"{name}_goal",
                0,
                dated,
                grp,
                dated.created_at,
                dated.goal_ts.notnull(),
                dated.goal_ts,
            )
    return ibis.union(*parts, distinct=False)
