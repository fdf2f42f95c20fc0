"""The P(win) backtest: what was known at the cut-off, which leads it scores, its numbers.

* The past workspace holds exactly what ``ingest --as-of`` at the cut-off would hold.
* The leads scored are the leads open at the cut-off that have closed since (pandas on
  the CSVs); Brier, log loss and AUC equal numpy and scipy on the per-lead scores; the
  reliability deciles equal a recount with statsmodels' Wilson intervals.
* The command gives one line and exit 2 for a bad cut-off, a cut-off on or after the
  data's as-of date, and too little history; its JSON carries every model.
* The report, the workbook and ``results.json`` carry the same numbers; reruns are
  byte-identical.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import openpyxl
import pandas as pd
import pytest
from scipy.stats import mannwhitneyu
from statsmodels.stats.proportion import proportion_confint
from typer.testing import CliRunner

import royalroad as rr
from royalroad.analysis.backtest import as_of_workspace, recalibration
from royalroad.analysis.backtest_result import Recalibration
from royalroad.cli import app
from royalroad.simulate import simulate

CUT = "2025-01-01 00:00:00"  # the simulator's export is 2025-04-01


@pytest.fixture(scope="module")
def bt(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("backtest")
    data = simulate("saas", leads=5000, seed=31)
    data.write(tmp)
    ws = rr.ingest(leads=tmp / "leads.csv", events=tmp / "events.csv", workspace=tmp / "ws.duckdb")
    try:
        result = rr.backtest(ws, CUT, adjust=["industry"])
    finally:
        ws.close()
    leads = pd.read_csv(tmp / "leads.csv", parse_dates=["created_at", "closed_at"])
    return SimpleNamespace(tmp=tmp, result=result, leads=leads, ws=tmp / "ws.duckdb")


def _rows(con, sql: str) -> list[tuple]:
    return sorted(con.execute(sql).fetchall(), key=repr)


def test_the_past_is_what_ingest_as_of_the_cutoff_holds(bt):
    full = rr.open_workspace(bt.ws, read_only=True)
    then = rr.ingest(leads=bt.tmp / "leads.csv", events=bt.tmp / "events.csv", as_of=CUT)
    past = as_of_workspace(full, pd.Timestamp(CUT).to_pydatetime())
    try:
        leads = "SELECT lead_id, created_at, outcome, closed_at FROM leads"
        assert _rows(past.con, leads) == _rows(then.con, leads + " WHERE mark IS NULL")
        usable = "SELECT lead_id, activity, ts FROM events WHERE mark IS NULL"
        assert _rows(past.con, usable) == _rows(then.con, usable)
        assert past.as_of == then.as_of == pd.Timestamp(CUT).to_pydatetime()
    finally:
        past.close()
        then.close()
        full.close()


def test_scored_leads_are_those_open_at_the_cutoff_that_closed_since(bt):
    cut = pd.Timestamp(CUT)
    ld = bt.leads
    open_then = ld[(ld.created_at <= cut) & (ld.closed_at.isna() | (ld.closed_at > cut))]
    closed = open_then[open_then.outcome.isin(["won", "lost"])]
    r = bt.result
    assert r.open_at_cutoff == len(open_then)
    assert r.scored == len(closed) and r.still_open == len(open_then) - len(closed)
    assert set(r.scores.lead_id) == set(closed.lead_id)
    won = closed.set_index("lead_id").outcome.eq("won").astype(float)
    np.testing.assert_array_equal(r.scores.won.to_numpy(), won[r.scores.lead_id].to_numpy())


@pytest.mark.parametrize("name", ["royalroad", "base_rate", "lead_score"])
def test_scores_equal_numpy_and_scipy(bt, name):
    s, m = bt.result.scores, bt.result.model(name)
    p, y = s[name].to_numpy(float), s.won.to_numpy(float)
    assert m.brier == pytest.approx(np.mean((p - y) ** 2), rel=1e-12)
    pc = np.clip(p, 1e-15, 1 - 1e-15)
    assert m.log_loss == pytest.approx(-np.mean(y * np.log(pc) + (1 - y) * np.log(1 - pc)), 1e-9)
    u = mannwhitneyu(p[y == 1], p[y == 0]).statistic
    assert m.auc == pytest.approx(u / ((y == 1).sum() * (y == 0).sum()), rel=1e-12)
    assert m.gap == pytest.approx(p.mean() - y.mean(), abs=1e-12)
    nurture = (s.status == "nurture").to_numpy()
    assert m.gap_nurture == pytest.approx(p[nurture].mean() - y[nurture].mean(), abs=1e-12)
    stalled = s.stalled.to_numpy(bool)
    assert m.gap_stalled == pytest.approx(p[stalled].mean() - y[stalled].mean(), abs=1e-12)


def test_deciles_are_a_recount_with_wilson_intervals(bt):
    s, m = bt.result.scores, bt.result.model("royalroad")
    d = s.assign(i=np.arange(len(s))).sort_values(["royalroad", "i"], kind="stable")
    parts = np.array_split(np.arange(len(d)), 10)
    assert [x.n for x in m.deciles] == [len(x) for x in parts]
    for dec, idx in zip(m.deciles, parts, strict=True):
        part = d.iloc[idx]
        won = int(part.won.sum())
        assert dec.predicted == pytest.approx(part.royalroad.mean(), rel=1e-12)
        assert dec.observed == won / len(part)
        lo, hi = proportion_confint(won, len(part), method="wilson")
        assert dec.observed_ci == pytest.approx((lo, hi), abs=1e-9)
    assert m.max_decile_gap() == max(abs(x.gap) for x in m.deciles if x.n >= 50)


def test_royalroad_beats_the_base_rate_and_keeps_up_with_the_lead_score(bt):
    rr_, base, lr = (bt.result.model(n) for n in ("royalroad", "base_rate", "lead_score"))
    assert rr_.brier < base.brier and rr_.auc > 0.6
    assert rr_.auc >= lr.auc - 0.03  # one data set: the pooled criteria are in the slow test
    assert base.auc == pytest.approx(0.5)


def test_recalibration_is_offered_only_when_it_helps_out_of_fold():
    rng = np.random.default_rng(5)
    truth = rng.uniform(0.05, 0.6, 4000)
    y = (rng.random(4000) < truth).astype(float)
    folds = np.arange(4000) % 2
    assert recalibration(truth, y, folds).kind == "none"  # already calibrated
    shown = np.clip(truth * 1.6, 0, 0.99)  # too high everywhere
    recal = recalibration(shown, y, folds)
    assert recal.kind in ("isotonic", "platt")
    assert recal.cv[recal.kind] < recal.cv["none"] - 0.001
    fixed = recal.apply(shown)
    assert abs(fixed.mean() - y.mean()) < 0.01 < abs(shown.mean() - y.mean())
    order = np.argsort(shown, kind="stable")
    assert np.all(np.diff(fixed[order]) >= -1e-12)  # monotone: the ranking stays
    assert Recalibration("none").apply(shown) is not None


def _cli(*args: str):
    return CliRunner().invoke(app, list(args))


def test_cli_json_is_the_result(bt):
    res = _cli(
        "backtest", "--workspace", str(bt.ws), "--cutoff", CUT, "--adjust", "industry",
        "--format", "json", "--lang", "en",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["cutoff"] == CUT and doc["scored"] == bt.result.scored
    models = {m["name"]: m for m in doc["models"]}
    assert {"royalroad", "base_rate", "lead_score"} <= set(models)
    assert models["royalroad"]["brier"] == pytest.approx(bt.result.model("royalroad").brier)
    assert len(models["royalroad"]["deciles"]) == 10


def test_cli_table_names_every_model_in_both_languages(bt):
    from royalroad.i18n import t

    for lang in ("en", "ja"):
        res = _cli("backtest", "--workspace", str(bt.ws), "--as-of", CUT, "--lang", lang)
        assert res.exit_code == 0, res.output
        for name in ("royalroad", "base_rate", "lead_score"):
            assert t(f"backtest.model.{name}", lang=lang) in res.stdout


@pytest.mark.parametrize(
    ("cutoff", "needle"),
    [
        ("not-a-date", "not-a-date"),
        ("2025-04-01 00:00:00", "2025-04-01"),
        ("2030-01-01", "2030-01-01"),
        ("2022-06-01", "2022-06-01"),  # before most leads: too few closed since
    ],
)
def test_cli_bad_cutoffs_are_one_line(bt, cutoff, needle):
    res = _cli("backtest", "--workspace", str(bt.ws), "--cutoff", cutoff, "--lang", "en")
    assert res.exit_code == 2, res.output
    lines = [x for x in res.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and needle in lines[0], res.stderr
    assert "Traceback" not in res.output


def test_outputs_carry_the_backtest_and_reruns_are_identical(bt, tmp_path):
    ws = rr.open_workspace(bt.ws, read_only=True)
    try:
        results = rr.analyse(ws, adjust=["industry"], backtest_as_of=CUT)
        again = rr.analyse(ws, adjust=["industry"], backtest_as_of=CUT)
    finally:
        ws.close()
    assert results.backtest.to_json() == bt.result.to_json()
    assert results.to_json() == again.to_json()
    doc = json.loads(results.to_json())
    assert doc["backtest"]["scored"] == bt.result.scored
    paths = rr.write_outputs(results, tmp_path, lang="en")
    wb = openpyxl.load_workbook(paths["excel.out.workbook"], read_only=True)
    from royalroad.i18n import t

    sheet = wb[t("excel.sheet.backtest", lang="en")]
    rows = list(sheet.iter_rows(values_only=True))
    header = list(rows[0])
    body = [dict(zip(header, r, strict=True)) for r in rows[2:]]
    assert {r["model_code"] for r in body} >= {"royalroad", "base_rate", "lead_score"}
    got = {r["model_code"]: r["brier"] for r in body}
    assert got["royalroad"] == pytest.approx(bt.result.model("royalroad").brier)
    html = paths["pipeline.out.report"].read_text("utf-8")
    assert 'id="en-trust"' in html and 'id="ja-trust"' in html
    assert "rr-reliability-en" in html


def test_analyze_headline_carries_the_pipeline_and_the_verdict(bt, tmp_path):
    res = CliRunner().invoke(
        app,
        ["analyze", "-w", str(bt.ws), "--adjust", "industry", "--backtest-as-of", CUT]
        + ["--out", str(tmp_path / "out"), "--lang", "en"],
    )
    assert res.exit_code == 0, res.output
    rows = json.loads((tmp_path / "out" / "results.json").read_text("utf-8"))
    pipe = rows["next"]["forecast"]["pipeline"]
    # the sum of the open leads' P(win), as the JSON has them
    wins = sum(r["current_win_rate"] for r in rows["next"]["leads"])
    assert pipe["wins"] == pytest.approx(wins, rel=1e-9)
    text = " ".join(res.stdout.split())
    assert f"The {pipe['leads']:,.0f} open leads are expected to bring {wins:,.0f} wins" in text
    rr_ = bt.result.model("royalroad")
    assert f"Brier {rr_.brier:.4f} vs" in text or f"royalroad's {rr_.brier:.4f}" in text
    # no backtest: no verdict, and no error
    res = CliRunner().invoke(
        app, ["analyze", "-w", str(bt.ws), "--no-backtest", "--out", str(tmp_path / "o2")]
    )
    assert res.exit_code == 0 and "Brier" not in res.stdout
