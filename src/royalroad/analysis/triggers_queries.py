"""Engine queries of the trigger analysis: Ibis expressions, nothing executes here.

Notes are joined to the tokenised texts (:mod:`royalroad.analysis.triggers_texts`) by
their text, so every count that grows with the notes — leads per term and outcome, the
stage of every mention, the goal's moment — is a set-based query. Only notes written
strictly before the close count (``mark`` NULL; for open leads: not after the as-of
date); notes at or after the close (``after_close``) are counted apart, to flag
proxies, and never as mentions.
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis
import ibis.expr.types as ir

from royalroad.analysis import milestones as m
from royalroad.backends import median

DAY = 86400.0


def scoped_notes(notes: ir.Table, leads: ir.Table) -> ir.Table:
    """Notes with text of the leads the analyses see, before the close or at/after it."""
    n = notes.filter(
        notes.text.notnull()
        & (notes.text != "")
        & (notes.mark.isnull() | (notes.mark == "after_close"))
    )
    ld = leads.select("lead_id", "lead_key", "created_at", "outcome", "closed_at")
    return n.select("lead_id", "ts", "text", "mark", "_file", "_line").join(ld, "lead_id")


def distinct_texts(scoped: ir.Table) -> ir.Table:
    return scoped.select("text").distinct()


def mention_counts(scoped: ir.Table, texts: ir.Table, pairs: ir.Table, key: str) -> ir.Table:
    """Per term (or category) ``key``: leads mentioning it before the close per outcome,
    notes of closed leads before and at/after the close, and when it is noted (median
    days to the close, place between creation and close, days since creation)."""
    j = scoped.join(texts.select("tid", "text"), "text").join(pairs, "tid")
    before = j.mark.isnull()
    closed = j.outcome.isin(["won", "lost"])
    created = j.created_at.epoch_seconds()
    close = j.closed_at.epoch_seconds()
    ts = j.ts.epoch_seconds()
    return j.group_by(key).agg(
        won=j.lead_key.nunique(where=before & (j.outcome == "won")),
        lost=j.lead_key.nunique(where=before & (j.outcome == "lost")),
        open=j.lead_key.nunique(where=before & (j.outcome == "open")),
        notes_closed=j.count(where=before & closed),
        notes_after=j.count(where=j.mark == "after_close"),
        to_close=median((close - ts) / DAY, before & closed),
        position=median((ts - created) / (close - created), before & closed & (close > created)),
        day=median((ts - created) / DAY, before),
    )


def note_counts(scoped: ir.Table, texts: ir.Table) -> tuple[ir.Table, ir.Table]:
    """Notes and leads with notes per phase (before / after_close) and outcome; notes per
    language."""
    phase = scoped.mark.isnull().ifelse("before", "after_close")
    s = scoped.mutate(phase=phase)
    by_outcome = s.group_by(["phase", "outcome"]).agg(notes=s.count(), leads=s.lead_key.nunique())
    j = scoped.join(texts.select("text", "lang"), "text")
    return by_outcome, j.group_by("lang").agg(notes=j.count())


def goal_moment(events: ir.Table, leads: ir.Table, goal) -> ir.Table:
    """``(r_lead, r_ts)``: when each lead reached the goal (its events before the close)."""
    e = m.journey(events, leads)
    occ = m.with_occurrence(e, goal.min_count)
    r = m.goal_reach(e, occ, goal.activity, goal.min_count, goal.within_days, goal.then)
    ev = events.select(e_lead=events.lead_key, e_pos=events.pos, r_ts=events.ts)
    j = r.join(ev, [r.lead_key == ev.e_lead, r.r_pos == ev.e_pos])
    return j.select(r_lead=j.lead_key, r_ts=j.r_ts)


def stage_counts(
    scoped: ir.Table,
    texts: ir.Table,
    cats: ir.Table,
    events: ir.Table,
    moment: ir.Table | None,
) -> ir.Table:
    """Per category and stage (the lead's last activity at or before the note; NULL when
    none yet): notes before the close that mention it, and of those, written before the
    lead reached the goal, at or after it, or by leads that never reached it."""
    n = scoped.filter(scoped.mark.isnull()).join(texts.select("tid", "text"), "text")
    n = n.join(cats, "tid").select("cat_id", "lead_key", "ts", "_file", "_line")
    ev = events.filter(events.mark.isnull()).select(
        e_lead=events.lead_key,
        e_act=events.activity.cast("string"),
        e_ts=events.ts,
        e_pos=events.pos,
    )
    j = n.left_join(ev, [n.lead_key == ev.e_lead, ev.e_ts <= n.ts])
    per = j.group_by(["cat_id", "lead_key", "ts", "_file", "_line"]).agg(
        stage=j.e_act.argmax(j.e_pos)
    )
    if moment is not None:
        per = per.left_join(moment, per.lead_key == moment.r_lead)
        reached = per.r_ts.notnull()
        before = reached & (per.ts < per.r_ts)
        after = reached & (per.ts >= per.r_ts)
    else:
        before = after = reached = ibis.literal(False)
    return per.group_by(["cat_id", "stage"]).agg(
        notes=per.count(),
        before_goal=per.count(where=before),
        after_goal=per.count(where=after),
        without_goal=per.count(where=~reached),
    )


def example_notes(
    scoped: ir.Table, texts: ir.Table, pairs: ir.Table, key: str, ids: Sequence[int], per_class: int
) -> ir.Table:
    """Up to ``per_class`` distinct texts per id and outcome (closed leads, before the
    close), the first by lead id and time."""
    sel = pairs.filter(pairs[key].isin([int(i) for i in ids]))
    closed = scoped.filter(scoped.mark.isnull() & scoped.outcome.isin(["won", "lost"]))
    j = closed.join(texts.select("tid", "text"), "text").join(sel, "tid")
    g = j.group_by([key, "outcome", "text"]).agg(lead_id=j.lead_id.min(), ts=j.ts.min())
    w = ibis.window(group_by=[g[key], g.outcome], order_by=[g.lead_id, g.ts, g.text])
    g = g.mutate(r=ibis.row_number().over(w))
    return g.filter(g.r < per_class)


def mention_events(scoped: ir.Table, texts: ir.Table, cats: ir.Table, names: ir.Table) -> ir.Table:
    """Every note that mentions a category, as an event ``note: <category>`` (mark kept:
    notes at or after the close are events after the close), for the goals grid."""
    j = scoped.join(texts.select("tid", "text"), "text").join(cats, "tid").join(names, "cat_id")
    return j.select("lead_id", "lead_key", "activity", "ts", "mark").distinct()
