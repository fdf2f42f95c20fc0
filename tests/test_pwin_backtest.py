"""P(win) is judged as a forecast: a time-split backtest over 5 seeds of two scenarios.

The criteria are the issue's: pooled over the seeds, for the leads open at the
cut-off that closed since, the mean calibration gap is within ±2 points overall and
±3 points for nurture and for stalled leads; the largest decile gap (deciles with at
least 50 leads) is within 5 points; the AUC is at least the snapshot logistic lead
score's minus 0.01 and the Brier score at most the lead score's.

Every metric is recomputed here from the per-lead scores with numpy and scipy, not
read from the result. The benchmark ``benchmarks/pwin_backtest.py`` prints the same
figures at 20,000 leads per data set.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import mannwhitneyu

import royalroad as rr
from royalroad.simulate import simulate

SEEDS = (1, 2, 3, 4, 5)
LEADS = 8000

pytestmark = pytest.mark.slow


def _auc(p: np.ndarray, y: np.ndarray) -> float:
    u = mannwhitneyu(p[y == 1], p[y == 0]).statistic
    return float(u / ((y == 1).sum() * (y == 0).sum()))


def _largest_decile_gap(p: np.ndarray, y: np.ndarray) -> float:
    order = np.lexsort((np.arange(len(p)), p))
    return max(abs(p[i].mean() - y[i].mean()) for i in np.array_split(order, 10) if len(i) >= 50)


@pytest.fixture(scope="module", params=["manufacturing", "saas"])
def pooled(request, tmp_path_factory) -> pd.DataFrame:
    frames = []
    for seed in SEEDS:
        tmp = tmp_path_factory.mktemp(f"{request.param}{seed}")
        simulate(request.param, leads=LEADS, seed=seed).write(tmp)
        ws = rr.ingest(leads=tmp / "leads.csv", events=tmp / "events.csv")
        try:
            frames.append(rr.backtest(ws, adjust=["industry"]).scores)
        finally:
            ws.close()
    return pd.concat(frames, ignore_index=True)


def test_calibration_gaps(pooled):
    p, y = pooled.royalroad.to_numpy(float), pooled.won.to_numpy(float)
    assert len(p) > 4000
    assert abs(p.mean() - y.mean()) <= 0.02
    for name, rows in (
        ("nurture", (pooled.status == "nurture").to_numpy()),
        ("stalled", pooled.stalled.to_numpy(bool)),
    ):
        assert rows.sum() >= 300, name
        assert abs(p[rows].mean() - y[rows].mean()) <= 0.03, name
    assert _largest_decile_gap(p, y) <= 0.05


def test_at_least_as_good_as_a_standard_lead_score(pooled):
    y = pooled.won.to_numpy(float)
    ours, score = pooled.royalroad.to_numpy(float), pooled.lead_score.to_numpy(float)
    assert _auc(ours, y) >= _auc(score, y) - 0.01
    assert np.mean((ours - y) ** 2) <= np.mean((score - y) ** 2)
    # and far better than knowing only the base rate
    assert np.mean((ours - y) ** 2) < np.mean((pooled.base_rate.to_numpy(float) - y) ** 2)
