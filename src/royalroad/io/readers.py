"""Pick the reader for a source from its name and its first bytes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from royalroad.errors import InputError
from royalroad.io.guards import DEFAULT_LIMITS, Limits, is_regular, read_limited
from royalroad.io.raw import HeaderFinder, RawTable

_URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.I)
_TEXT_SUFFIXES = {".csv", ".tsv", ".txt", ".tab", ".dat", ""}


@dataclass(frozen=True)
class Source:
    """One input as read: its main table and, for XES, the trace attributes."""

    table: RawTable
    traces: RawTable | None = None


def read_source(
    path: str,
    *,
    sheet: str | None = None,
    table: str | None = None,
    find_header: HeaderFinder | None = None,
    encoding: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> Source:
    """Read ``path`` (a file or a connection URL) with the matching reader.

    The format comes from the suffix; gzip and zip magic bytes are checked too, so
    a ``.xes.gz`` renamed ``.gz`` or an xlsx without suffix still reads.
    ``find_header`` picks the header row of a CSV or xlsx below any title rows (see
    :func:`royalroad.io.mapping.find_header`); other formats name their columns.
    ``limits`` bound what any reader may read (:mod:`royalroad.io.guards`).

    A path that is not a regular file is read once, within the size limit: a pipe
    (``--leads <(gunzip -c leads.csv.gz)``) carries CSV text; a device such as
    ``/dev/zero`` is refused.
    """
    if _URL.match(path):
        from royalroad.io.tables import read_url

        return Source(read_url(path, table, limits))
    p = Path(path)
    name = p.name.lower()
    if not p.exists():
        raise InputError("io.file_missing", file=path)
    if p.is_dir():  # a Parquet dataset (Spark writes one file per partition)
        if not any(p.rglob("*.parquet")):
            raise InputError("io.file_unreadable", file=path, reason="is a directory")
        from royalroad.io.tables import read_parquet

        return Source(read_parquet(p, limits))
    if not is_regular(p):
        return _read_stream(p, path, find_header, encoding, limits)
    with p.open("rb") as fh:
        head = fh.read(12)
    if name.endswith((".xes", ".xes.gz")) or (name.endswith(".gz") and head[:2] == b"\x1f\x8b"):
        from royalroad.io.xes import read_xes

        log = read_xes(p, limits)
        return Source(log.events, log.traces)
    if name.endswith((".xlsx", ".xlsm", ".xls")) or head[:4] == b"PK\x03\x04":
        from royalroad.io.excel import read_xlsx

        return Source(read_xlsx(p, sheet=sheet, find_header=find_header, limits=limits))
    if name.endswith(".parquet") or head[:4] == b"PAR1":
        from royalroad.io.tables import read_parquet

        return Source(read_parquet(p, limits))
    if name.endswith((".duckdb", ".ddb")) or head[8:12] == b"DUCK":
        from royalroad.io.tables import read_duckdb

        return Source(read_duckdb(p, table, limits))
    if p.suffix.lower() in _TEXT_SUFFIXES or not head.startswith(b"\x00"):
        from royalroad.io.delimited import read_csv

        return Source(
            read_csv(p, source=path, find_header=find_header, encoding=encoding, limits=limits)
        )
    raise InputError("io.unknown_format", file=path, suffix=p.suffix or "-")


_CONTAINERS = (b"PK\x03\x04", b"\x1f\x8b", b"PAR1")


def _read_stream(
    p: Path, path: str, find_header: HeaderFinder | None, encoding: str | None, limits: Limits
) -> Source:
    """A pipe, read to its end (within ``max_file_mb``): CSV text only."""
    from royalroad.io.delimited import read_csv_bytes

    data = read_limited(p, path, limits)
    if data.startswith(_CONTAINERS) or data[8:12] == b"DUCK":
        raise InputError("io_guards.pipe_not_text", file=path)
    return Source(
        read_csv_bytes(data, source=path, find_header=find_header, encoding=encoding, limits=limits)
    )
