"""A plan's model from the data (the engine's counts) or from an industry preset.

:func:`from_data` runs a handful of engine queries around the goal's reach (materialised
once): the lag counts, the won amounts, the open leads and the revenue already booked,
and, when asked, the benchmark step and the per-segment counts. :func:`from_preset`
builds the same model from the article's figure and the preset's stated assumptions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from royalroad.analysis import plan_lags as lags
from royalroad.analysis import plan_queries as q
from royalroad.analysis.plan_model import (
    Amount,
    GoalRef,
    PlanModel,
    Rate,
    month_index,
    month_label,
    pipeline,
)
from royalroad.analysis.plan_presets import KpiPreset
from royalroad.engine import Workspace
from royalroad.i18n import t

OTHER = "(other)"
MIN_SEGMENT_LEADS = 20
MAX_SEGMENTS = 30


@dataclass(frozen=True)
class DataParts:
    """The model and what else the data says: revenue booked per month of the period,
    the benchmark step's counts, the per-segment raw counts."""

    model: PlanModel
    actuals: pd.DataFrame  # month (index), what (leads | goals | wins), n, amount
    bench: tuple[int, int, bool] | None  # k, n, activity found
    segments: pd.DataFrame | None

    @property
    def booked(self) -> dict[int, tuple[float, float]]:
        """Wins and revenue closed per month of the period, up to the as-of date."""
        wins = self.actuals[self.actuals.what == "wins"]
        return {int(r.month): (float(r.n), float(r.amount or 0.0)) for r in wins.itertuples()}


def incidences(counts: pd.DataFrame) -> dict[str, lags.Incidence]:
    """The three cumulative incidences from :func:`plan_queries.lag_counts`' rows."""
    out = {}
    spec = {
        "lead_goal": ("goal", "closed", "open"),
        "goal_close": ("won", "lost", "open"),
        "lead_close": ("won", "lost", "open"),
    }
    for kind, (ev, comp, cens) in spec.items():
        part = counts[counts.kind == kind]
        wide = part.pivot_table(
            index="t", columns="status", values="n", aggfunc="sum", fill_value=0
        )
        wide = wide.sort_index()

        def col(name: str, w: pd.DataFrame = wide) -> np.ndarray:
            return w[name].to_numpy(float) if name in w.columns else np.zeros(len(w))

        out[kind] = lags.incidence(wide.index.to_numpy(float), col(ev), col(comp), col(cens))
    return out


def shapes(incs: dict[str, lags.Incidence]) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
    """Month shapes (creation → win, creation → goal, goal → win) and median days."""
    win = incs["lead_close"].pmf()
    goal = incs["lead_goal"].pmf()
    goal_win = incs["goal_close"].pmf()
    medians = {
        "lead_to_goal": lags.median_days(*goal),
        "goal_to_win": lags.median_days(*goal_win),
        "lead_to_win": lags.median_days(*win),
    }
    return lags.month_shape(*win), lags.month_shape(*goal), lags.month_shape(*goal_win), medians


def _amounts(df: pd.DataFrame) -> Amount:
    if df.empty:
        return Amount.from_data(0, math.nan, math.nan)
    row = df.iloc[0]
    sd = float(row["sd"]) if pd.notna(row["sd"]) else 0.0
    return Amount.from_data(int(row["n"]), float(row["mean"]), sd)


def from_data(
    ws: Workspace,
    goals,
    cand,
    actions,
    *,
    start: int,
    segment: str | None = None,
    bench_activity: str | None = None,
) -> DataParts:
    """The plan model from the workspace: ``goals`` is the goal search's result, ``cand``
    the goal milestone, ``actions`` the next best action's result (the open leads'
    P(win)); ``start`` the first month of the period."""
    as_of = ws.as_of
    leads, events = ws.table("leads"), ws.table("events")
    with ws.materialized(q.goal_reach(events, leads, cand), "reach") as reach:
        counts = q.lag_counts(leads, reach, as_of).execute()
        amounts = _amounts(q.won_amounts(leads).execute())
        opened = q.open_leads(leads, reach, as_of).execute()
        now = month_index(as_of)
        actuals = pd.DataFrame({"month": [], "what": [], "n": [], "amount": []})
        if start <= now:
            acts = q.monthly_actuals(leads, reach, month_label(start), month_label(now)).execute()
            acts["month"] = [_month(m) for m in acts.month]
            acts["amount"] = acts.amount.astype(float).fillna(0.0)
            actuals = acts.sort_values(["what", "month"], kind="stable").reset_index(drop=True)
        bench = None
        if bench_activity is not None:
            b = q.benchmark_counts(events, leads, reach, bench_activity).execute().iloc[0]
            found = bool(events.filter(events.activity == bench_activity).count().execute() > 0)
            bench = (int(b["k"]), int(b["n"]), found)
        seg = _segment_counts(ws, leads, reach, segment, as_of) if segment else None
    incs = incidences(counts)
    win, goal, goal_win, medians = shapes(incs)
    closed_reached = cand.won + cand.lost
    model = PlanModel(
        goal=GoalRef.of(cand),
        p_goal=Rate.incidence(incs["lead_goal"]),
        p_win_goal=Rate.closed(cand.won, closed_reached),
        p_win_no_goal=Rate.closed(goals.won - cand.won, goals.closed - closed_reached),
        amount=amounts,
        shape_win=win,
        shape_goal=goal,
        shape_goal_win=goal_win,
        medians=medians,
        source="data",
        as_of=as_of,
        closed=goals.closed,
        won=goals.won,
    )
    p_win = _p_win(actions)
    fc = actions.forecast.pipeline if actions is not None and actions.forecast else None
    default = amounts.mean if math.isfinite(amounts.mean) else 0.0
    pipe = pipeline(opened, p_win, as_of, incs, fc, default)
    from dataclasses import replace

    return DataParts(replace(model, pipeline=pipe), actuals, bench, seg)


def _month(label: str) -> int:
    y, m = label.split("-")
    return int(y) * 12 + int(m) - 1


def _p_win(actions) -> pd.Series:
    if actions is None:
        return pd.Series(dtype=float)
    tab = actions.leads.select(["lead_id", "current_win_rate"]).to_pandas()
    return tab.set_index("lead_id")["current_win_rate"].astype(float)


def _segment_counts(ws, leads, reach, segment, as_of) -> pd.DataFrame:
    """Per segment value (rare ones pooled): lag counts, 2×2 counts, amounts and mix,
    in four small queries, as one long table with a ``what`` column."""
    lag = q.lag_counts(leads, reach, as_of, segment).execute()
    lag = lag[lag.kind == "lead_goal"]
    rc = q.reach_counts(leads, reach, segment).execute()
    am = q.won_amounts(leads, segment).execute()
    mix = q.segment_mix(leads, segment, as_of - timedelta(days=365)).execute()
    sizes = lag.groupby("seg", dropna=False).n.sum()
    keep = sizes[sizes >= MIN_SEGMENT_LEADS].sort_values(ascending=False, kind="stable")
    kept = {s for s in keep.index[:MAX_SEGMENTS] if isinstance(s, str)}

    def fold(df: pd.DataFrame) -> pd.DataFrame:
        df = df.copy()
        df["seg"] = [s if s in kept else OTHER for s in df.seg]
        return df

    return pd.concat(
        [
            fold(lag).assign(what="lag"),
            fold(rc).assign(what="reach"),
            fold(am).assign(what="amount"),
            fold(mix).assign(what="mix"),
        ],
        ignore_index=True,
    )


def from_preset(
    kp: KpiPreset,
    won_amount: float,
    p_goal_given_lead: float | None = None,
    p_win_given_goal: float | None = None,
) -> PlanModel:
    """The model of a team without data: the article's figure and the preset's defaults,
    every one of them an assumption; lags exponential with the preset's mean days."""
    goal_days = lags.exponential_days(kp.days_to_goal)
    close_days = lags.exponential_days(kp.days_goal_to_close)
    win_days = lags.convolve_days(goal_days, close_days)
    w1_source = "article" if kp.ends_in_win else "article_preset"
    return PlanModel(
        goal=GoalRef(
            kp.goal,
            label_en=t(f"plan.goal.{kp.name}", lang="en"),
            label_ja=t(f"plan.goal.{kp.name}", lang="ja"),
        ),
        p_goal=Rate.assume(
            p_goal_given_lead if p_goal_given_lead is not None else kp.p_goal_given_lead,
            "user" if p_goal_given_lead is not None else "preset",
        ),
        p_win_goal=Rate.assume(
            p_win_given_goal if p_win_given_goal is not None else kp.p_win_given_goal,
            "user" if p_win_given_goal is not None else w1_source,
        ),
        p_win_no_goal=Rate.assume(kp.p_win_without_goal, "preset"),
        amount=Amount.assume(won_amount, kp.won_amount_cv, "user"),
        shape_win=lags.month_shape(*win_days),
        shape_goal=lags.month_shape(*goal_days),
        shape_goal_win=lags.month_shape(*close_days),
        medians={
            "lead_to_goal": lags.median_days(*goal_days),
            "goal_to_win": lags.median_days(*close_days),
            "lead_to_win": lags.median_days(*win_days),
            "mean_days_to_goal": kp.days_to_goal,
            "mean_days_goal_to_close": kp.days_goal_to_close,
        },
        source="preset",
        preset=kp.name,
        benchmark=None if kp.ends_in_win else (kp.benchmark_rate, kp.p_win_after_benchmark or 0.0),
    )


def first_new_month(as_of: datetime) -> int:
    """The first month new leads can still be created in: the as-of month when the data
    end at its very start, else the next one."""
    start_of_month = as_of.day == 1 and as_of.time() == datetime.min.time()
    return month_index(as_of) + (0 if start_of_month else 1)
