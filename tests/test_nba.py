"""Hand-off and next best action, and the royal road they rest on.

* A hand-made log (formula-like activity names and lead id on purpose) whose
  recommendations, win rates, evidence and stall flags are worked out by hand.
* Simulated scenarios with a planted goal: the royal road passes through it, the
  outcome proxies and the confounded activity are never recommended, open leads are
  sales-ready exactly when pandas finds the goal among their events, and leads that
  have not reached the goal are told to reach it.
* The CSV for CRM import parses back with :mod:`csv`; the ``next`` command writes it.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from typer.testing import CliRunner

import royalroad as rr
from royalroad.analysis import journeys as j
from royalroad.analysis.nba import CLOSE, next_best_actions
from royalroad.analysis.paths import activity_of, analyse_paths
from royalroad.presenters.nba_csv import write_next_csv
from royalroad.simulate import simulate

REQUIRED = ["lead_id", "status", "recommended_action", "expected_win_rate", "evidence_n", "stalled"]

# ---------------------------------------------------------------- a hand-made log

A, B, C = "=1+2", "-B", "@SUM(C1)"  # a spreadsheet would run each of these as a formula
LEADS = """\
lead_id,created_at,outcome,closed_at,amount
L1,2024-01-01 09:00:00,won,2024-01-10 09:00:00,100
L2,2024-01-01 09:00:00,lost,2024-01-10 09:00:00,100
L3,2024-01-01 09:00:00,open,,100
L4,2024-01-01 09:00:00,won,2024-01-05 09:00:00,100
L5,2024-01-02 09:00:00,open,,100
L6,2024-01-01 09:00:00,won,2024-01-06 09:00:00,100
@L7,2024-01-11 09:00:00,open,,100
"""
EVENTS = f"""\
lead_id,activity,ts
L2,{A},2024-01-02 09:00:00
L1,{A},2024-01-02 10:00:00
L1,{B},2024-01-03 09:00:00
L2,{C},2024-01-03 10:00:00
L2,{B},2024-01-03 10:00:00
L1,{B},2024-01-03 09:00:00
L3,{A},2024-01-02 09:00:00
L6,{A},2024-01-02 09:00:00
L1,{C},2024-01-04 09:00:00
L4,{A},2024-01-03 09:00:00
L4,{B},2024-01-02 09:00:00
L6,{C},2024-01-03 15:00:00
L3,{B},2024-01-04 12:00:00
L1,D,2024-01-12 09:00:00
L4,X,2024-01-05 09:00:00
"""
# By hand (see tests/test_journeys.py for the same log with plain names), goal C:
#   L1 A B C✓ → won, L2 A C✓ B✓ → lost, L3 A B (open), L4 B A → won, L6 A C✓ → won;
#   L5 and @L7 have no event.  P(win): start 89/120, A 3/4, B 17/24, C✓ 2/3, B✓ 0.
#   From start: A (4 leads, 3/4) beats B (1 lead, 17/24).  From B: A (L4, 3/4) beats
#   C✓ (L1, 2/3).  Waits before moving on: from B 24 h (L1, L4); from start 24–25 h.
#   As-of 2024-01-12 09:00: L3 idle 7.875 d (stalled), L5 10 d (stalled), @L7 1 d (not).
GOAL = SimpleNamespace(
    activity=C, then=None, min_count=1, within_days=None, label=lambda lang=None: C
)


@pytest.fixture(scope="module")
def hand(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hand_nba")
    (tmp / "leads.csv").write_text(LEADS, encoding="utf-8")
    (tmp / "events.csv").write_text(EVENTS, encoding="utf-8")
    ws = rr.ingest(leads=tmp / "leads.csv", events=tmp / "events.csv", workspace=tmp / "ws.duckdb")
    yield ws
    ws.close()


def test_hand_next_best_actions(hand):
    res = next_best_actions(hand, goal=GOAL, min_evidence=1)
    rows = {r["lead_id"]: r for r in res.leads.to_pylist()}
    assert list(rows) == ["@L7", "L3", "L5"]
    assert (res.sales_ready, res.nurture, res.stalled) == (0, 3, 2)
    l3, l5, l7 = rows["L3"], rows["L5"], rows["@L7"]
    assert (l3["status"], l3["current_step"]) == ("nurture", B)
    assert (l3["recommended_action"], l3["second_action"]) == (A, C)
    assert l3["expected_win_rate"] == pytest.approx(3 / 4, abs=1e-12)
    assert l3["current_win_rate"] == pytest.approx(17 / 24, abs=1e-12)
    assert (l3["evidence_n"], l3["stalled"]) == (1, True)
    assert l3["days_idle"] == pytest.approx(7.875)
    for r in (l5, l7):
        assert (r["current_step"], r["recommended_action"], r["second_action"]) == (
            None,
            A,
            B,
        )  # no event yet: no current step
        assert r["expected_win_rate"] == pytest.approx(3 / 4, abs=1e-12)
        assert r["current_win_rate"] == pytest.approx(89 / 120, abs=1e-12)
        assert r["evidence_n"] == 4
    assert (l5["days_idle"], l5["stalled"]) == (pytest.approx(10.0), True)
    assert (l7["days_idle"], l7["stalled"]) == (pytest.approx(1.0), False)
    advice = {a.state: a for a in res.advice}
    best = advice[j.START].best
    # start → A: L1 won, L2 lost, L6 won, L3 open → 2 of 3 closed won
    assert (best.activity, best.evidence_n, best.win_rate_after) == (A, 4, pytest.approx(2 / 3))
    assert best.gain == pytest.approx(3 / 4 - 89 / 120, abs=1e-12)
    assert advice[C + j.MARK].p_win == pytest.approx(2 / 3, abs=1e-12)


def test_hand_min_evidence_filters_thin_steps(hand):
    res = next_best_actions(hand, goal=GOAL, min_evidence=2)
    rows = {r["lead_id"]: r for r in res.leads.to_pylist()}
    # from B each step was taken by one lead only: no recommendation
    assert rows["L3"]["recommended_action"] is None and rows["L3"]["evidence_n"] is None
    assert (rows["L5"]["recommended_action"], rows["L5"]["second_action"]) == (A, None)


def test_hand_avoid_and_exclude(hand):
    res = next_best_actions(hand, goal=GOAL, min_evidence=1, avoid=[A])
    rows = {r["lead_id"]: r for r in res.leads.to_pylist()}
    # A avoided: from B only C✓ (2/3 < B's 17/24) is left, from start only B (17/24 < 89/120):
    # no step raises the odds, so the designed action is to ask for the decision
    assert (rows["L3"]["recommended_action"], rows["L3"]["second_action"]) == (CLOSE, C)
    assert (rows["L5"]["recommended_action"], rows["L5"]["second_action"]) == (CLOSE, B)
    assert rows["L3"]["expected_win_rate"] == pytest.approx(17 / 24, abs=1e-12)
    assert rows["L3"]["evidence_n"] == 0  # nobody closed straight from (unmarked) B
    assert A not in {r[c] for r in rows.values() for c in ("recommended_action", "second_action")}
    res = next_best_actions(hand, goal=GOAL, min_evidence=1, exclude=[B])
    assert B not in {r["recommended_action"] for r in res.leads.to_pylist()} | {
        r["second_action"] for r in res.leads.to_pylist()
    }


def _read_csv(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_hand_csv_is_formula_safe(hand, tmp_path):
    res = next_best_actions(hand, goal=GOAL, min_evidence=1)
    out = tmp_path / "next.csv"
    write_next_csv(res, out)
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel in Japan opens UTF-8 correctly
    rows = _read_csv(raw.decode("utf-8-sig"))
    header = next(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert header[:6] == REQUIRED
    by_id = {r["lead_id"]: r for r in rows}
    assert set(by_id) == {"'@L7", "L3", "L5"}
    l3 = by_id["L3"]
    assert (l3["status"], l3["recommended_action"], l3["second_action"], l3["current_step"]) == (
        "nurture",
        "'=1+2",
        "'@SUM(C1)",
        "'-B",
    )
    assert (l3["expected_win_rate"], l3["evidence_n"], l3["stalled"]) == ("0.7500", "1", "true")
    assert by_id["'@L7"]["stalled"] == "false"
    # no cell starts with a formula trigger
    for r in rows:
        for v in r.values():
            assert not v or v[0] not in "=+-@\t\r", v


# ---------------------------------------------------------------- simulated scenarios

RUNS = [
    pytest.param(("manufacturing", 3), id="manufacturing-3"),
    pytest.param(("saas", 3), id="saas-3"),
    pytest.param(("education", 3), id="education-3"),
    pytest.param(("consulting", 3), id="consulting-3"),
    pytest.param(("manufacturing", 17), id="manufacturing-17", marks=pytest.mark.slow),
    pytest.param(("saas", 17), id="saas-17", marks=pytest.mark.slow),
    pytest.param(("education", 17), id="education-17", marks=pytest.mark.slow),
    pytest.param(("consulting", 17), id="consulting-17", marks=pytest.mark.slow),
]


def pandas_truth(tmp: Path, goal: str) -> dict:
    """Recounted from the CSVs: base rate, goal reachers' win rate, open leads, who reached
    the goal."""
    leads = pd.read_csv(tmp / "leads.csv", parse_dates=["created_at", "closed_at"])
    events = pd.read_csv(tmp / "events.csv", parse_dates=["ts"])
    as_of = max(leads.created_at.max(), leads.closed_at.max(), events.ts.max())
    ev = events.merge(leads[["lead_id", "outcome", "closed_at"]], on="lead_id")
    closed = ev.outcome.isin(["won", "lost"])
    ev = ev[(closed & (ev.ts < ev.closed_at)) | (~closed & (ev.ts <= as_of))]
    reached = set(ev.lead_id[ev.activity == goal])
    cl = leads[leads.outcome != "open"]
    goal_cl = cl[cl.lead_id.isin(reached)]
    open_ids = leads.lead_id[leads.outcome == "open"].tolist()
    return {
        "base": float((cl.outcome == "won").mean()),
        "goal_win": float((goal_cl.outcome == "won").mean()),
        "open": open_ids,
        "ready": {i for i in open_ids if i in reached},
    }


@pytest.fixture(scope="module", params=RUNS)
def run(request, tmp_path_factory):
    from royalroad.analysis.goals import discover_goals

    scenario, seed = request.param
    tmp = tmp_path_factory.mktemp(f"{scenario}{seed}")
    data = simulate(scenario, leads=2500, seed=seed)
    data.write(tmp)
    ws = rr.ingest(leads=tmp / "leads.csv", events=tmp / "events.csv", workspace=tmp / "ws.duckdb")
    try:
        goals = discover_goals(
            ws, pairs=6, adjust=["industry"]
        )  # truth: the confounder is an industry
        proxies = [p.activity for p in goals.proxies]
        confounded = sorted(
            {c.activity for c in goals.candidates if c.confounded and c.then is None}
        )
        paths = analyse_paths(ws, goal=goals.recommended, exclude=proxies)
        nba = next_best_actions(ws, goal=goals.recommended, exclude=proxies, avoid=confounded)
    finally:
        ws.close()
    truth = data.truth
    return SimpleNamespace(
        tmp=tmp,
        truth=truth,
        goals=goals,
        proxies=proxies,
        confounded=confounded,
        paths=paths,
        nba=nba,
        hand=pandas_truth(tmp, truth["goal"]["activity"]),
    )


def test_royal_road_passes_the_planted_goal(run):
    goal = run.truth["goal"]["activity"]
    assert run.goals.recommended is not None and run.goals.recommended.activity == goal
    r = run.paths
    road = [s.activity for s in r.royal_road]
    assert r.through == (goal,)
    assert goal in road
    assert (r.royal_road[-1].activity, r.royal_road[-1].p_win_after) == (j.WON, 1.0)
    after = r.royal_road[road.index(goal)].p_win_after
    # far above the base rate, and (journeys after the goal form their own marked sub-chain)
    # equal to the win rate of closed leads that reached it, up to the censored open leads
    assert after > 1.5 * run.hand["base"], (after, run.hand["base"])
    assert after == pytest.approx(run.hand["goal_win"], abs=0.02)
    assert r.p_win_start == pytest.approx(run.hand["base"], abs=0.03)


def test_proxies_are_out_of_the_chain(run):
    proxies = set(run.truth["proxies"])
    r = run.paths
    assert proxies <= set(r.excluded)
    assert not {activity_of(s.state) for s in r.states} & proxies
    assert not set(r.removal_effects) & proxies
    assert not {s.activity for s in r.royal_road} & proxies


def test_open_leads_are_classified_like_pandas(run):
    t = run.nba.leads.to_pylist()
    assert sorted(r["lead_id"] for r in t) == sorted(run.hand["open"])
    ready = {r["lead_id"] for r in t if r["status"] == "sales_ready"}
    assert ready == run.hand["ready"]
    assert {r["status"] for r in t} <= {"sales_ready", "nurture"}
    assert (run.nba.sales_ready, run.nba.nurture) == (len(ready), len(t) - len(ready))


def test_nurture_leads_are_told_to_reach_the_goal(run):
    goal = run.truth["goal"]["activity"]
    rows = run.nba.leads.to_pylist()
    nurture = [r for r in rows if r["status"] == "nurture"]
    told = sum(r["recommended_action"] == goal for r in nurture)
    share = told / len(nurture)
    print(
        f"{run.truth['scenario']} seed {run.truth['seed']}: {told}/{len(nurture)} nurture leads "
        f"told to reach {goal} ({share:.1%})"
    )
    assert len(nurture) >= 100
    assert share >= 0.95
    for r in nurture:
        if r["recommended_action"] == goal:
            assert r["expected_win_rate"] == pytest.approx(run.hand["goal_win"], abs=0.02)
    # a lead that has reached the goal is never told to reach it again
    assert all(r["recommended_action"] != goal for r in rows if r["status"] == "sales_ready")


def test_proxies_and_confounders_are_never_recommended(run):
    confounders = {c["activity"] for c in run.truth["confounders"]}
    assert confounders <= set(run.confounded)
    banned = set(run.truth["proxies"]) | set(run.proxies) | set(run.confounded)
    for r in run.nba.leads.to_pylist():
        assert r["recommended_action"] not in banned, r
        assert r["second_action"] not in banned, r
    for a in run.nba.advice:
        for act in (a.best, a.second):
            assert act is None or act.activity not in banned


def test_csv_parses_back(run, tmp_path):
    out = tmp_path / "next.csv"
    write_next_csv(run.nba, out)
    text = out.read_bytes().decode("utf-8-sig")
    header = next(csv.reader(io.StringIO(text)))
    assert header[:6] == REQUIRED
    rows = _read_csv(text)
    table = {r["lead_id"]: r for r in run.nba.leads.to_pylist()}
    assert sorted(r["lead_id"] for r in rows) == sorted(run.hand["open"])
    for r in rows:
        t = table[r["lead_id"]]
        assert r["status"] == t["status"]
        assert r["stalled"] == ("true" if t["stalled"] else "false")
        if t["recommended_action"] is None:
            assert r["recommended_action"] == r["expected_win_rate"] == r["evidence_n"] == ""
            continue
        want = "(close)" if t["recommended_action"] == CLOSE else t["recommended_action"]
        assert r["recommended_action"] == want
        assert float(r["expected_win_rate"]) == pytest.approx(t["expected_win_rate"], abs=5e-5)
        assert int(r["evidence_n"]) == t["evidence_n"]
        if t["recommended_action"] != CLOSE:  # a step: taken by at least min_evidence leads
            assert t["evidence_n"] >= 10


# ---------------------------------------------------------------- the next command


@pytest.fixture(scope="module")
def cli_workspace(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli_next")
    data = simulate("education", leads=2000, seed=21)
    data.write(tmp)
    rr.ingest(
        leads=tmp / "leads.csv", events=tmp / "events.csv", workspace=tmp / "ws.duckdb"
    ).close()
    return tmp, data.truth


def test_cli_next_csv_to_stdout_and_file(cli_workspace):
    from royalroad.cli import app

    tmp, truth = cli_workspace
    ws = str(tmp / "ws.duckdb")
    res = CliRunner().invoke(
        app, ["next", "--workspace", ws, "--format", "csv", "--adjust", "industry"]
    )
    assert res.exit_code == 0, res.stdout + res.stderr
    stdout_rows = _read_csv(res.stdout)
    assert next(csv.reader(io.StringIO(res.stdout)))[:6] == REQUIRED

    out = tmp / "out" / "next.csv"
    res = CliRunner().invoke(
        app,
        ["next", "--workspace", ws, "--out", str(out), "--format", "json", "--adjust", "industry"],
    )
    assert res.exit_code == 0, res.stdout + res.stderr
    data = json.loads(res.stdout)
    file_rows = _read_csv(out.read_bytes().decode("utf-8-sig"))
    assert file_rows == stdout_rows

    hand = pandas_truth(tmp, truth["goal"]["activity"])
    assert sorted(r["lead_id"] for r in file_rows) == sorted(hand["open"])
    assert {r["lead_id"] for r in file_rows if r["status"] == "sales_ready"} == hand["ready"]
    assert (data["open"], data["sales_ready"]) == (len(hand["open"]), len(hand["ready"]))
    banned = set(truth["proxies"]) | {c["activity"] for c in truth["confounders"]}
    assert not {r["recommended_action"] for r in file_rows} & banned
    assert {r["lead_id"] for r in data["leads"]} == set(hand["open"])
