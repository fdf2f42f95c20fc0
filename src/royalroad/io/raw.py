"""What every reader returns: a raw table of the source's own columns.

Readers do no interpretation beyond decoding: the source's column names are kept,
values stay as the source typed them (strings for CSV, native types for Parquet or a
database), and ``_line`` records where each row came from (the physical line of a
CSV record's first line, the worksheet row of an xlsx, the XML line of an XES
``<event>``, the row number of a table). Mapping to canonical columns and all
checks happen later, in :mod:`royalroad.io.validate`, inside the engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

LINE = "_line"


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

    @property
    def columns(self) -> list[str]:
        """The source's own columns (without ``_line`` and other ``_`` bookkeeping)."""
        return [c for c in self.table.column_names if c not in (LINE, "_extra")]

    @property
    def num_rows(self) -> int:
        return self.table.num_rows
