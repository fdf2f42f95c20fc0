"""P(win) of every open lead and the open pipeline: the engine queries and the fit, in one
place (the next best action calls it with the states it has just built).

See :mod:`royalroad.analysis.pwin` for the model and :mod:`royalroad.analysis.pwin_queries`
for the snapshots it learns from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import ibis
import ibis.expr.types as ir
import pandas as pd

from royalroad.analysis import pwin
from royalroad.analysis import pwin_queries as q
from royalroad.engine import Workspace

HORIZON = 90
"""P(win) is learned from leads decided within this many days of a moment they were open
(and from moments at least this long ago): the quarter a forecast is read for, and the
window a backtest 90 days back scores."""
MAX_LEVELS = 30
"""A segment with more values than this (after folding the rare ones) is left out."""
MIN_LEVEL_LEADS = 20
"""A segment value held by fewer leads is folded into "(other)"."""


@dataclass(frozen=True)
class Forecast:
    """The fitted model, its predictions per cell of open leads, and the pipeline."""

    model: pwin.PWinModel
    cells: pd.DataFrame = field(repr=False)  # keys, n, amount…, p_win, p_low, p_high, …
    pipeline: dict[str, float]
    moments: tuple[str, ...]
    amount: float  # the mean won amount: a lead's value when its amount is missing
    recalibration: str = "none"  # applied from a backtest: none | isotonic | platt

    def recalibrated(self, recal) -> Forecast:
        """Every cell's P(win) through the recalibration, and the pipeline recomputed."""
        import dataclasses

        cells = self.cells.copy()
        for col in ("p_win", "p_low", "p_high", "state_rate"):
            cells[col] = recal.apply(cells[col].to_numpy(float))
        return dataclasses.replace(
            self,
            cells=cells,
            pipeline=self.model.pipeline(cells, cells.p_win.to_numpy(float)),
            recalibration=recal.kind,
        )

    @property
    def keys(self) -> list[str]:
        return q.cell_keys(len(self.model.segments))

    def _names(self) -> list[str]:
        """The model's columns with ``g0:…`` spelled as the segment's name (``industry:…``)."""
        names = list(self.model.segments)
        out = []
        for c in self.model.columns:
            group, _, value = c.partition(":")
            if group.startswith("g") and group[1:].isdigit() and value:
                c = f"{names[int(group[1:])]}:{value}"
            out.append(c)
        return out

    def to_dict(self) -> dict:
        """Everything about the model but its per-cell predictions: the coefficients
        (logit scale; ``idle:2`` is the third idle band, ``industry:化学`` a segment value,
        ``state:7`` a history state with its own term), the snapshot moments and the
        open pipeline."""
        return {
            "fitted": self.model.fitted,
            "snapshots": self.model.snapshots,
            "moments": list(self.moments),
            "segments": {k: list(v) for k, v in self.model.segments.items()},
            "coefficients": dict(zip(self._names(), self.model.beta.tolist(), strict=True)),
            "pipeline": self.pipeline,
            "recalibration": self.recalibration,
        }


def segments_for(ws: Workspace, leads: ir.Table) -> dict[str, tuple[str, ...]]:
    """The lead segments the model uses, each with the values estimated on their own."""
    out: dict[str, tuple[str, ...]] = {}
    for name in ws.segments():
        counts = q.segment_levels(leads, name).execute()
        counts = counts[counts.v.notna()]
        kept = tuple(sorted(counts.v[counts.n >= MIN_LEVEL_LEADS].astype(str)))
        if 1 < len(kept) <= MAX_LEVELS or (len(kept) == 1 and len(counts) > 1):
            out[name] = kept
    return out


def forecast(
    ws: Workspace, st: ir.Table, events: ir.Table, cur: ir.Table, p_chain: dict[int, float]
) -> Forecast:
    """Fit P(win) on past snapshots and predict it for the open leads of ``cur``."""
    leads = ws.table("leads")
    segments = segments_for(ws, leads)
    stats_row = (
        leads.aggregate(
            first=leads.created_at.min(),
            won=leads.count(where=leads.outcome == "won"),
            lost=leads.count(where=leads.outcome == "lost"),
            won_amount=leads.amount.mean(where=leads.outcome == "won"),
        )
        .execute()
        .iloc[0]
    )
    won, lost = int(stats_row["won"]), int(stats_row["lost"])
    base = won / (won + lost) if won + lost else math.nan
    amount = float(stats_row["won_amount"]) if pd.notna(stats_row["won_amount"]) else 0.0
    first = stats_row["first"]
    when = pwin.moments(ws.as_of, first, min_days=HORIZON) if pd.notna(first) else []
    if when:
        cells = q.weigh(
            q.snapshot_cells(st, events, leads, when, segments, horizon=HORIZON).execute()
        )
    else:
        cells = pd.DataFrame(columns=[*q.cell_keys(len(segments)), "won", "lost"])
    model = pwin.fit(cells, p_chain, segments, base)
    rows = q.current_rows(cur, leads, ws.as_of, segments, amount)
    now = q.current_cells(rows, len(segments)).execute()
    now = now.sort_values(q.cell_keys(len(segments)), kind="stable").reset_index(drop=True)
    pred = model.predict(now)
    now = pd.concat([now, pred], axis=1)
    return Forecast(
        model=model,
        cells=now,
        pipeline=model.pipeline(now, now.p_win.to_numpy(float)),
        moments=tuple(str(m) for m in when),
        amount=amount,
    )


def join_predictions(rows: ir.Table, fc: Forecast) -> ir.Table:
    """``rows`` (:func:`pwin_queries.current_rows`) with each lead's cell predictions."""
    cols = ["p_win", "p_low", "p_high", "state_rate", *(f"adj_{g}" for g in fc.model.order())]
    pred = fc.cells[[*fc.keys, *cols]].rename(columns={k: f"k_{k}" for k in fc.keys})
    m = ibis.memtable(pred)
    return rows.left_join(m, [rows[k] == m[f"k_{k}"] for k in fc.keys])
