"""The backend connection and the workspace.

The workspace is a DuckDB database (a file with ``--workspace``, else in memory)
holding the canonical tables ``leads``, ``events``, ``notes`` and the bookkeeping
tables ``quarantine``, ``files`` and ``meta``. Analyses see it through Ibis
(:attr:`Workspace.ibis`), so the same expressions run on DuckDB here and on Spark
or a warehouse later.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from royalroad.errors import InputError

if TYPE_CHECKING:
    import ibis
    import ibis.expr.types as ir

TABLES = ("leads", "events", "notes", "quarantine", "files", "meta")


def one_row(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[Any, ...]:
    """The one row an aggregate query returns.

    ``fetchall``, not ``fetchone``: DuckDB 2.0 keeps a ``fetchone()`` result pending
    and then refuses the next query on the connection.
    """
    return con.execute(sql).fetchall()[0]


def connect(
    path: str | Path | None = None, *, read_only: bool = False
) -> duckdb.DuckDBPyConnection:
    """Open a DuckDB connection configured for reproducible results.

    A fixed ``TimeZone`` (UTC) makes any TIMESTAMPTZ arithmetic independent of the
    machine; the progress bar is off because it writes to the terminal.
    """
    target = str(path) if path else ":memory:"
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(target, read_only=read_only)
    except duckdb.Error as exc:
        raise InputError(
            "engine.cannot_open", file=target, reason=str(exc).splitlines()[0]
        ) from None
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    return con


class Workspace:
    """Canonical tables in one DuckDB database, with an Ibis view of them."""

    def __init__(self, con: duckdb.DuckDBPyConnection, *, path: Path | None = None) -> None:
        self.con = con
        self.path = path
        self._ibis = None
        self._temp = 0

    @property
    def ibis(self) -> ibis.BaseBackend:
        if self._ibis is None:
            import ibis

            self._ibis = ibis.duckdb.from_connection(self.con)
        return self._ibis

    def table(self, name: str) -> ir.Table:
        """An Ibis expression over one canonical table.

        ``leads`` holds the leads that existed at the as-of date (those created after it
        are kept in the table, marked ``after_as_of``, and left out here). ``leads``
        and ``events`` always carry the journey keys the analyses use:
        ``lead_key`` and ``events.pos``. ``ingest`` stores them; a table that lacks them
        (a workspace from another tool, a warehouse table) gets them computed in the
        query by :func:`journey_keys`.
        """
        t = self.ibis.table(name)
        if name == "leads" and "mark" in t.columns:
            t = t.filter(t.mark.isnull())  # leads created after the as-of date did not exist yet
        if name in ("leads", "events"):
            t = journey_keys(t, name)
        return t

    @contextmanager
    def materialized(self, expr: ir.Table, hint: str = "t") -> Iterator[ir.Table]:
        """A temporary table holding ``expr`` while the block runs, dropped after it.

        For a relation several queries read (the chain's journeys: edges, waiting
        times, lead states), so that the backend sorts the events once, not per query.
        The name is deterministic (``_rr_<hint>_<n>``). Dropped with plain SQL: ibis
        12's ``drop_table`` (and so ``Table.cache().release()``) renders
        ``DROP TABLE IF EXISTS`` without the table's name under sqlglot 30.
        """
        self._temp += 1
        name = f"_rr_{hint}_{self._temp}"
        table = self.ibis.create_table(name, expr, temp=True)
        try:
            yield table
        finally:
            self.ibis.raw_sql(f'DROP TABLE IF EXISTS "{name}"')

    def meta(self) -> dict[str, str]:
        return dict(self.con.execute("SELECT key, value FROM meta ORDER BY key").fetchall())

    @property
    def as_of(self) -> datetime:
        return datetime.fromisoformat(self.meta()["as_of"])

    def segments(self) -> list[str]:
        """Extra columns of ``leads``: the segments (industry, source, rep…)."""
        fixed = {
            "lead_id",
            "lead_key",
            "mark",
            "created_at",
            "outcome",
            "closed_at",
            "amount",
            "_file",
            "_line",
        }
        cols = [r[0] for r in self.con.execute("DESCRIBE leads").fetchall()]
        return [c for c in cols if c not in fixed]

    def check_learnable(self) -> None:
        """Fatal when no lead is closed: there is nothing to learn a win from."""
        won, lost, open_ = one_row(
            self.con,
            "SELECT count(*) FILTER (outcome = 'won'), count(*) FILTER (outcome = 'lost'), "
            "count(*) FILTER (outcome = 'open') FROM leads",
        )
        if won + lost == 0:
            files = [
                r[0]
                for r in self.con.execute(
                    "SELECT file FROM files WHERE table_name IN ('leads', 'events') "
                    "ORDER BY file_idx"
                ).fetchall()
            ]
            quarantined = one_row(self.con, "SELECT count(*) FROM quarantine")[0]
            top = self.con.execute(
                "SELECT reason FROM quarantine GROUP BY reason "
                "ORDER BY count(*) DESC, reason LIMIT 1"
            ).fetchone()
            from royalroad.i18n import t

            raise InputError(
                "load.no_closed",
                file=", ".join(files),
                won=won,
                lost=lost,
                open=open_,
                quarantined=quarantined,
                top=t(f"quarantine.{top[0]}") if top else "-",
            )

    def close(self) -> None:
        self.con.close()


def journey_keys(t: ir.Table, name: str) -> ir.Table:
    """Add ``lead_key`` (and for events ``pos``) when a table does not store them.

    The same definitions as the loader's: ``pos`` numbers each lead's complete events
    1, 2, … by ``(ts, seq)`` and is NULL for incomplete ones; ``lead_key`` may be any
    type the backend joins on, so the lead id itself serves.
    """
    import ibis

    if "lead_key" not in t.columns:
        t = t.mutate(lead_key=t.lead_id)
    if name == "events" and "pos" not in t.columns:
        complete = t.mark.isnull() | (t.mark != "not_complete")
        w = ibis.window(group_by=[t.lead_key, complete], order_by=[t.ts, t.seq])
        t = t.mutate(pos=complete.ifelse(ibis.row_number().over(w) + 1, ibis.null("int64")))
    return t


def open_workspace(path: str | Path) -> Workspace:
    """Open a workspace written by ``royalroad ingest --workspace``."""
    p = Path(path)
    if not p.exists():
        raise InputError("io.file_missing", file=str(path))
    con = connect(p)
    present = {r[0] for r in con.execute("SHOW TABLES").fetchall()}
    missing = [t for t in TABLES if t not in present]
    if missing:
        con.close()
        raise InputError("engine.not_a_workspace", file=str(path), missing=", ".join(missing))
    return Workspace(con, path=p)
