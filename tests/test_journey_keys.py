"""The journey keys the workspace stores (``lead_key``, ``events.pos``, the activity
ENUM) and the variant fingerprint, against independent computations.

* ``pos`` is recomputed with pandas from the events' time, source order and
  lifecycle: 1, 2, … per lead over complete events by ``(ts, seq)``, NULL otherwise,
  and the events that feed milestones are exactly the first positions.
* A workspace whose tables lack the keys (as a warehouse table would) gets them in
  the query (``engine.journey_keys``): every analysis must give the same answer.
* Variants, found by a hash of (position, activity) pairs, must equal an exact
  grouping of each lead's ordered activity list done with pandas from the CSVs.
"""

from __future__ import annotations

import re
import shutil

import pandas as pd
import pytest
from test_journeys import pandas_journeys

import royalroad as rr
from royalroad.analysis import journeys as j
from royalroad.analysis.goals import discover_goals
from royalroad.analysis.nba import next_best_actions
from royalroad.analysis.paths import analyse_paths
from royalroad.engine import open_workspace
from royalroad.simulate import simulate

# ties in time (L1 at 09:00 three times), an incomplete lifecycle event between
# complete ones, an event after the close (L1 D) and one past the as-of date (L3 Z)
EVENTS = """\
lead_id,activity,ts,lifecycle
L1,B,2024-01-02 09:00:00,complete
L2,A,2024-01-02 09:00:00,complete
L1,A,2024-01-02 09:00:00,start
L1,A,2024-01-02 09:00:00,complete
L1,C,2024-01-01 12:00:00,complete
L3,技術打合せ,2024-01-03 09:00:00,complete
L1,D,2024-01-09 09:00:00,complete
L3,Z,2024-01-20 09:00:00,complete
L2,=cmd,2024-01-03 09:00:00,complete
"""
LEADS = """\
lead_id,created_at,outcome,closed_at
L2,2024-01-01 08:00:00,lost,2024-01-05 09:00:00
L1,2024-01-01 08:00:00,won,2024-01-05 09:00:00
L3,2024-01-01 08:00:00,open,
"""


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("keys")
    (tmp / "leads.csv").write_text(LEADS, encoding="utf-8")
    (tmp / "events.csv").write_text(EVENTS, encoding="utf-8")
    ws = rr.ingest(
        leads=tmp / "leads.csv",
        events=tmp / "events.csv",
        workspace=tmp / "ws.duckdb",
        as_of="2024-01-10",
    )
    yield ws
    ws.close()


def expected_pos(ev: pd.DataFrame) -> pd.Series:
    complete = ev.lifecycle.isna() | (ev.lifecycle.str.lower() == "complete")
    order = ev[complete].sort_values(["lead_id", "ts", "seq"])
    pos = order.groupby("lead_id").cumcount() + 1
    return pos.reindex(ev.index)  # NaN for the incomplete events


def test_pos_is_the_journey_order_of_complete_events(small):
    ev = small.con.execute(
        "SELECT lead_id, CAST(activity AS VARCHAR) AS activity, ts, seq, lifecycle, mark, pos "
        "FROM events ORDER BY seq"
    ).df()
    want = expected_pos(ev)
    assert ev.pos.isna().tolist() == want.isna().tolist()
    assert ev.pos.dropna().astype(int).tolist() == want.dropna().astype(int).tolist()
    # by hand: L1 C (01-01 12:00) 1, B 2 and A 3 (tied at 09:00, file order), A start NULL, D 4
    l1 = ev[ev.lead_id == "L1"].set_index("seq")
    by_act = {(a, lc): p for a, lc, p in zip(l1.activity, l1.lifecycle, l1.pos, strict=True)}
    assert (
        by_act[("C", "complete")],
        by_act[("B", "complete")],
        by_act[("A", "complete")],
        by_act[("D", "complete")],
    ) == (1, 2, 3, 4)
    assert pd.isna(by_act[("A", "start")])


def test_events_that_feed_milestones_are_the_first_positions(small):
    ev = small.con.execute(
        "SELECT lead_id, pos, mark FROM events WHERE mark IS NULL OR mark <> 'not_complete'"
    ).df()
    for _, g in ev.groupby("lead_id"):
        usable = g[g.mark.isna()].pos.sort_values().tolist()
        assert usable == list(range(1, len(usable) + 1))
        assert (g[g.mark.notna()].pos > len(usable)).all()


def test_lead_key_is_dense_in_lead_id_order(small):
    leads = small.con.execute("SELECT lead_id, lead_key FROM leads").df().sort_values("lead_id")
    assert leads.lead_key.tolist() == list(range(1, len(leads) + 1))
    ev = small.con.execute(
        "SELECT e.lead_key, l.lead_key AS k FROM events e JOIN leads l USING (lead_id)"
    ).df()
    assert (ev.lead_key == ev.k).all()


def test_activity_enum_keeps_every_name_and_sorts_by_name(small):
    names = [
        r[0]
        for r in small.con.execute(
            "SELECT DISTINCT CAST(activity AS VARCHAR) FROM events"
        ).fetchall()
    ]
    assert set(names) == {"A", "B", "C", "D", "Z", "技術打合せ", "=cmd"}
    ordered = [
        r[0]
        for r in small.con.execute(
            "SELECT DISTINCT activity FROM events ORDER BY activity"
        ).fetchall()
    ]
    assert ordered == sorted(names)  # Python's code-point order, as DuckDB sorts strings
    assert "lead_key" not in small.segments()


# ---------------------------------------------------------------- keys computed in the query


def strip_keys(src, dst):
    """A copy of the workspace without the stored keys: lead_key, pos and occ dropped,
    activity a plain VARCHAR again."""
    shutil.copy(src, dst)
    ws = open_workspace(dst)
    con = ws.con
    con.execute(
        "CREATE TABLE ev2 AS SELECT * EXCLUDE (lead_key, pos, occ) "
        "REPLACE (CAST(activity AS VARCHAR) AS activity) "
        "FROM events ORDER BY seq"
    )
    con.execute("DROP TABLE events")
    con.execute("ALTER TABLE ev2 RENAME TO events")
    con.execute("CREATE TABLE ld2 AS SELECT * EXCLUDE (lead_key) FROM leads ORDER BY _line")
    con.execute("DROP TABLE leads")
    con.execute("ALTER TABLE ld2 RENAME TO leads")
    con.execute("CHECKPOINT")
    return ws


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sim_keys")
    data = simulate("manufacturing", leads=1500, seed=11)
    data.write(tmp)
    ws = rr.ingest(leads=tmp / "leads.csv", events=tmp / "events.csv", workspace=tmp / "ws.duckdb")
    ws.close()
    return tmp


def test_analyses_are_the_same_with_keys_computed_in_the_query(simulated, tmp_path):
    stored = open_workspace(simulated / "ws.duckdb")
    plain = strip_keys(simulated / "ws.duckdb", tmp_path / "plain.duckdb")
    try:
        assert "pos" not in plain.con.execute("SELECT * FROM events LIMIT 0").df().columns
        assert "pos" in plain.table("events").columns  # derived by journey_keys
        g1, g2 = discover_goals(stored, pairs=4), discover_goals(plain, pairs=4)
        assert g1.to_dict() == g2.to_dict()
        proxies = [p.activity for p in g1.proxies]
        for scope in j.SCOPES:
            p1 = analyse_paths(stored, goal=g1.recommended, exclude=proxies, scope=scope)
            p2 = analyse_paths(plain, goal=g2.recommended, exclude=proxies, scope=scope)
            assert p1.to_dict() == p2.to_dict()
        n1 = next_best_actions(stored, goal=g1.recommended, exclude=proxies)
        n2 = next_best_actions(plain, goal=g2.recommended, exclude=proxies)
        assert n1.to_dict() == n2.to_dict()
    finally:
        stored.close()
        plain.close()


# ---------------------------------------------------------------- variants by fingerprint


def test_variants_equal_an_exact_grouping_of_ordered_journeys(simulated):
    _, ev = pandas_journeys(simulated)  # events before the close, in (ts, file order)
    per = ev.groupby("lead_id").agg(
        path=("activity", tuple),
        outcome=("outcome", "first"),
        first=("ts", "min"),
        last=("ts", "max"),
    )
    per["days"] = (per["last"] - per["first"]).dt.total_seconds() / 86400
    want = {}
    for path, g in per.groupby("path"):
        want[path] = (
            len(g),
            int((g.outcome == "won").sum()),
            int((g.outcome == "lost").sum()),
            int((g.outcome == "open").sum()),
            float(g.days.median()),
        )

    ws = open_workspace(simulated / "ws.duckdb")
    try:
        got_t = j.variants(ws.table("events"), ws.table("leads")).to_pyarrow().to_pylist()
    finally:
        ws.close()
    got = {
        tuple(r["path"]): (r["leads"], r["won"], r["lost"], r["open"], r["median_days"])
        for r in got_t
    }
    assert len(got_t) == len(got) == len(want)  # no two fingerprints for one path, nor one for two
    assert {k: v[:4] for k, v in got.items()} == {k: v[:4] for k, v in want.items()}
    for k, v in want.items():
        assert got[k][4] == pytest.approx(v[4], abs=1e-9)
    assert all(r["key"] == j.SEP.join(r["path"]) for r in got_t)


def test_keys_computed_in_the_query_equal_the_stored_ones(small, tmp_path):
    small.con.execute("CHECKPOINT")
    plain = strip_keys(small.path, tmp_path / "plain.duckdb")
    try:
        derived = plain.table("events").select("seq", "pos").to_pandas().sort_values("seq")
    finally:
        plain.close()
    stored = small.con.execute("SELECT seq, pos FROM events ORDER BY seq").df()
    assert derived.pos.isna().tolist() == stored.pos.isna().tolist()
    assert derived.pos.dropna().astype(int).tolist() == stored.pos.dropna().astype(int).tolist()


def expected_occ(ev: pd.DataFrame) -> pd.Series:
    """Occurrence of each usable event's activity in its lead's journey, by (ts, seq)."""
    usable = ev[ev["mark"].isna()].sort_values(["lead_id", "ts", "seq"])
    occ = usable.groupby(["lead_id", "activity"], sort=False).cumcount() + 1
    return occ.reindex(ev.index)


def test_occurrences_stored_and_computed_in_the_query_equal_pandas(simulated, tmp_path):
    ws = open_workspace(simulated / "ws.duckdb", read_only=True)
    try:
        ev = ws.con.execute(
            "SELECT lead_id, CAST(activity AS VARCHAR) AS activity, ts, seq, mark, occ "
            "FROM events ORDER BY seq"
        ).df()
    finally:
        ws.close()
    want = expected_occ(ev)
    assert want.max() >= 3  # repeats are there to be counted
    assert ev.occ.isna().tolist() == want.isna().tolist()
    assert ev.occ.dropna().astype(int).tolist() == want.dropna().astype(int).tolist()
    plain = strip_keys(simulated / "ws.duckdb", tmp_path / "plain.duckdb")
    try:
        derived = plain.table("events").select("seq", "occ").to_pandas().sort_values("seq")
    finally:
        plain.close()
    assert derived.occ.isna().tolist() == want.isna().tolist()
    assert derived.occ.dropna().astype(int).tolist() == want.dropna().astype(int).tolist()


def test_materialized_chain_is_dropped_after_use_and_after_an_error(simulated):
    ws = open_workspace(simulated / "ws.duckdb")
    try:

        def temps():
            # intermediate tables: TEMP, or in the workspace's scratch database file
            return ws.con.execute(
                "SELECT table_name FROM duckdb_tables() "
                "WHERE temporary OR database_name LIKE 'rr_scratch%'"
            ).fetchall()

        analyse_paths(ws)
        next_best_actions(ws)
        assert temps() == []
        with pytest.raises(RuntimeError), ws.materialized(ws.table("events").limit(3), "x") as t:
            assert t.count().execute() == 3 and len(temps()) == 1
            assert re.fullmatch(r"_rr_x_\d+", temps()[0][0])
            raise RuntimeError
        assert temps() == []
    finally:
        ws.close()
