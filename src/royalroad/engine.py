"""The backend connection and the workspace.

The workspace is a DuckDB database (a file with ``--workspace``, else in memory)
holding the canonical tables ``leads``, ``events``, ``notes`` and the bookkeeping
tables ``quarantine``, ``files`` and ``meta``. Analyses see it through Ibis
(:attr:`Workspace.ibis`), so the same expressions run on DuckDB here and on Spark
or a warehouse later.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from royalroad.errors import InputError

if TYPE_CHECKING:
    import ibis
    import ibis.expr.types as ir

TABLES = ("leads", "events", "notes", "quarantine", "files", "meta")
DEFAULT_MAX_ACTIVITIES = 200
"""Activities the analyses look at one by one; rarer ones are grouped (``--max-activities``)."""
ENUM_AS_TEXT = 20_000
"""Characters of the ``activity`` ENUM type above which events are read with activity as
text (about a thousand activities): see :meth:`Workspace._events_stored`."""
EVENTS_TEXT = "_rr_events_text"
OTHER_ACTIVITIES_KEY = "engine.other_activities"
"""Catalogue key of the label the grouped activities take: "(other activities)"."""


def one_row(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[Any, ...]:
    """The one row an aggregate query returns.

    ``fetchall``, not ``fetchone``: DuckDB 2.0 keeps a ``fetchone()`` result pending
    and then refuses the next query on the connection.
    """
    return con.execute(sql).fetchall()[0]


def connect(
    path: str | Path | None = None,
    *,
    read_only: bool = False,
    memory_limit: str | None = None,
) -> duckdb.DuckDBPyConnection:
    """Open a DuckDB connection configured for reproducible results and bounded memory.

    A fixed ``TimeZone`` (UTC) makes any TIMESTAMPTZ arithmetic independent of the
    machine; the progress bar is off because it writes to the terminal.
    :func:`set_resources` caps DuckDB's memory (``memory_limit``: a size such as
    ``"4GB"``, a share of this machine's memory such as ``"40%"``; None: the process
    default, :func:`default_memory_limit`), fixes its threads and gives it a
    temporary directory to spill to, so that a log larger than memory runs out of core
    instead of taking the machine down.
    """
    target = str(path) if path else ":memory:"
    if path and not read_only:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(target, read_only=read_only)
    except duckdb.Error as exc:
        if not (read_only and "different configuration" in str(exc)):
            raise _open_error(target, exc, read_only=read_only) from None
        # This process already has the file open for writing (a notebook's ingest, a
        # test's fixture): DuckDB shares that one instance within a process, and an
        # analysis writes nothing either way.
        return connect(path, read_only=False, memory_limit=memory_limit)
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    set_resources(con, memory_limit)
    return con


MEMORY_SHARE = 0.5
"""Share of the machine's physical memory DuckDB may use by default."""
MEMORY_CAP_GB = 8.0
"""Upper bound of the default memory limit: past it the analyses spill rather than grow,
which leaves the rest of a large machine to the Python side and to other programs."""
_process_memory_limit: str | None = None


def physical_memory() -> int | None:
    """Bytes of physical memory of this machine, or None where the OS does not say."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return None


def default_memory_limit() -> str | None:
    """DuckDB's memory limit when none is given: :data:`MEMORY_SHARE` of physical memory,
    at most :data:`MEMORY_CAP_GB`; ``ROYALROAD_MEMORY_LIMIT`` or
    :func:`set_default_memory_limit` (the CLI's ``--memory-limit``) override it.
    None (DuckDB's own default) when the machine's memory is unknown."""
    given = _process_memory_limit or os.environ.get("ROYALROAD_MEMORY_LIMIT")
    if given:
        return given
    total = physical_memory()
    if total is None:
        return None
    mb = min(total * MEMORY_SHARE, MEMORY_CAP_GB * 2**30) / 2**20
    return f"{int(mb)}MiB"


def set_default_memory_limit(value: str | None) -> None:
    """The memory limit every later :func:`connect` of this process uses (None: the
    built-in default). The CLI sets it from ``--memory-limit``."""
    global _process_memory_limit
    _process_memory_limit = value or None


_SIZE = re.compile(r"^\s*(?P<n>\d+(?:\.\d+)?)\s*(?P<unit>%|[KMGT]i?B?|B)?\s*$", re.IGNORECASE)


def memory_setting(value: str | None) -> str | None:
    """``value`` as DuckDB's ``memory_limit`` setting: a size (``"4GB"``, ``"512MB"``,
    a bare number of bytes) or a percentage of physical memory (``"40%"``).

    >>> memory_setting("4gb")
    '4GB'
    """
    if value is None:
        return None
    found = _SIZE.match(str(value))
    if not found or float(found["n"]) <= 0:
        raise InputError("engine.bad_memory_limit", value=value)
    n, unit = float(found["n"]), (found["unit"] or "B").upper()
    if unit == "%":
        total = physical_memory()
        if total is None or n > 100:
            raise InputError("engine.bad_memory_limit", value=value)
        return f"{int(total * n / 100 / 2**20)}MiB"
    if not unit.endswith("B"):
        unit += "B"
    return f"{found['n']}{unit}"


_temp_dirs: list[str] = []
_SCRATCH_NUMBERS = itertools.count(1)


def spill_directory() -> str:
    """A fresh directory for DuckDB's spill files, under the system's temporary folder.

    One per connection: two DuckDB instances spilling into one folder would overwrite
    each other's files. DuckDB creates it on the first spill and removes what it wrote
    when the connection closes; what is left at exit is removed then.
    """
    import tempfile

    path = os.path.join(tempfile.gettempdir(), f"royalroad-spill-{os.getpid()}-{len(_temp_dirs)}")
    if not _temp_dirs:
        import atexit

        atexit.register(_remove_spill_dirs)
    _temp_dirs.append(path)
    return path


def _remove_spill_dirs() -> None:
    import shutil

    for path in _temp_dirs:
        shutil.rmtree(path, ignore_errors=True)


def set_resources(con: duckdb.DuckDBPyConnection, memory_limit: str | None = None) -> None:
    """Bound what one DuckDB connection takes: ``memory_limit`` (see :func:`connect`),
    ``threads`` = the cores this process may use, and a spill directory
    (:func:`spill_directory`)."""
    limit = memory_setting(memory_limit) or memory_setting(default_memory_limit())
    if limit:
        try:
            con.execute(f"SET memory_limit = '{limit}'")
        except duckdb.Error:
            raise InputError("engine.bad_memory_limit", value=memory_limit or limit) from None
    con.execute(f"SET threads = {cpu_count()}")
    # a shared instance already spilling keeps its directory
    with contextlib.suppress(duckdb.Error):
        folder = spill_directory()
        con.execute(f"SET temp_directory = '{folder}'")
        con.execute(f"SET max_temp_directory_size = '{spill_cap(folder)}'")


SPILL_SHARE = 0.5
"""Share of the free disk space under the temporary folder DuckDB may spill into (at
least 1 GiB): a run that needs more stops with a message instead of filling the disk
other programs write to (DuckDB's own default is 90%)."""


def spill_cap(folder: str) -> str:
    """:data:`SPILL_SHARE` of the free space on the file system of ``folder``."""
    import shutil

    probe = folder
    while probe and not os.path.exists(probe):
        probe = os.path.dirname(probe)
    try:
        free = shutil.disk_usage(probe or ".").free
    except OSError:
        return "90%"
    return f"{max(2**30, int(free * SPILL_SHARE)) // 2**20}MiB"


def attach_scratch(con: duckdb.DuckDBPyConnection, name: str, prefix: str) -> str:
    """Attach a new DuckDB file, in a fresh folder under the temporary folder, as
    ``name``; return the folder (the caller removes it when done). Tables there are
    compressed and on disk, where TEMP tables sit uncompressed in memory. Attached
    read-write even when ``con`` reads its own database read-only (an attached file
    otherwise inherits that mode). Raises ``duckdb.Error`` when it cannot be attached."""
    import tempfile

    folder = tempfile.mkdtemp(prefix=prefix)
    path = os.path.join(folder, "scratch.duckdb").replace("'", "''")
    try:
        con.execute(f"ATTACH '{path}' AS {name} (READ_ONLY FALSE)")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return folder


def cpu_count() -> int:
    """Cores this process may run on (its CPU affinity where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (?P<program>.*?) \(PID (?P<pid>\d+)\)")


def _open_error(target: str, exc: Exception, *, read_only: bool) -> InputError:
    """DuckDB's failure to open a file, in royalroad's words.

    A lock conflict (another process writing the file, or reading it while we want to
    write) gets its own one-line message that names the other process and what to do.
    """
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if "Could not set lock" not in first and "Conflicting lock" not in first:
        return InputError("engine.cannot_open", file=target, reason=first)
    from royalroad.i18n import t

    found = _LOCK_HOLDER.search(str(exc))
    holder = (
        f"{Path(found['program']).name}, PID {found['pid']}"
        if found
        else t("engine.lock_holder_unknown")
    )
    key = "engine.locked_read" if read_only else "engine.locked_write"
    return InputError(key, file=target, holder=holder)


def check_not_in_use(path: str | Path) -> None:
    """Fail with one line when another process has ``path`` open (reading or writing).

    ``ingest`` builds a new workspace beside the old one and then replaces it; on
    POSIX a reader would silently go on with the replaced file, on Windows the
    replacement fails. Asking first gives the user the reason before a long ingest.
    A file DuckDB cannot open for other reasons (not a database) is no conflict: the
    ingest replaces it.
    """
    p = Path(path)
    if not p.is_file():
        return
    try:
        con = duckdb.connect(str(p))
    except duckdb.Error as exc:
        err = _open_error(str(p), exc, read_only=False)
        if err.key == "engine.locked_write":
            raise err from None
        return
    con.close()


@dataclass(frozen=True)
class ActivityGrouping:
    """Rare activities folded into one, so that the analyses stay bounded.

    ``kept`` are the ``limit`` most frequent activities (by leads that have them,
    then by events, then by name); every other activity is analysed as ``label``.
    """

    limit: int
    activities: int
    """Distinct activities in the events table."""
    events: int
    """Events in the events table."""
    kept: tuple[str, ...]
    grouped_activities: int
    grouped_events: int
    label: str

    def to_dict(self) -> dict:
        return {
            "max_activities": self.limit,
            "activities": self.activities,
            "events": self.events,
            "grouped_activities": self.grouped_activities,
            "grouped_events": self.grouped_events,
            "label": self.label,
        }


class Workspace:
    """Canonical tables in one DuckDB database, with an Ibis view of them."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        *,
        path: Path | None = None,
        read_only: bool = False,
    ) -> None:
        self.con = con
        self.path = path
        self.read_only = read_only
        self._ibis = None
        self._temp = 0
        self._scratch_name: str | None = None  # see _scratch
        self._scratch_dir: str | None = None
        self._grouping: ActivityGrouping | None = None
        self._events_as_text: bool | None = None
        self._groupings: dict[tuple[int, str], ActivityGrouping | None] = {}
        self._extra_events: ir.Table | None = None

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
        t = self._stored(name)
        if name == "leads" and "mark" in t.columns:
            t = t.filter(t.mark.isnull())  # leads created after the as-of date did not exist yet
        if name in ("leads", "events"):
            t = journey_keys(t, name)
        if name == "events" and self._grouping is not None:
            g = self._grouping
            act = t.activity.cast("string")
            t = number_occurrences(t.mutate(activity=act.isin(list(g.kept)).ifelse(act, g.label)))
        if name == "events" and self._extra_events is not None:
            t = with_extra_events(t, self._extra_events)
        return t

    def _stored(self, name: str) -> ir.Table:
        """A canonical table as stored, before :meth:`table` shapes it (a workspace over
        another engine reads it from there)."""
        return self._events_stored() if name == "events" else self.ibis.table(name)

    def _events_stored(self) -> ir.Table:
        """``events`` as stored, its ``activity`` read as text when its ENUM is large.

        Ibis learns a table's schema by parsing each column's type, and an ENUM's type
        spells out every value: with 50,000 activities that parse took 0.8 s (and 1M
        activities minutes and gigabytes) on every ``table("events")``. Above
        ``ENUM_AS_TEXT`` characters of type, the table is read through a query that
        casts ``activity`` to VARCHAR; below it, the ENUM keeps its fast sorts.
        """
        if self._events_as_text is None:
            length = one_row(
                self.con,
                "SELECT coalesce(max(length(data_type)), 0) FROM duckdb_columns() "
                "WHERE database_name = current_database() AND schema_name = 'main' "
                "AND table_name = 'events' AND column_name = 'activity'",
            )[0]
            self._events_as_text = length > ENUM_AS_TEXT
        if self._events_as_text:
            # A temporary view lives in memory: fine on a read-only connection too.
            self.con.execute(
                f'CREATE TEMP VIEW IF NOT EXISTS "{EVENTS_TEXT}" AS '
                'SELECT * REPLACE (CAST(activity AS VARCHAR) AS activity) FROM main."events"'
            ).fetchall()
            return self.ibis.table(EVENTS_TEXT)
        return self.ibis.table("events")

    @property
    def grouping(self) -> ActivityGrouping | None:
        """The activity grouping in force (see :meth:`activity_cap`), or None."""
        return self._grouping

    def group_activities(
        self, limit: int | None, label: str | None = None
    ) -> ActivityGrouping | None:
        """How ``limit`` activities would be kept and the rest grouped; None if nothing is.

        Two small queries: the number of distinct activities and, only when there are
        more than ``limit``, the ``limit`` most frequent ones (by leads that have
        them, then events, then name: ties are broken the same way every time).
        """
        if limit is None or limit <= 0:
            return None
        if label is None:
            from royalroad.i18n import t

            label = t(OTHER_ACTIVITIES_KEY)
        key = (limit, label)
        if key in self._groupings:
            return self._groupings[key]
        events = self._events_stored()
        activities, n_events = one_row(
            self.con, "SELECT count(DISTINCT activity), count(*) FROM events"
        )
        grouping = None
        if activities > limit:
            grouping = self._rank_activities(events, limit, label, activities, n_events)
        self._groupings[key] = grouping
        return grouping

    def _rank_activities(
        self, events: ir.Table, limit: int, label: str, activities: int, n_events: int
    ) -> ActivityGrouping:
        import ibis

        lead = events.lead_key if "lead_key" in events.columns else events.lead_id
        act = events.activity.cast("string")
        per = (
            events.mutate(_act=act, _lead=lead)
            .group_by("_act")
            .agg(leads=ibis._._lead.nunique(), n=ibis._.count())
        )
        top = per.order_by([ibis.desc("leads"), ibis.desc("n"), "_act"]).limit(limit)
        rows = top.execute()
        kept = tuple(str(a) for a in rows["_act"])
        kept_events = int(rows["n"].sum())
        return ActivityGrouping(
            limit=limit,
            activities=int(activities),
            events=int(n_events),
            kept=kept,
            grouped_activities=int(activities) - len(kept),
            grouped_events=int(n_events) - kept_events,
            label=label,
        )

    @contextmanager
    def activity_cap(
        self, limit: int | None, label: str | None = None
    ) -> Iterator[ActivityGrouping | None]:
        """While the block runs, every analysis sees at most ``limit`` activities.

        The ``limit`` most frequent activities keep their names and the rest become
        one activity, ``label`` ("(other activities)" in the current language), in
        :meth:`table` ``("events")``: an Ibis expression, so the engine does the
        mapping and every analysis sees the same events. ``limit`` None or 0 keeps
        every activity. Yields the grouping (None when nothing was grouped).
        """
        previous = self._grouping
        self._grouping = None  # rank on the stored activities, not on a grouping
        grouping = self.group_activities(limit, label)
        self._grouping = grouping
        try:
            yield grouping
        finally:
            self._grouping = previous

    @contextmanager
    def extra_events(self, extra: ir.Table) -> Iterator[None]:
        """While the block runs, :meth:`table` ``("events")`` also holds ``extra``.

        ``extra`` has ``lead_id, lead_key, activity, ts, mark`` (milestones found
        outside the event log, such as notes that mention a trigger:
        :mod:`royalroad.analysis.triggers_goals`); every analysis then sees them as
        events, placed in each journey by time (after the logged events of the same
        moment). Not grouped by :meth:`activity_cap`.
        """
        previous = self._extra_events
        self._extra_events = extra
        try:
            yield
        finally:
            self._extra_events = previous

    def outcome_counts(self) -> tuple[int, int, int]:
        """``(won, lost, open)`` among the leads the analyses see (one small query).

        Plain SQL, not Ibis: ``execute`` also settles a result someone left pending
        with ``fetchone()``, which DuckDB 2.0's relation API (Ibis) would refuse."""
        cols = {r[0] for r in self.con.execute("DESCRIBE leads").fetchall()}
        where = "WHERE mark IS NULL" if "mark" in cols else ""
        won, lost, open_ = one_row(
            self.con,
            "SELECT count(*) FILTER (outcome = 'won'), count(*) FILTER (outcome = 'lost'), "
            f"count(*) FILTER (outcome = 'open') FROM leads {where}",
        )
        return int(won), int(lost), int(open_)

    def sources(self) -> list[str]:
        """The workspace file, else the leads and events files it was read from."""
        if self.path is not None:
            return [str(self.path)]
        return [
            r[0]
            for r in self.con.execute(
                "SELECT file FROM files WHERE table_name IN ('leads', 'events') ORDER BY file_idx"
            ).fetchall()
        ]

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
        scratch = self._scratch()
        if scratch is None:
            table = self.ibis.create_table(name, expr, temp=True)
            qualified = f'"{name}"'
        else:
            qualified = f'{scratch}.main."{name}"'
            table = self.ibis.create_table(name, expr, database=(scratch, "main"))
        try:
            yield table
        finally:
            self.ibis.raw_sql(f"DROP TABLE IF EXISTS {qualified}")

    def _scratch(self) -> str | None:
        """The database file the intermediate tables go to: attached once per workspace
        in the temporary folder and deleted with it. DuckDB compresses a table there
        and keeps it on disk, where a TEMP table sits uncompressed in memory and spills
        raw: at 100M events the goal search's occurrence table spilled past 28 GiB.
        None (TEMP tables) when it cannot be attached."""
        if self._scratch_name is None:
            name = f"rr_scratch_{next(_SCRATCH_NUMBERS)}"
            try:
                folder = attach_scratch(self.con, name, "royalroad-scratch-")
            except duckdb.Error:
                self._scratch_name = ""
                return None
            self._scratch_name, self._scratch_dir = name, folder
            atexit.register(shutil.rmtree, folder, True)
        return self._scratch_name or None

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
        if self._scratch_dir:
            shutil.rmtree(self._scratch_dir, ignore_errors=True)

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        # Closed on errors too: a connection left to the garbage collector keeps
        # DuckDB's instance of the file alive in this process, and a later open of the
        # same file with the other read-only setting would then be refused.
        self.close()


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
    if name == "events" and "occ" not in t.columns:
        t = number_occurrences(t)
    return t


def number_occurrences(events: ir.Table) -> ir.Table:
    """``occ``: each usable event's occurrence (1, 2, …) of its activity in its lead's
    journey, by ``pos``; NULL for events with a mark.

    ``ingest`` stores it (see the loader); this computes it in the query for a table
    that lacks it, or again after the activities change (a grouping, added events).

    Examples
    --------
    >>> import ibis
    >>> t = ibis.memtable({"lead_key": [1, 1, 1, 2], "activity": ["a", "b", "a", "a"],
    ...                    "pos": [1, 2, 3, 1], "mark": [None, None, None, "after_close"]})
    >>> number_occurrences(t).order_by(["lead_key", "pos"]).occ.to_list()
    [1, 1, 2, None]
    """
    import ibis

    t = events.drop("occ") if "occ" in events.columns else events
    usable = t.mark.isnull()
    w = ibis.window(group_by=[t.lead_key, t.activity, usable], order_by=t.pos)
    occ = (ibis.row_number().over(w) + 1).cast("int32")
    return t.mutate(occ=usable.ifelse(occ, ibis.null("int32")))


def with_extra_events(events: ir.Table, extra: ir.Table) -> ir.Table:
    """``events`` and ``extra`` as one table, with ``pos`` numbered again.

    ``activity`` becomes text; columns ``extra`` lacks are NULL; its rows are complete
    events (``pos`` not NULL) ordered after logged events of the same time.
    """
    import ibis

    schema = events.schema()
    base = events.mutate(activity=events.activity.cast("string"), _extra=ibis.literal(0))
    fill = {
        c: ibis.null(schema[c]) for c in events.columns if c not in extra.columns and c != "pos"
    }
    typed = {c: extra[c].cast(schema[c]) for c in extra.columns if c in schema and c != "activity"}
    add = extra.mutate(
        **typed,
        activity=extra.activity.cast("string"),
        pos=ibis.literal(0).cast(schema["pos"]),
        _extra=ibis.literal(1),
        **fill,
    ).select(*base.columns)
    u = base.union(add, distinct=False)
    complete = u.pos.notnull()
    w = ibis.window(group_by=[u.lead_key, complete], order_by=[u.ts, u._extra, u.pos])
    pos = (ibis.row_number().over(w) + 1).cast(schema["pos"])
    u = u.mutate(pos=complete.ifelse(pos, ibis.null(schema["pos"]))).drop("_extra")
    return number_occurrences(u) if "occ" in u.columns else u


def open_workspace(
    path: str | Path, *, read_only: bool = False, memory_limit: str | None = None
) -> Workspace:
    """Open a workspace written by ``royalroad ingest --workspace``.

    ``read_only=True`` is what every analysis needs (they write nothing: their
    temporary tables live in memory, spilling to a temporary folder past
    ``memory_limit``, see :func:`connect`): any number of processes can then read one
    workspace at once. A read-write connection locks the file for everyone else.
    """
    p = Path(path)
    if not p.exists():
        raise InputError("io.file_missing", file=str(path))
    con = connect(p, read_only=read_only, memory_limit=memory_limit)
    present = {r[0] for r in con.execute("SHOW TABLES").fetchall()}
    missing = [t for t in TABLES if t not in present]
    if missing:
        con.close()
        raise InputError("engine.not_a_workspace", file=str(path), missing=", ".join(missing))
    return Workspace(con, path=p, read_only=read_only)
