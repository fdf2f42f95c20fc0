"""Property tests: the CSV reader returns exactly what Python's csv module wrote, and
ingest accounts for every row of any input it does not reject.

The reader's contract (delimited.py): values stay strings, an empty cell is null,
wholly blank rows are skipped, and ``_line`` is the physical line where a record
starts. The expected line is computed here from the written text by counting line
breaks (CRLF, CR or LF) before each record, not with the csv module's counter.
"""

from __future__ import annotations

import csv
import io
import os
import re

import pytest
from conftest import accounting, csv_records
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import royalroad as rr
from royalroad.errors import InputError
from royalroad.io.delimited import read_csv

CELL_CHARS = list(
    "aZ09 \"',;\t\n\r=+-@|\\~.:/"  # delimiters, quotes, newlines, formula starters
    "日本語商談受注ｶﾞ①㈱髙\u3000"  # CJK, half-width kana, CP932 extensions, ideographic space
    "😀é\u00a0\x0b\x0c\x1c\x85\u2028"  # emoji, Latin, and characters str.splitlines() breaks on
)
HEADER_CHARS = list("abcxyz_09日本語商談ID")
ENCODINGS = ["utf-8", "utf-8-sig", "cp932"]
DELIMITERS = [",", ";", "\t"]
NEWLINES = ["\r\n", "\n"]
# RR_FUZZ_SCALE=20 for a deeper search before a release; the default keeps the file under 10 s.
SCALE = float(os.environ.get("RR_FUZZ_SCALE", "1"))
FUZZ = settings(
    max_examples=int(300 * SCALE),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
BREAK = re.compile(r"\r\n|\r|\n")


@st.composite
def tables(draw):
    ncols = draw(st.integers(2, 5))
    names = draw(
        st.lists(
            st.text(HEADER_CHARS, min_size=1, max_size=6),
            min_size=ncols,
            max_size=ncols,
            unique_by=lambda s: s.casefold(),
        )
    )
    cell = st.text(st.sampled_from(CELL_CHARS), max_size=12)
    rows = draw(st.lists(st.lists(cell, min_size=ncols, max_size=ncols), max_size=8))
    encoding = draw(st.sampled_from(ENCODINGS))
    if encoding == "cp932":
        names[0] = "商談" + names[0]  # a Japanese export has Japanese headers
    delimiter = draw(st.sampled_from(DELIMITERS))
    newline = draw(st.sampled_from(NEWLINES))
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))
    return names, rows, encoding, delimiter, newline, quoting


def _encodable(text: str, encoding: str) -> bool:
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def _write_table(names, rows, delimiter, newline, quoting) -> tuple[str, list[int]]:
    """The text the csv module writes, and the physical line where each row starts.

    Python 3.11's writer leaves a bare CR unquoted when the line terminator is LF,
    which no reader can tell from a CRLF row end; Excel quotes every cell holding a
    line break, so such tables are written with every cell quoted.
    """
    if (
        quoting == csv.QUOTE_MINIMAL
        and any("\r" in c for r in rows for c in r)
        and "\r" not in newline
    ):
        quoting = csv.QUOTE_ALL
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, delimiter=delimiter, lineterminator=newline, quoting=quoting)
    writer.writerow(names)
    starts = []
    for row in rows:
        starts.append(len(BREAK.findall(buf.getvalue())) + 1)
        writer.writerow(row)
    return buf.getvalue(), starts


@FUZZ
@given(tables())
def test_read_csv_returns_exactly_the_written_cells(tmp_path_factory, table):
    names, rows, encoding, delimiter, newline, quoting = table
    text, starts = _write_table(names, rows, delimiter, newline, quoting)
    if not _encodable(text, encoding):
        encoding = "utf-8"
    path = tmp_path_factory.mktemp("fuzz") / "t.csv"
    path.write_bytes(text.encode(encoding))

    raw = read_csv(path)

    assert raw.delimiter == delimiter
    if encoding != "cp932" or not text.isascii():
        assert raw.encoding == encoding
    assert raw.columns == names
    kept = [
        (row, line) for row, line in zip(rows, starts, strict=True) if any(f.strip() for f in row)
    ]
    assert raw.num_rows == len(kept)
    assert raw.blank_rows == len(rows) - len(kept)
    got = raw.table.to_pylist()
    for (row, line), record in zip(kept, got, strict=True):
        assert [record[n] for n in names] == [c if c != "" else None for c in row]
        assert record["_line"] == line
    assert "_extra" not in raw.table.column_names


# ---------------------------------------------------------------------- ingest fuzz
IDS = ["L1", "L2", "L3", "", " ", "Ｌ1", "=L1"]
DATES = [
    "2024-01-01",
    "2024/01/05 13:00",
    "2024年2月1日",
    "45296.5",
    "2024-01-05T13:00+09:00",
    "",
    "someday",
    "2024-02-30",
    "13/01/2024",
]
OUTCOMES = ["won", "lost", "open", "", "Won", "Ｗｏｎ", "maybe", "Closed Lost"]
AMOUNTS = ["", "100", "1,200", "-5", "abc", "NaN", "¥3,000", "1.234,5", "12,34,5"]
ACTIVITIES = ["call", "demo", "", "=cmd|' /C calc'!A0", "+1", "資料送付", "a,b", 'say "x"\nnext']


@st.composite
def crm(draw):
    leads = draw(
        st.lists(
            st.tuples(
                st.sampled_from(IDS),
                st.sampled_from(DATES),
                st.sampled_from(OUTCOMES),
                st.sampled_from(DATES),
                st.sampled_from(AMOUNTS),
            ),
            min_size=1,
            max_size=8,
        )
    )
    events = draw(
        st.lists(
            st.tuples(st.sampled_from(IDS), st.sampled_from(ACTIVITIES), st.sampled_from(DATES)),
            max_size=10,
        )
    )
    extra = draw(
        st.lists(st.sampled_from(["", "x", "y"]), max_size=2)
    )  # surplus fields on one event row
    return leads, events, extra, draw(st.sampled_from(DELIMITERS)), draw(st.booleans())


@settings(
    max_examples=int(40 * SCALE),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(crm())
def test_ingest_accounts_for_every_row(tmp_path_factory, data):
    leads, events, extra, delimiter, with_events = data
    folder = tmp_path_factory.mktemp("crm")

    def dump(name, header, rows):
        buf = io.StringIO(newline="")
        w = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
        w.writerow(header)
        w.writerows(rows)
        (folder / name).write_text(buf.getvalue(), encoding="utf-8", newline="")
        return str(folder / name)

    # One good closed lead first, so that most examples get past "nothing closed".
    leads = [("L0", "2024-01-01", "won", "2024-02-01", "10"), *leads]
    lp = dump("leads.csv", ["lead_id", "created_at", "outcome", "closed_at", "amount"], leads)
    ev_rows = [list(e) for e in events]
    if ev_rows and extra:
        ev_rows[0] += extra
    ep = dump("events.csv", ["lead_id", "activity", "ts"], ev_rows) if with_events else None
    try:
        ws = rr.ingest(leads=lp, events=ep)
    except InputError as exc:  # a fatal one-line error is a legal outcome, nothing else is
        assert "\n" not in str(exc)
        return
    counts = accounting(ws)  # read == accepted + quarantined, each checked against the tables
    assert (
        counts[lp].read
        == csv_records(lp, delimiter=delimiter)
        == sum(1 for r in leads if any(f.strip() for f in r))
    )
    if ep:
        assert (
            counts[ep].read
            == csv_records(ep, delimiter=delimiter)
            == sum(1 for r in ev_rows if any(f.strip() for f in r))
        )
    # Every accepted event belongs to an accepted lead; every accepted lead is unique.
    assert ws.con.execute(
        "SELECT count(*) FROM events LEFT JOIN leads USING (lead_id) WHERE leads.lead_id IS NULL"
    ).fetchone() == (0,)
    assert ws.con.execute("SELECT count(*) - count(DISTINCT lead_id) FROM leads").fetchone() == (0,)


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_fuzz_alphabet_is_exercised(encoding):
    """Guard: the CP932 branch really writes CP932 for Japanese text (not a silent UTF-8
    fallback)."""
    assert _encodable("商談ID,受注①㈱髙ｶﾞ\\~", encoding)
