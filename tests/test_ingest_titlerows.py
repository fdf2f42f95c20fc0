"""Title rows above the header (商談一覧, 出力日: …) in CSV and xlsx exports.

Every line number, count and reason below is counted by hand from the fixtures
written in this file, never taken from royalroad's own output.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import openpyxl
import pytest
from conftest import Counts, accounting, csv_records, quarantine_rows
from typer.testing import CliRunner

import royalroad as rr
from royalroad.cli import app
from royalroad.io.delimited import read_csv, sniff_delimiter
from royalroad.io.excel import read_xlsx
from royalroad.io.mapping import find_header
from royalroad.io.readers import read_source
from royalroad.quality import summarise

# ------------------------------------------------------------------ CP932 CSV fixtures
# Saved from Excel: CP932, CRLF, title rows padded with empty fields.
LEADS_CSV = (
    "商談一覧,,,,\n"  # 1  title
    "出力日: 2024/04/01,,,,\n"  # 2  title
    ",,,,\n"  # 3  blank
    "商談ID,作成日,ステータス,完了日,金額\n"  # 4  header
    "D-001,2024/01/05,受注,2024/02/01,100000\n"  # 5
    "D-002,2024/01/06,失注,2024/02/03,\n"  # 6
    "D-003,2024/01/07,保留,,\n"  # 7  open
    "D-004,2024/01/08,受注,,\n"  # 8  won without a close date -> quarantined
    "D-005,2024/01/09,商談中,,\n"  # 9  open
)
EVENTS_CSV = (
    "活動履歴（2024年4月）\n"  # 1  title, one field, no delimiter at all
    "\n"  # 2  blank
    "商談ID,活動,日時\n"  # 3  header
    "D-001,展示会名刺交換,2024/01/05 10:00\n"  # 4
    "D-001,技術打合せ,2024/01/20 14:00\n"  # 5
    "D-002,資料送付,2024/01/10\n"  # 6
    ",,\n"  # 7  blank (below the header: counted)
    "D-009,資料送付,2024/01/10\n"  # 8  unknown lead -> quarantined
    "D-003,技術打合せ,昨日\n"  # 9  bad timestamp -> quarantined
    "D-005,資料送付,2024/01/12\n"  # 10
)


def _rows(ws, sql):
    return ws.con.execute(sql).fetchall()


def run(*args):
    result = CliRunner().invoke(app, list(args))
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    return result


@pytest.fixture
def cp932(write):
    write("leads.csv", LEADS_CSV, encoding="cp932", newline="\r\n")
    write("events.csv", EVENTS_CSV, encoding="cp932", newline="\r\n")
    return ["--leads", "leads.csv", "--events", "events.csv"]


def test_cp932_title_rows_are_skipped_and_lines_kept(cp932):
    ws = rr.ingest(leads="leads.csv", events="events.csv", preset="japanese")
    assert _rows(ws, "SELECT lead_id, outcome, _line FROM leads ORDER BY _line") == [
        ("D-001", "won", 5),
        ("D-002", "lost", 6),
        ("D-003", "open", 7),
        ("D-005", "open", 9),
    ]
    assert _rows(ws, "SELECT lead_id, activity, _line FROM events ORDER BY _line") == [
        ("D-001", "展示会名刺交換", 4),
        ("D-001", "技術打合せ", 5),
        ("D-002", "資料送付", 6),
        ("D-005", "資料送付", 10),
    ]
    assert [(t, f, line, reason) for t, f, line, reason, _, _ in quarantine_rows(ws)] == [
        ("events", "events.csv", 8, "unknown_lead"),
        ("events", "events.csv", 9, "bad_timestamp"),
        ("leads", "leads.csv", 8, "closed_without_date"),
    ]
    # read = accepted + quarantined; title rows are not read rows
    assert accounting(ws) == {"leads.csv": Counts(5, 4, 1), "events.csv": Counts(6, 4, 2)}
    # independently: the csv module's non-empty records minus the header minus the title rows
    assert csv_records("leads.csv", encoding="cp932") - 2 == 5
    assert csv_records("events.csv", encoding="cp932") - 1 == 6
    files = {f.file: f for f in summarise(ws).files}
    assert (
        files["leads.csv"].header_line,
        files["leads.csv"].preamble_rows,
        files["leads.csv"].preamble_lines,
    ) == (4, 2, "1–2")
    assert (
        files["events.csv"].header_line,
        files["events.csv"].preamble_rows,
        files["events.csv"].preamble_lines,
    ) == (3, 1, "1")
    # blank rows above the header are not counted (as before); line 7 of events is
    assert (files["leads.csv"].blank_rows, files["events.csv"].blank_rows) == (0, 1)
    assert files["leads.csv"].preset == files["events.csv"].preset == "japanese"


def test_cp932_title_rows_detected_without_a_preset(cp932):
    ws = rr.ingest(leads="leads.csv", events="events.csv")
    assert accounting(ws) == {"leads.csv": Counts(5, 4, 1), "events.csv": Counts(6, 4, 2)}


def test_reader_reports_the_header_and_the_title_rows(cp932):
    raw = read_source("leads.csv", find_header=lambda rows: find_header(rows, "leads")).table
    assert (raw.encoding, raw.delimiter) == ("cp932", ",")
    assert raw.columns == ["商談ID", "作成日", "ステータス", "完了日", "金額"]
    assert raw.header_line == 4 and raw.preamble_lines == (1, 2) and raw.preamble_rows == 2
    assert raw.table["_line"].to_pylist() == [5, 6, 7, 8, 9]
    assert raw.notes == ("2 title rows above the header skipped (lines 1–2); header on line 4",)


def test_validate_says_which_title_rows_were_skipped(cp932):
    result = run("validate", *cp932)
    assert result.exit_code == 0, result.stderr
    assert (
        "leads.csv: 2 title rows above the header skipped (lines 1–2); header on line 4"
        in result.stdout
    )
    assert (
        "events.csv: 1 title row above the header skipped (line 1); header on line 3"
        in result.stdout
    )
    ja = run("validate", *cp932, "--lang", "ja")
    assert ja.exit_code == 0, ja.stderr
    assert (
        "leads.csv: 見出し行(4行目)より上のタイトル行 2 行を読み飛ばしました(1–2行目)" in ja.stdout
    )
    assert (
        "events.csv: 見出し行(3行目)より上のタイトル行 1 行を読み飛ばしました(1行目)" in ja.stdout
    )


def test_validate_json_carries_the_preamble(cp932):
    result = run("validate", *cp932, "--format", "json")
    assert result.exit_code == 0, result.stderr
    files = {f["file"]: f for f in json.loads(result.stdout)["files"]}
    assert {
        k: (
            f["rows_read"],
            f["accepted"],
            f["quarantined"],
            f["header_line"],
            f["preamble_rows"],
            f["preamble_lines"],
        )
        for k, f in files.items()
    } == {"leads.csv": (5, 4, 1, 4, 2, "1–2"), "events.csv": (6, 4, 2, 3, 1, "1")}


def test_ingest_workspace_stores_the_preamble(cp932):
    result = run("ingest", *cp932, "--workspace", "crm.duckdb")
    assert result.exit_code == 0, result.stderr
    ws = rr.open_workspace("crm.duckdb")
    assert _rows(
        ws, "SELECT file, header_line, preamble_rows, preamble_lines FROM files ORDER BY file_idx"
    ) == [("leads.csv", 4, 2, "1–2"), ("events.csv", 3, 1, "1")]
    ws.close()


# --------------------------------------------------------------------------- xlsx
def _book(path: Path, title: str, second: list, header: list, rows: list[list]) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "商談"
    ws["A1"] = title
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
    ws.append([])  # openpyxl appends after the last row: fill row 2 explicitly
    for j, v in enumerate(second, start=1):
        ws.cell(row=2, column=j, value=v)
    # row 3 stays empty
    for j, v in enumerate(header, start=1):
        ws.cell(row=4, column=j, value=v)
    for i, row in enumerate(rows, start=5):
        for j, v in enumerate(row, start=1):
            ws.cell(row=i, column=j, value=v)
    wb.save(path)


@pytest.fixture
def xlsx(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    d = dt.datetime
    _book(
        tmp_path / "leads.xlsx",
        "商談一覧（2024年度上期）",
        ["出力日", d(2024, 4, 1)],
        ["商談ID", "作成日", "結果", "受注日", "金額"],
        [
            ["D-001", d(2024, 1, 5, 9, 30), "受注", d(2024, 2, 1), 1200000],  # 5
            [
                "D-002",
                d(2024, 1, 6),
                "失注",
                None,
                None,
            ],  # 6 lost without a close date -> quarantined
            ["D-003", d(2024, 1, 7), "商談中", None, None],  # 7 open
            ["D-004", d(2024, 1, 8), "受注", d(2024, 3, 1), 500000],  # 8
        ],
    )
    _book(
        tmp_path / "events.xlsx",
        "活動履歴",
        ["期間", "2024/01/01〜2024/03/31"],
        ["商談ID", "活動", "日時"],
        [
            ["D-001", "展示会名刺交換", d(2024, 1, 5, 10)],  # 5
            ["D-001", "技術打合せ", d(2024, 1, 20, 14)],  # 6
            ["D-002", "資料送付", d(2024, 1, 10)],  # 7 its lead is quarantined
            ["D-003", None, d(2024, 1, 11)],  # 8 no activity
            ["D-004", "見積提出", d(2024, 2, 10)],  # 9
        ],
    )
    return ["--leads", "leads.xlsx", "--events", "events.xlsx"]


def test_xlsx_title_rows_are_skipped_and_rows_kept(xlsx):
    ws = rr.ingest(leads="leads.xlsx", events="events.xlsx", preset="japanese")
    assert _rows(ws, "SELECT lead_id, outcome, _line FROM leads ORDER BY _line") == [
        ("D-001", "won", 5),
        ("D-003", "open", 7),
        ("D-004", "won", 8),
    ]
    assert _rows(ws, "SELECT lead_id, activity, _line FROM events ORDER BY _line") == [
        ("D-001", "展示会名刺交換", 5),
        ("D-001", "技術打合せ", 6),
        ("D-004", "見積提出", 9),
    ]
    assert [(t, line, reason) for t, _, line, reason, _, _ in quarantine_rows(ws)] == [
        ("events", 7, "quarantined_lead"),
        ("events", 8, "missing_activity"),
        ("leads", 6, "closed_without_date"),
    ]
    assert accounting(ws) == {"leads.xlsx": Counts(4, 3, 1), "events.xlsx": Counts(5, 3, 2)}
    files = {f.file: f for f in summarise(ws).files}
    for name in ("leads.xlsx", "events.xlsx"):
        assert (files[name].header_line, files[name].preamble_rows, files[name].preamble_lines) == (
            4,
            2,
            "1–2",
        )


def test_xlsx_reader_and_validate_output(xlsx):
    raw = read_xlsx("leads.xlsx", find_header=lambda rows: find_header(rows, "leads"))
    assert raw.columns == ["商談ID", "作成日", "結果", "受注日", "金額"]
    assert (raw.header_line, raw.preamble_lines) == (4, (1, 2))
    assert raw.table["_line"].to_pylist() == [5, 6, 7, 8]
    result = run("validate", *xlsx)
    assert result.exit_code == 0, result.stderr
    assert (
        "leads.xlsx: 2 title rows above the header skipped (lines 1–2); header on line 4"
        in result.stdout
    )
    assert (
        "events.xlsx: 2 title rows above the header skipped (lines 1–2); header on line 4"
        in result.stdout
    )


def test_xlsx_without_a_finder_keeps_the_first_row(xlsx):
    raw = read_xlsx("leads.xlsx")
    assert raw.columns[0] == "商談一覧（2024年度上期）" and raw.preamble_lines == ()


# ------------------------------------------------------------- header not found
def _titles(n: int) -> str:
    return "".join(f"注記 {i}\n" for i in range(1, n + 1))


def assert_one_line_error(start: str, end: str) -> None:
    """``royalroad validate --leads leads.csv --events events.csv`` fails with exit code 2
    and exactly one stderr line, starting and ending as given."""
    result = run("validate", "--leads", "leads.csv", "--events", "events.csv")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(start) and lines[0].endswith(end), lines[0]


def test_header_beyond_20_rows_is_the_old_one_line_error(write):
    write("leads.csv", "lead_id,created_at,outcome,closed_at\nL1,2024-01-01,won,2024-02-01\n")
    # 20 title rows: the header is the 21st non-empty row, outside the search
    write("events.csv", _titles(20) + "lead_id,activity,ts\nL1,call,2024-01-05\n")
    # the first row stays the header, as before: a CSV's columns are its header's fields
    assert_one_line_error(
        "error: events.csv: required column 'lead_id' of events not found", "found columns: 注記 1"
    )


def test_header_on_the_20th_row_is_found(write):
    write("leads.csv", "lead_id,created_at,outcome,closed_at\nL1,2024-01-01,won,2024-02-01\n")
    write("events.csv", _titles(19) + "lead_id,activity,ts\nL1,call,2024-01-05\n")
    ws = rr.ingest(leads="leads.csv", events="events.csv")
    assert _rows(ws, "SELECT _line FROM events") == [(21,)]
    assert accounting(ws)["events.csv"] == Counts(1, 1, 0)
    assert summarise(ws).files[1].preamble_lines == "1–19"


def test_real_header_missing_a_column_is_named_in_the_error(write):
    write("leads.csv", "lead_id,created_at,outcome,closed_at\nL1,2024-01-01,won,2024-02-01\n")
    write("events.csv", "活動履歴\n商談ID,種別,日時\nL1,訪問,2024-01-05\n")
    assert_one_line_error(
        "error: events.csv: required column 'activity' of events not found",
        "found columns: 商談ID, 種別, 日時",
    )


# ------------------------------------------------------------- user mapping
def test_user_mapping_names_the_header_to_find(write):
    write(
        "mapping.toml",
        '[leads]\nlead_id = "Deal No"\ncreated_at = "Opened"\noutcome = "Result"\n'
        'closed_at = "Closed"\n[leads.outcome_values]\nwon = ["Yes"]\nlost = ["No"]\n',
    )
    write(
        "leads.csv",
        "Pipeline report\nExported 2024-04-01 by admin\n"
        "Deal No,Opened,Result,Closed\n"  # line 3
        "A1,2024-01-01,Yes,2024-02-01\n"  # 4
        "A2,2024-01-02,No,2024-02-02\n"  # 5
        "A3,2024-01-03,Maybe,\n",
    )  # 6 unknown outcome
    ws = rr.ingest(leads="leads.csv", mapping="mapping.toml")
    assert _rows(ws, "SELECT lead_id, outcome, _line FROM leads ORDER BY _line") == [
        ("A1", "won", 4),
        ("A2", "lost", 5),
    ]
    assert [(line, reason) for _, _, line, reason, _, _ in quarantine_rows(ws)] == [
        (6, "unknown_outcome")
    ]
    assert accounting(ws) == {"leads.csv": Counts(3, 2, 1)}
    assert summarise(ws).files[0].preamble_lines == "1–2"


# ------------------------------------------------------------- unchanged files
NORMAL = (
    "lead_id,created_at,outcome,closed_at\n"
    "L1,2024-01-01,won,2024-02-01\n\nL2,2024-01-02,lost,2024-02-03\n"
)


def test_header_on_line_1_is_unchanged(write):
    write("leads.csv", NORMAL)
    found = read_source("leads.csv", find_header=lambda rows: find_header(rows, "leads")).table
    plain = read_csv("leads.csv")
    assert found == plain  # the same RawTable as a reader that does not search
    assert plain.header_line == 1 and plain.preamble_lines == () and plain.notes == ()
    assert plain.table["_line"].to_pylist() == [2, 4] and plain.blank_rows == 1
    ws = rr.ingest(leads="leads.csv")
    assert accounting(ws) == {"leads.csv": Counts(2, 2, 0)}
    f = summarise(ws).files[0]
    assert (f.header_line, f.preamble_rows, f.preamble_lines) == (1, 0, None)
    out = run("validate", "--leads", "leads.csv").stdout
    assert "title row" not in out and "header on line" not in out


# ------------------------------------------------------------- delimiter sniffing
@pytest.mark.parametrize("delimiter", ["\t", ";", "|", ","])
@pytest.mark.parametrize(
    "title", ["商談一覧", "商談一覧 (営業部, 2024年4月)", "出力日: 2024/04/01"]
)
def test_a_one_field_title_row_does_not_change_the_delimiter(write, delimiter, title):
    pad = (
        "" if delimiter == "," and "," in title else delimiter * 2
    )  # Excel pads; a comma title is quoted
    first = f'"{title}"' if delimiter == "," and "," in title else title
    body = [
        ["lead_id", "activity", "ts"],
        ["L1", "call", "2024-01-05"],
        ["L1", "demo, online", "2024-01-06"],
    ]
    if delimiter == ",":
        body[2][1] = '"demo, online"'
    text = f"{first}{pad}\n" + "".join(delimiter.join(r) + "\n" for r in body)
    write("e.csv", text)
    raw = read_csv("e.csv")
    assert raw.delimiter == delimiter
    assert sniff_delimiter(text.splitlines(keepends=True)) == delimiter


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "cp932"])  # Python writes the BOMs
def test_title_rows_in_every_encoding(write, encoding):
    text = "活動履歴\t\t\n\n商談ID\t活動\t日時\nD-1\t訪問\t2024/01/05\nD-1\t電話\t2024/01/06\n"
    write("events.tsv", text.replace("\n", "\r\n").encode(encoding))
    raw = read_source("events.tsv", find_header=lambda rows: find_header(rows, "events")).table
    assert raw.delimiter == "\t"
    assert raw.columns == ["商談ID", "活動", "日時"]
    assert (raw.header_line, raw.preamble_lines) == (3, (1,))
    assert raw.table["_line"].to_pylist() == [4, 5]


# ------------------------------------------------------------- find_header itself
def test_find_header_prefers_the_earliest_complete_row():
    rows = [
        ["商談一覧"],
        ["商談ID", "活動"],
        ["商談ID", "活動", "日時"],
        ["商談ID", "活動", "日時"],
    ]
    assert find_header(rows, "events") == 2


def test_find_header_takes_a_row_with_strictly_more_columns():
    assert find_header([["商談一覧"], ["商談ID", "種別", "日時"]], "events") == 1
    # a tie keeps the first row, as before
    assert find_header([["商談ID", "種別"], ["商談ID", "区分"]], "events") == 0


def test_find_header_looks_at_20_rows_only():
    rows = [[f"注記 {i}"] for i in range(20)] + [["商談ID", "活動", "日時"]]
    assert find_header(rows, "events") == 0
    assert find_header(rows[1:], "events") == 19


def test_workspace_written_before_the_header_search_still_summarises(write):
    write("leads.csv", NORMAL)
    ws = rr.ingest(leads="leads.csv")
    for col in ("header_line", "preamble_rows", "preamble_lines"):
        ws.con.execute(f"ALTER TABLE files DROP COLUMN {col}")
    f = summarise(ws).files[0]
    assert (f.rows_read, f.header_line, f.preamble_rows, f.preamble_lines) == (2, None, 0, None)
