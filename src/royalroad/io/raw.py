"""What every reader returns: a raw table of the source's own columns.

Readers do no interpretation beyond decoding: the source's column names are kept,
values stay as the source typed them (strings for CSV, native types for Parquet or a
database), and ``_line`` records where each row came from (the physical line of a
CSV record's first line, the worksheet row of an xlsx, the XML line of an XES
``<event>``, the row number of a table). Mapping to canonical columns and all
checks happen later, in :mod:`royalroad.io.validate`, inside the engine.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import pyarrow as pa

LINE = "_line"
EXTRA = "_extra"
"""Column holding surplus non-empty fields of a row longer than the header."""
DAMAGE = "_damage"
"""Column naming what is wrong with a row's bytes (``bad_encoding``/``nul_byte``, a tab,
the detail), or null: such a row is quarantined, never read as data."""
BOOKKEEPING = (LINE, EXTRA, DAMAGE)

HEADER_SEARCH_ROWS = 20
"""How many non-empty rows at the top of a CSV or a sheet may hold the header."""

HeaderFinder = Callable[[Sequence[Sequence[str | None]]], int]
"""Given the first non-empty rows of a source, the index of its header row.

Readers of CSV and xlsx call it (see :func:`royalroad.io.mapping.find_header`);
without one, the first non-empty row is the header.
"""


class Scan(Protocol):
    """Rows read batch by batch when they are staged instead of held in memory.

    A Parquet input is read this way (:func:`royalroad.io.tables.read_parquet`): 100M
    events never sit in Python at once, only a few batches on their way into DuckDB.
    """

    @property
    def rows(self) -> int:
        """How many rows the source holds (from its footers)."""
        ...

    def batches(self, columns: Sequence[str] | None = None) -> Iterator[pa.RecordBatch]:
        """The rows in source order with ``_line``, all columns or only ``columns``."""
        ...


@dataclass(frozen=True)
class RawTable:
    """Rows of one source, untouched but for decoding.

    Attributes
    ----------
    source : str
        What to call the source in messages (file name as the user gave it).
    table : pyarrow.Table
        The source's columns plus ``_line`` (int64, 1-based).
    kind : str
        ``"csv"``, ``"xlsx"``, ``"parquet"``, ``"xes"``, ``"duckdb"`` or ``"sql"``.
    encoding, delimiter, sheet : str or None
        What was detected, for the ingest summary.
    blank_rows : int
        Wholly empty rows skipped (not counted as rows read).
    notes : tuple of str
        What the reader changed or skipped (renamed headers, title rows), for people.
    header_line : int or None
        Physical line (CSV) or worksheet row (xlsx) of the header.
    preamble_lines : tuple of int
        Lines of the non-empty rows above the header (a report title, an export
        date): neither header nor data, so neither read nor quarantined, but reported.
    footer_lines : tuple of int
        Lines of the rows below the data that are not data (a report's
        "Confidential" and "Copyright" lines, a 合計 / Total row): skipped like
        title rows, and reported (see :mod:`royalroad.io.footer`).
    renamed : tuple of (str, str)
        ``(new name, header as written)`` of every column renamed because its header
        was repeated: mapping such a column would be a guess, so it is an error.
    encoding_note : str or None
        ``"bom_mismatch"`` when a UTF-8 byte-order mark heads a CP932 (or EUC-JP)
        body, read as the body's encoding.
    scan : Scan or None
        When set, the rows are read from the source as they are staged and ``table``
        holds the schema only (no rows); :meth:`column` reads one column.
    """

    source: str
    table: pa.Table
    kind: str
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    blank_rows: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)
    header_line: int | None = None
    preamble_lines: tuple[int, ...] = ()
    footer_lines: tuple[int, ...] = ()
    renamed: tuple[tuple[str, str], ...] = ()
    encoding_note: str | None = None
    scan: Scan | None = None

    @property
    def columns(self) -> list[str]:
        """The source's own columns (without ``_line`` and other ``_`` bookkeeping)."""
        return [c for c in self.table.column_names if c not in BOOKKEEPING]

    @property
    def num_rows(self) -> int:
        return self.scan.rows if self.scan is not None else self.table.num_rows

    def column(self, name: str) -> pa.ChunkedArray:
        """One column's values, read from the source when the rows are not in memory."""
        if self.scan is None:
            return self.table[name]
        chunks = [b.column(0) for b in self.scan.batches([name])]
        return pa.chunked_array(chunks, type=self.table.schema.field(name).type)

    def batches(self) -> Iterator[pa.RecordBatch]:
        """Every row, a batch at a time (the whole table when it is in memory)."""
        if self.scan is None:
            yield from self.table.to_batches()
        else:
            yield from self.scan.batches()

    @property
    def preamble_rows(self) -> int:
        """Non-empty rows above the header, skipped (not counted as rows read)."""
        return len(self.preamble_lines)


def line_ranges(lines: Sequence[int]) -> str:
    """Lines as compact ranges, for messages.

    >>> line_ranges([1, 2, 4])
    '1–2, 4'
    """
    parts = []
    for _, run in itertools.groupby(enumerate(sorted(lines)), key=lambda p: p[1] - p[0]):
        nums = [n for _, n in run]
        parts.append(f"{nums[0]}–{nums[-1]}" if len(nums) > 1 else str(nums[0]))
    return ", ".join(parts)


def preamble_note(lines: Sequence[int], header_line: int) -> str:
    """The note telling which title rows above the header were skipped.

    >>> preamble_note([1, 2], 4)
    '2 title rows above the header skipped (lines 1–2); header on line 4'
    """
    return preamble_text(len(lines), line_ranges(lines), header_line)


def preamble_text(n: int, lines: str, header_line: int | None, *, lang: str | None = None) -> str:
    """:func:`preamble_note` from the counts stored in the workspace's ``files`` table."""
    from royalroad.i18n import t

    key = "io_header.preamble_one" if n == 1 else "io_header.preamble_many"
    return t(key, lang=lang, n=n, lines=lines, header=header_line)
