"""Delimited text (CSV, TSV, semicolon) as Excel and CRMs write it.

Encoding is detected (:mod:`royalroad.io.encoding`), the delimiter is sniffed from
the first lines, CRLF/CR/LF endings and quoted newlines are handled by the standard
``csv`` module, which also gives each record its exact physical line. Values stay
strings (empty → null); nothing is interpreted here, so a value such as ``=1+1``
remains text.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from royalroad.errors import InputError
from royalroad.io.encoding import decode_as, detect_encoding
from royalroad.io.raw import HEADER_SEARCH_ROWS, LINE, HeaderFinder, RawTable, preamble_note

EXTRA = "_extra"
"""Column holding surplus non-empty fields of a row longer than the header."""

_CANDIDATES = (",", ";", "\t", "|")
_CHUNK = 200_000
_SAMPLE_CHARS = 200_000
_SAMPLE_LINES = 50

csv.field_size_limit(1 << 27)


def sniff_delimiter(sample_lines: list[str]) -> str:
    """Pick the delimiter that splits the header and fits the rows best.

    For each candidate, the header is the first row it splits into two or more
    fields: title rows above a table (``商談一覧``, ``出力日: 2024/04/01``, padded by
    Excel with empty fields or not) have one field and are passed over, so a title
    never decides the delimiter. A delimiter that splits no row is never chosen: a
    single short or long row must not turn a CSV into a one-column table. Among
    splitting delimiters, the one most rows below its header agree with wins, then
    the one whose header comes first, then the widest header. A row agrees when it
    has at least the header's fields and no non-empty field beyond them (Excel pads
    rows with empty trailing fields).

    >>> sniff_delimiter(["a;b;c", "1;2,5;3"])
    ';'
    >>> sniff_delimiter(["a,b,c", "1,2,3", "1,2", "1,2,3,4"])
    ','
    >>> sniff_delimiter(["商談一覧", "出力日: 2024/04/01", "a\\tb\\tc", "1\\t2,5\\t3"])
    '\\t'
    """
    best, best_score = ",", (0, 0.0, 0, 0)
    for delim in _CANDIDATES:
        rows = [r for r in csv.reader(sample_lines, delimiter=delim) if any(f.strip() for f in r)]
        at = next((i for i, r in enumerate(rows) if len(_strip_trailing(r)) > 1), None)
        if at is None:
            continue
        width = len(_strip_trailing(rows[at]))
        body = rows[at + 1 :]
        agree = sum(1 for r in body if len(r) >= width and len(_strip_trailing(r)) <= width)
        share = agree / len(body) if body else 1.0
        score = (1, round(share, 2), -at, width)
        if score > best_score:
            best, best_score = delim, score
    return best


def _strip_trailing(row: list[str]) -> list[str]:
    end = len(row)
    while end and not row[end - 1].strip():
        end -= 1
    return row[:end]


def _header_names(raw: list[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """Column names from a header row, and (column, note) for each one fixed up."""
    from royalroad.i18n import t

    names: list[str] = []
    notes: list[tuple[str, str]] = []
    # The bookkeeping columns count as taken: a header called _line is renamed _line.1.
    seen: dict[str, int] = {LINE: 0, EXTRA: 0}
    for i, name in enumerate(raw, start=1):
        name = name.strip()
        if not name:
            name = f"column_{i}"
            notes.append((name, t("io.note_unnamed_column", column=i, new=name)))
        if name in seen:
            seen[name] += 1
            new = f"{name}.{seen[name]}"
            notes.append((new, t("io.note_renamed_duplicate", name=name, new=new)))
            name = new
        else:
            seen[name] = 0
        names.append(name)
    return names, notes


def read_csv(
    path: str | Path,
    *,
    source: str | None = None,
    find_header: HeaderFinder | None = None,
    encoding: str | None = None,
) -> RawTable:
    """Read a delimited text file into a :class:`RawTable` of strings.

    Parameters
    ----------
    path : str or Path
        The file. Encoding and delimiter are detected.
    source : str, optional
        Name used in messages (default: ``path`` as given).
    find_header : callable, optional
        Picks the header among the first non-empty rows (see
        :func:`royalroad.io.mapping.find_header`); the rows above it are skipped as
        title rows (``preamble_lines``). Default: the first non-empty row.
    encoding : str, optional
        A Python codec name (``cp932``, ``cp1252``, ``euc_jp``…) that overrides the
        detection, for a file it gets wrong. ``shift_jis`` means CP932, as in Excel.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "x.csv")
    >>> _ = open(p, "wb").write("商談ID;金額\\r\\nA1;100\\r\\n".encode("cp932"))
    >>> raw = read_csv(p)
    >>> raw.encoding, raw.delimiter, raw.columns, raw.table["_line"].to_pylist()
    ('cp932', ';', ['商談ID', '金額'], [2])
    """
    path = Path(path)
    source = source or str(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError("io.file_missing", file=source) from None
    except (IsADirectoryError, PermissionError, OSError) as exc:
        raise InputError(
            "io.file_unreadable", file=source, reason=exc.strerror or str(exc)
        ) from None
    if not data.strip():
        raise InputError("io.file_empty", file=source)
    # NUL bytes mean a binary file (an image, a zip, an old .xls renamed .csv), unless
    # the text is UTF-16, where NUL is half of every ASCII character.
    if b"\x00" in data and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise InputError("io.binary_file", file=source)
    if encoding is None:
        encoding = detect_encoding(data, source)
        text = data.decode(encoding)
    else:
        encoding, text = decode_as(data, encoding, source)
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\x00" in text:
        raise InputError("io.binary_file", file=source)

    sample = list(itertools.islice(io.StringIO(text[:_SAMPLE_CHARS], newline=""), _SAMPLE_LINES))
    delimiter = sniff_delimiter(sample)
    stream = io.StringIO(text, newline="")
    reader = csv.reader(stream, delimiter=delimiter, strict=False)
    raw = _collect(
        reader, source=source, encoding=encoding, delimiter=delimiter, find_header=find_header
    )
    if raw.last_record_multiline:
        _check_closed_quotes(text, raw, delimiter)
    return raw.table


def _check_closed_quotes(text: str, raw: _Collected, delimiter: str) -> None:
    """Fail when the last record is an unclosed quoted field running to the end of the file.

    The csv module (non-strict, as Excel-written files need) silently takes a stray
    opening quote to the end of the file, so that every later row would vanish into
    one field. Only a last record spanning several lines can be such a case; it is
    parsed again strictly.
    """
    start = raw.last_record_start
    tail = io.StringIO(text, newline="")
    for _ in range(start - 1):
        tail.readline()
    try:
        for _ in csv.reader(tail, delimiter=delimiter, strict=True):
            pass
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            raise InputError("io.csv_unclosed_quote", file=raw.table.source, line=start) from None


@dataclass(frozen=True)
class _Collected:
    table: RawTable
    last_record_start: int  # physical line where the last non-blank record starts
    last_record_multiline: bool  # a field of that record holds a line break


def _filled(row: list[str]) -> bool:
    return any(f.strip() for f in row)


def _collect(
    reader, *, source: str, encoding: str, delimiter: str, find_header: HeaderFinder | None = None
) -> _Collected:
    prev_line = 0

    def records():
        """``(physical line where the record starts, fields)`` of every record."""
        nonlocal prev_line
        for row in reader:
            start = prev_line + 1
            prev_line = reader.line_num
            yield start, row

    blank = 0
    cols: list[list[str | None]] = []
    extras: list[str | None] = []
    lines: list[int] = []
    batches: list[pa.RecordBatch] = []
    try:
        it = records()
        # The records up to the last row that may be the header, blank ones included.
        head: list[tuple[int, list[str]]] = []
        filled = 0
        wanted = HEADER_SEARCH_ROWS if find_header is not None else 1
        for start, row in it:
            head.append((start, row))
            filled += _filled(row)
            if filled >= wanted:
                break
        candidates = [(start, row) for start, row in head if _filled(row)]
        if not candidates:
            raise InputError("io.file_empty", file=source)
        at = (
            find_header([row for _, row in candidates])
            if find_header and len(candidates) > 1
            else 0
        )
        header_line, header = candidates[at]
        preamble = tuple(start for start, _ in candidates[:at])
        names, fixes = _header_names(header)
        cols = [[] for _ in names]
        last_start, last_row = header_line, header
        # Blank rows above the header are not counted, as before a header on line 1.
        for start, row in itertools.chain(((s, r) for s, r in head if s > header_line), it):
            if not _filled(row):
                blank += 1
                continue
            last_start, last_row = start, row
            width = len(names)
            for j in range(width):
                value = row[j] if j < len(row) else ""
                cols[j].append(value if value != "" else None)
            surplus = [f for f in row[width:] if f.strip()]
            extras.append(delimiter.join(surplus) if surplus else None)
            lines.append(start)
            if len(lines) >= _CHUNK:
                batches.append(_batch(names, cols, extras, lines))
                cols, extras, lines = [[] for _ in names], [], []
    except csv.Error as exc:
        raise InputError(
            "io.csv_malformed", file=source, line=prev_line + 1, reason=str(exc)
        ) from None
    batches.append(_batch(names, cols, extras, lines))
    table = pa.Table.from_batches(batches)
    # Trailing columns that are unnamed and wholly empty are Excel debris: drop them.
    for name in reversed(names):
        if name.startswith("column_") and table[name].null_count == table.num_rows:
            table = table.drop_columns([name])
            fixes = [(col, note) for col, note in fixes if col != name]
        else:
            break
    if table[EXTRA].null_count == table.num_rows:
        table = table.drop_columns([EXTRA])
    notes = [note for _, note in fixes]
    if preamble:
        notes.append(preamble_note(preamble, header_line))
    raw = RawTable(
        source=source,
        table=table,
        kind="csv",
        encoding=encoding,
        delimiter=delimiter,
        blank_rows=blank,
        notes=tuple(notes),
        header_line=header_line,
        preamble_lines=preamble,
    )
    multiline = any("\n" in f or "\r" in f for f in last_row)
    return _Collected(raw, last_start, multiline)


def _batch(names, cols, extras, lines) -> pa.RecordBatch:
    arrays = [pa.array(c, type=pa.string()) for c in cols]
    arrays.append(pa.array(extras, type=pa.string()))
    arrays.append(pa.array(lines, type=pa.int64()))
    return pa.RecordBatch.from_arrays(arrays, names=[*names, EXTRA, LINE])
