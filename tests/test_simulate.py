"""The simulator's planted truth, checked by independent pandas / scipy / statsmodels code.

Nothing here trusts the simulator's own numbers: every rate is recounted from the
tables (or from the CSV files as a reader would see them) and compared with the
scenario's stated rates or with the statistical property the trap must have.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import time
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import fisher_exact
from statsmodels.stats.contingency_tables import StratifiedTable, Table2x2

from royalroad.errors import InputError
from royalroad.simulate import SCENARIOS, simulate

ALL = sorted(SCENARIOS)
FILES = ("leads.csv", "events.csv", "notes.csv", "truth.json")
TS = "%Y-%m-%d %H:%M:%S"


@cache
def sim(scenario: str, leads: int, seed: int, null: bool = False):
    return simulate(scenario, leads=leads, seed=seed, null=null)


@cache
def frames(scenario: str, leads: int, seed: int, null: bool = False):
    d = sim(scenario, leads, seed, null)
    return d.leads.to_pandas(), d.events.to_pandas(), d.truth


def reached_before_close(scenario: str, leads: int, seed: int, null: bool = False):
    """Closed leads (index lead_id) and per activity its number of events strictly before close."""
    ld, ev, truth = frames(scenario, leads, seed, null)
    closed = ld[ld.outcome != "open"].set_index("lead_id")
    e = ev.join(closed["closed_at"], on="lead_id", how="inner")
    e = e[e.ts < e.closed_at]
    counts = pd.crosstab(e.lead_id, e.activity).reindex(closed.index, fill_value=0)
    return closed, counts, truth


def mcc(x: np.ndarray, y: np.ndarray) -> float:
    x, y = x.astype(bool), y.astype(bool)
    tp, tn = float(np.sum(x & y)), float(np.sum(~x & ~y))
    fp, fn = float(np.sum(x & ~y)), float(np.sum(~x & y))
    den = np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    return (tp * tn - fp * fn) / den if den else 0.0


def sha(folder: Path) -> list[str]:
    return [hashlib.sha256((folder / f).read_bytes()).hexdigest() for f in FILES]


# ---------------------------------------------------------------- API and errors


def test_unknown_scenario_names_the_choices():
    with pytest.raises(
        InputError,
        match=r"^--scenario: 'retail' is not a known scenario; "
        r"expected one of manufacturing, saas, education, "
        r"consulting$",
    ):
        simulate("retail", leads=10)


@pytest.mark.parametrize("leads", [0, -5, 2.5, True, "100", 10_000_001])
def test_bad_lead_count_is_an_input_error(leads):
    with pytest.raises(InputError, match=r"^--leads: .* expected an integer from 1 to 10000000$"):
        simulate("saas", leads=leads)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"seed": -1},
        {"seed": 1.5},
        {"as_of": "yesterday"},
        {"as_of": "2025-04-01T00:00:00+09:00"},
        {"as_of": "1900-01-01"},
    ],
)
def test_bad_seed_or_as_of_is_an_input_error(kwargs):
    with pytest.raises(InputError, match=r"^--(seed|as-of): "):
        simulate("saas", leads=10, **kwargs)


def test_result_is_frozen_and_tiny_runs_work():
    d = simulate("consulting", leads=1, seed=0)
    assert d.leads.num_rows == 1 and d.truth["realised"]["leads"] == 1
    with pytest.raises(AttributeError):
        d.leads = None  # type: ignore[misc]


def test_as_of_moves_the_export_moment():
    d = simulate("education", leads=500, seed=2, as_of="2023-10-01")
    ld = d.leads.to_pandas()
    assert d.truth["as_of"] == "2023-10-01 00:00:00"
    assert ld.created_at.max() < pd.Timestamp("2023-10-01")
    assert d.events.to_pandas().ts.max() <= pd.Timestamp("2023-10-01")


# ---------------------------------------------------------------- determinism and CSV


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    simulate("manufacturing", leads=3000, seed=5).write(a)
    simulate("manufacturing", leads=3000, seed=5).write(b)
    simulate("manufacturing", leads=3000, seed=6).write(c)
    assert sha(a) == sha(b)
    assert all(x != y for x, y in zip(sha(a), sha(c), strict=True))


def _render(value) -> str:
    if value is None:
        return ""
    if hasattr(value, "strftime"):
        return value.strftime(TS)
    return str(value)


@pytest.mark.parametrize("scenario", ["manufacturing", "saas"])
def test_csv_reads_back_exactly_as_the_tables(tmp_path, scenario):
    d = sim(scenario, 2000, 3)
    d.write(tmp_path)
    for name, table in (("leads", d.leads), ("events", d.events), ("notes", d.notes)):
        raw = (tmp_path / f"{name}.csv").read_bytes()
        assert raw.endswith(b"\n") and b"\r" not in raw and not raw.startswith(b"\xef\xbb\xbf")
        rows = list(csv.reader(io.StringIO(raw.decode("utf-8"), newline="")))
        assert rows[0] == table.column_names
        expected = [[_render(v) for v in row.values()] for row in table.to_pylist()]
        assert rows[1:] == expected, name
        if name != "notes":  # nothing there needs quoting: minimal quoting writes no quote at all
            assert b'"' not in raw
    notes = (tmp_path / "notes.csv").read_text(encoding="utf-8")
    assert '"""' in notes or '""' in notes  # doubled quotes inside a quoted field
    texts = d.notes["text"].to_pylist()
    for special in ("\n", ",", '"'):
        assert any(special in x for x in texts)
    truth_text = (tmp_path / "truth.json").read_text(encoding="utf-8")
    canonical = json.dumps(json.loads(truth_text), sort_keys=True, indent=2, ensure_ascii=False)
    assert truth_text == canonical + "\n"
    assert "技術打合せ" in truth_text or "無料トライアル登録" in truth_text  # not \\u-escaped


def test_csv_formats(tmp_path):
    sim("consulting", 500, 1).write(tmp_path)
    leads = pd.read_csv(tmp_path / "leads.csv", dtype=str, keep_default_na=False)
    assert leads.lead_id.str.fullmatch(r"CON-\d{6}").all()
    assert leads.created_at.str.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d").all()
    assert leads.amount.str.fullmatch(r"\d+").all()
    assert set(leads.outcome) == {"won", "lost", "open"}
    assert (leads.closed_at.eq("") == leads.outcome.eq("open")).all()


# ---------------------------------------------------------------- truth.json


def test_truth_names_everything_and_counts_match():
    d = sim("manufacturing", 2000, 3)
    t = d.truth
    for key in (
        "scenario",
        "seed",
        "leads",
        "null",
        "as_of",
        "goal",
        "stages",
        "proxies",
        "post_close_activities",
        "confounders",
        "segments",
        "reps",
        "triggers",
        "planted_rates",
        "realised",
    ):
        assert key in t
    assert t["goal"] == {"activity": "技術打合せ", "min_count": 1, "within_days": None}
    assert t["stages"] == [
        "展示会名刺交換",
        "資料送付",
        "技術打合せ",
        "見積依頼",
        "試作評価",
        "量産提案",
    ]
    assert t["proxies"] == ["契約締結"] and t["confounders"][0]["activity"] == "工場見学"
    assert 6 <= len(t["reps"]) <= 10
    ld, ev = d.leads.to_pandas(), d.events.to_pandas()
    counts = ld.outcome.value_counts()
    assert t["realised"] == {
        "leads": len(ld),
        "won": counts["won"],
        "lost": counts["lost"],
        "open": counts["open"],
        "events": len(ev),
        "notes": d.notes.num_rows,
    }
    assert set(ev.activity) <= set(t["activities"])
    assert set(ld.rep) == set(t["reps"]) and set(ld.industry) == set(t["segments"]["industry"])


# ---------------------------------------------------------------- planted rates


@pytest.mark.parametrize(
    "scenario,goal_rate",
    [
        ("manufacturing", (0.60, 0.65)),
        ("saas", (0.27, 0.33)),
        ("education", (0.67, 0.73)),
        ("consulting", (0.47, 0.53)),
    ],
)
def test_planted_rates_at_20000_leads(scenario, goal_rate):
    closed, counts, t = reached_before_close(scenario, 20_000, 0)
    won = (closed.outcome == "won").to_numpy()
    goal = counts[t["goal"]["activity"]].to_numpy() > 0
    lo, hi = goal_rate
    assert lo <= won[goal].mean() <= hi
    assert abs(won[goal].mean() - t["planted_rates"]["win_rate_given_goal"]) < 0.03
    # catalogue-only: nothing before close but the cheap first steps (proxies aside)
    other = [a for a in counts.columns if a not in set(t["catalogue_steps"]) | set(t["proxies"])]
    catalogue_only = ~(counts[other].to_numpy() > 0).any(axis=1)
    assert abs(won[catalogue_only].mean() - 0.10) <= 0.03
    assert won[~goal].mean() < won[goal].mean() / 2
    nxt = t["stages"][t["stages"].index(t["goal"]["activity"]) + 1]
    conv = (counts[nxt].to_numpy()[goal] > 0).mean()
    assert abs(conv - t["planted_rates"]["stage_conversion"][nxt]) <= 0.03
    if scenario == "manufacturing":
        assert abs(conv - 0.60) <= 0.03
        quote = counts["見積依頼"].to_numpy() > 0
        assert won[goal & quote].mean() > won[goal & ~quote].mean() + 0.08


@pytest.mark.parametrize("scenario", ALL)
def test_goal_has_the_highest_mcc_by_a_margin(scenario):
    for seed in range(5):
        closed, counts, t = reached_before_close(scenario, 3000, seed)
        won = (closed.outcome == "won").to_numpy()
        skip = set(t["proxies"]) | set(t["post_close_activities"])
        scores = {a: mcc(counts[a].to_numpy() > 0, won) for a in counts.columns if a not in skip}
        goal = scores.pop(t["goal"]["activity"])
        best = max(scores, key=scores.get)
        assert goal >= scores[best] + 0.05, (scenario, seed, goal, best, scores[best])


def test_reps_differ_in_reaching_the_goal():
    closed, counts, t = reached_before_close("manufacturing", 5000, 1)
    goal = counts[t["goal"]["activity"]] > 0
    by_rep = goal.groupby(closed.rep).mean()
    best, worst = max(t["reps"], key=t["reps"].get), min(t["reps"], key=t["reps"].get)
    assert by_rep[best] > by_rep[worst] + 0.15


# ---------------------------------------------------------------- traps


@pytest.mark.parametrize("scenario", ["manufacturing", "education"])
def test_proxies_and_post_close_activities_in_the_written_csv(tmp_path, scenario):
    sim(scenario, 5000, 2).write(tmp_path)
    t = json.loads((tmp_path / "truth.json").read_text(encoding="utf-8"))
    leads = pd.read_csv(tmp_path / "leads.csv", parse_dates=["created_at", "closed_at"])
    ev = pd.read_csv(tmp_path / "events.csv", parse_dates=["ts"])
    ev = ev.merge(leads, on="lead_id", how="left")
    assert ev.outcome.notna().all()  # every event's lead exists
    closed = ev[ev.outcome != "open"]
    proxy = closed[closed.activity.isin(t["proxies"])]
    gap = proxy.closed_at - proxy.ts
    assert (gap > pd.Timedelta(0)).all() and (gap <= pd.Timedelta(days=1)).all()
    lead_out = leads.set_index("lead_id").outcome
    with_proxy = set(proxy.lead_id)
    won, lost = lead_out[lead_out == "won"].index, lead_out[lead_out == "lost"].index
    assert np.mean([x in with_proxy for x in won]) > 0.95
    assert np.mean([x in with_proxy for x in lost]) < 0.03
    assert (proxy.outcome == "won").mean() > 0.9
    after = closed[closed.ts > closed.closed_at]
    assert len(after) > 0 and set(after.activity) <= set(t["post_close_activities"])
    post = closed[closed.activity.isin(t["post_close_activities"])]
    assert (post.ts > post.closed_at).all()
    assert (ev.ts >= ev.created_at).all()


@pytest.mark.parametrize("scenario", ALL)
def test_confounder_crude_association_vanishes_within_industry(scenario):
    for seed in range(5):
        closed, counts, t = reached_before_close(scenario, 5000, seed)
        conf = t["confounders"][0]
        x = counts[conf["activity"]].to_numpy() > 0
        y = (closed.outcome == "won").to_numpy()
        seg = closed[conf["segment"]].to_numpy()
        assert x[seg == conf["value"]].mean() > 3 * x[seg != conf["value"]].mean()

        def table(m, x=x, y=y):
            return np.array(
                [
                    [np.sum(x[m] & y[m]), np.sum(x[m] & ~y[m])],
                    [np.sum(~x[m] & y[m]), np.sum(~x[m] & ~y[m])],
                ]
            )

        crude = Table2x2(table(np.ones_like(x)))
        assert crude.oddsratio > 1.5 and crude.oddsratio_pvalue() < 0.01, (scenario, seed)
        strata = StratifiedTable([table(seg == v) for v in np.unique(seg)])
        lo, hi = strata.oddsratio_pooled_confint()
        assert lo < 1 < hi, (scenario, seed, lo, hi)


@pytest.mark.parametrize("scenario", ALL)
def test_null_goal_is_noise(scenario):
    pvalues = []
    for seed in range(5):
        closed, counts, t = reached_before_close(scenario, 3000, seed, True)
        y = (closed.outcome == "won").to_numpy()
        x = counts[t["goal"]["activity"]].to_numpy() > 0
        table = [[np.sum(x & y), np.sum(x & ~y)], [np.sum(~x & y), np.sum(~x & ~y)]]
        pvalues.append(fisher_exact(table)[1])
        # the proxy still follows the outcome: it is part of it
        proxy = counts[t["proxies"][0]].to_numpy() > 0
        assert proxy[y].mean() > 0.95 and proxy[~y].mean() < 0.03
    assert sum(p > 0.01 for p in pvalues) >= 4, pvalues


@pytest.mark.parametrize("scenario", ALL)
def test_open_leads_are_censored_at_as_of(scenario):
    ld, ev, t = frames(scenario, 3000, 4)
    as_of = pd.Timestamp(t["as_of"])
    is_open = ld.outcome == "open"
    assert 0.10 <= is_open.mean() <= 0.30
    assert ld.closed_at[is_open].isna().all() and ld.closed_at[~is_open].notna().all()
    assert (ld.closed_at[~is_open] <= as_of).all()
    assert (ev.ts <= as_of).all()
    open_ids = set(ld.lead_id[is_open])
    assert ev.lead_id.isin(open_ids).any()


def test_events_sorted_with_ties_and_none_after_close_but_post_close():
    ld, ev, t = frames("saas", 3000, 4)
    assert ev.lead_id.isin(set(ld.lead_id)).all()
    key = list(zip(ev.lead_id, ev.ts, strict=True))
    assert key == sorted(key)
    assert ev.duplicated(["lead_id", "ts"]).sum() > 0  # ties exist
    e = ev.merge(ld[["lead_id", "closed_at"]], on="lead_id")
    late = e[e.closed_at.notna() & (e.ts >= e.closed_at)]
    assert set(late.activity) <= set(t["post_close_activities"])


# ---------------------------------------------------------------- notes


def test_notes_carry_triggers_that_follow_the_outcome():
    d = sim("consulting", 5000, 0)
    notes = d.notes.to_pandas().merge(d.leads.to_pandas(), on="lead_id")
    assert (notes.ts >= notes.created_at).all()
    closed = notes[notes.outcome != "open"]
    assert (closed.ts < closed.closed_at).all()
    assert notes.text.str.contains(r"[ぁ-んァ-ン一-龥]").mean() > 0.8
    assert notes.text.str.contains(r"^[\x00-\x7f]+$").any()  # some English
    for polarity, direction in (("positive", 1), ("negative", -1)):
        pattern = "|".join(d.truth["triggers"][polarity])
        has = closed.text.str.contains(pattern)
        win_with = (closed.outcome[has] == "won").mean()
        win_without = (closed.outcome[~has] == "won").mean()
        assert direction * (win_with - win_without) > 0.1, polarity
    assert closed.text.str.contains("予算確保済み").any()
    assert closed.text.str.contains("競合比較中").any()


def test_null_notes_carry_no_signal():
    d = sim("consulting", 5000, 0, True)
    notes = d.notes.to_pandas().merge(d.leads.to_pandas(), on="lead_id")
    closed = notes[notes.outcome != "open"]
    has = closed.text.str.contains("|".join(d.truth["triggers"]["positive"]))
    won = closed.outcome == "won"
    assert fisher_exact(pd.crosstab(has, won).to_numpy())[1] > 0.001


# ---------------------------------------------------------------- scale


@pytest.mark.slow
def test_scale_one_point_three_million_leads():
    start = time.perf_counter()
    d = simulate("manufacturing", leads=1_300_000, seed=0)
    elapsed = time.perf_counter() - start
    assert d.events.num_rows > 9_000_000
    assert elapsed < 40, elapsed


# ---------------------------------------------------------------- drift over time


@pytest.mark.parametrize("scenario", ["manufacturing", "saas"])
def test_drift_plants_a_period_effect_and_an_idle_activity(scenario):
    d = simulate(scenario, leads=5000, seed=6, drift=True)
    assert sim(scenario, 2000, 3).truth["drift"] is None  # only when asked for
    t = d.truth
    drift = t["drift"]
    at = pd.Timestamp(drift["date"])
    # inside the span, at the start of a calendar quarter, named consistently
    as_of = pd.Timestamp(t["as_of"])
    span = SCENARIOS[scenario].span_days
    assert (
        as_of - pd.Timedelta(days=span) < at < as_of and at.day == 1 and at.month in (1, 4, 7, 10)
    )
    assert drift["quarter"] == f"{at.year}-Q{at.quarter}" and drift["activity"] in t["activities"]
    ld, ev = d.leads.to_pandas(), d.events.to_pandas()
    ld["post"] = ld.created_at >= at
    doers = set(ev.lead_id[ev.activity == drift["activity"]])
    assert ld.lead_id[~ld.post].isin(doers).sum() == 0  # nobody created before it
    closed = ld[ld.outcome != "open"].copy()
    closed["won"] = closed.outcome == "won"
    closed["did"] = closed.lead_id.isin(doers)
    post = closed[closed.post]
    assert abs(post.did.mean() - drift["share_after"]) < 0.02
    # every lead created from the date on has about 3× the win odds, at every depth
    stages = [t["goal"]["activity"]] + t["stages"][t["stages"].index(t["goal"]["activity"]) + 1 :]
    e = ev.merge(closed[["lead_id", "closed_at"]], on="lead_id")
    e = e[e.ts < e.closed_at]
    depth = sum(closed.lead_id.isin(set(e.lead_id[e.activity == s])).astype(int) for s in stages)
    tables = []
    for _, g in closed.assign(depth=depth).groupby(["industry", "depth"]):
        tab = pd.crosstab(g.post, g.won).reindex(
            index=[True, False], columns=[True, False], fill_value=0
        )
        tables.append(tab.to_numpy().astype(float))
    ratio = StratifiedTable([x for x in tables if x.sum(0).min() > 0 and x.sum(1).min() > 0])
    assert 2.6 < ratio.oddsratio_pooled < 3.4, ratio.oddsratio_pooled
    # the activity itself does nothing: independent of the outcome among those leads
    tab = pd.crosstab(post.did, post.won).reindex(index=[True, False], columns=[True, False])
    lo, hi = Table2x2(tab.to_numpy().astype(float)).oddsratio_confint()
    assert lo < 1 < hi
    # and it looks like a cause when the period is ignored
    crude = pd.crosstab(closed.did, closed.won).reindex(index=[True, False], columns=[True, False])
    c = Table2x2(crude.to_numpy().astype(float))
    assert c.oddsratio > 1.5 and c.oddsratio_pvalue() < 1e-6
