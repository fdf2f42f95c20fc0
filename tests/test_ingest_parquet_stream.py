"""Parquet input streams into DuckDB batch by batch: same tables, same lines, no loss.

The reader keeps only the footers (``read_parquet``); the rows are read a batch at a
time while they are staged. These tests check what that must not change: every row
accounted for (read = accepted + quarantined), ``_line`` numbered across files and
row groups, a damaged file named in one line, and values DuckDB cannot hold
quarantined instead of crashing the engine.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from royalroad.io.load import ingest


def _leads(n: int) -> pa.Table:
    ids = [f"L{i:04d}" for i in range(n)]
    return pa.table(
        {
            "lead_id": ids,
            "created_at": [dt.datetime(2024, 1, 1) + dt.timedelta(days=i % 90) for i in range(n)],
            "outcome": [("won", "lost", "")[i % 3] for i in range(n)],
            "closed_at": [
                dt.datetime(2024, 6, 1) + dt.timedelta(days=i % 30) if i % 3 < 2 else None
                for i in range(n)
            ],
        }
    )


def _events(n_leads: int, per_lead: int) -> pa.Table:
    rows = [(f"L{i:04d}", j) for i in range(n_leads) for j in range(per_lead)]
    return pa.table(
        {
            "lead_id": [r[0] for r in rows],
            "activity": [f"  step {r[1]}\u3000" for r in rows],  # trimmed on the way in
            "ts": [dt.datetime(2024, 2, 1) + dt.timedelta(hours=r[1]) for r in rows],
        }
    )


def test_a_folder_of_row_groups_streams_with_lines_in_order(tmp_path: Path) -> None:
    leads = _leads(300)
    events = _events(300, 10)  # 3,000 rows
    # one row without an activity, at a known place in the third file
    bad = 2 * 1000 + 417  # 0-based position in the whole folder
    activity = events["activity"].to_pylist()
    activity[bad] = "   "
    events = events.set_column(1, "activity", pa.array(activity))
    folder = tmp_path / "events"
    folder.mkdir()
    for k in range(3):  # three files of 1,000 rows, row groups of 128: many batches
        pq.write_table(events.slice(1000 * k, 1000), folder / f"part-{k}.parquet", 128)
    pq.write_table(leads, tmp_path / "leads.parquet")

    ws = ingest(leads=tmp_path / "leads.parquet", events=folder, tz="UTC")
    con = ws.con
    read, ok, quarantined = con.execute(
        "SELECT rows_read, accepted, quarantined FROM files WHERE table_name = 'events'"
    ).fetchone()
    assert read == 3000 and ok + quarantined == read
    assert con.execute(
        "SELECT reason, line FROM quarantine WHERE table_name = 'events'"
    ).fetchall() == [("missing_activity", bad + 1)]
    names = {r[0] for r in con.execute("SELECT DISTINCT activity FROM events").fetchall()}
    assert names == {f"step {j}" for j in range(10)}  # full-width space and blanks trimmed
    ws.close()


def test_seconds_beyond_what_duckdb_holds_are_quarantined(tmp_path: Path) -> None:
    """A timestamp[s] of 10**15 s (year ~31.7 million) cannot become microseconds:
    DuckDB's cast would fail inside the engine and invalidate the database."""
    pq.write_table(_leads(30), tmp_path / "leads.parquet")
    events = _events(30, 3)
    ticks = pa.compute.cast(events["ts"], pa.timestamp("s")).cast(pa.int64()).to_pylist()
    ticks[4] = 10**15
    events = events.set_column(2, "ts", pa.array(ticks, pa.int64()).cast(pa.timestamp("s")))
    pq.write_table(events, tmp_path / "events.parquet")

    ws = ingest(leads=tmp_path / "leads.parquet", events=tmp_path / "events.parquet", tz="UTC")
    rows = ws.con.execute(
        "SELECT reason, line, column_name, value FROM quarantine WHERE table_name = 'events'"
    ).fetchall()
    # Parquet stores seconds as milliseconds
    assert rows == [("out_of_range_timestamp", 5, "ts", f"{10**18}ms")]
    assert ws.con.execute("SELECT count(*) FROM events").fetchone()[0] == 89
    ws.close()


def test_a_damaged_parquet_file_is_one_line_exit_2(tmp_path: Path) -> None:
    pq.write_table(_leads(300), tmp_path / "leads.parquet")
    pq.write_table(_events(300, 10), tmp_path / "events.parquet", compression="snappy")
    data = bytearray((tmp_path / "events.parquet").read_bytes())
    mid = len(data) // 2
    data[mid : mid + 400] = bytes((b * 7 + 13) % 256 for b in data[mid : mid + 400])
    (tmp_path / "bad.parquet").write_bytes(bytes(data))
    royalroad = Path(sys.executable).with_name("royalroad")
    out = subprocess.run(
        [
            str(royalroad),
            "ingest",
            "--leads",
            "leads.parquet",
            "--events",
            "bad.parquet",
            "--workspace",
            "ws.duckdb",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"LANG": "C.UTF-8", "TZ": "UTC", "PATH": "/usr/bin:/bin"},
    )
    assert out.returncode == 2, out.stderr
    lines = [x for x in out.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and "bad.parquet" in lines[0], out.stderr
    assert not (tmp_path / "ws.duckdb").exists()  # no half-written workspace left


def test_events_of_unknown_or_quarantined_leads_keep_their_raw_values(tmp_path: Path) -> None:
    """Event rows keep their JSON only when they may be quarantined: their own problem,
    or a lead that is not among the accepted ones. Those rows must still carry every
    source value keyed by the source's headers."""
    leads = _leads(4)
    closed = leads["closed_at"].to_pylist()
    closed[1] = dt.datetime(2023, 1, 1)  # closed before it was created: quarantined
    leads = leads.set_column(3, "closed_at", pa.array(closed, pa.timestamp("us")))
    pq.write_table(leads, tmp_path / "leads.parquet")
    events = pa.table(
        {
            "lead_id": ["L0000", "L0001", "ZZZ", "L0002"],
            "activity": ["call", "visit", "mail", " "],
            "ts": [dt.datetime(2024, 2, 1, 9)] * 4,
            "owner": ["a", "b", "c", "d"],
        }
    )
    pq.write_table(events, tmp_path / "events.parquet")
    ws = ingest(leads=tmp_path / "leads.parquet", events=tmp_path / "events.parquet", tz="UTC")
    rows = ws.con.execute(
        "SELECT line, reason, raw FROM quarantine WHERE table_name = 'events' ORDER BY line"
    ).fetchall()
    assert [(line, reason) for line, reason, _ in rows] == [
        (2, "quarantined_lead"),
        (3, "unknown_lead"),
        (4, "missing_activity"),
    ]
    assert [json.loads(raw) for _, _, raw in rows] == [
        {"lead_id": "L0001", "activity": "visit", "ts": "2024-02-01 09:00:00", "owner": "b"},
        {"lead_id": "ZZZ", "activity": "mail", "ts": "2024-02-01 09:00:00", "owner": "c"},
        {"lead_id": "L0002", "activity": " ", "ts": "2024-02-01 09:00:00", "owner": "d"},
    ]
    assert ws.con.execute("SELECT lead_id FROM events").fetchall() == [("L0000",)]
    ws.close()
