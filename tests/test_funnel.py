"""The funnel, checked against computations made here, never against its own output.

* A hand-made log of six leads whose strict and any-stage counts, drop-offs and
  medians are counted by hand (an event after the close never counts).
* The simulator's CSVs: every stage's leads, conversions, medians and Wilson intervals
  equal a plain pandas recount (strict: a loop that walks each journey in order;
  any-stage: first occurrences) with statsmodels' Wilson interval.
* The censored rates equal a small Aalen–Johansen written here on one row per lead, and
  their intervals a Wilson interval at the effective sample size from statsmodels'
  standard error; cohorts, segments and pipeline velocity are recounted by hand.
* The command line: JSON and tables in English and Japanese, a bad ``--stages`` in one
  line with exit code 2, byte-identical reruns.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from statsmodels.duration.survfunc import CumIncidenceRight
from statsmodels.stats.proportion import proportion_confint
from typer.testing import CliRunner

import royalroad as rr
from royalroad.analysis.journeys import START, WON
from royalroad.cli import app
from royalroad.errors import InputError

DAY = 86400.0
TOL = 1e-9


def run(*args):
    result = CliRunner().invoke(app, list(args))
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    return result


def wilson(k: int, n: int) -> tuple[float, float]:
    lo, hi = proportion_confint(k, n, method="wilson")
    return float(lo), float(hi)


# ---------------------------------------------------------------- a hand-made log

LEADS = """lead_id,created_at,outcome,closed_at,amount
L1,2024-01-01 10:00:00,won,2024-02-01 10:00:00,100
L2,2024-01-01 10:00:00,lost,2024-03-01 10:00:00,
L3,2024-01-01 10:00:00,open,,
L4,2024-01-01 10:00:00,won,2024-01-20 10:00:00,300
L5,2024-01-01 10:00:00,lost,2024-01-15 10:00:00,
L6,2024-01-01 10:00:00,open,,
"""
EVENTS = """lead_id,activity,ts
L1,A,2024-01-02 10:00:00
L1,B,2024-01-05 10:00:00
L1,C,2024-01-10 10:00:00
L2,B,2024-01-03 10:00:00
L2,A,2024-01-04 10:00:00
L2,C,2024-01-06 10:00:00
L3,A,2024-01-02 10:00:00
L3,B,2024-01-12 10:00:00
L4,A,2024-01-03 10:00:00
L4,C,2024-01-08 10:00:00
L4,B,2024-01-19 10:00:00
L5,A,2024-01-20 10:00:00
"""
# By hand, stages A → B → C:
#   strict: A by L1–L4 (L5's A comes after its close); B after A by L1, L3, L4 (L2 did B
#   before A); C after that B by L1 only (L4's C came before its B); won after C: L1.
#   any: A by L1–L4; B by L1–L4; C by L1, L2, L4; won L1, L4.
#   strict days: A from creation 1, 3, 1, 2 → 1.5; B from A 3, 10, 16 → 10; C from B 5;
#   the win from C 22 (L1: 10 Jan → 1 Feb).
#   any: B after A (in order) L1 3, L3 10, L4 16 (L2's B came first) → 10; C after B:
#   L1 5, L2 3 → 4; the win after C: L1 22, L4 12 → 17.
#   velocity: 2 open × 2/4 won × 200 mean won amount ÷ 25 median days (31, 19).


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("tiny")
    (tmp / "leads.csv").write_text(LEADS, encoding="utf-8")
    (tmp / "events.csv").write_text(EVENTS, encoding="utf-8")
    ws = rr.ingest(leads=tmp / "leads.csv", events=tmp / "events.csv", as_of="2024-06-30", tz="UTC")
    yield ws
    ws.close()


def test_hand_counted_strict_funnel(tiny):
    f = rr.funnel(tiny, ["A", "B", "C"], mode="strict")
    assert [s.stage for s in f.stages] == [START, "A", "B", "C", WON]
    assert [s.leads for s in f.stages] == [6, 4, 3, 1, 1]
    assert [s.drop_off for s in f.stages] == [None, 2, 1, 2, 0]
    assert [s.converted for s in f.stages] == [None, 4, 3, 1, 1]
    assert [s.median_days for s in f.stages] == [None, 1.5, 10.0, 5.0, 22.0]
    a = f.stage("A")
    assert (a.won, a.lost, a.open) == (2, 1, 1)
    assert a.win_rate == pytest.approx(2 / 3)
    assert a.step_rate_ci == pytest.approx(wilson(4, 6), abs=TOL)
    assert f.stage(WON).cumulative_rate == pytest.approx(1 / 6)
    v = f.velocity
    assert (v.open_leads, v.won, v.lost, v.amount_n) == (2, 2, 2, 2)
    assert v.mean_won_amount == 200 and v.median_cycle_days == 25
    assert v.per_day == pytest.approx(2 * 0.5 * 200 / 25)
    lo, hi = wilson(2, 4)
    assert v.per_day_range == pytest.approx((2 * lo * 200 / 25, 2 * hi * 200 / 25))


def test_hand_counted_any_stage_funnel(tiny):
    f = rr.funnel(tiny, ["A", "B", "C"], mode="any")
    assert [s.leads for s in f.stages] == [6, 4, 4, 3, 2]
    assert [s.converted for s in f.stages] == [None, 4, 4, 3, 2]
    assert [s.drop_off for s in f.stages] == [None, 2, 0, 1, 1]
    assert [s.median_days for s in f.stages] == [None, 1.5, 10.0, 4.0, 17.0]
    assert f.stage(WON).step_rate == pytest.approx(2 / 3)
    assert f.custom and f.sources == ()


def test_bad_options_are_one_line_input_errors(tiny):
    with pytest.raises(InputError, match=r"^--stages: 'X' is not an activity .*: A, B, C$"):
        rr.funnel(tiny, ["A", "X"])
    with pytest.raises(InputError, match=r"^--stages: 'A' is listed twice"):
        rr.funnel(tiny, ["A", "B", "A"])
    with pytest.raises(InputError, match=r"^--mode: 'loose' is not a funnel mode"):
        rr.funnel(tiny, ["A"], mode="loose")
    with pytest.raises(InputError, match=r"^--within: '0, 30' must be positive"):
        rr.funnel(tiny, ["A"], within=[0, 30])
    with pytest.raises(InputError, match=r"^--cohort: 'week' is not a cohort period"):
        rr.funnel(tiny, ["A"], cohort="week")
    with pytest.raises(InputError, match=r"^--by: 'colour' is not a lead column"):
        rr.funnel(tiny, ["A"], by="colour")


# ---------------------------------------------------------------- simulated data


@pytest.fixture(scope="module")
def sim(ingested):
    """3,000 simulated manufacturing leads in a workspace file, the goal and the road."""
    path = ingested("manufacturing", 3000, 5)
    tmp = path.parent
    ws = rr.open_workspace(path, read_only=True)  # the CLI reads it too
    goals = rr.discover_goals(ws, pairs=6)
    paths = rr.analyse_paths(ws, goals=goals)
    yield tmp, ws, goals, paths
    ws.close()


@pytest.fixture(scope="module")
def strict(sim):
    """The default funnel: the royal road's milestones, strict."""
    _, ws, goals, paths = sim
    return rr.funnel(ws, goals=goals, paths=paths)


@pytest.fixture(scope="module")
def frames(sim):
    """The CSVs as the funnel should see them: events strictly before the close and not
    after the as-of time, in file order within equal timestamps."""
    tmp, ws, *_ = sim
    leads = pd.read_csv(tmp / "leads.csv", parse_dates=["created_at", "closed_at"])
    ev = pd.read_csv(tmp / "events.csv", parse_dates=["ts"])
    ev["row"] = np.arange(len(ev))
    ev = ev.merge(leads[["lead_id", "outcome", "closed_at"]], on="lead_id")
    after_close = ev.outcome.isin(["won", "lost"]) & (ev.ts >= ev.closed_at)
    ev = ev[~after_close & (ev.ts <= ws.as_of)].sort_values(["lead_id", "ts", "row"])
    return leads.set_index("lead_id"), ev


def reach_times(leads: pd.DataFrame, ev: pd.DataFrame, stages: list[str], mode: str):
    """Per lead, when it reached each stage: strict walks the journey in order (the
    earliest way through the stages); any takes each stage's first occurrence."""
    ev = ev[ev.activity.isin(stages)]
    if mode == "any":
        first = ev.groupby(["lead_id", "activity"]).ts.min().unstack()
        return first.reindex(index=leads.index, columns=stages)
    found: dict[str, dict] = {}
    j, lead = 0, None
    for lid, a, ts in zip(ev.lead_id, ev.activity, ev.ts, strict=True):  # in journey order
        if lid != lead:
            j, lead = 0, lid
        if j < len(stages) and a == stages[j]:
            found.setdefault(a, {})[lid] = ts
            j += 1
    return pd.DataFrame(
        {a: pd.Series(found.get(a, {}), dtype="datetime64[ns]") for a in stages}
    ).reindex(leads.index)


def recount(leads: pd.DataFrame, times: pd.DataFrame, stages: list[str], mode: str):
    """Per stage (start, stages, won): reached flags and times, as pandas sees them."""
    reached = [pd.Series(True, index=leads.index)]
    at = [leads.created_at]
    for s in stages:
        reached.append(times[s].notna())
        at.append(times[s])
    won = leads.outcome == "won"
    if mode == "strict" and stages:
        won = won & times[stages[-1]].notna()
    reached.append(won)
    at.append(leads.closed_at)
    return reached, at


@pytest.mark.parametrize("mode", ["strict", "any"])
def test_funnel_equals_a_pandas_recount(sim, frames, mode):
    _, ws, goals, paths = sim
    leads, ev = frames
    f = rr.funnel(ws, mode=mode, goals=goals, paths=paths)
    stages = [s.stage for s in f.stages[1:-1]]
    road = [s.activity for s in paths.royal_road if s.activity != WON]
    assert stages == [a for a in road if a not in f.sources] and len(stages) >= 3
    assert f.goal_stage == goals.recommended.activity and f.stage(f.goal_stage).is_goal
    reached, at = recount(leads, reach_times(leads, ev, stages, mode), stages, mode)
    n0 = len(leads)
    for i, s in enumerate(f.stages):
        r = reached[i]
        assert s.leads == int(r.sum()), s.stage
        for o in ("won", "lost", "open"):
            assert getattr(s, o) == int((r & (leads.outcome == o)).sum()), (s.stage, o)
        assert s.cumulative_rate == pytest.approx(r.sum() / n0, abs=TOL)
        assert s.cumulative_rate_ci == pytest.approx(wilson(int(r.sum()), n0), abs=TOL)
        closed = int((r & leads.outcome.isin(["won", "lost"])).sum())
        assert s.win_rate_ci == pytest.approx(wilson(s.won, closed), abs=TOL)
        from_start = (at[i][r] - leads.created_at[r]).dt.total_seconds() / DAY
        if i:
            assert s.median_days_from_start == pytest.approx(from_start.median(), abs=1e-6)
            prev = reached[i - 1]
            both = r & prev
            assert (s.previous, s.converted) == (int(prev.sum()), int(both.sum())), s.stage
            assert s.drop_off == int((prev & ~r).sum())
            assert s.step_rate == pytest.approx(both.sum() / prev.sum(), abs=TOL)
            assert s.step_rate_ci == pytest.approx(wilson(int(both.sum()), int(prev.sum())))
            gap = (at[i] - at[i - 1])[both].dt.total_seconds() / DAY
            assert s.median_days == pytest.approx(gap[gap >= 0].median(), abs=1e-6), s.stage
    if mode == "strict":  # in order, every stage is a subset of the one before
        assert all(s.converted == s.leads for s in f.stages[1:])


def test_sources_left_out_open_the_journeys_they_are_in(strict, frames):
    f = strict
    leads, ev = frames
    assert f.sources, "the manufacturing road starts at the trade show"
    first = ev.groupby("lead_id").activity.first()
    for a in [*f.sources, *(s.stage for s in f.stages[1:-1])]:
        did = ev.loc[ev.activity == a, "lead_id"].unique()
        opened = (first.loc[did] == a).mean()
        assert (opened >= 0.9) == (a in f.sources), (a, opened)


# ---------------------------------------------------------------- censored rates


def aalen_johansen(t: np.ndarray, status: np.ndarray, horizon: float) -> float | None:
    """Cumulative incidence of status 1 by ``horizon`` (2 competes, 0 is censored), one row
    per lead; None when nobody has been followed that long and the story is unfinished."""
    surv, cif, by_horizon = 1.0, 0.0, 0.0
    for x in np.unique(t):
        at_risk = (t >= x).sum()
        d1 = ((t == x) & (status == 1)).sum()
        d2 = ((t == x) & (status == 2)).sum()
        cif += surv * d1 / at_risk
        surv *= 1 - (d1 + d2) / at_risk
        if x <= horizon:
            by_horizon = cif
    return by_horizon if (t.max() >= horizon or surv == 0) else None


def timeline(origin, hit, at, leads, as_of):
    """Whole days and status per lead: the event at the day it falls in, a close without
    it competing, an open lead censored after the whole days it was observed."""
    closed = leads.outcome.isin(["won", "lost"])
    days = np.where(
        hit,
        np.ceil((at - origin).dt.total_seconds() / DAY),
        np.where(
            closed,
            np.ceil((leads.closed_at - origin).dt.total_seconds() / DAY),
            np.floor((as_of - origin).dt.total_seconds() / DAY),
        ),
    )
    status = np.where(hit, 1, np.where(closed, 2, 0))
    return np.maximum(days, 0), status


def check_within(items, t, status, n, horizons=(30, 90, 180)):
    with np.errstate(divide="ignore", invalid="ignore"):
        ref = CumIncidenceRight(t, status) if (status == 1).any() else None
    for w, h in zip(items, horizons, strict=True):
        expected = aalen_johansen(t, status, h)
        if expected is None:
            assert w.rate is None and w.ci is None, h
            continue
        assert w.rate == pytest.approx(expected, abs=TOL), h
        idx = np.searchsorted(ref.times, h, side="right") - 1 if ref is not None else -1
        se = float(ref.cinc_se[0][idx]) if idx >= 0 else 0.0
        if not math.isfinite(se):
            # statsmodels has no standard error once every lead still at risk has the
            # event (its Greenwood term divides by zero); royalroad drops that term
            lo, hi = w.ci
            plain = wilson(expected * n, n)
            assert lo <= expected <= hi and lo <= plain[0] + TOL and hi >= plain[1] - TOL, h
            continue
        n_eff = min(n, expected * (1 - expected) / se**2) if se > 0 and 0 < expected < 1 else n
        assert w.ci == pytest.approx(wilson(expected * n_eff, n_eff), abs=1e-7), h


def test_standard_error_of_the_cumulative_incidence_matches_statsmodels():
    from royalroad import stats

    rng = np.random.default_rng(11)
    t = rng.integers(0, 90, size=500).astype(float)  # whole days: many ties
    status = rng.choice([0, 1, 2], p=[0.4, 0.35, 0.25], size=500)
    t[status == 0] += 5  # censoring last, so every time keeps someone at risk
    ref = CumIncidenceRight(t, status)
    times = np.unique(t)
    count = [np.array([((t == x) & (status == k)).sum() for x in times]) for k in (1, 2, 0)]
    se = stats.aalen_johansen_se(times, *count)
    at = np.isin(times, ref.times)
    np.testing.assert_allclose(se[at], ref.cinc_se[0], atol=TOL)


def test_censored_stage_rates_equal_an_independent_cumulative_incidence(sim, strict, frames):
    ws = sim[1]
    leads, ev = frames
    f = strict
    stages = [s.stage for s in f.stages[1:-1]]
    reached, at = recount(leads, reach_times(leads, ev, stages, "strict"), stages, "strict")
    as_of = pd.Timestamp(ws.as_of)
    for i, s in enumerate(f.stages[1:], start=1):
        t, status = timeline(leads.created_at, reached[i], at[i], leads, as_of)
        check_within(s.cumulative_within, t, status, len(leads))
        if i > 1:
            base = reached[i - 1]
            sub = leads[base]
            t, status = timeline(at[i - 1][base], reached[i][base], at[i][base], sub, as_of)
            check_within(s.step_within, t, status, len(sub))
    # a young stage rate is not read as a worse one: censoring lifts the plain rate
    goal = f.stage(f.goal_stage)
    assert goal.step_within[-1].rate > goal.step_rate


def test_censored_step_rates_recover_the_planted_stage_conversions(sim, strict):
    tmp = sim[0]
    planted = json.loads((tmp / "truth.json").read_text(encoding="utf-8"))["planted_rates"]
    for activity, rate in planted["stage_conversion"].items():
        w = strict.stage(activity).step_within[-1]
        assert w.ci[0] <= rate <= w.ci[1], (activity, rate, w)
        assert strict.stage(activity).step_rate < w.rate  # open leads held it down


def test_cohorts_and_segments_equal_a_recount(sim, frames):
    _, ws, goals, paths = sim
    leads, ev = frames
    g = goals.recommended
    assert (g.then, g.min_count, g.within_days) == (None, 1, None)  # reach = first occurrence
    f = rr.funnel(ws, goals=goals, paths=paths, by="industry", cohort="quarter")
    first_goal = ev[ev.activity == g.activity].groupby("lead_id").ts.min()
    goal_ts = leads.index.map(first_goal)
    as_of = pd.Timestamp(ws.as_of)
    quarter = leads.created_at.dt.year.astype(str) + "-Q" + leads.created_at.dt.quarter.astype(str)
    for items, key in ((f.cohorts, quarter), (f.segments, leads.industry)):
        assert [c.group for c in items] == sorted(key.unique())
        for c in items:
            part = leads[key == c.group]
            assert (c.leads, c.won, c.lost, c.open) == (
                len(part),
                int((part.outcome == "won").sum()),
                int((part.outcome == "lost").sum()),
                int((part.outcome == "open").sum()),
            )
            hit = pd.Series(goal_ts, index=leads.index)[key == c.group]
            assert c.reached_goal == int(hit.notna().sum())
            t, status = timeline(part.created_at, hit.notna(), hit, part, as_of)
            check_within(c.goal_within, t, status, len(part))
            won = part.outcome == "won"
            t, status = timeline(part.created_at, won, part.closed_at, part, as_of)
            check_within(c.win_within, t, status, len(part))
    assert f.cohorts[-1].win_within[-1].rate is None  # the youngest quarter: not yet


def test_velocity_parts_by_hand(strict, frames):
    leads, _ = frames
    v = strict.velocity
    won = leads[leads.outcome == "won"]
    lost = (leads.outcome == "lost").sum()
    cycle = ((won.closed_at - won.created_at).dt.total_seconds() / DAY).median()
    rate = len(won) / (len(won) + lost)
    assert v.open_leads == (leads.outcome == "open").sum()
    assert v.win_rate == pytest.approx(rate) and v.win_rate_ci == pytest.approx(
        wilson(len(won), len(won) + lost)
    )
    assert v.mean_won_amount == pytest.approx(won.amount.mean())
    assert v.median_cycle_days == pytest.approx(cycle, abs=1e-6)
    assert v.per_day == pytest.approx(v.open_leads * rate * won.amount.mean() / cycle)


def test_result_views(strict):
    f = strict
    assert repr(f).startswith("FunnelResult(strict: all leads 3,000 → ")
    assert "<table" in f._repr_html_() and "★" in f._repr_html_()
    frame = f.to_frame()
    assert list(frame.stage) == [s.stage for s in f.stages]
    assert {"step_rate_ci_low", "cumulative_within_90", "step_within_180"} <= set(frame.columns)
    assert len(f.cohorts_frame()) == len(f.cohorts)
    d = f.to_dict()
    assert json.loads(json.dumps(d, allow_nan=False)) == d  # no NaN in JSON
    assert d["stages"][0]["step_rate"] is None and d["mode"] == "strict"


# ---------------------------------------------------------------- the command line


def test_cli_json_is_the_api_result_in_any_language_byte_identical(sim, strict):
    tmp, *_ = sim
    args = ("funnel", "-w", str(tmp / "ws.duckdb"), "--format", "json", "-q")
    en, ja = run(*args, "--lang", "en"), run(*args, "--lang", "ja")
    assert en.exit_code == 0 and ja.exit_code == 0, en.stderr + ja.stderr
    assert en.stdout == ja.stdout  # no translated text in JSON: byte-identical reruns
    data = json.loads(en.stdout)
    assert data == json.loads(strict.to_json())
    for row in data["stages"]:
        assert {"stage", "leads", "step_rate", "step_rate_ci", "cumulative_rate"} <= set(row)
        assert "median_days" in row and "cumulative_rate_ci" in row and "drop_off" in row
    assert {"cohorts", "velocity", "mode", "sources_left_out"} <= set(data)
    assert data["goal"] == {
        "activity": "技術打合せ",
        "then": None,
        "min_count": 1,
        "within_days": None,
    }


def test_cli_table_in_english_and_japanese(sim):
    tmp, *_ = sim
    base = ("funnel", "-w", str(tmp / "ws.duckdb"), "--stages", "資料送付,技術打合せ,見積依頼")
    en = run(*base, "--mode", "any", "--by", "industry", "--lang", "en")
    assert en.exit_code == 0, en.stderr
    for text in ("Funnel", "all leads → 資料送付 → 技術打合せ ★ → 見積依頼 → won", "By day 90"):
        assert text in en.stdout
    assert "Any-stage funnel" in en.stdout and "Pipeline velocity:" in en.stdout
    ja = run(*base, "--lang", "ja", "--cohort", "quarter")
    assert ja.exit_code == 0, ja.stderr
    for text in (
        "ファネル",
        "全リード → 資料送付",
        "厳密モード",
        "作成四半期別",
        "パイプライン速度",
    ):
        assert text in ja.stdout


def test_cli_bad_stages_is_one_line_exit_2(sim):
    tmp, *_ = sim
    result = run("funnel", "-w", str(tmp / "ws.duckdb"), "--stages", "資料送付,技術打合")
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: --stages: '技術打合' is not an activity in the events")
    assert "技術打合せ" in result.stderr
    bad = run("funnel", "-w", str(tmp / "ws.duckdb"), "--within", "30,x")
    assert bad.exit_code == 2 and bad.stderr.startswith("error: --within: '30,x'")


def test_report_section_is_deterministic_and_escapes_stage_names(strict):
    from dataclasses import replace

    from royalroad.report.html import _env
    from royalroad.report.sections_funnel import funnel as section

    f = strict
    evil = replace(f, stages=(replace(f.stages[1], stage="<script>x</script>"), *f.stages[2:]))
    for lang in ("en", "ja"):
        s = section(evil, lang)
        html = _env().get_template(s.template).render(s=s, _=lambda k, **p: k, lang=lang, aid="")
        assert "<script>x" not in html and "&lt;script&gt;x" in html
        again = (
            _env()
            .get_template(s.template)
            .render(s=section(evil, lang), _=lambda k, **p: k, lang=lang, aid="")
        )
        assert html == again
        assert s.funnel_chart is not None and "<script>" not in json.dumps(s.funnel_chart.figure)


def test_censored_rates_are_none_where_nobody_was_followed_long_enough():
    # 3 leads created 10 days before the as-of date, none closed: nothing is known at 30
    from royalroad.analysis.funnel import incidence_estimate

    g = pd.DataFrame({"t": [3, 10], "status": ["event", "censored"], "n": [1, 2]})
    est = incidence_estimate(g, (5, 10, 30))
    assert [w.rate for w in est["within"]][:2] == pytest.approx([1 / 3, 1 / 3])
    assert est["within"][2].rate is None and (est["event"], est["censored"]) == (1, 2)
    done = pd.DataFrame({"t": [3, 10], "status": ["event", "competing"], "n": [1, 2]})
    assert incidence_estimate(done, (30,))["within"][0].rate == pytest.approx(1 / 3)


def test_funnel_messages_exist_in_both_languages_with_the_same_placeholders():
    import re
    import tomllib
    from importlib import resources
    from pathlib import Path

    from royalroad.i18n import catalogue

    fields = re.compile(r"{(\w+)}")
    text = resources.files("royalroad.i18n").joinpath("funnel.toml").read_text(encoding="utf-8")
    entries = tomllib.loads(text)
    assert len(entries) > 80 and set(entries) <= set(catalogue())  # loaded once, no twin
    for key, entry in entries.items():
        assert set(entry) == {"en", "ja"}, key
        assert set(fields.findall(entry["en"])) == set(fields.findall(entry["ja"])), key
    used: set[str] = set()
    root = Path(rr.__file__).parent
    for path in root.rglob("*funnel*.py"):
        used |= set(re.findall(r'"(funnel\.[a-z_.]+)"', path.read_text(encoding="utf-8")))
    assert used and used <= set(catalogue()), used - set(catalogue())
