"""Milestone queries: Ibis expressions that count candidate milestones in the engine.

A *milestone* is "activity A at least k times within d days of creation" or "A then
B" (B after A). Every builder here takes Ibis tables and returns an Ibis expression;
nothing executes here, so the same code runs on DuckDB, Spark or a warehouse.

Only events that feed milestones are used: ``mark IS NULL`` (strictly before the
close for closed leads, not after the as-of date, complete lifecycle). Events are
ordered by ``pos``, their place in the lead's journey, which the workspace stores
(``(ts, seq)`` order: ties in time follow the source order); leads are joined and
partitioned on the integer ``lead_key``.
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis
import ibis.expr.types as ir

DAY = 86400.0
OUTCOMES = ("won", "lost", "open")


def journey(events: ir.Table, leads: ir.Table, segments: Sequence[str] = ()) -> ir.Table:
    """Usable events with their lead's outcome, ``day`` since creation and ``close_day``."""
    ev = events.filter(events.mark.isnull()).select("lead_key", "activity", "ts", "pos")
    ld = leads.select("lead_key", "created_at", "outcome", "closed_at", *segments)
    e = ev.join(ld, "lead_key")
    created = e.created_at.epoch_seconds()
    return e.mutate(
        day=(e.ts.epoch_seconds() - created) / DAY,
        close_day=(e.closed_at.epoch_seconds() - created) / DAY,
    )


def with_occurrence(e: ir.Table, max_count: int) -> ir.Table:
    """Number each lead's occurrences of an activity 1, 2, … in journey order; keep ≤ max_count."""
    w = ibis.window(group_by=[e.lead_key, e.activity], order_by=e.pos)
    e = e.mutate(k=ibis.row_number().over(w) + 1)
    return e.filter(e.k <= max_count)


def _window_aggs(
    t: ir.Table, windows: Sequence[int | None], *, medians: bool
) -> dict[str, ir.Value]:
    """Counts per outcome (and medians) of leads whose milestone ``day`` is within each window."""
    aggs: dict[str, ir.Value] = {}
    closed = t.outcome.isin(["won", "lost"])
    for i, d in enumerate(windows):
        within = (t.day <= d) if d is not None else ibis.literal(True)
        for o in OUTCOMES:
            aggs[f"{o}_{i}"] = t.count(where=within & (t.outcome == o))
        if medians:
            aggs[f"reach_{i}"] = t.day.median(where=within)
            aggs[f"toclose_{i}"] = (t.close_day - t.day).median(where=within & closed)
    return aggs


def single_counts(
    occ: ir.Table, windows: Sequence[int | None], strata: Sequence[str] = ()
) -> ir.Table:
    """Leads reaching "≥k × activity within d days", per (activity, k[, strata]) and outcome.

    With ``strata`` the medians are left out (they do not add up across strata).
    """
    aggs = _window_aggs(occ, windows, medians=not strata)
    if not strata:
        closed = occ.outcome.isin(["won", "lost"]) & (occ.close_day > 0)
        aggs["position"] = (occ.day / occ.close_day).median(where=closed & (occ.k == 1))
    return occ.group_by(["activity", "k", *strata]).agg(**aggs)


def pair_reach(
    e: ir.Table, occ: ir.Table, activities: Sequence[str], strata: Sequence[str] = ()
) -> ir.Table:
    """Per lead and ordered pair (A, B): the first ``day`` at which B followed A.

    B must come strictly after the first A in journey order, both before the close.
    """
    first = occ.filter((occ.k == 1) & occ.activity.isin(list(activities))).select(
        lead_key=occ.lead_key, a=occ.activity, a_pos=occ.pos
    )
    bs = (
        e.filter(e.activity.isin(list(activities)))
        .select("lead_key", "outcome", "close_day", *strata, b=e.activity, b_pos=e.pos, day=e.day)
        .rename(b_lead="lead_key")
    )
    j = first.join(bs, [first.lead_key == bs.b_lead, bs.b_pos > first.a_pos, first.a != bs.b])
    return j.group_by(["lead_key", "a", "b", "outcome", "close_day", *strata]).agg(day=j.day.min())


def pair_counts(
    reach: ir.Table, windows: Sequence[int | None], strata: Sequence[str] = ()
) -> ir.Table:
    """Leads reaching "A then B within d days", per (A, B[, strata]) and outcome."""
    return reach.group_by(["a", "b", *strata]).agg(
        **_window_aggs(reach, windows, medians=not strata)
    )


def activity_profile(events: ir.Table, leads: ir.Table) -> ir.Table:
    """Per activity, occurrences in closed leads and how many of them were at/after the close."""
    ld = leads.filter(leads.outcome.isin(["won", "lost"])).select("lead_key")
    ev = events.filter(events.mark.isnull() | (events.mark == "after_close"))
    j = ev.join(ld, "lead_key")
    return j.group_by("activity").agg(
        occurrences=j.count(), after_close=j.count(where=j.mark == "after_close")
    )


def base_counts(leads: ir.Table, strata: Sequence[str] = ()) -> ir.Table:
    """Leads per outcome (per stratum)."""
    return leads.group_by(["outcome", *strata]).agg(n=leads.count())


def reached_single(occ: ir.Table, activity: str, k: int, within: int | None) -> ir.Table:
    """Lead keys that reached "≥k × activity within d days"."""
    cond = (occ.activity == activity) & (occ.k == k)
    if within is not None:
        cond &= occ.day <= within
    return occ.filter(cond).select("lead_key").distinct()


def reached_pair(reach: ir.Table, a: str, b: str, within: int | None) -> ir.Table:
    cond = (reach.a == a) & (reach.b == b)
    if within is not None:
        cond &= reach.day <= within
    return reach.filter(cond).select("lead_key").distinct()


def incidence_counts(leads: ir.Table, reached: ir.Table, as_of) -> ir.Table:
    """Leads per (reached, whole days to close or censoring, outcome), for Aalen–Johansen.

    Closed leads end at their close; open leads are censored at the as-of date.
    Leads without a creation date cannot be placed on the time axis and are left out.
    """
    flagged = reached.mutate(hit=ibis.literal(True))
    ld = leads.filter(leads.created_at.notnull()).left_join(
        flagged, leads.lead_key == flagged.lead_key
    )
    end = ibis.coalesce(ld.closed_at, ibis.literal(as_of).cast("timestamp"))
    days = ((end.epoch_seconds() - ld.created_at.epoch_seconds()) / DAY).ceil().cast("int64")
    t = ld.mutate(reached=ld.hit.notnull(), t=ibis.greatest(days, 0))
    return t.group_by(["reached", "t", "outcome"]).agg(n=t.count())


def goal_reach(
    e: ir.Table, occ: ir.Table, activity: str, k: int, within: int | None, then: str | None = None
) -> ir.Table:
    """Where each lead reached the milestone: (lead_key, r_pos), the journey position of
    the event that completed it."""
    if then is None:
        cond = (occ.activity == activity) & (occ.k == k)
        if within is not None:
            cond &= occ.day <= within
        return occ.filter(cond).select("lead_key", r_pos=occ.pos)
    first = occ.filter((occ.k == 1) & (occ.activity == activity)).select(
        a_lead=occ.lead_key, a_pos=occ.pos
    )
    bs = e.filter(e.activity == then).select("lead_key", "pos", "day")
    j = first.join(bs, [first.a_lead == bs.lead_key, bs.pos > first.a_pos])
    if within is not None:
        j = j.filter(j.day <= within)
    return j.group_by("lead_key").agg(r_pos=j.pos.min())
