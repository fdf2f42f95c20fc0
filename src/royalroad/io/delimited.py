"""Delimited text (CSV, TSV, semicolon) as Excel and CRMs write it.

Encoding is detected (:mod:`royalroad.io.encoding`), the delimiter is sniffed from
the first lines, CRLF/CR/LF endings and quoted newlines are handled by the standard
``csv`` module, which also gives each record its exact physical line. Values stay
strings (empty → null); nothing is interpreted here, so a value such as ``=1+1``
remains text.

Damage is confined to its rows: a record holding bytes its encoding cannot read, or
a NUL byte, is kept with ``_damage`` set (and quarantined by validation), while a
file that is mostly control bytes is refused as binary. The size of the file and
its rows and columns are bounded by :class:`~royalroad.io.guards.Limits`.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
from dataclasses import dataclass, replace
from pathlib import Path

import pyarrow as pa

from royalroad.errors import InputError
from royalroad.io.encoding import Decoded, decode
from royalroad.io.guards import DEFAULT_LIMITS, Limits, read_limited
from royalroad.io.raw import (
    DAMAGE,
    EXTRA,
    HEADER_SEARCH_ROWS,
    LINE,
    HeaderFinder,
    RawTable,
    preamble_note,
)

_CANDIDATES = (",", ";", "\t", "|")
_CHUNK = 200_000
_SAMPLE_CHARS = 200_000
_SAMPLE_LINES = 50
# Control bytes that text never holds (tab, line breaks, vertical tab, form feed, SUB,
# ESC and the separators 0x1C–0x1F do occur in exports): a file with many is binary.
_CONTROL = bytes([*range(0x00, 0x09), *range(0x0E, 0x1A)])
_NOT_CONTROL = bytes(b for b in range(256) if b not in _CONTROL)
_BREAK = re.compile(r"\r\n|\r|\n")
MANY_DAMAGED = 10
"""More damaged rows than this, and over 1 % of the rows, mean the file is not in the
encoding it was read as (two files pasted together): one fatal line, not a quarantine."""

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


def _header_names(
    raw: list[str],
) -> tuple[list[str], list[tuple[str, str]], list[tuple[str, str]]]:
    """Column names from a header row, (column, note) for each one fixed up, and
    (new name, header as written) for each one renamed because it was repeated."""
    from royalroad.i18n import t

    names: list[str] = []
    notes: list[tuple[str, str]] = []
    renamed: list[tuple[str, str]] = []
    # The bookkeeping columns count as taken: a header called _line is renamed _line.1.
    seen: dict[str, int] = {LINE: 0, EXTRA: 0, DAMAGE: 0}
    for i, name in enumerate(raw, start=1):
        name = name.strip()
        if not name:
            name = f"column_{i}"
            notes.append((name, t("io.note_unnamed_column", column=i, new=name)))
        if name in seen:
            seen[name] += 1
            new = f"{name}.{seen[name]}"
            notes.append((new, t("io.note_renamed_duplicate", name=name, new=new)))
            renamed.append((new, name))
            name = new
        else:
            seen[name] = 0
        names.append(name)
    return names, notes, renamed


def read_csv(
    path: str | Path,
    *,
    source: str | None = None,
    find_header: HeaderFinder | None = None,
    encoding: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
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
    limits : Limits, optional
        File size, rows and columns allowed (:mod:`royalroad.io.guards`).

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
    data = read_limited(path, source, limits)
    return read_csv_bytes(
        data, source=source, find_header=find_header, encoding=encoding, limits=limits
    )


def read_csv_bytes(
    data: bytes,
    *,
    source: str,
    find_header: HeaderFinder | None = None,
    encoding: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> RawTable:
    """:func:`read_csv` of bytes already read (a file, or a pipe read to its end)."""
    if not data.strip():
        raise InputError("io.file_empty", file=source)
    if _looks_binary(data):
        raise InputError("io.binary_file", file=source)
    decoded = decode(data, source, encoding)
    text = decoded.text
    if text.startswith("\ufeff"):
        text = text[1:]
    damaged = _damaged_lines(decoded, text)

    sample = list(itertools.islice(io.StringIO(text[:_SAMPLE_CHARS], newline=""), _SAMPLE_LINES))
    delimiter = sniff_delimiter(sample)
    stream = io.StringIO(text, newline="")
    reader = csv.reader(stream, delimiter=delimiter, strict=False)
    raw = _collect(
        reader,
        source=source,
        encoding=decoded.encoding,
        delimiter=delimiter,
        find_header=find_header,
        damaged=damaged,
        limits=limits,
    )
    if raw.last_record_multiline:
        _check_closed_quotes(text, raw, delimiter)
    if decoded.note:
        return replace(raw.table, encoding_note=decoded.note)
    return raw.table


def _looks_binary(data: bytes) -> bool:
    """Many control bytes (NUL above all): an image, a zip, an old .xls renamed .csv.

    UTF-16 text, where NUL is half of every ASCII character, starts with its mark.
    A few stray control bytes in a text file (a NUL in one row) are damage in those
    rows, quarantined, not a reason to refuse the file.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    controls = len(data.translate(None, _NOT_CONTROL))
    return controls > max(8, len(data) // 100)


def _damaged_lines(decoded: Decoded, text: str) -> dict[int, str]:
    """Physical line → ``reason<TAB>value`` for each line with bad bytes or a NUL."""
    out = {
        line: f"bad_encoding\t0x{byte:02X} ({decoded.encoding})"
        for line, byte in decoded.bad_lines.items()
    }
    if "\x00" in text:
        line, pos = 1, 0
        for m in re.finditer("\x00", text):
            line += len(_BREAK.findall(text, pos, m.start()))
            pos = m.start()
            out.setdefault(line, "nul_byte\t0x00")
    return out


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
    reader,
    *,
    source: str,
    encoding: str,
    delimiter: str,
    find_header: HeaderFinder | None = None,
    damaged: dict[int, str] | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> _Collected:
    prev_line = 0
    damaged = damaged or {}

    def records():
        """``(first physical line, last physical line, fields)`` of every record."""
        nonlocal prev_line
        for row in reader:
            start = prev_line + 1
            prev_line = reader.line_num
            yield start, prev_line, row

    def damage(start: int, end: int) -> str | None:
        for line in range(start, end + 1):
            if line in damaged:
                reason, value = damaged[line].split("\t")
                where = f", line {line}" if line != start else ""
                return f"{reason}\t{value}{where}"
        return None

    blank = 0
    cols: list[list[str | None]] = []
    extras: list[str | None] = []
    damages: list[str | None] = []
    lines: list[int] = []
    batches: list[pa.RecordBatch] = []
    n_rows = n_damaged = 0
    first_damage: tuple[int, str] | None = None
    try:
        it = records()
        # The records up to the last row that may be the header, blank ones included.
        head: list[tuple[int, int, list[str]]] = []
        filled = 0
        wanted = HEADER_SEARCH_ROWS if find_header is not None else 1
        for start, end, row in it:
            head.append((start, end, row))
            if _filled(row):
                filled += 1
                limits.check_columns(len(_strip_trailing(row)), source, start)
            if filled >= wanted:
                break
        candidates = [(start, end, row) for start, end, row in head if _filled(row)]
        if not candidates:
            raise InputError("io.file_empty", file=source)
        at = (
            find_header([row for _, _, row in candidates])
            if find_header and len(candidates) > 1
            else 0
        )
        header_line, header_end, header = candidates[at]
        bad = damage(header_line, header_end)
        if bad is not None:
            reason, value = bad.split("\t")
            raise InputError(
                "io_damage.header", file=source, line=header_line, byte=value.split(" ")[0]
            )
        preamble = tuple(start for start, _, _ in candidates[:at])
        names, fixes, renamed = _header_names(header)
        cols = [[] for _ in names]
        width = len(names)
        last_start, last_row = header_line, header
        # Blank rows above the header are not counted, as before a header on line 1.
        rest = ((s, e, r) for s, e, r in head if s > header_line)
        for start, end, row in itertools.chain(rest, it):
            if not _filled(row):
                blank += 1
                continue
            n_rows += 1
            if n_rows > limits.max_rows:
                limits.check_rows(n_rows, source)
            last_start, last_row = start, row
            for j in range(width):
                value = row[j] if j < len(row) else ""
                cols[j].append(value if value != "" else None)
            surplus = [f for f in row[width:] if f.strip()]
            extras.append(delimiter.join(surplus) if surplus else None)
            bad = damage(start, end) if damaged else None
            if bad is not None:
                n_damaged += 1
                first_damage = first_damage or (start, bad)
            damages.append(bad)
            lines.append(start)
            if len(lines) >= _CHUNK:
                batches.append(_batch(names, cols, extras, damages, lines))
                cols, extras, damages, lines = [[] for _ in names], [], [], []
    except csv.Error as exc:
        raise InputError(
            "io.csv_malformed", file=source, line=prev_line + 1, reason=str(exc)
        ) from None
    if first_damage is not None and n_damaged > max(MANY_DAMAGED, n_rows // 100):
        line, bad = first_damage
        value = bad.split("\t")[1]
        raise InputError(
            "io_damage.many",
            file=source,
            n=f"{n_damaged:,}",
            rows=f"{n_rows:,}",
            line=line,
            byte=value.split(" ")[0],
            encoding=encoding,
        )
    batches.append(_batch(names, cols, extras, damages, lines))
    table = pa.Table.from_batches(batches)
    # Trailing columns that are unnamed and wholly empty are Excel debris: drop them.
    for name in reversed(names):
        if name.startswith("column_") and table[name].null_count == table.num_rows:
            table = table.drop_columns([name])
            fixes = [(col, note) for col, note in fixes if col != name]
        else:
            break
    for bookkeeping in (EXTRA, DAMAGE):
        if table[bookkeeping].null_count == table.num_rows:
            table = table.drop_columns([bookkeeping])
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
        renamed=tuple(renamed),
    )
    multiline = any("\n" in f or "\r" in f for f in last_row)
    return _Collected(raw, last_start, multiline)


def _batch(names, cols, extras, damages, lines) -> pa.RecordBatch:
    arrays = [pa.array(c, type=pa.string()) for c in cols]
    arrays.append(pa.array(extras, type=pa.string()))
    arrays.append(pa.array(damages, type=pa.string()))
    arrays.append(pa.array(lines, type=pa.int64()))
    return pa.RecordBatch.from_arrays(arrays, names=[*names, EXTRA, DAMAGE, LINE])
