"""The bad-input corpus: every kind of broken input, with its exact message or reason.

Two families (see DESIGN.md, "Bad input never crashes and never vanishes"):

* **fatal** — one line naming the file, the column and what was expected; through
  the library an :class:`InputError`, through the CLI exit code 2 and exactly one
  line on stderr, no traceback;
* **row** — the row goes to ``quarantine`` with its reason, column and source line,
  and for every file ``rows read == accepted + quarantined``, compared with counts
  made by hand (and with Python's csv module for rows read).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from conftest import Counts, accounting, csv_records, quarantine_rows
from typer.testing import CliRunner

import royalroad as rr
from royalroad.cli import app
from royalroad.errors import InputError
from royalroad.i18n import set_lang
from royalroad.quality import summarise

LEADS = """lead_id,created_at,outcome,closed_at,amount
L1,2024-01-01,won,2024-03-01,100
L2,2024-01-02,lost,2024-03-02,
L3,2024-01-03,open,,
"""
EVENTS = """lead_id,activity,ts
L1,call,2024-01-10
L2,call,2024-01-11
L3,call,2024-01-12
"""
LOG = """case_id,activity,timestamp
C1,submit,2024-01-01
C1,approved,2024-01-05
C2,submit,2024-01-02
C2,declined,2024-01-06
"""
OPEN_ONLY = """lead_id,created_at,outcome,closed_at
L1,2024-01-01,open,
L2,2024-01-02,open,
L3,2024-01-03,,
"""
BINARY = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10" + bytes(range(256)) * 4


# --------------------------------------------------------------------------- fatal
@dataclass(frozen=True)
class Fatal:
    id: str
    files: dict[str, str | bytes]
    kwargs: dict[str, Any]
    message: str  # exact English message, or a regex when ``regex`` is set
    regex: bool = False
    dirs: tuple[str, ...] = ()
    lang: str | None = None  # CLI --lang; the library case calls set_lang(lang)


def _std(**extra) -> dict[str, str | bytes]:
    return {"leads.csv": LEADS, "events.csv": EVENTS, **extra}


STD = {"leads": "leads.csv", "events": "events.csv"}

FATAL = [
    Fatal("missing_file", _std(), {**STD, "leads": "nope.csv"}, "nope.csv: file not found"),
    Fatal("missing_events_file", _std(), {**STD, "events": "evts.csv"}, "evts.csv: file not found"),
    Fatal(
        "empty_file",
        _std(**{"leads.csv": ""}),
        STD,
        "leads.csv: the file is empty; expected a header row and at least one data row",
    ),
    Fatal(
        "blank_lines_only",
        _std(**{"events.csv": "\r\n  \r\n\r\n"}),
        STD,
        "events.csv: the file is empty; expected a header row and at least one data row",
    ),
    Fatal(
        "binary_file",
        _std(**{"leads.csv": BINARY}),
        STD,
        "leads.csv: this is not a text file (it contains NUL bytes); "
        "expected CSV, TSV, xlsx, Parquet or XES",
    ),
    Fatal(
        "binary_with_text_head",
        _std(**{"events.csv": b"lead_id,activity,ts\n" + b"\x00" * 64}),
        STD,
        "events.csv: this is not a text file (it contains NUL bytes); "
        "expected CSV, TSV, xlsx, Parquet or XES",
    ),
    Fatal(
        "directory",
        _std(),
        {**STD, "leads": "adir"},
        "adir: cannot read the file (is a directory)",
        dirs=("adir",),
    ),
    Fatal(
        "missing_required_column",
        _std(**{"leads.csv": "lead_id,outcome,closed_at\nL1,won,2024-01-01\n"}),
        STD,
        "leads.csv: required column 'created_at' of leads not found; "
        "looked for: created_at, created, create_date, created_date; "
        "found columns: lead_id, outcome, closed_at",
    ),
    Fatal(
        "missing_activity_column",
        _std(**{"events.csv": "lead_id,ts\nL1,2024-01-10\n"}),
        STD,
        "events.csv: required column 'activity' of events not found; "
        "looked for: activity, event, step, concept:name, action; found columns: lead_id, ts",
    ),
    Fatal(
        "missing_japanese_column",
        _std(**{"leads.csv": "商談ID,結果,受注日\nA1,受注,2024/01/05\n"}),
        STD,
        "leads.csv: required column 'created_at' of leads not found; "
        "looked for: 作成日, 作成日時, 登録日, 登録日時, 商談開始日, 初回接触日; "
        "found columns: 商談ID, 結果, 受注日",
    ),
    Fatal(
        "unknown_preset",
        _std(),
        {**STD, "preset": "bogus"},
        "--preset: unknown preset 'bogus'; "
        "expected one of canonical, japanese, salesforce, hubspot, maven, xes",
    ),
    Fatal(
        "bad_toml",
        _std(**{"m.toml": "[leads\nlead_id = 'x'\n"}),
        {**STD, "mapping": "m.toml"},
        r"m\.toml: not a valid TOML mapping file \(.*line 1.*\)",
        regex=True,
    ),
    Fatal(
        "mapping_missing", _std(), {**STD, "mapping": "nomap.toml"}, "nomap.toml: file not found"
    ),
    Fatal(
        "mapping_directory",
        _std(),
        {**STD, "mapping": "mdir"},
        "mdir: cannot read the file (is a directory)",
        dirs=("mdir",),
    ),
    Fatal(
        "mapping_not_utf8",
        _std(**{"m.toml": "[leads]\nlead_id = '商談番号'\n".encode("cp932")}),
        {**STD, "mapping": "m.toml"},
        "m.toml: a mapping file must be UTF-8 text (TOML); save it as UTF-8",
    ),
    Fatal(
        "mapping_unknown_section",
        _std(**{"m.toml": "[deals]\nid = 'x'\n"}),
        {**STD, "mapping": "m.toml"},
        "m.toml: unknown section [deals]; expected one of leads, events, notes",
    ),
    Fatal(
        "mapping_unknown_key",
        _std(**{"m.toml": "[leads]\nidentifier = 'x'\n"}),
        {**STD, "mapping": "m.toml"},
        "m.toml: unknown key 'leads.identifier'; "
        "expected one of amount, closed_at, created_at, ignore, lead_id, outcome",
    ),
    Fatal(
        "mapping_bad_value",
        _std(**{"m.toml": "[leads]\nlead_id = 5\n"}),
        {**STD, "mapping": "m.toml"},
        "m.toml [leads] lead_id: expected a column name or a list of column names",
    ),
    Fatal(
        "mapping_bad_other",
        _std(**{"m.toml": "[leads.outcome_values]\nother = 'lost'\n"}),
        {**STD, "mapping": "m.toml"},
        'm.toml: outcome_values.other must be "error" or "open", found \'lost\'',
    ),
    Fatal(
        "mapping_outcome_values_not_table",
        _std(**{"m.toml": "[leads]\noutcome_values = 'won'\n"}),
        {**STD, "mapping": "m.toml"},
        "m.toml [leads] outcome_values: expected a table of won / lost / open values, "
        'e.g. [leads.outcome_values] won = ["Closed Won"]',
    ),
    Fatal(
        "mapping_column_absent",
        _std(**{"m.toml": "[leads]\nlead_id = 'Deal Number'\n"}),
        {**STD, "mapping": "m.toml"},
        "leads.csv: required column 'lead_id' of leads not found; looked for: Deal Number; "
        "found columns: lead_id, created_at, outcome, closed_at, amount",
    ),
    Fatal(
        "no_closed_leads",
        _std(**{"leads.csv": OPEN_ONLY}),
        STD,
        "leads.csv, events.csv: no closed (won or lost) leads to learn from: "
        "0 won, 0 lost, 3 open, "
        "0 rows quarantined (top reason: -)",
    ),
    Fatal(
        "no_closed_after_quarantine",
        _std(
            **{
                "leads.csv": "lead_id,created_at,outcome,closed_at\n"
                "L1,2024-01-01,won,\nL2,2024-01-02,lost,\n"
                "L3,2024-01-03,open,\n"
            }
        ),
        STD,
        "leads.csv, events.csv: no closed (won or lost) leads to learn from: "
        "0 won, 0 lost, 1 open, "
        "4 rows quarantined (top reason: closed lead without close date)",
    ),
    Fatal(
        "header_only_leads",
        _std(**{"leads.csv": "lead_id,created_at,outcome,closed_at\n"}),
        {"leads": "leads.csv"},
        "leads.csv: no closed (won or lost) leads to learn from: 0 won, 0 lost, 0 open, "
        "0 rows quarantined (top reason: -)",
    ),
    Fatal(
        "open_leads_without_dates",
        _std(**{"leads.csv": "lead_id,created_at,outcome,closed_at\nL1,,open,\nL2,,,\n"}),
        {"leads": "leads.csv"},
        "leads.csv: no closed (won or lost) leads to learn from: 0 won, 0 lost, 2 open, "
        "0 rows quarantined (top reason: -)",
    ),
    Fatal(
        "won_activity_absent",
        {"log.csv": LOG},
        {"events": "log.csv", "won": ["signed"], "lost": ["declined"]},
        "--won: activity 'signed' does not occur in log.csv; "
        "activities found: approved, declined, submit",
    ),
    Fatal(
        "lost_activity_absent",
        {"log.csv": LOG},
        {"events": "log.csv", "won": ["approved"], "lost": ["declined", "cancelled"]},
        "--lost: activity 'cancelled' does not occur in log.csv; "
        "activities found: approved, declined, submit",
    ),
    Fatal(
        "log_without_outcome_activities",
        {"log.csv": LOG},
        {"events": "log.csv"},
        "log.csv: an event log needs --won (and --lost) activities to tell how each lead ended; "
        "activities found: approved, declined, submit",
    ),
    Fatal(
        "bad_tz",
        _std(),
        {**STD, "tz": "Mars/Olympus_Mons"},
        "--tz: unknown time zone 'Mars/Olympus_Mons'; "
        "expected an IANA name such as Asia/Tokyo or UTC",
    ),
    Fatal(
        "bad_as_of",
        _std(),
        {**STD, "as_of": "yesterday"},
        "--as-of: cannot read 'yesterday' as a date; expected e.g. 2024-06-30 or 2024-06-30 18:00",
    ),
    Fatal(
        "bad_as_of_day",
        _std(),
        {**STD, "as_of": "2024-02-30"},
        "--as-of: cannot read '2024-02-30' as a date; expected e.g. 2024-06-30 or 2024-06-30 18:00",
    ),
    Fatal(
        "bad_lifecycle",
        _std(),
        {**STD, "lifecycle": "start"},
        "--lifecycle: 'start' is not supported; expected one of complete, all",
    ),
    Fatal(
        "bad_lang",
        _std(),
        STD,
        "--lang: 'fr' is not a supported language; expected one of en, ja",
        lang="fr",
    ),
    Fatal(
        "no_input",
        {},
        {},
        "no input: give --leads (with --events) or an event log with --events and --won/--lost",
    ),
    Fatal(
        "same_file_twice",
        _std(),
        {**STD, "events": ["events.csv", "./events.csv"]},
        "./events.csv: given twice as --events; "
        "give each file once (its rows would be counted twice)",
    ),
    Fatal(
        "unclosed_quote",
        _std(
            **{
                "events.csv": "lead_id,activity,ts\nL1,call,2024-01-10\n"
                'L2,"call,2024-01-11\nL3,call,2024-01-12\n'
            }
        ),
        STD,
        "events.csv: line 3: a quoted field starts here and is never closed; "
        'check this row for a stray double quote (")',
    ),
]


def _argv(kwargs: dict[str, Any]) -> list[str]:
    argv: list[str] = []
    for key, value in kwargs.items():
        opt = "--" + key.replace("_", "-")
        if isinstance(value, bool):
            argv += [opt] if value else []
        elif isinstance(value, list) and key in ("leads", "events", "notes"):
            for v in value:
                argv += [opt, v]
        elif isinstance(value, list):
            argv += [opt, ",".join(value)]
        else:
            argv += [opt, str(value)]
    return argv


def _setup(case: Fatal, write, tmp_path) -> None:
    for name, text in case.files.items():
        write(name, text)
    for d in case.dirs:
        (tmp_path / d).mkdir()


def _assert_message(text: str, case: Fatal) -> None:
    if case.regex:
        assert re.fullmatch(case.message, text), text
    else:
        assert text == case.message


@pytest.mark.parametrize("case", FATAL, ids=lambda c: c.id)
def test_fatal_library(case: Fatal, write, tmp_path):
    _setup(case, write, tmp_path)
    pattern = case.message if case.regex else re.escape(case.message)
    with pytest.raises(InputError, match=f"^{pattern}$") as info:
        if case.lang:
            set_lang(case.lang)
        rr.ingest(**case.kwargs)
    assert info.value.exit_code == 2
    _assert_message(str(info.value), case)


@pytest.mark.parametrize("command", ["validate", "ingest"])
@pytest.mark.parametrize("case", FATAL, ids=lambda c: c.id)
def test_fatal_cli(case: Fatal, command, write, tmp_path):
    _setup(case, write, tmp_path)
    argv = [command, *_argv(case.kwargs), "--lang", case.lang or "en"]
    result = CliRunner().invoke(app, argv)
    detail = f"argv={argv}\nstdout={result.stdout!r}\nstderr={result.stderr!r}"
    assert result.exit_code == 2, detail
    assert "Traceback" not in result.stdout + result.stderr, detail
    assert result.stdout == "", detail
    lines = result.stderr.splitlines()
    assert len(lines) == 1, detail
    assert lines[0].startswith("error: "), detail
    _assert_message(lines[0].removeprefix("error: "), case)
    assert not list(tmp_path.glob("royalroad.duckdb*")), (
        "a failed ingest must not leave a workspace"
    )


def test_fatal_corpus_is_large_enough():
    assert len({c.id for c in FATAL}) == len(FATAL) >= 20


def test_fatal_message_in_japanese(write):
    write("leads.csv", "lead_id,outcome,closed_at\nL1,won,2024-01-01\n")
    write("events.csv", EVENTS)
    result = CliRunner().invoke(
        app, ["validate", "--leads", "leads.csv", "--events", "events.csv", "--lang", "ja"]
    )
    assert result.exit_code == 2
    assert result.stderr == (
        "エラー: leads.csv: leads の必須列 'created_at' が見つかりません。"
        "探した列名: created_at, created, create_date, created_date。"
        "ファイルの列: lead_id, outcome, closed_at\n"
    )


def test_internal_error_is_one_line_exit_1(write, monkeypatch):
    """A bug (not bad input) is exit code 1 and one line, still without a traceback."""
    write("leads.csv", LEADS)
    write("events.csv", EVENTS)

    def boom(*args, **kwargs):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr("royalroad.io.load.stage", boom)
    result = CliRunner().invoke(app, ["validate", "--leads", "leads.csv", "--events", "events.csv"])
    assert result.exit_code == 1
    assert result.stderr == (
        "error: internal error (a bug in royalroad, please report it): "
        "ZeroDivisionError: division by zero\n"
    )


# ----------------------------------------------------------------------------- rows
@dataclass(frozen=True)
class RowCase:
    id: str
    leads: str = ""  # appended to LEADS (line 5 onwards)
    events: str = ""  # appended to EVENTS (line 5 onwards)
    notes: str | None = None  # a whole notes file
    quarantined: list[tuple] = field(default_factory=list)  # (table, line, reason, column, value)
    counts: dict[str, tuple[int, int, int]] = field(
        default_factory=dict
    )  # file -> read, accepted, quarantined


def _counts(leads=(3, 3, 0), events=(3, 3, 0), notes=None) -> dict[str, tuple[int, int, int]]:
    out = {"leads.csv": leads, "events.csv": events}
    if notes is not None:
        out["notes.csv"] = notes
    return out


ROWS = [
    RowCase(
        "bad_created_timestamp",
        leads="L4,someday,open,,\n",
        quarantined=[("leads", 5, "bad_timestamp", "created_at", "someday")],
        counts=_counts(leads=(4, 3, 1)),
    ),
    RowCase(
        "bad_event_timestamp",
        events="L1,call,2024-13-45\n",
        quarantined=[("events", 5, "bad_timestamp", "ts", "2024-13-45")],
        counts=_counts(events=(4, 3, 1)),
    ),
    RowCase(
        "bad_close_timestamp",
        leads="L4,2024-01-04,won,31/31/2024,\n",
        quarantined=[("leads", 5, "bad_timestamp", "closed_at", "31/31/2024")],
        counts=_counts(leads=(4, 3, 1)),
    ),
    RowCase(
        "unknown_outcome",
        leads="L4,2024-01-04,maybe,,\n",
        quarantined=[("leads", 5, "unknown_outcome", "outcome", "maybe")],
        counts=_counts(leads=(4, 3, 1)),
    ),
    RowCase(
        "event_for_unknown_lead",
        events="L9,call,2024-01-10\n",
        quarantined=[("events", 5, "unknown_lead", "lead_id", "L9")],
        counts=_counts(events=(4, 3, 1)),
    ),
    RowCase(
        "event_for_quarantined_lead",
        leads="L4,2024-01-04,maybe,,\n",
        events="L4,call,2024-01-10\n",
        quarantined=[
            ("events", 5, "quarantined_lead", "lead_id", "L4"),
            ("leads", 5, "unknown_outcome", "outcome", "maybe"),
        ],
        counts=_counts(leads=(4, 3, 1), events=(4, 3, 1)),
    ),
    RowCase(
        "duplicate_identical_lead",
        leads="L1,2024-01-01,won,2024-03-01,100\n",
        quarantined=[("leads", 5, "duplicate_lead", "lead_id", "L1 @ leads.csv:2")],
        counts=_counts(leads=(4, 3, 1)),
    ),
    RowCase(
        "duplicate_same_values_other_spelling",
        leads="L1,2024/01/01,won,2024/03/01,100.0\n",
        quarantined=[("leads", 5, "duplicate_lead", "lead_id", "L1 @ leads.csv:2")],
        counts=_counts(leads=(4, 3, 1)),
    ),
    RowCase(
        "conflicting_duplicate",
        leads="L1,2024-01-01,lost,2024-03-01,100\n",
        quarantined=[("leads", 5, "conflicting_lead", "lead_id", "L1 @ leads.csv:2")],
        counts=_counts(leads=(4, 3, 1)),
    ),
    RowCase(
        "negative_amount",
        leads="L4,2024-01-04,won,2024-03-04,-5\n",
        quarantined=[("leads", 5, "negative_amount", "amount", "-5")],
        counts=_counts(leads=(4, 3, 1)),
    ),
    RowCase(
        "non_numeric_amount",
        leads="L4,2024-01-04,won,2024-03-04,lots\n",
        quarantined=[("leads", 5, "bad_amount", "amount", "lots")],
        counts=_counts(leads=(4, 3, 1)),
    ),
    RowCase(
        "nan_amount",
        leads="L4,2024-01-04,won,2024-03-04,NaN\n",
        quarantined=[("leads", 5, "bad_amount", "amount", "NaN")],
        counts=_counts(leads=(4, 3, 1)),
    ),
    RowCase(
        "infinite_amount",
        leads="L4,2024-01-04,won,2024-03-04,inf\n",
        quarantined=[("leads", 5, "bad_amount", "amount", "inf")],
        counts=_counts(leads=(4, 3, 1)),
    ),
    RowCase(
        "overflowing_amount",
        leads="L4,2024-01-04,won,2024-03-04,1e309\n",
        quarantined=[("leads", 5, "bad_amount", "amount", "1e309")],
        counts=_counts(leads=(4, 3, 1)),
    ),
    RowCase(
        "misgrouped_thousands",
        leads='L4,2024-01-04,won,2024-03-04,"12,34,5"\n',
        quarantined=[("leads", 5, "bad_amount", "amount", "12,34,5")],
        counts=_counts(leads=(4, 3, 1)),
    ),
    RowCase(
        "closed_without_date",
        leads="L4,2024-01-04,won,,\n",
        quarantined=[("leads", 5, "closed_without_date", "closed_at", "won")],
        counts=_counts(leads=(4, 3, 1)),
    ),
    RowCase(
        "close_before_creation",
        leads="L4,2024-03-04,lost,2024-01-04,\n",
        quarantined=[("leads", 5, "close_before_creation", "closed_at", "2024-01-04")],
        counts=_counts(leads=(4, 3, 1)),
    ),
    RowCase(
        "missing_created",
        leads="L4,,won,2024-03-04,\n",
        quarantined=[("leads", 5, "missing_created", "created_at", "won")],
        counts=_counts(leads=(4, 3, 1)),
    ),
    RowCase(
        "close_date_without_outcome",
        leads="L4,2024-01-04,,2024-03-04,\n",
        quarantined=[("leads", 5, "missing_outcome", "outcome", None)],
        counts=_counts(leads=(4, 3, 1)),
    ),
    RowCase(
        "missing_lead_id",
        leads=",2024-01-04,open,,\n",
        quarantined=[("leads", 5, "missing_id", "lead_id", None)],
        counts=_counts(leads=(4, 3, 1)),
    ),
    RowCase(
        "blank_lead_id",
        leads="   ,2024-01-04,open,,\n",
        quarantined=[("leads", 5, "missing_id", "lead_id", None)],
        counts=_counts(leads=(4, 3, 1)),
    ),
    RowCase(
        "event_missing_lead_id",
        events=",call,2024-01-10\n",
        quarantined=[("events", 5, "missing_id", "lead_id", None)],
        counts=_counts(events=(4, 3, 1)),
    ),
    RowCase(
        "missing_activity",
        events="L1,,2024-01-10\n",
        quarantined=[("events", 5, "missing_activity", "activity", None)],
        counts=_counts(events=(4, 3, 1)),
    ),
    RowCase(
        "missing_timestamp",
        events="L1,call,\n",
        quarantined=[("events", 5, "missing_timestamp", "ts", None)],
        counts=_counts(events=(4, 3, 1)),
    ),
    RowCase(
        "too_few_fields",
        events="L1,call\n",
        quarantined=[("events", 5, "missing_timestamp", "ts", None)],
        counts=_counts(events=(4, 3, 1)),
    ),
    RowCase(
        "too_many_fields",
        events="L1,call,2024-01-10,surplus,more\n",
        quarantined=[("events", 5, "too_many_fields", None, "surplus,more")],
        counts=_counts(events=(4, 3, 1)),
    ),
    RowCase(
        "empty_surplus_fields_are_fine",
        events="L1,call,2024-01-10,,\n",
        counts=_counts(events=(4, 4, 0)),
    ),
    RowCase(
        "empty_note",
        notes="lead_id,ts,text\nL1,2024-01-10,\nL1,2024-01-11,   \nL2,2024-01-12,ok\n",
        quarantined=[
            ("notes", 2, "missing_text", "text", None),
            ("notes", 3, "missing_text", "text", None),
        ],
        counts=_counts(notes=(3, 1, 2)),
    ),
    RowCase(
        "note_for_unknown_lead",
        notes="lead_id,ts,text\nL7,2024-01-10,hello\nL1,2024-01-10,hi\n",
        quarantined=[("notes", 2, "unknown_lead", "lead_id", "L7")],
        counts=_counts(notes=(2, 1, 1)),
    ),
    RowCase(
        "note_bad_timestamp",
        notes="lead_id,ts,text\nL1,soon,hello\n",
        quarantined=[("notes", 2, "bad_timestamp", "ts", "soon")],
        counts=_counts(notes=(1, 0, 1)),
    ),
    RowCase(
        "empty_outcome_no_close_is_open",
        leads="L4,2024-01-04,,,\n",
        counts=_counts(leads=(4, 4, 0)),
    ),
    RowCase(
        "open_with_forecast_close",
        leads="L4,2024-01-04,open,2024-12-31,\n",
        counts=_counts(leads=(4, 4, 0)),
    ),
    RowCase("blank_rows_are_not_rows", leads="\n,,,,\n", events="\n\n", counts=_counts()),
    RowCase(
        "many_problems_at_once",
        leads="L4,2024-01-04,maybe,,\nL5,2024-01-05,won,,\nL1,2024-01-01,won,2024-03-01,100\n",
        events="L4,call,2024-01-10\nL9,call,2024-01-10\nL2,,2024-01-11\nL3,call,\n",
        quarantined=[
            ("events", 5, "quarantined_lead", "lead_id", "L4"),
            ("events", 6, "unknown_lead", "lead_id", "L9"),
            ("events", 7, "missing_activity", "activity", None),
            ("events", 8, "missing_timestamp", "ts", None),
            ("leads", 5, "unknown_outcome", "outcome", "maybe"),
            ("leads", 6, "closed_without_date", "closed_at", "won"),
            ("leads", 7, "duplicate_lead", "lead_id", "L1 @ leads.csv:2"),
        ],
        counts=_counts(leads=(6, 3, 3), events=(7, 3, 4)),
    ),
]


def _ingest_row_case(case: RowCase, write):
    write("leads.csv", LEADS + case.leads)
    write("events.csv", EVENTS + case.events)
    kwargs = {"leads": "leads.csv", "events": "events.csv"}
    if case.notes is not None:
        write("notes.csv", case.notes)
        kwargs["notes"] = "notes.csv"
    return kwargs


@pytest.mark.parametrize("case", ROWS, ids=lambda c: c.id)
def test_row_kinds(case: RowCase, write):
    kwargs = _ingest_row_case(case, write)
    ws = rr.ingest(**kwargs)
    got = [(t, line, reason, col, val) for t, _file, line, reason, col, val in quarantine_rows(ws)]
    assert got == sorted(case.quarantined)
    counts = accounting(ws)
    assert counts == {f: Counts(*c) for f, c in case.counts.items()}
    for f, c in counts.items():
        assert c.read == csv_records(f), f  # rows read = records the csv module sees
    # Every quarantined row keeps its raw values, keyed by the source's own headers.
    for (raw,) in ws.con.execute("SELECT raw FROM quarantine").fetchall():
        assert isinstance(json.loads(raw), dict)


@pytest.mark.parametrize("case", ROWS, ids=lambda c: c.id)
def test_row_kinds_cli_json(case: RowCase, write):
    kwargs = _ingest_row_case(case, write)
    result = CliRunner().invoke(app, ["validate", *_argv(kwargs), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert {
        f["file"]: (f["rows_read"], f["accepted"], f["quarantined"]) for f in data["files"]
    } == case.counts
    expected: dict[tuple[str, str], int] = {}
    for table, _line, reason, _col, _val in case.quarantined:
        expected[(table, reason)] = expected.get((table, reason), 0) + 1
    assert {(r["table"], r["reason"]): r["count"] for r in data["reasons"]} == expected
    assert data["quarantined"] == len(case.quarantined)


def test_row_corpus_covers_every_reason_code():
    """Each reason code of validate.py's docstring is produced by at least one case
    (here, or among the damaged and out-of-range files of test_ingest_corpus.py)."""
    from test_ingest_corpus import CASES

    from royalroad.io import validate

    documented = set(re.findall(r"^``(\w+)``", validate.__doc__, flags=re.M))
    produced = {q[2] for case in ROWS for q in case.quarantined}
    produced |= {q[2] for case in CASES for q in case.quarantined}
    assert documented and documented <= produced, documented - produced


def test_every_reason_code_has_a_message_in_both_languages():
    from royalroad.i18n import catalogue
    from royalroad.io import validate

    codes = set(re.findall(r"^``(\w+)``", validate.__doc__, flags=re.M))
    assert len(codes) == 20
    for code in codes:
        entry = catalogue()[f"quarantine.{code}"]
        assert entry["en"] and entry["ja"] and entry["en"] != entry["ja"], code


def test_quarantine_summary_examples(write):
    """The summary names each reason with up to three examples, by line, in file order."""
    write("leads.csv", LEADS)
    write("events.csv", EVENTS + "".join(f"L9{i},call,2024-01-10\n" for i in range(5)))
    ws = rr.ingest(leads="leads.csv", events="events.csv")
    summary = summarise(ws)
    assert summary.rows_read == 3 + 8
    assert summary.quarantined == 5
    (reason,) = summary.reasons
    assert (reason.table, reason.reason, reason.count) == ("events", "unknown_lead", 5)
    assert [(e.line, e.value) for e in reason.examples] == [(5, "L90"), (6, "L91"), (7, "L92")]
