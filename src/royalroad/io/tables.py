"""Read typed tables: Parquet files, DuckDB database files and Ibis connection URLs.

These sources already carry types, so the raw table keeps the native Arrow types
(no strings round trip); only ``_line`` is added: the 1-based position of the row in
the order the source returned it. For a database table without an ``ORDER BY`` that
order is the engine's scan order (insertion order for DuckDB and SQLite files).

For a database the table that was read is recorded in ``RawTable.sheet``: it plays
the part a sheet plays in a workbook (one named table inside the file).

``duckdb`` and ``ibis`` are imported inside the functions so that importing this
module (the XES and Excel readers use :func:`require_file`) stays cheap.
"""

from __future__ import annotations

import re
import urllib.parse
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path

import numpy as np
import pyarrow as pa

from royalroad.errors import InputError
from royalroad.i18n import t
from royalroad.io.guards import DEFAULT_LIMITS, Limits, check_size
from royalroad.io.raw import LINE, RawTable

_FILE_BACKENDS = ("duckdb", "sqlite")  # URL backends whose URL names a local file
_SQLITE_MAGIC = b"SQLite format 3\x00"
_NO_AUTOLOAD: dict[str, str | bool | int | float | list[str]] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}


def require_file(path: str | Path, *, allow_dir: bool = False) -> Path:
    """Return ``path`` as a Path, or raise InputError if there is no such file.

    Examples
    --------
    >>> require_file("no/such/file.xes")
    Traceback (most recent call last):
    ...
    royalroad.errors.InputError: no/such/file.xes: file not found
    """
    p = Path(path)
    if not p.exists():
        raise InputError("io.file_missing", file=str(path))
    if p.is_dir() and not allow_dir:
        raise InputError("io.path_is_folder", file=str(path))
    return p


def read_parquet(path: str | Path, limits: Limits = DEFAULT_LIMITS) -> RawTable:
    """Open a Parquet file (or a folder of Parquet files) with its own Arrow types.

    Only the footers are read here: the rows stream batch by batch into DuckDB when
    the table is staged (:class:`ParquetScan`), so that the input is never held in
    memory whole (at 10M events the Arrow copy alone was 1.5 GB).

    Parameters
    ----------
    path : str or Path
        A ``.parquet`` file, or a folder holding a Parquet dataset.

    Returns
    -------
    RawTable
        ``kind="parquet"``; the file's columns plus ``_line`` = 1..n, read by
        :meth:`~royalroad.io.raw.RawTable.batches`.

    Examples
    --------
    >>> import pyarrow as pa, pyarrow.parquet as pq, tempfile, os
    >>> f = os.path.join(tempfile.mkdtemp(), "deals.parquet")
    >>> pq.write_table(pa.table({"deal": ["A", "B"], "amount": [10, 20]}), f)
    >>> raw = read_parquet(f)
    >>> raw.columns, raw.num_rows, raw.column("_line").to_pylist()
    (['deal', 'amount'], 2, [1, 2])
    """
    source = str(path)
    p = require_file(path, allow_dir=True)
    try:
        rows, schema = _check_parquet(p, source, limits)
    except (pa.ArrowException, OSError) as exc:
        raise InputError("io.parquet_unreadable", file=source, reason=_first_line(exc)) from None
    notes: list[str] = []
    empty = _with_line(schema.empty_table(), notes)
    scan = ParquetScan(str(p), rows, tuple(zip(schema.names, empty.column_names, strict=False)))
    return RawTable(source=source, table=empty, kind="parquet", notes=tuple(notes), scan=scan)


@dataclass(frozen=True)
class ParquetScan:
    """A Parquet file or folder read a batch at a time, with ``_line`` numbered in order.

    ``names`` pairs each column as stored with its name in the raw table (a stored
    ``_line`` becomes ``_line.1``, see :func:`_with_line`).
    """

    path: str
    rows: int
    names: tuple[tuple[str, str], ...]
    batch_rows: int = 65_536

    def batches(self, columns: Sequence[str] | None = None) -> Iterator[pa.RecordBatch]:
        stored = {new: old for old, new in self.names}
        wanted = list(stored) if columns is None else [c for c in columns if c in stored]
        with_line = columns is None or LINE in columns
        dataset = _dataset(Path(self.path))
        first = 1
        for batch in dataset.to_batches(
            columns=[stored[c] for c in wanted], batch_size=self.batch_rows
        ):
            n = batch.num_rows
            arrays, names = list(batch.columns), list(wanted)
            if with_line:
                arrays.append(pa.array(np.arange(first, first + n, dtype=np.int64)))
                names.append(LINE)
            first += n
            yield pa.RecordBatch.from_arrays(arrays, names=names)


def _dataset(p: Path):
    """The file or folder as pyarrow reads it (``pq.read_table``'s hive partitions)."""
    import pyarrow.dataset as ds

    return ds.dataset(p, format="parquet", partitioning="hive")


def _check_parquet(p: Path, source: str, limits: Limits) -> tuple[int, pa.Schema]:
    """Size, rows and columns from the file system and the footers, before reading:
    a column of one repeated value compresses to almost nothing on disk. Returns the
    number of rows and the schema."""
    files = [f for f in p.rglob("*") if f.is_file()] if p.is_dir() else [p]
    check_size(sum(f.stat().st_size for f in files), source, limits)
    dataset = _dataset(p)
    limits.check_columns(len(dataset.schema.names), source)
    rows = dataset.count_rows()
    limits.check_rows(rows, source)
    return rows, dataset.schema


def _check_table(arrow_schema_len: int, rows: int, source: str, limits: Limits) -> None:
    limits.check_columns(arrow_schema_len, source)
    limits.check_rows(rows, source)


def read_duckdb(
    path: str | Path, table: str | None = None, limits: Limits = DEFAULT_LIMITS
) -> RawTable:
    """Read one table (or view) of a DuckDB database file, opened read-only.

    Parameters
    ----------
    path : str or Path
        The ``.duckdb`` / ``.db`` file.
    table : str, optional
        Table name, optionally ``schema.table``; case-insensitive like DuckDB.
        Needed only when the file holds more than one table.

    Returns
    -------
    RawTable
        ``kind="duckdb"``, ``sheet`` = the table read, native Arrow types, ``_line``.

    Examples
    --------
    >>> import duckdb, tempfile, os
    >>> f = os.path.join(tempfile.mkdtemp(), "crm.duckdb")
    >>> with duckdb.connect(f) as con:
    ...     _ = con.execute("CREATE TABLE deals AS SELECT 1 AS id UNION ALL SELECT 2")
    >>> raw = read_duckdb(f)
    >>> raw.sheet, raw.num_rows
    ('deals', 2)
    """
    import duckdb

    source = str(path)
    p = require_file(path)
    with open(p, "rb") as f:
        if f.read(16) == _SQLITE_MAGIC:
            raise InputError("io.duckdb_is_sqlite", file=source, url=f"sqlite:///{p.resolve()}")
    try:  # no extension downloads: a foreign file must fail here, not reach the network
        con = duckdb.connect(str(p), read_only=True, config=_NO_AUTOLOAD)
    except duckdb.Error as exc:
        raise InputError("io.duckdb_unreadable", file=source, reason=_first_line(exc)) from None
    try:
        con.execute("SET enable_progress_bar=false")
        listed = con.execute(
            "SELECT table_catalog, table_schema, table_name FROM information_schema.tables "
            "WHERE table_catalog = current_database() ORDER BY table_schema, table_name"
        ).fetchall()
        names = {(n if s == "main" else f"{s}.{n}"): (c, s, n) for c, s, n in listed}
        name = _choose(source, table, list(names))
        # fully qualified: a schema may share its name with the database (crm.duckdb → crm)
        qualified = ".".join(_quote(part) for part in names[name])
        sql = "SELECT * FROM " + qualified
        try:
            width = len(con.sql(f"SELECT * FROM {qualified} LIMIT 0").columns)
            rows = con.execute(f"SELECT count(*) FROM {qualified}").fetchall()[0][0]
            _check_table(width, rows, source, limits)
            arrow = con.sql(sql).to_arrow_table()
        except duckdb.Error as exc:
            raise InputError(
                "io.db_read_failed", file=source, table=name, reason=_first_line(exc)
            ) from None
    except duckdb.Error as exc:
        raise InputError("io.duckdb_unreadable", file=source, reason=_first_line(exc)) from None
    finally:
        con.close()
    notes: list[str] = []
    return RawTable(
        source=source, table=_with_line(arrow, notes), kind="duckdb", sheet=name, notes=tuple(notes)
    )


def read_url(url: str, table: str | None = None, limits: Limits = DEFAULT_LIMITS) -> RawTable:
    """Read one table behind an Ibis connection URL.

    Parameters
    ----------
    url : str
        Any URL ``ibis.connect`` understands, e.g. ``duckdb:///abs/path.db``,
        ``sqlite:///abs/path.db``, ``postgres://user:pw@host/db``. A password in
        the URL is masked in ``RawTable.source`` and in messages. DuckDB files are
        opened read-only; a DuckDB or SQLite file must already exist.
    table : str, optional
        Needed only when the database holds more than one table. A ``table=``
        parameter in the URL (``sqlite:///crm.db?table=deals``) names it too and
        wins over this argument, so one database can feed several inputs.

    Returns
    -------
    RawTable
        ``kind="sql"``, ``sheet`` = the table read, Arrow types from Ibis, ``_line``.

    Examples
    --------
    >>> import sqlite3, tempfile, os
    >>> f = os.path.join(tempfile.mkdtemp(), "crm.db")
    >>> with sqlite3.connect(f) as con:
    ...     _ = con.execute("CREATE TABLE deals (id INTEGER)")
    ...     _ = con.execute("INSERT INTO deals VALUES (1), (2), (3)")
    >>> read_url(f"sqlite:///{f}", "deals").num_rows
    3
    """
    url, table = _table_param(url, table)
    shown = _redact(url)
    parsed = urllib.parse.urlparse(url)
    if not parsed.scheme or "://" not in url or re.match(r"[A-Za-z]:[\\/]", url):
        raise InputError("io.url_not_url", url=shown)
    scheme = parsed.scheme.lower()
    backend = "postgres" if scheme == "postgresql" else scheme
    supported = sorted({e.name for e in entry_points(group="ibis.backends")})
    if backend not in supported:
        raise InputError(
            "io.url_scheme_unsupported", url=shown, scheme=scheme, supported=", ".join(supported)
        )
    kwargs = {}
    if backend in _FILE_BACKENDS:
        parts = [x for x in (parsed.netloc, parsed.path[bool(parsed.netloc) :]) if x]
        if parts and parts != [":memory:"]:
            require_file(Path(*parts))  # connecting would silently create an empty file
            if backend == "duckdb" and "read_only" not in parsed.query:
                kwargs["read_only"] = True
    with warnings.catch_warnings():
        # ibis 12 calls APIs that duckdb 2.0 and pandas 3 deprecate (fetch_arrow_table,
        # future.infer_string): nothing the user can act on
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        name, arrow = _fetch(url, shown, backend, table, kwargs, limits)
    notes: list[str] = []
    return RawTable(
        source=shown, table=_with_line(arrow, notes), kind="sql", sheet=name, notes=tuple(notes)
    )


def _table_param(url: str, table: str | None) -> tuple[str, str | None]:
    """Split a ``table=`` query parameter off ``url``: (the URL without it, the table).

    >>> _table_param("sqlite:///crm.db?table=deals", None)
    ('sqlite:///crm.db', 'deals')
    >>> _table_param("duckdb:///crm.db?read_only=true&table=crm.leads", "x")
    ('duckdb:///crm.db?read_only=true', 'crm.leads')
    >>> _table_param("sqlite:///crm.db", "deals")
    ('sqlite:///crm.db', 'deals')
    """
    parsed = urllib.parse.urlsplit(url)
    if not parsed.query:
        return url, table
    pairs = urllib.parse.parse_qsl(parsed.query, keep_blank_values=True)
    named = [v for k, v in pairs if k == "table"]
    if not named:
        return url, table
    rest = urllib.parse.urlencode([(k, v) for k, v in pairs if k != "table"])
    # by hand: urlunsplit drops the empty host of sqlite:///crm.db
    base = url.split("?", 1)[0]
    return (f"{base}?{rest}" if rest else base), named[-1] or table


def _fetch(url: str, shown: str, backend: str, table: str | None, kwargs: dict, limits: Limits):
    """Connect, choose the table, pull it as Arrow; every driver error becomes InputError."""
    import ibis

    try:
        con = ibis.connect(url, **kwargs)
    except ImportError:
        raise InputError("io.url_driver_missing", url=shown, scheme=backend) from None
    except Exception as exc:  # noqa: BLE001 - any driver error: bad host, credentials, not a database
        raise InputError("io.url_connect_failed", url=shown, reason=_scrub(exc, url)) from None
    try:
        try:
            names = _list_tables(con)
        except Exception as exc:  # noqa: BLE001 - the driver's own error types vary
            raise InputError("io.url_connect_failed", url=shown, reason=_scrub(exc, url)) from None
        name = _choose(shown, table, names)
        try:
            expr = con.table(name)
            _check_table(len(expr.columns), int(expr.count().execute()), shown, limits)
            return name, expr.to_pyarrow()
        except InputError:
            raise
        except Exception as exc:  # noqa: BLE001 - the driver's own error types vary
            reason = _scrub(exc, url)
            raise InputError("io.db_read_failed", file=shown, table=name, reason=reason) from None
    finally:
        con.disconnect()


def _list_tables(con) -> list[str]:
    """``con.list_tables()``, except on DuckDB where we ask the catalogue ourselves.

    ibis 12's DuckDB ``list_tables`` calls ``DuckDBPyConnection.fetch_arrow_table``,
    which duckdb 2.0 removed, and leaves the connection with an unfinished result
    (fixed upstream in ibis-project/ibis#12001, not yet released). Reading a table
    works. The query below lists what ``con.table(name)`` can open.
    """
    if con.name != "duckdb":
        return list(con.list_tables())
    rows = (
        con.con.cursor()
        .sql(
            "SELECT DISTINCT table_name FROM information_schema.tables "
            "WHERE table_catalog = current_database() AND table_schema = current_schema() "
            "ORDER BY table_name"
        )
        .fetchall()
    )
    return [r[0] for r in rows]


def _choose(source: str, table: str | None, names: list[str]) -> str:
    """The table to read: the one named (exact, else case-insensitive), or the only one."""
    if table is None:
        if len(names) == 1:
            return names[0]
        if not names:
            raise InputError("io.db_no_tables", file=source)
        raise InputError(
            "io.db_table_needed", file=source, count=len(names), available=_listing(names)
        )
    if table in names:
        return table
    folded = [n for n in names if n.casefold() == table.casefold()]
    if len(folded) == 1:
        return folded[0]
    available = _listing(names) if names else "-"
    raise InputError("io.db_table_missing", file=source, table=table, available=available)


def _with_line(table: pa.Table, notes: list[str]) -> pa.Table:
    """Append ``_line`` = 1..n; a source column already called ``_line`` becomes ``_line.1``."""
    if LINE in table.column_names:
        taken = set(table.column_names)
        n = 1
        while f"{LINE}.{n}" in taken:
            n += 1
        new = f"{LINE}.{n}"
        table = table.rename_columns([new if c == LINE else c for c in table.column_names])
        notes.append(t("io.note_renamed_duplicate", name=LINE, new=new))
    lines = pa.array(np.arange(1, table.num_rows + 1, dtype=np.int64))
    return table.append_column(LINE, lines)


def _listing(names: list[str]) -> str:
    return ", ".join(f"'{n}'" for n in names)


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def _redact(url: str) -> str:
    """``url`` with its password (if any) replaced by ``***``."""
    parsed = urllib.parse.urlparse(url)
    if parsed.password is None:
        return url
    netloc = parsed.netloc.replace(f":{parsed.password}@", ":***@", 1)
    return urllib.parse.urlunparse(parsed._replace(netloc=netloc))


def _scrub(exc: BaseException, url: str) -> str:
    """A driver's error message, first line only, never showing the password."""
    text = _first_line(exc)
    password = urllib.parse.urlparse(url).password
    return text.replace(password, "***") if password else text
