"""Delimited text (CSV, TSV, semicolon) as Excel and CRMs write it.

Encoding is detected (:mod:`royalroad.io.encoding`), the delimiter is sniffed from
the first lines, CRLF/CR/LF endings and quoted newlines are handled by the standard
``csv`` module, which also gives each record its exact physical line. Values stay
strings (empty → null); nothing is interpreted here, so a value such as ``=1+1``
remains text.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pyarrow as pa

from royalroad.errors import InputError
from royalroad.io.encoding import detect_encoding
from royalroad.io.raw import LINE, RawTable

EXTRA = "_extra"
"""Column holding surplus non-empty fields of a row longer than the header."""

_CANDIDATES = (",", ";", "\t", "|")
_CHUNK = 200_000

csv.field_size_limit(1 << 27)


def sniff_delimiter(sample_lines: list[str]) -> str:
    """Pick the delimiter that splits the header most and the rows consistently.

    >>> sniff_delimiter(["a;b;c", "1;2,5;3"])
    ';'
    """
    best, best_score = ",", (-1, -1)
    for delim in _CANDIDATES:
        rows = [r for r in csv.reader(sample_lines, delimiter=delim) if any(f.strip() for f in r)]
        if not rows:
            continue
        width = len(rows[0])
        consistent = sum(1 for r in rows[1:] if len(r) == width)
        share = consistent / max(len(rows) - 1, 1)
        score = (int(width > 1 and share >= 0.8), width if share >= 0.8 else 0)
        if score > best_score:
            best, best_score = delim, score
    return best


def _header_names(raw: list[str]) -> tuple[list[str], list[str]]:
    names: list[str] = []
    notes: list[str] = []
    seen: dict[str, int] = {}
    for i, name in enumerate(raw, start=1):
        name = name.strip()
        if not name:
            name = f"column_{i}"
            notes.append(f"empty header in column {i} named {name}")
        if name in seen:
            seen[name] += 1
            new = f"{name}.{seen[name]}"
            notes.append(f"duplicate header {name!r} renamed {new!r}")
            name = new
        else:
            seen[name] = 0
        names.append(name)
    return names, notes


def read_csv(path: str | Path, *, source: str | None = None) -> RawTable:
    """Read a delimited text file into a :class:`RawTable` of strings.

    Parameters
    ----------
    path : str or Path
        The file. Encoding and delimiter are detected.
    source : str, optional
        Name used in messages (default: ``path`` as given).

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
        raise InputError("io.file_unreadable", file=source, reason=exc.strerror or str(exc)) from None
    if not data.strip():
        raise InputError("io.file_empty", file=source)
    encoding = detect_encoding(data, source)
    text = data.decode(encoding)
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\x00" in text:
        raise InputError("io.binary_file", file=source)

    sample = text[:200_000].splitlines()[:50]
    delimiter = sniff_delimiter(sample)
    stream = io.StringIO(text, newline="")
    reader = csv.reader(stream, delimiter=delimiter, strict=False)
    return _collect(reader, source=source, encoding=encoding, delimiter=delimiter)


def _collect(reader, *, source: str, encoding: str, delimiter: str) -> RawTable:
    header: list[str] | None = None
    header_line = 0
    blank = 0
    prev_line = 0
    cols: list[list[str | None]] = []
    extras: list[str | None] = []
    lines: list[int] = []
    batches: list[pa.RecordBatch] = []
    names: list[str] = []
    notes: list[str] = []
    try:
        for row in reader:
            start = prev_line + 1
            prev_line = reader.line_num
            if not any(f.strip() for f in row):
                if header is not None:
                    blank += 1
                continue
            if header is None:
                header, header_line = row, start
                names, notes = _header_names(header)
                cols = [[] for _ in names]
                continue
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
        raise InputError("io.csv_malformed", file=source, line=prev_line + 1, reason=str(exc)) from None
    if header is None:
        raise InputError("io.file_empty", file=source)
    batches.append(_batch(names, cols, extras, lines))
    table = pa.Table.from_batches(batches)
    # Trailing columns that are unnamed and wholly empty are Excel debris: drop them.
    for name in reversed(names):
        if name.startswith("column_") and table[name].null_count == table.num_rows:
            table = table.drop_columns([name])
            notes = [n for n in notes if not n.endswith(f"named {name}")]
        else:
            break
    if table[EXTRA].null_count == table.num_rows:
        table = table.drop_columns([EXTRA])
    return RawTable(
        source=source,
        table=table,
        kind="csv",
        encoding=encoding,
        delimiter=delimiter,
        blank_rows=blank,
        notes=tuple(notes),
        header_line=header_line,
    )


def _batch(names, cols, extras, lines) -> pa.RecordBatch:
    arrays = [pa.array(c, type=pa.string()) for c in cols]
    arrays.append(pa.array(extras, type=pa.string()))
    arrays.append(pa.array(lines, type=pa.int64()))
    return pa.RecordBatch.from_arrays(arrays, names=[*names, EXTRA, LINE])
