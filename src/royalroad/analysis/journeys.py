"""Journey queries: directly-follows edges, variants and lead states, as Ibis expressions.

Everything that grows with the number of events is expressed here and executed by
the backend; Python sees per-edge and per-variant summaries only. Order is the
workspace's ``pos`` (``(ts, seq)``: ties in time follow the source order, as pm4py
does), and leads are keyed by the integer ``lead_key``.

Scopes:

* ``before_close`` (default): events that feed milestones (``mark IS NULL``);
* ``all``: every complete event, including those after the close or the as-of date
  (the process-mining view; what pm4py counts).
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis
import ibis.expr.types as ir

from royalroad.backends import ordered_collect, pair_hash

START = "▶start"
WON = "■won"
LOST = "■lost"
OPEN = "■open"
MORE = "…"
SEP = "\x1f"
MARK = " ✓"
"""Suffix of a chain state once the lead has passed the intermediate goal."""
SCOPES = ("before_close", "all")
BASE = ("lead_key", "activity", "ts", "pos", "outcome", "created_at")
"""Columns of an event in :func:`ordered`, before the window adds its own."""


def usable(events: ir.Table, scope: str = "before_close") -> ir.Table:
    if scope == "all":
        return events.filter(events.mark.isnull() | (events.mark != "not_complete"))
    return events.filter(events.mark.isnull())


def ordered(
    ev: ir.Table, leads: ir.Table, *, reach: ir.Table | None = None, first_only: bool = False
) -> ir.Table:
    """Events with their lead's outcome, chain ``state``, the previous / next state and
    ``n``, the event's place (1, 2, …) in the lead's journey as filtered here.

    ``state`` is the activity, marked with ``✓`` once the lead has passed the
    intermediate goal when ``reach`` (lead_key, r_pos: where the goal was reached) is
    given. ``first_only`` keeps each activity's first occurrence per lead (before and
    after the goal), so that repeats (a fifth e-mail) do not dominate the chain.

    Order is the workspace's ``pos`` (``(ts, seq)`` order, computed once at ingest).
    The window sorts only what it needs (key, position, activity code, time, flag);
    the lead's outcome and creation date are joined after it, and the state strings
    are built after it, so that the one sort per lead moves a few bytes per event.
    Without ``reach`` the states are the activities themselves (the workspace's
    activity codes), which keeps the aggregations that follow cheap too.
    """
    e = ev.select("lead_key", "activity", "ts", "pos")
    if reach is not None:
        r = reach.rename(r_lead="lead_key")
        e = e.left_join(r, e.lead_key == r.r_lead)
        e = e.select(
            "lead_key", "activity", "ts", "pos", passed=e.r_pos.notnull() & (e.pos >= e.r_pos)
        )
    else:
        e = e.mutate(passed=ibis.literal(False))
    if first_only:
        # First occurrence of each activity before the goal and after it. The event that
        # completes the goal ("≥2× B", "A then B") is the first of its activity after it,
        # so it is kept even when it repeats an activity.
        w1 = ibis.window(group_by=[e.lead_key, e.activity, e.passed], order_by=e.pos)
        e = e.mutate(_n=ibis.row_number().over(w1))
        e = e.filter(e._n == 0).select("lead_key", "activity", "ts", "pos", "passed")
    w = ibis.window(group_by=e.lead_key, order_by=e.pos)
    o = e.mutate(
        _pa=e.activity.lag().over(w),
        _pp=e.passed.lag().over(w),
        _na=e.activity.lead().over(w),
        _np=e.passed.lead().over(w),
        nxt_ts=e.ts.lead().over(w),
        n=ibis.row_number().over(w) + 1,  # in the same window: the backend sorts once
    )
    ld = leads.select("lead_key", "outcome", "created_at")
    o = o.join(ld, "lead_key")
    # select, not drop(): Ibis then shares this relation as one CTE between the
    # branches of a query (edges and starts), and DuckDB sorts the events once
    keep = [*BASE, "passed", "nxt_ts", "n"]
    if reach is None:
        return o.select(*keep, state=o.activity, prev=o._pa, nxt=o._na)
    return o.select(
        *keep,
        state=_state(o.activity, o.passed),
        prev=_state(o._pa, o._pp),
        nxt=_state(o._na, o._np),
    )


def _state(activity: ir.Value, passed: ir.Value) -> ir.Value:
    return passed.ifelse(activity.concat(MARK), activity.cast("string"))


def _end(outcome: ir.Value) -> ir.Value:
    return ibis.cases((outcome == "won", WON), (outcome == "lost", LOST), else_=OPEN)


def _transitions(o: ir.Table) -> tuple[ir.Table, ir.Table]:
    """The rows of the chain, before naming: each event → the next state, or to the
    lead's end (``nxt`` NULL, ``ending`` the outcome), and each lead's first event,
    entered from ``▶start``. Columns: lead_key, outcome, state, nxt, ending, hours.

    Grouping happens on these raw columns (activity codes in the process-mining
    view); :func:`_named` turns the few grouped rows into ``src`` / ``dst`` strings.
    """
    hours = (o.nxt_ts.epoch_seconds() - o.ts.epoch_seconds()) / 3600.0
    inner = o.select(
        "lead_key",
        "outcome",
        "state",
        "nxt",
        ending=o.nxt.isnull().ifelse(o.outcome, ibis.null("string")),
        hours=o.nxt.notnull().ifelse(hours, ibis.null("float64")),
    )
    first_hours = (o.ts.epoch_seconds() - o.created_at.epoch_seconds()) / 3600.0
    starts = o.filter(o.n == 1).select(
        "lead_key",
        "outcome",
        state=ibis.null("string"),
        nxt=o.state,
        ending=ibis.null("string"),
        hours=first_hours,
    )
    return inner, starts


def _named(t: ir.Table, *metrics: str) -> ir.Table:
    """Grouped transitions with ``src`` / ``dst`` names: ``▶start`` for an entry, the
    outcome's end state for an exit."""
    src = ibis.coalesce(t.state.cast("string"), ibis.literal(START))
    dst = ibis.coalesce(t.nxt.cast("string"), _end(t.ending))
    return t.select(*metrics, src=src, dst=dst)


def edges(o: ir.Table) -> ir.Table:
    """Every transition of the chain with counts by outcome: what the Markov chain and
    the royal road read (:func:`dfg` without the median gap).

    Internal edges are activity → next activity (the directly-follows graph). A
    journey also starts (``▶start`` → first activity) and, when the lead is closed,
    ends (last activity → ``■won`` / ``■lost``); an open lead's journey ends in
    ``■open``: censored, not lost (the chain keeps it apart). The chain's edges once
    also carried distinct leads and gap quantiles that nothing read; at 100M events
    that query (59M transitions, a per-lead aggregation joined to the quantiles)
    spilled past 35 GiB.
    """
    return _grouped_transitions(o, median=False)


def dfg(o: ir.Table) -> ir.Table:
    """The directly-follows view: counts by outcome and the median gap in hours, per
    transition; what the process-mining view (DFG, start / end activities) reads."""
    return _grouped_transitions(o, median=True)


def _grouped_transitions(o: ir.Table, *, median: bool) -> ir.Table:
    """:func:`_transitions` grouped per edge: start edges and the others aggregated
    separately and the small results unioned, so that the windowed events are not
    copied into one union."""
    parts = []
    for u in _transitions(o):
        aggs = {
            "count": u.count(),
            "won": u.count(where=u.outcome == "won"),
            "lost": u.count(where=u.outcome == "lost"),
            "open": u.count(where=u.outcome == "open"),
        }
        if median:
            aggs["median_hours"] = u.hours.median()
        g = u.group_by(["state", "nxt", "ending"]).agg(**aggs)
        parts.append(_named(g, *aggs))
    return parts[0].union(parts[1])


def edges_order2(o: ir.Table) -> ir.Table:
    """Transitions between pairs of consecutive activities (order-2 states)."""
    end = _end(o.outcome)
    prev = ibis.coalesce(o.prev, START)
    src = prev.concat(SEP, o.state)
    dst = o.nxt.notnull().ifelse(o.state.concat(SEP, o.nxt), end)
    inner = o.select("outcome", src=src, dst=dst)
    starts = o.filter(o.prev.isnull()).select(
        "outcome", src=ibis.literal(START), dst=prev.concat(SEP, o.state)
    )
    u = inner.union(starts)
    return u.group_by(["src", "dst"]).agg(count=u.count())


def step_flows(o: ir.Table, depth: int) -> ir.Table:
    """Leads flowing from step n to step n+1 (n < depth), ending in the outcome: for a Sankey."""
    n = o.filter(
        o.n <= depth
    )  # numbered by ordered(), in the window it sorts for prev / next anyway
    dst = ibis.coalesce(n.nxt, _end(n.outcome))
    # the last shown step of a longer journey flows to "…" (continues)
    dst = ((n.n == depth) & n.nxt.notnull()).ifelse(ibis.literal(MORE), dst)
    starts = n.filter(n.n == 1).select(
        step=ibis.literal(0).cast("int64"), src=ibis.literal(START), dst=n.state
    )
    inner = n.select(step=n.n.cast("int64"), src=n.state, dst=dst)
    u = starts.union(inner)
    return u.group_by(["step", "src", "dst"]).agg(leads=u.count())


def variants(events: ir.Table, leads: ir.Table, scope: str = "before_close") -> ir.Table:
    """Distinct journeys (activity sequences) of one scope, with leads per outcome and
    median duration.

    A journey is the lead's events in ``usable(events, scope)``, whose ``pos`` run
    1..n. Each lead's sequence is identified by an order-independent fingerprint of
    its (position, activity) pairs: two sums of 64-bit hashes, one aggregation over
    the events with no sort. Equal sequences have equal fingerprints; unequal ones
    share both sums with a probability of the order of 2⁻¹²⁸ (the tests compare
    every count with pm4py's and with an exact grouping). Then one lead per variant
    has its activities put in order, which builds ``path`` (and ``key``, the path
    joined by U+001F, for a stable tie-break) from a fraction of the events.
    """
    ev = usable(events, scope)
    step = pair_hash(ev, ev.pos, ev.activity)
    again = pair_hash(ev, ev.pos, ev.activity, swap=True)  # same pairs, another hash
    per = ev.group_by("lead_key").agg(
        h1=step.sum(),
        h2=again.sum(),
        first_ts=ev.ts.min(),
        last_ts=ev.ts.max(),
    )
    ld = leads.select("lead_key", "outcome")
    per = per.join(ld, "lead_key")
    days = (per.last_ts.epoch_seconds() - per.first_ts.epoch_seconds()) / 86400.0
    v = per.group_by(["h1", "h2"]).agg(
        leads=per.count(),
        won=per.count(where=per.outcome == "won"),
        lost=per.count(where=per.outcome == "lost"),
        open=per.count(where=per.outcome == "open"),
        median_days=days.median(),
        rep=per.lead_key.min(),
    )
    # The representatives' events: semi-join first, scope filter second, so that this
    # is not the same relation as ``ev`` (which the backend would then materialise
    # as a shared 10M-row CTE instead of scanning the table twice).
    r = v.select(r_key=v.rep)
    reps = usable(events.semi_join(r, events.lead_key == r.r_key), scope)
    # each representative's activities in journey order, in a form every backend runs
    paths = reps.group_by(r_lead=reps.lead_key).agg(
        path=ordered_collect(reps, reps.activity, reps.pos)
    )
    j = v.join(paths, v.rep == paths.r_lead)
    return j.select(
        key=j.path.join(SEP),
        path=j.path,
        leads=j.leads,
        won=j.won,
        lost=j.lost,
        open=j.open,
        median_days=j.median_days,
    )


def subsequence_pattern(steps: Sequence[str]) -> str:
    """RE2 regex matching ``SEP + key + SEP`` when the journey contains ``steps`` in order.

    >>> import re
    >>> p = subsequence_pattern(["A", "B"])
    >>> bool(re.search(p, SEP + SEP.join(["A", "X", "B"]) + SEP)), bool(
    ...     re.search(p, SEP + "A" + SEP + "XB" + SEP)
    ... )
    (True, False)
    """
    import re

    gap = f"(?:.*{SEP})?"
    return SEP + gap.join(f"{re.escape(s)}{SEP}" for s in steps)


def conformance(var: ir.Table, steps: Sequence[str]) -> ir.Table:
    """Leads per outcome, and how many of them followed ``steps`` in order (gaps allowed).

    Counted over :func:`variants`: every lead of a variant follows the same path.
    """
    hit = ibis.literal(SEP).concat(var.key, SEP).re_search(subsequence_pattern(steps))
    return var.aggregate(
        **{f"{o}_leads": var[o].sum() for o in ("won", "lost", "open")},
        **{f"{o}_followed": var[o].sum(where=hit) for o in ("won", "lost", "open")},
    )
