"""What a plan is built from: the chain's rates with their uncertainty, the lags in
months, the won amount and the open pipeline — from the data, or from a preset.

* **Rates.** P(goal | lead) is the Aalen–Johansen cumulative incidence of reaching the
  goal (closing without it competes, open leads are censored), so a young lead is not
  counted as one that never reached it; its uncertainty is the delta-method variance,
  and its Wilson interval uses the matching effective number of leads. P(win | goal)
  and P(win | no goal) are win rates among closed leads (Wilson interval; Jeffreys
  beta posterior for the variance). P(win | lead) = g·w₁ + (1 − g)·w₀.
* **Lags** (:mod:`~royalroad.analysis.plan_lags`): creation → win and creation → goal
  as month shapes of the whole distribution; goal → win for the goals still to come.
* **The open pipeline**: each open lead's P(win) (the next best action's forecast)
  and when it will close, from the observed time to a win given its age (nurture) or
  its days since the goal (sales-ready); and the goals nurture leads will still reach.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime

import numpy as np
import pandas as pd

from royalroad import stats
from royalroad.analysis import plan_lags as lags

SOURCES = ("data", "article", "article_preset", "preset", "user")
"""Where a number comes from; anything but ``data`` is an assumption."""
PIPELINE_MONTHS = 60
"""Months after the as-of month the open pipeline's timing is followed."""


@dataclass(frozen=True)
class Rate:
    """A rate with its 95% interval, its posterior variance and where it comes from.

    An assumed rate (from a preset or the user) has no interval (``low == high``) and
    no variance.
    """

    estimate: float
    low: float
    high: float
    var: float
    n: float
    source: str = "data"

    @property
    def assumed(self) -> bool:
        return self.source != "data"

    @classmethod
    def assume(cls, value: float, source: str) -> Rate:
        return cls(float(value), float(value), float(value), 0.0, 0.0, source)

    @classmethod
    def closed(cls, k: int, n: int) -> Rate:
        """k of n closed leads: Wilson interval, Jeffreys beta posterior variance."""
        if n <= 0:
            return cls(math.nan, math.nan, math.nan, 0.0, 0.0)
        lo, hi = stats.wilson(k, n)
        a, b = k + 0.5, n - k + 0.5
        var = a * b / ((a + b) ** 2 * (a + b + 1))
        return cls(k / n, float(lo), float(hi), var, float(n))

    @classmethod
    def incidence(cls, inc: lags.Incidence) -> Rate:
        """A cumulative incidence: Wilson interval at the effective number of leads
        ``g(1 − g) / var``."""
        g, var = inc.total, inc.var
        if not math.isfinite(g):
            return cls(math.nan, math.nan, math.nan, 0.0, 0.0)
        n_eff = g * (1 - g) / var if var > 0 else float(inc.n)
        lo, hi = stats.wilson(np.asarray(g * n_eff), np.asarray(n_eff)) if n_eff > 0 else (g, g)
        return cls(g, float(lo), float(hi), var, n_eff)

    def shifted(self, points: float) -> Rate:
        """The rate moved by ``points`` (a what-if), kept within [0, 1]."""
        v = min(max(self.estimate + points, 0.0), 1.0)
        return replace(self, estimate=v, low=v, high=v)

    def at(self, end: str) -> Rate:
        """The rate fixed at its interval's ``low`` or ``high`` end (a scenario)."""
        v = self.low if end == "low" else self.high
        return replace(self, estimate=v, var=0.0)


@dataclass(frozen=True)
class Amount:
    """Mean won amount with its 95% (t) interval, the spread of single amounts and the
    variance of the mean."""

    mean: float
    low: float
    high: float
    sd: float
    n: int
    source: str = "data"

    @property
    def assumed(self) -> bool:
        return self.source != "data"

    @property
    def var_mean(self) -> float:
        return self.sd**2 / self.n if self.n > 0 and not self.assumed else 0.0

    @classmethod
    def from_data(cls, n: int, mean: float, sd: float) -> Amount:
        from scipy.stats import t as student

        sd = sd if math.isfinite(sd) else 0.0
        if n < 1 or not math.isfinite(mean):
            return cls(math.nan, math.nan, math.nan, 0.0, 0)
        half = float(student.ppf(0.975, n - 1)) * sd / math.sqrt(n) if n > 1 else 0.0
        return cls(mean, max(mean - half, 0.0), mean + half, sd, n)

    @classmethod
    def assume(cls, mean: float, cv: float, source: str) -> Amount:
        return cls(float(mean), float(mean), float(mean), float(mean) * cv, 0, source)

    def at(self, end: str) -> Amount:
        v = self.low if end == "low" else self.high
        return replace(self, mean=v, n=0, source=self.source)


@dataclass(frozen=True)
class GoalRef:
    """The intermediate goal a plan counts: a milestone of the data, or a preset's name."""

    activity: str
    then: str | None = None
    min_count: int = 1
    within_days: int | None = None
    label_en: str = ""
    label_ja: str = ""

    def label(self, lang: str | None = None) -> str:
        from royalroad.i18n import get_lang

        return self.label_ja if (lang or get_lang()) == "ja" else self.label_en

    def to_dict(self) -> dict:
        return {
            "activity": self.activity,
            "then": self.then,
            "min_count": self.min_count,
            "within_days": self.within_days,
            "label": self.label_en,
            "label_ja": self.label_ja,
        }

    @classmethod
    def of(cls, cand) -> GoalRef:
        """From a goal-search :class:`~royalroad.analysis.goals_result.Candidate`."""
        return cls(
            cand.activity,
            cand.then,
            cand.min_count,
            cand.within_days,
            cand.label("en"),
            cand.label("ja"),
        )


@dataclass(frozen=True)
class Pipeline:
    """The open leads, grouped by when their win would close: per group (sales-ready by
    days since the goal, nurture by age) the chance a win closes in each calendar month
    from ``first_month``, and the sums of P(win), P(win)², amount × P(win), amount² ×
    P(win) and amount² × P(win)² over its leads — all the means and the outcomes'
    variances need, in memory that grows with the groups, not with the leads."""

    first_month: int
    timing: np.ndarray  # (groups, months): P(close in month | win); rows add up to 1
    p: np.ndarray  # per group: Σ P(win)
    p2: np.ndarray  # Σ P(win)²
    ap: np.ndarray  # Σ amount · P(win)
    a2p: np.ndarray  # Σ amount² · P(win)
    a2p2: np.ndarray  # Σ amount² · P(win)²
    goals: np.ndarray  # expected goals per month from leads that have not reached it
    var_model_wins: float
    var_model_revenue: float
    leads: int
    sales_ready: int

    @property
    def wins(self) -> float:
        return float(self.p.sum())

    @property
    def revenue(self) -> float:
        return float(self.ap.sum())

    def columns(self, months) -> np.ndarray:
        idx = [m - self.first_month for m in months]
        return np.array([i for i in idx if 0 <= i < self.timing.shape[1]], dtype=int)


@dataclass(frozen=True)
class PlanModel:
    """Everything a plan is computed from."""

    goal: GoalRef
    p_goal: Rate
    p_win_goal: Rate
    p_win_no_goal: Rate
    amount: Amount
    shape_win: np.ndarray  # creation → win, by month offset (adds up to 1)
    shape_goal: np.ndarray  # creation → goal
    shape_goal_win: np.ndarray  # goal → win
    medians: dict  # median days: lead_to_goal, goal_to_win, lead_to_win
    source: str  # data | preset
    preset: str | None = None
    as_of: datetime | None = None
    pipeline: Pipeline | None = None
    closed: int = 0
    won: int = 0
    benchmark: tuple[float, float] | None = None  # a preset's rate to its step, P(win) after

    @property
    def p_win_lead(self) -> float:
        g, w1, w0 = self.p_goal.estimate, self.p_win_goal.estimate, self.p_win_no_goal.estimate
        return g * w1 + (1 - g) * w0

    @property
    def var_p_win_lead(self) -> float:
        """Delta method over the three independent posteriors."""
        g, w1, w0 = self.p_goal.estimate, self.p_win_goal.estimate, self.p_win_no_goal.estimate
        return (
            (w1 - w0) ** 2 * self.p_goal.var
            + g**2 * self.p_win_goal.var
            + (1 - g) ** 2 * self.p_win_no_goal.var
        )

    @property
    def share_via_goal(self) -> float:
        p = self.p_win_lead
        return self.p_goal.estimate * self.p_win_goal.estimate / p if p > 0 else math.nan

    def scenario(self, end: str) -> PlanModel:
        """Every estimated rate and the mean amount at one end of its interval."""
        return replace(
            self,
            p_goal=self.p_goal.at(end),
            p_win_goal=self.p_win_goal.at(end),
            p_win_no_goal=self.p_win_no_goal.at(end),
            amount=self.amount.at(end),
        )

    def assumptions(self) -> list[tuple[str, float, str]]:
        """(name, value, source) of every number not taken from the data."""
        out = []
        for name, rate in (
            ("p_goal_given_lead", self.p_goal),
            ("p_win_given_goal", self.p_win_goal),
            ("p_win_without_goal", self.p_win_no_goal),
        ):
            if rate.assumed:
                out.append((name, rate.estimate, rate.source))
        if self.amount.assumed:
            out.append(("mean_won_amount", self.amount.mean, self.amount.source))
            if self.source == "preset":
                cv = self.amount.sd / self.amount.mean if self.amount.mean else 0.0
                out.append(("won_amount_cv", cv, "preset"))
        if self.p_win_goal.source == "article_preset" and self.benchmark is not None:
            to_step, after = self.benchmark
            out.append(("benchmark_rate", to_step, "article"))
            out.append(("p_win_after_benchmark", after, "preset"))
        if self.source == "preset":
            out.append(("days_to_goal", self.medians.get("mean_days_to_goal", 0.0), "preset"))
            out.append(
                ("days_goal_to_close", self.medians.get("mean_days_goal_to_close", 0.0), "preset")
            )
        return out


# --- the open pipeline ---------------------------------------------------------------


def month_index(moment: datetime) -> int:
    return moment.year * 12 + moment.month - 1


def month_label(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _months_after(as_of: datetime, days: np.ndarray) -> np.ndarray:
    """Calendar month index of ``as_of`` plus ``days`` (fractional)."""
    base = np.datetime64(as_of.replace(tzinfo=None), "s")
    when = base + np.round(days * 86400).astype("timedelta64[s]")
    return when.astype("datetime64[M]").astype(np.int64) + 1970 * 12


def _timing_row(as_of: datetime, first: int, rem: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    row = np.zeros(PIPELINE_MONTHS + 1)
    r, p = rem
    if r.size == 0:  # nothing left to learn from: the first month
        row[0] = 1.0
        return row
    idx = np.clip(_months_after(as_of, r) - first, 0, PIPELINE_MONTHS)
    np.add.at(row, idx, p)
    return row


def pipeline(
    opened: pd.DataFrame,
    p_win: pd.Series,
    as_of: datetime,
    incs: dict[str, lags.Incidence],
    forecast_pipeline: dict | None,
    default_amount: float,
) -> Pipeline:
    """The open pipeline from the open leads (``lead_id, age, since_goal, amount``) and
    their P(win) by lead id.

    A sales-ready lead's win is timed by the goal → win lag given its days since the
    goal, a nurture lead's by the creation → win lag given its age; nurture leads reach
    the goal with the chance and timing the creation → goal incidence leaves them.
    """
    first = month_index(as_of)
    df = opened.copy()
    df["p"] = df.lead_id.map(p_win).astype(float)
    df["amount"] = df.amount.fillna(default_amount).astype(float)
    ready = df.since_goal.notna()
    g_days, g_pmf = incs["lead_goal"].pmf()
    w_days, w_pmf = incs["lead_close"].pmf()
    gw_days, gw_pmf = incs["goal_close"].pmf()
    fill = np.where(ready, _nan0(incs, "goal_close"), _nan0(incs, "lead_close"))
    df["p"] = df.p.fillna(pd.Series(fill, index=df.index))
    df["ready"] = ready
    df["day"] = np.where(ready, df.since_goal.fillna(0), df.age).astype("int64")
    a, p = df.amount, df.p
    df = df.assign(p2=p**2, ap=a * p, a2p=a**2 * p, a2p2=(a * p) ** 2)
    sums = ["p", "p2", "ap", "a2p", "a2p2"]
    groups = df.groupby(["ready", "day"], sort=True)[sums].sum()
    timing = np.zeros((len(groups), PIPELINE_MONTHS + 1))
    for i, (is_ready, day) in enumerate(groups.index):
        days, pmf = (gw_days, gw_pmf) if is_ready else (w_days, w_pmf)
        eff = lags.effective_age(days, pmf, float(day))
        timing[i] = _timing_row(as_of, first, lags.remaining(days, pmf, eff))
    goals = np.zeros(PIPELINE_MONTHS + 1)
    other = incs["lead_goal"]
    for age, count in df.loc[~ready, "age"].value_counts().sort_index().items():
        eff = lags.effective_age(g_days, g_pmf, float(age))
        lag = lags.event_days(g_days)
        done = lag <= eff
        alive = 1.0 - float(g_pmf[done].sum()) - other.other_at(float(eff))
        ahead = float(g_pmf[~done].sum())
        if alive <= 0 or ahead <= 0:
            continue
        row = _timing_row(as_of, first, lags.remaining(g_days, g_pmf, eff))
        goals += count * min(ahead / alive, 1.0) * row
    col = {name: groups[name].to_numpy(float) for name in sums}
    var_w = var_r = 0.0
    if forecast_pipeline and forecast_pipeline.get("leads"):
        fp = forecast_pipeline
        sd_w = (fp["wins_high_95"] - fp["wins"]) / stats.Z95
        sd_r = (fp["revenue_high_95"] - fp["revenue"]) / stats.Z95
        var_w = max(sd_w**2 - float(col["p"].sum() - col["p2"].sum()), 0.0)
        var_r = max(sd_r**2 - float(col["a2p"].sum() - col["a2p2"].sum()), 0.0)
    return Pipeline(
        first_month=first,
        timing=timing,
        **col,
        goals=goals,
        var_model_wins=var_w,
        var_model_revenue=var_r,
        leads=len(df),
        sales_ready=int(ready.sum()),
    )


def _nan0(incs: dict[str, lags.Incidence], kind: str) -> float:
    v = incs[kind].total
    return v if math.isfinite(v) else 0.0
