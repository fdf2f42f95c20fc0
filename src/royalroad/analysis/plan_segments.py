"""The plan by segment (``--segment industry``): each value's own rates.

The plan's new leads are split by the mix of leads created in the last twelve months;
each value then reaches the goal (cumulative incidence, open leads censored), wins
after it and without it, and books its own mean amount. The rows say where the same
number of leads brings more, and how many leads the whole target would need at each
value's rates alone. Rare values (fewer than 20 leads) are pooled as "(other)".
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from royalroad import stats
from royalroad.analysis import plan_lags as lags
from royalroad.analysis.plan_result import SegmentRow


def _rate(k: float, n: float) -> float:
    return k / n if n > 0 else math.nan


def segment_rows(seg: pd.DataFrame, new_leads: float, target: float) -> list[SegmentRow]:
    """One row per segment value, largest share first (ties by name)."""
    lag = seg[seg.what == "lag"]
    reach = seg[seg.what == "reach"]
    amount = seg[seg.what == "amount"]
    mix = seg[seg.what == "mix"].groupby("seg").n.sum()
    total_mix = float(mix.sum())
    rows = []
    for value in sorted(set(lag.seg)):
        part = lag[lag.seg == value]
        wide = part.pivot_table(
            index="t", columns="status", values="n", aggfunc="sum", fill_value=0
        ).sort_index()

        def col(name: str, w: pd.DataFrame = wide) -> np.ndarray:
            return w[name].to_numpy(float) if name in w.columns else np.zeros(len(w))

        g = lags.incidence(wide.index.to_numpy(float), col("goal"), col("closed"), col("open"))
        r = reach[reach.seg == value]

        def count(reached: bool, outcome: str, r: pd.DataFrame = r) -> float:
            return float(r.loc[(r.reached == reached) & (r.outcome == outcome), "n"].sum())

        w1k, w1n = count(True, "won"), count(True, "won") + count(True, "lost")
        w0k, w0n = count(False, "won"), count(False, "won") + count(False, "lost")
        w1, w0 = _rate(w1k, w1n), _rate(w0k, w0n)
        lo, hi = stats.wilson(np.asarray(w1k), np.asarray(w1n))
        a = amount[amount.seg == value]
        n_won = float(a.n.sum())
        mean = float((a.n * a["mean"]).sum() / n_won) if n_won > 0 else math.nan
        p = g.total * (w1 if math.isfinite(w1) else 0.0) + (1 - g.total) * (
            w0 if math.isfinite(w0) else 0.0
        )
        share = float(mix.get(value, 0.0)) / total_mix if total_mix > 0 else 0.0
        leads = new_leads * share
        rows.append(
            SegmentRow(
                value=str(value),
                share_of_leads=share,
                p_goal_given_lead=g.total,
                p_win_given_goal=w1,
                p_win_given_goal_ci=(float(lo), float(hi)),
                p_win_given_lead=p,
                mean_won_amount=mean,
                leads=leads,
                goals=leads * g.total,
                wins=leads * p,
                revenue=leads * p * mean if math.isfinite(mean) else math.nan,
                leads_needed_alone=target / (mean * p) if p > 0 and mean > 0 else math.inf,
            )
        )
    return sorted(rows, key=lambda s: (-s.share_of_leads, s.value))
