"""A standard lead score to compare P(win) with: a logistic regression on snapshot features.

Built the honest way, like royalroad's own model: only what was known at the cut-off.
The training snapshot is the leads open ``lookback`` days before the cut-off that had
closed by it, with features as of then: how many times each of the most frequent
activities happened (outcome proxies left out), the lead's segments, its age and the
days since its last event; the label is how it ended. The model then scores the leads
open at the cut-off with their features as of the cut-off.

This is the comparison a sales-operations analyst would make with a generic lead-scoring
tool; per-lead features come back to Python, which is fine for a benchmark that runs on
demand (the production P(win) works on cells, see :mod:`royalroad.analysis.pwin`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import ibis
import numpy as np
import pandas as pd

from royalroad.analysis import journeys as j
from royalroad.analysis.forecast import segments_for
from royalroad.engine import Workspace
from royalroad.stats import one_blas_thread

TOP_ACTIVITIES = 20
LOOKBACK_DAYS = 90
RIDGE = 1e-3


def features(
    ws: Workspace, t: dt.datetime, activities: Sequence[str], segments: Sequence[str]
) -> pd.DataFrame:
    """Per lead open at ``t``: outcome (as the workspace knows it), log counts of each
    activity up to ``t``, log age, log days idle, segment values."""
    leads = ws.table("leads")
    at = ibis.literal(t).cast("timestamp")
    open_ = leads.filter(
        (leads.created_at <= at) & (leads.closed_at.isnull() | (leads.closed_at > at))
    )
    open_ = open_.select("lead_key", "lead_id", "outcome", "created_at", *segments)
    ev = j.usable(ws.table("events"))
    ev = ev.filter(ev.ts <= at)
    named = ev.select("lead_key", activity=ev.activity.cast("string"))
    named = named.filter(named.activity.isin(list(activities)))
    counts = named.group_by(["lead_key", "activity"]).agg(n=named.count()).execute()
    last = ev.group_by("lead_key").agg(last_ts=ev.ts.max()).execute()
    base = open_.execute()
    wide = counts.pivot_table(index="lead_key", columns="activity", values="n", fill_value=0)
    base = base.merge(last, on="lead_key", how="left")
    base = base.merge(wide, left_on="lead_key", right_index=True, how="left")
    out = pd.DataFrame({"lead_id": base.lead_id, "outcome": base.outcome})
    for a in activities:
        col = base[a] if a in base.columns else pd.Series(0, index=base.index)
        out[f"n:{a}"] = np.log1p(col.fillna(0).to_numpy(float))
    ref = base.last_ts.fillna(base.created_at)
    out["log_age"] = np.log1p(
        ((pd.Timestamp(t) - base.created_at).dt.total_seconds() / 86400).clip(0)
    )
    out["log_idle"] = np.log1p(((pd.Timestamp(t) - ref).dt.total_seconds() / 86400).clip(0))
    for s in segments:
        out[f"seg:{s}"] = base[s].astype(str).fillna("∅")
    return out.sort_values("lead_id", kind="stable").reset_index(drop=True)


def _matrix(df: pd.DataFrame, levels: dict[str, list[str]]) -> np.ndarray:
    num = [c for c in df.columns if c.startswith("n:")] + ["log_age", "log_idle"]
    parts = [df[num].to_numpy(float)]
    for s, vals in levels.items():
        col = df[s].to_numpy()
        parts.append(
            np.column_stack([(col == v).astype(float) for v in vals[1:]])
            if len(vals) > 1
            else np.zeros((len(df), 0))
        )
    return np.hstack(parts) if parts else np.zeros((len(df), 0))


def snapshot_logit(
    ws: Workspace, cutoff: dt.datetime, proxies: Sequence[str], lookback: int = LOOKBACK_DAYS
) -> dict[str, float]:
    """P(win) of every lead open at ``cutoff`` from a logistic regression trained on the
    leads open ``lookback`` days earlier (``ws`` holds what was known at ``cutoff``)."""
    import statsmodels.api as sm

    ev = j.usable(ws.table("events"))
    ev = ev.select(activity=ev.activity.cast("string"))
    ev = ev.filter(~ev.activity.isin(list(proxies)))
    top = (
        ev.group_by("activity")
        .agg(n=ev.count())
        .order_by([ibis.desc("n"), "activity"])
        .limit(TOP_ACTIVITIES)
        .execute()
        .activity.tolist()
    )
    segs = list(segments_for(ws, ws.table("leads")))
    train = features(ws, cutoff - dt.timedelta(days=lookback), top, segs)
    train = train[train.outcome.isin(["won", "lost"])]
    score = features(ws, cutoff, top, segs)
    score = score[score.outcome == "open"]
    if train.outcome.nunique() < 2 or not len(score):
        rate = float((train.outcome == "won").mean()) if len(train) else float("nan")
        return dict.fromkeys(score.lead_id, rate)
    levels = {
        f"seg:{s}": sorted(
            train[f"seg:{s}"].value_counts().sort_index().index.tolist(),
            key=lambda v: (-int((train[f"seg:{s}"] == v).sum()), v),
        )
        for s in segs
    }
    x_train, x_score = _matrix(train, levels), _matrix(score, levels)
    mu, sd = x_train.mean(axis=0), x_train.std(axis=0)
    sd[sd == 0] = 1.0
    x_train, x_score = (x_train - mu) / sd, (x_score - mu) / sd
    y = (train.outcome == "won").to_numpy(float)
    model = sm.GLM(y, sm.add_constant(x_train, has_constant="add"), family=sm.families.Binomial())
    with one_blas_thread():
        res = model.fit_regularized(alpha=RIDGE, L1_wt=0.0)
        p = model.predict(res.params, sm.add_constant(x_score, has_constant="add"))
    return dict(zip(score.lead_id, np.asarray(p, dtype=float), strict=True))
