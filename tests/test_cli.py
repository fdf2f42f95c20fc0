"""The command line: validate and ingest, table and JSON output, languages, exit codes.

Counts in the expected output are made by hand from the small inputs below.
"""

from __future__ import annotations

import json

import duckdb
import pytest
from typer.testing import CliRunner

import royalroad as rr
from royalroad.cli import app
from royalroad.quality import summarise

LEADS = """lead_id,created_at,outcome,closed_at,amount,industry
L1,2024-01-01,won,2024-02-01,"1,000",mfg
L2,2024-01-02,lost,2024-02-03,,it
L3,2024-01-03,open,,,it
L4,2024-01-04,maybe,,,it
L1,2024-01-01,won,2024-02-01,"1,000",mfg
"""
EVENTS = """lead_id,activity,ts
L1,call,2024-01-05 10:00
L1,demo,2024-02-01
L1,after,2024-02-02
L2,call,2024/01/05 13:00
L9,call,2024-01-05
L4,call,2024-01-05
L3,=cmd|' /C calc'!A0,45296.5
"""
# By hand: leads 5 read, 3 accepted (L4 unknown outcome, second L1 duplicate);
# events 7 read, 5 accepted (L9 unknown lead, L4 quarantined lead);
# L1 closes on 2024-02-01 with no time: the end of that day, so its demo that day counts and
# only "after" is after_close: 4 counted events, activities call, demo and =cmd….
FILES = {"leads.csv": (5, 3, 2), "events.csv": (7, 5, 2)}


def run(*args, env=None):
    result = CliRunner().invoke(app, list(args), env=env)
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    return result


@pytest.fixture
def inputs(write):
    write("leads.csv", LEADS)
    write("events.csv", EVENTS)
    return ["--leads", "leads.csv", "--events", "events.csv"]


def _files_json(data) -> dict:
    return {f["file"]: (f["rows_read"], f["accepted"], f["quarantined"]) for f in data["files"]}


def test_validate_json(inputs):
    result = run("validate", *inputs, "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert _files_json(data) == FILES
    assert (data["leads"], data["won"], data["lost"], data["open"]) == (3, 1, 1, 1)
    assert (data["events"], data["events_counted"], data["events_marked"]) == (
        5,
        4,
        {"after_close": 1},
    )
    assert data["activities"] == 3
    assert data["rows_read"] == 12 and data["quarantined"] == 4
    assert {(r["file"], r["reason"], r["count"]) for r in data["reasons"]} == {
        ("leads.csv", "unknown_outcome", 1),
        ("leads.csv", "duplicate_lead", 1),
        ("events.csv", "unknown_lead", 1),
        ("events.csv", "quarantined_lead", 1),
    }
    assert data["segments"] == ["industry"]
    assert data["as_of"] == "2024-02-03 23:59:59.999999" and data["tz"] == "UTC"


def test_validate_table(inputs):
    result = run("validate", *inputs, "--lang", "en")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "\x1b[" not in out  # plain text when not a terminal
    assert "Rows per file" in out
    cells = [
        [c.strip() for c in line.split("│")[1:-1]]
        for line in out.splitlines()
        if line.startswith("│")
    ]
    rows = {c[1]: c[4:7] for c in cells if c[0] in ("leads", "events")}
    assert rows == {"leads.csv": ["5", "3", "2"], "events.csv": ["7", "5", "2"]}
    assert "line 5 outcome=maybe" in out
    assert "line 6 lead_id=L9" in out
    assert (
        "3 leads (1 won, 1 lost, 1 open) · 5 events (4 before close, 3 activities) · 0 notes" in out
    )
    assert "Kept but not used for milestones: after close 1" in out
    assert "As of 2024-02-03 23:59:59.999999 (UTC): later closes count as open." in out
    assert "Segments: industry" in out
    assert result.stderr == ""


def test_validate_writes_nothing(inputs, tmp_path):
    before = sorted(p.name for p in tmp_path.iterdir())
    assert run("validate", *inputs).exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == before


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_ingest_writes_a_workspace(inputs, tmp_path, fmt):
    ws_path = tmp_path / "out" / "ws.duckdb"
    result = run("ingest", *inputs, "--workspace", str(ws_path), "--format", fmt)
    assert result.exit_code == 0, result.stderr
    if fmt == "json":
        assert _files_json(json.loads(result.stdout)) == FILES
    else:
        assert f"Workspace written: {ws_path}" in result.stdout
    # The file is a real DuckDB database with the canonical and bookkeeping tables.
    con = duckdb.connect(str(ws_path), read_only=True)
    tables = {r[0] for r in con.execute("SHOW TABLES").fetchall()}
    assert {"leads", "events", "notes", "quarantine", "files", "meta"} <= tables
    assert con.execute("SELECT count(*) FROM leads").fetchone() == (3,)
    assert con.execute("SELECT count(*) FROM quarantine").fetchone() == (4,)
    assert con.execute("SELECT activity FROM events WHERE lead_id = 'L3'").fetchone() == (
        "=cmd|' /C calc'!A0",
    )
    con.close()
    # ... and it can be reopened, by the library and by validate --workspace.
    ws = rr.open_workspace(ws_path)
    assert (summarise(ws).won, summarise(ws).lost) == (1, 1)
    ws.close()
    again = run("validate", "--workspace", str(ws_path), "--format", "json")
    assert again.exit_code == 0, again.stderr
    assert _files_json(json.loads(again.stdout)) == FILES


def test_ingest_twice_into_the_same_workspace_replaces_it(inputs, tmp_path, write):
    ws_path = tmp_path / "ws.duckdb"
    assert run("ingest", *inputs, "-w", str(ws_path)).exit_code == 0
    write("leads2.csv", "lead_id,created_at,outcome,closed_at\nA,2024-01-01,won,2024-02-01\n")
    assert run("ingest", "--leads", "leads2.csv", "-w", str(ws_path)).exit_code == 0
    con = duckdb.connect(str(ws_path), read_only=True)
    assert con.execute("SELECT lead_id FROM leads").fetchall() == [("A",)]
    assert con.execute("SELECT count(*) FROM events").fetchone() == (0,)
    assert con.execute("SELECT count(*) FROM quarantine").fetchone() == (0,)
    con.close()


def test_ingest_default_workspace_name(inputs, tmp_path):
    assert run("ingest", *inputs).exit_code == 0
    assert (tmp_path / "royalroad.duckdb").is_file()


def test_validate_workspace_that_is_not_one(write):
    write("x.duckdb", "not a database")
    result = run("validate", "--workspace", "x.duckdb")
    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith("error: x.duckdb: cannot open the workspace database (")


def test_missing_workspace(write):
    result = run("validate", "--workspace", "none.duckdb")
    assert (result.exit_code, result.stderr) == (2, "error: none.duckdb: file not found\n")


# ------------------------------------------------------------------------- languages
JA_CONTENT = (
    "リード 3 件(受注 1・失注 1・商談中 1)・イベント 5 件(クローズ前 4 件、活動 3 種類)・メモ 0 件"
)


def test_lang_ja_option(inputs):
    result = run("validate", *inputs, "--lang", "ja")
    assert result.exit_code == 0
    assert "ファイルごとの行数" in result.stdout
    assert JA_CONTENT in result.stdout
    assert "5行目 outcome=maybe" in result.stdout
    assert "不明な結果の値" in result.stdout


def test_japanese_locale_is_the_default(inputs):
    result = run("validate", *inputs, env={"LANG": "ja_JP.UTF-8"})
    assert result.exit_code == 0
    assert JA_CONTENT in result.stdout


def test_lc_all_overrides_lang(inputs):
    result = run("validate", *inputs, env={"LANG": "ja_JP.UTF-8", "LC_ALL": "en_US.UTF-8"})
    assert "3 leads (1 won, 1 lost, 1 open)" in result.stdout


def test_lang_option_overrides_locale(inputs):
    result = run("validate", *inputs, "--lang", "en", env={"LANG": "ja_JP.UTF-8"})
    assert "3 leads (1 won, 1 lost, 1 open)" in result.stdout


def test_japanese_locale_error_line(write):
    result = run("validate", "--leads", "nope.csv", env={"LANG": "ja_JP.UTF-8"})
    assert (result.exit_code, result.stderr) == (2, "エラー: nope.csv: ファイルが見つかりません\n")


def test_language_does_not_leak_between_invocations(inputs):
    assert JA_CONTENT in run("validate", *inputs, "--lang", "ja").stdout
    assert "3 leads (1 won" in run("validate", *inputs).stdout


def test_json_is_language_independent(inputs):
    en = json.loads(run("validate", *inputs, "-f", "json", "--lang", "en").stdout)
    ja = json.loads(run("validate", *inputs, "-f", "json", "--lang", "ja").stdout)
    assert en == ja


# ---------------------------------------------------------------------- exit codes
def test_exit_codes(inputs):
    assert run("validate", *inputs).exit_code == 0
    assert run("validate", "--leads", "missing.csv").exit_code == 2
    assert run("ingest").exit_code == 2
    assert run("validate").exit_code == 2
    assert run("validate", *inputs, "--format", "yaml").exit_code == 2  # click usage error


def test_ingest_without_input_is_one_line(write):
    result = run("ingest", "--lang", "en")
    assert (result.exit_code, result.stderr) == (
        2,
        "error: no input: give --leads (with --events) "
        "or an event log with --events and --won/--lost\n",
    )


def test_event_log_with_comma_separated_outcomes(write):
    write(
        "log.csv",
        "case_id,activity,timestamp\nA,submit,2024-01-01\nA,ok,2024-01-02\nB,submit,2024-01-01\n"
        "B,no,2024-01-03\nC,submit,2024-01-02\nC,gone,2024-01-04\nD,submit,2024-01-02\n",
    )
    result = run(
        "validate", "--events", "log.csv", "--won", "ok", "--lost", "no,gone", "-f", "json"
    )
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["won"], data["lost"], data["open"], data["mode"]) == (1, 2, 1, "log")
    # --log is an alias of --events, and --lost may be repeated
    result = run(
        "validate",
        "--log",
        "log.csv",
        "--won",
        "ok",
        "--lost",
        "no",
        "--lost",
        "gone",
        "-f",
        "json",
    )
    assert json.loads(result.stdout)["lost"] == 2


def test_options_reach_the_library(write):
    write(
        "leads.csv",
        "lead_id,created_at,outcome,closed_at\nA,05/01/2024,won,06/01/2024 09:00+09:00\n"
        "B,05/01/2024,lost,07/01/2024\n",
    )
    result = run(
        "validate",
        "--leads",
        "leads.csv",
        "--dayfirst",
        "--tz",
        "Asia/Tokyo",
        "--as-of",
        "2024-01-06 12:00",
        "-f",
        "json",
    )
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    # Day-first: A closed 6 January (before the as-of date), B on 7 January (after it: open).
    assert (data["won"], data["lost"], data["open"]) == (1, 0, 1)
    assert (data["as_of"], data["tz"]) == ("2024-01-06 12:00:00", "Asia/Tokyo")


def test_rich_markup_in_names_and_values_is_shown_literally(write):
    write(
        "[x].csv",
        "lead_id,created_at,outcome,closed_at\nA,2024-01-01,won,2024-02-01\n[/red],2024-01-01,[bold]x,\n",
    )
    write("[m].toml", "[leads]\nlead_id = 'lead_id'\n")
    result = run("validate", "--leads", "[x].csv", "--mapping", "[m].toml", "--lang", "en")
    assert result.exit_code == 0, result.stderr
    assert "[x].csv" in result.stdout
    assert "canonical+[m]" in result.stdout
    assert "outcome=[bold]x" in result.stdout


def test_regression_failed_ingest_keeps_the_previous_workspace(inputs, tmp_path, write):
    """Bug: a failing ingest left a half-built (or empty) DuckDB file at --workspace."""
    ws_path = tmp_path / "ws.duckdb"
    assert run("ingest", *inputs, "-w", str(ws_path)).exit_code == 0
    write("open.csv", "lead_id,created_at,outcome,closed_at\nA,2024-01-01,open,\n")
    failed = run("ingest", "--leads", "open.csv", "-w", str(ws_path))
    assert failed.exit_code == 2
    assert failed.stderr.startswith("error: open.csv: no closed (won or lost) leads")
    ws = rr.open_workspace(ws_path)  # still the first workspace, complete
    assert ws.con.execute("SELECT count(*) FROM leads").fetchall() == [(3,)]
    ws.close()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("ws")) == ["ws.duckdb"]


def test_failed_ingest_leaves_no_file(inputs, tmp_path):
    result = run("ingest", "--leads", "missing.csv", "-w", str(tmp_path / "new.duckdb"))
    assert result.exit_code == 2
    assert not any(p.name.startswith("new.duckdb") for p in tmp_path.iterdir())


def test_note_for_unknown_lead_is_not_called_an_event(write):
    write("leads.csv", "lead_id,created_at,outcome,closed_at\nA,2024-01-01,won,2024-02-01\n")
    write("notes.csv", "lead_id,ts,text\nZ,2024-01-05,hello\n")
    result = run("validate", "--leads", "leads.csv", "--notes", "notes.csv", "--lang", "en")
    assert "event or note for an unknown lead" in result.stdout
    assert "line 2 lead_id=Z" in result.stdout


def _crm_db(write) -> str:
    """LEADS and EVENTS above as two text tables of one SQLite database."""
    import csv
    import io
    import sqlite3

    write("crm.db", b"")
    with sqlite3.connect("crm.db") as con:
        for name, text in (("deals", LEADS), ("activities", EVENTS)):
            header, *rows = list(csv.reader(io.StringIO(text)))
            cols = ", ".join(f'"{c}" TEXT' for c in header)
            con.execute(f"CREATE TABLE {name} ({cols})")
            con.executemany(f"INSERT INTO {name} VALUES ({', '.join('?' * len(header))})", rows)
    con.close()
    return "sqlite://crm.db"  # relative to the working directory


@pytest.mark.parametrize("how", ["options", "url"])
def test_one_database_several_tables(write, how):
    url = _crm_db(write)
    if how == "options":
        args = ["--leads", url, "--events", url, "--leads-table", "deals"]
        args += ["--events-table", "activities"]
    else:
        args = ["--leads", f"{url}?table=deals", "--events", f"{url}?table=activities"]
    result = run("validate", *args, "-f", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    # The same hand counts as the CSV files: the tables hold the same rows.
    counts = sorted((f["rows_read"], f["accepted"], f["quarantined"]) for f in data["files"])
    assert counts == sorted(FILES.values())
    assert data["rows_read"] == 12 and data["quarantined"] == 4
    assert (data["leads"], data["won"], data["lost"], data["open"]) == (3, 1, 1, 1)


def test_per_input_tables_in_the_api(write):
    url = _crm_db(write)
    ws = rr.ingest(leads=url, events=url, table={"leads": "deals", "events": "activities"})
    s = summarise(ws)
    assert (s.accepted("leads"), s.accepted("events")) == (3, 5)
    with pytest.raises(rr.InputError, match="'deal' is not an input"):
        rr.ingest(leads=url, table={"deal": "deals"})
    # One --table for every input: the events table lacks the leads' columns.
    result = run("validate", "--leads", url, "--events", url, "--table", "deals")
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("option", "value", "words"),
    [
        ("--max-rows", "4", "more than 4 rows"),
        ("--max-columns", "5", "5"),
        ("--max-file-mb", "0.0001", "MB"),
    ],
)
def test_guard_options_reach_the_library(inputs, option, value, words):
    # leads.csv has 5 rows, 6 columns and 287 bytes: each limit below that stops it.
    result = run("validate", *inputs, option, value)
    assert result.exit_code == 2, result.stdout
    line = result.stderr.strip()
    assert len(line.splitlines()) == 1 and "leads.csv" in line and words in line
    assert option in line
    assert run("validate", *inputs, option, "1000").exit_code == 0
