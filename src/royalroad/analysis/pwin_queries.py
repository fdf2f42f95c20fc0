"""Engine side of P(win): leads at moments in time, described by their state, how long
they have been idle, their age and their segments (Ibis expressions; nothing executes).

A *snapshot* is a lead that was open at a moment ``t`` in the past and has closed since
(so its outcome is known): its features are what was known at ``t`` — the history state
reached by then (:mod:`royalroad.analysis.history`), the days since its last event and
since its creation — and its label is how it ended. Leads that are still open are
censored: they teach nothing about the outcome yet.

Each lead appears in every snapshot it was open at, and every snapshot weighs the same:
the leads open today are such a cross-section, where a deal that stays open longer is
more likely to be found. (Counting each lead once instead under-weighted the long
deals, which win more often, and showed P(win) 1.7 points too low in the backtest.)
The weights are scaled to add up to the number of leads, not of snapshots, so the
model's intervals are as wide as the number of independent leads warrants.

The model is fitted on *cells* (state × idle band × age band × segment values) with the
summed weights of wins and losses: the same maximum-likelihood fit as one row per
snapshot, from a table that grows with states and bands, not with leads.
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis
import ibis.expr.types as ir
import pandas as pd

DAY = 86400.0
IDLE_BANDS: tuple[float, ...] = (7, 14, 30, 60, 120)
"""Upper bounds (days) of the idle bands: 0–7, 7–14, 14–30, 30–60, 60–120, 120+."""
AGE_BANDS: tuple[float, ...] = (30, 60, 90, 180, 365)
"""Upper bounds (days) of the age bands: 0–30, 30–60, 60–90, 90–180, 180–365, 365+."""
BUSY_BANDS: tuple[float, ...] = (1, 3, 6, 11, 21)
"""Upper bounds (exclusive) of the bands of events so far: 0, 1–2, 3–5, 6–10, 11–20, 21+."""
OTHER = "(other)"
"""A segment value held by too few leads to estimate alone."""


def cell_keys(n_segments: int) -> list[str]:
    """The columns that make a cell: state, the three bands, one per segment."""
    return ["s", "idle_band", "busy_band", "age_band", *(f"g{i}" for i in range(n_segments))]


def band(days: ir.Value, bounds: Sequence[float]) -> ir.Value:
    """The band index (0, 1, …, len(bounds)) of a number of days; NULL stays NULL."""
    cases = [(days < b, i) for i, b in enumerate(bounds)]
    return ibis.cases(*cases, else_=len(bounds)).cast("int64")


def _segment_cols(t: ir.Table, segments: dict[str, tuple[str, ...]]) -> dict[str, ir.Value]:
    """Segment columns with rare values folded into ``(other)`` and NULL kept as ``∅``."""
    out = {}
    for i, (name, kept) in enumerate(segments.items()):
        v = t[name].cast("string")
        out[f"g{i}"] = ibis.coalesce(
            v.isin(list(kept)).ifelse(v, ibis.literal(OTHER)), ibis.literal("∅")
        )
    return out


def snapshot_cells(
    st: ir.Table,
    events: ir.Table,
    leads: ir.Table,
    moments: Sequence,
    segments: dict[str, tuple[str, ...]],
    horizon: float | None = None,
) -> ir.Table:
    """Training cells: per (s, idle band, age band, g0, g1 …) the weighted wins and losses
    of closed leads at the moments they were open.

    ``st``: the chain's steps with their states (:func:`royalroad.analysis.history.stepped`);
    ``events``: every usable event (for the idle time); ``moments``: past timestamps.
    """
    snaps = ibis.memtable({"t": list(moments)}).mutate(t=ibis._.t.cast("timestamp"))
    ld = leads.filter(leads.outcome.isin(["won", "lost"]) & leads.created_at.notnull())
    ld = ld.select("lead_key", "created_at", "closed_at", "outcome", *segments)
    j = ld.cross_join(snaps)
    j = j.filter((j.created_at <= j.t) & (j.closed_at > j.t))
    if horizon is not None:  # only leads decided within the horizon after the moment
        j = j.filter(j.closed_at.epoch_seconds() <= j.t.epoch_seconds() + horizon * DAY)
    base = j.select("lead_key", "t", "created_at", "outcome", *segments)

    stp = st.select(s_lead=st.lead_key, s_ts=st.ts, s_after=st.s_after)
    js = base.left_join(stp, [base.lead_key == stp.s_lead, stp.s_ts <= base.t])
    state = js.group_by(["lead_key", "t"]).agg(s=js.s_after.max())

    ev = events.select(e_lead=events.lead_key, e_ts=events.ts)
    je = base.left_join(ev, [base.lead_key == ev.e_lead, ev.e_ts <= base.t])
    seen = je.group_by(["lead_key", "t"]).agg(last_ts=je.e_ts.max(), busy=je.e_ts.count())

    r = base.join(state, ["lead_key", "t"]).join(seen, ["lead_key", "t"])
    tsec = r.t.epoch_seconds()
    idle = (tsec - ibis.coalesce(r.last_ts, r.created_at).epoch_seconds()) / DAY
    age = (tsec - r.created_at.epoch_seconds()) / DAY
    w = ibis.window(group_by=r.lead_key)
    r = r.mutate(
        s=ibis.coalesce(r.s, 0),
        idle_band=band(idle, IDLE_BANDS),
        busy_band=band(r.busy, BUSY_BANDS),
        age_band=band(age, AGE_BANDS),
        m=r.count().over(w),
        **_segment_cols(r, segments),
    )
    # integer counts per (cell, m): the weights 1/m are summed in Python in a fixed
    # order (a float sum in the engine would depend on its parallel order)
    return r.group_by([*cell_keys(len(segments)), "m"]).agg(
        won=r.count(where=r.outcome == "won"), lost=r.count(where=r.outcome == "lost")
    )


def weigh(counts: pd.DataFrame) -> pd.DataFrame:
    """Training cells from :func:`snapshot_cells`' counts: wins and losses per cell, every
    snapshot weighted alike, scaled so that the weights add up to the number of leads
    behind them (each lead's ``m`` snapshots count ``1 / m`` in that total). Summed per
    cell in a fixed order."""
    keys = [c for c in counts.columns if c not in ("m", "won", "lost")]
    if not len(counts):
        return pd.DataFrame(columns=[*keys, "won", "lost"])
    c = counts.sort_values([*keys, "m"], kind="stable")
    snaps = c.won + c.lost
    scale = float((snaps / c.m).sum()) / float(snaps.sum())
    c = c.assign(won=c.won * scale, lost=c.lost * scale)
    return c.groupby(keys, sort=True, as_index=False)[["won", "lost"]].sum()


def current_rows(
    cur: ir.Table, leads: ir.Table, as_of, segments: dict[str, tuple[str, ...]], amount
) -> ir.Table:
    """Open leads now: the columns of ``cur`` with the cell keys of their features at the
    as-of date, their age and their amount (``amount`` when it is missing: a number,
    the mean won amount).

    ``cur``: :func:`royalroad.analysis.history.current` (lead_id, state ``s``, days_idle …).
    """
    ld = leads.select("lead_id", "created_at", "amount", *segments).rename(c_id="lead_id")
    j = cur.join(ld, cur.lead_id == ld.c_id)
    now = ibis.literal(as_of).cast("timestamp").epoch_seconds()
    age = (now - j.created_at.epoch_seconds()) / DAY
    return j.select(
        *cur.columns,
        idle_band=ibis.coalesce(band(j.days_idle, IDLE_BANDS), 0),
        busy_band=band(ibis.coalesce(j.events_so_far, 0), BUSY_BANDS),
        age_band=ibis.coalesce(band(age, AGE_BANDS), 0),
        age_days=age,
        value=ibis.coalesce(j.amount.cast("float64"), ibis.literal(float(amount))),
        **_segment_cols(j, segments),
    )


def current_cells(rows: ir.Table, n_segments: int) -> ir.Table:
    """Open leads per cell: how many, and the sums of their amounts and squared amounts."""
    return rows.group_by(cell_keys(n_segments)).agg(
        n=rows.count(), amount=rows.value.sum(), amount2=(rows.value * rows.value).sum()
    )


def segment_levels(leads: ir.Table, name: str) -> ir.Table:
    """Leads per value of one segment (to pick the values estimated on their own)."""
    v = leads[name].cast("string")
    t = leads.select(v=v)
    return t.group_by("v").agg(n=t.count())
