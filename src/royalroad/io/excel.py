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
"""

from __future__ import annotations

import datetime as dt
import warnings
from pathlib import Path

import pyarrow as pa

from royalroad.errors import InputError
from royalroad.i18n import t
from royalroad.io.raw import HEADER_SEARCH_ROWS, LINE, HeaderFinder, RawTable, preamble_note
from royalroad.io.tables import require_file

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, and encrypted .xlsx
_UNSUPPORTED = {".xls": ".xls", ".xlsb": ".xlsb"}


def read_xlsx(
    path: str | Path, sheet: str | None = None, *, find_header: HeaderFinder | None = None
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
            ws.reset_dimensions()  # the stored dimension may be wrong; read every row
            try:
                rows = [
                    (n, [_text(v) for v in values])
                    for n, values in enumerate(ws.iter_rows(values_only=True), start=1)
                ]
            except Exception as exc:  # noqa: BLE001 - any reader error means a damaged sheet
                raise InputError("io.xlsx_corrupt", file=source, reason=_reason(exc)) from None
        finally:
            wb.close()
    return _to_raw(rows, source, ws.title, find_header)


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
    rows: list[tuple[int, list[str | None]]],
    source: str,
    title: str,
    find_header: HeaderFinder | None = None,
) -> RawTable:
    filled = [(n, cells) for n, cells in rows if any(v is not None and v != "" for v in cells)]
    if not filled:
        raise InputError("io.xlsx_empty_sheet", file=source, sheet=title)
    # Empty rows are counted when a non-empty row follows, wherever they are.
    last = filled[-1][0]
    blank_rows = sum(
        1 for n, cells in rows if n < last and all(v is None or v == "" for v in cells)
    )
    at = 0
    if find_header is not None and len(filled) > 1:
        at = find_header([cells for _, cells in filled[:HEADER_SEARCH_ROWS]])
    header_line, header = filled[at]
    preamble = tuple(n for n, _ in filled[:at])
    data = filled[at + 1 :]
    width = max(
        max(i for i, v in enumerate(cells) if v is not None and v != "") + 1
        for _, cells in filled[at:]
    )

    notes: list[str] = []
    taken = {LINE}
    columns: dict[str, pa.Array] = {}
    for i in range(width):
        values = [cells[i] if i < len(cells) else None for _, cells in data]
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
    )


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
