"""Readers with real files: encodings, delimiters, Excel debris, quoted newlines, the Maven sample.

Expected values are written out by hand (or counted with the csv module from the
same bytes), never taken from royalroad's output.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections import Counter
from datetime import datetime, timedelta

import pytest
from conftest import DATA, Counts, accounting, csv_records

import royalroad as rr
from royalroad.io.delimited import read_csv
from royalroad.io.readers import read_source
from royalroad.quality import summarise

END_OF_DAY = timedelta(days=1, microseconds=-1)
"""A close date without a time stands for the last instant of its day."""
LEADS_JA = DATA / "japanese_leads_cp932.csv"
EVENTS_JA = DATA / "japanese_events_cp932.csv"


def _rows(ws, sql: str) -> list[tuple]:
    return ws.con.execute(sql).fetchall()


# ------------------------------------------------------------------ CP932 (Excel, Japan)
def test_cp932_fixture_is_what_excel_writes():
    """Guard the fixture itself: CP932-only characters, CRLF rows, LF in a cell, yen as 0x5C."""
    data = LEADS_JA.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    with pytest.raises(UnicodeDecodeError):
        data.decode("shift_jis")  # ①, ㈱, 髙 are CP932 extensions
    text = data.decode("cp932")
    assert "①" in text and "㈱" in text and "髙" in text
    assert text.count("\r\n") == 6 and "高橋\n工業" in text
    assert '"\\1,200"' in text  # the yen key, as CP932 stores it


def test_cp932_japanese_leads_read_with_detected_preset():
    raw = read_csv(LEADS_JA)
    assert (raw.encoding, raw.delimiter) == ("cp932", ",")
    assert raw.columns == [
        "商談ID",
        "作成日",
        "結果",
        "受注日",
        "失注日",
        "金額",
        "会社名",
        "担当者",
    ]
    assert raw.table["_line"].to_pylist() == [2, 3, 4, 6, 7]  # J003 spans lines 4-5

    ws = rr.ingest(leads=LEADS_JA, events=EVENTS_JA)
    s = summarise(ws)
    assert [(f.table, f.preset, f.encoding) for f in s.files] == [
        ("leads", "japanese", "cp932"),
        ("events", "japanese", "cp932"),
    ]
    leads = _rows(
        ws,
        "SELECT lead_id, created_at, outcome, closed_at, amount, 会社名, 担当者, _line "
        "FROM leads ORDER BY lead_id",
    )
    assert leads == [
        (
            "J001",
            datetime(2024, 1, 5),
            "won",
            datetime(2024, 2, 10) + END_OF_DAY,
            1200.0,
            "㈱山田製作所",
            "佐藤①",
            2,
        ),
        (
            "J002",
            datetime(2024, 1, 6),
            "lost",
            datetime(2024, 2, 11) + END_OF_DAY,
            800.0,
            "①商事",
            "鈴木",
            3,
        ),
        ("J003", datetime(2024, 1, 7), "open", None, None, "㈲高橋\n工業", "髙橋", 4),
        (
            "J004",
            datetime(2024, 1, 8),
            "won",
            datetime(2024, 3, 1) + END_OF_DAY,
            1_500_000.0,
            "ｶﾌﾞｼｷｶﾞｲｼｬ",
            "佐藤①",
            6,
        ),
        ("J005", datetime(2024, 1, 9), "open", None, None, "㈱髙島屋", "鈴木", 7),
    ]
    assert (s.won, s.lost, s.open) == (2, 1, 2)
    events = _rows(ws, "SELECT lead_id, activity, ts, mark, _line FROM events ORDER BY seq")
    assert events == [
        ("J001", "展示会名刺交換", datetime(2024, 1, 5, 10), None, 2),
        ("J001", "資料送付", datetime(2024, 1, 8, 15, 30), None, 3),
        ("J001", "技術打合せ", datetime(2024, 1, 20, 14), None, 4),
        ("J002", "展示会名刺交換", datetime(2024, 1, 6, 11), None, 5),
        ("J003", "資料送付", datetime(2024, 1, 10), None, 6),
        ("J004", "技術打合せ", datetime(2024, 2, 1, 9), None, 7),
        # on the close day: a date-only close is the end of that day, so it counts before
        ("J001", "契約締結", datetime(2024, 2, 10), None, 8),
    ]
    assert accounting(ws) == {str(LEADS_JA): Counts(5, 5, 0), str(EVENTS_JA): Counts(7, 7, 0)}
    assert csv_records(LEADS_JA, encoding="cp932") == 5


def test_cp932_segments_match_csv_module_byte_for_byte():
    """Every segment cell equals what Python's csv module reads from the same CP932 bytes."""
    text = LEADS_JA.read_bytes().decode("cp932")
    expected = {
        r["商談ID"]: (r["会社名"], r["担当者"])
        for r in csv.DictReader(io.StringIO(text, newline=""))
    }
    ws = rr.ingest(leads=LEADS_JA, events=EVENTS_JA)
    got = {k: (a, b) for k, a, b in _rows(ws, "SELECT lead_id, 会社名, 担当者 FROM leads")}
    assert got == expected


@pytest.mark.parametrize("yen", ["\\", "￥", "¥"])
def test_regression_yen_amounts_in_any_spelling(write, yen):
    """Bug: '\\1,200' (¥ as CP932 stores it) was quarantined as not a number."""
    enc = "cp932" if yen != "¥" else "utf-8"
    write(
        "leads.csv",
        f'商談ID,作成日,結果,受注日,失注日,金額\nA1,2024/01/05,受注,2024/02/01,,"{yen}1,200"\n'
        f"A2,2024/01/06,失注,,2024/02/02,{yen}0\n",
        encoding=enc,
        newline="\r\n",
    )
    ws = rr.ingest(leads="leads.csv")
    assert _rows(ws, "SELECT lead_id, amount FROM leads ORDER BY lead_id") == [
        ("A1", 1200.0),
        ("A2", 0.0),
    ]


# ------------------------------------------------------------------------- UTF-8 BOM
def test_utf8_bom_header_maps_and_is_not_a_column_name(write):
    text = (
        "lead_id,created_at,outcome,closed_at\n"
        "L1,2024-01-01,won,2024-02-01\nL2,2024-01-02,lost,2024-02-03\n"
    )
    write("leads.csv", codecs.BOM_UTF8 + text.replace("\n", "\r\n").encode("utf-8"))
    raw = read_csv("leads.csv")
    assert raw.encoding == "utf-8-sig"
    assert raw.columns[0] == "lead_id"  # not '\ufefflead_id'
    ws = rr.ingest(leads="leads.csv")
    assert _rows(ws, "SELECT lead_id, outcome FROM leads ORDER BY lead_id") == [
        ("L1", "won"),
        ("L2", "lost"),
    ]


def test_utf8_bom_with_japanese_headers(write):
    text = (
        "商談ID,作成日,結果,受注日,失注日\n"
        "A1,2024/01/05,受注,2024/02/01,\nA2,2024/01/06,失注,,2024/02/02\n"
    )
    write("leads.csv", codecs.BOM_UTF8 + text.encode("utf-8"))
    ws = rr.ingest(leads="leads.csv")
    assert summarise(ws).files[0].preset == "japanese"
    assert _rows(ws, "SELECT lead_id, outcome, closed_at FROM leads ORDER BY lead_id") == [
        ("A1", "won", datetime(2024, 2, 1) + END_OF_DAY),
        ("A2", "lost", datetime(2024, 2, 2) + END_OF_DAY),
    ]


def test_utf16_tsv_as_excel_unicode_text(write):
    text = (
        "lead_id\tcreated_at\toutcome\tclosed_at\r\n"
        "L1\t2024-01-01\twon\t2024-02-01\r\nL2\t2024-01-02\t開発中\t\r\n"
    )
    write("leads.txt", text.encode("utf-16"))  # with BOM, as Excel's "Unicode Text"
    raw = read_csv("leads.txt")
    assert (raw.encoding, raw.delimiter) == ("utf-16", "\t")
    assert raw.table.to_pylist() == [
        {
            "lead_id": "L1",
            "created_at": "2024-01-01",
            "outcome": "won",
            "closed_at": "2024-02-01",
            "_line": 2,
        },
        {
            "lead_id": "L2",
            "created_at": "2024-01-02",
            "outcome": "開発中",
            "closed_at": None,
            "_line": 3,
        },
    ]


# ------------------------------------------------------------------------ delimiters
def test_semicolon_csv_with_commas_in_cells_and_decimal_commas(write):
    write(
        "leads.csv",
        "lead_id;created_at;outcome;closed_at;amount;comment\n"
        'L1;2024-01-01;won;2024-02-01;1.234,56;"a, b; c"\n'
        "L2;2024-01-02;lost;2024-02-02;12,5;x,y\n"
        "L3;2024-01-03;open;;;\n",
    )
    raw = read_csv("leads.csv")
    assert raw.delimiter == ";"
    ws = rr.ingest(leads="leads.csv")
    assert _rows(ws, "SELECT lead_id, amount, comment FROM leads ORDER BY lead_id") == [
        ("L1", 1234.56, "a, b; c"),
        ("L2", 12.5, "x,y"),
        ("L3", None, None),
    ]
    assert accounting(ws) == {"leads.csv": Counts(3, 3, 0)}


def test_tab_delimited_with_commas_and_semicolons_in_cells(write):
    write(
        "events.tsv",
        "lead_id\tactivity\tts\tdetail\n"
        "L1\tcall\t2024-01-10\tsaid: yes, no; maybe\n"
        'L1\tdemo\t2024-01-11\t"quoted\ttab"\n',
    )
    write("leads.csv", "lead_id,created_at,outcome,closed_at\nL1,2024-01-01,won,2024-02-01\n")
    raw = read_csv("events.tsv")
    assert raw.delimiter == "\t"
    ws = rr.ingest(leads="leads.csv", events="events.tsv")
    assert _rows(ws, "SELECT activity, detail FROM events ORDER BY seq") == [
        ("call", "said: yes, no; maybe"),
        ("demo", "quoted\ttab"),
    ]


def test_regression_one_short_row_does_not_change_the_delimiter(write):
    """Bug: one row with a missing field in a 4-row file made ';' win; the file became one
    column."""
    write("e.csv", "lead_id,activity,ts\nL1,call,2024-01-10\nL1,call\nL1,demo,2024-01-12\n")
    raw = read_csv("e.csv")
    assert raw.delimiter == ","
    assert raw.columns == ["lead_id", "activity", "ts"]


# ------------------------------------------------------------------- Excel debris
def test_trailing_empty_columns_are_dropped(write):
    write(
        "leads.csv",
        "lead_id,created_at,outcome,closed_at,amount,,,\n"
        "L1,2024-01-01,won,2024-02-01,100,,,\n"
        "L2,2024-01-02,lost,2024-02-02,,,,,,,\n"
        ",,,,,,,\n",
        newline="\r\n",
    )
    raw = read_csv("leads.csv")
    assert raw.columns == ["lead_id", "created_at", "outcome", "closed_at", "amount"]
    assert raw.num_rows == 2 and raw.blank_rows == 1
    ws = rr.ingest(leads="leads.csv")
    assert ws.segments() == []
    assert accounting(ws) == {"leads.csv": Counts(2, 2, 0)}


def test_unnamed_column_with_data_is_kept(write):
    write(
        "leads.csv", "lead_id,created_at,outcome,closed_at,\nL1,2024-01-01,won,2024-02-01,north\n"
    )
    ws = rr.ingest(leads="leads.csv")
    assert ws.segments() == ["column_5"]
    assert _rows(ws, "SELECT column_5 FROM leads") == [("north",)]


# --------------------------------------------------------- quoted newlines, line numbers
def test_quoted_newlines_keep_physical_line_numbers(write):
    leads = (
        "lead_id,created_at,outcome,closed_at\n"
        "L1,2024-01-01,won,2024-02-01\nL2,2024-01-02,lost,2024-02-02\n"
    )
    notes = (
        "lead_id,ts,text\n"
        'L1,2024-01-05,"first line\nsecond line\nthird, with comma"\n'  # lines 2-4
        "\n"  # line 5: blank
        'L2,2024-01-06,"say ""hi""\r\nand bye"\n'  # lines 6-7 (CRLF inside the cell)
        "L1,2024-01-07,\n"  # line 8: empty note -> quarantined
        "L2,2024-01-08,plain\n"
    )  # line 9
    write("leads.csv", leads)
    write("notes.csv", notes)
    ws = rr.ingest(leads="leads.csv", notes="notes.csv")
    assert _rows(ws, "SELECT lead_id, text, _line FROM notes ORDER BY _line") == [
        ("L1", "first line\nsecond line\nthird, with comma", 2),
        ("L2", 'say "hi"\r\nand bye', 6),
        ("L2", "plain", 9),
    ]
    assert _rows(ws, "SELECT line, reason FROM quarantine") == [(8, "missing_text")]
    assert accounting(ws)["notes.csv"] == Counts(4, 3, 1)
    assert summarise(ws).files[1].blank_rows == 1


def test_line_numbers_match_csv_module(write):
    """`_line` is where the csv module starts each record (universal newlines)."""
    text = 'a,b\r\n1,"x\ny"\r\n\r\n2,z\r\n3,"p\r\nq\rr"\r\n4,w\r\n'
    write("t.csv", text.encode("utf-8"))
    reader = csv.reader(io.StringIO(text, newline=""))
    starts, prev = [], 0
    for row in reader:
        if row:
            starts.append(prev + 1)
        prev = reader.line_num
    raw = read_csv("t.csv")
    assert raw.table["_line"].to_pylist() == starts[1:] == [2, 5, 6, 9]


# -------------------------------------------------------------------- source dispatch
def test_text_file_without_suffix_is_read_as_csv(write):
    write("export", "lead_id,created_at,outcome,closed_at\nL1,2024-01-01,won,2024-02-01\n")
    src = read_source("export")
    assert src.table.kind == "csv" and src.table.num_rows == 1


# ------------------------------------------------------------------------ Maven sample
def _maven_truth(path) -> dict:
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    stages = Counter(r["deal_stage"] for r in rows)
    return {
        "rows": len(rows),
        "stages": stages,
        "no_dates": sum(1 for r in rows if not r["engage_date"] and not r["close_date"]),
        "won_value": sum(float(r["close_value"]) for r in rows if r["deal_stage"] == "Won"),
        "ids": {r["opportunity_id"] for r in rows},
        "prospecting": {r["opportunity_id"] for r in rows if r["deal_stage"] == "Prospecting"},
    }


@pytest.mark.parametrize("preset", ["maven", None], ids=["preset", "detected"])
def test_maven_sales_pipeline(shared_data, preset):
    path = shared_data / "crm_sales_opportunities" / "sales_pipeline.csv"
    truth = _maven_truth(path)
    # The numbers the issue states, checked against the csv module first.
    assert truth["rows"] == 8800
    assert truth["stages"] == {"Won": 4238, "Lost": 2473, "Engaging": 1589, "Prospecting": 500}

    ws = rr.ingest(leads=path, preset=preset)
    s = summarise(ws)
    (f,) = s.files
    assert (f.preset, f.rows_read, f.accepted, f.quarantined) == ("maven", 8800, 8800, 0)
    assert accounting(ws) == {str(path): Counts(8800, 8800, 0)}
    assert (s.won, s.lost, s.open) == (4238, 2473, 1589 + 500)
    # Prospecting deals have no dates at all: open, with a null created_at.
    assert _rows(
        ws, "SELECT count(*) FROM leads WHERE outcome = 'open' AND created_at IS NULL"
    ) == [(truth["no_dates"],)]
    assert truth["no_dates"] == 500
    assert {r[0] for r in _rows(ws, "SELECT lead_id FROM leads WHERE created_at IS NULL")} == truth[
        "prospecting"
    ]
    assert _rows(ws, "SELECT sum(amount) FROM leads WHERE outcome = 'won'") == [
        (truth["won_value"],)
    ]
    assert {r[0] for r in _rows(ws, "SELECT lead_id FROM leads")} == truth["ids"]
    assert s.segments == ("sales_agent", "product", "account")


def test_maven_via_cli(shared_data):
    from typer.testing import CliRunner

    from royalroad.cli import app

    path = shared_data / "crm_sales_opportunities" / "sales_pipeline.csv"
    result = CliRunner().invoke(
        app, ["validate", "--leads", str(path), "--preset", "maven", "--format", "json"]
    )
    assert result.exit_code == 0, result.stderr
    import json

    data = json.loads(result.stdout)
    assert (data["rows_read"], data["quarantined"], data["won"], data["lost"], data["open"]) == (
        8800,
        0,
        4238,
        2473,
        2089,
    )


def test_regression_header_named_like_a_bookkeeping_column(write):
    """Bug: a source column called _line or _extra crashed ingest (duplicate field in the
    schema)."""
    write(
        "leads.csv",
        "lead_id,created_at,outcome,closed_at,_line,_extra,seq,seq_src\n"
        "L1,2024-01-01,won,2024-02-01,a,b,c,d\n",
    )
    raw = read_csv("leads.csv")
    assert raw.columns == [
        "lead_id",
        "created_at",
        "outcome",
        "closed_at",
        "_line.1",
        "_extra.1",
        "seq",
        "seq_src",
    ]
    assert raw.table["_line"].to_pylist() == [2]
    write("events.csv", "lead_id,activity,ts,seq,seq_src,mark\nL1,call,2024-01-05,x,y,z\n")
    ws = rr.ingest(leads="leads.csv", events="events.csv")
    assert _rows(ws, 'SELECT "_line.1", "_extra.1", seq_src, seq_src2 FROM leads') == [
        ("a", "b", "c", "d")
    ]
    assert _rows(ws, "SELECT seq, seq_src, seq_src2, mark, mark_src FROM events") == [
        (1, "x", "y", None, "z")
    ]


def test_header_only_events_file_is_zero_rows(write):
    write("leads.csv", "lead_id,created_at,outcome,closed_at\nL1,2024-01-01,won,2024-02-01\n")
    write("events.csv", "lead_id,activity,ts\r\n")
    ws = rr.ingest(leads="leads.csv", events="events.csv")
    assert accounting(ws) == {"leads.csv": Counts(1, 1, 0), "events.csv": Counts(0, 0, 0)}


def test_regression_preset_without_a_section_for_the_role(write):
    """Bug: --preset maven with an events file failed with 'looked for: -' (maven has no events)."""
    write(
        "mv.csv",
        "opportunity_id,sales_agent,deal_stage,engage_date,close_date,close_value\n"
        "X1,a,Won,2017-01-01,2017-02-01,100\nX2,b,Prospecting,,,\n",
    )
    write("ev.csv", "lead_id,activity,ts\nX1,call,2017-01-05\n")
    ws = rr.ingest(leads="mv.csv", events="ev.csv", preset="maven")
    assert [(f.table, f.preset) for f in summarise(ws).files] == [
        ("leads", "maven"),
        ("events", "canonical"),
    ]
    assert accounting(ws) == {"mv.csv": Counts(2, 2, 0), "ev.csv": Counts(1, 1, 0)}


def test_csv_header_fix_ups_are_explained_in_the_chosen_language(tmp_path):
    from royalroad.i18n import set_lang

    p = tmp_path / "x.csv"
    # column 3 has data but no header; 'a' twice; column 5 is empty debris (dropped, no note)
    p.write_text("a,b,,a,\n1,2,3,4,\n", encoding="utf-8")
    try:
        set_lang("en")
        raw = read_csv(p)
        assert raw.columns == ["a", "b", "column_3", "a.1"]
        assert raw.notes == (
            "column 3 has data but no header; named 'column_3'",
            "column 'a' appears more than once; this one was renamed 'a.1'",
        )
        set_lang("ja")
        assert read_csv(p).notes == (
            "3 列は見出しが空ですがデータがあります。'column_3' と名付けました",
            "列 'a' が重複しています。この列を 'a.1' に改名しました",
        )
    finally:
        set_lang("en")
