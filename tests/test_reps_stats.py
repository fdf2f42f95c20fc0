"""The reps statistics, checked against computations made here, never their own output.

* The beta-binomial prior equals scipy's ``betabinom`` likelihood maximised by another
  optimiser (Nelder–Mead, another parametrisation, another start) to 1e-6, and the
  posterior equals scipy's Beta distribution at that prior.
* The funnel-plot limits equal Spiegelhalter's formula (2005, appendix A.1.1) written
  here with a loop over the binomial distribution, on a hand-made table, and approach
  the normal approximation at large volumes.
* The decomposition equals a brute-force Shapley value over the six orders of the three
  factors, and its parts add up exactly.
* Indirect standardisation equals a hand computation on a two-segment case where the
  raw ranking and the fair one disagree.
* The log-odds ratio with an informative prior is Monroe, Colaresi and Quinn's formula
  written out here.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.stats import beta as beta_dist
from scipy.stats import betabinom, binom, norm
from statsmodels.stats.proportion import proportion_confint

from royalroad.analysis import reps_stats as rs

# eight reps with clearly different goal reach (more spread than binomial chance)
K = np.array([12, 30, 45, 22, 60, 8, 41, 27])
N = np.array([80, 95, 110, 70, 120, 60, 90, 100])


def _independent_prior(k, n):
    """scipy's betabinom log-likelihood maximised over (logit mean, log strength) by
    Nelder–Mead from a flat start, then polished the same way from its own answer."""

    def nll(x):
        m = 1 / (1 + math.exp(-x[0]))
        s = math.exp(x[1])
        return -float(np.sum(betabinom.logpmf(k, n, m * s, (1 - m) * s)))

    x = np.array([0.0, 0.0])
    for _ in range(4):
        res = minimize(
            nll,
            x,
            method="Nelder-Mead",
            options={"xatol": 1e-12, "fatol": 1e-14, "maxiter": 40_000, "maxfev": 80_000},
        )
        x = res.x
    m = 1 / (1 + math.exp(-x[0]))
    s = math.exp(x[1])
    return m * s, (1 - m) * s, -res.fun


def test_beta_binomial_prior_equals_an_independent_scipy_maximisation():
    prior = rs.fit_beta_binomial(K, N)
    a, b, ll = _independent_prior(K, N)
    assert prior is not None and not prior.pooled
    assert prior.alpha == pytest.approx(a, rel=1e-6)
    assert prior.beta == pytest.approx(b, rel=1e-6)
    assert prior.mean == pytest.approx(a / (a + b), abs=1e-6)
    assert prior.loglik == pytest.approx(ll, abs=1e-6)
    # the posterior of every rep: scipy's Beta at the independent prior
    for k, n in zip(K, N, strict=True):
        mean, ci = rs.posterior(prior, k, n)
        assert mean == pytest.approx((a + k) / (a + b + n), abs=1e-6)
        lo, hi = beta_dist.ppf([0.025, 0.975], a + k, b + n - k)
        assert ci == pytest.approx((lo, hi), abs=1e-6)


def test_the_prior_is_deterministic_and_shrinks_a_tiny_perfect_rep_below_the_best():
    # eight reps as the manufacturing simulation has them (goal reach 22–50% of ~430
    # leads each), and a new rep whose 4 leads all reached the goal
    k = np.array([207, 182, 152, 155, 152, 145, 115, 95, 4])
    n = np.array([413, 442, 413, 453, 454, 442, 425, 428, 4])
    first = rs.fit_beta_binomial(k, n)
    assert first == rs.fit_beta_binomial(k, n)
    shrunk = [rs.posterior(first, ki, ni)[0] for ki, ni in zip(k, n, strict=True)]
    assert k[-1] / n[-1] == 1.0 > max(k[:-1] / n[:-1])  # raw: the tiny rep is first
    assert np.argmax(shrunk) == 0 and shrunk[-1] < shrunk[0]  # shrunk: it is not
    # the prior is scipy's maximum: its log-likelihood is flat there and lower around it
    x = np.log([first.alpha, first.beta])

    def ll(v):
        return float(np.sum(betabinom.logpmf(k, n, *np.exp(v))))

    h = 1e-5
    for d in np.eye(2):
        grad = (ll(x + h * d) - ll(x - h * d)) / (2 * h)
        assert abs(grad) < 1e-5
        assert ll(x + 1e-2 * d) < ll(x) and ll(x - 1e-2 * d) < ll(x)


def test_reps_that_differ_no_more_than_chance_are_pooled_to_the_team():
    k, n = [30, 31, 29, 30], [100, 100, 100, 100]
    prior = rs.fit_beta_binomial(k, n)
    assert prior is not None and prior.pooled and prior.strength is None
    assert prior.mean == pytest.approx(120 / 400)
    # independently: the likelihood keeps rising with the strength at the pooled mean
    lls = [betabinom.logpmf(k, n, 0.3 * s, 0.7 * s).sum() for s in (1e2, 1e4, 1e6, 1e8)]
    assert all(b > a for a, b in itertools.pairwise(lls))
    assert rs.posterior(prior, 31, 100) == (pytest.approx(0.3), None)
    assert rs.fit_beta_binomial([5], [10]) is None  # one group: nothing to learn from
    assert rs.fit_beta_binomial([0, 0, 0], [10, 12, 9]).pooled  # nobody reached it


# ---------------------------------------------------------------- funnel plot


def _spiegelhalter(target: float, n: int, p: float) -> float:
    """Appendix A.1.1 of Spiegelhalter (2005), written with a loop: r_p the smallest r
    with P(R ≤ r) ≥ p, α = (P(R ≤ r_p) − p) / (P(R ≤ r_p) − P(R ≤ r_p − 1)),
    limit (r_p − α) / n."""
    r = 0
    while binom.cdf(r, n, target) < p:
        r += 1
    at, below = binom.cdf(r, n, target), binom.cdf(r - 1, n, target)
    return (r - (at - p) / (at - below)) / n


@pytest.mark.parametrize(
    ("target", "n"), [(0.3, 20), (0.3, 50), (0.35, 100), (0.35, 400), (0.63, 250), (0.1, 1000)]
)
def test_funnel_limits_equal_the_published_formula(target, n):
    lim = rs.limits(target, n)
    for key, level in (("95", 0.95), ("99.8", 0.998)):
        tail = (1 - level) / 2
        expected = (_spiegelhalter(target, n, tail), _spiegelhalter(target, n, 1 - tail))
        assert lim[key] == pytest.approx(expected, abs=1e-12), (key, target, n)
    # the limits widen as the volume falls (a funnel) and enclose the target
    assert lim["99.8"][0] < lim["95"][0] < target < lim["95"][1] < lim["99.8"][1]


def test_funnel_limits_approach_the_normal_approximation_at_large_volumes():
    target, n = 0.35, 20_000
    se = math.sqrt(target * (1 - target) / n)
    lim = rs.limits(target, n)
    assert lim["95"] == pytest.approx((target - 1.96 * se, target + 1.96 * se), abs=2e-4)
    z998 = norm.ppf(0.999)
    assert lim["99.8"] == pytest.approx((target - z998 * se, target + z998 * se), abs=2e-4)


def test_zones_on_a_hand_made_table():
    # team rate 35% at 400 leads: the count's one-sided binomial tail decides
    table = {200: "above_998", 164: "above_95", 140: "within", 116: "below_95", 100: "below_998"}
    for k, zone in table.items():
        assert rs.zone(k / 400, 0.35, 400) == zone, k
        up, down = binom.sf(k - 1, 400, 0.35), binom.cdf(k, 400, 0.35)
        tail = min(up, down)
        assert (tail <= 0.001) == zone.endswith("998") and (tail <= 0.025) == (zone != "within")
        # away from tiny volumes the exact tail and the drawn limits agree
        lo95, hi95 = rs.limits(0.35, 400)["95"]
        assert (zone == "within") == (lo95 <= k / 400 <= hi95)
    # the same 41% from 20 leads is normal variation: the funnel is wide there
    assert rs.zone(0.41, 0.35, 20) == "within"
    # four out of four at 35%: chance gives it 1.5% of the time, beyond 95% but not 99.8%
    assert rs.zone(1.0, 0.35, 4) == "above_95"
    assert rs.tails(4, 4, 0.35)[1] == pytest.approx(binom.sf(3, 4, 0.35), rel=1e-12)
    assert rs.tails(2, 10, 0.35)[0] == pytest.approx(binom.cdf(2, 10, 0.35), rel=1e-12)
    assert rs.zone(None, 0.35, 20) is None and rs.zone(0.4, 0.35, 0) is None


def test_funnel_curve_is_monotone_and_clipped_to_rates():
    curve = rs.funnel_curve(0.35, 600)
    assert curve[0]["n"] == 1 and curve[-1]["n"] >= 600
    assert all(0 <= p["lo998"] <= p["lo95"] <= 0.35 <= p["hi95"] <= p["hi998"] <= 1 for p in curve)
    late = [p["hi95"] for p in curve if p["n"] >= 30]
    assert all(b <= a + 1e-9 for a, b in itertools.pairwise(late))


# ---------------------------------------------------------------- decomposition


def _shapley(f, rep, team):
    """Brute-force Shapley value of each factor of f over the 3! orders of switching the
    team's factors to the rep's."""
    parts = [0.0, 0.0, 0.0]
    orders = list(itertools.permutations(range(3)))
    for order in orders:
        cur = list(team)
        before = f(*cur)
        for i in order:
            cur[i] = rep[i]
            after = f(*cur)
            parts[i] += (after - before) / len(orders)
            before = after
    return parts


def test_decomposition_is_the_shapley_value_and_adds_up_exactly():
    def f(r, p, q):
        return r * p + (1 - r) * q

    rng = np.random.default_rng(3)
    for _ in range(200):
        rep, team = rng.random(3), rng.random(3)
        g = rs.decompose(tuple(rep), tuple(team), 137)
        shap = _shapley(f, rep, team)
        assert (g.reach, g.conversion, g.no_goal) == pytest.approx(shap, abs=1e-12)
        assert g.reach + g.conversion + g.no_goal == pytest.approx(g.total, abs=1e-15)
        assert g.total == pytest.approx(f(*rep) - f(*team), abs=1e-15)
        assert g.wins == pytest.approx(137 * g.total)


def test_decomposition_with_a_missing_rate_keeps_the_sum_and_zeroes_that_part():
    # no closed lead of the rep reached the goal: P is unknown and weighs nothing
    g = rs.decompose((0.0, None, 0.2), (0.4, 0.6, 0.1), 50)
    assert g.conversion == 0.0
    assert g.reach + g.no_goal == pytest.approx(g.total, abs=1e-15)
    assert g.total == pytest.approx(0.2 - (0.4 * 0.6 + 0.6 * 0.1))


# ---------------------------------------------------------------- standardisation


def test_indirect_standardisation_equals_a_hand_computation_where_rankings_disagree():
    # two segments: easy (the team wins 58%) and hard (23%).
    # Rep X: 80 easy leads (44 won), 20 hard (3 won) → raw 47%.
    # Rep Y: 20 easy (14 won), 80 hard (20 won) → raw 34%. Raw: X above Y.
    team_k, team_n = [58, 23], [100, 100]
    x = rs.indirect([44, 3], [80, 20], team_k, team_n)
    y = rs.indirect([14, 20], [20, 80], team_k, team_n)
    # by hand: E_X = 80·0.58 + 20·0.23 = 51, E_Y = 20·0.58 + 80·0.23 = 30
    assert x.expected == pytest.approx(51.0) and y.expected == pytest.approx(30.0)
    assert x.ratio == pytest.approx(47 / 51) and y.ratio == pytest.approx(34 / 30)
    assert x.ratio < 1 < y.ratio  # fair: Y above X
    assert x.rate == pytest.approx(47 / 51 * 0.405) and y.rate == pytest.approx(34 / 30 * 0.405)
    lo, hi = proportion_confint(47, 100, method="wilson")
    assert x.ratio_ci == pytest.approx((lo * 100 / 51, hi * 100 / 51))
    # a rep whose mix is the team's has expected = the team's rate × leads
    same = rs.indirect([29, 11], [50, 50], team_k, team_n)
    assert same.expected == pytest.approx(0.405 * 100)


# ---------------------------------------------------------------- log-odds


def _monroe(y1, n1, y2, n2, share, size):
    a, b = size * share, size * (1 - share)
    delta = math.log((y1 + a) / (n1 + a + b - y1 - a)) - math.log((y2 + a) / (n2 + a + b - y2 - a))
    var = 1 / (y1 + a) + 1 / (n1 - y1 + b) + 1 / (y2 + a) + 1 / (n2 - y2 + b)
    return delta, math.sqrt(var)


def test_log_odds_with_an_informative_prior_is_the_published_formula():
    d, se, z = rs.log_odds(120, 400, 150, 800, 270 / 1200, 10)
    d0, se0 = _monroe(120, 400, 150, 800, 270 / 1200, 10)
    assert (d, se, z) == pytest.approx((d0, se0, d0 / se0), rel=1e-12)
    # a strong prior pulls a rare feature's log-odds toward 0
    weak = rs.log_odds(3, 50, 0, 50, 0.03, 1)[0]
    strong = rs.log_odds(3, 50, 0, 50, 0.03, 100)[0]
    assert 0 < strong < weak


def test_pooled_log_odds_is_the_inverse_variance_mean_of_the_strata():
    strata = [(30, 100, 20, 100), (5, 40, 12, 60), (0, 10, 0, 10), (8, 0, 3, 30)]
    d, se, z = rs.pooled_log_odds(strata, 10)
    parts = [
        _monroe(y1, n1, y2, n2, (y1 + y2) / (n1 + n2), 10)
        for y1, n1, y2, n2 in strata[:2]  # nobody did it / a group with no lead: no information
    ]
    w = [1 / s**2 for _, s in parts]
    expected = sum(wi * di for wi, (di, _) in zip(w, parts, strict=True)) / sum(w)
    assert d == pytest.approx(expected, rel=1e-12)
    assert se == pytest.approx(1 / math.sqrt(sum(w)), rel=1e-12)
    assert z == pytest.approx(d / se)
    assert all(math.isnan(v) for v in rs.pooled_log_odds([(0, 10, 0, 10)], 10))
