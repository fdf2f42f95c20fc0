"""The bad-input corpus, second half: damaged Japanese files, real CRM exports,
ambiguous headers, impossible dates and resource bombs.

Every case is generated here (no committed binaries) and run twice: through
``royalroad.ingest`` and through the CLI (``validate``). Each ends one of two ways:

* **exit 0** with exact row accounting: rows read, accepted and quarantined per file
  as counted by hand in the case, the same ``read`` counted independently with
  Python's csv module, and every quarantined row's table, line and reason;
* **exit 2** with exactly one line naming the file and what was expected (the exact
  English message), no traceback.

None may exit 1, hang, or read a damaged Japanese file as another encoding (the
encoding each file was read with is asserted). Together with
``test_ingest_badinput.py`` this makes the corpus counted in
:func:`test_corpus_has_at_least_70_kinds`.
"""

from __future__ import annotations

import csv
import functools
import gzip
import io
import json
import os
import re
import threading
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import accounting, quarantine_rows
from typer.testing import CliRunner

import royalroad as rr
from royalroad.cli import app
from royalroad.errors import InputError
from royalroad.quality import summarise

LEADS = "lead_id,created_at,outcome,closed_at,amount\n"
JA_LEADS = "商談ID,作成日,結果,受注日,金額\n"


# ------------------------------------------------------------------------ the case
@dataclass(frozen=True)
class Case:
    id: str
    files: dict[str, bytes | Callable[[Path], None]]
    """File name → its bytes, or a function that makes it in the folder (FIFO, xlsx)."""
    kwargs: dict[str, Any]
    message: str | None = None  # fatal: the exact English message (regex when ``regex``)
    regex: bool = False
    counts: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    """Rows: file → (read, accepted, quarantined), counted by hand."""
    quarantined: list[tuple] = field(default_factory=list)  # (table, line, reason)
    encodings: dict[str, str] = field(default_factory=dict)  # file → encoding read with
    csv_read: dict[str, str] = field(default_factory=dict)
    """File → codec: rows read is also counted with the csv module from these bytes."""
    check: Callable[[Any], None] | None = None  # more independent assertions on the workspace
    cli: bool = True  # False: the kwargs have no CLI option yet (and no patch stands in)
    writer: Callable[[Path], threading.Thread] | None = None  # feeds a FIFO while reading

    @property
    def fatal(self) -> bool:
        return self.message is not None


def _utf8(text: str) -> bytes:
    return text.encode("utf-8")


def _cp932(text: str) -> bytes:
    return text.encode("cp932")


def _deals(n: int, *, owner: bool = False) -> list[tuple[str, str, str, str, int]]:
    """n deals: id, created, outcome (won/lost/open alternating), closed, amount."""
    out = []
    for i in range(1, n + 1):
        kind = ("won", "lost", "open")[i % 3]
        closed = f"2024/03/{1 + i % 28:02d}" if kind != "open" else ""
        out.append((f"D-{i:03d}", f"2024/01/{1 + i % 28:02d}", kind, closed, 1000 * i))
    return out


# Salesforce report export: labels, and the two footer lines Salesforce appends.
SF_FOOTER_EN = (
    '\n"Confidential Information - Do Not Distribute"\n'
    '"Copyright (c) 2000-2024 salesforce.com, inc. All rights reserved."\n'
)
SF_FOOTER_JA = (
    '\n"機密情報 - 配布禁止"\n"Copyright (c) 2000-2024 salesforce.com, inc. All rights reserved."\n'
)
SF_STAGE_EN = {"won": "Closed Won", "lost": "Closed Lost", "open": "Negotiation/Review"}
SF_STAGE_JA = {"won": "成立", "lost": "不成立", "open": "交渉/レビュー"}
HS_STAGE_JA = {"won": "成約", "lost": "不成約", "open": "契約書送付済み"}


def _salesforce_en(n: int) -> str:
    rows = [
        "Opportunity ID,Opportunity Name,Stage,Close Date,Created Date,Amount,Opportunity Owner"
    ]
    for i, (d, created, kind, closed, amount) in enumerate(_deals(n)):
        rows.append(
            f"{d},Deal {i},{SF_STAGE_EN[kind]},{closed or '2024/12/31'},{created},{amount},"
            f'"Rep {i % 3}"'
        )
    return "\n".join(rows) + "\n"


def _salesforce_ja(n: int) -> str:
    rows = ["商談 ID,商談名,フェーズ,完了予定日,作成日,金額,商談 所有者"]
    for i, (d, created, kind, closed, amount) in enumerate(_deals(n)):
        rows.append(
            f"{d},案件{i},{SF_STAGE_JA[kind]},{closed or '2024/12/31'},{created},{amount},"
            f"担当{i % 3}"
        )
    return "\n".join(rows) + "\n"


def _hubspot_ja(n: int) -> str:
    rows = ["レコードID,取引名,取引ステージ,クローズ日,金額,作成日,取引担当者"]
    for i, (d, created, kind, closed, amount) in enumerate(_deals(n)):
        rows.append(f"{d},取引{i},{HS_STAGE_JA[kind]},{closed},{amount},{created},佐藤{i % 2}")
    return "\n".join(rows) + "\n"


def _count_outcomes(n: int) -> tuple[int, int, int]:
    kinds = [k for _, _, k, _, _ in _deals(n)]
    return kinds.count("won"), kinds.count("lost"), kinds.count("open")


def _outcomes_are(won: int, lost: int, open_: int) -> Callable[[Any], None]:
    def check(ws) -> None:
        s = summarise(ws)
        assert (s.won, s.lost, s.open) == (won, lost, open_)

    return check


def _all(*checks: Callable[[Any], None]) -> Callable[[Any], None]:
    def check(ws) -> None:
        for c in checks:
            c(ws)

    return check


def _files_say(**expected) -> Callable[[Any], None]:
    """FileSummary fields of the first file, e.g. footer_lines='42–43'."""

    def check(ws) -> None:
        f = summarise(ws).files[0]
        assert {k: getattr(f, k) for k in expected} == expected

    return check


# ----------------------------------------------------------- damaged Japanese files
JA_BODY = (
    JA_LEADS
    + "D-001,2024/01/05,受注,2024/02/01,100\n"
    + "D-002,2024/01/06,失注,2024/02/03,200\n"
    + "D-003,2024/01/07,商談中,,\n"
)
_cut = _cp932(JA_BODY + "D-004,2024/01/08,商談中,,見込")
CUT_MID_CHARACTER = _cut[:-1]  # the export stops after the first byte of 込


def _large_cp932_with_bad_byte() -> bytes:
    """300 CP932 deals; on line 152 the first byte of 注 (受注) is replaced by 0xFF."""
    lines = [JA_LEADS.rstrip("\n")]
    for i in range(1, 301):
        outcome = "受注" if i % 2 else "失注"
        lines.append(f"D-{i:03d},2024/01/05,{outcome},2024/02/01,{i}")
    data = _cp932("\n".join(lines) + "\n")
    row = _cp932("D-151,2024/01/05,受注,")
    at = data.index(row) + len(_cp932("D-151,2024/01/05,受"))
    return data[:at] + b"\x81\x20" + data[at + 2 :]  # a lead byte, then a space: invalid


def _cp932_stray_ff() -> bytes:
    """A CP932 file that Python decodes without error, 0xFF reading as private use."""
    return _cp932(JA_BODY) + b"D-004,2024/01/08,\xff,,\n"


ASCII_STRAY_FF = _utf8(LEADS + "L1,2024-01-01,won,2024-02-01,100\n") + (
    b"L2\xff,2024-01-02,lost,2024-02-03,\nL3,2024-01-03,open,,\n"
)
ASCII_STRAY_81 = _utf8(LEADS + "L1,2024-01-01,won,2024-02-01,100\n") + (
    b"L2,2024-01-02,lost,2024-02-03,1\x81\nL3,2024-01-03,open,,\n"
)
UTF8_EVENTS = "lead_id,activity,ts\nL1,展示会名刺交換,2024-01-10\nL2,資料送付,2024-01-11\n"
STD_LEADS = _utf8(
    LEADS
    + "L1,2024-01-01,won,2024-03-01,100\nL2,2024-01-02,lost,2024-03-02,\nL3,2024-01-03,open,,\n"
)


def _many_damaged() -> bytes:
    good = "".join(f"L{i},資料送付,2024-01-{i % 28 + 1:02d}\n" for i in range(1, 31))
    bad = "".join(f"L{i},訪問,2024-02-{i % 28 + 1:02d}\n" for i in range(1, 31))
    return _utf8("lead_id,activity,ts\n" + good) + _cp932(bad)


def _fifo(name: str, *, payload: bytes | None = None, endless: bool = False):
    """Make a FIFO; with ``payload`` or ``endless``, also a thread that writes to it."""

    def make(folder: Path) -> None:
        os.mkfifo(folder / name)

    def writer(folder: Path) -> threading.Thread:
        def run() -> None:
            try:
                with open(folder / name, "wb") as fh:
                    if payload is not None:
                        fh.write(payload)
                    else:
                        line = b"L1,call,2024-01-10\n" * 4096
                        for _ in range(10_000):  # 800 MB at most: never truly endless
                            fh.write(line)
            except (BrokenPipeError, OSError):
                pass  # the reader stopped at its limit: what the test wants

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        return thread

    return make, (writer if payload is not None or endless else None)


# ------------------------------------------------------------------ xlsx and bombs
def _xlsx(rows: list[list[Any]]) -> Callable[[Path], None]:
    def make_at(path: Path) -> None:
        wb = openpyxl.Workbook()
        ws = wb.active
        for row in rows:
            ws.append(row)
        wb.save(path)

    return make_at


def _xlsx_parts(sheet_xml: bytes) -> bytes:
    """A minimal workbook around one sheet's XML, written with zipfile (deflated)."""
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats'
            '.org/package/2006/content-types"><Default Extension="rels" ContentType="applicati'
            'on/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" Conten'
            'tType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="appli'
            'cation/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override'
            ' PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats'
            '-officedocument.spreadsheetml.worksheet+xml"/></Types>'
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxm'
            'lformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://sch'
            'emas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target='
            '"xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlform'
            'ats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/offic'
            'eDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1'
            '"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxm'
            'lformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://sch'
            'emas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="work'
            'sheets/sheet1.xml"/></Relationships>'
        ),
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in parts.items():
            z.writestr(name, text)
        z.writestr("xl/worksheets/sheet1.xml", sheet_xml)
    return buf.getvalue()


def _sheet(rows_xml: bytes) -> bytes:
    return (
        b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats'
        b'.org/spreadsheetml/2006/main"><sheetData>' + rows_xml + b"</sheetData></worksheet>"
    )


HEADER_ROW = (
    b'<row r="1"><c r="A1" t="inlineStr"><is><t>lead_id</t></is></c>'
    b'<c r="B1" t="inlineStr"><is><t>created_at</t></is></c>'
    b'<c r="C1" t="inlineStr"><is><t>outcome</t></is></c>'
    b'<c r="D1" t="inlineStr"><is><t>closed_at</t></is></c></row>'
)


@functools.cache
def zip_bomb() -> bytes:
    """~700:1: 40 MB of empty rows in ~60 KB (built once, when a test needs it)."""
    return _xlsx_parts(_sheet(HEADER_ROW + b"<row/>" * 7_000_000))


@functools.cache
def row_bomb() -> bytes:
    """One cell on row 3,000,000: openpyxl would yield three million empty rows."""
    return _xlsx_parts(_sheet(HEADER_ROW + b'<row r="3000000"><c r="A3000000"><v>1</v></c></row>'))


@functools.cache
def column_bomb() -> bytes:
    """A cell in Excel's last column, XFD (16,384): a row that wide is no CRM export."""
    return _xlsx_parts(_sheet(HEADER_ROW + b'<row r="2"><c r="XFD2"><v>1</v></c></row>'))


@functools.cache
def xes_gz_bomb() -> bytes:
    """6 MB of XML comments in a few KB of gzip."""
    return gzip.compress(
        b'<?xml version="1.0"?><log>' + b"<!-- padding -->" * 400_000 + b"</log>", 9
    )


def _bytes(name: str, make: Callable[[], bytes]) -> Callable[[Path], None]:
    return lambda folder: (folder / name).write_bytes(make()) and None


def _parquet(n: int) -> Callable[[Path], None]:
    def make_at(path: Path) -> None:
        pq.write_table(
            pa.table(
                {
                    "lead_id": [f"L{i}" for i in range(n)],
                    "created_at": ["2024-01-01"] * n,
                    "outcome": ["won"] * n,
                    "closed_at": ["2024-02-01"] * n,
                }
            ),
            path,
        )

    return make_at


def _wide_csv(columns: int) -> bytes:
    header = ",".join(
        ["lead_id", "created_at", "outcome", "closed_at"] + [f"c{i}" for i in range(columns - 4)]
    )
    return (header + "\nL1,2024-01-01,won,2024-02-01\n").encode()


SMALL_OK = STD_LEADS


def _as_of_ignores_2099(ws) -> None:
    s = summarise(ws)
    assert s.as_of == "2024-03-02 23:59:59.999999"  # the latest close; not 2099
    assert (s.future.n, s.future.latest, s.future.at) == (1, "2099-01-01 00:00:00", "events.csv:5")
    marks = ws.con.execute("SELECT activity, mark FROM events WHERE ts > '2030-01-01'").fetchall()
    assert marks == [("call", "after_as_of")]


def _ids_trimmed(ws) -> None:
    ids = [r[0] for r in ws.con.execute("SELECT lead_id FROM leads ORDER BY lead_id").fetchall()]
    assert ids == ["L1", "L2", "L3"]


def _same_day_counts(ws) -> None:
    rows = ws.con.execute(
        "SELECT CAST(activity AS VARCHAR), mark FROM events ORDER BY seq"
    ).fetchall()
    # 契約締結 and the call at 18:00 of the close day count before the close; the mail
    # the next day is after it
    assert rows == [("call", None), ("契約締結", None), ("call", None), ("mail", "after_close")]
    s = summarise(ws)
    assert s.files[0].closes_date_only == 2


CASES: list[Case] = [
    # --- damaged Japanese and stray bytes: read in the right encoding, the row quarantined
    Case(
        "cp932_cut_mid_character",
        {"leads.csv": CUT_MID_CHARACTER},
        {"leads": "leads.csv"},
        counts={"leads.csv": (4, 3, 1)},
        quarantined=[("leads", 5, "bad_encoding")],
        encodings={"leads.csv": "cp932"},
        check=_outcomes_are(1, 1, 1),
    ),
    Case(
        "cp932_one_bad_byte_in_300_rows",
        {"leads.csv": _large_cp932_with_bad_byte()},
        {"leads": "leads.csv"},
        counts={"leads.csv": (300, 299, 1)},
        quarantined=[("leads", 152, "bad_encoding")],
        encodings={"leads.csv": "cp932"},
        # the damaged 受注 is quarantined, not listed among the values read as open
        check=_all(_outcomes_are(149, 150, 0), _files_say(open_values=None)),
    ),
    Case(
        "cp932_stray_0xff",
        {"leads.csv": _cp932_stray_ff()},
        {"leads": "leads.csv"},
        counts={"leads.csv": (4, 3, 1)},
        quarantined=[("leads", 5, "bad_encoding")],
        encodings={"leads.csv": "cp932"},
    ),
    Case(
        "ascii_with_one_0xff",
        {"leads.csv": ASCII_STRAY_FF},
        {"leads": "leads.csv"},
        counts={"leads.csv": (3, 2, 1)},
        quarantined=[("leads", 3, "bad_encoding")],
        encodings={"leads.csv": "utf-8"},
    ),
    Case(
        "ascii_with_one_0x81",
        {"leads.csv": ASCII_STRAY_81},
        {"leads": "leads.csv"},
        counts={"leads.csv": (3, 2, 1)},
        quarantined=[("leads", 3, "bad_encoding")],
        encodings={"leads.csv": "utf-8"},
    ),
    Case(
        "broken_utf8",
        {
            "leads.csv": STD_LEADS,
            "events.csv": _utf8(UTF8_EVENTS)
            + _utf8("L3,技術打合")
            + b"\x81"
            + _utf8("せ,2024-01-12\n"),
        },
        {"leads": "leads.csv", "events": "events.csv"},
        counts={"leads.csv": (3, 3, 0), "events.csv": (3, 2, 1)},
        quarantined=[("events", 4, "bad_encoding")],
        encodings={"events.csv": "utf-8"},
    ),
    Case(
        "utf8_and_cp932_pasted_together",
        {"leads.csv": STD_LEADS, "events.csv": _utf8(UTF8_EVENTS) + _cp932("L3,訪問,2024-01-12\n")},
        {"leads": "leads.csv", "events": "events.csv"},
        counts={"leads.csv": (3, 3, 0), "events.csv": (3, 2, 1)},
        quarantined=[("events", 4, "bad_encoding")],
        encodings={"events.csv": "utf-8"},
    ),
    Case(
        "utf8_bom_then_cp932_body",
        {"leads.csv": b"\xef\xbb\xbf" + _cp932(JA_BODY)},
        {"leads": "leads.csv"},
        counts={"leads.csv": (3, 3, 0)},
        encodings={"leads.csv": "cp932"},
        check=_all(_outcomes_are(1, 1, 1), _files_say(encoding_note="bom_mismatch")),
        csv_read={"leads.csv": "cp932"},
    ),
    Case(
        "utf8_bom_with_a_bad_byte",
        {"leads.csv": b"\xef\xbb\xbf" + STD_LEADS.replace(b"L2,", b"L2\x81,")},
        {"leads": "leads.csv"},
        counts={"leads.csv": (3, 2, 1)},
        quarantined=[("leads", 3, "bad_encoding")],
        encodings={"leads.csv": "utf-8-sig"},
    ),
    Case(
        "nul_byte_in_one_row",
        {"leads.csv": STD_LEADS.replace(b"L2,2024-01-02,lost", b"L2,2024-01-02,lo\x00st")},
        {"leads": "leads.csv"},
        counts={"leads.csv": (3, 2, 1)},
        quarantined=[("leads", 3, "nul_byte")],
        csv_read={"leads.csv": "utf-8"},
    ),
    Case(
        "cp932_damaged_header",
        {
            "leads.csv": _cp932("商談ID,作成日,結果,受注日,")
            + b"\x81,"
            + _cp932(JA_BODY[len(JA_LEADS) :])
        },
        {"leads": "leads.csv"},
        message="leads.csv: line 1: the header row is damaged (byte 0x81); expected column names "
        "as text. Was the file cut, damaged or saved in two encodings?",
    ),
    Case(
        "nul_byte_in_header",
        {"leads.csv": STD_LEADS.replace(b"outcome", b"out\x00come", 1)},
        {"leads": "leads.csv"},
        message="leads.csv: line 1: the header row is damaged (byte 0x00); expected column names "
        "as text. Was the file cut, damaged or saved in two encodings?",
    ),
    Case(
        "half_the_rows_in_another_encoding",
        {"leads.csv": STD_LEADS, "events.csv": _many_damaged()},
        {"leads": "leads.csv", "events": "events.csv"},
        message="events.csv: 30 of 60 rows hold bytes that utf-8 cannot read (the first: line 32, "
        "byte 0x96); the file mixes encodings or is damaged: save it again as UTF-8 or CP932 "
        "(Shift_JIS)",
    ),
    Case(
        "utf16_cut_in_half_a_character",
        {"leads.csv": ("\ufeff" + STD_LEADS.decode()).encode("utf-16-le")[:-1]},
        {"leads": "leads.csv"},
        message="leads.csv: line 4: byte 0x0A is not valid UTF-16, although the file starts with "
        "a UTF-16 mark; the file is damaged or cut",
    ),
    Case(
        "euc_jp_export",
        {"leads.csv": JA_BODY.encode("euc_jp")},
        {"leads": "leads.csv"},
        counts={"leads.csv": (3, 3, 0)},
        encodings={"leads.csv": "euc_jp"},
        csv_read={"leads.csv": "euc_jp"},
    ),
    Case(
        "cp1252_one_accented_letter_is_not_damage",
        {
            "leads.csv": (LEADS + "L1,2024-01-01,won,2024-02-01,\nL2,2024-01-02,open,,\n")
            .encode()
            .replace(b"L2,", b"Jos\xe9,")
        },
        {"leads": "leads.csv"},
        counts={"leads.csv": (2, 2, 0)},
        encodings={"leads.csv": "cp1252"},
        check=lambda ws: (
            ws.con.execute("SELECT count(*) FROM leads WHERE lead_id = 'José'").fetchall() == [(1,)]
        ),
    ),
    # --- real exports: footers, total rows, Japanese header sets, custom stages
    Case(
        "salesforce_report_footer",
        {"leads.csv": _utf8(_salesforce_en(40) + SF_FOOTER_EN)},
        {"leads": "leads.csv"},
        counts={"leads.csv": (40, 40, 0)},
        check=_all(
            _outcomes_are(*_count_outcomes(40)),
            _files_say(footer_rows=2, footer_lines="43–44", preset="salesforce"),
        ),
        csv_read={"leads.csv": "utf-8"},
    ),
    Case(
        "salesforce_japanese_report_footer_cp932",
        {"leads.csv": _cp932(_salesforce_ja(40) + SF_FOOTER_JA)},
        {"leads": "leads.csv"},
        counts={"leads.csv": (40, 40, 0)},
        encodings={"leads.csv": "cp932"},
        check=_all(
            _outcomes_are(*_count_outcomes(40)),
            _files_say(footer_rows=2, footer_lines="43–44", preset="salesforce"),
            lambda ws: "商談 所有者" in ws.segments(),
        ),
        csv_read={"leads.csv": "cp932"},
    ),
    Case(
        "total_row_合計",
        {
            "leads.csv": _cp932(
                JA_BODY + "合計,,,,300\n"  # line 5: a total row, its id cell the label
            )
        },
        {"leads": "leads.csv"},
        counts={"leads.csv": (3, 3, 0)},
        check=_files_say(footer_rows=1, footer_lines="5"),
        csv_read={"leads.csv": "cp932"},
    ),
    Case(
        "grand_total_row_with_empty_id",
        {"leads.csv": _utf8(_salesforce_en(6) + ',"Grand Totals (6 records)",,,,21000,\n')},
        {"leads": "leads.csv"},
        counts={"leads.csv": (6, 6, 0)},
        check=_files_say(footer_rows=1, footer_lines="8"),
        csv_read={"leads.csv": "utf-8"},
    ),
    Case(
        "last_deal_named_total_is_data",
        {
            "leads.csv": _utf8(
                _salesforce_en(3) + "D-100,Total Solutions,Closed Won,2024/03/01,"
                "2024/01/01,500,Rep 1\n"
            )
        },
        {"leads": "leads.csv"},
        counts={"leads.csv": (4, 4, 0)},
        check=_files_say(footer_rows=0),
        csv_read={"leads.csv": "utf-8"},
    ),
    Case(
        "footer_rows_in_xlsx",
        {
            "leads.xlsx": lambda folder: _xlsx(
                [["商談ID", "作成日", "結果", "受注日", "金額"]]
                + [
                    [d, c, {"won": "受注", "lost": "失注", "open": "商談中"}[k], cl or None, a]
                    for d, c, k, cl, a in _deals(5)
                ]
                + [[None], ["機密情報 - 配布禁止"], ["レポート作成者: 山田"]]
            )(folder / "leads.xlsx")
        },
        {"leads": "leads.xlsx"},
        counts={"leads.xlsx": (5, 5, 0)},
        check=_files_say(footer_rows=2, footer_lines="8–9"),
    ),
    Case(
        "hubspot_japanese_deals_export",
        {"leads.csv": _utf8(_hubspot_ja(30))},
        {"leads": "leads.csv"},
        counts={"leads.csv": (30, 30, 0)},
        check=_all(
            _outcomes_are(*_count_outcomes(30)),
            _files_say(preset="hubspot", open_values="契約書送付済み (10)"),
            lambda ws: "取引担当者" in ws.segments(),
        ),
        csv_read={"leads.csv": "utf-8"},
    ),
    Case(
        "japanese_custom_open_stages",
        {
            "leads.csv": _cp932(
                JA_LEADS
                + "D-001,2024/01/05,受注,2024/02/01,100\n"
                + "D-002,2024/01/06,見積提出済,,\n"
                + "D-003,2024/01/07,ヒアリング,,\n"
                + "D-004,2024/01/08,見積提出済,,\n"
                + "D-005,2024/01/09,失注,2024/02/05,\n"
            )
        },
        {"leads": "leads.csv"},
        counts={"leads.csv": (5, 5, 0)},
        check=_all(
            _outcomes_are(1, 1, 3),
            _files_say(open_values="見積提出済 (2), ヒアリング (1)"),
        ),
        csv_read={"leads.csv": "cp932"},
    ),
    Case(
        "date_only_close_keeps_that_days_events",
        {
            "leads.csv": _utf8(
                LEADS + "L1,2024-01-01,won,2024-03-01,\nL2,2024-01-02,lost,2024-03-02,\n"
            ),
            "events.csv": _utf8(
                "lead_id,activity,ts\nL1,call,2024-02-01 10:00\nL1,契約締結,2024-03-01 15:00\n"
                "L2,call,2024-03-02 18:00\nL2,mail,2024-03-03 09:00\n"
            ),
        },
        {"leads": "leads.csv", "events": "events.csv"},
        counts={"leads.csv": (2, 2, 0), "events.csv": (4, 4, 0)},
        check=_same_day_counts,
        csv_read={"leads.csv": "utf-8", "events.csv": "utf-8"},
    ),
    Case(
        "duplicate_outcome_column",
        {
            "leads.csv": _utf8(
                "lead_id,created_at,outcome,closed_at,outcome\nL1,2024-01-01,won,2024-02-01,lost\n"
            )
        },
        {"leads": "leads.csv"},
        message="leads.csv: column 'outcome' appears 2 times in the header (columns 3, 5); "
        "cannot tell which one holds outcome: rename or delete the others",
    ),
    Case(
        "duplicate_id_column_differing_in_case",
        {
            "leads.csv": _utf8(
                "Lead_ID,created_at,outcome,closed_at,lead_id\nL1,2024-01-01,won,2024-02-01,L2\n"
            )
        },
        {"leads": "leads.csv"},
        message="leads.csv: column 'Lead_ID' appears 2 times in the header (columns 1, 5); "
        "cannot tell which one holds lead_id: rename or delete the others",
    ),
    Case(
        "duplicate_unmapped_column_is_kept",
        {
            "leads.csv": _utf8(
                "lead_id,created_at,outcome,closed_at,memo,memo\nL1,2024-01-01,won,2024-02-01,a,b\n"
            )
        },
        {"leads": "leads.csv"},
        counts={"leads.csv": (1, 1, 0)},
        check=lambda ws: ws.segments() == ["memo", "memo.1"],
        csv_read={"leads.csv": "utf-8"},
    ),
    # --- dates out of range, and in the future
    Case(
        "event_in_year_2204",
        {
            "leads.csv": STD_LEADS,
            "events.csv": _utf8("lead_id,activity,ts\nL1,call,2024-01-10\nL1,call,2204-01-10\n"),
        },
        {"leads": "leads.csv", "events": "events.csv"},
        counts={"leads.csv": (3, 3, 0), "events.csv": (2, 1, 1)},
        quarantined=[("events", 3, "out_of_range_timestamp")],
        csv_read={"events.csv": "utf-8"},
    ),
    Case(
        "close_on_9999_12_31",
        {"leads.csv": STD_LEADS + b"L4,2024-01-04,lost,9999-12-31,\n"},
        {"leads": "leads.csv"},
        counts={"leads.csv": (4, 3, 1)},
        quarantined=[("leads", 5, "out_of_range_timestamp")],
        csv_read={"leads.csv": "utf-8"},
    ),
    Case(
        "created_in_1899",
        {"leads.csv": STD_LEADS + b"L4,1899-12-31,open,,\n"},
        {"leads": "leads.csv"},
        counts={"leads.csv": (4, 3, 1)},
        quarantined=[("leads", 5, "out_of_range_timestamp")],
    ),
    Case(
        "one_event_in_2099_does_not_move_the_as_of_date",
        {
            "leads.csv": STD_LEADS,
            "events.csv": _utf8(
                "lead_id,activity,ts\nL1,call,2024-01-10\nL2,call,2024-01-11\nL3,call,2024-01-12\n"
                "L3,call,2099-01-01\n"
            ),
        },
        {"leads": "leads.csv", "events": "events.csv", "tz": "UTC"},
        counts={"leads.csv": (3, 3, 0), "events.csv": (4, 4, 0)},
        check=_as_of_ignores_2099,
        csv_read={"events.csv": "utf-8"},
    ),
    Case(
        "ids_with_tabs_crs_and_invisible_spaces",
        {
            "leads.csv": _utf8(
                LEADS
                + '"\tL1\r",2024-01-01,won,2024-03-01,100\n'
                + "\u00a0L2\u200b,2024-01-02,lost,2024-03-02,\n"
                + "\ufeffL3\u3000,2024-01-03,open,,\n"
            ),
            "events.csv": _utf8("lead_id,activity,ts\nL1,call,2024-01-10\nL2,call,2024-01-11\n"),
        },
        {"leads": "leads.csv", "events": "events.csv"},
        counts={"leads.csv": (3, 3, 0), "events.csv": (2, 2, 0)},
        check=_ids_trimmed,
    ),
    # --- resource guards
    Case(
        "header_of_50k_columns",
        {"leads.csv": _wide_csv(50_000)},
        {"leads": "leads.csv"},
        message="leads.csv: 50,000 columns (line 1), more than the limit of 2,000; raise it with "
        "max_columns (--max-columns) if the table is genuine",
    ),
    Case(
        "columns_above_a_lowered_limit",
        {"leads.csv": _wide_csv(6)},
        {"leads": "leads.csv", "max_columns": 5},
        message="leads.csv: 6 columns (line 1), more than the limit of 5; raise it with "
        "max_columns (--max-columns) if the table is genuine",
    ),
    Case(
        "rows_above_a_lowered_limit",
        {"leads.csv": STD_LEADS},
        {"leads": "leads.csv", "max_rows": 2},
        message="leads.csv: more than 2 rows, the limit; raise it with max_rows (--max-rows) "
        "for a larger export",
    ),
    Case(
        "file_above_a_lowered_size_limit",
        {"leads.csv": STD_LEADS + b"," * 3000},
        {"leads": "leads.csv", "max_file_mb": 0.001},
        message="leads.csv: 0.0 MB, more than the limit of 0.0 MB; raise it with max_file_mb "
        "(--max-file-mb), or load the data as Parquet",
    ),
    Case(
        "dev_zero",
        {},
        {"leads": "/dev/zero"},
        message="/dev/zero: not a regular file (a device such as /dev/zero never ends); expected "
        "a CSV, xlsx, Parquet or XES file, or a pipe",
    ),
    Case(
        "endless_pipe",
        {"leads.csv": _fifo("leads.csv", endless=True)[0]},
        {"leads": "leads.csv", "max_file_mb": 2},
        message="leads.csv: the pipe delivers more than 2.0 MB, the limit; raise it with "
        "max_file_mb (--max-file-mb)",
        writer=_fifo("leads.csv", endless=True)[1],
    ),
    Case(
        "csv_through_a_pipe",
        {"leads.csv": _fifo("leads.csv", payload=STD_LEADS)[0]},
        {"leads": "leads.csv"},
        counts={"leads.csv": (3, 3, 0)},
        writer=_fifo("leads.csv", payload=STD_LEADS)[1],
    ),
    Case(
        "pipe_nobody_writes_to",
        {"leads.csv": _fifo("leads.csv")[0]},
        {"leads": "leads.csv"},
        message="leads.csv: the file is empty; expected a header row and at least one data row",
    ),
    Case(
        "xlsx_zip_bomb",
        {"leads.xlsx": _bytes("leads.xlsx", zip_bomb)},
        {"leads": "leads.xlsx"},
        message=r"leads\.xlsx: part xl/worksheets/sheet1\.xml unpacks to 40\.1 MB from 0\.1 MB, "
        r"a ratio of [\d,]+:1 above the limit of 100:1 \(a zip bomb\?\); raise it with "
        r"max_zip_ratio \(--max-zip-ratio\) if the workbook is genuine",
        regex=True,
    ),
    Case(
        "xlsx_above_a_lowered_unpacked_limit",
        {
            "leads.xlsx": lambda folder: _xlsx([["lead_id"], *[[f"L{i}"] for i in range(2000)]])(
                folder / "leads.xlsx"
            )
        },
        {"leads": "leads.xlsx", "max_unzipped_mb": 0.01},
        message=r"leads\.xlsx: unpacks to more than [\d.]+ MB \(at part [\w/.\[\]]+\), above "
        r"the limit of 0\.0 MB; raise it with max_unzipped_mb \(--max-unzipped-mb\) if the "
        r"file is genuine",
        regex=True,
    ),
    Case(
        "xlsx_row_bomb",
        {"leads.xlsx": _bytes("leads.xlsx", row_bomb)},
        {"leads": "leads.xlsx"},
        message="leads.xlsx: the sheet has more than 1,048,576 rows, Excel's own limit, so Excel "
        "did not write it (a row bomb?); export the data as CSV",
    ),
    Case(
        "xlsx_rows_above_a_lowered_limit",
        {
            "leads.xlsx": lambda folder: _xlsx(
                [["lead_id", "created_at", "outcome", "closed_at"]]
                + [[f"L{i}", "2024-01-01", "won", "2024-02-01"] for i in range(40)]
            )(folder / "leads.xlsx")
        },
        {"leads": "leads.xlsx", "max_rows": 10},
        message="leads.xlsx: more than 10 rows, the limit; raise it with max_rows (--max-rows) "
        "for a larger export",
    ),
    Case(
        "xlsx_column_bomb",
        {"leads.xlsx": _bytes("leads.xlsx", column_bomb)},
        {"leads": "leads.xlsx"},
        message="leads.xlsx: 16,384 columns (line 2), more than the limit of 2,000; raise it with "
        "max_columns (--max-columns) if the table is genuine",
    ),
    Case(
        "xes_gz_bomb",
        {"log.xes.gz": _bytes("log.xes.gz", xes_gz_bomb)},
        {"events": "log.xes.gz", "won": ["a"], "max_unzipped_mb": 1},
        message="log.xes.gz: unpacks to more than 2.0 MB (at part gzip), above the limit of "
        "1.0 MB; raise it with max_unzipped_mb (--max-unzipped-mb) if the file is genuine",
    ),
    Case(
        "parquet_rows_above_a_lowered_limit",
        {"leads.parquet": lambda folder: _parquet(50)(folder / "leads.parquet")},
        {"leads": "leads.parquet", "max_rows": 10},
        message="leads.parquet: more than 10 rows, the limit; raise it with max_rows (--max-rows) "
        "for a larger export",
    ),
    Case(
        "a_limit_that_is_not_a_number",
        {"leads.csv": STD_LEADS},
        {"leads": "leads.csv", "max_rows": 0},
        message="max_rows: '0' is not a limit; expected a positive number",
        cli=False,  # the CLI's option parser checks its own numbers
    ),
]

LIMIT_KWARGS = ("max_file_mb", "max_rows", "max_columns", "max_unzipped_mb", "max_zip_ratio")


# ---------------------------------------------------------------------- the runs
def _setup(case: Case, folder: Path, monkeypatch) -> threading.Thread | None:
    monkeypatch.chdir(folder)
    for name, content in case.files.items():
        if callable(content):
            content(folder)
        else:
            (folder / name).write_bytes(content)
    return case.writer(folder) if case.writer else None


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_corpus_library(case: Case, tmp_path, monkeypatch):
    thread = _setup(case, tmp_path, monkeypatch)
    try:
        if case.fatal:
            with pytest.raises(InputError) as info:
                rr.ingest(**case.kwargs)
            assert info.value.exit_code == 2
            _assert_message(str(info.value), case)
            return
        ws = rr.ingest(**case.kwargs)
        counts = accounting(ws)
        assert {f: (c.read, c.accepted, c.quarantined) for f, c in counts.items()} == case.counts
        got = [(t, line, reason) for t, _, line, reason, _, _ in quarantine_rows(ws)]
        assert got == sorted(case.quarantined)
        encodings = dict(ws.con.execute("SELECT file, encoding FROM files").fetchall())
        for file, enc in case.encodings.items():
            assert encodings[file] == enc, (file, encodings[file])
        for file, codec in case.csv_read.items():
            footer = summarise(ws).files
            skipped = next(f.footer_rows for f in footer if f.file == file)
            assert counts[file].read == _csv_rows(tmp_path / file, codec) - skipped, file
        if case.check is not None:
            assert case.check(ws) is not False
    finally:
        if thread is not None:
            thread.join(timeout=10)


def _csv_rows(path: Path, codec: str) -> int:
    """Non-empty records after the header, by the csv module (bad bytes replaced)."""
    text = path.read_bytes().decode(codec, errors="replace").lstrip("\ufeff")
    rows = [r for r in csv.reader(io.StringIO(text, newline="")) if any(f.strip() for f in r)]
    return len(rows) - 1


def _assert_message(text: str, case: Case) -> None:
    assert case.message is not None
    if case.regex:
        assert re.fullmatch(case.message, text), text
    else:
        assert text == case.message


@pytest.mark.parametrize("case", [c for c in CASES if c.cli], ids=lambda c: c.id)
def test_corpus_cli(case: Case, tmp_path, monkeypatch):
    """Through ``royalroad validate``: exit 0 with the same counts, or exit 2 and one line.

    The limits have no command-line options yet: a case that lowers one runs with the
    same limits handed to the reader as ``ingest()`` would (the CLI passes none).
    """
    thread = _setup(case, tmp_path, monkeypatch)
    limits = {k: v for k, v in case.kwargs.items() if k in LIMIT_KWARGS}
    if limits:
        from royalroad.io import guards, load

        lowered = guards.limits_from(**limits)
        monkeypatch.setattr(load, "limits_from", lambda *a, **k: lowered)
    argv = ["validate", "--format", "json", "--lang", "en"]
    for key, value in case.kwargs.items():
        if key in LIMIT_KWARGS:
            continue
        opt = "--" + key.replace("_", "-")
        argv += [opt, ",".join(value) if isinstance(value, list) else str(value)]
    try:
        result = CliRunner().invoke(app, argv)
    finally:
        if thread is not None:
            thread.join(timeout=10)
    detail = f"argv={argv}\nstdout={result.stdout[-2000:]!r}\nstderr={result.stderr!r}"
    assert "Traceback" not in result.stdout + result.stderr, detail
    if case.fatal:
        assert result.exit_code == 2, detail
        assert result.stdout == "", detail
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), detail
        _assert_message(lines[0].removeprefix("error: "), case)
    else:
        assert result.exit_code == 0, detail
        data = json.loads(result.stdout)
        got = {f["file"]: (f["rows_read"], f["accepted"], f["quarantined"]) for f in data["files"]}
        assert got == case.counts
        assert data["rows_read"] == data["quarantined"] + sum(c[1] for c in case.counts.values())


def test_corpus_has_at_least_70_kinds():
    """Distinct kinds of bad input across the two corpus files (badinput + this one)."""
    from test_ingest_badinput import FATAL, ROWS

    ids = [c.id for c in FATAL] + [c.id for c in ROWS] + [c.id for c in CASES]
    assert len(ids) == len(set(ids))
    assert len(ids) >= 70, len(ids)
    assert len(CASES) >= 40
