"""Guards that keep an analysis bounded: too few closed leads, and too many activities.

A "bomb" is data that once made ``analyze`` run for minutes and gigabytes: 50,000
distinct activities. Expected numbers are counted here with pandas from the CSV files
(activities ranked by leads, then events, then name), never taken from royalroad.
"""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import royalroad as rr
from royalroad.cli import app

RARE = 50_000
OTHER = "(other activities)"


def run(*args: str):
    result = CliRunner().invoke(app, list(args))
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    return result


def _append_events(path: Path, rows: list[tuple[str, str, str]]) -> None:
    with open(path, encoding="utf-8", newline="") as fh:
        header = next(csv.reader(fh))
    with open(path, "a", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        for lead, activity, ts in rows:
            row = {"lead_id": lead, "activity": activity, "ts": ts}
            w.writerow([row.get(c, "") for c in header])


@pytest.fixture(scope="module")
def few(tmp_path_factory) -> Path:
    """Three leads (one won, one lost, one open) and 50,000 distinct activities."""
    tmp = tmp_path_factory.mktemp("few")
    (tmp / "leads.csv").write_text(
        "lead_id,created_at,outcome,closed_at\n"
        "A,2024-01-01,won,2024-06-01\nB,2024-01-01,lost,2024-06-01\nC,2024-01-01,open,\n",
        encoding="utf-8",
    )
    with open(tmp / "events.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["lead_id", "activity", "ts"])
        for i in range(RARE):
            w.writerow(["ABC"[i % 3], f"act{i:06d}", f"2024-0{1 + i % 4}-{1 + i % 28:02d} 10:00"])
    ws = rr.ingest(leads=tmp / "leads.csv", events=tmp / "events.csv", workspace=tmp / "ws.duckdb")
    ws.close()
    return tmp


@pytest.mark.parametrize("command", ["analyze", "paths", "next"])
def test_too_few_closed_leads_stop_at_once_in_one_line(few, command, tmp_path):
    out = tmp_path / "out"
    extra = ["--out", str(out)] if command == "analyze" else []
    started = time.monotonic()
    result = run(command, "--workspace", str(few / "ws.duckdb"), *extra)
    elapsed = time.monotonic() - started
    assert result.exit_code == 2, result.stdout + result.stderr
    # By hand: A won and B lost are the closed leads; the floor is 30 closed, 10 of each.
    assert result.stderr == (
        f"error: {few / 'ws.duckdb'}: too few closed leads to learn from: 2 closed "
        "(1 won, 1 lost); at least 30 closed and 10 of each outcome are needed "
        "('royalroad validate' shows what was read)\n"
    )
    assert result.stdout == ""
    assert not out.exists()  # nothing half-written
    assert elapsed < 15, elapsed  # was minutes: it stops before reading the events


def test_too_few_closed_from_files_names_the_files(few, monkeypatch):
    monkeypatch.chdir(few)
    result = run("analyze", "--leads", "leads.csv", "--events", "events.csv", "--lang", "ja")
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "エラー: leads.csv, events.csv: 学習に使えるクローズ済みのリードが少なすぎます: "
        "クローズ 2 件(受注 1・失注 1)"
    ), result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_goals_still_answers_with_too_few_closed_leads_and_a_bounded_search(few):
    started = time.monotonic()
    result = run("goals", "--workspace", str(few / "ws.duckdb"), "--format", "json")
    elapsed = time.monotonic() - started
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["recommended"] is None and data["reason"] == "too_few_closed"
    # Every activity has one lead and one event: ties, broken by name. 200 are kept.
    kept = {f"act{i:06d}" for i in range(200)}
    seen = {c["activity"] for c in data["candidates"]}
    assert seen <= kept | {OTHER} and OTHER in seen
    [caveat] = [c for c in data["caveats"] if c["key"] == "engine.caveat.grouped"]
    assert (caveat["activities"], caveat["kept"]) == (RARE, 200)
    assert (caveat["grouped_activities"], caveat["grouped_events"]) == (RARE - 200, RARE - 200)
    assert elapsed < 30, elapsed


# Enough closed leads, and a bomb of rare activities ------------------------------------


@pytest.fixture(scope="module")
def bomb(tmp_path_factory) -> Path:
    """A simulated CRM (300 leads, 12 activities) plus 50,000 one-off activities and
    three tied ones: tie_z (3 leads, 4 events), tie_x and tie_y (3 leads, 3 events)."""
    from royalroad.simulate import simulate

    tmp = tmp_path_factory.mktemp("bomb")
    simulate("manufacturing", leads=300, seed=7).write(tmp)
    leads = pd.read_csv(tmp / "leads.csv", dtype=str)
    ids = leads.lead_id.tolist()
    created = dict(zip(leads.lead_id, leads.created_at, strict=True))
    rows = [(ids[i % len(ids)], f"rare{i:06d}", created[ids[i % len(ids)]]) for i in range(RARE)]
    for name, n_events in (("tie_x", 3), ("tie_y", 3), ("tie_z", 4)):
        rows += [(ids[k % 3], name, created[ids[k % 3]]) for k in range(n_events)]
    _append_events(tmp / "events.csv", rows)
    ws = rr.ingest(
        leads=tmp / "leads.csv",
        events=tmp / "events.csv",
        notes=tmp / "notes.csv",
        workspace=tmp / "ws.duckdb",
    )
    assert ws.con.execute("SELECT count(*) FROM quarantine").fetchall() == [(0,)]
    ws.close()
    return tmp


def _ranking(events_csv: Path) -> pd.DataFrame:
    """Activities by leads that have them, then events, then name (pandas)."""
    ev = pd.read_csv(events_csv, dtype=str, usecols=["lead_id", "activity"])
    per = ev.groupby("activity").agg(leads=("lead_id", "nunique"), n=("lead_id", "size"))
    per = per.reset_index().sort_values(
        ["leads", "n", "activity"], ascending=[False, False, True], kind="mergesort"
    )
    return per.reset_index(drop=True)


def test_rare_activities_are_grouped_once_for_every_analysis(bomb, tmp_path):
    ranking = _ranking(bomb / "events.csv")
    limit = int((ranking.leads > 3).sum()) + 2  # the simulated activities, tie_z and one more
    kept = set(ranking.activity[:limit])
    assert "tie_z" in kept and "tie_x" in kept and "tie_y" not in kept  # ties go by name
    started = time.monotonic()
    result = run(
        "analyze",
        "--workspace",
        str(bomb / "ws.duckdb"),
        "--max-activities",
        str(limit),
        "--format",
        "json",
        "--out",
        str(tmp_path / "out"),
    )
    elapsed = time.monotonic() - started
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert (tmp_path / "out" / "results.json").read_text(encoding="utf-8") == result.stdout
    assert data["activity_grouping"] == {
        "max_activities": limit,
        "activities": len(ranking),
        "events": int(ranking.n.sum()),
        "grouped_activities": len(ranking) - limit,
        "grouped_events": int(ranking.n[limit:].sum()),
        "label": OTHER,
    }
    allowed = kept | {OTHER}
    goals = data["goals"]
    assert {c["activity"] for c in goals["candidates"]} <= allowed
    assert {c["then"] for c in goals["candidates"] if c["then"]} <= allowed
    assert goals["recommended"]["activity"] == "技術打合せ"  # the planted goal survives
    assert any(c["key"] == "engine.caveat.grouped" for c in goals["caveats"])
    chain = {s["state"].rstrip(" ✓") for s in data["paths"]["markov"]["states"]}
    chain = {s for s in chain if not s.startswith("▶")}  # ▶start
    assert OTHER in chain and chain - allowed <= {"won", "lost", "open"}, chain - allowed
    # "(other activities)" is no step anyone can take: never on the road, never advised.
    assert OTHER not in [s["activity"] for s in data["paths"]["royal_road"]]
    assert OTHER not in {r["recommended_action"] for r in data["next"]["leads"]}
    assert elapsed < 60, elapsed


def test_default_limit_keeps_the_200_most_frequent(bomb):
    ranking = _ranking(bomb / "events.csv")
    result = run("goals", "--workspace", str(bomb / "ws.duckdb"), "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    [caveat] = [c for c in data["caveats"] if c["key"] == "engine.caveat.grouped"]
    assert caveat["grouped_events"] == int(ranking.n[200:].sum())
    assert caveat["grouped_activities"] == len(ranking) - 200
    assert {c["activity"] for c in data["candidates"]} <= set(ranking.activity[:200]) | {OTHER}


def test_activity_cap_is_an_engine_view_restored_after_the_block(bomb):
    ws = rr.open_workspace(bomb / "ws.duckdb", read_only=True)
    try:
        raw = ws.table("events")
        n_events = int(raw.count().execute())
        with ws.activity_cap(5) as grouping:
            capped = ws.table("events")
            assert int(capped.count().execute()) == n_events  # events are renamed, not dropped
            names = set(capped.activity.execute())
            assert len(names) == 6 and OTHER in names
            assert grouping is not None and set(grouping.kept) == names - {OTHER}
        assert int(ws.table("events").activity.nunique().execute()) == len(
            _ranking(bomb / "events.csv")
        )
        with ws.activity_cap(0) as none:
            assert none is None
    finally:
        ws.close()


def test_max_activities_must_not_be_negative(bomb):
    result = run("goals", "--workspace", str(bomb / "ws.duckdb"), "--max-activities", "-1")
    assert result.exit_code == 2
    assert result.stderr == "error: --max-activities must be 0 (no limit) or more, found -1\n"
