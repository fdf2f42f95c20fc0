"""Forecasts of a plan, computed rather than sampled.

For a set of calendar months and the new leads created per month, :func:`outlook`
gives the expected wins, goals and revenue that close in those months, and their
variance from three sources, added:

* **outcomes**: each new lead wins in those months or not (a Bernoulli draw with the
  chance the rates and the lag give it); each open lead likewise with its own P(win)
  and timing;
* **the estimated rates**: P(win | lead) = g·w₁ + (1 − g)·w₀ from beta posteriors,
  by the delta method, common to every new lead (so it grows with the square of the
  volume); the P(win) model's own uncertainty for the open pipeline;
* **amounts**: won amounts vary (their observed spread) and their mean is estimated.

Bands and the probability of reaching a target use a lognormal with the same mean and
variance (Fenton–Wilkinson): revenue is a sum of skewed amounts and cannot go below
zero. Revenue already booked in the period is added as a constant.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

from royalroad.analysis.plan_model import PlanModel

Z80 = float(norm.ppf(0.9))


@dataclass(frozen=True)
class Outlook:
    """Expected results in a set of months, with variances."""

    wins: float
    wins_var: float
    revenue: float
    revenue_var: float
    goals: float
    pipeline_wins: float
    pipeline_revenue: float
    pipeline_wins_var: float
    pipeline_revenue_var: float
    new_wins: float
    new_revenue: float
    booked_wins: float = 0.0
    booked_revenue: float = 0.0

    def wins_band(self, level: float = 0.8) -> tuple[float, float]:
        return band(self.wins - self.booked_wins, self.wins_var, level, self.booked_wins)

    def revenue_band(self, level: float = 0.8) -> tuple[float, float]:
        return band(
            self.revenue - self.booked_revenue, self.revenue_var, level, self.booked_revenue
        )

    def pipeline_wins_band(self, level: float = 0.8) -> tuple[float, float]:
        return band(self.pipeline_wins, self.pipeline_wins_var, level)

    def pipeline_revenue_band(self, level: float = 0.8) -> tuple[float, float]:
        return band(self.pipeline_revenue, self.pipeline_revenue_var, level)

    def p_reach(self, target: float) -> float:
        """P(revenue ≥ target)."""
        return exceed(
            self.revenue - self.booked_revenue, self.revenue_var, target - self.booked_revenue
        )


def _lognormal(mean: float, var: float) -> tuple[float, float] | None:
    if mean <= 0:
        return None
    s2 = math.log1p(max(var, 0.0) / mean**2)
    return math.log(mean) - s2 / 2, math.sqrt(s2)


def band(mean: float, var: float, level: float = 0.8, offset: float = 0.0) -> tuple[float, float]:
    """Central ``level`` interval of a positive quantity with this mean and variance
    (lognormal moments), shifted by ``offset``."""
    ln = _lognormal(mean, var)
    if ln is None:
        return offset, offset
    return offset + quantile(mean, var, 0.5 - level / 2), offset + quantile(
        mean, var, 0.5 + level / 2
    )


def quantile(mean: float, var: float, q: float) -> float:
    """The ``q`` quantile of a positive quantity with this mean and variance (lognormal)."""
    ln = _lognormal(mean, var)
    if ln is None:
        return 0.0
    mu, sigma = ln
    return math.exp(mu + sigma * float(norm.ppf(q)))


def exceed(mean: float, var: float, threshold: float) -> float:
    """P(X ≥ threshold) for a positive X with this mean and variance (lognormal)."""
    if threshold <= 0:
        return 1.0
    ln = _lognormal(mean, var)
    if ln is None:
        return 0.0
    mu, sigma = ln
    if sigma == 0:
        return 1.0 if math.exp(mu) >= threshold else 0.0
    return float(norm.sf((math.log(threshold) - mu) / sigma))


def _reach(shape: np.ndarray, created: int, months: Iterable[int]) -> float:
    """Share of leads created in month ``created`` whose event falls in ``months``."""
    total = 0.0
    for j in months:
        k = j - created
        if 0 <= k < shape.size:
            total += float(shape[k])
    return total


def outlook(
    model: PlanModel,
    volumes: Mapping[int, float],
    months: Iterable[int],
    booked: tuple[float, float] = (0.0, 0.0),
) -> Outlook:
    """Expected wins, goals and revenue closing in ``months`` (calendar month indices)
    from the open pipeline and the new leads ``volumes`` (created per month)."""
    months = sorted(set(months))
    p, g = model.p_win_lead, model.p_goal.estimate
    mu, sd = model.amount.mean, model.amount.sd
    new = out_var = goals = 0.0
    for created in sorted(volumes):
        x = float(volumes[created])
        if x <= 0:
            continue
        pi = p * _reach(model.shape_win, created, months)
        new += x * pi
        out_var += x * pi * (1 - pi)
        goals += x * g * _reach(model.shape_goal, created, months)
    rate_var = (new / p) ** 2 * model.var_p_win_lead if p > 0 else 0.0
    new_var = out_var + rate_var
    new_rev = mu * new
    new_rev_var = new * sd**2 + mu**2 * new_var + new**2 * model.amount.var_mean
    pw = pr = pw_var = pr_var = 0.0
    pipe = model.pipeline
    if pipe is not None and pipe.leads:
        cols = pipe.columns(months)
        q = pipe.timing[:, cols].sum(axis=1) if cols.size else np.zeros(len(pipe.p))
        pw = float((q * pipe.p).sum())
        pr = float((q * pipe.ap).sum())
        share_w = pw / pipe.wins if pipe.wins > 0 else 0.0
        share_r = pr / pipe.revenue if pipe.revenue > 0 else 0.0
        # a lead wins in these months with chance q·p: Σ q·p(1 − q·p) = Σ q·p − q²·p²
        pw_var = float((q * pipe.p - q**2 * pipe.p2).sum()) + share_w**2 * pipe.var_model_wins
        pr_var = float((q * pipe.a2p - q**2 * pipe.a2p2).sum())
        pr_var += share_r**2 * pipe.var_model_revenue
        goals += float(pipe.goals[cols].sum()) if cols.size else 0.0
    bw, br = booked
    return Outlook(
        wins=bw + pw + new,
        wins_var=pw_var + new_var,
        revenue=br + pr + new_rev,
        revenue_var=pr_var + new_rev_var,
        goals=goals,
        pipeline_wins=pw,
        pipeline_revenue=pr,
        pipeline_wins_var=pw_var,
        pipeline_revenue_var=pr_var,
        new_wins=new,
        new_revenue=new_rev,
        booked_wins=bw,
        booked_revenue=br,
    )


def steady_volume(
    model: PlanModel,
    target: float,
    window: list[int],
    creation: list[int],
    booked: tuple[float, float] = (0.0, 0.0),
) -> float:
    """New leads per month (the same every month of ``creation``) whose expected revenue
    in ``window``, with the open pipeline and what is booked, equals ``target``; 0 when
    the pipeline alone is expected to reach it."""
    base = outlook(model, {}, window, booked)
    per_lead = model.amount.mean * model.p_win_lead
    reach = sum(_reach(model.shape_win, c, window) for c in creation)
    need = target - base.revenue
    if need <= 0:
        return 0.0
    if per_lead <= 0 or reach <= 0:
        return math.inf
    return need / (per_lead * reach)


LEAD_IN_SHARE = 0.05
"""A month before the period is a lead-in month when its new leads bring at least this
share of their wins into the period."""


def lead_in(shape: np.ndarray, share: float = LEAD_IN_SHARE) -> int:
    """Months before the period whose new leads still bring at least ``share`` of their
    wins into it: leads created earlier are the previous period's."""
    tail = shape[::-1].cumsum()[::-1]  # tail[k] = share of wins k or more months later
    k = 0
    while k + 1 < tail.size and tail[k + 1] >= share:
        k += 1
    return k
