"""Build the canonical tables, the quarantine and the row accounting from staging tables.

:func:`royalroad.io.load.ingest` stages each source (:mod:`royalroad.io.validate`),
then :class:`Builder` unions, de-duplicates and cross-checks them in DuckDB, derives
leads from an event log, applies the as-of date, marks events and writes
``leads``, ``events``, ``notes``, ``quarantine``, ``files`` and ``meta``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

from royalroad.engine import one_row
from royalroad.errors import InputError
from royalroad.io import sqlparts as sp
from royalroad.io.asof import Outliers, default_as_of
from royalroad.io.mapping import ColumnMap
from royalroad.io.validate import Settings


@dataclass(frozen=True)
class Staged:
    role: str
    file_idx: int
    source: str
    kind: str
    encoding: str | None
    delimiter: str | None
    sheet: str | None
    preset: str
    rows: int
    blank_rows: int
    table: str
    cmap: ColumnMap


class Builder:
    """Turns staging tables into the canonical tables, quarantine and summary."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        staged: list[Staged],
        *,
        log_mode: bool,
        won: tuple[str, ...],
        lost: tuple[str, ...],
        lifecycle: str,
    ) -> None:
        self.con = con
        self.staged = staged
        self.log_mode = log_mode
        self.won = won
        self.lost = lost
        self.lifecycle = lifecycle
        self.outliers = Outliers()

    def _union(self, role: str) -> str | None:
        tables = [s.table for s in self.staged if s.role == role]
        if not tables:
            return None
        if len(tables) == 1:  # one file: no copy of (possibly) ten million rows
            return tables[0]
        name = f"{sp.STAGE}.all_{role}"
        body = " UNION ALL BY NAME ".join(f"SELECT * FROM {t}" for t in tables)
        self.con.execute(f"CREATE OR REPLACE TABLE {name} AS {body}")
        return name

    def _columns(self, table: str) -> list[str]:
        return [r[0] for r in self.con.execute(f"DESCRIBE {table}").fetchall()]

    def _in_file_order(self, table: str) -> bool:
        """The rows of ``table`` are stored in (file, line) order (checked on two columns)."""
        (late,) = one_row(
            self.con,
            f"""SELECT count(*) FROM (
                SELECT _file_idx, _line,
                  lag(_file_idx) OVER (ORDER BY rowid) AS pf, lag(_line) OVER (ORDER BY rowid) AS pl
                FROM {table})
            WHERE _file_idx < pf OR (_file_idx = pf AND _line < pl)""",
        )
        return late == 0

    def _dedupe(self, table: str, key: str = "lead_id") -> str:
        """Mark later rows of an already-seen lead as duplicate or conflicting."""
        cols = [c for c in self._columns(table) if not c.startswith("_") and c != key]
        payload = (
            "CAST(struct_pack("
            + ", ".join(f"{sp.ident('v' + str(i))} := {sp.ident(c)}" for i, c in enumerate(cols))
            + ") AS VARCHAR)"
            if cols
            else "''"
        )
        out = f"{table}_d"
        # The window runs over a narrow projection (key, reason, payload, position) and
        # the new reasons are joined back by position: sorting the wide rows of a file
        # with thousands of columns took time quadratic in the number of columns.
        self.con.execute(f"""
            CREATE OR REPLACE TABLE {table}_r AS
            SELECT CASE WHEN _reason IS NULL AND _rn > 1 THEN struct_pack(
                  reason := CASE WHEN _payload = _first_payload THEN 'duplicate_lead'
                                 ELSE 'conflicting_lead' END,
                  col := 'lead_id',
                  val := {key} || ' @ ' || _first_at)
                ELSE _reason END AS _reason
            FROM (
              SELECT _pos, {key}, _reason, _payload,
                row_number() OVER w AS _rn,
                first_value(_payload) OVER w AS _first_payload,
                first_value(_file || ':' || _line) OVER w AS _first_at
              FROM (SELECT rowid AS _pos, {key}, _reason, _file_idx, _file, _line,
                      {payload} AS _payload FROM {table})
              WINDOW w AS (PARTITION BY {key}, _reason IS NULL ORDER BY _file_idx, _line)
            )
            ORDER BY _pos""")
        self.con.execute(f"""
            CREATE OR REPLACE TABLE {out} AS
            SELECT t.* EXCLUDE (_reason), r._reason
            FROM {table} t POSITIONAL JOIN {table}_r r""")
        return out

    def build(self, *, as_of: str | datetime | None, settings: Settings) -> None:
        con = self.con
        leads_stg = self._union("leads")
        traces_stg = self._union("traces")
        events_stg = self._union("events")
        notes_stg = self._union("notes")
        if leads_stg:
            leads_stg = self._dedupe(leads_stg)
        if traces_stg:
            traces_stg = self._dedupe(traces_stg)

        # Events: reject rows whose lead is unknown (tables mode) after the row checks.
        if events_stg:
            if self.log_mode:
                self._check_outcome_activities(events_stg)
            else:
                events_stg = self._check_leads(events_stg, leads_stg)
        if notes_stg:
            notes_stg = self._check_leads(notes_stg, leads_stg or self._log_leads_ids(events_stg))

        if self.log_mode:
            assert events_stg is not None, "log mode is chosen only when events are given"
            self._derive_leads(events_stg, traces_stg)
        else:
            assert leads_stg is not None, "tables mode is chosen only when leads are given"
            # In file order; the staging rows almost always are already, and sorting
            # wide rows again costs time quadratic in their number of columns.
            order = "" if self._in_file_order(leads_stg) else "ORDER BY _file_idx, _line"
            con.execute(f"""CREATE OR REPLACE TABLE {sp.STAGE}.leads_ok AS
                SELECT * EXCLUDE (_reason, _raw, _file_idx, _file, _line), _file, _line
                FROM {leads_stg} WHERE _reason IS NULL
                {order}""")

        cutoff = self._as_of(as_of, settings, events_stg)
        # As of the cutoff, a lead closed later is still open.
        # lead_key: a dense integer per lead (in lead_id order), the key every analysis
        # joins and partitions on: hashing and sorting an INTEGER instead of a string id
        # is what makes the per-lead windows cheap (see events.pos).
        # A lead created after the cutoff did not exist as of then: kept, marked, and
        # left out of every analysis (Workspace.table), as its events are.
        # The key is numbered over a narrow projection and joined back by position (the
        # rows keep leads_ok's order): sorting wide rows is quadratic in their columns.
        con.execute(f"""CREATE OR REPLACE TEMP TABLE lead_keys AS
            SELECT CAST(row_number() OVER (ORDER BY lead_id) AS INTEGER) AS lead_key,
              rowid AS _pos
            FROM {sp.STAGE}.leads_ok ORDER BY _pos""")
        con.execute(f"""CREATE OR REPLACE TABLE leads AS
            SELECT l.* REPLACE (
                CASE WHEN closed_at > {cutoff} THEN 'open' ELSE outcome END AS outcome,
                CASE WHEN closed_at > {cutoff} THEN NULL ELSE closed_at END AS closed_at),
              CASE WHEN created_at > {cutoff} THEN 'after_as_of' END AS mark,
              k.lead_key
            FROM {sp.STAGE}.leads_ok l POSITIONAL JOIN (SELECT lead_key FROM lead_keys) k""")
        self._events(events_stg, cutoff)
        self._notes(notes_stg, cutoff)
        self._quarantine(
            [
                ("leads", leads_stg),
                ("traces", traces_stg),
                ("events", events_stg),
                ("notes", notes_stg),
            ]
        )
        self._files()
        self._meta(cutoff, settings)
        self._drop_temporaries()

    def _drop_temporaries(self) -> None:
        """Free the staging copies: the canonical tables and the quarantine hold everything."""
        temps = [
            r[0]
            for r in self.con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE temporary"
            ).fetchall()
        ]
        for name in temps:
            self.con.execute(f"DROP TABLE IF EXISTS temp.{sp.ident(name)}")

    def _log_leads_ids(self, events_stg: str | None) -> str | None:
        if events_stg is None:
            return None
        self.con.execute(f"""CREATE OR REPLACE TEMP TABLE log_ids AS
            SELECT DISTINCT lead_id,
                CAST(NULL AS STRUCT(reason VARCHAR, col VARCHAR, val VARCHAR)) AS _reason
            FROM {events_stg} WHERE _reason IS NULL""")
        return "log_ids"

    def _check_leads(self, table: str, leads_stg: str | None) -> str:
        """Quarantine rows whose lead is unknown or was quarantined, in place (no copy)."""
        if leads_stg is None:
            return table
        self.con.execute(f"""
            UPDATE {table} AS t SET _reason = CASE
                WHEN EXISTS (SELECT 1 FROM {leads_stg} b
                             WHERE b.lead_id = t.lead_id AND b._reason IS NOT NULL)
                THEN struct_pack(reason := 'quarantined_lead', col := 'lead_id', val := t.lead_id)
                ELSE struct_pack(reason := 'unknown_lead', col := 'lead_id', val := t.lead_id) END
            WHERE t._reason IS NULL AND NOT EXISTS (
                SELECT 1 FROM {leads_stg} ok WHERE ok.lead_id = t.lead_id AND ok._reason IS NULL)
            """)
        return table

    def _complete(self, alias: str = "") -> str:
        if self.lifecycle == "all":
            return "TRUE"
        return f"({alias}lifecycle IS NULL OR lower({alias}lifecycle) = 'complete')"

    def _check_outcome_activities(self, events_stg: str) -> None:
        present = {
            r[0]
            for r in self.con.execute(
                f"SELECT DISTINCT activity FROM {events_stg} WHERE _reason IS NULL"
            ).fetchall()
        }
        source = ", ".join(s.source for s in self.staged if s.role == "events")
        if not self.won and not self.lost:
            sample = ", ".join(sorted(present)[:12]) + (" …" if len(present) > 12 else "")
            raise InputError("load.log_needs_outcome", file=source, found=sample or "-")
        for option, acts in (("--won", self.won), ("--lost", self.lost)):
            for act in acts:
                if act not in present:
                    sample = ", ".join(sorted(present)[:12]) + (" …" if len(present) > 12 else "")
                    raise InputError(
                        "load.unknown_outcome_activity",
                        option=option,
                        activity=act,
                        file=source,
                        found=sample or "-",
                    )

    def _derive_leads(self, events_stg: str, traces_stg: str | None) -> None:
        won = ", ".join(sp.lit(a) for a in self.won) or "NULL"
        lost = ", ".join(sp.lit(a) for a in self.lost) or "NULL"
        complete = self._complete()
        extras = []
        if traces_stg:
            extras = [
                c
                for c in self._columns(traces_stg)
                if not c.startswith("_") and c not in ("lead_id", "amount")
            ]
        extra_sel = "".join(f", t.{sp.ident(c)}" for c in extras)
        amount = "t.amount" if traces_stg else "CAST(NULL AS DOUBLE)"
        file_col, line_col = (
            ("coalesce(t._file, e._file)", "coalesce(t._line, e._line)")
            if traces_stg
            else ("e._file", "e._line")
        )
        join = (
            f"FULL OUTER JOIN (SELECT * FROM {traces_stg} WHERE _reason IS NULL) t USING (lead_id)"
            if traces_stg
            else ""
        )
        order = "coalesce(t._file_idx * 1e12 + t._line, e._order)" if traces_stg else "e._order"
        self.con.execute(f"""
            CREATE OR REPLACE TABLE {sp.STAGE}.leads_ok AS
            WITH e AS (
              SELECT lead_id,
                min(ts) AS created_at,
                min(ts) FILTER (WHERE activity IN ({won}) AND {complete}) AS won_at,
                min(ts) FILTER (WHERE activity IN ({lost}) AND {complete}) AS lost_at,
                arg_min(_file, _file_idx * 1e12 + _line) AS _file,
                min(_line) AS _line,
                min(_file_idx * 1e12 + _line) AS _order
              FROM {events_stg} WHERE _reason IS NULL GROUP BY lead_id
            )
            SELECT lead_id, e.created_at,
              CASE WHEN won_at IS NOT NULL AND (lost_at IS NULL OR won_at <= lost_at) THEN 'won'
                   WHEN lost_at IS NOT NULL THEN 'lost' ELSE 'open' END AS outcome,
              least(won_at, lost_at) AS closed_at,
              {amount} AS amount{extra_sel},
              {file_col} AS _file, {line_col} AS _line
            FROM e {join}
            ORDER BY {order}
            """)

    def _as_of(
        self, as_of: str | datetime | None, settings: Settings, events_stg: str | None
    ) -> str:
        con = self.con
        if as_of is None:
            # The latest timestamp, future outliers aside (royalroad.io.asof).
            ok = f"{sp.STAGE}.leads_ok"
            parts = [
                f"SELECT created_at AS ts, _file, _line, FALSE AS is_close FROM {ok}",
                f"SELECT closed_at, _file, _line, outcome IN ('won', 'lost') FROM {ok}",
            ]
            if events_stg:
                parts.append(
                    f"SELECT ts, _file, _line, FALSE FROM {events_stg} WHERE _reason IS NULL"
                )
            from zoneinfo import ZoneInfo

            now = datetime.now(ZoneInfo(settings.tz)).replace(tzinfo=None)
            value, self.outliers = default_as_of(con, parts, now)
            if value is None:
                # No date anywhere means no closed lead either (a won or lost lead
                # without dates is quarantined): the workspace's learnability check
                # then names the real problem, instead of asking for an --as-of
                # that could not help.
                return "CAST(NULL AS TIMESTAMP)"
        elif isinstance(as_of, datetime):
            value = as_of
            if value.tzinfo is not None:  # an aware moment: the same instant in --tz, naive
                from zoneinfo import ZoneInfo

                value = value.astimezone(ZoneInfo(settings.tz)).replace(tzinfo=None)
        else:
            import pyarrow as pa

            expr = sp.timestamp(
                sp.lit(str(as_of)), pa.string(), tz=settings.tz, dayfirst=settings.dayfirst
            )
            value = one_row(con, f"SELECT {expr}")[0]
            if value is None:
                raise InputError("load.bad_as_of", value=str(as_of))
        return f"TIMESTAMP {sp.lit(value.isoformat(sep=' '))}"

    def _events(self, events_stg: str | None, cutoff: str) -> None:
        con = self.con
        if events_stg is None:
            con.execute("""CREATE OR REPLACE TABLE events (lead_id VARCHAR, lead_key INTEGER,
                activity VARCHAR, ts TIMESTAMP, seq BIGINT, pos INTEGER, occ INTEGER,
                lifecycle VARCHAR,
                mark VARCHAR, _file VARCHAR, _line BIGINT)""")
            return
        cols = [
            c
            for c in self._columns(events_stg)
            if not c.startswith("_") and c not in ("lead_id", "activity", "ts", "lifecycle")
        ]
        # activity is stored as an ENUM (a dictionary of the distinct names, sorted, so
        # ORDER BY activity still sorts by name): windows and per-lead lists then carry
        # one small integer per event instead of a string, 2–3× faster at 10M events.
        con.execute("DROP TYPE IF EXISTS activity_name")
        con.execute(f"""CREATE TYPE activity_name AS ENUM (
            SELECT DISTINCT activity FROM {events_stg}
            WHERE _reason IS NULL AND activity IS NOT NULL ORDER BY activity)""")
        # pos: the event's place (1, 2, …) in its lead's journey of complete events,
        # ordered by (ts, seq); NULL for incomplete lifecycle events. Events after the
        # close or the as-of date come last in that order, so the events that feed
        # milestones (mark IS NULL) are exactly positions 1..n: every analysis orders
        # by this one integer instead of sorting (ts, seq) again.
        mark = f"""CASE WHEN NOT {self._complete("e.")} THEN 'not_complete'
                     WHEN l.outcome IN ('won', 'lost') AND e.ts >= l.closed_at THEN 'after_close'
                     WHEN e.ts > {cutoff} OR l.mark = 'after_as_of' THEN 'after_as_of'
                END"""
        pos = """CASE WHEN mark IS DISTINCT FROM 'not_complete' THEN CAST(row_number() OVER (
                PARTITION BY lead_key, mark IS DISTINCT FROM 'not_complete'
                ORDER BY ts, seq) AS INTEGER) END"""
        # occ: the event's occurrence (1, 2, …) of its activity in its lead's usable
        # journey (mark IS NULL), in the same order; NULL for the other events. Every
        # milestone query reads "the k-th A" from it: numbered in the analyses, that
        # window sorted every event uncompressed and passed the spill cap at 100M.
        # Partitioned on the ENUM, not the name: a 1-byte key instead of a string.
        occ = """CASE WHEN mark IS NULL THEN CAST(row_number() OVER (
                PARTITION BY lead_key, activity, mark IS NULL
                ORDER BY ts, seq) AS INTEGER) END"""
        # The keys (seq, pos, mark) are computed on a narrow projection and joined back
        # to the staged rows by position: sorting the whole rows (ids, names, extra
        # columns) three times spilled past 29 GiB at 100M events. The table keeps the
        # staged rows' order: file order, but for the few rows a join in staging moves
        # (ORDER BY seq gives the source order; nothing reads the physical order).
        keys = f"{sp.STAGE}.event_keys"
        con.execute(f"""
            CREATE OR REPLACE TABLE {keys} AS
            SELECT rid, lead_key, seq, mark, {pos} AS pos, {occ} AS occ
            FROM (
              SELECT e.rowid AS rid, l.lead_key, e.ts,
                CAST(e.activity AS activity_name) AS activity, {mark} AS mark,
                row_number() OVER (ORDER BY e._file_idx, e._line) AS seq
              FROM {events_stg} e JOIN leads l USING (lead_id)
              WHERE e._reason IS NULL)
            ORDER BY rid""")
        con.execute(f"""
            CREATE OR REPLACE TABLE events AS
            SELECT e.lead_id,
              CASE WHEN e.rid = k.rid THEN k.lead_key
                   ELSE error('events: staged rows and their keys out of step') END
                AS lead_key,
              CAST(e.activity AS activity_name) AS activity, e.ts, k.seq, k.pos, k.occ,
              e.lifecycle, k.mark{"".join(f", e.{sp.ident(c)}" for c in cols)}, e._file, e._line
            FROM (SELECT rowid AS rid, * FROM {events_stg} WHERE _reason IS NULL) e
            POSITIONAL JOIN {keys} k""")

    def _notes(self, notes_stg: str | None, cutoff: str) -> None:
        con = self.con
        if notes_stg is None:
            con.execute("""CREATE OR REPLACE TABLE notes (lead_id VARCHAR, ts TIMESTAMP,
                text VARCHAR, author VARCHAR, mark VARCHAR, _file VARCHAR, _line BIGINT)""")
            return
        cols = [
            c
            for c in self._columns(notes_stg)
            if not c.startswith("_") and c not in ("lead_id", "ts", "text", "author")
        ]
        extra = "".join(f", n.{sp.ident(c)}" for c in cols)
        con.execute(f"""
            CREATE OR REPLACE TABLE notes AS
            SELECT n.lead_id, n.ts, n.text, n.author,
              CASE WHEN l.outcome IN ('won', 'lost') AND n.ts >= l.closed_at THEN 'after_close'
                   WHEN n.ts > {cutoff} OR l.mark = 'after_as_of' THEN 'after_as_of'
              END AS mark{extra},
              n._file, n._line
            FROM {notes_stg} n JOIN leads l USING (lead_id)
            WHERE n._reason IS NULL
            ORDER BY n._file_idx, n._line""")

    def _quarantine(self, tables: list[tuple[str, str | None]]) -> None:
        parts = [
            f"""SELECT {sp.lit(role)} AS table_name, _file_idx, _file AS file, _line AS line,
                _reason.reason AS reason, _reason.col AS column_name, _reason.val AS value,
                _raw AS raw
                FROM {t} WHERE _reason IS NOT NULL"""
            for role, t in tables
            if t is not None
        ]
        self.con.execute(f"""CREATE OR REPLACE TEMP TABLE quarantine_all AS
            SELECT * FROM ({" UNION ALL ".join(parts)}) ORDER BY _file_idx, line""")
        self.con.execute(
            "CREATE OR REPLACE TABLE quarantine AS SELECT * EXCLUDE (_file_idx) FROM quarantine_all"
        )

    def _files(self) -> None:
        counts = dict(
            self.con.execute(
                "SELECT _file_idx, count(*) FROM quarantine_all GROUP BY ALL"
            ).fetchall()
        )
        rows = []
        for s in self.staged:
            quarantined = counts.get(s.file_idx, 0)
            rows.append(
                (
                    s.file_idx,
                    s.role,
                    s.source,
                    s.kind,
                    s.encoding,
                    s.delimiter,
                    s.sheet,
                    s.preset,
                    s.rows,
                    s.rows - quarantined,
                    quarantined,
                    s.blank_rows,
                    "; ".join(f"{k}={v}" for k, v in s.cmap.describe().items()),
                )
            )
        self.con.execute("""CREATE OR REPLACE TABLE files (file_idx INT, table_name VARCHAR,
            file VARCHAR, kind VARCHAR, encoding VARCHAR, delimiter VARCHAR, sheet VARCHAR,
            preset VARCHAR, rows_read BIGINT, accepted BIGINT, quarantined BIGINT,
            blank_rows BIGINT, mapping VARCHAR)""")
        if rows:
            self.con.executemany(
                "INSERT INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
            )

    def _meta(self, cutoff: str, settings: Settings) -> None:
        from royalroad import __version__

        as_of = one_row(self.con, f"SELECT CAST({cutoff} AS VARCHAR)")[0]
        items = {
            "as_of": as_of,
            "tz": settings.tz,
            "mode": "log" if self.log_mode else "tables",
            "won": "\t".join(self.won),
            "lost": "\t".join(self.lost),
            "lifecycle": self.lifecycle,
            "royalroad_version": __version__,
        }
        if self.outliers.n:
            assert self.outliers.latest is not None
            items.update(
                future_n=str(self.outliers.n),
                future_latest=self.outliers.latest.isoformat(sep=" "),
                future_at=self.outliers.where or "",
                future_closes=str(self.outliers.closes),
            )
        self.con.execute("CREATE OR REPLACE TABLE meta (key VARCHAR, value VARCHAR)")
        self.con.executemany("INSERT INTO meta VALUES (?, ?)", sorted(items.items()))
