"""What ingest means: closes, as-of, event logs, event order, text that looks like a formula.

DESIGN.md: only events strictly before the close (or the as-of date for open leads)
count toward a milestone; events after are kept and marked. A lead closed after the
as-of date is open as of then. In an event log the close is the first outcome event.
"""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from conftest import Counts, accounting

import royalroad as rr
from royalroad.quality import summarise

LEADS = """lead_id,created_at,outcome,closed_at
W1,2024-01-01 09:00,won,2024-03-01 12:00
L1,2024-01-02 09:00,lost,2024-03-05 00:00
O1,2024-01-03 09:00,open,
"""
EVENTS = """lead_id,activity,ts
W1,call,2024-02-01 10:00
W1,demo,2024-03-01 11:59:59
W1,contract,2024-03-01 12:00
W1,kickoff,2024-03-02 09:00
L1,call,2024-03-04 23:59
L1,followup,2024-03-05 00:00
O1,call,2024-02-10 10:00
O1,demo,2024-04-10 10:00
"""


def _events(ws) -> list[tuple]:
    return ws.con.execute("SELECT lead_id, activity, mark FROM events ORDER BY seq").fetchall()


def test_events_at_or_after_close_are_marked(write):
    write("leads.csv", LEADS)
    write("events.csv", EVENTS)
    ws = rr.ingest(leads="leads.csv", events="events.csv")
    assert _events(ws) == [
        ("W1", "call", None),
        ("W1", "demo", None),  # one second before the close counts
        ("W1", "contract", "after_close"),  # at the close instant: part of the close, not a step
        ("W1", "kickoff", "after_close"),
        ("L1", "call", None),
        ("L1", "followup", "after_close"),
        ("O1", "call", None),
        ("O1", "demo", None),  # open lead, default as-of is the latest timestamp (this event)
    ]
    assert ws.meta()["as_of"] == "2024-04-10 10:00:00"


def test_user_as_of_reopens_later_closes_and_marks_later_events(write):
    write("leads.csv", LEADS)
    write("events.csv", EVENTS)
    ws = rr.ingest(leads="leads.csv", events="events.csv", as_of="2024-03-02")
    leads = ws.con.execute(
        "SELECT lead_id, outcome, closed_at FROM leads ORDER BY lead_id"
    ).fetchall()
    assert leads == [
        ("L1", "open", None),  # closed 2024-03-05, after the as-of date: still open then
        ("O1", "open", None),
        ("W1", "won", datetime(2024, 3, 1, 12)),
    ]
    assert _events(ws) == [
        ("W1", "call", None),
        ("W1", "demo", None),
        ("W1", "contract", "after_close"),
        ("W1", "kickoff", "after_close"),  # after close and after as-of: the close comes first
        ("L1", "call", "after_as_of"),
        ("L1", "followup", "after_as_of"),
        ("O1", "call", None),
        ("O1", "demo", "after_as_of"),
    ]
    summary = summarise(ws)
    assert (summary.won, summary.lost, summary.open) == (1, 0, 2)
    assert summary.events_marked == {"after_as_of": 3, "after_close": 2}
    assert summary.events_counted == 3


def test_leads_created_after_the_as_of_date_are_kept_but_left_out(write):
    """A backtest as of 2024-03-02 must not see N1, created on 2024-03-10: not as an open
    lead to advise, not in the counts, and its events and notes feed nothing."""
    from royalroad.analysis.nba import next_best_actions

    write("leads.csv", LEADS + "N1,2024-03-10 09:00,open,\n")
    write("events.csv", EVENTS + "N1,call,2024-02-20 10:00\nN1,demo,2024-03-11 10:00\n")
    write(
        "notes.csv", "lead_id,ts,text\nN1,2024-02-21 10:00,first contact\nO1,2024-02-11 10:00,ok\n"
    )
    ws = rr.ingest(leads="leads.csv", events="events.csv", notes="notes.csv", as_of="2024-03-02")
    assert accounting(ws)["leads.csv"] == Counts(4, 4, 0)  # nothing lost: N1 is kept, marked
    assert ws.con.execute("SELECT lead_id, mark FROM leads ORDER BY _line").fetchall() == [
        ("W1", None),
        ("L1", None),
        ("O1", None),
        ("N1", "after_as_of"),
    ]
    assert ws.con.execute(
        "SELECT activity, mark FROM events WHERE lead_id = 'N1' ORDER BY seq"
    ).fetchall() == [
        ("call", "after_as_of"),
        ("demo", "after_as_of"),
    ]  # even the one dated before the as-of date
    assert ws.con.execute("SELECT lead_id, mark FROM notes ORDER BY _line").fetchall() == [
        ("N1", "after_as_of"),
        ("O1", None),
    ]
    assert ws.table("leads").count().execute() == 3
    summary = summarise(ws)
    assert (summary.leads, summary.won, summary.lost, summary.open, summary.leads_after_as_of) == (
        3,
        1,
        0,
        2,
        1,
    )
    advised = next_best_actions(ws).leads.column("lead_id").to_pylist()
    assert sorted(advised) == ["L1", "O1"]


def test_events_before_the_lead_was_created_are_counted_and_reported(write):
    write("leads.csv", LEADS)
    # W1 met at a trade fair before its record was created; L1's is after its close (not counted)
    write("events.csv", EVENTS + "W1,trade_fair,2023-12-20 10:00\nL1,intro,2024-01-01 09:00\n")
    ws = rr.ingest(leads="leads.csv", events="events.csv")
    summary = summarise(ws)
    assert (
        summary.events_before_created == 2
    )  # W1 trade_fair (12-20), L1 intro (01-01 < 01-02 09:00)
    assert ws.con.execute("SELECT mark FROM events WHERE activity = 'trade_fair'").fetchone() == (
        None,
    )


def test_as_of_exactly_at_close_keeps_the_lead_closed(write):
    write("leads.csv", LEADS)
    write("events.csv", EVENTS)
    ws = rr.ingest(leads="leads.csv", events="events.csv", as_of="2024-03-01 12:00")
    assert ws.con.execute("SELECT outcome FROM leads WHERE lead_id = 'W1'").fetchone() == ("won",)


def test_notes_are_marked_like_events(write):
    write("leads.csv", LEADS)
    write("events.csv", EVENTS)
    write(
        "notes.csv",
        "lead_id,ts,text\nW1,2024-02-01,before\n"
        "W1,2024-03-01 12:00,at close\nO1,2024-05-01,later\n",
    )
    ws = rr.ingest(leads="leads.csv", events="events.csv", notes="notes.csv", as_of="2024-04-30")
    assert ws.con.execute("SELECT text, mark FROM notes ORDER BY _line").fetchall() == [
        ("before", None),
        ("at close", "after_close"),
        ("later", "after_as_of"),
    ]


# ------------------------------------------------------------------------ event logs
LOG = """case_id,activity,timestamp,lifecycle
A,submit,2024-01-01 09:00,complete
A,review,2024-01-02 09:00,complete
A,APPROVED,2024-01-03 09:00,complete
A,DECLINED,2024-01-04 09:00,complete
B,submit,2024-01-01 10:00,complete
B,CANCELLED,2024-01-02 10:00,complete
B,APPROVED,2024-01-05 10:00,complete
C,submit,2024-01-02 11:00,complete
C,review,2024-01-03 11:00,complete
D,submit,2024-01-02 12:00,complete
D,APPROVED,2024-01-03 12:00,start
D,DECLINED,2024-01-06 12:00,complete
E,review,2024-01-04 08:00,complete
E,submit,2024-01-02 08:00,complete
E,DECLINED,2024-01-04 08:00,complete
"""


def test_event_log_close_is_the_first_outcome_event(write):
    write("log.csv", LOG)
    ws = rr.ingest(events="log.csv", won=["APPROVED"], lost=["DECLINED", "CANCELLED"])
    leads = ws.con.execute(
        "SELECT lead_id, created_at, outcome, closed_at FROM leads ORDER BY lead_id"
    ).fetchall()
    assert leads == [
        ("A", datetime(2024, 1, 1, 9), "won", datetime(2024, 1, 3, 9)),  # approved before declined
        ("B", datetime(2024, 1, 1, 10), "lost", datetime(2024, 1, 2, 10)),  # cancelled first
        ("C", datetime(2024, 1, 2, 11), "open", None),  # neither: open
        (
            "D",
            datetime(2024, 1, 2, 12),
            "lost",
            datetime(2024, 1, 6, 12),
        ),  # a started approval is no close
        (
            "E",
            datetime(2024, 1, 2, 8),
            "lost",
            datetime(2024, 1, 4, 8),
        ),  # creation = earliest, not first row
    ]
    marks = ws.con.execute("SELECT lead_id, activity, mark FROM events ORDER BY seq").fetchall()
    assert marks == [
        ("A", "submit", None),
        ("A", "review", None),
        ("A", "APPROVED", "after_close"),
        ("A", "DECLINED", "after_close"),
        ("B", "submit", None),
        ("B", "CANCELLED", "after_close"),
        ("B", "APPROVED", "after_close"),
        ("C", "submit", None),
        ("C", "review", None),
        ("D", "submit", None),
        ("D", "APPROVED", "not_complete"),
        ("D", "DECLINED", "after_close"),
        ("E", "review", "after_close"),  # same instant as the close
        ("E", "submit", None),
        ("E", "DECLINED", "after_close"),
    ]
    assert accounting(ws) == {"log.csv": Counts(15, 15, 0)}
    assert ws.meta()["mode"] == "log"


def test_event_log_with_bad_rows_counts_every_row(write):
    write(
        "log.csv",
        LOG + "F,submit,someday,complete\n,submit,2024-01-02,complete\nF,,2024-01-02,complete\n",
    )
    ws = rr.ingest(events="log.csv", won=["APPROVED"], lost=["DECLINED", "CANCELLED"])
    assert accounting(ws) == {"log.csv": Counts(18, 15, 3)}
    assert ws.con.execute("SELECT line, reason FROM quarantine ORDER BY line").fetchall() == [
        (17, "bad_timestamp"),
        (18, "missing_id"),
        (19, "missing_activity"),
    ]


def test_event_log_lifecycle_all_counts_started_approval(write):
    write("log.csv", LOG)
    ws = rr.ingest(
        events="log.csv", won=["APPROVED"], lost=["DECLINED", "CANCELLED"], lifecycle="all"
    )
    assert ws.con.execute(
        "SELECT outcome, closed_at FROM leads WHERE lead_id = 'D'"
    ).fetchone() == ("won", datetime(2024, 1, 3, 12))


# --------------------------------------------------------------------------- event order
def test_seq_follows_source_order_for_equal_timestamps(write):
    write(
        "leads.csv",
        "lead_id,created_at,outcome,closed_at\nA,2024-01-01,won,2024-02-01\nB,2024-01-01,open,\n",
    )
    same = "2024-01-10 10:00"
    write(
        "e1.csv",
        f"lead_id,activity,ts\nA,z-step,{same}\nA,a-step,{same}\nB,m-step,{same}\nA,b-step,{same}\n",
    )
    write("e2.csv", f"lead_id,activity,ts\nA,first-of-file-2,{same}\nA,second,2024-01-09\n")
    ws = rr.ingest(leads="leads.csv", events=["e1.csv", "e2.csv"])
    rows = ws.con.execute("SELECT seq, activity, _file, _line FROM events ORDER BY seq").fetchall()
    assert [r[1] for r in rows] == [
        "z-step",
        "a-step",
        "m-step",
        "b-step",
        "first-of-file-2",
        "second",
    ]
    assert [r[0] for r in rows] == [1, 2, 3, 4, 5, 6]
    # ordering by (ts, seq) keeps the source order among ties
    ordered = ws.con.execute(
        "SELECT activity FROM events WHERE lead_id = 'A' ORDER BY ts, seq"
    ).fetchall()
    assert [r[0] for r in ordered] == ["second", "z-step", "a-step", "b-step", "first-of-file-2"]


# ------------------------------------------------------------------ formula-looking text
FORMULAS = ["=cmd|' /C calc'!A0", "+1", "-2", "@SUM(A1)", "=1+1", '=HYPERLINK("http://x","y")']


def test_formula_looking_text_stays_text_byte_identical(write):
    def q(v: str) -> str:
        return '"' + v.replace('"', '""') + '"'

    leads = "lead_id,created_at,outcome,closed_at,source\n" + "".join(
        f"F{i},2024-01-01,won,2024-02-01,{q(v)}\n" for i, v in enumerate(FORMULAS)
    )
    events = "lead_id,activity,ts\n" + "".join(
        f"F{i},{q(v)},2024-01-10\n" for i, v in enumerate(FORMULAS)
    )
    notes = "lead_id,ts,text\n" + "".join(
        f"F{i},2024-01-10,{q(v)}\n" for i, v in enumerate(FORMULAS)
    )
    write("leads.csv", leads)
    write("events.csv", events)
    write("notes.csv", notes)
    ws = rr.ingest(leads="leads.csv", events="events.csv", notes="notes.csv")
    expected = {f"F{i}": v for i, v in enumerate(FORMULAS)}
    for table, col in (("leads", "source"), ("events", "activity"), ("notes", "text")):
        got = dict(ws.con.execute(f"SELECT lead_id, {col} FROM {table}").fetchall())
        assert got == expected, table
        for lead, value in got.items():
            assert value.encode("utf-8") == expected[lead].encode("utf-8")
    assert accounting(ws) == {
        "leads.csv": Counts(6, 6, 0),
        "events.csv": Counts(6, 6, 0),
        "notes.csv": Counts(6, 6, 0),
    }


def test_formula_in_quarantined_row_is_kept_verbatim(write):
    write(
        "leads.csv",
        "lead_id,created_at,outcome,closed_at,amount\nF1,2024-01-01,won,2024-02-01,=1+1\n"
        "F2,2024-01-01,lost,2024-02-01,\n",
    )
    ws = rr.ingest(leads="leads.csv")
    reason, value, raw = ws.con.execute("SELECT reason, value, raw FROM quarantine").fetchone()
    assert (reason, value) == ("bad_amount", "=1+1")
    assert json.loads(raw)["amount"] == "=1+1"


# ------------------------------------------------------------------- several files
def test_two_leads_files_duplicate_across_files(write):
    write(
        "a.csv",
        "lead_id,created_at,outcome,closed_at\nL1,2024-01-01,won,2024-02-01\nL2,2024-01-02,open,\n",
    )
    write(
        "b.csv",
        "lead_id,created_at,outcome,closed_at\nL2,2024-01-02,open,\nL3,2024-01-03,lost,2024-02-03\n"
        "L1,2024-01-01,lost,2024-02-01\n",
    )
    ws = rr.ingest(leads=["a.csv", "b.csv"])
    assert accounting(ws) == {"a.csv": Counts(2, 2, 0), "b.csv": Counts(3, 1, 2)}
    assert ws.con.execute(
        "SELECT file, line, reason, value FROM quarantine ORDER BY line"
    ).fetchall() == [
        ("b.csv", 2, "duplicate_lead", "L2 @ a.csv:3"),
        ("b.csv", 4, "conflicting_lead", "L1 @ a.csv:2"),
    ]
    assert ws.con.execute("SELECT lead_id, outcome FROM leads WHERE lead_id = 'L1'").fetchone() == (
        "L1",
        "won",
    )


@pytest.mark.parametrize(
    "value, outcome",
    [
        ("Won", "won"),
        (" WON ", "won"),
        ("Ｗｏｎ", "won"),
        ("Closed Won", "won"),
        ("closed_lost", "lost"),
        ("Lost", "lost"),
        ("Ｌｏｓｔ\u3000", "lost"),
        ("in progress", "open"),
        ("Pending", "open"),
    ],
)
def test_regression_outcome_values_are_compared_after_nfkc(write, value, outcome):
    """Bug: full-width 'Ｗｏｎ' was an unknown outcome although values are documented as
    NFKC-compared."""
    write(
        "leads.csv",
        f"lead_id,created_at,outcome,closed_at\nX,2024-01-01,{value},2024-02-01\n"
        "Y,2024-01-01,won,2024-02-01\n",
    )
    ws = rr.ingest(leads="leads.csv")
    assert ws.con.execute("SELECT outcome FROM leads WHERE lead_id = 'X'").fetchone() == (outcome,)


def test_lead_ids_typed_in_full_width_match_their_ascii_form(write):
    """An id typed with a Japanese IME (ＬＤ－００１, ideographic spaces) is the same lead
    as the CRM's LD-001; an id differing in anything but width stays another lead."""
    write(
        "leads.csv",
        "lead_id,created_at,outcome,closed_at\n"
        "ＬＤ－００１,2024-01-01,won,2024-02-01\n"
        "\u3000LD-002\u3000,2024-01-02,open,\n"
        "LD-003,2024-01-03,lost,2024-02-03\n"
        "LD-001,2024-01-01,won,2024-02-01\n",
        encoding="cp932",
    )
    write(
        "events.csv",
        "lead_id,activity,ts\n"
        "LD-001,訪問,2024-01-05\n"
        "ＬＤ－００２,訪問,2024-01-06\n"
        "ld-003,訪問,2024-01-07\n"
        "LD-OO3,訪問,2024-01-07\n",
        encoding="cp932",
    )
    ws = rr.ingest(leads="leads.csv", events="events.csv")
    assert accounting(ws) == {"leads.csv": Counts(4, 3, 1), "events.csv": Counts(4, 2, 2)}
    assert [
        r[0] for r in ws.con.execute("SELECT lead_id FROM leads ORDER BY _line").fetchall()
    ] == ["LD-001", "LD-002", "LD-003"]
    assert ws.con.execute(
        "SELECT table_name, line, reason, value FROM quarantine ORDER BY table_name, line"
    ).fetchall() == [
        ("events", 4, "unknown_lead", "ld-003"),  # case is not width: a different id
        ("events", 5, "unknown_lead", "LD-OO3"),  # letter O, not zero
        ("leads", 5, "duplicate_lead", "LD-001 @ leads.csv:2"),
    ]
    assert ws.con.execute("SELECT lead_id FROM events ORDER BY seq").fetchall() == [
        ("LD-001",),
        ("LD-002",),
    ]


def test_won_lost_values_override_for_a_leads_table(write):
    write(
        "leads.csv",
        "lead_id,created_at,outcome,closed_at\nA,2024-01-01,Signed,2024-02-01\n"
        "B,2024-01-01,Dropped,2024-02-01\nC,2024-01-01,won,2024-02-01\n",
    )
    ws = rr.ingest(leads="leads.csv", won=["Signed"], lost=["Dropped"])
    assert ws.con.execute("SELECT lead_id, outcome FROM leads ORDER BY lead_id").fetchall() == [
        ("A", "won"),
        ("B", "lost"),
    ]
    assert ws.con.execute("SELECT line, reason, value FROM quarantine").fetchall() == [
        (4, "unknown_outcome", "won")
    ]


def test_regression_connection_is_idle_after_ingest(write):
    """Bug: with DuckDB 2.0, ws.con.sql(...) right after ingest raised 'unfinished result'."""
    write("leads.csv", LEADS)
    ws = rr.ingest(leads="leads.csv")
    assert ws.con.sql("SELECT count(*) FROM leads").fetchall() == [(3,)]


AMOUNTS = {
    "1,200": 1200.0,
    "¥1,200": 1200.0,
    "￥1,200": 1200.0,
    "1,200円": 1200.0,
    "1 234 円": 1234.0,
    "$12.50": 12.5,
    "JPY 1000": 1000.0,
    "１，２００": 1200.0,
    "1,234,567.5": 1234567.5,
    "1e3": 1000.0,
    "1.234,56": 1234.56,
    "12,5": 12.5,
    "1,2345": 1.2345,
    "0": 0.0,
    ".5": 0.5,
    # not amounts: quarantined as bad_amount, never guessed
    "(5)": None,
    "12,34,5": None,
    "1,2,3": None,
    "NaN": None,
    "-inf": None,
    "1e309": None,
    "abc": None,
    "--1": None,
}


def test_regression_amount_spellings(write):
    """Bugs: '1,5' became 15, '1.234,56' became 1.23456, NaN/inf/overflow were accepted."""
    rows = "".join(f'A{i},2024-01-01,won,2024-02-01,"{v}"\n' for i, v in enumerate(AMOUNTS))
    write("leads.csv", "lead_id,created_at,outcome,closed_at,amount\n" + rows)
    ws = rr.ingest(leads="leads.csv")
    got = dict(ws.con.execute("SELECT lead_id, amount FROM leads").fetchall())
    bad = dict(ws.con.execute("SELECT value, reason FROM quarantine").fetchall())
    for i, (value, expected) in enumerate(AMOUNTS.items()):
        if expected is None:
            assert bad.get(value) == "bad_amount", value
        else:
            assert got[f"A{i}"] == expected, value
