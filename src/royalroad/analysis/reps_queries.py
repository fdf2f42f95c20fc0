"""Reps queries: Ibis expressions over leads and events; nothing executes here.

:func:`lead_table` builds one row per lead with its rep, its strata (``--adjust``),
where and when it reached the goal, and whether it followed the royal road. The
aggregates after it grow with reps × strata, reps × days and reps × activities, never
with leads or events. Only events that feed milestones count (``mark IS NULL``:
strictly before the close, not after the as-of date).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import ibis
import ibis.expr.types as ir

from royalroad.analysis import milestones as m
from royalroad.backends import as_int

DAY = 86400.0
MISSING = "\u2205"
"""A stratum value for a missing segment value (NULL would not join)."""
STATUSES = ("event", "competing", "censored")


def owner_from_events(events: ir.Table, column: str) -> ir.Table:
    """``(lead_key, rep)``: the rep named on most of a lead's usable events (ties: the one
    on its earliest such event). For exports whose leads carry no owner column but
    whose activity log names who did each step."""
    ev = events.filter(events.mark.isnull() & events[column].notnull())
    per = ev.group_by(["lead_key", ev[column].cast("string").name("rep")]).agg(
        n=ev.count(), first=ev.pos.min()
    )
    w = ibis.window(group_by=per.lead_key, order_by=[ibis.desc(per.n), per.first, per.rep])
    ranked = per.mutate(_r=ibis.row_number().over(w))
    return ranked.filter(ranked._r == 0).select("lead_key", "rep")


def goal_reach(events: ir.Table, leads: ir.Table, goal) -> ir.Table:
    """``(lead_key, goal_pos, goal_ts)``: where and when each lead reached the goal
    milestone (a :class:`~royalroad.analysis.goals_result.Candidate`), before its close."""
    e = m.journey(events, leads)
    occ = m.with_occurrence(e, max(goal.min_count, 1))
    reach = m.goal_reach(e, occ, goal.activity, goal.min_count, goal.within_days, goal.then)
    reach = reach.group_by("lead_key").agg(goal_pos=reach.r_pos.min())
    at = e.select(g_lead=e.lead_key, g_pos=e.pos, goal_ts=e.ts)
    j = reach.join(at, [reach.lead_key == at.g_lead, reach.goal_pos == at.g_pos])
    return j.select("lead_key", "goal_pos", "goal_ts")


def followed(events: ir.Table, leads: ir.Table, steps: Sequence[str]) -> ir.Table:
    """``(lead_key)`` of the leads whose journey contains ``steps`` in order (gaps
    allowed), before the close: the earliest way through, one join per step."""
    from royalroad.analysis.funnel_queries import lead_stages

    t = lead_stages(events, leads, list(steps), "strict", cohort="created_month")
    return t.filter(t[f"p{len(steps)}"].notnull()).select("lead_key")


def _days(later: ir.Value, earlier: ir.Value) -> ir.FloatingValue:
    return (later.epoch_seconds() - earlier.epoch_seconds()) / DAY


def lead_table(
    leads: ir.Table,
    *,
    rep: str | ir.Table,
    strata: Sequence[str],
    reach: ir.Table | None,
    road: ir.Table | None,
    as_of: datetime,
    horizon: int,
) -> ir.Table:
    """One row per lead: ``lead_key, rep, stratum columns s0…, outcome, closed,
    created_at, closed_at, goal_pos, goal_ts, reached, goal_day, on_road, cohort``.

    ``rep`` is a lead column, or a ``(lead_key, rep)`` table (:func:`owner_from_events`).
    ``cohort``: the lead was created at least ``horizon`` days before the as-of date,
    so whether it reached the goal within ``horizon`` days is known for it.
    """
    ld = m.with_periods(leads, list(strata))
    cols: dict[str, ir.Value] = {
        "lead_key": ld.lead_key,
        "created_at": ld.created_at,
        "closed_at": ld.closed_at,
        "outcome": ld.outcome,
    }
    for i, s in enumerate(strata):
        cols[f"s{i}"] = ibis.coalesce(ld[s].cast("string"), ibis.literal(MISSING))
    if isinstance(rep, str):
        cols["rep"] = ld[rep].cast("string")
        t = ld.select(**cols)
    else:
        t = ld.select(**cols)
        r = rep.rename(o_key="lead_key")
        t = t.left_join(r, t.lead_key == r.o_key).drop("o_key")
    if reach is not None:
        g = reach.rename(g_key="lead_key")
        t = t.left_join(g, t.lead_key == g.g_key).drop("g_key")
    else:
        t = t.mutate(goal_pos=ibis.null("int64"), goal_ts=ibis.null("timestamp"))
    if road is not None:
        f = road.select(f_key=road.lead_key, hit=ibis.literal(True))
        t = t.left_join(f, t.lead_key == f.f_key).drop("f_key")
        on_road = t.hit.notnull()
    else:
        on_road = ibis.literal(False)
    end = ibis.literal(as_of).cast("timestamp")
    return t.select(
        *[c for c in t.columns if c not in ("hit",)],
        closed=t.outcome.isin(["won", "lost"]),
        reached=t.goal_ts.notnull(),
        goal_day=_days(t.goal_ts, t.created_at),
        on_road=on_road,
        cohort=t.created_at.notnull() & (_days(end, t.created_at) >= horizon),
    )


def counts(t: ir.Table, strata: int, horizon: int) -> ir.Table:
    """Leads per ``(rep, s0…)``: by outcome, closed leads that reached the goal (won /
    lost), leads in the horizon cohort and those of them that reached the goal within
    ``horizon`` days, and won / lost leads that followed the royal road."""
    won, lost = t.outcome == "won", t.outcome == "lost"
    hit = t.reached & (t.goal_day <= horizon)
    keys = ["rep", *(f"s{i}" for i in range(strata))]
    return t.group_by(keys).agg(
        leads=t.count(),
        won=t.count(where=won),
        lost=t.count(where=lost),
        open=t.count(where=t.outcome == "open"),
        won_goal=t.count(where=won & t.reached),
        lost_goal=t.count(where=lost & t.reached),
        cohort=t.count(where=t.cohort),
        cohort_goal=t.count(where=t.cohort & hit),
        won_road=t.count(where=won & t.on_road),
        lost_road=t.count(where=lost & t.on_road),
    )


def medians(t: ir.Table) -> ir.Table:
    """Per rep (``is_team`` false) and for the whole team (``is_team`` true, ``rep``
    NULL): the median days from creation to the goal among the leads that reached it (in
    the form PySpark accepts too: see DESIGN.md on filtered medians)."""
    hit = t.reached & t.goal_day.notnull()
    days = ibis.ifelse(hit, t.goal_day, ibis.null())
    per = t.group_by("rep").agg(goal_days=days.median(), goal_n=t.count(where=hit))
    per = per.select("rep", "goal_days", "goal_n", is_team=ibis.literal(False))
    team = t.aggregate(goal_days=days.median(), goal_n=t.count(where=hit))
    team = team.select(
        rep=ibis.null("string"),
        goal_days=team.goal_days,
        goal_n=team.goal_n,
        is_team=ibis.literal(True),
    )
    return per.union(team, distinct=False)


def incidence(t: ir.Table, as_of: datetime) -> ir.Table:
    """Leads per ``(rep, t, status)`` for the cumulative incidence of reaching the goal:
    event = reaching it (at the whole day it fell in, ``ceil``), competing = closing
    without it, censored = still open after the whole days observed (``floor``).
    Leads without a creation date cannot be placed on the time axis and are left out."""
    dated = t.filter(t.created_at.notnull())
    end = ibis.literal(as_of).cast("timestamp")
    status = ibis.cases((dated.reached, "event"), (dated.closed, "competing"), else_="censored")
    seen = ibis.ifelse(
        dated.reached,
        dated.goal_day.ceil(),
        ibis.ifelse(
            dated.closed,
            _days(ibis.coalesce(dated.closed_at, end), dated.created_at).ceil(),
            _days(end, dated.created_at).floor(),
        ),
    )
    x = dated.select("rep", t=ibis.greatest(seen, 0).cast("int64"), status=status)
    return x.group_by(["rep", "t", "status"]).agg(n=x.count())


# ---------------------------------------------------------------- practices

BANDS = (7, 14, 30, 60)
"""Edges (days) of the bands of how long a lead was watched before the goal. Leads are
compared within strata of that band and of whether they reached the goal in the
horizon: a lead that reached the goal on day 5 had less time to do anything than one
watched for the whole horizon, and a step that often comes late in a journey falls
before the close of a lead that never reached the goal but after the goal of one that
did. The top reps' leads reach the goal more often and sooner, so without strata every
late or repeated step would look like something "the best" do less."""
ALL_BANDS = -1
"""``band`` of the rows that count every band together (for the shares and the timing)."""


def _band(length: ir.NumericValue, horizon: int) -> ir.IntegerValue:
    edges = [e for e in BANDS if e < horizon]
    cases = [(length < e, i) for i, e in enumerate(edges)]
    return ibis.cases(*cases, else_=len(edges)).cast("int64")


def practice_leads(t: ir.Table, top: Sequence[str], *, horizon: int, cohort_only: bool) -> ir.Table:
    """``(l_key, created_at, goal_pos, grp, band)``: the leads the practices compare.

    Leads with a rep (in the horizon cohort when ``cohort_only``); ``grp`` is ``top`` for
    the reps in ``top``, else ``rest``; ``band`` the stratum: twice the band of how long
    the lead was watched before the goal (until the goal, the close or the horizon,
    whichever came first; :data:`BANDS`), plus one if it reached the goal within the
    horizon."""
    ld = t.filter(t.rep.notnull())
    if cohort_only:
        ld = ld.filter(ld.cohort)
    close_day = _days(ld.closed_at, ld.created_at)
    length = ibis.least(
        ibis.coalesce(ld.goal_day, ibis.literal(float(horizon))),
        ibis.coalesce(close_day, ibis.literal(float(horizon))),
        ibis.literal(float(horizon)),
    )
    return ld.select(
        l_key=ld.lead_key,
        created_at=ld.created_at,
        goal_pos=ld.goal_pos,
        grp=ld.rep.isin(list(top)).ifelse("top", "rest"),
        band=_band(length, horizon) * 2 + as_int((ld.goal_day <= horizon).fill_null(False)),
    )


def group_sizes(p: ir.Table) -> ir.Table:
    """Leads per ``(grp, band)``, and per ``grp`` with ``band`` = :data:`ALL_BANDS`."""
    per = p.group_by(["grp", "band"]).agg(n=p.count())
    every = p.group_by("grp").agg(n=p.count())
    every = every.select("grp", band=ibis.literal(ALL_BANDS, "int64"), n=every.n)
    return per.union(every, distinct=False)


def window_events(
    events: ir.Table, p: ir.Table, *, exclude: Sequence[str], horizon: int
) -> ir.Table:
    """The events the practices compare: usable events of the leads in ``p``
    (:func:`practice_leads`), strictly before the lead reached the goal and within
    ``horizon`` days of its creation, the excluded activities (proxies, the goal's own,
    entries) left out."""
    ev = events.filter(events.mark.isnull()).select(
        "lead_key", "pos", "ts", activity=events.activity.cast("string")
    )
    if exclude:
        ev = ev.filter(~ev.activity.isin(list(exclude)))
    j = ev.join(p, ev.lead_key == p.l_key)
    day = _days(j.ts, j.created_at)
    j = j.filter((j.goal_pos.isnull() | (j.pos < j.goal_pos)) & (day <= horizon))
    return j.select("lead_key", "grp", "band", "activity", "pos", day=day)


def _by_band(per: ir.Table, keys: list[str], value: ir.Value) -> ir.Table:
    """Leads and the median of ``value`` per ``(grp, band, keys)`` and per ``(grp, keys)``
    (``band`` = :data:`ALL_BANDS`), in one relation."""
    banded = per.group_by(["grp", "band", *keys]).agg(leads=per.count(), days=value.median())
    every = per.group_by(["grp", *keys]).agg(leads=per.count(), days=value.median())
    every = every.select(
        "grp",
        band=ibis.literal(ALL_BANDS, "int64"),
        **{k: every[k] for k in keys},
        leads=every.leads,
        days=every.days,
    )
    return banded.select("grp", "band", *keys, "leads", "days").union(every, distinct=False)


def single_features(w: ir.Table) -> ir.Table:
    """Per ``(grp, band, activity)``: leads that did it in the window and the median day
    of their first time (and per ``(grp, activity)`` over every band)."""
    first = w.group_by(["grp", "band", "lead_key", "activity"]).agg(day=w.day.min())
    return _by_band(first, ["activity"], first.day)


def pair_features(w: ir.Table, activities: Sequence[str]) -> ir.Table:
    """Per ``(grp, band, a, b)`` among ``activities``: leads that did B after their first
    A in the window, and the median days from that A to the first such B (and per
    ``(grp, a, b)`` over every band)."""
    ws = w.filter(w.activity.isin(list(activities)))
    first = ws.group_by(["grp", "band", "lead_key", "activity"]).agg(
        a_pos=ws.pos.min(), a_day=ws.day.min()
    )
    first = first.select(
        f_key=first.lead_key,
        grp=first.grp,
        band=first.band,
        a=first.activity,
        a_pos=first.a_pos,
        a_day=first.a_day,
    )
    bs = ws.select(b_key=ws.lead_key, b=ws.activity, b_pos=ws.pos, b_day=ws.day)
    j = first.join(bs, [first.f_key == bs.b_key, bs.b_pos > first.a_pos, first.a != bs.b])
    per = j.group_by(["grp", "band", "f_key", "a", "b"]).agg(gap=(j.b_day - j.a_day).min())
    return _by_band(per, ["a", "b"], per.gap)


__all__ = [
    "MISSING",
    "counts",
    "followed",
    "goal_reach",
    "incidence",
    "lead_table",
    "medians",
    "owner_from_events",
    "group_sizes",
    "pair_features",
    "practice_leads",
    "single_features",
    "window_events",
]
