"""Milestone queries: Ibis expressions that count candidate milestones in the engine.

A *milestone* is "activity A at least k times within d days of creation" or "A then
B" (B after A). Every builder here takes Ibis tables and returns an Ibis expression;
nothing executes here, so the same code runs on DuckDB, Spark or a warehouse.

Only events that feed milestones are used: ``mark IS NULL`` (strictly before the
close for closed leads, not after the as-of date, complete lifecycle). Ties in time
are broken by ``seq`` (source order), everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis
import ibis.expr.types as ir

DAY = 86400.0
OUTCOMES = ("won", "lost", "open")


def journey(events: ir.Table, leads: ir.Table, segments: Sequence[str] = ()) -> ir.Table:
    """Usable events with their lead's outcome, ``day`` since creation and ``close_day``."""
    ev = events.filter(events.mark.isnull()).select("lead_id", "activity", "ts", "seq")
    ld = leads.select("lead_id", "created_at", "outcome", "closed_at", *segments)
    e = ev.join(ld, "lead_id")
    created = e.created_at.epoch_seconds()
    return e.mutate(
        day=(e.ts.epoch_seconds() - created) / DAY,
        close_day=(e.closed_at.epoch_seconds() - created) / DAY,
    )


def with_occurrence(e: ir.Table, max_count: int) -> ir.Table:
    """Number each lead's occurrences of an activity 1, 2, … by (ts, seq); keep ≤ max_count."""
    w = ibis.window(group_by=[e.lead_id, e.activity], order_by=[e.ts, e.seq])
    e = e.mutate(k=ibis.row_number().over(w) + 1)
    return e.filter(e.k <= max_count)


def _window_aggs(t: ir.Table, windows: Sequence[int | None], *, medians: bool) -> dict[str, ir.Value]:
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


def single_counts(occ: ir.Table, windows: Sequence[int | None], strata: Sequence[str] = ()) -> ir.Table:
    """Leads reaching "≥k × activity within d days", per (activity, k[, strata]) and outcome.

    With ``strata`` the medians are left out (they do not add up across strata).
    """
    aggs = _window_aggs(occ, windows, medians=not strata)
    if not strata:
        closed = occ.outcome.isin(["won", "lost"]) & (occ.close_day > 0)
        aggs["position"] = (occ.day / occ.close_day).median(where=closed & (occ.k == 1))
    return occ.group_by(["activity", "k", *strata]).agg(**aggs)


def pair_reach(e: ir.Table, occ: ir.Table, activities: Sequence[str], strata: Sequence[str] = ()) -> ir.Table:
    """Per lead and ordered pair (A, B): the first ``day`` at which B followed A.

    B must come strictly after the first A in (ts, seq) order, both before the close.
    """
    first = occ.filter((occ.k == 1) & occ.activity.isin(list(activities))).select(
        lead_id=occ.lead_id, a=occ.activity, a_ts=occ.ts, a_seq=occ.seq
    )
    bs = e.filter(e.activity.isin(list(activities))).select(
        "lead_id", "outcome", "close_day", *strata, b=e.activity, b_ts=e.ts, b_seq=e.seq, day=e.day
    ).rename(b_lead="lead_id")
    after = (bs.b_ts > first.a_ts) | ((bs.b_ts == first.a_ts) & (bs.b_seq > first.a_seq))
    j = first.join(bs, [first.lead_id == bs.b_lead, after, first.a != bs.b])
    return j.group_by(["lead_id", "a", "b", "outcome", "close_day", *strata]).agg(day=j.day.min())


def pair_counts(reach: ir.Table, windows: Sequence[int | None], strata: Sequence[str] = ()) -> ir.Table:
    """Leads reaching "A then B within d days", per (A, B[, strata]) and outcome."""
    return reach.group_by(["a", "b", *strata]).agg(**_window_aggs(reach, windows, medians=not strata))


def activity_profile(events: ir.Table, leads: ir.Table) -> ir.Table:
    """Per activity, occurrences in closed leads and how many of them were at/after the close."""
    ld = leads.filter(leads.outcome.isin(["won", "lost"])).select("lead_id")
    ev = events.filter(events.mark.isnull() | (events.mark == "after_close"))
    j = ev.join(ld, "lead_id")
    return j.group_by("activity").agg(
        occurrences=j.count(), after_close=j.count(where=j.mark == "after_close")
    )


def base_counts(leads: ir.Table, strata: Sequence[str] = ()) -> ir.Table:
    """Leads per outcome (per stratum)."""
    return leads.group_by(["outcome", *strata]).agg(n=leads.count())


def reached_single(occ: ir.Table, activity: str, k: int, within: int | None) -> ir.Table:
    """Lead ids that reached "≥k × activity within d days"."""
    cond = (occ.activity == activity) & (occ.k == k)
    if within is not None:
        cond &= occ.day <= within
    return occ.filter(cond).select("lead_id").distinct()


def reached_pair(reach: ir.Table, a: str, b: str, within: int | None) -> ir.Table:
    cond = (reach.a == a) & (reach.b == b)
    if within is not None:
        cond &= reach.day <= within
    return reach.filter(cond).select("lead_id").distinct()


def incidence_counts(leads: ir.Table, reached: ir.Table, as_of) -> ir.Table:
    """Leads per (reached, whole days to close or censoring, outcome), for Aalen–Johansen.

    Closed leads end at their close; open leads are censored at the as-of date.
    Leads without a creation date cannot be placed on the time axis and are left out.
    """
    flagged = reached.mutate(hit=ibis.literal(True))
    ld = leads.filter(leads.created_at.notnull()).left_join(flagged, leads.lead_id == flagged.lead_id)
    end = ibis.coalesce(ld.closed_at, ibis.literal(as_of).cast("timestamp"))
    days = ((end.epoch_seconds() - ld.created_at.epoch_seconds()) / DAY).ceil().cast("int64")
    t = ld.mutate(reached=ld.hit.notnull(), t=ibis.greatest(days, 0))
    return t.group_by(["reached", "t", "outcome"]).agg(n=t.count())


def goal_reach(e: ir.Table, occ: ir.Table, activity: str, k: int, within: int | None,
               then: str | None = None) -> ir.Table:
    """Where each lead reached the milestone: the (ts, seq) of the event that completed it."""
    if then is None:
        cond = (occ.activity == activity) & (occ.k == k)
        if within is not None:
            cond &= occ.day <= within
        return occ.filter(cond).select("lead_id", r_ts=occ.ts, r_seq=occ.seq)
    first = occ.filter((occ.k == 1) & (occ.activity == activity)).select(
        a_lead=occ.lead_id, a_ts=occ.ts, a_seq=occ.seq)
    bs = e.filter(e.activity == then).select("lead_id", "ts", "seq", "day")
    after = (bs.ts > first.a_ts) | ((bs.ts == first.a_ts) & (bs.seq > first.a_seq))
    j = first.join(bs, [first.a_lead == bs.lead_id, after])
    if within is not None:
        j = j.filter(j.day <= within)
    w = ibis.window(group_by=j.lead_id, order_by=[j.ts, j.seq])
    j = j.mutate(_n=ibis.row_number().over(w))
    return j.filter(j._n == 0).select("lead_id", r_ts=j.ts, r_seq=j.seq)
