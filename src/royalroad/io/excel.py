"""Read one sheet of an Excel ``.xlsx`` workbook as strings.

openpyxl reads the workbook in read-only mode with ``data_only=False``: a formula
cell comes back as its formula text (``"=1+1"``), never evaluated and never replaced
by the value Excel cached, exactly like a text cell that happens to start with
``=``. Every value becomes a string so that the xlsx and CSV paths hand the same
thing to validation:

==============  ==========================================================
cell            string
==============  ==========================================================
text            as is (nothing stripped)
int / float     ``"123"`` for integral values, else ``format(x, ".15g")``
bool            ``"true"`` / ``"false"``
date-time       ``"YYYY-MM-DD HH:MM:SS"`` (``.ffffff`` only if microseconds)
date / time     ``"YYYY-MM-DD"`` / ``"HH:MM:SS"``
duration        ``"H:MM:SS"`` (hours may exceed 24, like Excel's ``[h]:mm:ss``)
empty           null
==============  ==========================================================

The header is the first row with any value, unless ``find_header`` picks a later
one among the first 20 (title rows above the table, reported in
``preamble_lines``). Wholly empty rows are skipped (those above the last data row
are counted in ``blank_rows``), a column with neither a
header nor any data is dropped, a column with data but no header is named
``column_<n>`` (its 1-based Excel column number), and repeated header names get
``.1``, ``.2`` suffixes as pandas does; renames are recorded in ``notes``.

A column whose date-times are all at midnight holds dates (Excel stores a date as a
date-time number): its values are written ``YYYY-MM-DD``, so that a date-only close
is read as the end of its day like the same column in a CSV.

Guards (:mod:`royalroad.io.guards`): before openpyxl opens the workbook, its parts'
unpacked sizes and compression ratios are checked and the sheet's ``<row>`` tags are
counted in one streaming pass, so a zip bomb or a row bomb is refused in about a
second; while reading, a row wider than ``max_columns`` stops the reader.
"""

from __future__ import annotations

import datetime as dt
import re
import warnings
from pathlib import Path

import pyarrow as pa

from royalroad.errors import InputError
from royalroad.i18n import t
from royalroad.io.guards import DEFAULT_LIMITS, Limits, check_size, check_zip
from royalroad.io.raw import (
    BOOKKEEPING,
    HEADER_SEARCH_ROWS,
    LINE,
    HeaderFinder,
    RawTable,
    preamble_note,
)
from royalroad.io.tables import require_file

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, and encrypted .xlsx
_UNSUPPORTED = {".xls": ".xls", ".xlsb": ".xlsb"}
EXCEL_MAX_ROWS = 1_048_576
"""Excel's own row limit: a sheet with more rows was not written by Excel."""
_ROW_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row[\s/>]")
_ROW_NUMBER = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row\s[^>]*?\br=\"(\d+)\"")


def read_xlsx(
    path: str | Path,
    sheet: str | None = None,
    *,
    find_header: HeaderFinder | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> RawTable:
    """Read a sheet of an ``.xlsx`` (or ``.xlsm``) workbook, every value as a string.

    Parameters
    ----------
    path : str or Path
        The workbook. The file name's extension does not matter; its content does.
    sheet : str, optional
        Sheet name (exact, else case-insensitive as in Excel). Default: the first
        visible worksheet.
    find_header : callable, optional
        Picks the header among the first non-empty rows (see
        :func:`royalroad.io.mapping.find_header`); the rows above it are skipped as
        title rows (``preamble_lines``). Default: the first non-empty row.
    limits : Limits, optional
        File size, unpacked size, compression ratio, rows and columns allowed.

    Returns
    -------
    RawTable
        ``kind="xlsx"``, ``sheet`` = the sheet read, ``_line`` = worksheet row.

    Raises
    ------
    InputError
        Missing file; ``.xls`` / ``.xlsb`` / password-protected workbook; not an
        xlsx; damaged workbook; sheet not found (the message lists the sheets);
        chart sheet; empty sheet.

    Examples
    --------
    >>> import openpyxl, tempfile, os
    >>> f = os.path.join(tempfile.mkdtemp(), "deals.xlsx")
    >>> wb = openpyxl.Workbook()
    >>> wb.active.append(["商談ID", "金額"])
    >>> wb.active.append(["D-1", 1200.0])
    >>> wb.save(f)
    >>> raw = read_xlsx(f)
    >>> raw.columns, raw.table.to_pylist()
    (['商談ID', '金額'], [{'商談ID': 'D-1', '金額': '1200', '_line': 2}])
    """
    from openpyxl import load_workbook

    source = str(path)
    p = require_file(path)
    _check_signature(p, source)
    check_size(p.stat().st_size, source, limits)
    check_zip(p, source, limits)
    with open(p, "rb") as fh, warnings.catch_warnings():
        # e.g. "Workbook contains no default style" or "Data Validation extension is
        # not supported": about formatting we do not read, so not worth showing
        warnings.simplefilter("ignore", UserWarning)
        try:  # a file object, so that openpyxl does not judge the file by its name
            wb = load_workbook(fh, read_only=True, data_only=False)
        except Exception as exc:  # noqa: BLE001 - zipfile, KeyError, XML errors: all mean a bad file
            raise InputError("io.xlsx_corrupt", file=source, reason=_reason(exc)) from None
        try:
            ws = _pick_sheet(wb, sheet, source)
            _count_rows(wb, ws, source, limits)
            ws.reset_dimensions()  # the stored dimension may be wrong; read every row
            try:
                rows, blank_rows = _read_rows(ws, source, limits)
            except InputError:
                raise
            except Exception as exc:  # noqa: BLE001 - any reader error means a damaged sheet
                raise InputError("io.xlsx_corrupt", file=source, reason=_reason(exc)) from None
        finally:
            wb.close()
    return _to_raw(rows, blank_rows, source, ws.title, find_header)


def _count_rows(wb, ws, source: str, limits: Limits) -> None:
    """Count the sheet's ``<row>`` tags in one streaming pass, before openpyxl parses it.

    openpyxl yields every row up to the last one, the missing ones as empty rows, so a
    sheet of a million empty ``<row/>`` tags (or one cell on row 3,000,000) would be
    read for minutes. More rows (or a higher row number) than Excel allows, or more
    rows than ``max_rows``, stop here.
    """
    archive = getattr(wb, "_archive", None)
    part = getattr(ws, "_worksheet_path", None)
    if archive is None or part is None:
        return
    limit = min(EXCEL_MAX_ROWS, limits.max_rows + HEADER_SEARCH_ROWS)
    count, highest, tail = 0, 0, b""
    try:
        with archive.open(part) as fh:
            while chunk := fh.read(1 << 20):
                block = tail + chunk
                cut = max(len(block) - 256, 0)  # a tag cut in two is counted next time
                count += sum(1 for m in _ROW_TAG.finditer(block) if m.start() < cut)
                numbers = [int(m.group(1)) for m in _ROW_NUMBER.finditer(block)]
                highest = max([highest, *numbers])
                tail = block[cut:]
                if max(count, highest) > limit:
                    break
            count += len(_ROW_TAG.findall(tail))
    except Exception as exc:  # noqa: BLE001 - zlib, CRC: a damaged part
        raise InputError("io.xlsx_corrupt", file=source, reason=_reason(exc)) from None
    if max(count, highest) > EXCEL_MAX_ROWS:  # a row numbered 3,000,000: 3M rows to yield
        raise InputError("io_guards.xlsx_rows", file=source, limit=f"{EXCEL_MAX_ROWS:,}")
    limits.check_rows(count - HEADER_SEARCH_ROWS, source)


def _read_rows(ws, source: str, limits: Limits) -> tuple[list[tuple[int, list]], int]:
    """The non-empty rows as ``(worksheet row, cell values)``, and the empty rows
    above the last non-empty one (not read, but counted as ``blank_rows``)."""
    rows: list[tuple[int, list]] = []
    blank = pending = 0
    for n, values in enumerate(ws.iter_rows(values_only=True), start=1):
        if n > EXCEL_MAX_ROWS:
            raise InputError("io_guards.xlsx_rows", file=source, limit=f"{EXCEL_MAX_ROWS:,}")
        last = _last_filled(values)
        if last < 0:
            pending += 1
            continue
        limits.check_columns(last + 1, source, n)
        blank += pending
        pending = 0
        rows.append((n, list(values[: last + 1])))
    return rows, blank


def _last_filled(values) -> int:
    for i in range(len(values) - 1, -1, -1):
        v = values[i]
        if v is not None and v != "":
            return i
    return -1


def _check_signature(p: Path, source: str) -> None:
    """Fail early, with a useful message, on what is not an xlsx at all."""
    suffix = p.suffix.lower()
    with open(p, "rb") as f:
        magic = f.read(8)
    if suffix in _UNSUPPORTED:
        raise InputError("io.xlsx_old_format", file=source, format=_UNSUPPORTED[suffix])
    if magic == _OLE_MAGIC:
        if suffix in (".xlsx", ".xlsm"):
            raise InputError("io.xlsx_encrypted", file=source)
        raise InputError("io.xlsx_old_format", file=source, format=".xls")
    if magic[:4] != _ZIP_MAGIC:
        raise InputError("io.xlsx_not_xlsx", file=source)


def _pick_sheet(wb, sheet: str | None, source: str):
    worksheets = wb.worksheets  # without chart sheets
    if sheet is None:
        if not worksheets:
            raise InputError("io.xlsx_no_worksheets", file=source)
        visible = [ws for ws in worksheets if ws.sheet_state == "visible"]
        return (visible or worksheets)[0]
    names = wb.sheetnames
    if sheet not in names:
        folded = [n for n in names if n.casefold() == sheet.casefold()]
        if len(folded) != 1:
            raise InputError(
                "io.xlsx_sheet_missing", file=source, sheet=sheet, available=_listing(names)
            )
        sheet = folded[0]
    ws = wb[sheet]
    if ws not in worksheets:
        available = _listing([w.title for w in worksheets]) or "-"
        raise InputError("io.xlsx_not_worksheet", file=source, sheet=sheet, available=available)
    return ws


def _to_raw(
    rows: list[tuple[int, list]],
    blank_rows: int,
    source: str,
    title: str,
    find_header: HeaderFinder | None = None,
) -> RawTable:
    if not rows:
        raise InputError("io.xlsx_empty_sheet", file=source, sheet=title)
    at = 0
    if find_header is not None and len(rows) > 1:
        at = find_header([[_text(v) for v in cells] for _, cells in rows[:HEADER_SEARCH_ROWS]])
    header_line, header_values = rows[at]
    header = [_text(v) for v in header_values]
    preamble = tuple(n for n, _ in rows[:at])
    data = rows[at + 1 :]
    width = max(len(cells) for _, cells in rows[at:])

    notes: list[str] = []
    renamed: list[tuple[str, str]] = []
    taken = set(BOOKKEEPING)
    columns: dict[str, pa.Array] = {}
    for i in range(width):
        cells = [cells[i] if i < len(cells) else None for _, cells in data]
        values = _column_text(cells)
        name = header[i] if i < len(header) else None
        if name is None or not name.strip():
            if all(v is None or v == "" for v in values):
                continue  # neither header nor data: a spacer column
            name = f"column_{i + 1}"
            notes.append(t("io.note_unnamed_column", column=_letter(i + 1), new=name))
        new, k = name, 0
        while new in taken:
            k += 1
            new = f"{name}.{k}"
        if new != name:
            notes.append(t("io.note_renamed_duplicate", name=name, new=new))
            renamed.append((new, name))
        taken.add(new)
        columns[new] = pa.array(values, pa.string())
    columns[LINE] = pa.array([n for n, _ in data], pa.int64())
    if preamble:
        notes.append(preamble_note(preamble, header_line))
    return RawTable(
        source=source,
        table=pa.table(columns),
        kind="xlsx",
        sheet=title,
        blank_rows=blank_rows,
        notes=tuple(notes),
        header_line=header_line,
        preamble_lines=preamble,
        renamed=tuple(renamed),
    )


def _column_text(cells: list) -> list[str | None]:
    """A column's values as strings; date-times written as dates when all are midnight."""
    stamps = [v for v in cells if isinstance(v, dt.datetime)]
    if stamps and all(v.time() == dt.time(0) for v in stamps):
        return [v.date().isoformat() if isinstance(v, dt.datetime) else _text(v) for v in cells]
    return [_text(v) for v in cells]


def _text(v: object) -> str | None:
    """One cell value as the string the table stores (see the module docstring)."""
    if v is None or isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else format(v, ".15g")
    if isinstance(v, dt.datetime):
        text = f"{v.year:04d}-{v.month:02d}-{v.day:02d} {v.hour:02d}:{v.minute:02d}:{v.second:02d}"
        return text + (f".{v.microsecond:06d}" if v.microsecond else "")
    if isinstance(v, dt.date):
        return f"{v.year:04d}-{v.month:02d}-{v.day:02d}"
    if isinstance(v, dt.time):
        text = f"{v.hour:02d}:{v.minute:02d}:{v.second:02d}"
        return text + (f".{v.microsecond:06d}" if v.microsecond else "")
    if isinstance(v, dt.timedelta):
        sign, micros = ("-", -v) if v < dt.timedelta(0) else ("", v)
        seconds = micros.days * 86400 + micros.seconds
        h, rest = divmod(seconds, 3600)
        text = f"{sign}{h}:{rest // 60:02d}:{rest % 60:02d}"
        return text + (f".{micros.microseconds:06d}" if micros.microseconds else "")
    formula = getattr(v, "text", None)  # ArrayFormula: its formula text
    return formula if isinstance(formula, str) else str(v)


def _letter(n: int) -> str:
    """Excel column letters: 1 → A, 27 → AA."""
    letters = ""
    while n:
        n, r = divmod(n - 1, 26)
        letters = chr(65 + r) + letters
    return letters


def _listing(names: list[str]) -> str:
    return ", ".join(f"'{n}'" for n in names)


def _reason(exc: BaseException) -> str:
    arg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc  # no repr quotes
    text = str(arg).strip() or type(exc).__name__
    return text.splitlines()[0]
