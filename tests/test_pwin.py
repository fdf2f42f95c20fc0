"""P(win) per open lead: its snapshots, its fit, its explanation and the open pipeline.

* The engine's snapshot cells equal a pandas recount on a random hand-built log (state,
  idle, events so far, age, segment folding, the horizon, each lead's number of moments).
* The fit on weighted cells is the maximum-likelihood GLM on one row per snapshot: with
  the shrinkage switched off its P(win) equals statsmodels' fit of a saturated design
  built from the recount, and the segment enters only when it carries a real effect.
* On simulated data the planted effects come back: the industry with the planted odds
  lifts its leads, long idle lowers them; every lead's adjustments add up to P(win)
  minus its state's rate, inside its interval; the pipeline is the sum of the P(win)s
  and its interval is at least as wide as the outcomes' own variance.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from types import SimpleNamespace

import ibis
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf

import royalroad as rr
from royalroad.analysis import pwin
from royalroad.analysis import pwin_queries as q
from royalroad.simulate import simulate

DAY = pd.Timedelta(days=1)
T0 = pd.Timestamp("2024-01-01 09:00:00")

# ------------------------------------------------------------ a random hand-built log


def _random_log(seed: int = 3, n: int = 400):
    """Leads, events and history steps with known timestamps; segment ``ind`` with a
    rare value (folded) and missing values; outcome tied to the segment and the state."""
    rng = np.random.default_rng(seed)
    leads, events, steps = [], [], []
    for k in range(n):
        created = T0 + pd.Timedelta(hours=int(rng.integers(0, 24 * 300)))
        ind = rng.choice(["A", "B", "C", "rare", None], p=[0.4, 0.3, 0.24, 0.03, 0.03])
        ts = created
        s = 0
        for _ in range(int(rng.integers(0, 8))):
            ts = ts + pd.Timedelta(hours=int(rng.integers(1, 24 * 40)))
            events.append((k, ts))
            if rng.random() < 0.3:
                s = s | int(rng.choice([1, 2, 4]))
                steps.append((k, ts, s))
        p = 0.15 + 0.35 * (s & 1) + (0.25 if ind == "A" else 0.0)
        outcome = rng.choice(["won", "lost", "open"], p=[0.8 * p, 0.8 * (1 - p), 0.2])
        closed = None if outcome == "open" else ts + pd.Timedelta(hours=int(rng.integers(1, 2400)))
        leads.append((k, created, closed, outcome, ind))
    ld = pd.DataFrame(leads, columns=["lead_key", "created_at", "closed_at", "outcome", "ind"])
    ev = pd.DataFrame(events, columns=["lead_key", "ts"])
    st = pd.DataFrame(steps, columns=["lead_key", "ts", "s_after"])
    return ld, ev, st


def _band(days: np.ndarray, bounds) -> np.ndarray:
    """The number of bounds at or below ``days``: band i holds bounds[i-1] <= d < bounds[i]."""
    return np.searchsorted(np.asarray(bounds, dtype=float), days, side="right")


def _recount(ld, ev, st, moments, kept, horizon):
    """One row per (closed lead, moment it was open and decided within the horizon)."""
    rows = []
    closed = ld[ld.outcome.isin(["won", "lost"]) & ld.created_at.notna()]
    for t in moments:
        t = pd.Timestamp(t)
        alive = closed[(closed.created_at <= t) & (closed.closed_at > t)]
        if horizon is not None:
            alive = alive[alive.closed_at <= t + horizon * DAY]
        for r in alive.itertuples():
            mine = ev[(ev.lead_key == r.lead_key) & (ev.ts <= t)]
            states = st[(st.lead_key == r.lead_key) & (st.ts <= t)]
            last = mine.ts.max() if len(mine) else r.created_at
            g = "∅" if r.ind is None else (r.ind if r.ind in kept else q.OTHER)
            rows.append(
                {
                    "lead_key": r.lead_key,
                    "t": t,
                    "s": int(states.s_after.max()) if len(states) else 0,
                    "idle": (t - last) / DAY,
                    "busy": len(mine),
                    "age": (t - r.created_at) / DAY,
                    "g0": g,
                    "won": r.outcome == "won",
                }
            )
    snaps = pd.DataFrame(rows)
    snaps["idle_band"] = _band(snaps.idle.to_numpy(float), q.IDLE_BANDS)
    snaps["busy_band"] = _band(snaps.busy.to_numpy(float), q.BUSY_BANDS)
    snaps["age_band"] = _band(snaps.age.to_numpy(float), q.AGE_BANDS)
    snaps["m"] = snaps.groupby("lead_key").t.transform("size")
    return snaps


@pytest.fixture(scope="module")
def hand():
    ld, ev, st = _random_log()
    moments = [(T0 + pd.Timedelta(days=30 * i)).to_pydatetime() for i in range(1, 11)]
    kept = ("A", "B", "C")
    cells = q.snapshot_cells(
        ibis.memtable(st),
        ibis.memtable(ev),
        ibis.memtable(ld.astype({"ind": "string"})),
        moments,
        {"ind": kept},
        horizon=90,
    ).execute()
    snaps = _recount(ld, ev, st, moments, kept, 90)
    return SimpleNamespace(ld=ld, ev=ev, st=st, moments=moments, cells=cells, snaps=snaps)


def test_snapshot_cells_equal_a_pandas_recount(hand):
    keys = [*q.cell_keys(1), "m"]
    want = (
        hand.snaps.assign(lost=~hand.snaps.won)
        .groupby(keys)[["won", "lost"]]
        .sum()
        .astype("int64")
        .reset_index()
        .sort_values(keys)
        .reset_index(drop=True)
    )
    got = hand.cells.sort_values(keys).reset_index(drop=True)
    got = got.astype({k: want[k].dtype for k in keys}).astype({"won": "int64", "lost": "int64"})
    assert len(want) > 50  # the log exercises many cells
    pd.testing.assert_frame_equal(got[[*keys, "won", "lost"]], want[[*keys, "won", "lost"]])
    # the rare value is folded, the missing one kept apart
    assert {"A", "B", "C", q.OTHER, "∅"} >= set(got.g0) >= {"A", "B", "C"}


def test_snapshots_weigh_alike_and_add_up_to_the_leads(hand):
    cells = q.weigh(hand.cells)
    leads = hand.snaps.lead_key.nunique()
    assert cells.won.sum() + cells.lost.sum() == pytest.approx(leads, rel=1e-12)
    # every snapshot weighs the same: the won share is that of the snapshots
    assert cells.won.sum() / leads == pytest.approx(hand.snaps.won.mean(), rel=1e-12)


def test_fit_on_cells_is_the_row_level_maximum_likelihood(hand, monkeypatch):
    """Shrinkage off: the cells' fit predicts what statsmodels' GLM on one weighted row per
    snapshot predicts with a saturated state term and every band and segment value."""
    monkeypatch.setattr(pwin, "PRIOR_LEADS", 1e-9)
    monkeypatch.setattr(pwin, "MIN_STATE", 0.0)  # every state its own term
    cells = q.weigh(hand.cells)
    p_chain = {0: 0.2, 1: 0.5, 2: 0.3, 3: 0.6, 4: 0.25, 5: 0.55, 6: 0.35, 7: 0.65}
    model = pwin.fit(cells, p_chain, {"ind": ("A", "B", "C")}, 0.3)
    assert model.fitted and any(c.startswith("g0:") for c in model.columns)

    rows = hand.snaps.assign(y=hand.snaps.won.astype(float))
    ref = smf.glm(
        "y ~ C(s) + C(idle_band) + C(busy_band) + C(age_band) + C(g0)",
        data=rows,
        family=sm.families.Binomial(),
    ).fit(tol=1e-12)
    got = model.predict(cells).p_win.to_numpy()
    want = ref.predict(cells).to_numpy()
    np.testing.assert_allclose(got, want, atol=2e-5)


def test_a_segment_without_an_effect_stays_out(hand):
    """The same log with the segment values shuffled: the likelihood ratio test keeps it out."""
    snaps = hand.snaps.copy()
    rng = np.random.default_rng(0)
    per_lead = snaps.drop_duplicates("lead_key")[["lead_key"]]
    per_lead["g0"] = rng.choice(["A", "B", "C"], size=len(per_lead))
    snaps = snaps.drop(columns="g0").merge(per_lead, on="lead_key")
    keys = [*q.cell_keys(1), "m"]
    counts = snaps.assign(lost=~snaps.won).groupby(keys)[["won", "lost"]].sum().reset_index()
    p_chain = {0: 0.2, 1: 0.5, 2: 0.3, 3: 0.6, 4: 0.25, 5: 0.55, 6: 0.35, 7: 0.65}
    model = pwin.fit(q.weigh(counts), p_chain, {"ind": ("A", "B", "C")}, 0.3)
    assert model.fitted and not any(c.startswith("g0:") for c in model.columns)


def test_too_few_snapshots_fall_back_to_the_chain():
    cells = pd.DataFrame(
        {"s": [0, 1], "idle_band": [0, 0], "busy_band": [0, 0], "age_band": [0, 0]}
        | {"won": [2.0, 3.0], "lost": [5.0, 1.0]}
    )
    model = pwin.fit(cells, {0: 0.2, 1: 0.7}, {}, 0.3)
    assert not model.fitted
    got = model.predict(cells)
    np.testing.assert_allclose(got.p_win, [0.2, 0.7], rtol=1e-12)
    np.testing.assert_allclose(got.state_rate, got.p_win, rtol=1e-12)


def test_moments_are_evenly_spaced_and_leave_room_for_the_horizon():
    got = pwin.moments("2025-04-01", "2023-01-01", min_days=90)
    assert len(got) == 10 and got[-1] == dt.datetime(2025, 1, 1)
    assert got[0] == dt.datetime(2024, 4, 1)  # a year back
    gaps = {b - a for a, b in zip(got, got[1:], strict=False)}
    assert max(gaps) - min(gaps) <= dt.timedelta(seconds=1)
    assert pwin.moments("2025-04-01", "2025-03-01", min_days=90) == []


# ------------------------------------------------------------- simulated scenarios


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pwin")
    data = simulate("manufacturing", leads=6000, seed=23)
    data.write(tmp)
    ws = rr.ingest(leads=tmp / "leads.csv", events=tmp / "events.csv", workspace=tmp / "ws.duckdb")
    try:
        res = rr.analyse(ws, adjust=["industry"], backtest=False)
    finally:
        ws.close()
    rows = pd.DataFrame(res.next.rows("en"))
    adj = pd.DataFrame(
        [{a["factor"]: a["points"] for a in r} for r in rows.adjustments], index=rows.index
    ).add_prefix("adj_")
    leads = pd.read_csv(tmp / "leads.csv")
    rows = rows.join(adj).merge(leads[["lead_id", "industry", "amount"]], on="lead_id")
    return SimpleNamespace(tmp=tmp, truth=data.truth, res=res, rows=rows, leads=leads)


def test_every_open_lead_has_a_pwin_inside_its_interval(sim):
    open_ids = set(sim.leads.lead_id[sim.leads.outcome == "open"])
    assert set(sim.rows.lead_id) == open_ids
    lo = sim.rows.current_win_rate_ci.str[0]
    hi = sim.rows.current_win_rate_ci.str[1]
    p = sim.rows.current_win_rate
    assert ((lo <= p) & (p <= hi) & (lo < hi)).all()
    assert p.nunique() > 60  # lead-specific, not 10-15 state averages


def test_adjustments_add_up_to_pwin_minus_the_state_rate(sim):
    total = sim.rows.adjustments.apply(lambda a: sum(x["points"] for x in a))
    gap = sim.rows.current_win_rate - sim.rows.state_rate
    np.testing.assert_allclose(total, gap, atol=1e-12)
    factors = {a["factor"] for r in sim.rows.adjustments for a in r}
    assert {"idle", "events", "age", "industry"} <= factors


def test_planted_segment_effect_is_recovered(sim):
    odds = sim.truth["planted_rates"]["segment_effect"]["win_odds_ratio"]
    lifted = max(odds, key=odds.get)
    assert odds[lifted] > 1
    mean = sim.rows.groupby("industry").adj_industry.mean()
    assert mean[lifted] > 0.05  # points up, by a lot
    assert (mean.drop(lifted) < 0).all()  # the others sit below the average
    coef = sim.res.next.forecast.to_dict()["coefficients"]
    industry = {k: v for k, v in coef.items() if k.startswith("industry:")}
    assert len(industry) == len(odds) - 1  # one value is the reference
    assert all(v < 0 for v in industry.values())  # vs the lifted one


def test_planted_idle_effect_is_recovered(sim):
    assert sim.truth["planted_rates"]["idle_effect"]["direction"] == "negative"
    r = sim.rows
    short = r[r.days_idle < 14].adj_idle.mean()
    long = r[(r.days_idle >= 30) & (r.days_idle < 120)].adj_idle.mean()
    assert long < 0 < short
    assert long < short - 0.05


def test_pipeline_is_the_sum_of_pwin_with_an_honest_interval(sim):
    fc = sim.res.next.forecast.pipeline
    p = sim.rows.current_win_rate.to_numpy(float)
    assert fc["leads"] == len(p)
    assert fc["wins"] == pytest.approx(p.sum(), rel=1e-9)
    leads = sim.leads
    mean_won = leads.amount[leads.outcome == "won"].mean()
    value = sim.rows.amount.fillna(mean_won).to_numpy(float)
    assert fc["revenue"] == pytest.approx(float(p @ value), rel=1e-9)
    sd = math.sqrt(float(np.sum(p * (1 - p))))  # the outcomes' variance alone
    assert fc["wins_high_95"] - fc["wins"] >= 1.959 * sd
    assert fc["wins_low_80"] > fc["wins_low_95"] and fc["wins_high_80"] < fc["wins_high_95"]
    rsd = math.sqrt(float(np.sum(value**2 * p * (1 - p))))
    assert fc["revenue_high_95"] - fc["revenue"] >= 1.959 * rsd


def test_json_carries_the_interval_and_the_adjustments(sim, tmp_path):
    from typer.testing import CliRunner

    from royalroad.cli import app

    res = CliRunner().invoke(
        app,
        [
            "next",
            "--workspace",
            str(sim.tmp / "ws.duckdb"),
            "--adjust",
            "industry",
            "--format",
            "json",
            "--lang",
            "en",
        ],
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    leads = doc["leads"] if isinstance(doc, dict) else doc
    one = next(r for r in leads if r["current_win_rate"] is not None)
    lo, hi = one["current_win_rate_ci"]
    assert lo <= one["current_win_rate"] <= hi
    assert all(set(a) >= {"factor", "points"} for a in one["adjustments"])
    by_id = sim.rows.set_index("lead_id").current_win_rate
    got = pd.Series({r["lead_id"]: r["current_win_rate"] for r in leads})
    np.testing.assert_allclose(got[by_id.index], by_id, rtol=1e-12)


def test_same_data_same_pwin_bytes(sim, tmp_path):
    ws = rr.ingest(leads=sim.tmp / "leads.csv", events=sim.tmp / "events.csv")
    try:
        again = rr.analyse(ws, adjust=["industry"], backtest=False)
    finally:
        ws.close()

    def dump(res):
        return json.dumps(res.next.to_dict(lang="en"), ensure_ascii=False, sort_keys=True)

    assert dump(again) == dump(sim.res)


def _made_up(text: str) -> tuple[int, list[int], int]:
    """``63% at this stage · idle 83 days −9 · … = 53% [34–70%]`` → (63, [-9, …], 53)."""
    head, _, total = text.rpartition(" = ")
    parts = head.split(" · ")
    points = [int(p.rsplit(" ", 1)[1].replace("−", "-")) for p in parts[1:]]
    return int(parts[0].split("%")[0]), points, int(total.split("%")[0])


def test_the_csv_and_the_terminal_explain_each_pwin_in_whole_points(sim):
    import csv
    import io

    from typer.testing import CliRunner

    from royalroad.cli import app

    ws = str(sim.tmp / "ws.duckdb")
    out = CliRunner().invoke(app, ["next", "-w", ws, "--adjust", "industry", "-f", "csv"])
    assert out.exit_code == 0, out.output
    rows = list(csv.DictReader(io.StringIO(out.stdout.lstrip("\ufeff"))))
    by_id = sim.rows.set_index("lead_id")
    assert len(rows) == len(by_id)
    for r in rows:
        want = by_id.loc[r["lead_id"]]
        base, points, total = _made_up(r["current_win_made_up"])
        # the parts add up to the shown total, which is P(win) rounded
        assert base == round(100 * want.state_rate) and total == round(100 * want.current_win_rate)
        assert base + sum(points) == total
        assert float(r["current_win_low"]) == pytest.approx(want.current_win_rate_ci[0], abs=1e-4)
        assert float(r["current_win_high"]) == pytest.approx(want.current_win_rate_ci[1], abs=1e-4)
    table = CliRunner().invoke(app, ["next", "-w", ws, "--adjust", "industry", "--top", "3"])
    assert "How P(win) is made up" in table.stdout
    explained = [line for line in table.stdout.splitlines() if " at this stage · " in line]
    assert len(explained) == 3
    for line in explained:
        lead, _, text = line.strip(" •").partition(": ")
        assert text == next(r["current_win_made_up"] for r in rows if r["lead_id"] == lead)
