"""P(win) is judged as a forecast: a time-split backtest over 5 seeds of two scenarios.

The criteria are the issue's: pooled over the seeds, for the leads open at the
cut-off that closed since, the mean calibration gap is within ±2 points overall and
±3 points for nurture and for stalled leads; the largest decile gap (deciles with at
least 50 leads) is within 5 points; the AUC is at least the snapshot logistic lead
score's minus 0.01 and the Brier score at most the lead score's.

Every metric is recomputed here from the per-lead scores with numpy and scipy, not
read from the result. The benchmark ``benchmarks/pwin_backtest.py`` prints the same
figures at 20,000 leads per data set.

The seeds of a scenario run in two worker processes (one per core), as in
tests/test_plan_calibration.py; each worker pickles its per-lead scores, which are
read back exactly.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

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


def scores(scenario: str, seed: int, tmp: Path) -> pd.DataFrame:
    """The backtest's per-lead scores of one simulated data set."""
    simulate(scenario, leads=LEADS, seed=seed).write(tmp)
    ws = rr.ingest(leads=tmp / "leads.csv", events=tmp / "events.csv")
    try:
        return rr.backtest(ws, adjust=["industry"]).scores
    finally:
        ws.close()


@pytest.fixture(scope="module", params=["manufacturing", "saas"])
def pooled(request, tmp_path_factory) -> pd.DataFrame:
    folders = {seed: tmp_path_factory.mktemp(f"{request.param}{seed}") for seed in SEEDS}
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    workers = [
        subprocess.Popen(
            [sys.executable, __file__, request.param]
            + [f"{seed}={folders[seed]}" for seed in half],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for half in (SEEDS[0::2], SEEDS[1::2])
    ]
    for w in workers:
        _, err = w.communicate(timeout=600)
        assert w.returncode == 0, err
    frames = [pd.read_pickle(folders[seed] / "scores.pkl") for seed in SEEDS]
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


if __name__ == "__main__":  # a worker: SCENARIO SEED=FOLDER …, scores pickled in FOLDER
    for arg in sys.argv[2:]:
        seed, folder = arg.split("=", 1)
        scores(sys.argv[1], int(seed), Path(folder)).to_pickle(Path(folder) / "scores.pkl")
