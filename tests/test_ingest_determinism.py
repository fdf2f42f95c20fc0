"""Determinism: the same files give the same canonical tables and the same summary,
byte for byte, whatever the number of engine threads."""

from __future__ import annotations

import random

from conftest import accounting

import royalroad as rr
import royalroad.io.load as load
from royalroad.engine import connect
from royalroad.quality import summarise

TABLES = ("leads", "events", "notes", "quarantine", "files", "meta")


def _write_dataset(write, n_leads: int = 1500, seed: int = 7) -> None:
    rnd = random.Random(seed)
    leads = ["lead_id,created_at,outcome,closed_at,amount,industry"]
    events = ["lead_id,activity,ts,rep"]
    notes = ["lead_id,ts,text"]
    for i in range(n_leads):
        lid = f"L{i:05d}"
        day = 1 + rnd.randrange(28)
        outcome = rnd.choice(["won", "lost", "open", "open", "maybe"])
        closed = f"2024-03-{day:02d}" if outcome in ("won", "lost") else ""
        amount = rnd.choice(["", "1,200", "-3", "x", "500"])
        leads.append(
            f'{lid},2024-01-{day:02d},{outcome},{closed},"{amount}",'
            f"{rnd.choice(['mfg', 'it', '=x'])}"
        )
        if rnd.random() < 0.02:
            leads.append(leads[-1])  # duplicate
        for _ in range(rnd.randrange(8)):
            # coarse timestamps: many ties within a lead, resolved by source order
            ts = (
                f"2024-0{rnd.choice([1, 2, 3])}-{1 + rnd.randrange(28):02d} "
                f"{rnd.choice(['09:00', '10:00'])}"
            )
            act = rnd.choice(["call", "mail", "demo", "visit", "trial", ""])
            events.append(
                f"{rnd.choice([lid, lid, lid, 'L99999'])},{act},{ts},{rnd.choice(['a', 'b'])}"
            )
        if rnd.random() < 0.3:
            notes.append(f'{lid},2024-02-{day:02d},"note, {i}\nline two"')
    write("leads.csv", "\n".join(leads) + "\n")
    write("events.csv", "\n".join(events) + "\n")
    write("notes.csv", "\n".join(notes) + "\n")


def _snapshot(ws) -> dict:
    out = {t: ws.con.sql(f"SELECT * FROM {t}").to_arrow_table() for t in TABLES}
    out["summary"] = summarise(ws).to_json()
    return out


def _ingest(threads: int, monkeypatch):
    def connect_with_threads(path=None, **kwargs):
        con = connect(path, **kwargs)
        con.execute(f"SET threads = {threads}")
        return con

    monkeypatch.setattr(load, "connect", connect_with_threads)
    return rr.ingest(leads="leads.csv", events="events.csv", notes="notes.csv")


def test_same_input_same_tables_and_summary(write, monkeypatch):
    _write_dataset(write)
    first = _snapshot(_ingest(1, monkeypatch))
    second = _snapshot(_ingest(4, monkeypatch))
    third = _snapshot(_ingest(4, monkeypatch))
    for name in (*TABLES, "summary"):
        assert first[name] == second[name] == third[name], name
    assert first["events"].num_rows > 1000  # enough rows for several threads to matter
    assert first["quarantine"].num_rows > 100


def test_small_input_twice_identical(write):
    _write_dataset(write, n_leads=60, seed=3)
    a = rr.ingest(leads="leads.csv", events="events.csv", notes="notes.csv")
    b = rr.ingest(leads="leads.csv", events="events.csv", notes="notes.csv")
    accounting(a)
    sa, sb = _snapshot(a), _snapshot(b)
    for name in (*TABLES, "summary"):
        assert sa[name] == sb[name], name


def test_workspace_file_equals_in_memory(write, tmp_path):
    _write_dataset(write, n_leads=60, seed=5)
    mem = _snapshot(rr.ingest(leads="leads.csv", events="events.csv", notes="notes.csv"))
    disk = _snapshot(
        rr.ingest(
            leads="leads.csv",
            events="events.csv",
            notes="notes.csv",
            workspace=tmp_path / "ws.duckdb",
        )
    )
    for name in (*TABLES, "summary"):
        assert mem[name] == disk[name], name
