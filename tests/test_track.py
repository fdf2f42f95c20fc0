"""Tracking pace against a hand-made plan file on the hand-counted fixture of test_plan.

The fixture's 40 leads (created one a day from 2024-06-02, all closed) give, counted by
hand: June 29 new leads and 19 goals (技術打合せ ten days after creation, leads 1–19),
July 11 new leads, 1 goal and 19 wins for 34,000,000 (15 × 2M on day 40 from creation,
4 × 1M on day 30). The data end on 2024-12-01 00:00.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from test_plan import AS_OF, hand_files, month_shape_by_hand, run

import royalroad as rr
from royalroad.analysis.track import PlanFile, load_plan


@pytest.fixture(scope="module")
def hand(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hand")
    leads, events = hand_files(folder)
    ws = rr.ingest(leads=leads, events=events, as_of=AS_OF)
    yield ws, leads, events, folder
    ws.close()


def _month(period: str, **planned) -> dict:
    return {"period": period, "start": period, "end": period, "in_target": True, **planned}


def hand_plan(target: float, months: list[str], leads=10.0, goals=5.0, wins=4.0, rev=7e6) -> dict:
    """A plan file written by hand: the same numbers every month."""
    return {
        "kind": "royalroad.plan",
        "target": target,
        "period": {"start": months[0], "end": months[-1], "by": "month"},
        "goal": {"activity": "技術打合せ", "then": None, "min_count": 1, "within_days": None},
        "leads_per_month": leads,
        "creation_months": {"first": months[0], "last": months[-1]},
        "periods": [_month(m, leads=leads, goals=goals, wins=wins, revenue=rev) for m in months],
    }


def test_actuals_per_month_equal_a_pandas_recount(hand):
    ws, leads_csv, events_csv, _ = hand
    months = ["2024-06", "2024-07", "2024-08"]
    result = rr.track(ws, hand_plan(40e6, months))
    leads = pd.read_csv(leads_csv, parse_dates=["created_at", "closed_at"])
    events = pd.read_csv(events_csv, parse_dates=["ts"])
    created = leads.created_at.dt.strftime("%Y-%m").value_counts()
    goals = events[events.activity == "技術打合せ"].ts.dt.strftime("%Y-%m").value_counts()
    won = leads[leads.outcome == "won"]
    wins = won.closed_at.dt.strftime("%Y-%m").value_counts()
    revenue = won.groupby(won.closed_at.dt.strftime("%Y-%m")).amount.sum()
    for p in result.periods:
        assert p.status == "done" and p.elapsed == 1
        assert p.actual_leads == created.get(p.period, 0)
        assert p.actual_goals == goals.get(p.period, 0)
        assert p.actual_wins == wins.get(p.period, 0)
        assert p.actual_revenue == revenue.get(p.period, 0)
    by = {p.period: p for p in result.periods}
    # and by hand
    assert (by["2024-06"].actual_leads, by["2024-07"].actual_leads) == (29, 11)
    assert (by["2024-06"].actual_goals, by["2024-07"].actual_goals) == (19, 1)
    assert (by["2024-07"].actual_wins, by["2024-07"].actual_revenue) == (19, 34e6)
    # pace: actual ÷ planned so far (three months done)
    assert result.pace["leads"] == pytest.approx(40 / 30)
    assert result.pace["goals"] == pytest.approx(20 / 15)
    assert result.pace["wins"] == pytest.approx(19 / 12)
    assert result.pace["revenue"] == pytest.approx(34e6 / 21e6)
    # nothing left to happen in the period: the projection is what was booked
    assert result.projected["revenue"] == pytest.approx(34e6)
    assert result.p_reach_target == 0.0
    assert result.gap["shortfall"] == pytest.approx(6e6)
    assert result.gap["remaining_months"] == 0
    assert "too little time is left" in result.sentence("en")


def test_behind_plan_says_goals_per_remaining_month(hand):
    ws, *_ = hand
    months = [f"2024-{m:02d}" for m in range(7, 13)] + ["2025-01", "2025-02", "2025-03"]
    target = 100e6
    result = rr.track(ws, hand_plan(target, months))
    # by hand, from the fixture's rates (P(goal | lead) .5, P(win | goal) .75,
    # P(win | no goal) .2, mean won amount 34M/19) and lag shapes
    mu, rate, g, w1 = 34e6 / 19, 0.475, 0.5, 0.75
    win, goal = month_shape_by_hand()
    k0, k1, k2 = win
    # the plan's 10 new leads a month still to come: December … March (months 0 … 3)
    reach = (k0 + k1 + k2) + (k0 + k1 + k2) + (k0 + k1) + k0
    expected_new = 10 * rate * reach
    assert result.projected["from_new_leads"] == pytest.approx(mu * expected_new)
    assert result.projected["booked_revenue"] == 34e6
    assert result.projected["revenue"] == pytest.approx(34e6 + mu * expected_new)
    shortfall = target - 34e6 - mu * expected_new
    assert result.gap["shortfall"] == pytest.approx(shortfall)
    assert result.gap["extra_wins"] == pytest.approx(shortfall / mu)
    # a goal reached in month m closes by March with the goal → win lag: all of it from
    # December to February, 1/30 of it in March (the lag is 30 days: 29.5 from the goal)
    closes = 3 + 1 / 30
    extra = shortfall / (mu * w1 * closes)
    assert result.gap["extra_goals_per_month"] == pytest.approx(extra)
    # the goals the plan's new leads are expected to reach anyway, per remaining month
    expected_goals = 10 * g * (goal[0] + 1 + 1 + 1) / 4
    assert result.gap["goals_per_month_expected"] == pytest.approx(expected_goals)
    assert result.gap["goals_per_month_needed"] == pytest.approx(expected_goals + extra)
    assert result.gap["goals_per_month_planned"] == pytest.approx(5)
    assert result.gap["remaining_months"] == 4
    text = result.sentence("en")
    assert f"{expected_goals + extra:,.1f} × 技術打合せ a month over the months left (4;" in text
    assert "挽回には残り 4 か月" in result.sentence("ja")
    statuses = [p.status for p in result.periods]
    assert statuses == ["done"] * 5 + ["ahead"] * 4
    assert not result.on_track


def test_a_plan_from_plan_round_trips_into_track(hand):
    ws, *_ = hand
    p = rr.plan(ws, target=20e6, period="2025-01..2025-03", goal="技術打合せ")
    result = rr.track(ws, json.loads(p.to_json()))
    assert [r.period for r in result.periods] == [x.period for x in p.periods]
    assert all(r.status == "ahead" for r in result.periods)
    # nothing has happened yet: the projection is the plan's own expectation
    assert result.projected["revenue"] == pytest.approx(p.projection["revenue"])
    assert result.p_reach_target == pytest.approx(p.p_reach_target)
    assert math.isclose(result.gap["shortfall"], 20e6 - p.projection["revenue"], abs_tol=1e-3)


def test_plan_file_checks(tmp_path):
    good = hand_plan(1e7, ["2025-01"])
    assert PlanFile.from_dict(good).target == 1e7
    for broken, detail in (
        ({**good, "kind": "something"}, "kind"),
        ({k: v for k, v in good.items() if k != "periods"}, "periods"),
        ({**good, "period": {"start": "2025-13", "end": "2025-14"}}, "InputError"),
        ({**good, "target": -1}, "target"),
    ):
        with pytest.raises(rr.InputError, match=detail):
            PlanFile.from_dict(broken, "p.json")
    (tmp_path / "p.json").write_text("[1, 2]")
    with pytest.raises(rr.InputError, match=r"--plan .*p.json: not a royalroad plan file"):
        load_plan(tmp_path / "p.json")
    with pytest.raises(rr.InputError, match="file not found"):
        load_plan(tmp_path / "missing.json")


def test_cli_track_table_json_and_bad_plan_file(hand, tmp_path):
    ws, leads, events, _ = hand
    months = [f"2024-{m:02d}" for m in range(7, 13)] + ["2025-01", "2025-02", "2025-03"]
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps(hand_plan(100e6, months)), encoding="utf-8")
    files = ["--leads", leads, "--events", events, "--as-of", AS_OF]
    out = run("track", *files, "--plan", plan_file, "--format", "json", "-q")
    assert out.exit_code == 0, out.stderr
    d = json.loads(out.stdout)
    assert d["kind"] == "royalroad.track" and len(d["periods"]) == 9
    again = run("track", *files, "--plan", plan_file, "--format", "json", "-q")
    assert again.stdout == out.stdout
    for lang, words in (("en", "Behind plan by"), ("ja", "計画に")):
        table = run("track", *files, "--plan", plan_file, "--lang", lang)
        assert table.exit_code == 0, table.stderr
        assert words in table.stdout and "2024-07" in table.stdout
    not_plan = tmp_path / "results.json"
    not_plan.write_text(json.dumps({"goals": {}}), encoding="utf-8")
    for path, message in (
        (not_plan, "not a royalroad plan file"),
        (tmp_path / "nope.json", "file not found"),
    ):
        bad = run("track", *files, "--plan", path, "--lang", "en")
        assert bad.exit_code == 2
        lines = bad.stderr.strip().splitlines()
        assert len(lines) == 1 and message in lines[0] and "--plan" in lines[0]
    needs = run("track", "--plan", plan_file, "--lang", "en")
    assert needs.exit_code == 2 and "track needs the current data" in needs.stderr


def test_too_late_when_less_than_a_week_is_left(hand):
    ws, *_ = hand
    # the data end on 2024-12-01 00:00: a period ending in November is over
    result = rr.track(ws, hand_plan(100e6, ["2024-10", "2024-11"]))
    assert result.gap["remaining_months"] == 0
    assert result.gap["goals_per_month_needed"] is None
    assert "too little time is left" in result.sentence("en")
    assert "PlanResult" not in repr(result) and "pace_revenue=0%" in repr(result)


def test_elapsed_share_of_the_current_month(hand):
    from datetime import datetime

    from royalroad.analysis.track import _elapsed

    march = 2025 * 12 + 2
    assert _elapsed(march, datetime(2025, 3, 1)) == 0
    assert _elapsed(march, datetime(2025, 3, 16, 12)) == pytest.approx(15.5 / 31)
    assert _elapsed(march, datetime(2025, 4, 1)) == 1
    assert np.isclose(_elapsed(march - 1, datetime(2025, 3, 16)), 1)
