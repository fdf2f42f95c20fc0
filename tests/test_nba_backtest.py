"""Backtest of the next best action on simulated data (a sanity check, not a proof).

Ingest with ``--as-of`` three months before the export, advise the leads open then,
and look at what they did afterwards in the full data: among the leads that later did
some step and then closed, those that did the recommended one should win more often
than those that did something else. This is association, not a controlled trial:
in the simulator later steps are planted to raise the win rate, so the check shows
the advice points at them, from a cut-off, for lead after lead.

``pytest -m slow -s tests/test_nba_backtest.py`` prints the table quoted in
docs/statistics.md.

Each (scenario, seed) is backtested once per test session and shared by the tests that
pool it (the three-seed test's seeds are the first three of the ten-seed test's). The
seeds run in two worker processes (one per core), as in tests/test_plan_calibration.py;
a backtest is deterministic, so where it runs does not change its rows.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import pytest

import royalroad as rr
from royalroad.analysis.goals import discover_goals
from royalroad.analysis.nba import next_best_actions
from royalroad.simulate import simulate

CUT = "2025-01-01 00:00:00"  # the simulator's export is 2025-04-01


def backtest(scenario: str, seed: int, tmp: Path) -> pd.DataFrame:
    """Per advised lead that later did a step and closed: status, did the advice, won."""
    data = simulate(scenario, leads=3000, seed=seed)
    data.write(tmp)
    ws = rr.ingest(leads=tmp / "leads.csv", events=tmp / "events.csv", as_of=CUT)
    try:
        goals = discover_goals(ws, pairs=6, adjust=["industry"])
        proxies = [p.activity for p in goals.proxies]
        confounded = sorted({c.activity for c in goals.candidates if c.confounded and not c.then})
        nba = next_best_actions(ws, goal=goals.recommended, exclude=proxies, avoid=confounded)
    finally:
        ws.close()
    # what happened after the cut-off, from the full export
    leads = pd.read_csv(tmp / "leads.csv", parse_dates=["created_at", "closed_at"])
    events = pd.read_csv(tmp / "events.csv", parse_dates=["ts"]).merge(
        leads[["lead_id", "closed_at"]], on="lead_id"
    )
    cut = pd.Timestamp(CUT)
    before_close = events.closed_at.isna() | (events.ts < events.closed_at)
    later = events[(events.ts > cut) & before_close & ~events.activity.isin(proxies)]
    did = later.groupby("lead_id").activity.agg(set)
    outcome = leads.set_index("lead_id").outcome
    rows = []
    for r in nba.rows():
        acts = did.get(r["lead_id"], set())
        if r["action_kind"] in ("close", "keep_nurturing") or not acts:
            continue
        if outcome[r["lead_id"]] == "open":
            continue
        rows.append((r["status"], r["recommended_action"] in acts, outcome[r["lead_id"]] == "won"))
    return pd.DataFrame(rows, columns=["status", "did", "won"])


COLUMNS = ["status", "did", "won"]
_done: dict[tuple[str, int], pd.DataFrame] = {}
"""Backtests already run in this session, by (scenario, seed)."""


def backtests(scenario: str, seeds: range) -> list[pd.DataFrame]:
    """The backtest of each seed, running the ones not yet run in two worker processes."""
    todo = [s for s in seeds if (scenario, s) not in _done]
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    workers = [
        subprocess.Popen(
            [sys.executable, __file__, scenario, *(str(s) for s in half)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for half in (todo[0::2], todo[1::2])
        if half
    ]
    for w in workers:
        out, err = w.communicate(timeout=600)
        assert w.returncode == 0, err
        for line in out.splitlines():
            if line.startswith("{"):
                doc = json.loads(line)
                df = pd.DataFrame([tuple(r) for r in doc["rows"]], columns=COLUMNS)
                _done[scenario, doc["seed"]] = df.astype({"did": bool, "won": bool})
    assert all((scenario, s) in _done for s in seeds), (scenario, list(seeds))
    return [_done[scenario, s] for s in seeds]


def _check(scenario: str, seeds: range, min_better: int) -> None:
    per_seed = []
    frames = []
    for seed, df in zip(seeds, backtests(scenario, seeds), strict=True):
        rates = df.groupby("did").won.mean()
        per_seed.append((seed, rates.get(True), rates.get(False), int(df.did.sum()), len(df)))
        frames.append(df)
    pooled = pd.concat(frames)
    table = pooled.groupby(["status", "did"]).won.agg(["mean", "size"])
    print(f"\n{scenario}: win rate after the cut-off, did the advised step or another one")
    for seed, yes, no, n_yes, n in per_seed:
        print(f"  seed {seed}: {yes:.0%} ({n_yes}) vs {no:.0%} ({n - n_yes})")
    print(table.to_string())
    better = sum(yes > no for _, yes, no, _, _ in per_seed)
    rates = pooled.groupby("did").won.mean()
    assert rates[True] > rates[False] + 0.05, (scenario, rates)
    assert better >= min_better, (scenario, per_seed)
    # per status: nurture advice always has a planted route to the goal behind it;
    # sales-ready advice only where the later stages were planted to pay (manufacturing:
    # +8 to +15 points per stage; saas: +1 or +2, nothing to find)
    statuses = ("nurture", "sales_ready") if scenario == "manufacturing" else ("nurture",)
    for status in statuses:
        part = pooled[pooled.status == status].groupby("did").won.mean()
        assert part[True] > part[False], (scenario, status, part)


def test_backtest_manufacturing_three_seeds():
    _check("manufacturing", range(3), min_better=3)


@pytest.mark.slow
@pytest.mark.parametrize("scenario", ["manufacturing", "saas"])
def test_backtest_ten_seeds(scenario):
    _check(scenario, range(10), min_better=8)


if __name__ == "__main__":  # a worker: one JSON line per seed of one scenario
    for arg in sys.argv[2:]:
        with tempfile.TemporaryDirectory() as folder:
            df = backtest(sys.argv[1], int(arg), Path(folder))
        rows = [[str(a), bool(b), bool(c)] for a, b, c in df.itertuples(index=False)]
        print(json.dumps({"seed": int(arg), "rows": rows}), flush=True)
