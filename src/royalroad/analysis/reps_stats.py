"""The statistics of the reps analysis: pure functions over small arrays of counts.

* **Empirical-Bayes shrinkage** (:func:`fit_beta_binomial`, :func:`posterior`): a
  beta-binomial whose prior Beta(α, β) is fitted by maximum likelihood across reps
  (Newton's method on the exact log-likelihood, deterministic); each rep's rate is then
  the posterior mean with an equal-tailed 95% posterior interval.
* **Funnel-plot limits** (:func:`funnel_limits`): Spiegelhalter (2005), exact binomial
  limits with his interpolation between the discrete quantiles.
* **Indirect standardisation** (:func:`indirect`): observed / expected, the expected
  count from the team's rate in each stratum of the rep's own mix.
* **Decomposition** (:func:`decompose`): the midpoint (Shapley) split of a gap in win
  rate into reaching the goal, converting after it and the path without it.
* **Log-odds with an informative prior** (:func:`log_odds`): Monroe, Colaresi and Quinn
  (2008), per feature and two groups.

Tests compare each with an independent computation (scipy's ``betabinom`` maximised
by another optimiser, scipy's binomial quantiles, hand-made tables).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import betaln, digamma, polygamma

from royalroad import stats

Z95 = stats.Z95
LEVELS = (0.95, 0.998)
"""The funnel plot's two control limits: about 2 and 3 standard errors."""
ZONES = ("above_998", "above_95", "within", "below_95", "below_998")
"""Where a rep falls on the funnel plot (beyond the 99.8% limit, the 95% one, inside)."""
POOLED_STRENGTH = 1e6
"""A prior strength (α + β) above this many times the largest group's leads is a point:
no group's own data would move its rate by more than a millionth, so every group is
pooled (the likelihood then rises without bound as α + β grows)."""


# ---------------------------------------------------------------- empirical Bayes


@dataclass(frozen=True)
class Prior:
    """The Beta(α, β) prior fitted across groups (maximum likelihood).

    ``pooled``: the groups differ no more than chance makes them (the likelihood grows
    without bound in α + β): every group's rate is shrunk to the team's, α and β are
    None and ``mean`` is the pooled rate.
    """

    alpha: float | None
    beta: float | None
    mean: float
    pooled: bool
    groups: int
    loglik: float

    @property
    def strength(self) -> float | None:
        """α + β: how many leads' worth of weight the team's rate carries."""
        return None if self.alpha is None or self.beta is None else self.alpha + self.beta

    def to_dict(self) -> dict:
        return {
            "alpha": self.alpha,
            "beta": self.beta,
            "mean": self.mean,
            "strength": self.strength,
            "pooled": self.pooled,
            "groups": self.groups,
            "loglik": self.loglik,
        }


def beta_binomial_loglik(alpha: float, beta: float, k: np.ndarray, n: np.ndarray) -> float:
    """Σ log BetaBinomial(k | n, α, β), binomial coefficients included (real ``k`` allowed)."""
    k, n = np.asarray(k, dtype=float), np.asarray(n, dtype=float)
    comb = -np.log(n + 1) - betaln(n - k + 1, k + 1)
    return float(np.sum(comb + betaln(k + alpha, n - k + beta) - betaln(alpha, beta)))


def _grad_hess(a: float, b: float, k: np.ndarray, n: np.ndarray):
    """Gradient and Hessian of the log-likelihood in (log α, log β)."""
    m = n - k
    s = a + b
    ga = float(np.sum(digamma(k + a) - digamma(n + s) - digamma(a) + digamma(s)))
    gb = float(np.sum(digamma(m + b) - digamma(n + s) - digamma(b) + digamma(s)))
    t1 = polygamma(1, s) - polygamma(1, n + s)
    haa = float(np.sum(polygamma(1, k + a) - polygamma(1, a) + t1))
    hbb = float(np.sum(polygamma(1, m + b) - polygamma(1, b) + t1))
    hab = float(np.sum(t1))
    g = np.array([a * ga, b * gb])
    h = np.array([[a * a * haa + a * ga, a * b * hab], [a * b * hab, b * b * hbb + b * gb]])
    return g, h


def fit_beta_binomial(k: Sequence[float], n: Sequence[float]) -> Prior | None:
    """The Beta(α, β) prior maximising the beta-binomial likelihood of ``k`` of ``n``.

    Groups with ``n == 0`` carry no information and are dropped; None with fewer than
    two groups left. Newton's method in (log α, log β) from the method-of-moments start,
    with step halving, to a relative gradient below 1e-12: the same counts always give
    the same prior. When the groups vary no more than binomial chance (the likelihood
    keeps rising as α + β grows) the prior is a point at the pooled rate (``pooled``).

    >>> p = fit_beta_binomial([2, 8, 5, 9, 1], [10, 10, 10, 10, 10])
    >>> round(p.alpha, 4), round(p.beta, 4), p.pooled
    (1.2743, 1.2743, False)
    >>> fit_beta_binomial([30, 31, 29, 30], [100, 100, 100, 100]).pooled
    True
    """
    k_arr, n_arr = np.asarray(k, dtype=float), np.asarray(n, dtype=float)
    keep = n_arr > 0
    k_arr, n_arr = k_arr[keep], n_arr[keep]
    if k_arr.size < 2:
        return None
    pooled_mean = float(k_arr.sum() / n_arr.sum())
    limit = _pooled_loglik(k_arr, n_arr, pooled_mean)
    if pooled_mean <= 0.0 or pooled_mean >= 1.0:
        return Prior(None, None, pooled_mean, True, int(k_arr.size), limit)
    x = _start(k_arr, n_arr, pooled_mean)
    a0, b0 = (float(v) for v in np.exp(x))
    ll = beta_binomial_loglik(a0, b0, k_arr, n_arr)
    cap = POOLED_STRENGTH * float(n_arr.max())
    for _ in range(500):
        a, b = np.exp(x)
        if a + b > cap:
            break
        g, h = _grad_hess(a, b, k_arr, n_arr)
        if np.max(np.abs(g)) <= 1e-12 * (1.0 + abs(ll)):
            break
        try:
            step = -np.linalg.solve(h, g)
            if g @ step <= 0:  # not an ascent direction: the Hessian is not negative definite
                raise np.linalg.LinAlgError
        except np.linalg.LinAlgError:
            step = g / max(1.0, float(np.max(np.abs(g))))
        step = np.clip(step, -5.0, 5.0)
        for _ in range(60):
            new = x + step
            new_ll = beta_binomial_loglik(
                float(np.exp(new[0])), float(np.exp(new[1])), k_arr, n_arr
            )
            if new_ll >= ll - 1e-15 * abs(ll):
                break
            step = step / 2
        if np.max(np.abs(new - x)) < 1e-15:
            break
        x, ll = new, new_ll
    a, b = (float(v) for v in np.exp(x))
    if a + b > cap or ll <= limit + 1e-12 * (1.0 + abs(limit)):
        return Prior(None, None, pooled_mean, True, int(k_arr.size), limit)
    return Prior(a, b, a / (a + b), False, int(k_arr.size), ll)


def _pooled_loglik(k: np.ndarray, n: np.ndarray, p: float) -> float:
    """The beta-binomial log-likelihood's limit as α + β → ∞ at mean ``p`` (binomial)."""
    comb = -np.log(n + 1) - betaln(n - k + 1, k + 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(k > 0, k * np.log(p) if p > 0 else -np.inf, 0.0) + np.where(
            n - k > 0, (n - k) * np.log(1 - p) if p < 1 else -np.inf, 0.0
        )
    return float(np.sum(comb + terms))


def _start(k: np.ndarray, n: np.ndarray, mean: float) -> np.ndarray:
    """Method-of-moments start (log α, log β): the spread of the rates beyond binomial
    chance sets the strength; a strength of 100 when there is none."""
    rates = k / n
    var = float(np.var(rates))
    chance = float(np.mean(mean * (1 - mean) / n))
    extra = var - chance
    strength = mean * (1 - mean) / extra - 1 if extra > 1e-12 else 100.0
    strength = min(max(strength, 0.5), 1e6)
    return np.log([mean * strength, (1 - mean) * strength])


def posterior(
    prior: Prior | None, k: float, n: float, level: float = 0.95
) -> tuple[float | None, tuple[float, float] | None]:
    """Posterior mean and equal-tailed interval of a group's rate: Beta(α + k, β + n − k).

    With a pooled prior the rate is the team's (``prior.mean``) with no interval of its
    own; without a prior (fewer than two groups) nothing.
    """
    if prior is None:
        return None, None
    if prior.pooled or prior.alpha is None or prior.beta is None:
        return prior.mean, None
    from scipy.stats import beta as beta_dist

    a, b = prior.alpha + k, prior.beta + n - k
    tail = (1 - level) / 2
    lo, hi = beta_dist.ppf([tail, 1 - tail], a, b)
    return float(a / (a + b)), (float(lo), float(hi))


# ---------------------------------------------------------------- funnel plot


def funnel_limit(target: float, n: int, p: float) -> float:
    """Spiegelhalter's exact binomial control limit at volume ``n`` and probability ``p``.

    ``r_p`` is the ``p``-quantile of Binomial(n, target) (the smallest r with
    P(R ≤ r) ≥ p); the limit is ``(r_p − α) / n`` with the interpolation
    ``α = (P(R ≤ r_p) − p) / (P(R ≤ r_p) − P(R ≤ r_p − 1))`` (Spiegelhalter 2005,
    appendix A.1.1), which makes the limits a smooth funnel instead of a staircase.

    >>> round(funnel_limit(0.3, 100, 0.975), 4)
    0.3869
    """
    from scipy.stats import binom

    if n <= 0 or not 0 < target < 1:
        return target
    r = float(binom.ppf(p, n, target))
    at = float(binom.cdf(r, n, target))
    below = float(binom.cdf(r - 1, n, target)) if r > 0 else 0.0
    alpha = (at - p) / (at - below) if at > below else 0.0
    return min(1.0, max(0.0, (r - alpha) / n))


def limits(target: float, n: int) -> dict[str, tuple[float, float]]:
    """The 95% and 99.8% limits ``{"95": (lo, hi), "99.8": (lo, hi)}`` at volume ``n``."""
    out = {}
    for level in LEVELS:
        tail = (1 - level) / 2
        key = f"{100 * level:g}"
        out[key] = (funnel_limit(target, n, tail), funnel_limit(target, n, 1 - tail))
    return out


def tails(k: float, n: float, target: float) -> tuple[float, float]:
    """``(P(R ≤ k), P(R ≥ k))`` for R ~ Binomial(n, target), through the regularised
    incomplete beta function, so that a real ``k`` (a standardised count) gets the
    binomial's smooth extension and an integer one the exact tails.

    >>> lo, hi = tails(4, 4, 0.35)
    >>> round(hi, 6), lo
    (0.015006, 1.0)
    """
    from scipy.special import betainc

    upper = 1.0 if k <= 0 else float(betainc(k, n - k + 1, target)) if k <= n else 0.0
    lower = 1.0 if k >= n else float(betainc(n - k, k + 1, 1 - target)) if k >= 0 else 0.0
    return lower, upper


def zone(rate: float | None, target: float, n: int) -> str | None:
    """Where ``rate`` at volume ``n`` falls against the limits around ``target``.

    Decided by the exact binomial tail of the count ``rate · n``: beyond the 95% limit
    when its one-sided tail probability is at most 2.5%, beyond the 99.8% one at most
    0.1%. Away from the smallest volumes this is the same as comparing with
    :func:`limits`; at a handful of leads the interpolated limits would call four wins
    out of four "beyond 99.8%" although chance gives that 1.5% of the time at a 35%
    rate, and the exact tail does not.
    """
    if rate is None or n <= 0 or not math.isfinite(rate) or not 0 < target < 1:
        return None
    lower, upper = tails(rate * n, n, target)
    for level, name in ((0.998, "998"), (0.95, "95")):
        tail = (1 - level) / 2
        if upper <= tail:
            return f"above_{name}"
        if lower <= tail:
            return f"below_{name}"
    return "within"


def funnel_curve(target: float, largest: int, points: int = 60) -> list[dict]:
    """The limits along volumes 1…``largest`` (about ``points`` of them, spaced
    geometrically), for drawing the funnel."""
    if largest <= 0 or not 0 < target < 1:
        return []
    grid = sorted({int(round(v)) for v in np.geomspace(1, max(largest, 2) * 1.1, points)})
    out = []
    for n in grid:
        lim = limits(target, n)
        out.append(
            {
                "n": n,
                "lo95": lim["95"][0],
                "hi95": lim["95"][1],
                "lo998": lim["99.8"][0],
                "hi998": lim["99.8"][1],
            }
        )
    return out


# ---------------------------------------------------------------- standardisation


@dataclass(frozen=True)
class Standardised:
    """Observed / expected with the expected count from the team's rate per stratum."""

    observed: int
    expected: float
    ratio: float | None
    ratio_ci: tuple[float, float] | None
    rate: float | None  # the indirectly standardised rate: ratio × the team's rate


def indirect(
    k: Sequence[float], n: Sequence[float], team_k: Sequence[float], team_n: Sequence[float]
) -> Standardised:
    """Indirect standardisation of one group over strata.

    ``k[s]`` of ``n[s]`` are the group's counts in stratum ``s``; ``team_k[s]`` of
    ``team_n[s]`` the team's (every group together). Expected = Σ n[s] · team rate[s];
    the ratio's interval is the Wilson interval of the observed count among the
    group's leads, scaled by n / expected (the expected count taken as fixed, as
    indirect standardisation does).

    >>> s = indirect([8, 1], [10, 10], [40, 10], [50, 50])
    >>> s.expected, round(s.ratio, 4)
    (10.0, 0.9)
    """
    k_a, n_a = np.asarray(k, dtype=float), np.asarray(n, dtype=float)
    tk, tn = np.asarray(team_k, dtype=float), np.asarray(team_n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(tn > 0, tk / np.where(tn > 0, tn, 1.0), 0.0)
    observed, total = float(k_a.sum()), float(n_a.sum())
    expected = float(np.sum(n_a * p))
    team_rate = float(tk.sum() / tn.sum()) if tn.sum() > 0 else math.nan
    if expected <= 0 or total <= 0:
        return Standardised(int(round(observed)), expected, None, None, None)
    ratio = observed / expected
    lo, hi = stats.wilson(np.asarray(observed), np.asarray(total))
    ci = (float(lo) * total / expected, float(hi) * total / expected)
    rate = ratio * team_rate if math.isfinite(team_rate) else None
    return Standardised(int(round(observed)), expected, ratio, ci, rate)


# ---------------------------------------------------------------- decomposition


@dataclass(frozen=True)
class Gap:
    """A group's win rate minus the team's, split exactly into three parts.

    The win rate among closed leads is ``R·P + (1 − R)·Q``: R the share that reached the
    goal, P the win rate after it, Q the win rate without it. With midpoints
    ``R̄ = (R₁ + R₀)/2`` (and so on) the gap is exactly
    ``ΔR·(P̄ − Q̄) + R̄·ΔP + (1 − R̄)·ΔQ``: reach, conversion, no-goal path (the Shapley
    value of the three factors, since the function is multilinear).
    """

    total: float
    reach: float
    conversion: float
    no_goal: float
    wins: float  # total × the group's closed leads: wins above (below) the team's rates

    def to_dict(self) -> dict:
        return {
            "total": self.total,
            "reach": self.reach,
            "conversion": self.conversion,
            "no_goal": self.no_goal,
            "wins": self.wins,
        }


def decompose(
    rep: tuple[float | None, float | None, float | None],
    team: tuple[float, float, float],
    closed: int,
) -> Gap:
    """Split ``f(rep) − f(team)`` with ``f(R, P, Q) = R·P + (1 − R)·Q``.

    A rate the rep has no leads for (P when none of their closed leads reached the
    goal, Q when all did) takes the team's value: its weight in ``f`` is zero, so the
    rep's win rate and the sum are unchanged, and that part is zero.

    >>> g = decompose((0.5, 0.6, 0.2), (0.4, 0.5, 0.1), 100)
    >>> round(g.reach + g.conversion + g.no_goal, 12) == round(g.total, 12)
    True
    """
    r0, p0, q0 = team
    r1 = rep[0] if rep[0] is not None else r0
    p1 = rep[1] if rep[1] is not None else p0
    q1 = rep[2] if rep[2] is not None else q0
    rb, pb, qb = (r1 + r0) / 2, (p1 + p0) / 2, (q1 + q0) / 2
    reach = (r1 - r0) * (pb - qb)
    conversion = rb * (p1 - p0)
    no_goal = (1 - rb) * (q1 - q0)
    total = (r1 * p1 + (1 - r1) * q1) - (r0 * p0 + (1 - r0) * q0)
    return Gap(total, reach, conversion, no_goal, total * closed)


# ---------------------------------------------------------------- practices


def log_odds(
    y1: float, n1: float, y2: float, n2: float, prior_share: float, prior_size: float
) -> tuple[float, float, float]:
    """Log-odds ratio of a feature in group 1 vs group 2 with an informative prior.

    Monroe, Colaresi and Quinn (2008), for one feature that a lead has or has not: a
    Dirichlet (here Beta) prior centred on the pooled share, worth ``prior_size`` leads
    (``α = prior_size · share`` pseudo-leads with it, ``β = prior_size · (1 − share)``
    without). Returns ``(δ, se, z)``:
    ``δ = log((y1 + α)/(n1 − y1 + β)) − log((y2 + α)/(n2 − y2 + β))``, its variance
    the sum of the four reciprocals, ``z = δ / se``.

    >>> d, se, z = log_odds(30, 100, 20, 100, 0.25, 10)
    >>> round(d, 4), round(z, 3)
    (0.4891, 1.55)
    """
    a = prior_size * prior_share
    b = prior_size * (1 - prior_share)
    c1, d1, c2, d2 = y1 + a, n1 - y1 + b, y2 + a, n2 - y2 + b
    if min(c1, d1, c2, d2) <= 0:
        return math.nan, math.nan, math.nan
    delta = math.log(c1 / d1) - math.log(c2 / d2)
    se = math.sqrt(1 / c1 + 1 / d1 + 1 / c2 + 1 / d2)
    return delta, se, delta / se


def pooled_log_odds(
    strata: Sequence[tuple[float, float, float, float]], prior_size: float
) -> tuple[float, float, float]:
    """:func:`log_odds` within strata ``(y1, n1, y2, n2)``, combined by inverse-variance
    weights (a fixed-effect pooling): ``(δ, se, z)``, NaN when no stratum informs.

    Each stratum's prior is centred on its own pooled share. A stratum where a group has
    no lead, or nobody has the feature, carries no information and is skipped.

    >>> d, se, z = pooled_log_odds([(30, 100, 20, 100)], 10)
    >>> round(d, 4), round(z, 3)
    (0.4891, 1.55)
    """
    num = den = 0.0
    for y1, n1, y2, n2 in strata:
        if n1 <= 0 or n2 <= 0:
            continue
        share = (y1 + y2) / (n1 + n2)
        delta, se, _ = log_odds(y1, n1, y2, n2, share, prior_size)
        if not (math.isfinite(delta) and math.isfinite(se) and se > 0):
            continue
        num += delta / se**2
        den += 1 / se**2
    if den == 0:
        return math.nan, math.nan, math.nan
    delta = num / den
    se = math.sqrt(1 / den)
    return delta, se, delta / se


__all__ = [
    "LEVELS",
    "ZONES",
    "Gap",
    "Prior",
    "Standardised",
    "beta_binomial_loglik",
    "decompose",
    "fit_beta_binomial",
    "funnel_curve",
    "funnel_limit",
    "indirect",
    "limits",
    "log_odds",
    "pooled_log_odds",
    "posterior",
    "tails",
    "zone",
]
