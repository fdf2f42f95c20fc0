"""P(win) backtest on simulated data: the figures behind "How far to trust P(win)".

For each scenario and seed: simulate ``--leads`` leads, ingest them, and run
``royalroad.analysis.backtest.backtest`` with the default cut-off (90 days before the
export). Prints, per data set and pooled over the seeds of a scenario, the Brier score,
AUC, calibration gaps and the largest decile gap of royalroad's P(win) beside the
snapshot logistic baseline (a standard lead score) and the base rate.

    .venv/bin/python benchmarks/pwin_backtest.py --leads 20000 --seeds 1,2,3,4,5
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

import royalroad as rr
from royalroad import stats
from royalroad.analysis.backtest import backtest
from royalroad.simulate import simulate


def scored_rows(scenario: str, seed: int, leads: int, tmp: Path):
    data = simulate(scenario, leads=leads, seed=seed)
    data.write(tmp)
    ws = rr.ingest(leads=tmp / "leads.csv", events=tmp / "events.csv")
    t0 = time.perf_counter()
    result = backtest(ws, adjust=["industry"])
    seconds = time.perf_counter() - t0
    ws.close()
    return result, seconds


def pooled(frames: list[pd.DataFrame]) -> dict:
    df = pd.concat(frames)
    nurture = (df.status == "nurture").to_numpy()
    stalled = df.stalled.to_numpy(bool)
    out = {}
    for name in ("royalroad", "lead_score", "base_rate"):
        p, y = df[name].to_numpy(float), df.won.to_numpy(float)
        order = np.lexsort((np.arange(len(p)), p))
        gaps = [abs(p[i].mean() - y[i].mean()) for i in np.array_split(order, 10)]
        out[name] = {
            "brier": stats.brier(p, y),
            "auc": stats.auc(p, y),
            "gap": p.mean() - y.mean(),
            "gap_nurture": p[nurture].mean() - y[nurture].mean(),
            "gap_stalled": p[stalled].mean() - y[stalled].mean(),
            "max_decile_gap": max(gaps),
        }
    return out


def pooled_deciles(frames: list[pd.DataFrame], name: str) -> list[dict]:
    """The reliability table of the pooled leads: P(win) shown against the share won."""
    df = pd.concat(frames)
    p, y = df[name].to_numpy(float), df.won.to_numpy(float)
    order = np.lexsort((np.arange(len(p)), p))
    out = []
    for idx in np.array_split(order, 10):
        lo, hi = stats.wilson(int(y[idx].sum()), len(idx))
        out.append(
            {"shown": p[idx].mean(), "won": y[idx].mean(), "low": lo, "high": hi, "n": len(idx)}
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--leads", type=int, default=20000)
    ap.add_argument("--seeds", default="1,2,3,4,5")
    ap.add_argument("--scenarios", default="manufacturing,saas")
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    print(f"{args.leads:,} leads per data set; cut-off 90 days before the export")
    for scenario in args.scenarios.split(","):
        print(f"\n{scenario}")
        print("seed  scored  model        brier   AUC    gap   nurture  stalled  max decile   (s)")
        frames = []
        for seed in seeds:
            with tempfile.TemporaryDirectory() as tmp:
                res, seconds = scored_rows(scenario, seed, args.leads, Path(tmp))
            for m in res.models:
                if m.name == "royalroad_recalibrated":
                    continue
                print(
                    f"{seed:4d}  {res.scored:6,}  {m.name:11s}  {m.brier:.4f}  {m.auc:.3f}  "
                    f"{100 * m.gap:+5.1f}  {100 * m.gap_nurture:+6.1f}  "
                    f"{100 * m.gap_stalled:+6.1f}  {100 * m.max_decile_gap():9.1f}   {seconds:4.1f}"
                )
            cv = ", ".join(f"{k} {v:.4f}" for k, v in res.recalibration.cv.items())
            print(f"      recalibration: {res.recalibration.kind} (out-of-fold Brier {cv})")
            frames.append(res.scores)
        n = sum(len(f) for f in frames)
        print(f"pooled over {len(seeds)} seeds ({n:,} leads scored):")
        for name, m in pooled(frames).items():
            print(
                f"      {name:11s}  {m['brier']:.4f}  {m['auc']:.3f}  {100 * m['gap']:+5.1f}  "
                f"{100 * m['gap_nurture']:+6.1f}  {100 * m['gap_stalled']:+6.1f}  "
                f"{100 * m['max_decile_gap']:9.1f}"
            )
        print("      royalroad by decile (pooled): shown → won [95% CI], n")
        for d in pooled_deciles(frames, "royalroad"):
            print(
                f"        {100 * d['shown']:5.1f}% → {100 * d['won']:5.1f}% "
                f"[{100 * d['low']:.1f}–{100 * d['high']:.1f}], {d['n']:,}"
            )


if __name__ == "__main__":
    main()
