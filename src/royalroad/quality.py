"""Data quality of an ingest: what was read, accepted, quarantined and marked.

The one result every command prints first. It is computed from the workspace's
``files`` and ``quarantine`` tables and, for the canonical tables, with Ibis
aggregations executed in the engine.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

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
    con = ws.con
    have = {row[0] for row in con.execute("DESCRIBE files").fetchall()}
    # Workspaces written before the header search have no header columns.
    header = ", ".join(
        c if c in have else default
        for c, default in (
            ("header_line", "NULL"),
            ("preamble_rows", "0"),
            ("preamble_lines", "NULL"),
        )
    )
    files = tuple(
        FileSummary(*row)
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

    leads = ws.table("leads")
    events = ws.table("events")
    notes = ws.table("notes")
    by_outcome = dict(
        leads.group_by("outcome").agg(n=leads.count()).execute().itertuples(index=False)
    )
    marks = events.group_by("mark").agg(n=events.count()).execute()
    marked = {str(m): int(n) for m, n in marks.itertuples(index=False) if m is not None and m == m}
    total_events = int(marks["n"].sum()) if len(marks) else 0
    counted = events.filter(events.mark.isnull())
    activities = int(counted.activity.nunique().execute()) if total_events else 0
    lead_cols = {row[0] for row in con.execute("DESCRIBE leads").fetchall()}
    # fetchall, not fetchone: DuckDB 2.0 keeps a fetchone() result pending and then
    # refuses the next query on the connection
    later = (
        con.execute("SELECT count(*) FROM leads WHERE mark = 'after_as_of'").fetchall()[0][0]
        if "mark" in lead_cols
        else 0
    )
    early = counted.join(leads.select("lead_key", "created_at"), "lead_key")
    before = int(early.filter(early.ts < early.created_at).count().execute()) if total_events else 0
    meta = ws.meta()
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
    )
