"""A workspace whose canonical tables live in another engine: Spark or a warehouse.

:class:`RemoteWorkspace` is a :class:`~royalroad.engine.Workspace` over any Ibis
backend: the analyses ask it for ``table("leads")`` / ``table("events")`` and get
expressions the backend executes; only their small results come back to Python.
The tables must already be canonical (validated): written by ``royalroad ingest``
(``royalroad export``, or any copy of a workspace's tables) or produced by the
user's own pipeline to the same schema. :func:`check_tables` checks the contract in
the engine (columns, outcomes, unique lead ids, events of unknown leads), one
aggregate query per table, and fails with one line naming what is wrong.

Opening one:

* :func:`open_spark` — Parquet / CSV paths or tables of the session's catalog
  (``crm.leads``), read where they lie, in a local ``local[2]`` session, a cluster
  master's, or a session the caller already has;
* :func:`open_url` — an Ibis connection URL (``postgres://user@host/db``) whose
  database holds the tables.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from royalroad import backends
from royalroad.engine import ActivityGrouping, Workspace
from royalroad.errors import InputError

if TYPE_CHECKING:
    import ibis.expr.types as ir

CANONICAL = ("leads", "events", "notes")
EXPORTED = ("leads", "events", "notes", "meta", "quarantine")
LEAD_FIXED = {
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
REQUIRED = {
    "leads": ("lead_id", "created_at", "outcome", "closed_at"),
    "events": ("lead_id", "activity", "ts", "seq", "mark"),
}


class _SQL:
    """What shared code asks of ``ws.con`` in plain SQL (``execute(sql).fetchall()``,
    a one-row count), answered by the engine: the canonical tables keep their names
    there (``leads``, ``events``, ``notes``)."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend

    def execute(self, sql: str) -> _SQL._Rows:
        # raw SQL, not backend.sql(): ibis 12 learns that one's schema through a view
        # it then fails to drop on Postgres (DROP VIEW without the name, sqlglot 30)
        res = self.backend.raw_sql(sql)
        if hasattr(res, "collect"):  # a Spark DataFrame
            return _SQL._Rows([tuple(r) for r in res.collect()])
        try:
            return _SQL._Rows([tuple(r) for r in res.fetchall()])
        finally:
            res.close()

    class _Rows:
        def __init__(self, rows: list[tuple]) -> None:
            self.rows = rows

        def fetchall(self) -> list[tuple]:
            return self.rows


class RemoteWorkspace(Workspace):
    """Canonical tables held by a non-DuckDB Ibis backend (Spark, PostgreSQL…).

    Parameters
    ----------
    backend : ibis backend
        A connected backend (``ibis.pyspark.connect(session)``, ``ibis.connect(url)``).
    tables : mapping
        Canonical name → ``(table, database)`` in the backend (database may be None).
        ``leads`` and ``events`` are required; ``notes`` and ``meta`` optional.
    sources : list of str
        What the tables were read from (paths, table names), for messages.
    owns : bool
        Whether :meth:`close` ends the backend (a session royalroad started).
    """

    def __init__(
        self,
        backend: Any,
        tables: Mapping[str, tuple[str, str | None]],
        *,
        sources: list[str] | None = None,
        owns: bool = False,
        stop: Any = None,
    ) -> None:
        super().__init__(_SQL(backend))  # type: ignore[arg-type]  # not DuckDB
        backends.prepare(backend)
        self._ibis = backend
        self._tables = dict(tables)
        self._sources = sources or [f"{backend.name}:{t}" for t, _ in self._tables.values()]
        self._owns = owns
        self._stop = stop
        self._meta: dict[str, str] | None = None

    @property
    def engine(self) -> str:
        return backends.name(self._ibis)

    def _raw(self, name: str) -> ir.Table:
        table, database = self._tables[name]
        return self.ibis.table(table, database=database)

    def table(self, name: str) -> ir.Table:
        if name == "notes" and "notes" not in self._tables:
            return self._empty_notes()
        return super().table(name)

    def _stored(self, name: str) -> ir.Table:
        return self._raw(name)

    def _events_stored(self) -> ir.Table:
        return self._raw("events")

    def _empty_notes(self) -> ir.Table:
        import ibis

        ev = self._raw("events")
        return ev.select(
            lead_id=ev.lead_id,
            ts=ev.ts,
            text=ibis.literal("", "string"),
            seq=ev.seq,
            mark=ibis.literal("", "string"),
            _file=ibis.literal("", "string"),
            _line=ibis.literal(0, "int64"),
        ).limit(0)

    def group_activities(
        self, limit: int | None, label: str | None = None
    ) -> ActivityGrouping | None:
        if limit is None or limit <= 0:
            return None
        if label is None:
            from royalroad.engine import OTHER_ACTIVITIES_KEY
            from royalroad.i18n import t

            label = t(OTHER_ACTIVITIES_KEY)
        key = (limit, label)
        if key not in self._groupings:
            ev = self._events_stored()
            row = ev.aggregate(a=ev.activity.nunique(), n=ev.count()).execute().iloc[0]
            activities, n_events = int(row["a"]), int(row["n"])
            grouping = None
            if activities > limit:
                grouping = self._rank_activities(ev, limit, label, activities, n_events)
            self._groupings[key] = grouping
        return self._groupings[key]

    def outcome_counts(self) -> tuple[int, int, int]:
        leads = self.table("leads")
        row = (
            leads.aggregate(
                won=leads.count(where=leads.outcome == "won"),
                lost=leads.count(where=leads.outcome == "lost"),
                open=leads.count(where=leads.outcome == "open"),
            )
            .execute()
            .iloc[0]
        )
        return int(row["won"]), int(row["lost"]), int(row["open"])

    def sources(self) -> list[str]:
        return list(self._sources)

    @contextmanager
    def materialized(self, expr: ir.Table, hint: str = "t") -> Iterator[ir.Table]:
        self._temp += 1
        name = f"_rr_{hint}_{self._temp}"
        table = backends.create_temp(self._ibis, name, expr)
        try:
            yield table
        finally:
            backends.drop_temp(self._ibis, name)

    def meta(self) -> dict[str, str]:
        """The ``meta`` table when the tables came from ``royalroad ingest``; else the
        as-of date is the latest event time (one aggregate query)."""
        if self._meta is None:
            if "meta" in self._tables:
                m = self._raw("meta").execute()
                self._meta = {str(k): str(v) for k, v in zip(m["key"], m["value"], strict=True)}
            else:
                ev = self._raw("events")
                last = ev.aggregate(t=ev.ts.max()).execute()["t"].iloc[0]
                self._meta = {"as_of": last.isoformat(), "engine": self.engine}
        return dict(self._meta)

    def segments(self) -> list[str]:
        return [c for c in self._raw("leads").columns if c not in LEAD_FIXED]

    def check_learnable(self) -> None:
        won, lost, open_ = self.outcome_counts()
        if won + lost == 0:
            raise InputError(
                "load.no_closed",
                file=", ".join(self._sources),
                won=won,
                lost=lost,
                open=open_,
                quarantined=0,
                top="-",
            )

    def close(self) -> None:
        if self._owns and self._stop is not None:
            self._stop()


def check_tables(ws: RemoteWorkspace) -> dict[str, int]:
    """Check the canonical contract in the engine; the row counts it found.

    Columns present; ``outcome`` in won / lost / open; ``lead_id`` unique in
    ``leads``; every closed lead has ``closed_at``; no event with a NULL ``ts`` or of
    a lead missing from ``leads``. One aggregate query per table; a failure is one
    line naming the table and the check.
    """
    for name, cols in REQUIRED.items():
        have = set(ws._raw(name).columns)
        missing = [c for c in cols if c not in have]
        if missing:
            raise InputError(
                "remote.missing_columns", table=ws._tables[name][0], columns=", ".join(missing)
            )
    leads = ws._raw("leads")
    closed = leads.outcome.isin(["won", "lost"])
    lr = (
        leads.aggregate(
            n=leads.count(),
            ids=leads.lead_id.nunique(),
            bad_outcome=leads.count(where=~leads.outcome.isin(["won", "lost", "open"])),
            no_close=leads.count(where=closed & leads.closed_at.isnull()),
        )
        .execute()
        .iloc[0]
    )
    ev = ws._raw("events")
    known = leads.select(k=leads.lead_id)
    orphans = ev.anti_join(known, ev.lead_id == known.k)
    er = ev.aggregate(n=ev.count(), no_ts=ev.count(where=ev.ts.isnull())).execute().iloc[0]
    n_orphans = int(orphans.count().execute())
    problems = {
        "bad_outcome": int(lr["bad_outcome"]),
        "duplicate_lead_id": int(lr["n"]) - int(lr["ids"]),
        "closed_without_closed_at": int(lr["no_close"]),
        "event_without_ts": int(er["no_ts"]),
        "event_of_unknown_lead": n_orphans,
    }
    for check, n in problems.items():
        if n:
            table = ws._tables["events" if check.startswith("event") else "leads"][0]
            raise InputError("remote.check_failed", table=table, check=check, rows=n)
    return {"leads": int(lr["n"]), "events": int(er["n"])}


def _table_ref(value: str) -> tuple[str, str | None]:
    """``crm.leads`` → ``("leads", "crm")``; ``leads`` → ``("leads", None)``."""
    db, _, table = value.rpartition(".")
    return table, db or None


def spark_session(master: str | None = None, conf: Mapping[str, str] | None = None) -> Any:
    """A SparkSession on ``master`` (``local[2]`` by default), UTC, quiet.

    ``conf`` adds or overrides Spark settings (the tests turn whole-stage code
    generation off: on small tables compiling the code costs more than running it).

    Spark's session time zone is fixed to UTC so that timestamps (stored in UTC by
    ``royalroad ingest``) give DuckDB's epoch seconds; ANSI mode stays Spark's default.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise InputError("remote.no_pyspark") from None
    builder = (
        SparkSession.builder.master(master or "local[2]")
        .appName("royalroad")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.extraJavaOptions", "-Duser.timezone=UTC")
        .config("spark.executor.extraJavaOptions", "-Duser.timezone=UTC")
    )
    for key, value in (conf or {}).items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def open_spark(
    *,
    leads: str | None = None,
    events: str | None = None,
    notes: str | None = None,
    meta: str | None = None,
    leads_table: str | None = None,
    events_table: str | None = None,
    notes_table: str | None = None,
    session: Any = None,
    master: str | None = None,
    check: bool = True,
) -> RemoteWorkspace:
    """Canonical tables on Spark: files read where they lie, or catalog tables.

    ``leads`` / ``events`` / ``notes`` / ``meta`` are Parquet or CSV paths (a file,
    a directory, a glob; anything ``spark.read`` takes, ``hdfs://`` and ``s3a://``
    included), registered as temporary views; ``*_table`` name tables of the session's
    catalog (``crm.leads``). ``session`` is a SparkSession the caller already has;
    else one is started on ``master`` (``local[2]``) and stopped by :meth:`close`.
    """
    import ibis

    if session is None and master is None:
        # a session this process already runs (a notebook's) is the caller's: use it,
        # and leave it running when the workspace closes
        try:
            from pyspark.sql import SparkSession
        except ImportError:
            raise InputError("remote.no_pyspark") from None
        session = SparkSession.getActiveSession()
    own = session is None
    spark = session if session is not None else spark_session(master)
    backend = ibis.pyspark.connect(spark)
    tables: dict[str, tuple[str, str | None]] = {}
    sources: list[str] = []
    given = {
        "leads": (leads, leads_table),
        "events": (events, events_table),
        "notes": (notes, notes_table),
        "meta": (meta, None),
    }
    for name, (path, table) in given.items():
        if table:
            # a temporary view under the canonical name (plain-SQL questions use it)
            ref, db = _table_ref(table)
            spark.table(f"{db}.{ref}" if db else ref).createOrReplaceTempView(name)
            tables[name] = (name, None)
            sources.append(table)
        elif path:
            reader = spark.read.option("header", "true").option("inferSchema", "true")
            many = path.split(",")  # several files of one table: one comma-separated text
            csv = path.lower().endswith((".csv", ".csv.gz"))
            df = reader.csv(many) if csv else spark.read.parquet(*many)
            df.createOrReplaceTempView(name)
            tables[name] = (name, None)
            sources.append(path)
    if "leads" not in tables or "events" not in tables:
        raise InputError("remote.need_tables", engine="spark")
    if "notes" not in tables:  # no notes given: an empty table, so that "any notes?" is no
        spark.sql(
            "SELECT CAST(NULL AS STRING) AS lead_id, CAST(NULL AS TIMESTAMP) AS ts, "
            "CAST(NULL AS STRING) AS text, CAST(NULL AS BIGINT) AS seq, "
            "CAST(NULL AS STRING) AS mark, CAST(NULL AS STRING) AS _file, "
            "CAST(NULL AS BIGINT) AS _line WHERE 1 = 0"
        ).createOrReplaceTempView("notes")
        tables["notes"] = ("notes", None)
    ws = RemoteWorkspace(backend, tables, sources=sources, owns=own, stop=spark.stop)
    if check:
        check_tables(ws)
    return ws


def open_url(
    url: str,
    *,
    leads_table: str | None = None,
    events_table: str | None = None,
    notes_table: str | None = None,
    meta_table: str | None = None,
    check: bool = True,
) -> RemoteWorkspace:
    """Canonical tables in a database behind an Ibis URL (``postgres://…``).

    Table names default to ``leads``, ``events``, ``notes`` and ``meta`` (the last
    two used when they exist); ``schema.table`` names another schema.
    """
    import ibis

    try:
        backend = ibis.connect(url)
    except Exception as exc:  # noqa: BLE001  # any driver's own error, in one line
        raise InputError("remote.cannot_connect", url=_redacted(url), reason=_first(exc)) from None
    names = {
        "leads": leads_table or "leads",
        "events": events_table or "events",
        "notes": notes_table,
        "meta": meta_table,
    }
    present = set(backend.list_tables())
    for optional in ("notes", "meta"):
        if names[optional] is None and optional in present:
            names[optional] = optional
    tables = {k: _table_ref(v) for k, v in names.items() if v}
    ws = RemoteWorkspace(
        backend,
        tables,
        sources=[f"{_redacted(url)}:{v}" for v in names.values() if v],
        owns=True,
        stop=backend.disconnect,
    )
    if check:
        check_tables(ws)
    return ws


def _first(exc: Exception) -> str:
    text = str(exc)
    return text.splitlines()[0] if text else type(exc).__name__


def _redacted(url: str) -> str:
    """The URL without its password."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def _select_text(ws: Workspace, name: str) -> str:
    cols = [r[0] for r in ws.con.execute(f'DESCRIBE "{name}"').fetchall()]
    select = ", ".join(
        'CAST("activity" AS VARCHAR) AS "activity"' if c == "activity" else f'"{c}"' for c in cols
    )
    return f'SELECT {select} FROM "{name}"'


def copy_tables(ws: Workspace, url: str) -> list[str]:
    """Copy a DuckDB workspace's canonical tables into the database behind ``url``.

    ``leads``, ``events``, ``notes``, ``meta`` and ``quarantine``, replaced when they
    exist: a warehouse example and test fixture, not a bulk loader (at warehouse
    scale, write Parquet with :func:`export_parquet` and load it with the database's
    own tool, ``COPY`` or an external table).
    """
    import ibis

    backend = ibis.connect(url)
    try:
        for name in EXPORTED:
            data = ws.con.sql(_select_text(ws, name)).to_arrow_table()
            # plain SQL: ibis 12's overwrite renders DROP TABLE without the name
            backends.drop_temp(backend, name)
            backend.create_table(name, data)
    finally:
        backend.disconnect()
    return list(EXPORTED)


def export_parquet(ws: Workspace, out: str | Path) -> dict[str, Path]:
    """Write a DuckDB workspace's canonical tables to ``out/<table>.parquet``.

    What Spark (:func:`open_spark`) or a warehouse loader then reads: ``leads``,
    ``events``, ``notes``, ``meta`` and ``quarantine``, as validated by ``ingest``.
    ``activity`` is written as text (DuckDB's ENUM is a DuckDB type).
    """
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    written = {}
    for name in EXPORTED:
        path = root / f"{name}.parquet"
        # events in source order (their physical order may differ by a few rows)
        order = " ORDER BY seq" if name == "events" else ""
        query = f"{_select_text(ws, name)}{order}"
        ws.con.execute(f"COPY ({query}) TO '{path}' (FORMAT parquet)").fetchall()
        written[name] = path
    return written


def summarise(ws: Workspace) -> Any:
    """The data-quality summary of tables on another engine, in a few aggregate queries.

    The per-file accounting (rows read, quarantined by reason) belongs to the ingest
    that validated the tables, not to the engine that now holds them: it is empty here.
    """
    from royalroad.quality import IngestSummary

    won, lost, open_ = ws.outcome_counts()
    events = ws.table("events")
    marks = events.group_by("mark").agg(n=events.count()).execute()
    marked = {str(m): int(n) for m, n in marks.itertuples(index=False) if m is not None and m == m}
    total = int(marks["n"].sum()) if len(marks) else 0
    counted = events.filter(events.mark.isnull())
    meta = ws.meta()
    return IngestSummary(
        files=(),
        reasons=(),
        leads=won + lost + open_,
        won=won,
        lost=lost,
        open=open_,
        events=total,
        events_counted=total - sum(marked.values()),
        events_marked=dict(sorted(marked.items())),
        notes=int(ws.table("notes").count().execute()),
        activities=int(counted.activity.nunique().execute()) if total else 0,
        segments=tuple(ws.segments()),
        as_of=meta["as_of"],
        tz=meta.get("tz", "UTC"),
        mode=meta.get("mode", "tables"),
        tz_source=meta.get("tz_source"),
    )


def open_engine(
    engine: str,
    *,
    leads: list[str] | None = None,
    events: list[str] | None = None,
    notes: list[str] | None = None,
    leads_table: str | None = None,
    events_table: str | None = None,
    notes_table: str | None = None,
    master: str | None = None,
) -> RemoteWorkspace:
    """What ``--engine`` opens: ``spark`` (with ``--spark-master``) or an Ibis URL."""
    if engine == "spark":

        def one(paths: list[str] | None) -> str | None:
            return ",".join(paths) if paths else None

        meta = None
        if leads and len(leads) == 1:  # royalroad export writes meta.parquet beside leads
            beside = Path(leads[0]).with_name("meta.parquet")
            meta = str(beside) if beside.exists() else None
        return open_spark(
            leads=one(leads),
            events=one(events),
            notes=one(notes),
            meta=meta,
            leads_table=leads_table,
            events_table=events_table,
            notes_table=notes_table,
            master=master,
        )
    if "://" not in engine:
        raise InputError("remote.bad_engine", value=engine)
    return open_url(
        engine, leads_table=leads_table, events_table=events_table, notes_table=notes_table
    )
