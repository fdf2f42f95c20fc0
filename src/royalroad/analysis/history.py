"""History-aware lead states, as Ibis expressions (the engine side of next best action).

A lead's *state* is what it has done, not only where it stands: the set of royal-road
milestones it has passed, and whether it has passed the intermediate goal. States
only grow along a journey, so each is one contiguous stretch of it, and the state id
``mask * 2 + passed`` (``mask`` has bit k for the road's k-th milestone) strictly
increases: the current state of a lead is its largest id.

From the chain's journeys (first occurrences, proxies left out, ``passed`` marked;
:func:`royalroad.analysis.paths.chain_tables`) these builders derive:

* :func:`stepped`: every step with the state it was taken in (``s_before``) and the
  state it led to (``s_after``);
* :func:`visits`: one row per lead and state it was in, with when it entered it
  (every lead starts in state 0 at its creation, events or not);
* :func:`state_counts` / :func:`action_counts`: per state, and per state and step
  taken while in it, leads by outcome, and for the nurture metric how many entered
  the state at least ``horizon`` days before the as-of date and how many of those
  reached the goal within ``horizon`` days of entering it;
* :func:`transitions`: state → next state (or the lead's end), for the chain;
* :func:`current`: open leads with their current state, last step and days idle.

Nothing here executes; the analysis (:mod:`royalroad.analysis.nba`) pulls the
per-state summaries, which grow with states × activities, not with events.
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis
import ibis.expr.types as ir

from royalroad.backends import as_int

DAY = 86400.0
ONE_OFF_SHARE = 0.8
"""A step is a checklist item (a milestone) when at least this share of the leads that
did it did it once; repeated steps (e-mail opens, calls) are not."""
ENTRY_SHARE = 0.9
"""A step that opened the journey of at least this share of the leads that did it is an
entry (a source): never advised, and not part of a lead's state."""


def stepped(o: ir.Table, road: Sequence[str]) -> ir.Table:
    """Steps of ``o`` with ``s_before`` / ``s_after``: the lead's state before and after.

    ``road``: the milestone activities, in road order (bit k for ``road[k]``).
    """
    w_cum = ibis.window(group_by=o.lead_key, order_by=o.pos, rows=(None, 0))
    mask = ibis.literal(0).cast("int64")
    for k, activity in enumerate(road):
        hit = as_int(o.activity.cast("string") == activity)
        mask = mask + hit.max().over(w_cum) * (2**k)
    passed = as_int(o.passed).max().over(w_cum)
    t = o.select(
        "lead_key", "activity", "ts", "pos", "outcome", "created_at", s_after=mask * 2 + passed
    )
    w = ibis.window(group_by=t.lead_key, order_by=t.pos)
    return t.mutate(s_before=ibis.coalesce(t.s_after.lag().over(w), 0))


def step_profile(events: ir.Table, o: ir.Table) -> ir.Table:
    """Per activity: leads that did it, leads that did it exactly once, and leads whose
    journey (first occurrences) it opened. Tells one-off steps (a checklist item: a
    quote, a trial) from repeated ones (e-mail opens) and from entries (a trade-show
    card exchange opens the journey: a source, not something to do next)."""
    per = events.group_by(["activity", "lead_key"]).agg(k=events.count())
    reps = per.group_by("activity").agg(leads=per.count(), once=per.count(where=per.k == 1))
    first = o.group_by(o.activity).agg(opened=o.count(where=o.n == 1))
    j = reps.join(first, reps.activity == first.activity)
    return j.select(
        activity=reps.activity.cast("string"), leads=j.leads, once=j.once, opened=j.opened
    )


def step_kinds(profile) -> tuple[set[str], set[str]]:
    """From a computed :func:`step_profile`: (entries, repeated steps)."""
    prof = profile[profile.leads > 0]
    entries = set(prof.activity[prof.opened >= ENTRY_SHARE * prof.leads])
    repeated = set(prof.activity[prof.once < ONE_OFF_SHARE * prof.leads])
    return entries, repeated


def goal_times(o: ir.Table) -> ir.Table:
    """(lead_key, goal_ts): when each lead passed the goal."""
    g = o.filter(o.passed)
    return g.group_by(g.lead_key).agg(goal_ts=g.ts.min())


def visits(st: ir.Table, leads: ir.Table) -> ir.Table:
    """One row per lead and state it has been in: lead_key, s, entry_ts, outcome.

    State 0 is entered at the lead's creation (or its first step when the creation
    date is missing); a later state at the step that led into it.
    """
    entered = st.filter(st.s_after != st.s_before)
    later = entered.group_by(["lead_key", "s_after"]).agg(entry_ts=entered.ts.min())
    later = later.select("lead_key", s=later.s_after, entry_ts=later.entry_ts)
    first = st.group_by("lead_key").agg(first_ts=st.ts.min())
    ld = leads.select("lead_key", "created_at")
    ld = ld.left_join(first, ld.lead_key == first.lead_key)
    start = ld.select(
        "lead_key",
        s=ibis.literal(0).cast("int64"),
        entry_ts=ibis.coalesce(ld.created_at, ld.first_ts),
    )
    v = start.union(later)
    out = leads.select("lead_key", "outcome")
    return v.join(out, "lead_key")


def _with_metric(t: ir.Table, goals: ir.Table, as_of, horizon: float) -> ir.Table:
    """Adds ``evaluable`` (entered ≥ horizon days before as-of) and ``reached``
    (passed the goal within horizon days after entering)."""
    g = goals.rename(g_lead="lead_key")
    j = t.left_join(g, t.lead_key == g.g_lead)
    cutoff = ibis.literal(as_of).cast("timestamp").epoch_seconds() - horizon * DAY
    entry = j.entry_ts.epoch_seconds()
    gap = j.goal_ts.epoch_seconds() - entry
    return j.mutate(
        evaluable=ibis.coalesce(entry <= cutoff, False),
        reached=ibis.coalesce((gap >= 0) & (gap <= horizon * DAY), False),
    )


def _counts(t: ir.Table, keys: Sequence[str]) -> ir.Table:
    ev = t.evaluable
    return t.group_by(list(keys)).agg(
        won=t.count(where=t.outcome == "won"),
        lost=t.count(where=t.outcome == "lost"),
        open=t.count(where=t.outcome == "open"),
        evaluable=t.count(where=ev),
        reached=t.count(where=ev & t.reached),
    )


def state_counts(v: ir.Table, goals: ir.Table, as_of, horizon: float) -> ir.Table:
    """Per state: leads by outcome, and the nurture metric's counts."""
    return _counts(_with_metric(v, goals, as_of, horizon), ["s"])


def action_counts(st: ir.Table, v: ir.Table, goals: ir.Table, as_of, horizon: float) -> ir.Table:
    """Per state and activity: leads that took that step while in the state.

    Also counts ``went_next``: the step was the one that moved the lead on (its next
    milestone), for "leads in this state commonly go straight to it".
    """
    moved = as_int(st.s_after != st.s_before)
    d = st.group_by(lead_key=st.lead_key, s=st.s_before, activity=st.activity).agg(
        moved=moved.max()
    )
    vv = v.rename(v_lead="lead_key", v_s="s")
    j = d.join(vv, [d.lead_key == vv.v_lead, d.s == vv.v_s])
    j = j.select("lead_key", "s", "activity", "moved", "entry_ts", "outcome")
    t = _with_metric(j, goals, as_of, horizon)
    ev = t.evaluable
    return t.group_by(["s", "activity"]).agg(
        won=t.count(where=t.outcome == "won"),
        lost=t.count(where=t.outcome == "lost"),
        open=t.count(where=t.outcome == "open"),
        evaluable=t.count(where=ev),
        reached=t.count(where=ev & t.reached),
        went_next=t.count(where=t.moved == 1),
    )


def transitions(v: ir.Table) -> ir.Table:
    """State → next state (``nxt``), or → the lead's end (``nxt`` NULL, by outcome)."""
    w = ibis.window(group_by=v.lead_key, order_by=v.s)
    t = v.mutate(nxt=v.s.lead().over(w))
    return t.group_by(["s", "nxt", "outcome"]).agg(n=t.count())


def waits(st: ir.Table) -> ir.Table:
    """Per state: hours leads waited in it before their next step (p90, n).

    Measured between consecutive steps (first occurrences), or from creation to the
    first step for state 0.
    """
    w = ibis.window(group_by=st.lead_key, order_by=st.pos)
    prev = st.ts.lag().over(w)
    since = ibis.coalesce(prev, st.created_at)
    hours = (st.ts.epoch_seconds() - since.epoch_seconds()) / 3600.0
    t = st.select(s=st.s_before, hours=hours).filter(lambda x: x.hours.notnull())
    return t.group_by("s").agg(p90=t.hours.quantile(0.9), n=t.count())


def current(st: ir.Table, leads: ir.Table, as_of, events: ir.Table, owner: str | None) -> ir.Table:
    """Open leads: lead_id, owner, current state ``s``, last step, days idle.

    Days idle count from the last usable event of any kind (a lead that opened an
    e-mail yesterday is not idle since its first e-mail), else from creation.
    """
    w = ibis.window(group_by=st.lead_key, order_by=ibis.desc(st.pos))
    last = st.mutate(_r=ibis.row_number().over(w))
    last = last.filter(last._r == 0).select(
        l_lead=last.lead_key, s=last.s_after, step=last.activity.cast("string")
    )
    cols = ["lead_key", "lead_id", "created_at"] + ([owner] if owner else [])
    op = leads.filter(leads.outcome == "open").select(*cols)
    j = op.left_join(last, op.lead_key == last.l_lead)
    seen = events.group_by("lead_key").agg(seen_ts=events.ts.max(), events_so_far=events.count())
    seen = seen.rename(seen_lead="lead_key")
    j = j.left_join(seen, j.lead_key == seen.seen_lead)
    cutoff = ibis.literal(as_of).cast("timestamp")
    ref = ibis.coalesce(j.seen_ts, j.created_at)
    owner_col = j[owner].cast("string") if owner else ibis.null("string")
    return j.select(
        lead_id=j.lead_id,
        owner=owner_col,
        s=ibis.coalesce(j.s, 0),
        current_step=j.step,
        days_idle=(cutoff.epoch_seconds() - ref.epoch_seconds()) / DAY,
        events_so_far=ibis.coalesce(j.events_so_far, 0),
    )
