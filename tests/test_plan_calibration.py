"""Calibration backtest of the plan on simulated data.

For each seed the simulator writes 1,500 manufacturing leads created over the 300 days
before its export date (2025-04-01). The plan is built from the data as they stood on
the cut-off, 2024-12-01 (``ingest(as_of=…)``: later leads, events and outcomes are not
seen), for the four months from the cut-off to the export, at the volume of new leads
the simulator then really created in each month (the premise of "if the plan's lead
volumes are met"). What it forecasts is compared with what the simulator produced:

* **realised** wins and revenue = every win closed between the cut-off and the export,
  from the leads open at the cut-off and the leads created after it — exactly the two
  sources the plan adds up, counted with pandas from the simulator's files;
* the realised wins must fall inside the plan's 80% band in 70–90% of the seeds;
* the stated P(reaching the target) must be calibrated within ±15 points: for a fixed
  target of 1.2 billion (which some seeds reach and some do not) the mean stated
  probability against the share of seeds that reached it, and for the targets each
  plan says it reaches with probability 25%, 50% and 75%.

The seeds run in two worker processes (one per core) with single-threaded BLAS: the
P(win) model's small least-squares fits are several times slower when two BLAS threads
compete for two cores. The test prints every seed and names the ones that missed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

SEEDS = tuple(range(1, 25))
LEADS = 1500
CUT = "2024-12-01"
END = "2025-04-01"
TARGET = 1_200_000_000
LEVELS = (0.25, 0.5, 0.75)

pytestmark = pytest.mark.slow


def backtest(seed: int) -> dict:
    """One seed: the plan at the cut-off and what really happened after it."""
    import tempfile

    import pandas as pd

    import royalroad as rr
    from royalroad.simulate import simulate

    with tempfile.TemporaryDirectory() as folder:
        data = simulate("manufacturing", leads=LEADS, seed=seed)
        data.write(folder)
        leads = data.leads.to_pandas()
        cut, end = pd.Timestamp(CUT), pd.Timestamp(END)
        months = pd.period_range(cut, end - pd.Timedelta(days=1), freq="M")
        created = leads.created_at.dt.to_period("M")
        volume = {str(m): int((created == m).sum()) for m in months}
        won = leads[(leads.outcome == "won") & (leads.closed_at >= cut) & (leads.closed_at < end)]
        ws = rr.ingest(leads=f"{folder}/leads.csv", events=f"{folder}/events.csv", as_of=CUT)
        try:
            p = rr.plan(
                ws, target=TARGET, period=f"{months[0]}..{months[-1]}", leads_per_month=volume
            )
        finally:
            ws.close()
    revenue = float(won.amount.sum())
    return {
        "seed": seed,
        "wins": len(won),
        "wins_low": p.projection["wins_low"],
        "wins_high": p.projection["wins_high"],
        "wins_expected": p.projection["wins"],
        "revenue": revenue,
        "revenue_expected": p.projection["revenue"],
        "p_reach": p.p_reach_target,
        "reached": revenue >= TARGET,
        "levels": {str(q): revenue >= p.revenue_quantile(1 - q) for q in LEVELS},
    }


@pytest.fixture(scope="module")
def seeds() -> list[dict]:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    halves = (SEEDS[0::2], SEEDS[1::2])
    workers = [
        subprocess.Popen(
            [sys.executable, __file__, *(str(s) for s in half)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for half in halves
    ]
    rows = []
    for w in workers:
        out, err = w.communicate(timeout=600)
        assert w.returncode == 0, err
        rows += [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    rows.sort(key=lambda r: r["seed"])
    print("\nseed  wins [80% band]          revenue        P(reach 1.2B)  reached")
    for r in rows:
        print(
            f"{r['seed']:4d}  {r['wins']:4d} [{r['wins_low']:6.1f}–{r['wins_high']:6.1f}]"
            f"  {r['revenue']:14,.0f}  {r['p_reach']:12.2f}  {r['reached']}"
        )
    assert [r["seed"] for r in rows] == list(SEEDS)
    return rows


def test_realised_wins_fall_in_the_80_percent_band_in_70_to_90_percent_of_seeds(seeds):
    missed = [r["seed"] for r in seeds if not r["wins_low"] <= r["wins"] <= r["wins_high"]]
    share = 1 - len(missed) / len(seeds)
    assert 0.70 <= share <= 0.90, f"inside in {share:.0%} of seeds; missed: {missed}"
    print(f"inside the 80% band: {share:.0%}; missed seeds {missed}")


def test_forecast_is_unbiased(seeds):
    ratio = sum(r["wins"] for r in seeds) / sum(r["wins_expected"] for r in seeds)
    assert ratio == pytest.approx(1, abs=0.04)
    ratio = sum(r["revenue"] for r in seeds) / sum(r["revenue_expected"] for r in seeds)
    assert ratio == pytest.approx(1, abs=0.04)


def test_p_reach_target_is_calibrated_within_15_points(seeds):
    stated = sum(r["p_reach"] for r in seeds) / len(seeds)
    reached = [r["seed"] for r in seeds if r["reached"]]
    share = len(reached) / len(seeds)
    spread = [r["p_reach"] for r in seeds]
    assert max(spread) - min(spread) > 0.4  # the target is reached by some seeds, not all
    assert abs(stated - share) <= 0.15, f"stated {stated:.0%}, reached {share:.0%}: {reached}"
    print(f"P(reach {TARGET:,}): stated {stated:.0%} on average, reached in {share:.0%}")
    for q in LEVELS:
        hit = [r["seed"] for r in seeds if r["levels"][str(q)]]
        level = len(hit) / len(seeds)
        print(f"target stated at P {q:.0%}: reached in {level:.0%} (seeds {hit})")
        assert abs(level - q) <= 0.15, f"P {q:.0%} stated, {level:.0%} reached: seeds {hit}"


if __name__ == "__main__":  # a worker: one JSON line per seed
    for arg in sys.argv[1:]:
        print(json.dumps(backtest(int(arg))), flush=True)
