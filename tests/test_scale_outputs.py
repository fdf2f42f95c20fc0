"""What keeps a large workspace's analyze quick: the backtest on a fixed sample of leads,
the per-lead list in a CSV beside the outputs, the workbook and results.json keeping
this week's first leads with a pointer to it. Limits are lowered here so that a small
simulated workspace crosses them; counts are checked against the workspace's own
tables and pandas."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow.parquet as pq
import pytest
from openpyxl import load_workbook

import royalroad as rr
from royalroad import pipeline
from royalroad.analysis.backtest import as_of_workspace
from royalroad.report import sheets_journeys

CUT = "2025-01-01 00:00:00"


@pytest.fixture(scope="module")
def ws_path(ingested):
    return ingested("saas", 3000, 5)


def test_backtest_sample_is_one_lead_in_n_with_all_its_events(ws_path):
    ws = rr.open_workspace(ws_path, read_only=True)
    try:
        cut = pd.Timestamp(CUT).to_pydatetime()
        full = as_of_workspace(ws, cut)
        part = as_of_workspace(ws, cut, every=3)
        ids = {r[0] for r in part.con.execute("SELECT lead_id FROM leads").fetchall()}
        all_ids = {r[0] for r in full.con.execute("SELECT lead_id FROM leads").fetchall()}
        assert ids < all_ids
        assert len(all_ids) / 3 * 0.85 < len(ids) < len(all_ids) / 3 * 1.15
        # every event of a sampled lead (those created after the cut-off marked so), and
        # no other lead's
        events = "SELECT lead_id, activity, ts, mark FROM events"
        kept = sorted(part.con.execute(events).fetchall())
        sampled = {r[0] for r in kept}
        assert ids <= sampled
        assert all(r[3] == "after_as_of" for r in kept if r[0] not in ids)
        assert kept == sorted(r for r in full.con.execute(events).fetchall() if r[0] in sampled)
        assert not (sampled & (all_ids - ids))
        full.close()
        part.close()
        result = rr.backtest(ws, CUT, max_leads=1000)
    finally:
        ws.close()
    n_leads = 3000
    assert result.sample_every == -(-n_leads // 1000) == 3
    assert set(result.scores.lead_id) <= ids
    assert result.to_dict()["sample_every"] == 3


@pytest.fixture(scope="module")
def written(ws_path, tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    mp = pytest.MonkeyPatch()
    mp.setattr(pipeline, "JSON_LEADS", 40)
    mp.setattr(sheets_journeys, "SHEET_LEADS", 30)
    mp.setattr(sheets_journeys.next_actions, "__defaults__", (30,))
    try:
        with rr.open_workspace(ws_path, read_only=True) as ws:
            results = pipeline.analyse(ws, pipeline.AnalysisOptions(backtest=False))
            open_ids = {
                r[0]
                for r in ws.con.execute(
                    "SELECT lead_id FROM leads WHERE outcome = 'open'"
                ).fetchall()
            }
        files = pipeline.write_outputs(results, out, lang="en")
    finally:
        mp.undo()
    return results, files, open_ids, out


def test_parquet_beside_the_outputs_has_every_open_lead(written):
    results, files, open_ids, out = written
    path = files["pipeline.out.next_actions"]
    assert path == out / "next_actions.parquet"
    table = pq.read_table(path)
    assert len(open_ids) > 40
    assert set(table.column("lead_id").to_pylist()) == open_ids
    assert table.num_rows == len(open_ids)
    # the same per-lead values as the rendered rows (state label and reason included)
    mine = {r["lead_id"]: r for r in table.to_pylist()}
    for r in results.next.rows("en"):
        got = mine[r["lead_id"]]
        for key in ("recommended_action", "status", "stalled", "state", "reason", "owner"):
            assert got[key] == r[key], key
        assert got["current_win_rate"] == pytest.approx(r["current_win_rate"], rel=1e-12)


def test_results_json_keeps_this_weeks_first_and_points_to_the_csv(written):
    results, files, open_ids, out = written
    data = json.loads((out / "results.json").read_text("utf-8"))["next"]
    assert data["leads_total"] == data["open"] == len(open_ids)
    assert data["leads_file"] == "next_actions.parquet"
    assert len(data["leads"]) == 40
    every = pd.DataFrame(results.next.rows("en"))
    every["idle"] = -every.days_idle.fillna(0)
    every["not_ready"] = every.status != "sales_ready"
    every["not_stalled"] = ~every.stalled.astype(bool)
    first = every.sort_values(["not_stalled", "not_ready", "idle", "lead_id"], kind="stable")
    assert [r["lead_id"] for r in data["leads"]] == first.lead_id.head(40).tolist()


def test_workbook_keeps_this_weeks_first_and_points_to_the_csv(written):
    results, files, open_ids, out = written
    sheet = load_workbook(files["excel.out.workbook"], read_only=True)["Next actions"]
    values = [row[0] for row in sheet.iter_rows(min_row=3, values_only=True)]
    assert len(values) == 31
    assert values[-1].startswith(f"… {len(open_ids) - 30:,} more open leads")
    assert "next_actions.parquet" in values[-1]
    assert set(values[:-1]) <= open_ids


def test_ordered_leads_and_owner_counts_equal_python(written):
    """The report, workbook, results.json, terminal and app pick their leads in Arrow
    (NextResult.ordered, owner_counts): the same as sorting every rendered row in Python."""
    import pyarrow.compute as pc

    from royalroad.analysis.nba_result import priority

    nxt = written[0].next
    rows = nxt.rows("en")
    every = sorted(rows, key=priority)
    ids = lambda rs: [r["lead_id"] for r in rs]
    assert nxt.ordered("en") == every  # the same rendered dicts, in the same order
    assert ids(nxt.ordered("en", 9)) == ids(every[:9])
    assert nxt.ordered("en", 0) == []
    ready = [r for r in every if r["status"] == "sales_ready"]
    stalled = [r for r in every if r["stalled"] and r["status"] != "sales_ready"]
    assert ready and stalled
    is_ready = pc.field("status") == "sales_ready"
    assert ids(nxt.ordered("en", 5, where=is_ready)) == ids(ready[:5])
    assert ids(nxt.ordered("en", where=pc.field("stalled") & ~is_ready)) == ids(stalled)
    assert nxt.count(is_ready) == len(ready)
    owner = pd.Series([r["owner"] for r in rows]).value_counts().index[0]
    mine = [r for r in every if r["owner"] == owner]
    assert ids(nxt.ordered("en", 3, where=pc.field("owner") == owner)) == ids(mine[:3])
    frame = pd.DataFrame(rows)
    frame["ready"] = frame.status == "sales_ready"
    want = []
    for o, g in frame.groupby(frame.owner.fillna("\uffff"), sort=True):
        n_ready = int(g.ready.sum())
        o = None if o == "\uffff" else o
        want.append((o, n_ready, len(g) - n_ready, int(g.stalled.astype(bool).sum())))
    assert nxt.owner_counts() == want
