"""Engine side of the reverse plan and of tracking: Ibis expressions, nothing executes.

Everything that grows with events or leads is aggregated here, by whole days since an
origin (lead creation, or the moment the goal was reached) or by calendar month, so
that Python sees one row per (day, status) or per month:

* :func:`goal_reach` — where each lead reached the intermediate goal (its day since
  creation, timestamp and journey position), from usable events only (strictly before
  the close; not after the as-of date), as the goal search counts it;
* :func:`lag_counts` — leads per (kind, day, status) for three cumulative-incidence
  curves: creation → goal (closing without it competes), goal → close and creation →
  close (won, with lost competing); open leads are censored at the as-of date;
* :func:`open_leads` — the open leads' age, days since the goal and amount (the
  pipeline's timing);
* :func:`monthly_actuals` — leads created, goals reached and wins (count, revenue)
  per calendar month: what ``track`` compares with the plan;
* :func:`benchmark_counts` — among closed leads that reached the goal, how many did a
  given activity after it (a benchmark step such as 技術打合せ → 見積依頼).
"""

from __future__ import annotations

from datetime import datetime

import ibis
import ibis.expr.types as ir

from royalroad.analysis import milestones as m

DAY = m.DAY


def month_of(ts: ir.TimestampValue) -> ir.StringValue:
    """``2024-07`` for a timestamp (NULL stays NULL)."""
    return ts.year().cast("string") + "-" + ts.month().cast("string").lpad(2, "0")


def goal_reach(events: ir.Table, leads: ir.Table, goal) -> ir.Table:
    """``lead_key, reach_day, reach_ts, r_pos``: the event that completed the goal milestone.

    ``goal`` has ``activity``, ``then``, ``min_count`` and ``within_days`` (a
    :class:`~royalroad.analysis.goals_result.Candidate`). Only usable events count
    (``mark IS NULL``), as in the goal search.
    """
    acts = [goal.activity] + ([goal.then] if goal.then else [])
    e = m.journey(events.filter(events.activity.isin(acts)), leads)
    occ = m.with_occurrence(e, max(goal.min_count, 1))
    if goal.then is None:
        cond = (occ.activity == goal.activity) & (occ.k == goal.min_count)
        if goal.within_days is not None:
            cond &= occ.day <= goal.within_days
        hit = occ.filter(cond)
        return hit.select("lead_key", reach_day=hit.day, reach_ts=hit.ts, r_pos=hit.pos)
    first = occ.filter((occ.k == 1) & (occ.activity == goal.activity)).select(
        a_lead=occ.lead_key, a_pos=occ.pos
    )
    bs = e.filter(e.activity == goal.then).select("lead_key", "pos", "day", "ts")
    j = first.join(bs, [first.a_lead == bs.lead_key, bs.pos > first.a_pos])
    if goal.within_days is not None:
        j = j.filter(j.day <= goal.within_days)
    return j.group_by("lead_key").agg(reach_day=j.day.min(), reach_ts=j.ts.min(), r_pos=j.pos.min())


def _timed(leads: ir.Table, reach: ir.Table, as_of: datetime, segment: str | None) -> ir.Table:
    """Leads with a creation date, their end (close, else the as-of date) in days since
    creation and their goal reach (NULL when not reached)."""
    cols = ["lead_key", "created_at", "closed_at", "outcome", "amount"]
    ld = leads.filter(leads.created_at.notnull())
    ld = ld.select(*cols, seg=ld[segment].cast("string") if segment else ibis.null("string"))
    r = reach.select(r_key=reach.lead_key, reach_day=reach.reach_day)
    j = ld.left_join(r, ld.lead_key == r.r_key)
    end = ibis.coalesce(j.closed_at, ibis.literal(as_of).cast("timestamp"))
    end_day = (end.epoch_seconds() - j.created_at.epoch_seconds()) / DAY
    return j.mutate(end_day=ibis.greatest(end_day, 0.0), reached=j.reach_day.notnull())


def _days(x: ir.NumericValue) -> ir.IntegerValue:
    return ibis.greatest(x.ceil(), 0).cast("int64")


def lag_counts(
    leads: ir.Table, reach: ir.Table, as_of: datetime, segment: str | None = None
) -> ir.Table:
    """Leads per ``(kind, seg, t, status)``: whole days ``t`` to an event or censoring.

    * ``lead_goal``: ``goal`` at the day the goal was reached; ``closed`` when the lead
      closed without reaching it (a competing end); ``open`` censored at the as-of date;
    * ``goal_close``: among leads that reached the goal, days from it to the close,
      ``won`` / ``lost`` / ``open``;
    * ``lead_close``: days from creation to the close, ``won`` / ``lost`` / ``open``.

    ``seg`` is the segment's value as text (NULL without a segment).
    """
    t = _timed(leads, reach, as_of, segment)
    no_goal = ibis.cases((t.outcome == "open", "open"), else_="closed")
    parts = [
        t.select(
            kind=ibis.literal("lead_goal"),
            seg=t.seg,
            t=_days(t.reached.ifelse(t.reach_day, t.end_day)),
            status=t.reached.ifelse(ibis.literal("goal"), no_goal),
        ),
        t.filter(t.reached).select(
            kind=ibis.literal("goal_close"),
            seg=t.seg,
            t=_days(t.end_day - t.reach_day),
            status=t.outcome,
        ),
        t.select(kind=ibis.literal("lead_close"), seg=t.seg, t=_days(t.end_day), status=t.outcome),
    ]
    u = ibis.union(*parts, distinct=False)
    return u.group_by(["kind", "seg", "t", "status"]).agg(n=u.count())


def reach_counts(leads: ir.Table, reach: ir.Table, segment: str | None = None) -> ir.Table:
    """Closed leads per ``(seg, reached, outcome)`` (the goal's 2×2 table, per segment)."""
    ld = leads.filter(leads.outcome.isin(["won", "lost"]))
    ld = ld.select(
        "lead_key", "outcome", seg=ld[segment].cast("string") if segment else ibis.null("string")
    )
    r = reach.select(r_key=reach.lead_key)
    j = ld.left_join(r, ld.lead_key == r.r_key)
    j = j.mutate(reached=j.r_key.notnull())
    return j.group_by(["seg", "reached", "outcome"]).agg(n=j.count())


def segment_mix(leads: ir.Table, segment: str, since: datetime) -> ir.Table:
    """Leads created since ``since`` per value of ``segment`` (the mix of new leads)."""
    ld = leads.filter(leads.created_at >= ibis.literal(since).cast("timestamp"))
    v = ld.select(seg=ld[segment].cast("string"))
    return v.group_by("seg").agg(n=v.count())


def won_amounts(leads: ir.Table, segment: str | None = None) -> ir.Table:
    """Per segment value: won leads with an amount, their mean and standard deviation."""
    won = leads.filter((leads.outcome == "won") & leads.amount.notnull())
    won = won.select("amount", seg=won[segment].cast("string") if segment else ibis.null("string"))
    return won.group_by("seg").agg(
        n=won.count(), mean=won.amount.mean(), sd=won.amount.std(how="sample")
    )


def open_leads(leads: ir.Table, reach: ir.Table, as_of: datetime) -> ir.Table:
    """Open leads: ``lead_id``, whole days of age and since the goal (NULL when not
    reached), and the amount."""
    t = _timed(leads.filter(leads.outcome == "open"), reach, as_of, None)
    ids = leads.select(i_key=leads.lead_key, lead_id=leads.lead_id)
    t = t.join(ids, t.lead_key == ids.i_key)
    return t.select(
        "lead_id",
        age=t.end_day.floor().cast("int64"),
        since_goal=(t.end_day - t.reach_day).floor().cast("int64"),
        amount=t.amount.cast("float64"),
    ).order_by("lead_id")


def monthly_actuals(leads: ir.Table, reach: ir.Table, first: str, last: str) -> ir.Table:
    """Per calendar month ``YYYY-MM`` from ``first`` to ``last``: ``what`` ∈ {leads,
    goals, wins} with ``n`` and (wins) the revenue ``amount``."""
    created = leads.filter(leads.created_at.notnull())
    c = created.select(month=month_of(created.created_at), amount=ibis.null("float64"))
    r = reach.select(month=month_of(reach.reach_ts), amount=ibis.null("float64"))
    won = leads.filter((leads.outcome == "won") & leads.closed_at.notnull())
    w = won.select(month=month_of(won.closed_at), amount=won.amount.cast("float64"))
    parts = []
    for what, part in (("leads", c), ("goals", r), ("wins", w)):
        part = part.filter((part.month >= first) & (part.month <= last))
        parts.append(
            part.group_by("month").agg(
                what=ibis.literal(what), n=part.count(), amount=part.amount.sum()
            )
        )
    return ibis.union(*parts, distinct=False)


def benchmark_counts(events: ir.Table, leads: ir.Table, reach: ir.Table, activity: str) -> ir.Table:
    """One row: closed leads that reached the goal (``n``) and those of them that did
    ``activity`` after it, before the close (``k``)."""
    closed = leads.filter(leads.outcome.isin(["won", "lost"])).select(c_key=leads.lead_key)
    r = reach.join(closed, reach.lead_key == closed.c_key).select("lead_key", "r_pos")
    ev = events.filter(events.mark.isnull() & (events.activity == activity))
    ev = ev.select(e_key=ev.lead_key, e_pos=ev.pos)
    after = r.join(ev, [r.lead_key == ev.e_key, ev.e_pos > r.r_pos]).select("lead_key").distinct()
    did = after.aggregate(k=after.count())
    total = r.aggregate(n=r.count())
    return total.cross_join(did)
