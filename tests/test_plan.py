"""The reverse plan: arithmetic by hand, rates recounted, presets, benchmarks, the CLI.

Every expected number is computed here independently: by hand from a fixture small
enough to count (40 closed leads with fixed lags), with pandas from the simulator's
files, with scipy's ``binomtest``, statsmodels' ``CumIncidenceRight`` and
``proportion_confint``, and with a seeded Monte Carlo of the plan's own assumptions
(the library computes its uncertainty without random draws; the test checks it
against draws).
"""

from __future__ import annotations

import json
import math
import re
import tomllib
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest
from statsmodels.duration.survfunc import CumIncidenceRight
from statsmodels.stats.proportion import proportion_confint
from typer.testing import CliRunner

import royalroad as rr
from royalroad.analysis import plan_lags as lags
from royalroad.analysis.plan_presets import preset, presets
from royalroad.cli import app

L = 365.25 / 12  # the plan's average month, in days

# --- the hand fixture -------------------------------------------------------------------
# 40 leads created one a day from 2024-06-02; every one closed, so no pipeline:
#   A 15 × 技術打合せ on day 10, won on day 40, 2,000,000 each
#   B  5 × 技術打合せ on day 10, lost on day 40
#   C  4 × no goal, won on day 30, 1,000,000 each
#   D 16 × no goal, lost on day 30
# By hand: P(goal | lead) = 20/40; P(win | goal) = 15/20; P(win | no goal) = 4/20;
# P(win | lead) = .5 × .75 + .5 × .2 = .475 (= 19/40); mean won amount = 34M / 19.
GROUPS = (("A", 15, "won", 40, 2_000_000, True), ("B", 5, "lost", 40, 2_000_000, True))
GROUPS += (("C", 4, "won", 30, 1_000_000, False), ("D", 16, "lost", 30, 1_000_000, False))
AS_OF = "2024-12-01"


def hand_files(folder: Path) -> tuple[Path, Path]:
    base = pd.Timestamp("2024-06-01 09:00")
    leads, events, i = [], [], 0
    for _, n, outcome, close, amount, goal in GROUPS:
        for _ in range(n):
            i += 1
            created = base + pd.Timedelta(days=i)
            lid = f"L{i:03d}"
            leads.append(
                (lid, created, outcome, created + pd.Timedelta(days=close), amount, "xy"[i % 2])
            )
            events.append((lid, "問い合わせ", created))
            if goal:
                events.append((lid, "技術打合せ", created + pd.Timedelta(days=10)))
    cols = ["lead_id", "created_at", "outcome", "closed_at", "amount", "industry"]
    pd.DataFrame(leads, columns=cols).to_csv(folder / "leads.csv", index=False)
    pd.DataFrame(events, columns=["lead_id", "activity", "ts"]).to_csv(
        folder / "events.csv", index=False
    )
    return folder / "leads.csv", folder / "events.csv"


@pytest.fixture(scope="module")
def hand(tmp_path_factory):
    leads, events = hand_files(tmp_path_factory.mktemp("hand"))
    ws = rr.ingest(leads=leads, events=events, as_of=AS_OF)
    yield ws, leads, events
    ws.close()


def month_shape_by_hand() -> tuple[list[float], list[float]]:
    """Creation spread over 30 days of an average month; an event on whole day t is at
    t − 0.5 days. Wins: 4/19 at 29.5 days, 15/19 at 39.5 days; goals: all at 9.5 days."""
    u = [(m + 0.5) * L / 30 for m in range(30)]
    win = [0.0, 0.0, 0.0]
    for lag, share in ((29.5, 4 / 19), (39.5, 15 / 19)):
        for x in u:
            win[int((x + lag) // L)] += share / 30
    goal = [0.0, 0.0]
    for x in u:
        goal[int((x + 9.5) // L)] += 1 / 30
    return win, goal


def test_month_shapes_by_hand():
    win, goal = month_shape_by_hand()
    # the counts of creation days whose event falls in each month, by hand
    assert win == pytest.approx(
        [4 / 19 / 30, 4 / 19 * 29 / 30 + 15 / 19 * 21 / 30, 15 / 19 * 9 / 30]
    )
    assert goal == pytest.approx([21 / 30, 9 / 30])
    days = np.array([30.0, 40.0])
    assert lags.month_shape(days, np.array([4 / 40, 15 / 40])) == pytest.approx(win)
    assert lags.month_shape(np.array([10.0]), np.array([0.5])) == pytest.approx(goal)


def test_plan_arithmetic_equals_the_hand_computation(hand):
    ws, *_ = hand
    target = 20_000_000
    p = rr.plan(ws, target=target, period="2025-01..2025-03", goal="技術打合せ")
    mu, rate = 34_000_000 / 19, 0.5 * 0.75 + 0.5 * 0.2
    assert p.p_goal.estimate == pytest.approx(0.5)
    assert p.p_win_goal.estimate == pytest.approx(0.75)
    assert p.p_win_no_goal.estimate == pytest.approx(0.2)
    assert p.amount.mean == pytest.approx(mu)
    # the chain before timing and pipeline
    assert p.wins_needed[0] == pytest.approx(target / mu)
    assert p.leads_needed[0] == pytest.approx(target / mu / rate)
    assert p.goals_needed[0] == pytest.approx(target / mu / rate * 0.5)
    assert p.share_via_goal == pytest.approx(15 / 19)
    # timing: the data end on 2024-12-01 00:00, so new leads start in December; the win
    # lag reaches two months (lead-in = 2), so December is the first creation month
    win, goal = month_shape_by_hand()
    k0, k1, k2 = win
    creation = {"2024-12": 0, "2025-01": 1, "2025-02": 2, "2025-03": 3}
    window = (1, 2, 3)
    reach = sum(win[j - c] for c in creation.values() for j in window if 0 <= j - c < len(win))
    assert reach == pytest.approx((k1 + k2) + (k0 + k1 + k2) + (k0 + k1) + k0)
    x = target / (mu * rate * reach)
    assert p.leads_per_month == pytest.approx(x)
    assert p.creation == ("2024-12", "2025-03")
    rows = {r.period: r for r in p.periods}
    assert list(rows) == ["2024-12", "2025-01", "2025-02", "2025-03"]
    assert not rows["2024-12"].in_target and rows["2025-01"].in_target
    expected_wins = {
        "2024-12": x * rate * k0,
        "2025-01": x * rate * (k1 + k0),
        "2025-02": x * rate * (k2 + k1 + k0),
        "2025-03": x * rate * (k2 + k1 + k0),
    }
    expected_goals = {
        "2024-12": x * 0.5 * goal[0],
        "2025-01": x * 0.5 * (goal[1] + goal[0]),
        "2025-02": x * 0.5,
        "2025-03": x * 0.5,
    }
    for period, r in rows.items():
        assert r.leads == pytest.approx(x)
        assert r.wins == pytest.approx(expected_wins[period])
        assert r.wins_from_pipeline == 0
        assert r.goals == pytest.approx(expected_goals[period])
        assert r.revenue == pytest.approx(mu * expected_wins[period])
    in_window = sum(r.revenue for r in p.periods if r.in_target)
    assert in_window == pytest.approx(target)
    assert p.pipeline["leads"] == 0


def test_quarters_add_up_the_months(hand):
    ws, *_ = hand
    kw = {"target": 20_000_000, "period": "2025-01..2025-06", "goal": "技術打合せ"}
    months = rr.plan(ws, **kw)
    quarters = rr.plan(ws, **kw, by="quarter")
    assert [q.period for q in quarters.periods] == [
        "2024-12",
        "2025-01..2025-03",
        "2025-04..2025-06",
    ]
    q2 = quarters.periods[-1]
    assert q2.wins == pytest.approx(sum(m.wins for m in months.periods[-3:]))
    assert q2.leads == pytest.approx(3 * months.leads_per_month)
    lo, hi = q2.revenue_low, q2.revenue_high
    assert lo < q2.revenue < hi


def test_p_reach_matches_a_monte_carlo_of_the_same_assumptions(hand):
    """The computed P(reaching the target) against 40,000 seeded draws: rates from their
    beta posteriors (Jeffreys), outcomes binomial, amounts spread as observed."""
    ws, *_ = hand
    target = 45_000_000
    p = rr.plan(ws, target=target, period="2025-01..2025-06", goal="技術打合せ", leads_per_month=20)
    win, _ = month_shape_by_hand()
    creation = range(0, 7)  # December … June; the window is months 1 … 6
    share = [sum(win[j - c] for j in range(1, 7) if 0 <= j - c < 3) for c in creation]
    rng = np.random.default_rng(7)
    n = 40_000
    g = rng.beta(20.5, 20.5, n)
    w1 = rng.beta(15.5, 5.5, n)
    w0 = rng.beta(4.5, 16.5, n)
    rate = g * w1 + (1 - g) * w0
    amounts = np.array([2_000_000] * 15 + [1_000_000] * 4, dtype=float)
    mu = rng.normal(amounts.mean(), amounts.std(ddof=1) / math.sqrt(19), n)
    wins = sum(rng.binomial(20, np.clip(rate * s, 0, 1)) for s in share)
    # each win's amount: normal with the observed spread around the drawn mean
    revenue = wins * mu + rng.normal(0, 1, n) * np.sqrt(wins) * amounts.std(ddof=1)
    assert p.p_reach_target == pytest.approx((revenue >= target).mean(), abs=0.04)
    assert p.projection["wins"] == pytest.approx(wins.mean(), rel=0.02)
    assert math.sqrt(p.projection["wins_var"]) == pytest.approx(wins.std(), rel=0.1)


# --- presets -----------------------------------------------------------------------------


def test_presets_carry_the_articles_four_figures():
    raw = tomllib.loads(
        resources.files("royalroad.analysis").joinpath("kpi_presets.toml").read_text("utf-8")
    )
    assert {k: v["benchmark_rate"] for k, v in raw.items()} == {
        "saas": 0.30,
        "manufacturing": 0.60,
        "education": 0.70,
        "consulting": 0.50,
    }
    assert set(presets()) == {"saas", "manufacturing", "education", "consulting"}
    assert preset("manufacturing").benchmark_to == "見積依頼"
    for name in ("saas", "education", "consulting"):
        assert preset(name).benchmark_to == "won"
        assert preset(name).p_win_given_goal == raw[name]["benchmark_rate"]
    with pytest.raises(rr.InputError, match="--preset retail: unknown"):
        preset("retail")


@pytest.mark.parametrize(
    ("name", "figure"),
    [("saas", 0.3), ("manufacturing", 0.6), ("education", 0.7), ("consulting", 0.5)],
)
def test_plan_without_data_labels_every_assumed_number(name, figure):
    p = rr.plan(target=120_000_000, period="2026-04..2027-03", preset=name, won_amount=5_000_000)
    d = json.loads(p.to_json())
    assert d["source"] == "preset" and d["from_open_pipeline"]["leads"] == 0
    assumed = {a["name"]: a for a in d["assumptions"]}
    assert assumed["mean_won_amount"] == {"name": "mean_won_amount", "value": 5e6, "source": "user"}
    assert assumed["p_goal_given_lead"]["source"] == "preset"
    assert d["p_goal_given_lead_source"] == "preset"
    if name == "manufacturing":
        assert assumed["benchmark_rate"] == {
            "name": "benchmark_rate",
            "value": 0.6,
            "source": "article",
        }
        assert assumed["p_win_given_goal"]["value"] == pytest.approx(0.6 * 0.5)
        assert d["p_win_given_goal_source"] == "article_preset"
    else:
        assert assumed["p_win_given_goal"] == {
            "name": "p_win_given_goal",
            "value": figure,
            "source": "article",
        }
    assert d["benchmark"]["benchmark"] == figure and d["benchmark"]["measured"] is False
    # the chain: 24 wins at 5M; leads = wins ÷ (g · w₁) with no wins without the goal
    w1 = assumed["p_win_given_goal"]["value"]
    g = assumed["p_goal_given_lead"]["value"]
    assert d["wins_needed"] == pytest.approx(24)
    assert d["leads_needed"] == pytest.approx(24 / (g * w1))
    assert d["goals_needed"] == pytest.approx(24 / w1)
    assert d["wins_needed_low"] == d["wins_needed_high"] == d["wins_needed"]  # no interval


def test_user_numbers_replace_the_data_and_are_labelled(hand):
    ws, *_ = hand
    p = rr.plan(ws, target=2e7, period="2025-01..2025-03", goal="技術打合せ", p_win_given_goal=0.9)
    d = p.to_dict()
    assert d["p_win_given_goal"] == 0.9 and d["p_win_given_goal_source"] == "user"
    assert d["p_win_given_goal_low"] == d["p_win_given_goal_high"] == 0.9
    assert {"name": "p_win_given_goal", "value": 0.9, "source": "user"} in d["assumptions"]
    assert d["p_goal_given_lead_source"] == "data"


# --- rates from data, recounted ------------------------------------------------------------


@pytest.fixture(scope="module")
def sim(simulated):
    folder = simulated("manufacturing", 1500, 3)
    ws = rr.ingest(leads=folder / "leads.csv", events=folder / "events.csv", as_of="2024-12-01")
    p = rr.plan(
        ws,
        target=1_500_000_000,
        period="2024-12..2025-03",
        preset="manufacturing",
        segment="industry",
        reach="+5pt",
        post_goal="+5pt",
    )
    yield ws, folder, p
    ws.close()


def _cut_tables(folder: Path, cut: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The simulator's files as seen on ``cut``: leads created by then, outcomes decided by
    then (else open), events before then and strictly before the close."""
    leads = pd.read_csv(folder / "leads.csv", parse_dates=["created_at", "closed_at"])
    events = pd.read_csv(folder / "events.csv", parse_dates=["ts"])
    c = pd.Timestamp(cut)
    leads = leads[leads.created_at <= c].copy()
    late = leads.closed_at > c
    leads.loc[late, "outcome"] = "open"
    leads.loc[late, "closed_at"] = pd.NaT
    ev = events.merge(leads[["lead_id", "closed_at", "created_at"]], on="lead_id")
    ev = ev[(ev.ts <= c) & (ev.closed_at.isna() | (ev.ts < ev.closed_at))]
    return leads, ev


def test_rates_equal_a_pandas_recount(sim):
    _, folder, p = sim
    leads, ev = _cut_tables(folder, "2024-12-01")
    first = ev[ev.activity == "技術打合せ"].groupby("lead_id").ts.min()
    leads["reach"] = leads.lead_id.map(first)
    closed = leads[leads.outcome != "open"]
    reached = closed[closed.reach.notna()]
    assert p.p_win_goal.estimate == pytest.approx((reached.outcome == "won").mean())
    lo, hi = proportion_confint((reached.outcome == "won").sum(), len(reached), method="wilson")
    assert (p.p_win_goal.low, p.p_win_goal.high) == pytest.approx((lo, hi))
    not_reached = closed[closed.reach.isna()]
    assert p.p_win_no_goal.estimate == pytest.approx((not_reached.outcome == "won").mean())
    won = leads[leads.outcome == "won"]
    assert p.amount.mean == pytest.approx(won.amount.mean())
    assert p.amount.n == len(won)
    # P(goal | lead): statsmodels' cumulative incidence, one row per lead, whole days
    cut = pd.Timestamp("2024-12-01")
    end = leads.closed_at.fillna(cut)
    at = leads.reach.where(leads.reach.notna(), end)
    days = np.maximum(np.ceil((at - leads.created_at).dt.total_seconds() / 86400), 0)
    status = np.where(leads.reach.notna(), 1, np.where(leads.outcome == "open", 0, 2))
    cif = CumIncidenceRight(days.to_numpy(float), status)
    assert p.p_goal.estimate == pytest.approx(cif.cinc[0][-1])
    assert p.p_goal.var == pytest.approx(cif.cinc_se[0][-1] ** 2)
    # the open pipeline: every lead open at the cut-off, its P(win) summed
    assert p.pipeline["leads"] == (leads.outcome == "open").sum()
    assert p.pipeline["wins"] <= p.pipeline["wins_any_time"] + 1e-9


def test_pipeline_wins_are_the_next_best_actions_p_win(sim):
    ws, _, p = sim
    nxt = rr.next_best_actions(ws, goals=rr.discover_goals(ws))
    total = sum(r["current_win_rate"] for r in nxt.rows())
    assert p.pipeline["wins_any_time"] == pytest.approx(total)


def test_benchmark_against_scipy_binomtest(sim):
    _, folder, p = sim
    leads, ev = _cut_tables(folder, "2024-12-01")
    closed = set(leads.lead_id[leads.outcome != "open"])
    ev = ev[ev.lead_id.isin(closed)].sort_values(["lead_id", "ts"], kind="stable")
    goal = ev[ev.activity == "技術打合せ"].groupby("lead_id").ts.min()
    quote = ev[ev.activity == "見積依頼"].merge(
        goal.rename("g"), left_on="lead_id", right_index=True
    )
    k = quote[quote.ts > quote.g].lead_id.nunique()
    n = len(goal)
    b = p.benchmark
    assert (b.k, b.n) == (k, n)
    assert b.p_value == pytest.approx(binomtest(k, n, 0.6).pvalue)
    assert b.significant == (binomtest(k, n, 0.6).pvalue < 0.05)
    assert b.ci == pytest.approx(proportion_confint(k, n, method="wilson"))
    assert "vs 60% in the article's manufacturing example" in b.sentence("en")
    assert "記事の製造業の例では 60%" in b.sentence("ja")


def test_what_if_moves_revenue_by_the_shifted_rate(sim):
    _, _, p = sim
    reach, post = p.what_if
    assert reach.change == "reach" and reach.after == pytest.approx(reach.before + 0.05)
    # at the same volume, P(win | lead) rises by 5 points × (w₁ − w₀): revenue by that share
    w1, w0 = p.p_win_goal.estimate, p.p_win_no_goal.estimate
    lift = 0.05 * (w1 - w0) / p.p_win_lead[0]
    assert reach.revenue_effect == pytest.approx(p.new["revenue"] * lift)
    lift_post = 0.05 * p.p_goal.estimate / p.p_win_lead[0]
    assert post.revenue_effect == pytest.approx(p.new["revenue"] * lift_post)
    assert reach.leads_per_month_after < p.leads_per_month


def test_segments_split_the_new_leads_by_mix(sim):
    _, folder, p = sim
    rows = p.segments
    assert {r.value for r in rows} == {"自動車部品", "電子部品", "産業機械", "食品", "化学"}
    assert sum(r.share_of_leads for r in rows) == pytest.approx(1)
    assert sum(r.leads for r in rows) == pytest.approx(p.new["leads"])
    leads, ev = _cut_tables(folder, "2024-12-01")
    car = leads[leads.industry == "自動車部品"]
    reached = set(ev.lead_id[ev.activity == "技術打合せ"])
    closed = car[car.outcome != "open"]
    r = next(r for r in rows if r.value == "自動車部品")
    hit = closed[closed.lead_id.isin(reached)]
    assert r.p_win_given_goal == pytest.approx((hit.outcome == "won").mean())


def test_scenarios_bracket_the_plan(sim):
    _, _, p = sim
    base, opt, pess = (p.scenario(n) for n in ("base", "optimistic", "pessimistic"))
    assert opt.leads_per_month < base.leads_per_month < pess.leads_per_month
    assert opt.p_reach_target < base.p_reach_target < pess.p_reach_target
    assert p.leads_needed[1] < p.leads_needed[0] < p.leads_needed[2]
    assert p.p_reach(p.target) == pytest.approx(p.p_reach_target)
    assert p.p_reach(p.revenue_quantile(0.3)) == pytest.approx(0.7)


# --- the command line ------------------------------------------------------------------


def run(*args):
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    return result


@pytest.fixture
def files(hand):
    _, leads, events = hand
    return ["--leads", leads, "--events", events, "--as-of", AS_OF]


def test_cli_json_is_the_plan_file_and_byte_identical(files):
    args = ["plan", *files, "--target", "20,000,000", "--period", "2025-01..2025-03"]
    args += ["--goal", "技術打合せ", "--format", "json", "-q"]
    first, second = run(*args), run(*args)
    assert first.exit_code == 0, first.stderr
    assert first.stdout == second.stdout
    d = json.loads(first.stdout)
    for key in (
        "target",
        "mean_won_amount",
        "p_win_given_goal",
        "p_goal_given_lead",
        "wins_needed",
        "wins_needed_low",
        "wins_needed_high",
        "goals_needed",
        "goals_needed_low",
        "goals_needed_high",
        "leads_needed",
        "leads_needed_low",
        "leads_needed_high",
        "from_open_pipeline",
        "p_reach_target",
        "assumptions",
        "periods",
    ):
        assert key in d, key
    assert d["kind"] == "royalroad.plan" and d["target"] == 20_000_000
    assert {"wins", "revenue"} <= set(d["from_open_pipeline"])
    assert {"period", "leads", "goals", "wins", "revenue", "revenue_low", "revenue_high"} <= set(
        d["periods"][0]
    )


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_cli_table_in_both_languages(files, lang):
    result = run(
        "plan",
        *files,
        "--target",
        "2000万",
        "--period",
        "2025-01..2025-03",
        "--goal",
        "技術打合せ",
        "--won-amount",
        "1,500,000",
        "--lang",
        lang,
        "-q",
    )
    assert result.exit_code == 0
    out = result.stdout
    assert out == ""  # --quiet prints nothing
    result = run(
        "plan",
        *files,
        "--target",
        "2000万",
        "--period",
        "2025-01..2025-03",
        "--goal",
        "技術打合せ",
        "--won-amount",
        "1,500,000",
        "--lang",
        lang,
    )
    out = result.stdout
    assert result.exit_code == 0, result.stderr
    if lang == "ja":
        assert "計画: 2025-01..2025-03 に 20,000,000" in out
        assert "仮定(ユーザー指定)" in out and "1,500,000" in out
    else:
        assert "Plan: 20,000,000 in 2025-01..2025-03" in out
        assert "ASSUMED (your number)" in out
        assert "mean won amount 1,500,000 — ASSUMED (your number)" in out
    assert "2025-03" in out


def test_cli_without_data_from_a_preset():
    result = run(
        "plan",
        "--preset",
        "saas",
        "--target",
        "1.2億",
        "--won-amount",
        "120万",
        "--period",
        "2026-04..2027-03",
        "--lang",
        "en",
    )
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert re.search(r"P\(win \| goal\)\s+│\s+30% .*ASSUMED \(the article's benchmark\)", out)
    assert "free trial → won (paid plan): 30% — ASSUMED from the article's SaaS example" in out
    assert "Needed for the target (before the open pipeline): 100 wins" in out


PRESET = ["--preset", "saas", "--won-amount", "1e6", "--period", "2026-04..2027-03"]


def test_cli_leads_per_month_gives_p_reach_at_that_volume():
    base = [*PRESET, "--format", "json", "--target", "1.2e8"]
    needed = json.loads(run("plan", *base).stdout)
    more = json.loads(run("plan", *base, "--leads-per-month", "200").stdout)
    assert needed["leads_per_month"] < 200 and more["leads_per_month"] == 200
    assert more["from_new_leads"]["given"] and more["p_reach_target"] > needed["p_reach_target"]
    # the expected revenue grows in proportion to the volume (no pipeline without data)
    ratio = more["projection"]["revenue"] / needed["projection"]["revenue"]
    assert ratio == pytest.approx(200 / needed["leads_per_month"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--target", "1e8", "--period", "2026-13..2027-03"],
            "--period 2026-13..2027-03: expected YYYY-MM..YYYY-MM",
        ),
        (
            ["--target", "1e8", "--period", "2027-03..2026-04"],
            "--period 2027-03..2026-04: expected",
        ),
        (
            ["--target", "-5", "--period", "2026-04..2027-03"],
            "--target -5: expected a positive amount",
        ),
        (
            ["--target", "lots", "--period", "2026-04..2027-03"],
            "--target lots: expected a positive amount",
        ),
        (["--period", "2026-04..2027-03"], "plan needs --target"),
        (
            [
                "--target",
                "1e8",
                "--preset",
                "retail",
                "--won-amount",
                "1e6",
                "--period",
                "2026-04..2026-05",
            ],
            "--preset retail: unknown",
        ),
        (
            ["--target", "1e8", "--preset", "saas", "--period", "2026-04..2027-03"],
            "needs --won-amount",
        ),
        (
            [
                "--target",
                "1e8",
                "--preset",
                "saas",
                "--won-amount",
                "1e6",
                "--period",
                "2026-04..2027-03",
                "--reach",
                "lots",
            ],
            "--reach lots: expected percentage points",
        ),
        (
            [
                "--target",
                "1e8",
                "--preset",
                "saas",
                "--won-amount",
                "1e6",
                "--period",
                "2026-04..2027-03",
                "--by",
                "week",
            ],
            "--by week: expected one of month, quarter",
        ),
        (
            [
                "--target",
                "1e8",
                "--preset",
                "saas",
                "--won-amount",
                "1e6",
                "--period",
                "2026-04..2027-03",
                "--p-win-given-goal",
                "150%",
            ],
            "--p-win-given-goal 150%: expected a rate",
        ),
        (["--target", "1e8", "--period", "2026-04..2027-03"], "plan needs data"),
        (
            [*PRESET, "--target", "1e8", "--leads-per-month", "-3"],
            "--leads-per-month -3: expected a number of new leads a month",
        ),
    ],
)
def test_cli_bad_options_are_one_line_exit_2(args, message):
    result = run("plan", *args, "--lang", "en")
    assert result.exit_code == 2, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert message in lines[0]


def test_cli_bad_goal_and_segment_name_the_option(files):
    result = run("plan", *files, "--target", "1e7", "--goal", "存在しない", "--lang", "en")
    assert result.exit_code == 2
    assert "--goal 存在しない: not an activity of these data" in result.stderr
    result = run(
        "plan",
        *files,
        "--target",
        "1e7",
        "--goal",
        "技術打合せ",
        "--segment",
        "nope",
        "--lang",
        "en",
    )
    assert result.exit_code == 2
    assert "--segment nope: not a lead column; expected one of industry" in result.stderr


def test_plan_messages_in_both_languages_with_the_same_placeholders():
    fields = re.compile(r"{(\w+)}")
    folder = resources.files("royalroad.i18n")
    own = tomllib.loads(folder.joinpath("plan.toml").read_text("utf-8"))
    assert len(own) > 150
    for key, entry in own.items():
        assert set(entry) == {"en", "ja"}, key
        assert set(fields.findall(entry["en"])) == set(fields.findall(entry["ja"])), key
    others = set()
    for f in folder.iterdir():
        if f.name.endswith(".toml") and f.name != "plan.toml":
            others |= set(tomllib.loads(f.read_text("utf-8")))
    assert not set(own) & others


def test_cli_no_amount_in_the_data_asks_for_won_amount(hand, tmp_path):
    """The won leads carry no amount: one line naming --won-amount, not a word on the rates."""
    _, leads, events = hand
    no_amount = tmp_path / "leads.csv"
    pd.read_csv(leads).drop(columns=["amount"]).to_csv(no_amount, index=False)
    args = ["--leads", no_amount, "--events", events, "--as-of", AS_OF, "--lang", "en"]
    result = run("plan", *args, "--target", "1e7", "--goal", "技術打合せ")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert lines[-1] == (
        "error: plan: the won leads have no amount; give the mean amount of a won deal "
        "with --won-amount (e.g. --won-amount 5000000)"
    ), result.stderr
    assert [x for x in lines if not x.startswith("[")] == lines[-1:]  # step lines aside
    given = run("plan", *args, "--target", "1e7", "--goal", "技術打合せ", "--won-amount", "1e6")
    assert given.exit_code == 0, given.stderr
