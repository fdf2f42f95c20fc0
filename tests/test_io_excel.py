"""xlsx reader: workbooks written with openpyxl in tmp_path, every fix-up and fatal case."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import openpyxl
import pytest
from openpyxl.chart import BarChart, Reference

from royalroad.errors import InputError
from royalroad.i18n import set_lang
from royalroad.io.excel import read_xlsx


@pytest.fixture(autouse=True)
def _english():
    set_lang("en")
    yield
    set_lang(None)


@pytest.fixture
def deals(tmp_path: Path) -> Path:
    """A CRM export as a Japanese sales team keeps it."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "商談"
    ws.append([])  # row 1: empty, above the header
    ws.append(["商談ID", "作成日", "結果", "受注日", "金額", None, "結果", None, None])  # row 2
    ws.append(
        [
            "D-001",
            dt.datetime(2024, 4, 1, 9, 30),
            "受注",
            dt.datetime(2024, 5, 10),
            1200000,
            "要フォロー",
            True,
        ]
    )  # row 3
    ws.append([])  # row 4: empty, between data rows
    ws.append(
        [
            "D-002",
            dt.datetime(2024, 4, 2, 14, 0, 5, 250000),
            "失注",
            None,
            0.1 + 0.2,
            None,
            False,
            None,
            "",
        ]
    )  # row 5
    ws.append(["D-003", "=1+1", '=HYPERLINK("x")', dt.time(13, 5), 1234.5, None, 3.0])  # row 6
    ws["C6"].data_type = "s"  # text that merely looks like a formula
    ws.append([" D-004 ", None, None, None, -7])  # row 7: spaces are data
    ws.append([])  # rows 8-9: trailing empty rows, formatted but blank
    ws["A9"].number_format = "0.00"
    notes = wb.create_sheet("メモ")
    notes.append(["lead", "text"])
    notes.append(["D-001", "価格交渉中"])
    path = tmp_path / "商談一覧.xlsx"
    wb.save(path)
    return path


def test_values_are_strings_and_lines_are_worksheet_rows(deals: Path) -> None:
    raw = read_xlsx(deals)
    assert (raw.kind, raw.sheet, raw.source) == ("xlsx", "商談", str(deals))
    assert raw.columns == ["商談ID", "作成日", "結果", "受注日", "金額", "column_6", "結果.1"]
    assert raw.table.to_pylist() == [
        {
            "商談ID": "D-001",
            "作成日": "2024-04-01 09:30:00",
            "結果": "受注",
            "受注日": "2024-05-10",  # a column of midnights holds dates
            "金額": "1200000",
            "column_6": "要フォロー",
            "結果.1": "true",
            "_line": 3,
        },
        {
            "商談ID": "D-002",
            "作成日": "2024-04-02 14:00:05.250000",
            "結果": "失注",
            "受注日": None,
            "金額": "0.3",
            "column_6": None,
            "結果.1": "false",
            "_line": 5,
        },
        {
            "商談ID": "D-003",
            "作成日": "=1+1",
            "結果": '=HYPERLINK("x")',
            "受注日": "13:05:00",
            "金額": "1234.5",
            "column_6": None,
            "結果.1": "3",
            "_line": 6,
        },
        {
            "商談ID": " D-004 ",
            "作成日": None,
            "結果": None,
            "受注日": None,
            "金額": "-7",
            "column_6": None,
            "結果.1": None,
            "_line": 7,
        },
    ]
    assert all(str(f.type) == "string" for f in raw.table.schema if f.name != "_line")
    assert str(raw.table.schema.field("_line").type) == "int64"


def test_fixups_are_counted_and_noted(deals: Path) -> None:
    raw = read_xlsx(deals)
    assert raw.blank_rows == 2  # rows 1 and 4; trailing rows 8-9 are not counted
    assert raw.notes == (
        "column F has data but no header; named 'column_6'",
        "column '結果' appears more than once; this one was renamed '結果.1'",
    )


def test_named_sheet_exact_or_case_insensitive(deals: Path, tmp_path: Path) -> None:
    raw = read_xlsx(deals, sheet="メモ")
    assert raw.sheet == "メモ"
    assert raw.table.to_pylist() == [{"lead": "D-001", "text": "価格交渉中", "_line": 2}]
    wb = openpyxl.Workbook()
    wb.active.title = "Activities"
    wb.active.append(["a"])
    wb.save(tmp_path / "a.xlsx")
    assert read_xlsx(tmp_path / "a.xlsx", sheet="activities").sheet == "Activities"


def test_formula_is_text_not_the_cached_value(tmp_path: Path) -> None:
    # A workbook saved by Excel carries both the formula and its cached result; we
    # keep the formula. Build one by hand: openpyxl never writes cached values.
    path = tmp_path / "cached.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["n"])
    wb.active.append(["=1+1"])
    wb.save(path)
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    parts[sheet] = parts[sheet].replace(b"<v></v>", b"<v>2</v>").replace(b"<v />", b"<v>2</v>")
    assert b"<v>2</v>" in parts[sheet]
    with zipfile.ZipFile(path, "w") as z:
        for name, data in parts.items():
            z.writestr(name, data)
    assert read_xlsx(path).table.column("n").to_pylist() == ["=1+1"]


def test_numbers_dates_and_durations(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["x"])
    for v in (10**20, 2.0, -0.5, 1e-7, 1 / 3, dt.timedelta(hours=26, minutes=3)):
        ws.append([v])
    ws.append([dt.date(2024, 3, 31)])
    path = tmp_path / "n.xlsx"
    wb.save(path)
    assert read_xlsx(path).table.column("x").to_pylist() == [
        "100000000000000000000",
        "2",
        "-0.5",
        "1e-07",
        "0.333333333333333",
        "26:03:00",
        "2024-03-31",  # a date cell (a date-time number at midnight) is a date
    ]


def test_default_sheet_is_first_visible_worksheet(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    data = wb.active
    data.title = "Data"
    data.append(["a"])
    data.append([1])
    hidden = wb.create_sheet("Lookup", 0)
    hidden.append(["code"])
    hidden.sheet_state = "hidden"
    chart = wb.create_chartsheet("Chart", 0)
    bars = BarChart()
    bars.add_data(Reference(data, min_col=1, min_row=1, max_row=2))
    chart.add_chart(bars)
    path = tmp_path / "book.xlsx"
    wb.save(path)
    assert read_xlsx(path).sheet == "Data"
    with pytest.raises(
        InputError,
        match=r"^.*book\.xlsx: sheet 'Chart' is a chart sheet, not a "
        r"table; available worksheets: 'Lookup', 'Data'$",
    ):
        read_xlsx(path, sheet="Chart")


def test_header_only_gives_no_rows(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    wb.active.append(["lead_id", "activity"])
    wb.save(tmp_path / "h.xlsx")
    raw = read_xlsx(tmp_path / "h.xlsx")
    assert raw.columns == ["lead_id", "activity"] and raw.num_rows == 0


def test_name_clash_with_line_column(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    wb.active.append(["_line", "a", "a", "a.1"])
    wb.active.append([1, 2, 3, 4])
    wb.save(tmp_path / "c.xlsx")
    raw = read_xlsx(tmp_path / "c.xlsx")
    assert raw.table.column_names == ["_line.1", "a", "a.1", "a.1.1", "_line"]
    assert raw.table.column("_line").to_pylist() == [2]


# --- fatal -------------------------------------------------------------------------


def test_sheet_missing_lists_sheets(deals: Path) -> None:
    with pytest.raises(
        InputError,
        match=r"^.*商談一覧\.xlsx: sheet 'Deals' not found; "
        r"available sheets: '商談', 'メモ'$",
    ):
        read_xlsx(deals, sheet="Deals")


def test_empty_sheet(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    wb.active.title = "Leads"
    wb.active.append([])
    wb.active.append([None, ""])
    wb.save(tmp_path / "e.xlsx")
    with pytest.raises(
        InputError,
        match=r"e\.xlsx: sheet 'Leads' is empty; expected a header "
        r"row followed by data rows$",
    ):
        read_xlsx(tmp_path / "e.xlsx")


def test_xls_is_not_supported(tmp_path: Path) -> None:
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
    (tmp_path / "old.xls").write_bytes(ole)
    (tmp_path / "html-export.xls").write_text("<html><table></table></html>")
    for name in ("old.xls", "html-export.xls"):
        with pytest.raises(
            InputError,
            match=rf"{name}: \.xls workbooks are not supported; "
            r"open the file in Excel and save it as \.xlsx$",
        ):
            read_xlsx(tmp_path / name)
    (tmp_path / "locked.xlsx").write_bytes(ole)  # what Excel writes for a password
    with pytest.raises(InputError, match=r"locked\.xlsx: the workbook is password-protected"):
        read_xlsx(tmp_path / "locked.xlsx")


def test_not_a_workbook(tmp_path: Path) -> None:
    (tmp_path / "data.xlsx").write_text("lead_id,activity\n1,webinar\n")
    with pytest.raises(
        InputError,
        match=r"data\.xlsx: not an Excel workbook; expected an \.xlsx "
        r"file$",
    ):
        read_xlsx(tmp_path / "data.xlsx")
    with zipfile.ZipFile(tmp_path / "other.xlsx", "w") as z:
        z.writestr("readme.txt", "not a workbook")
    with pytest.raises(
        InputError,
        match=r"other\.xlsx: cannot read the workbook \(There is no "
        r"item named '\[Content_Types\]\.xml' in the archive\); expected a valid "
        r"\.xlsx file$",
    ):
        read_xlsx(tmp_path / "other.xlsx")


def test_truncated_workbook(deals: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(deals.read_bytes()[:1000])
    with pytest.raises(InputError, match=r"cut\.xlsx: cannot read the workbook \(.+\)"):
        read_xlsx(cut)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nope\.xlsx: file not found$"):
        read_xlsx(tmp_path / "nope.xlsx")


def test_extension_does_not_matter(deals: Path, tmp_path: Path) -> None:
    renamed = tmp_path / "export"
    renamed.write_bytes(deals.read_bytes())
    assert read_xlsx(renamed).table.equals(read_xlsx(deals).table)


def test_message_in_japanese(deals: Path) -> None:
    set_lang("ja")
    with pytest.raises(
        InputError, match=r"シート 'Deals' が見つかりません。存在するシート: '商談', 'メモ'"
    ):
        read_xlsx(deals, sheet="Deals")
