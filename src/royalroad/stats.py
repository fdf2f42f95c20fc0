"""Statistics we stand behind: pure functions over small arrays of counts.

Everything here takes counts that the engine aggregated (per candidate, per
stratum, per day), never per-lead rows. Intervals are two-sided 95% by default.
Tests compare each function with scipy/statsmodels to 1e-9.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np
from scipy.stats import fisher_exact
from statsmodels.stats.contingency_tables import StratifiedTable, Table2x2
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

Z95 = 1.959963984540054


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run the model fits inside on one BLAS thread.

    The design matrices are small (tens of thousands of cells by ~50 terms): a
    multithreaded BLAS spends its time waking and spinning threads that fight DuckDB's
    for the same cores. On 2 cores the six P(win) fits at 10M events took 21 s with
    OpenBLAS's default threads and 1.2 s on one. The limit is lifted on exit, so a
    caller's own numpy work keeps its threads.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        yield


def finite(x) -> float | None:
    """``x`` as a float, or None when it is missing, not a number or infinite.

    >>> finite("1.5"), finite(float("nan")), finite(None)
    (1.5, None, None)
    """
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def wilson(
    k: np.ndarray | int, n: np.ndarray | int, alpha: float = 0.05
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for k successes in n trials (NaN where n == 0).

    >>> lo, hi = wilson(65, 100)
    >>> round(float(lo), 4), round(float(hi), 4)
    (0.5525, 0.7364)
    """
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    safe = np.where(n > 0, n, 1.0)
    lo, hi = proportion_confint(k, safe, alpha=alpha, method="wilson")
    lo = np.where(n > 0, lo, np.nan)
    hi = np.where(n > 0, hi, np.nan)
    return lo, hi


def win_rate(won: int, lost: int, alpha: float = 0.05) -> tuple[float, tuple[float, float]]:
    """Win rate among closed leads with its Wilson interval (NaN when none is closed).

    >>> rate, (lo, hi) = win_rate(65, 35)
    >>> rate, round(lo, 4), round(hi, 4)
    (0.65, 0.5525, 0.7364)
    """
    closed = won + lost
    lo, hi = wilson(won, closed, alpha)
    return (won / closed if closed else math.nan), (float(lo), float(hi))


def odds_ratio(a: int, b: int, c: int, d: int, alpha: float = 0.05) -> tuple[float, float, float]:
    """Odds ratio ad/bc of the table [[a, b], [c, d]] with a Woolf (log) interval.

    ``a`` reached & won, ``b`` reached & lost, ``c`` not reached & won, ``d`` not
    reached & lost. With a zero cell the Haldane–Anscombe correction (+0.5 to every
    cell) is applied, so the estimate and interval stay finite; without zero cells
    the result equals statsmodels ``Table2x2``.
    """
    if min(a, b, c, d) == 0:
        if (a + b == 0) or (c + d == 0) or (a + c == 0) or (b + d == 0):
            return math.nan, math.nan, math.nan
        fa, fb, fc, fd = a + 0.5, b + 0.5, c + 0.5, d + 0.5
        est = (fa * fd) / (fb * fc)
        se = math.sqrt(1 / fa + 1 / fb + 1 / fc + 1 / fd)
        z = _z(alpha)
        return est, math.exp(math.log(est) - z * se), math.exp(math.log(est) + z * se)
    table = Table2x2(np.array([[a, b], [c, d]], dtype=float))
    lo, hi = table.oddsratio_confint(alpha=alpha)
    return float(table.oddsratio), float(lo), float(hi)


ZERO_CELLS = (
    "separation",
    "no_loss_with",
    "no_win_without",
    "inverse_separation",
    "no_win_with",
    "no_loss_without",
)
"""Codes of :func:`zero_cell`: which cell of [[a, b], [c, d]] is empty."""


def zero_cell(a: int, b: int, c: int, d: int) -> str | None:
    """Which zero cell makes the odds ratio ad/bc infinite or zero, or None.

    ``a`` reached & won, ``b`` reached & lost, ``c`` not reached & won, ``d`` not
    reached & lost. An empty margin (nobody reached it, everybody did, no win or no
    loss at all) leaves the odds ratio undefined rather than infinite: None as well.

    >>> zero_cell(10, 0, 5, 20), zero_cell(10, 3, 0, 20), zero_cell(10, 3, 5, 20)
    ('no_loss_with', 'no_win_without', None)
    """
    if (a + b == 0) or (c + d == 0) or (a + c == 0) or (b + d == 0):
        return None
    if b == 0 and c == 0:
        return "separation"
    if a == 0 and d == 0:
        return "inverse_separation"
    if b == 0:
        return "no_loss_with"
    if c == 0:
        return "no_win_without"
    if a == 0:
        return "no_win_with"
    if d == 0:
        return "no_loss_without"
    return None


def _z(alpha: float) -> float:
    if alpha == 0.05:
        return Z95
    from scipy.stats import norm

    return float(norm.ppf(1 - alpha / 2))


def fisher_p(a: int, b: int, c: int, d: int) -> float:
    """Two-sided Fisher exact p-value of [[a, b], [c, d]]."""
    if (a + b == 0) or (c + d == 0) or (a + c == 0) or (b + d == 0):
        return 1.0
    return float(fisher_exact([[a, b], [c, d]], alternative="two-sided").pvalue)


def bh(pvalues: Sequence[float]) -> np.ndarray:
    """Benjamini–Hochberg q-values over every hypothesis tried."""
    p = np.asarray(pvalues, dtype=float)
    if p.size == 0:
        return p
    return multipletests(p, method="fdr_bh")[1]


def mcc(a: float, b: float, c: float, d: float) -> float:
    """Matthews correlation of reached vs won (0 when a margin is empty).

    >>> mcc(10, 0, 0, 10)
    1.0
    """
    den = (a + b) * (c + d) * (a + c) * (b + d)
    if den == 0:
        return 0.0
    return float((a * d - b * c) / math.sqrt(den))


def mantel_haenszel(
    tables: Sequence[np.ndarray], alpha: float = 0.05
) -> tuple[float, float, float]:
    """Mantel–Haenszel pooled odds ratio over 2×2 strata, with the RGB interval.

    Strata with one row or column empty carry no information and are dropped.
    Returns NaNs when nothing informative is left.
    """
    useful = [np.asarray(t, dtype=float) for t in tables]
    useful = [t for t in useful if t.sum(axis=0).min() > 0 and t.sum(axis=1).min() > 0]
    if not useful:
        return math.nan, math.nan, math.nan
    st = StratifiedTable(useful)
    with np.errstate(divide="ignore", invalid="ignore"):
        est = float(st.oddsratio_pooled)
        if not np.isfinite(est) or est == 0:
            return est, math.nan, math.nan
        lo, hi = st.oddsratio_pooled_confint(alpha=alpha)
    return est, float(lo), float(hi)


def aalen_johansen(
    times: np.ndarray, won: np.ndarray, lost: np.ndarray, censored: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cumulative incidence of ``won`` with ``lost`` as a competing risk.

    Takes *aggregated* counts per distinct time (sorted ascending): how many leads
    were won, lost and censored (still open) at that time. Ties are handled
    exactly — all events at a time leave the risk set together, censorings after
    them — so the result is deterministic (no random jitter of tied times).

    Returns ``(times, cif_won, cif_lost)`` evaluated just after each time.
    """
    times = np.asarray(times, dtype=float)
    won = np.asarray(won, dtype=float)
    lost = np.asarray(lost, dtype=float)
    censored = np.asarray(censored, dtype=float)
    at_risk = (won + lost + censored)[::-1].cumsum()[::-1]
    surv = 1.0
    cif_w = np.zeros_like(times)
    cif_l = np.zeros_like(times)
    acc_w = acc_l = 0.0
    for i in range(times.size):  # one step per distinct day: small
        n = at_risk[i]
        if n > 0:
            acc_w += surv * won[i] / n
            acc_l += surv * lost[i] / n
            surv *= 1.0 - (won[i] + lost[i]) / n
        cif_w[i] = acc_w
        cif_l[i] = acc_l
    return times, cif_w, cif_l


def value_at(times: np.ndarray, values: np.ndarray, horizon: float) -> float:
    """Step function value at ``horizon`` (0 before the first time)."""
    idx = np.searchsorted(times, horizon, side="right") - 1
    return float(values[idx]) if idx >= 0 else 0.0


def rate_difference(
    k1: int, n1: int, k2: int, n2: int, alpha: float = 0.05
) -> tuple[float, tuple[float, float]]:
    """Difference of two proportions k1/n1 − k2/n2 with Newcombe's hybrid score interval.

    Newcombe (1998), method 10: built from the two Wilson intervals, so it stays
    inside [−1, 1] and behaves at 0 % and 100 %, as a Wald interval does not. NaN
    when either group is empty.

    >>> d, (lo, hi) = rate_difference(56, 70, 48, 80)
    >>> round(d, 4), round(lo, 4), round(hi, 4)
    (0.2, 0.0524, 0.3339)
    """
    if n1 <= 0 or n2 <= 0:
        return math.nan, (math.nan, math.nan)
    from statsmodels.stats.proportion import confint_proportions_2indep

    lo, hi = confint_proportions_2indep(
        k1, n1, k2, n2, method="newcomb", compare="diff", alpha=alpha
    )
    return k1 / n1 - k2 / n2, (float(lo), float(hi))


def brier(p: np.ndarray, y: np.ndarray) -> float:
    """Mean squared error of probabilities ``p`` against outcomes ``y`` (0/1)."""
    p, y = np.asarray(p, dtype=float), np.asarray(y, dtype=float)
    return float(np.mean((p - y) ** 2)) if p.size else math.nan


def log_loss(p: np.ndarray, y: np.ndarray, eps: float = 1e-15) -> float:
    """Mean negative log-likelihood of outcomes ``y`` under probabilities ``p``."""
    p = np.clip(np.asarray(p, dtype=float), eps, 1 - eps)
    y = np.asarray(y, dtype=float)
    if not p.size:
        return math.nan
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def auc(p: np.ndarray, y: np.ndarray) -> float:
    """Area under the ROC curve: the chance a random win is scored above a random loss
    (ties count half), from average ranks (the Mann–Whitney U statistic).

    >>> auc(np.array([0.9, 0.8, 0.3, 0.3]), np.array([1, 0, 1, 0]))
    0.625
    """
    from scipy.stats import rankdata

    p, y = np.asarray(p, dtype=float), np.asarray(y).astype(bool)
    n1, n0 = int(y.sum()), int((~y).sum())
    if not n1 or not n0:
        return math.nan
    ranks = rankdata(p)  # ties get their average rank
    return float((ranks[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def aalen_johansen_se(
    times: np.ndarray, won: np.ndarray, lost: np.ndarray, censored: np.ndarray
) -> np.ndarray:
    """Standard error of :func:`aalen_johansen`'s cumulative incidence of ``won``
    (the square root of :func:`aalen_johansen_var`)."""
    return np.sqrt(aalen_johansen_var(times, won, lost, censored))


def aalen_johansen_var(
    times: np.ndarray, won: np.ndarray, lost: np.ndarray, censored: np.ndarray
) -> np.ndarray:
    """Variance of :func:`aalen_johansen`'s cumulative incidence of ``won``, per time.

    The delta-method variance of Marubini and Valsecchi (1995), as Stata's ``stcompet``
    and statsmodels' ``CumIncidenceRight`` compute it, on the same aggregated counts
    per distinct time. A time at which every lead still at risk has an event adds no
    variance term for the hazard (its Greenwood term is undefined there).
    """
    won = np.asarray(won, dtype=float)
    lost = np.asarray(lost, dtype=float)
    censored = np.asarray(censored, dtype=float)
    n = (won + lost + censored)[::-1].cumsum()[::-1]
    d = won + lost
    with np.errstate(divide="ignore", invalid="ignore"):
        surv = np.cumprod(np.where(n > 0, 1.0 - d / np.where(n > 0, n, 1.0), 1.0))
        s0 = np.r_[1.0, surv[:-1]] / np.where(n > 0, n, 1.0)
        cif = np.cumsum(s0 * won)
        ra = np.where(n > d, d / (n * np.where(n > d, n - d, 1.0)), 0.0)
        v = cif**2 * np.cumsum(ra) - 2 * cif * np.cumsum(cif * ra) + np.cumsum(cif**2 * ra)
        rb = np.where(n > 0, (n - won) * won / np.where(n > 0, n, 1.0), 0.0)
        v += np.cumsum(s0**2 * rb)
        rc = np.where(n > 0, s0 * won / np.where(n > 0, n, 1.0), 0.0)
        v += -2 * cif * np.cumsum(rc) + 2 * np.cumsum(cif * rc)
    return np.maximum(v, 0.0)


def incidence_interval(
    estimate: float, se: float, n: int, alpha: float = 0.05
) -> tuple[float, float]:
    """Wilson interval for a censored proportion at its effective sample size.

    ``n_eff = F(1 − F) / se²`` is the number of uncensored leads that would give the
    same precision (Dorey and Korn 1987), at most ``n``, the leads in the group
    (``n`` itself when the estimate is 0 or 1, or has no spread). Uncensored data
    give ``n_eff = n`` and the plain Wilson interval.

    >>> lo, hi = incidence_interval(0.65, math.sqrt(0.65 * 0.35 / 100), 100)
    >>> round(lo, 4), round(hi, 4)
    (0.5525, 0.7364)
    """
    if n <= 0 or not math.isfinite(estimate):
        return math.nan, math.nan
    n_eff = float(n)
    if se > 0 and 0 < estimate < 1:
        n_eff = min(n_eff, estimate * (1 - estimate) / se**2)
    lo, hi = wilson(np.asarray(estimate * n_eff), np.asarray(n_eff), alpha)
    return float(lo), float(hi)
