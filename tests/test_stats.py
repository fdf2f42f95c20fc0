"""royalroad.stats against independent computations (closed forms, scipy, statsmodels)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import fisher_exact, norm
from statsmodels.duration.survfunc import CumIncidenceRight
from statsmodels.stats.contingency_tables import StratifiedTable, Table2x2
from statsmodels.stats.multitest import multipletests

from royalroad import stats

TOL = 1e-9


@pytest.mark.parametrize(
    ("k", "n"), [(0, 10), (3, 10), (65, 100), (100, 100), (1, 1), (4238, 6711)]
)
def test_wilson_matches_closed_form(k, n):
    z = norm.ppf(0.975)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    lo, hi = stats.wilson(k, n)
    assert float(lo) == pytest.approx(centre - half, abs=TOL)
    assert float(hi) == pytest.approx(centre + half, abs=TOL)


def test_wilson_empty_is_nan():
    lo, hi = stats.wilson(np.array([0, 2]), np.array([0, 4]))
    assert math.isnan(lo[0]) and math.isnan(hi[0])
    assert not math.isnan(lo[1])


@pytest.mark.parametrize(
    "table", [(12, 5, 7, 30), (506, 307, 194, 1516), (1, 40, 2, 3), (0, 5, 9, 7), (3, 0, 0, 4)]
)
def test_fisher_matches_scipy(table):
    a, b, c, d = table
    assert stats.fisher_p(a, b, c, d) == pytest.approx(
        fisher_exact([[a, b], [c, d]]).pvalue, abs=TOL
    )


def test_fisher_degenerate_margin_is_one():
    assert stats.fisher_p(0, 0, 5, 6) == 1.0


@pytest.mark.parametrize("table", [(12, 5, 7, 30), (506, 307, 194, 1516), (1, 40, 2, 3)])
def test_odds_ratio_matches_statsmodels(table):
    a, b, c, d = table
    ref = Table2x2(np.array([[a, b], [c, d]], dtype=float))
    est, lo, hi = stats.odds_ratio(a, b, c, d)
    assert est == pytest.approx(a * d / (b * c), abs=TOL)
    assert est == pytest.approx(ref.oddsratio, abs=TOL)
    rlo, rhi = ref.oddsratio_confint()
    assert lo == pytest.approx(rlo, abs=TOL) and hi == pytest.approx(rhi, abs=TOL)


def test_odds_ratio_zero_cell_uses_haldane():
    est, lo, hi = stats.odds_ratio(10, 0, 5, 20)
    a, b, c, d = 10.5, 0.5, 5.5, 20.5
    assert est == pytest.approx(a * d / (b * c), abs=TOL)
    se = math.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
    assert lo == pytest.approx(math.exp(math.log(est) - norm.ppf(0.975) * se), abs=TOL)
    assert hi == pytest.approx(math.exp(math.log(est) + norm.ppf(0.975) * se), abs=TOL)


def test_bh_matches_hand_computation():
    rng = np.random.default_rng(1)
    p = rng.uniform(size=200) ** 3
    m = p.size
    order = np.argsort(p)
    ranked = p[order] * m / np.arange(1, m + 1)
    q_sorted = np.minimum.accumulate(ranked[::-1])[::-1].clip(max=1)
    q = np.empty(m)
    q[order] = q_sorted
    np.testing.assert_allclose(stats.bh(p), q, atol=TOL)
    np.testing.assert_allclose(stats.bh(p), multipletests(p, method="fdr_bh")[1], atol=TOL)


def test_mcc_equals_pearson_phi_of_binary_vectors():
    a, b, c, d = 40, 10, 20, 30
    reached = np.r_[np.ones(a + b), np.zeros(c + d)]
    won = np.r_[np.ones(a), np.zeros(b), np.ones(c), np.zeros(d)]
    assert stats.mcc(a, b, c, d) == pytest.approx(np.corrcoef(reached, won)[0, 1], abs=TOL)


def test_mantel_haenszel_matches_formula_and_statsmodels():
    tables = [
        np.array([[10, 5], [3, 8]]),
        np.array([[4, 6], [2, 9]]),
        np.array([[20, 10], [15, 12]]),
    ]
    num = sum(t[0, 0] * t[1, 1] / t.sum() for t in tables)
    den = sum(t[0, 1] * t[1, 0] / t.sum() for t in tables)
    est, lo, hi = stats.mantel_haenszel(tables)
    assert est == pytest.approx(num / den, abs=TOL)
    ref = StratifiedTable(tables)
    rlo, rhi = ref.oddsratio_pooled_confint()
    assert lo == pytest.approx(rlo, abs=TOL) and hi == pytest.approx(rhi, abs=TOL)


def test_mantel_haenszel_drops_uninformative_strata():
    informative = [np.array([[10, 5], [3, 8]]), np.array([[4, 6], [2, 9]])]
    with_empty = [*informative, np.array([[0, 0], [7, 9]])]
    assert stats.mantel_haenszel(with_empty)[0] == pytest.approx(
        stats.mantel_haenszel(informative)[0], abs=TOL
    )


def test_aalen_johansen_matches_statsmodels_with_ties():
    rng = np.random.default_rng(7)
    n = 400
    t = rng.integers(1, 60, size=n).astype(float)  # integer days: many ties
    status = rng.choice([0, 1, 2], p=[0.3, 0.3, 0.4], size=n)  # 0 open (censored), 1 won, 2 lost
    ref = CumIncidenceRight(t, status)
    times = np.unique(t)
    won = np.array([np.sum((t == x) & (status == 1)) for x in times])
    lost = np.array([np.sum((t == x) & (status == 2)) for x in times])
    cens = np.array([np.sum((t == x) & (status == 0)) for x in times])
    ts, cif_w, cif_l = stats.aalen_johansen(times, won, lost, cens)
    ref_w = np.interp(ts, ref.times, ref.cinc[0])
    ref_l = np.interp(ts, ref.times, ref.cinc[1])
    # statsmodels reports only times with an event; compare there.
    event_times = np.isin(ts, ref.times)
    np.testing.assert_allclose(cif_w[event_times], ref_w[event_times], atol=TOL)
    np.testing.assert_allclose(cif_l[event_times], ref_l[event_times], atol=TOL)


def test_aalen_johansen_hand_example():
    # 4 leads: won at 1, lost at 2, censored at 2, won at 3.
    ts, w, lo = stats.aalen_johansen([1, 2, 3], [1, 0, 1], [0, 1, 0], [0, 1, 0])
    # t=1: 1/4 won; S=3/4. t=2: lost 1/3 of 3/4 -> 1/4; S=1/2; censored leaves.
    # t=3: 1 at risk, won -> +1/2.
    assert list(w) == pytest.approx([0.25, 0.25, 0.75])
    assert list(lo) == pytest.approx([0.0, 0.25, 0.25])
    assert stats.value_at(ts, w, 2.5) == pytest.approx(0.25)
    assert stats.value_at(ts, w, 0.5) == 0.0


def test_win_rate_is_won_over_closed_with_statsmodels_wilson_interval():
    from statsmodels.stats.proportion import proportion_confint

    rate, (lo, hi) = stats.win_rate(13, 7)
    want = proportion_confint(13, 20, alpha=0.05, method="wilson")
    assert rate == 13 / 20 and (lo, hi) == pytest.approx(want, abs=1e-12)
    rate0, (lo0, hi0) = stats.win_rate(0, 0)  # nothing closed: no rate, no interval
    assert math.isnan(rate0) and math.isnan(lo0) and math.isnan(hi0)


def test_zero_cell_names_the_empty_cell_of_an_infinite_or_zero_odds_ratio():
    """Every table with cells in {0, 1, 3}: a code exactly when ad/bc is 0 or infinite
    (not undefined) and no margin is empty, naming the cells that are 0."""
    names = {
        "bc": "separation",
        "ad": "inverse_separation",
        "b": "no_loss_with",
        "c": "no_win_without",
        "a": "no_win_with",
        "d": "no_loss_without",
    }
    seen = set()
    for a, b, c, d in np.ndindex(4, 4, 4, 4):
        if {a, b, c, d} - {0, 1, 3}:
            continue
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.float64(a * d) / np.float64(b * c)
        margins_ok = min(a + b, c + d, a + c, b + d) > 0
        zeros = "".join(n for n, v in zip("abcd", (a, b, c, d), strict=True) if v == 0)
        want = names.get(zeros) if margins_ok and (np.isinf(ratio) or ratio == 0) else None
        assert stats.zero_cell(a, b, c, d) == want, (a, b, c, d)
        seen.add(want)
    assert seen == {None, *names.values()}
    assert set(stats.ZERO_CELLS) == set(names.values())
