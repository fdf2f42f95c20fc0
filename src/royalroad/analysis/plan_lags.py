"""Lag distributions of the plan: cumulative incidence by day, turned into months.

Pure functions over the per-day counts of :func:`royalroad.analysis.plan_queries.lag_counts`
(small arrays, one entry per distinct day):

* :func:`incidence` — the Aalen–Johansen cumulative incidence of one event with a
  competing one, open leads censored, with the delta-method standard error of
  Marubini and Valsecchi (1995), as statsmodels' ``CumIncidenceRight`` computes it;
* :func:`month_shape` — the whole lag distribution in months: the share of a month's
  new leads whose event falls 0, 1, 2 … months after their creation month, with
  creation spread evenly over the month (a convolution of the day-level lag with the
  creation days, not one median shifted);
* :func:`remaining` — for a lead already ``a`` days old, when its event will fall,
  given that it has not happened yet (the open pipeline's timing);
* :func:`exponential_days` — the lag a preset assumes (no data): exponential with a
  given mean, by day.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from royalroad import stats

MONTH_DAYS = 365.25 / 12
POSITIONS = 30
"""Creation days per month the lag is spread over (evenly, at the middle of each)."""
MAX_DAYS = 1100
"""Assumed lags are cut here (three years); the tail beyond is folded into the last day."""


@dataclass(frozen=True)
class Incidence:
    """Cumulative incidence of an event by whole day (``cif[i]`` just after ``days[i]``)."""

    days: np.ndarray
    cif: np.ndarray
    other: np.ndarray  # cumulative incidence of the competing end
    var: float  # variance of the final value (delta method)
    n: int  # leads behind it

    @property
    def total(self) -> float:
        """The share with the event by the last day observed (the eventual rate)."""
        return float(self.cif[-1]) if self.cif.size else math.nan

    def pmf(self) -> tuple[np.ndarray, np.ndarray]:
        """Days and the probability of the event on each (sums to :attr:`total`)."""
        return self.days, np.diff(np.r_[0.0, self.cif])

    def at(self, day: float) -> float:
        return stats.value_at(self.days, self.cif, day)

    def other_at(self, day: float) -> float:
        return stats.value_at(self.days, self.other, day)


def incidence(
    days: np.ndarray, event: np.ndarray, competing: np.ndarray, censored: np.ndarray
) -> Incidence:
    """Aalen–Johansen cumulative incidence of ``event`` (``competing`` ends the lead
    otherwise; ``censored`` leads are still open), per distinct day, sorted ascending.

    The variance is :func:`royalroad.stats.aalen_johansen_var`'s, the delta-method one
    of Marubini and Valsecchi (1995) computed from the counts per day as statsmodels'
    ``CumIncidenceRight`` does from one row per lead.
    """
    t = np.asarray(days, dtype=float)
    d1 = np.asarray(event, dtype=float)
    d2 = np.asarray(competing, dtype=float)
    c = np.asarray(censored, dtype=float)
    if t.size == 0:
        return Incidence(t, t.copy(), t.copy(), math.nan, 0)
    times, cif1, cif2 = stats.aalen_johansen(t, d1, d2, c)
    v = stats.aalen_johansen_var(t, d1, d2, c)
    return Incidence(times, cif1, cif2, float(v[-1]), int((d1 + d2 + c).sum()))


def event_days(days: np.ndarray) -> np.ndarray:
    """Whole days (counted up: an event at 3.2 days is day 4) as the middle of that day."""
    return np.maximum(np.asarray(days, dtype=float) - 0.5, 0.0)


def month_shape(days: np.ndarray, pmf: np.ndarray, months: int | None = None) -> np.ndarray:
    """Share of a month's leads whose event falls 0, 1, 2 … months after the creation
    month, from the lag ``pmf`` by day (normalised: the shares add up to 1).

    Creation is spread evenly over the month (``POSITIONS`` days), and each creation
    day is convolved with the whole lag distribution.
    """
    total = float(np.sum(pmf))
    if total <= 0:
        return np.array([1.0])
    lag = event_days(days)
    u = (np.arange(POSITIONS) + 0.5) * MONTH_DAYS / POSITIONS
    offset = np.floor((u[:, None] + lag[None, :]) / MONTH_DAYS).astype(int)
    size = int(offset.max()) + 1 if months is None else months
    weights = np.broadcast_to(pmf[None, :] / (total * POSITIONS), offset.shape)
    keep = offset < size
    return np.bincount(offset[keep], weights=weights[keep], minlength=size)


def remaining(days: np.ndarray, pmf: np.ndarray, age: float) -> tuple[np.ndarray, np.ndarray]:
    """For a lead ``age`` days old without the event yet: days from now to the event and
    their probabilities given that it happens (normalised; empty when no event is left
    to happen after ``age`` in the data, see :func:`effective_age`)."""
    lag = event_days(days)
    after = lag > age
    p = pmf[after]
    s = float(p.sum())
    if s <= 0:
        return np.zeros(0), np.zeros(0)
    return lag[after] - age, p / s


def effective_age(days: np.ndarray, pmf: np.ndarray, age: float, share: float = 0.01) -> float:
    """``age``, or the last age with at least ``share`` of the events still ahead when the
    lead is older than anything the data has seen close (its timing is then the
    oldest that the data can tell)."""
    lag = event_days(days)
    total = float(pmf.sum())
    if total <= 0:
        return age
    ahead = total - np.cumsum(pmf)  # mass after each lag day
    ok = lag[ahead >= share * total]
    limit = float(ok[-1]) if ok.size else 0.0
    return min(age, limit)


def exponential_days(mean_days: float) -> tuple[np.ndarray, np.ndarray]:
    """Days 1…``MAX_DAYS`` and the probability of the event on each for an exponential
    lag with the given mean (the tail folded into the last day)."""
    days = np.arange(1, MAX_DAYS + 1, dtype=float)
    if mean_days <= 0:
        pmf = np.zeros(MAX_DAYS)
        pmf[0] = 1.0
        return days, pmf
    cdf = 1.0 - np.exp(-days / mean_days)
    pmf = np.diff(np.r_[0.0, cdf])
    pmf[-1] += 1.0 - cdf[-1]
    return days, pmf


def convolve_days(
    a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """The lag of two steps one after the other (lead → goal, then goal → close)."""
    da, pa = a
    db, pb = b
    size = MAX_DAYS + 1
    x = np.zeros(size)
    y = np.zeros(size)
    np.add.at(x, np.minimum(da.astype(int), MAX_DAYS), pa)
    np.add.at(y, np.minimum(db.astype(int), MAX_DAYS), pb)
    z = np.convolve(x, y)[:size]
    z[-1] += max(float(np.sum(pa) * np.sum(pb) - z.sum()), 0.0)
    days = np.arange(size, dtype=float)
    keep = z > 0
    return days[keep], z[keep]


def median_days(days: np.ndarray, pmf: np.ndarray) -> float | None:
    """The median lag (days) of the events that happen."""
    total = float(np.sum(pmf))
    if total <= 0:
        return None
    cum = np.cumsum(pmf) / total
    return float(days[int(np.searchsorted(cum, 0.5))])
