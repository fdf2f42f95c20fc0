"""Data quality of an ingest: what was read, accepted, quarantined and marked.

The one result every command prints first. It is computed from the workspace's
``files`` and ``quarantine`` tables and, for the canonical tables, with Ibis
aggregations executed in the engine.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields

import pandas as pd

from royalroad.engine import Workspace

EXAMPLES_PER_REASON = 3


@dataclass(frozen=True)
class FileSummary:
    table: str
    file: str
    kind: str
    encoding: str | None
    delimiter: str | None
    sheet: str | None
    preset: str
    mapping: str
    rows_read: int
    accepted: int
    quarantined: int
    blank_rows: int
    header_line: int | None = None
    preamble_rows: int = 0
    preamble_lines: str | None = None
    """Title rows above the header, skipped like blank rows (not read), e.g. ``"1–2"``."""
    footer_rows: int = 0
    footer_lines: str | None = None
    """Footer and total rows below the data, skipped like title rows, e.g. ``"43–44"``."""
    encoding_note: str | None = None
    """``"bom_mismatch"``: a UTF-8 byte-order mark before a CP932 body, read as CP932."""
    open_values: str | None = None
    """Outcome values read as open only because unknown values are open, with their rows,
    most frequent first: ``"見積提出済 (12), ヒアリング (8)"``."""
    closes_date_only: int = 0
    """Won/lost leads whose close had no time of day: read as the end of that day."""


@dataclass(frozen=True)
class Example:
    line: int
    column: str | None
    value: str | None
    raw: str


@dataclass(frozen=True)
class ReasonCount:
    table: str
    file: str
    reason: str
    count: int
    examples: tuple[Example, ...]


@dataclass(frozen=True)
class CloseDay:
    """Events before the close that fall on the day of a date-only close."""

    events: int = 0
    """Counted events of leads with a date-only close, on the close day."""
    counted: int = 0
    """All counted events of those leads."""
    activities: tuple[tuple[str, int, int], ...] = ()
    """(activity, on the close day, all) for activities mostly on the close day."""

    @property
    def share(self) -> float:
        return self.events / self.counted if self.counted else 0.0

    @property
    def many(self) -> bool:
        """Worth a warning: 5 % of those events or more, or an activity mostly that day."""
        return bool(self.activities) or (self.events >= 5 and self.share >= 0.05)


@dataclass(frozen=True)
class Future:
    """Timestamps the default as-of date left out (royalroad.io.asof)."""

    n: int = 0
    latest: str | None = None
    at: str | None = None
    closes: int = 0


@dataclass(frozen=True)
class IngestSummary:
    """Row accounting and content of a workspace.

    ``rows_read == accepted + quarantined`` holds for every file.
    """

    files: tuple[FileSummary, ...]
    reasons: tuple[ReasonCount, ...]
    leads: int
    won: int
    lost: int
    open: int
    events: int
    events_counted: int
    events_marked: dict[str, int]
    notes: int
    activities: int
    segments: tuple[str, ...]
    as_of: str
    tz: str
    mode: str
    leads_after_as_of: int = 0
    """Leads created after the as-of date: kept in the workspace, left out of the analyses
    (and of ``leads`` / ``won`` / ``lost`` / ``open`` here)."""
    events_before_created: int = 0
    """Events that feed milestones but are dated before their lead's creation (the lead
    record was often created after the first contact): kept, counted from day 0 back."""
    tz_source: str | None = None
    """Why naive times were read in ``tz``: ``option``, ``headers`` (Japanese column
    names: Japan time) or ``machine`` (this computer's zone); None for old workspaces."""
    future: Future = Future()
    close_day: CloseDay = CloseDay()

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files)

    @property
    def quarantined(self) -> int:
        return sum(f.quarantined for f in self.files)

    def accepted(self, table: str | None = None) -> int:
        return sum(f.accepted for f in self.files if table is None or f.table == table)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["rows_read"] = self.rows_read
        d["quarantined"] = self.quarantined
        return d

    def to_frame(self) -> pd.DataFrame:
        """One row per file: rows read, accepted, quarantined."""
        return pd.DataFrame([asdict(f) for f in self.files])

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2, sort_keys=True, default=str)


def summarise(ws: Workspace) -> IngestSummary:
    """Summarise a workspace's ingest (read/accepted/quarantined, outcomes, marks)."""
    from royalroad.remote import RemoteWorkspace
    from royalroad.remote import summarise as remote_summary

    if isinstance(ws, RemoteWorkspace):  # tables on Spark or a warehouse
        return remote_summary(ws)
    con = ws.con
    have = {row[0] for row in con.execute("DESCRIBE files").fetchall()}
    # Workspaces written by older versions lack the later columns.
    header = ", ".join(
        c if c in have else default
        for c, default in (
            ("header_line", "NULL"),
            ("preamble_rows", "0"),
            ("preamble_lines", "NULL"),
            ("footer_rows", "0"),
            ("footer_lines", "NULL"),
            ("encoding_note", "NULL"),
            ("open_values", "NULL"),
            ("closes_date_only", "0"),
        )
    )
    files = tuple(
        _file_summary(row)
        for row in con.execute(
            "SELECT table_name, file, kind, encoding, delimiter, sheet, preset, mapping, "
            f"rows_read, accepted, quarantined, blank_rows, {header} FROM files ORDER BY file_idx"
        ).fetchall()
    )
    reason_rows = con.execute(
        "SELECT table_name, file, reason, count(*) AS n, min(rowid) FROM quarantine "
        "GROUP BY ALL ORDER BY n DESC, table_name, file, reason"
    ).fetchall()
    reasons = []
    for table, file, reason, n, _ in reason_rows:
        ex = con.execute(
            "SELECT line, column_name, value, raw FROM quarantine "
            "WHERE table_name = ? AND file = ? AND reason = ? ORDER BY line LIMIT ?",
            [table, file, reason, EXAMPLES_PER_REASON],
        ).fetchall()
        reasons.append(ReasonCount(table, file, reason, n, tuple(Example(*e) for e in ex)))

    events = ws.table("events")
    notes = ws.table("notes")
    lead_cols = {row[0] for row in con.execute("DESCRIBE leads").fetchall()}
    # Leads in SQL, not through Ibis: a leads table may carry thousands of segment
    # columns, and Ibis reads the whole schema of every table it is given. Leads
    # created after the as-of date are left out, as Workspace.table does.
    existing = "WHERE mark IS NULL" if "mark" in lead_cols else ""
    by_outcome = dict(
        con.execute(f"SELECT outcome, count(*) FROM leads {existing} GROUP BY ALL").fetchall()
    )
    marks = events.group_by("mark").agg(n=events.count()).execute()
    marked = {str(m): int(n) for m, n in marks.itertuples(index=False) if m is not None and m == m}
    total_events = int(marks["n"].sum()) if len(marks) else 0
    counted = events.filter(events.mark.isnull())
    activities = int(counted.activity.nunique().execute()) if total_events else 0
    # fetchall, not fetchone: DuckDB 2.0 keeps a fetchone() result pending and then
    # refuses the next query on the connection
    later = (
        con.execute("SELECT count(*) FROM leads WHERE mark = 'after_as_of'").fetchall()[0][0]
        if "mark" in lead_cols
        else 0
    )
    before = (
        con.execute(
            "SELECT count(*) FROM events e JOIN leads l USING (lead_id) "
            "WHERE e.mark IS NULL AND e.ts < l.created_at"
        ).fetchall()[0][0]
        if total_events
        else 0
    )
    meta = ws.meta()
    future = Future(
        n=int(meta.get("future_n", 0)),
        latest=meta.get("future_latest"),
        at=meta.get("future_at"),
        closes=int(meta.get("future_closes", 0)),
    )
    close_day = (
        _close_day(con) if total_events and any(f.closes_date_only for f in files) else CloseDay()
    )
    return IngestSummary(
        files=files,
        reasons=tuple(reasons),
        leads=int(sum(by_outcome.values())),
        won=int(by_outcome.get("won", 0)),
        lost=int(by_outcome.get("lost", 0)),
        open=int(by_outcome.get("open", 0)),
        events=total_events,
        events_counted=total_events - sum(marked.values()),
        events_marked=dict(sorted(marked.items())),
        notes=int(notes.count().execute()),
        activities=activities,
        segments=tuple(ws.segments()),
        as_of=meta["as_of"],
        tz=meta["tz"],
        mode=meta["mode"],
        leads_after_as_of=int(later),
        events_before_created=before,
        tz_source=meta.get("tz_source"),
        future=future,
        close_day=close_day,
    )


def _file_summary(row: tuple) -> FileSummary:
    names = [f.name for f in fields(FileSummary)]
    values = dict(zip(names, row, strict=True))
    opened = values["open_values"]
    if opened:
        pairs = json.loads(opened)
        shown = ", ".join(f"{v} ({n:,})" for v, n in pairs[:MAX_OPEN_VALUES])
        more = len(pairs) - MAX_OPEN_VALUES
        values["open_values"] = shown + (f", … (+{more})" if more > 0 else "")
    return FileSummary(**values)


MAX_OPEN_VALUES = 8
"""Open stage values listed by name in the summary; the rest are counted."""


MOSTLY = 0.5
"""An activity "mostly" on the close day: at least half its occurrences (and 5 or more)."""


def _close_day(con) -> CloseDay:
    """Events of leads with a date-only close that fall on the close day itself.

    A date-only close stands for the end of its day (``io.sqlparts.END_OF_DAY``), so
    that day's calls and mails count before the close; but an activity that is the
    close itself (契約締結, "contract signed") then looks like a perfect goal. Counted
    over the events that feed milestones (``mark`` is null).
    """
    rows = con.execute("""
        SELECT CAST(e.activity AS VARCHAR) AS activity,
          count(*) FILTER (WHERE CAST(e.ts AS DATE) = CAST(l.closed_at AS DATE)) AS on_day,
          count(*) AS n
        FROM events e JOIN leads l USING (lead_key)
        WHERE e.mark IS NULL AND l.outcome IN ('won', 'lost')
          AND CAST(l.closed_at AS TIME) = TIME '23:59:59.999999'
        GROUP BY 1 ORDER BY 1""").fetchall()
    on_day = sum(r[1] for r in rows)
    counted = sum(r[2] for r in rows)
    mostly = sorted(
        ((a, d, n) for a, d, n in rows if d >= 5 and d >= MOSTLY * n),
        key=lambda r: (-r[1] / r[2], r[0]),
    )
    return CloseDay(on_day, counted, tuple(mostly))
