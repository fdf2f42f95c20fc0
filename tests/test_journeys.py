"""Journey queries and ``analyse_paths``, against pm4py, pandas and hand counts.

* A hand-made log whose every number below is counted by hand: ties in time broken
  by file order, a file whose rows are not in time order, events after the close,
  an open lead and a lead without events.
* pm4py (AGPL, test-only) on real XES logs: directly-follows graph, start / end
  activities and variant counts must be *equal* to royalroad's ``scope="all"`` view.
* The ``paths`` command's JSON on simulated data: the DFG, edge medians and variants
  recounted with pandas from the CSV files, and the Markov chain rebuilt from those
  CSVs and solved with numpy.
* BPIC 2012: the royal road through the goal passes the offer-returned step.
"""

from __future__ import annotations

import json
import math
import warnings
from collections import Counter
from fractions import Fraction
from itertools import pairwise
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import royalroad as rr
from royalroad.analysis import journeys as j
from royalroad.analysis.paths import analyse_paths
from royalroad.simulate import simulate

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
BPIC = SHARED / "bpic2012" / "BPI_Challenge_2012.xes.gz"
EXAMPLES = SHARED / "pm4py_example_logs"

# ---------------------------------------------------------------- a hand-made log

LEADS = """\
lead_id,created_at,outcome,closed_at,amount
L1,2024-01-01 09:00:00,won,2024-01-10 09:00:00,100
L2,2024-01-01 09:00:00,lost,2024-01-10 09:00:00,100
L3,2024-01-01 09:00:00,open,,100
L4,2024-01-01 09:00:00,won,2024-01-05 09:00:00,100
L5,2024-01-02 09:00:00,open,,100
L6,2024-01-01 09:00:00,won,2024-01-06 09:00:00,100
"""
# File order matters: L2's C and B share a timestamp (file order C, B: not the
# alphabetical one); L4's rows are not in time order; L1 repeats B at the same
# moment; L1's D is after its close and L4's X is exactly at its close.
EVENTS = """\
lead_id,activity,ts
L2,A,2024-01-02 09:00:00
L1,A,2024-01-02 10:00:00
L1,B,2024-01-03 09:00:00
L2,C,2024-01-03 10:00:00
L2,B,2024-01-03 10:00:00
L1,B,2024-01-03 09:00:00
L3,A,2024-01-02 09:00:00
L6,A,2024-01-02 09:00:00
L1,C,2024-01-04 09:00:00
L4,A,2024-01-03 09:00:00
L4,B,2024-01-02 09:00:00
L6,C,2024-01-03 15:00:00
L3,B,2024-01-04 12:00:00
L1,D,2024-01-12 09:00:00
L4,X,2024-01-05 09:00:00
"""
# Journeys by hand (before the close / as-of 2024-01-12 09:00, the latest timestamp):
#   L1 A B B C → won   L2 A C B → lost   L3 A B → open   L4 B A → won   L6 A C → won
# and after the close L1 … C D, L4 … A X; L5 has no event.
HAND_DFG = {
    ("A", "B"): 2,
    ("B", "B"): 1,
    ("B", "C"): 1,
    ("A", "C"): 2,
    ("C", "B"): 1,
    ("B", "A"): 1,
}
HAND_DFG_ALL = {**HAND_DFG, ("C", "D"): 1, ("A", "X"): 1}
HAND_VARIANTS = {  # path: (leads, won, lost, open)
    ("A", "B", "B", "C"): (1, 1, 0, 0),
    ("A", "C", "B"): (1, 0, 1, 0),
    ("A", "B"): (1, 0, 0, 1),
    ("B", "A"): (1, 1, 0, 0),
    ("A", "C"): (1, 1, 0, 0),
}
HAND_VARIANTS_ALL = {
    ("A", "B", "B", "C", "D"): (1, 1, 0, 0),
    ("A", "C", "B"): (1, 0, 1, 0),
    ("A", "B"): (1, 0, 0, 1),
    ("B", "A", "X"): (1, 1, 0, 0),
    ("A", "C"): (1, 1, 0, 0),
}
# The chain uses first occurrences (L1 A B C). P(win) from the first-step equations:
#   C = 1/3 B + 2/3;  B = 1/3 C + 1/3 A (+ 1/3 lost);  A = 2/5 B + 2/5 C + 1/5
#   → A = 3/4, B = 17/32, C = 27/32, start = 4/5 · 3/4 + 1/5 · 17/32 = 113/160
HAND_P_WIN = {
    j.START: Fraction(113, 160),
    "A": Fraction(3, 4),
    "B": Fraction(17, 32),
    "C": Fraction(27, 32),
}
# Removing C sends its inflow to lost: A = 2/5 B + 1/5, B = 1/3 A → A = 3/13, B = 1/13,
# start = 4/5 · 3/13 + 1/5 · 1/13 = 1/5, so the removal effect is 1 − (1/5) / (113/160) = 81/113.
HAND_REMOVAL_C = Fraction(81, 113)


# With the goal C, states after it are marked: L1 A B C✓, L2 A C✓ B✓, L6 A C✓.
#   C✓ = 2/3, B✓ = 0; A = 2/5 B + 2/5 · 2/3 + 1/5; B = 1/2 · 2/3 + 1/2 A → A = 3/4, B = 17/24
#   start = 4/5 · 3/4 + 1/5 · 17/24 = 89/120
# Most probable road: start→A→C✓ (4/5 · 2/5 = 0.32) beats start→A→B→C✓ (0.16) and
# start→B→C✓ (0.1); then C✓→won (2/3).
def _goal(activity: str, min_count: int = 1) -> SimpleNamespace:
    """What analyse_paths reads of a goal Candidate."""
    return SimpleNamespace(
        activity=activity,
        then=None,
        min_count=min_count,
        within_days=None,
        label=lambda lang=None: activity,
    )


GOAL_C = _goal("C")
HAND_P_WIN_GOAL = {
    j.START: Fraction(89, 120),
    "A": Fraction(3, 4),
    "B": Fraction(17, 24),
    "C" + j.MARK: Fraction(2, 3),
    "B" + j.MARK: Fraction(0),
}


@pytest.fixture(scope="module")
def hand(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hand")
    (tmp / "leads.csv").write_text(LEADS, encoding="utf-8")
    (tmp / "events.csv").write_text(EVENTS, encoding="utf-8")
    ws = rr.ingest(leads=tmp / "leads.csv", events=tmp / "events.csv", workspace=tmp / "ws.duckdb")
    yield ws
    ws.close()


def _variants(result) -> dict:
    return {v.path: (v.leads, v.won, v.lost, v.open) for v in result.variants}


def test_hand_log_before_close(hand):
    r = analyse_paths(hand, top=100, coverage=1.0)
    assert {(e.src, e.dst): e.count for e in r.dfg} == HAND_DFG
    assert r.start_activities == {"A": 4, "B": 1}
    assert r.end_activities == {"C": 2, "B": 2, "A": 1}
    assert _variants(r) == HAND_VARIANTS
    assert (r.leads, r.events, r.variants_total) == (5, 13, 5)
    # outcomes on the edges: A→B was walked by L1 (won) and L3 (open)
    ab = next(e for e in r.dfg if (e.src, e.dst) == ("A", "B"))
    assert (ab.won, ab.lost, ab.open) == (1, 0, 1)
    # the gap A→B: L1 23 h, L3 51 h → median 37 h
    assert ab.median_hours == pytest.approx(37.0)


def test_hand_log_all_scope_keeps_events_after_the_close(hand):
    r = analyse_paths(hand, scope="all", top=100, coverage=1.0)
    assert {(e.src, e.dst): e.count for e in r.dfg} == HAND_DFG_ALL
    assert r.end_activities == {"B": 2, "C": 1, "D": 1, "X": 1}
    assert _variants(r) == HAND_VARIANTS_ALL


def test_hand_log_top_and_coverage(hand):
    r = analyse_paths(hand, top=2, coverage=1.0)
    assert len(r.variants) == 2 and r.variants_total == 5
    assert r.variants_coverage == pytest.approx(2 / 5)
    # every variant has one lead: ties ordered by key, i.e. by the activities
    assert [v.path for v in r.variants] == [("A", "B"), ("A", "B", "B", "C")]
    r = analyse_paths(hand, top=100, coverage=0.5)
    assert len(r.variants) == 3 and r.variants_coverage == pytest.approx(3 / 5)


def test_hand_log_chain_is_exact(hand):
    r = analyse_paths(hand)
    got = {s.state: s.p_win for s in r.states}
    assert set(got) == set(HAND_P_WIN)
    for state, p in HAND_P_WIN.items():
        assert abs(got[state] - float(p)) < 1e-12, state
    assert abs(r.p_win_start - float(HAND_P_WIN[j.START])) < 1e-12
    assert abs(r.removal_effects["C"] - float(HAND_REMOVAL_C)) < 1e-12
    # exits per state by hand: start 5, A 5 (B, B, C, C, won), B 3 (L3 open adds none), C 3
    assert {s.state: s.exits for s in r.states} == {j.START: 5, "A": 5, "B": 3, "C": 3}


def test_hand_log_royal_road_through_goal(hand):
    r = analyse_paths(hand, goal=GOAL_C)
    got = {s.state: s.p_win for s in r.states}
    assert set(got) == set(HAND_P_WIN_GOAL)
    for state, p in HAND_P_WIN_GOAL.items():
        assert abs(got[state] - float(p)) < 1e-12, state
    assert r.through == ("C",)
    assert [(s.activity, round(s.p_win_after, 12)) for s in r.royal_road] == [
        ("A", 0.75),
        ("C", round(2 / 3, 12)),
        (j.WON, 1.0),
    ]
    # conformance with A then C (gaps allowed): L1, L6 of the won; L2 of the lost; not L3
    c = r.conformance
    assert (c.won, c.won_followed, c.lost, c.lost_followed, c.open, c.open_followed) == (
        3,
        2,
        1,
        1,
        1,
        0,
    )


def test_regression_count_goal_step_is_after_the_milestone(hand):
    r = analyse_paths(hand, goal=_goal("B", min_count=2))
    assert r.through == ("B",)
    steps = [s for s in r.royal_road if s.activity == "B"]
    assert steps and steps[-1].p_win_after == pytest.approx(1.0)


def test_hand_log_conformance_respects_order(hand):
    c = (
        j.conformance(j.variants(hand.table("events"), hand.table("leads")), ["B", "C"])
        .to_pyarrow()
        .to_pylist()[0]
    )
    got = {o: (c[f"{o}_leads"], c[f"{o}_followed"]) for o in ("won", "lost", "open")}
    # B then C: only L1 (A B B C); L2 has C before B
    assert got == {"won": (3, 1), "lost": (1, 0), "open": (1, 0)}


def test_analyse_paths_rejects_bad_scope_and_order(hand):
    with pytest.raises(ValueError, match="scope"):
        analyse_paths(hand, scope="everything")
    with pytest.raises(ValueError, match="3"):
        analyse_paths(hand, order=3)


def test_order2_chain_by_hand(hand):
    r = analyse_paths(hand, order=2)
    got = {s.state: s.p_win for s in r.states}
    sep = j.SEP
    # pair states (previous, current): L6 start·A → A·C → won; L1 start·A → A·B → B·C → won
    assert got[f"A{sep}C"] == pytest.approx(0.5)  # L6 won, L2 (A·C → C·B → lost) lost
    assert got[f"{j.START}{sep}B"] == pytest.approx(1.0)  # only L4, won
    assert got[f"A{sep}B"] == pytest.approx(1.0)  # L1 (won); L3 stays open
    # removal effects per activity, not per pair
    assert set(r.removal_effects) == {"A", "B", "C"}


# ---------------------------------------------------------------- pm4py equality

LOGS = {
    "running-example.xes": (["pay compensation"], ["reject request"]),
    "02_teleclaims.xes.gz": (["initiate payment"], ["end"]),
    "lending_log_high.xes.gz": (["Sign Loan Agreement"], ["Loan Denied", "Application Rejected"]),
}


def pm4py_view(path: Path):
    """pm4py's DFG, start / end activities and variant counts of the complete events."""
    pm4py = pytest.importorskip("pm4py")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = pm4py.read_xes(str(path), show_progress_bar=False)
    if "lifecycle:transition" in df.columns:
        df = df[df["lifecycle:transition"].astype(str).str.lower() == "complete"]
    dfg, start, end = pm4py.discover_dfg(df)
    variants = pm4py.get_variants(df)
    # this pm4py returns {variant tuple: count} for data frames; older ones gave lists of traces
    counts = Counter({tuple(k): (v if isinstance(v, int) else len(v)) for k, v in variants.items()})
    return df, dict(dfg), dict(start), dict(end), counts


def assert_equal_to_pm4py(ws, path: Path) -> None:
    df, dfg, start, end, variants = pm4py_view(path)
    r = analyse_paths(ws, scope="all", top=10**9, coverage=1.0)
    ours_dfg = {(e.src, e.dst): e.count for e in r.dfg}
    assert ours_dfg == dfg, {
        k: (dfg.get(k), ours_dfg.get(k))
        for k in set(dfg) | set(ours_dfg)
        if dfg.get(k) != ours_dfg.get(k)
    }
    assert r.start_activities == start
    assert r.end_activities == end
    ours_var = Counter({v.path: v.leads for v in r.variants})
    assert ours_var == variants, (ours_var - variants, variants - ours_var)
    assert r.variants_total == len(variants)
    assert r.events == len(df)
    assert r.leads == df["case:concept:name"].nunique()


@pytest.mark.parametrize("name", sorted(LOGS))
def test_equal_to_pm4py_on_example_logs(name, tmp_path):
    path = EXAMPLES / name
    if not path.is_file():
        pytest.skip(f"pm4py example log not found at {path} (clone shared/ beside the repository)")
    won, lost = LOGS[name]
    ws = rr.ingest(events=path, won=won, lost=lost, workspace=tmp_path / "ws.duckdb")
    try:
        assert_equal_to_pm4py(ws, path)
    finally:
        ws.close()


@pytest.fixture(scope="module")
def bpic(tmp_path_factory):
    if not BPIC.is_file():
        pytest.skip(f"BPIC 2012 log not found at {BPIC} (clone shared/ beside the repository)")
    ws = rr.ingest(
        events=BPIC,
        won=["A_APPROVED"],
        lost=["A_DECLINED", "A_CANCELLED"],
        workspace=tmp_path_factory.mktemp("bpic") / "ws.duckdb",
    )
    yield ws
    ws.close()


@pytest.mark.slow
def test_equal_to_pm4py_on_bpic2012(bpic):
    assert_equal_to_pm4py(bpic, BPIC)


@pytest.mark.slow
def test_bpic2012_royal_road_passes_offer_returned(bpic):
    from royalroad.analysis.goals import discover_goals

    goals = discover_goals(bpic, pairs=6)
    assert goals.recommended is not None
    proxies = [p.activity for p in goals.proxies]
    r = analyse_paths(bpic, goal=goals.recommended, exclude=proxies)
    road = [s.activity for s in r.royal_road]
    assert "O_SENT_BACK" in road, road
    assert road[-1] == j.WON and r.royal_road[-1].p_win_after == 1.0
    assert not set(road) & set(proxies)
    assert "A_APPROVED" in proxies  # the won activity is the outcome itself
    assert r.through and r.through[0] == goals.recommended.activity
    # P(win) after the goal step is far above the base rate: recount from the workspace
    won, lost = bpic.con.execute(
        "SELECT count(*) FILTER (WHERE outcome = 'won'), "
        "count(*) FILTER (WHERE outcome = 'lost') FROM leads"
    ).fetchone()
    base = won / (won + lost)
    step = next(s for s in r.royal_road if s.activity == goals.recommended.activity)
    assert step.p_win_after > 2 * base, (step.p_win_after, base)


# -------------------------------------------------------------- the paths command on simulated data


def pandas_journeys(tmp: Path):
    """Events that feed the chain, from the CSVs: before the close (open leads: up to as-of)."""
    leads = pd.read_csv(tmp / "leads.csv", parse_dates=["created_at", "closed_at"])
    events = pd.read_csv(tmp / "events.csv", parse_dates=["ts"])
    events["order"] = np.arange(len(events))
    as_of = max(leads.created_at.max(), leads.closed_at.max(), events.ts.max())
    ev = events.merge(leads[["lead_id", "outcome", "closed_at"]], on="lead_id")
    closed = ev.outcome.isin(["won", "lost"])
    ev = ev[(closed & (ev.ts < ev.closed_at)) | (~closed & (ev.ts <= as_of))]
    return leads, ev.sort_values(["lead_id", "ts", "order"], kind="stable").reset_index(drop=True)


def pandas_dfg(ev: pd.DataFrame) -> dict:
    nxt = ev.groupby("lead_id").activity.shift(-1)
    gap = (ev.groupby("lead_id").ts.shift(-1) - ev.ts).dt.total_seconds() / 3600
    e = pd.DataFrame({"a": ev.activity, "b": nxt, "h": gap}).dropna(subset=["b"])
    g = e.groupby(["a", "b"]).h
    return {k: (int(n), float(m)) for (k, n), m in zip(g.size().items(), g.median(), strict=True)}


def pandas_chain(ev: pd.DataFrame, outcome: pd.Series, goal: str, exclude) -> dict:
    """Transition counts of the goal-aware chain: marked from the goal on, first occurrences
    of each activity before the goal and after it."""
    e = ev[~ev.activity.isin(exclude)].copy()
    e["passed"] = (e.activity == goal).astype(int).groupby(e.lead_id).cummax().astype(bool)
    e = e[~e.duplicated(["lead_id", "activity", "passed"])].copy()
    e["state"] = np.where(e.passed, e.activity + j.MARK, e.activity)
    counts: Counter = Counter()
    for lead, states in e.groupby("lead_id", sort=False).state:
        s = [j.START, *states.tolist()]
        counts.update(pairwise(s))
        end = outcome[lead]
        if end in ("won", "lost"):
            counts[(s[-1], j.WON if end == "won" else j.LOST)] += 1
    return counts


def numpy_p_win(counts: Counter) -> dict:
    names = sorted({s for s, _ in counts} | {d for _, d in counts} - {j.WON, j.LOST})
    ix = {n: i for i, n in enumerate(names)}
    k = len(names)
    q, r = np.zeros((k, k)), np.zeros(k)
    out = np.zeros(k)
    for (s, d), n in counts.items():
        out[ix[s]] += n
        if d == j.WON:
            r[ix[s]] += n
        elif d != j.LOST:
            q[ix[s], ix[d]] += n
    x = np.linalg.solve(np.eye(k) - q / out[:, None], r / out)
    return dict(zip(names, x, strict=True))


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    from royalroad.analysis.goals import discover_goals

    tmp = tmp_path_factory.mktemp("sim")
    data = simulate("manufacturing", leads=2000, seed=5)
    data.write(tmp)
    ws = rr.ingest(leads=tmp / "leads.csv", events=tmp / "events.csv", workspace=tmp / "ws.duckdb")
    goals = discover_goals(ws, pairs=6)
    ws.close()
    return tmp, data.truth, goals


def test_cli_paths_json_contract(simulated):
    from royalroad.cli import app

    tmp, truth, goals = simulated
    res = CliRunner().invoke(
        app,
        [
            "paths",
            "--workspace",
            str(tmp / "ws.duckdb"),
            "--format",
            "json",
            "--top",
            "100000",
            "--coverage",
            "1.0",
        ],
    )
    assert res.exit_code == 0, res.stdout + res.stderr
    data = json.loads(res.stdout)
    leads, ev = pandas_journeys(tmp)

    # dfg: every edge, count and median gap, recounted
    assert all(set(e) >= {"from", "to", "count", "median_hours"} for e in data["dfg"])
    got = {(e["from"], e["to"]): (e["count"], e["median_hours"]) for e in data["dfg"]}
    want = pandas_dfg(ev)
    assert set(got) == set(want)
    for k, (n, med) in want.items():
        assert got[k][0] == n, k
        assert got[k][1] == pytest.approx(med, rel=1e-9), k

    # variants: every distinct journey with its outcomes
    outcome = leads.set_index("lead_id").outcome
    paths = ev.groupby("lead_id").activity.agg(tuple)
    want_v: dict = {}
    for lead, p in paths.items():
        v = want_v.setdefault(p, Counter())
        v[outcome[lead]] += 1
    got_v = {tuple(v["path"]): v for v in data["variants"]}
    assert set(got_v) == set(want_v)
    for p, c in want_v.items():
        v = got_v[p]
        want = (sum(c.values()), c["won"], c["lost"], c["open"])
        assert (v["leads"], v["won"], v["lost"], v["open"]) == want, p
        closed = c["won"] + c["lost"]
        if closed:
            assert v["win_rate"] == pytest.approx(c["won"] / closed)
        else:
            assert v["win_rate"] is None

    # markov: the goal-aware chain rebuilt from the CSVs and solved with numpy
    goal = goals.recommended
    assert goal.activity == truth["goal"]["activity"]
    assert (goal.min_count, goal.within_days, goal.then) == (1, None, None)
    excluded = data["excluded_proxies"]
    assert set(truth["proxies"]) <= set(excluded)
    ref = numpy_p_win(pandas_chain(ev, outcome, goal.activity, excluded))
    states = {s["state"]: s["p_win"] for s in data["markov"]["states"]}
    assert set(states) == set(ref)
    for s, p in ref.items():
        assert states[s] == pytest.approx(p, abs=1e-9), s
    assert data["markov"]["p_win_start"] == pytest.approx(ref[j.START], abs=1e-9)
    effects = {r["activity"]: r["removal_effect"] for r in data["markov"]["removal_effects"]}
    assert set(effects) == set(ev.activity) - set(excluded)

    # royal road through the planted goal, ending in a win
    road = data["royal_road"]
    assert all(set(s) == {"activity", "p_win_after"} for s in road)
    assert road[-1] == {"activity": j.WON, "p_win_after": 1.0}
    assert truth["goal"]["activity"] in [s["activity"] for s in road]
    assert not {s["activity"] for s in road} & set(truth["proxies"])
    at = [s["activity"] for s in road].index(goal.activity)
    for i, s in enumerate(road[:-1]):  # states from the goal on carry the mark
        state = s["activity"] + (j.MARK if i >= at else "")
        assert s["p_win_after"] == pytest.approx(ref[state], abs=1e-9), state


def test_cli_paths_bad_scope_is_one_line(simulated):
    from royalroad.cli import app

    tmp, truth, _ = simulated
    ws = str(tmp / "ws.duckdb")
    res = CliRunner().invoke(app, ["paths", "--workspace", ws, "--scope", "sometimes"])
    assert res.exit_code == 2, res.stdout + res.stderr
    assert "Traceback" not in res.stdout + res.stderr
    assert "sometimes" in res.stderr


# ---------------------------------------------------------------- determinism


def test_analyse_paths_is_deterministic(simulated, tmp_path):
    tmp, _, goals = simulated
    proxies = [p.activity for p in goals.proxies]
    ws = rr.open_workspace(tmp / "ws.duckdb")
    try:
        first = analyse_paths(ws, goal=goals.recommended, exclude=proxies).to_json()
        assert analyse_paths(ws, goal=goals.recommended, exclude=proxies).to_json() == first
        ws.con.execute("SET threads = 1")
        assert analyse_paths(ws, goal=goals.recommended, exclude=proxies).to_json() == first
    finally:
        ws.close()
    again = rr.ingest(
        leads=tmp / "leads.csv", events=tmp / "events.csv", workspace=tmp_path / "again.duckdb"
    )
    try:
        assert analyse_paths(again, goal=goals.recommended, exclude=proxies).to_json() == first
    finally:
        again.close()
    assert math.isfinite(json.loads(first)["markov"]["p_win_start"])


def test_regression_no_event_before_close_is_not_an_internal_error(tmp_path):
    from royalroad.errors import InputError

    (tmp_path / "leads.csv").write_text(
        "lead_id,created_at,outcome,closed_at\nL1,2024-01-01,won,2024-01-05\nL2,2024-01-01,lost,2024-01-05\n",
        encoding="utf-8",
    )
    (tmp_path / "events.csv").write_text(
        "lead_id,activity,ts\nL1,A,2024-01-06\nL2,B,2024-01-07\n", encoding="utf-8"
    )
    ws = rr.ingest(leads=tmp_path / "leads.csv", events=tmp_path / "events.csv")
    try:
        r = analyse_paths(ws)
    except InputError:
        return
    finally:
        ws.close()
    assert r.royal_road == () and math.isnan(r.p_win_start)
    assert {(e.src, e.dst) for e in r.dfg} == set()
