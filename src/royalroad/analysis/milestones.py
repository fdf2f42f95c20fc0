"""Milestone queries: Ibis expressions that count candidate milestones in the engine.

A *milestone* is "activity A at least k times within d days of creation" or "A then
B" (B after A). Every builder here takes Ibis tables and returns an Ibis expression,
so the same code runs on DuckDB, Spark or a warehouse; only the per-milestone counts
(:func:`single_counts`, :func:`pair_counts`) execute, to bound their medians' memory
(:func:`grouped`).

Only events that feed milestones are used: ``mark IS NULL`` (strictly before the
close for closed leads, not after the as-of date, complete lifecycle). Events are
ordered by ``pos``, their place in the lead's journey, which the workspace stores
(``(ts, seq)`` order: ties in time follow the source order); leads are joined and
partitioned on the integer ``lead_key``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import ibis
import ibis.expr.types as ir

from royalroad.backends import as_int, median

if TYPE_CHECKING:
    import pandas as pd

DAY = 86400.0
OUTCOMES = ("won", "lost", "open")


def journey(events: ir.Table, leads: ir.Table, segments: Sequence[str] = ()) -> ir.Table:
    """Usable events with their lead's outcome, ``day`` since creation and ``close_day``.

    ``events`` as :meth:`Workspace.table` gives them: with ``occ`` (stored, or numbered
    in the query by :func:`royalroad.engine.journey_keys`).
    """
    ev = events.filter(events.mark.isnull()).select("lead_key", "activity", "ts", "pos", "occ")
    ld = leads.select("lead_key", "created_at", "outcome", "closed_at", *segments)
    e = ev.join(ld, "lead_key")
    created = e.created_at.epoch_seconds()
    return e.mutate(
        day=(e.ts.epoch_seconds() - created) / DAY,
        close_day=(e.closed_at.epoch_seconds() - created) / DAY,
    )


def with_occurrence(e: ir.Table, max_count: int) -> ir.Table:
    """Each lead's occurrences 1, 2, … of an activity as ``k`` (journey order); keep ≤ max_count.

    The number is the workspace's ``occ`` (``royalroad.engine.number_occurrences``):
    stored by ``ingest``, so no query sorts the events again to count them.
    """
    e = e.filter(e.occ <= max_count)
    return e.mutate(k=e.occ).drop("occ")


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
            aggs[f"reach_{i}"] = median(t.day, within)
            aggs[f"toclose_{i}"] = median(t.close_day - t.day, within & closed)
    return aggs


MEDIAN_VALUES_PER_QUERY = 100_000_000
"""Rows × medians that one query may aggregate. An exact median holds every value of
its group until the end (DuckDB's quantile state), so the goal search's 15 medians
over 100M occurrences passed 26 GiB of spill in one query; past this bound the
medians are computed a few per query, over the same (materialised) table."""


def grouped(t: ir.Table, by: Sequence[str], aggs: dict[str, ir.Value]) -> pd.DataFrame:
    """``t.group_by(by).agg(**aggs)``, executed: in one query, or, when ``t`` has so
    many rows that its medians would not fit (:data:`MEDIAN_VALUES_PER_QUERY`), the
    counts with the first medians and the other medians in further queries, joined on
    ``by`` (the same numbers: every query groups the same rows)."""
    import ibis.expr.operations as ops

    by = list(by)
    medians = [n for n, v in aggs.items() if isinstance(v.op(), ops.Median)]
    per_query = len(medians)
    if per_query > 1:
        rows = int(t.count().execute())
        per_query = min(per_query, max(1, MEDIAN_VALUES_PER_QUERY // max(rows, 1)))
    later = medians[per_query:]
    df = t.group_by(by).agg(**{n: v for n, v in aggs.items() if n not in later}).execute()
    for i in range(0, len(later), max(per_query, 1)):
        part = t.group_by(by).agg(**{n: aggs[n] for n in later[i : i + per_query]}).execute()
        df = df.merge(part, on=by, how="left", validate="one_to_one")
    return df[[*by, *aggs]]


def single_counts(
    occ: ir.Table, windows: Sequence[int | None], strata: Sequence[str] = ()
) -> pd.DataFrame:
    """Leads reaching "≥k × activity within d days", per (activity, k[, strata]) and outcome.

    With ``strata`` the medians are left out (they do not add up across strata).
    """
    aggs = _window_aggs(occ, windows, medians=not strata)
    if not strata:
        closed = occ.outcome.isin(["won", "lost"]) & (occ.close_day > 0)
        aggs["position"] = median(occ.day / occ.close_day, closed & (occ.k == 1))
    return grouped(occ, ["activity", "k", *strata], aggs)


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
) -> pd.DataFrame:
    """Leads reaching "A then B within d days", per (A, B[, strata]) and outcome."""
    return grouped(reach, ["a", "b", *strata], _window_aggs(reach, windows, medians=not strata))


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


# --- creation-period cohorts ---------------------------------------------------------

PERIOD_SEGMENTS = ("created_quarter", "created_month")
"""Segments derived from ``created_at`` in the query (never stored): usable wherever a
lead column is, e.g. ``--adjust created_quarter``."""


def period(created: ir.TimestampValue, name: str) -> ir.StringValue:
    """``2024-Q3`` (created_quarter) or ``2024-07`` (created_month); NULL without a date."""
    year = created.year().cast("string")
    if name == "created_quarter":
        return year + "-Q" + created.quarter().cast("string")
    return year + "-" + created.month().cast("string").lpad(2, "0")


def with_periods(leads: ir.Table, segments: Sequence[str]) -> ir.Table:
    """``leads`` with the creation-period columns among ``segments`` derived."""
    derived = {s: period(leads.created_at, s) for s in segments if s in PERIOD_SEGMENTS}
    return leads.mutate(**derived) if derived else leads


def segment_sizes(leads: ir.Table, segments: Sequence[str]) -> ir.Table:
    """One row: the number of distinct values of each segment (NULL counts as one)."""
    return leads.aggregate(
        **{s: leads[s].nunique() + as_int(leads[s].isnull().any()) for s in segments}
    )


# --- the reach of a handful of candidates ----------------------------------------------

ANY_TIME = -1
"""``within`` of a candidate without a day window, in :func:`candidate_reach`'s tables."""


def candidate_reach(
    occ: ir.Table,
    singles: ir.Table | None,
    pairs: ir.Table | None,
    reach: ir.Table | None = None,
) -> ir.Table:
    """``(cid, lead_key)``: the leads that reached each of a few candidates.

    ``singles`` holds ``cid, activity, k, within`` and ``pairs`` ``cid, a, b, within``
    (``within`` = :data:`ANY_TIME` for no window): small tables of candidates joined
    to the occurrences and to ``reach`` (:func:`pair_reach` over the pairs'
    activities) instead of one query per candidate.
    """
    parts = []
    if singles is not None:
        j = occ.join(singles, [occ.activity == singles.activity, occ.k == singles.k])
        j = j.filter((j.within == ANY_TIME) | (j.day <= j.within))
        parts.append(j.select("cid", "lead_key"))
    if pairs is not None and reach is not None:
        j = reach.join(pairs, [reach.a == pairs.a, reach.b == pairs.b])
        j = j.filter((j.within == ANY_TIME) | (j.day <= j.within))
        parts.append(j.select("cid", "lead_key"))
    if not parts:
        raise ValueError("candidate_reach needs singles, or pairs with their reach")
    return parts[0] if len(parts) == 1 else parts[0].union(parts[1], distinct=False)


def stratified_counts(reach: ir.Table, leads: ir.Table, segments: Sequence[str]) -> ir.Table:
    """Closed leads per ``(segment, value, cid, outcome)``, in one query.

    ``reach`` is :func:`candidate_reach`'s ``(cid, lead_key)``; rows with ``cid`` =
    -1 count every closed lead of the stratum (the stratum's totals). ``value`` is the
    segment's value as text (NULL for a missing value).
    """
    closed = leads.filter(leads.outcome.isin(["won", "lost"]))
    parts = []
    for s in segments:
        lv = closed.select("lead_key", "outcome", value=closed[s].cast("string"))
        j = reach.join(lv, "lead_key")
        reached = j.group_by(["cid", "value", "outcome"]).agg(n=j.count())
        totals = lv.group_by(["value", "outcome"]).agg(n=lv.count())
        for part in (reached, totals.mutate(cid=ibis.literal(-1, "int64"))):
            parts.append(
                part.select(
                    segment=ibis.literal(s),
                    value=part.value,
                    cid=part.cid.cast("int64"),
                    outcome=part.outcome,
                    n=part.n,
                )
            )
    return ibis.union(*parts, distinct=False)


def given_counts(
    occ: ir.Table,
    pairs: ir.Table | None,
    reached: ir.Table,
    windows: Sequence[int | None],
) -> ir.Table:
    """Among the closed leads in ``reached`` (the goal's), every candidate's reachers by
    outcome: ``activity, then, k, won_i, lost_i`` for each window ``i``, in one query.

    ``pairs`` is :func:`pair_reach` (or None without pairs). Singles have ``then``
    NULL; pairs have ``k`` = 1.
    """
    keys = reached.select("lead_key").distinct()

    def aggs(t: ir.Table) -> dict[str, ir.Value]:
        out: dict[str, ir.Value] = {}
        for i, d in enumerate(windows):
            within = (t.day <= d) if d is not None else ibis.literal(True)
            for o in ("won", "lost"):
                out[f"{o}_{i}"] = t.count(where=within & (t.outcome == o))
        return out

    s = occ.filter(occ.outcome.isin(["won", "lost"])).semi_join(keys, "lead_key")
    singles = s.group_by(["activity", "k"]).agg(**aggs(s))
    singles = singles.select(
        "activity", then=ibis.null("string"), k=singles.k.cast("int64"), **_counts_of(singles)
    )
    if pairs is None:
        return singles
    p = pairs.filter(pairs.outcome.isin(["won", "lost"])).semi_join(keys, "lead_key")
    grouped = p.group_by(["a", "b"]).agg(**aggs(p))
    grouped = grouped.select(
        activity=grouped.a,
        then=grouped.b,
        k=ibis.literal(1, "int64"),
        **_counts_of(grouped),
    )
    return singles.union(grouped, distinct=False)


def _counts_of(t: ir.Table) -> dict[str, ir.Value]:
    return {c: t[c] for c in t.columns if c.startswith(("won_", "lost_"))}
