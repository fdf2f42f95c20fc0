"""Ingest: read sources, validate them in the engine, store the canonical tables.

Two input shapes are accepted:

* **tables** — ``leads`` (one row per lead, with its outcome) plus ``events`` and
  optionally ``notes``;
* **an event log** — events only; the outcome comes from activities (``won=`` /
  ``lost=``): the close is the first outcome event and a lead with neither is open.
  XES trace attributes become lead columns (segments).

The result is a :class:`~royalroad.engine.Workspace` holding ``leads``, ``events``,
``notes``, ``quarantine``, ``files`` (row accounting per file) and ``meta``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path

from royalroad.engine import Workspace, attach_scratch, connect
from royalroad.errors import InputError
from royalroad.io import sqlparts as sp
from royalroad.io.build import Builder, Staged
from royalroad.io.footer import split_footer
from royalroad.io.guards import Limits, limits_from
from royalroad.io.mapping import (
    ColumnMap,
    Preset,
    check_repeated,
    find_header,
    japanese_headers,
    load_config,
    resolve,
    with_outcome_values,
)
from royalroad.io.raw import RawTable, line_ranges
from royalroad.io.readers import read_source
from royalroad.io.validate import Settings, open_values, stage
from royalroad.io.zone import check_zone, choose_zone

LIFECYCLES = ("complete", "all")


def _paths(value: str | Path | Sequence[str | Path] | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (str, Path)):
        return [str(value)]
    return [str(v) for v in value]


def ingest(
    leads: str | Path | Sequence[str | Path] | None = None,
    events: str | Path | Sequence[str | Path] | None = None,
    notes: str | Path | Sequence[str | Path] | None = None,
    *,
    won: Sequence[str] = (),
    lost: Sequence[str] = (),
    preset: str | None = None,
    mapping: str | Path | None = None,
    sheet: str | None = None,
    table: str | Mapping[str, str | None] | None = None,
    encoding: str | None = None,
    tz: str | None = None,
    dayfirst: bool = False,
    as_of: str | datetime | None = None,
    lifecycle: str = "complete",
    workspace: str | Path | None = None,
    on_step: Callable[[str], None] | None = None,
    max_file_mb: float | None = None,
    max_rows: int | None = None,
    max_columns: int | None = None,
    max_unzipped_mb: float | None = None,
    max_zip_ratio: float | None = None,
    memory_limit: str | None = None,
) -> Workspace:
    """Read, validate and store CRM data; return the workspace.

    Parameters
    ----------
    leads, events, notes : path, URL or list of them
        Sources for each canonical table. Without ``leads``, ``events`` is an event
        log and the outcome comes from ``won`` / ``lost`` activities.
    won, lost : list of str
        Event log: activities that close a lead as won / lost. Leads table: the
        outcome values meaning won / lost (overriding the preset).
    preset : str, optional
        ``canonical``, ``japanese``, ``salesforce``, ``hubspot``, ``maven``, ``xes``;
        detected when omitted.
    mapping : path, optional
        A TOML mapping file overriding single columns.
    table : str or mapping, optional
        DuckDB files and database URLs: the table to read. One name applies to every
        input; a mapping ``{"leads": "deals", "events": "activities"}`` names one per
        input, so one database feeds several inputs. A ``?table=`` in a URL wins.
    encoding : str, optional
        Text files: a codec name (``cp932``, ``cp1252``, ``euc_jp``…) that overrides
        the detection for every CSV given. Other formats ignore it.
    tz : str, optional
        Zone in which naive times are read and into which all times are normalised.
        Default (None): ``Asia/Tokyo`` when the columns have Japanese names (a
        Japanese export writes Japan time), else this machine's zone
        (:mod:`royalroad.io.zone`); the workspace's ``meta`` records which.
    as_of : str or datetime, optional
        What counts as open: leads closed after it are open, events after it are
        marked. Default: the latest timestamp in the data, leaving out future
        outliers (:mod:`royalroad.io.asof`).
    lifecycle : {"complete", "all"}
        Which XES lifecycle transitions feed milestones.
    workspace : path, optional
        DuckDB file to store the tables in (in memory when omitted).
    max_file_mb, max_rows, max_columns, max_unzipped_mb, max_zip_ratio : number, optional
        Resource guards on every input (:class:`~royalroad.io.guards.Limits`; None:
        the default): file size in MB (1024), rows per file (20,000,000), columns
        (2,000), what an xlsx or xes.gz unpacks to in MB (1024), and the compression
        ratio of any workbook part above 1 MB (100). Going over one is a one-line
        error naming the limit.
    memory_limit : str, optional
        What DuckDB may hold in memory before it spills to a temporary folder
        (``"4GB"``, ``"40%"``); default half of this machine's memory, at most 8 GB
        (:func:`royalroad.engine.default_memory_limit`).

    Examples
    --------
    >>> ws = ingest(leads="leads.csv", events="events.csv")  # doctest: +SKIP
    >>> ws.summary().accepted("leads")                        # doctest: +SKIP
    """
    step = on_step or (lambda _key: None)
    if lifecycle not in LIFECYCLES:
        raise InputError("load.bad_lifecycle", value=lifecycle, allowed=", ".join(LIFECYCLES))
    lead_paths, event_paths, note_paths = _paths(leads), _paths(events), _paths(notes)
    if not lead_paths and not event_paths:
        raise InputError("load.no_input")
    if tz is not None:
        check_zone(tz)
    limits = limits_from(max_file_mb, max_rows, max_columns, max_unzipped_mb, max_zip_ratio)
    for option, paths in (
        ("--leads", lead_paths),
        ("--events", event_paths),
        ("--notes", note_paths),
    ):
        _check_given_once(option, paths)
    tables = _tables(table)
    config: Preset | None = load_config(mapping) if mapping else None
    won_t, lost_t = tuple(won), tuple(lost)
    log_mode = not lead_paths

    target = Path(workspace) if workspace else None
    # A workspace file is built under a scratch name and moved into place only when the
    # ingest succeeded: a failed run neither leaves a half-built file nor spoils the
    # workspace that was there before.
    scratch = target.with_name(target.name + ".partial") if target else None
    if scratch:
        _remove_db(scratch)
    con = connect(scratch, memory_limit=memory_limit)
    try:
        with _staging(con):
            _load(
                con,
                step,
                lead_paths,
                event_paths,
                note_paths,
                sheet=sheet,
                tables=tables,
                encoding=encoding,
                preset=preset,
                config=config,
                won=won_t,
                lost=lost_t,
                tz=tz,
                dayfirst=dayfirst,
                log_mode=log_mode,
                lifecycle=lifecycle,
                as_of=as_of,
                limits=limits,
            )
        Workspace(con).check_learnable()
    except BaseException:
        con.close()
        if scratch:
            _remove_db(scratch)
        raise
    if target is None:
        # DuckDB 2.0 keeps a result opened by fetchone() pending, and then refuses
        # con.sql(...) on the connection ("unfinished result"): hand back an idle one.
        con.execute("SELECT 1").fetchall()
        return Workspace(con)
    con.close()
    assert scratch is not None  # a target always has its scratch file
    _remove_db(target)
    os.replace(scratch, target)
    return Workspace(connect(target, memory_limit=memory_limit), path=target)


_ROLES = ("leads", "events", "notes")


def _tables(table: str | Mapping[str, str | None] | None) -> dict[str, str | None]:
    """The table to read for each input role, from one name or a per-role mapping."""
    if table is None or isinstance(table, str):
        return dict.fromkeys(_ROLES, table)
    unknown = sorted(set(table) - set(_ROLES))
    if unknown:
        raise InputError("load.bad_table_role", role=unknown[0], allowed=", ".join(_ROLES))
    return {role: table.get(role) for role in _ROLES}


def _remove_db(path: Path) -> None:
    for p in (path, path.with_name(path.name + ".wal")):
        p.unlink(missing_ok=True)


@dataclass(frozen=True)
class _Pending:
    """A source read and mapped, waiting for the zone to be chosen before staging."""

    role: str
    raw: RawTable
    cmap: ColumnMap


@contextlib.contextmanager
def _staging(con) -> Iterator[None]:
    """Attach :data:`~royalroad.io.sqlparts.STAGE`, a database file in the temporary
    folder for the staging tables, and delete it when the build is done (or failed)."""
    folder = attach_scratch(con, sp.STAGE, "royalroad-stage-")
    try:
        yield
    finally:
        with contextlib.suppress(Exception):  # an invalidated database cannot detach
            con.execute(f"DETACH {sp.STAGE}")
        shutil.rmtree(folder, ignore_errors=True)


def _load(
    con,
    step,
    lead_paths,
    event_paths,
    note_paths,
    *,
    sheet,
    tables: Mapping[str, str | None],
    encoding,
    preset,
    config,
    won,
    lost,
    tz,
    dayfirst,
    log_mode,
    lifecycle,
    as_of,
    limits: Limits,
) -> None:
    """Read and map every source, choose the zone, stage them, build the tables in ``con``."""
    pending: list[_Pending | None] = []
    step("load.step.read")
    for role, paths in (("leads", lead_paths), ("events", event_paths), ("notes", note_paths)):
        for path in paths:
            # The header is the row that names this role's columns, below any title rows.
            finder = partial(find_header, role=role, preset=preset, config=config)
            src = read_source(
                path,
                sheet=sheet,
                table=tables[role],
                find_header=finder,
                encoding=encoding,
                limits=limits,
            )
            parts = [(role, src.table)]
            if src.traces is not None and role == "events":
                parts.append(("traces", src.traces))
            for part_role, raw in parts:
                cmap = resolve(
                    raw.columns,
                    part_role,
                    source=raw.source,
                    preset=_preset_for(part_role, preset, raw.kind),
                    config=config,
                )
                check_repeated(cmap, raw.columns, raw.renamed, source=raw.source)
                if part_role == "leads":
                    cmap = with_outcome_values(cmap, won, lost)
                # Report footers and total rows below the data are not data.
                pending.append(_Pending(part_role, split_footer(raw, cmap), cmap))

    # Naive times are in the zone the user names, else Japan time for a Japanese
    # export, else this machine's zone (royalroad.io.zone).
    zone, zone_source = choose_zone(
        tz, any(p is not None and japanese_headers(p.cmap) for p in pending)
    )
    settings = Settings(tz=zone, dayfirst=dayfirst)
    staged: list[Staged] = []
    details: list[_Details] = []
    for idx in range(len(pending)):
        item = pending[idx]
        assert item is not None
        pending[idx] = None  # the raw table is no longer needed once staged
        raw, cmap = item.raw, item.cmap
        step("load.step.validate")
        # leads are staged first: an event row of an accepted lead keeps no raw JSON
        accepted = [
            f"SELECT lead_id FROM {s.table} WHERE _reason IS NULL"
            for s in staged
            if s.role == "leads"
        ]
        known = " UNION ALL ".join(accepted) if accepted and not log_mode else None
        name = stage(con, raw, cmap, file_idx=idx, settings=settings, known_leads=known)
        staged.append(
            Staged(
                item.role,
                idx,
                raw.source,
                raw.kind,
                raw.encoding,
                raw.delimiter,
                raw.sheet,
                cmap.preset,
                raw.num_rows,
                raw.blank_rows,
                name,
                cmap,
            )
        )
        details.append(_Details.of(idx, raw, cmap))

    step("load.step.build")
    builder = Builder(con, staged, log_mode=log_mode, won=won, lost=lost, lifecycle=lifecycle)
    builder.build(as_of=as_of, settings=settings)
    _record_details(con, details)
    con.execute("INSERT INTO meta VALUES ('tz_source', ?)", [zone_source])


@dataclass(frozen=True)
class _Details:
    """What the ``files`` table says about a file beyond its row counts."""

    file_idx: int
    header_line: int | None
    preamble: tuple[int, ...]
    footer: tuple[int, ...]
    encoding_note: str | None
    open_values: list[tuple[str, int]]

    @classmethod
    def of(cls, idx: int, raw: RawTable, cmap: ColumnMap) -> _Details:
        return cls(
            idx,
            raw.header_line,
            raw.preamble_lines,
            raw.footer_lines,
            raw.encoding_note,
            open_values(raw, cmap),
        )


def _record_details(con, details: list[_Details]) -> None:
    """Add to ``files`` where each header is, the title rows above it and the footer
    rows below the data that were skipped, how the text was decoded, the outcome
    values read as open, and how many closes had no time of day.

    Title and footer rows are like blank rows: not data, so neither read nor
    quarantined, and ``rows_read == accepted + quarantined`` still holds;
    ``preamble_rows`` / ``preamble_lines`` and ``footer_rows`` / ``footer_lines``
    (e.g. ``1–2``) say what was skipped. ``open_values`` is a JSON list of
    ``[value, rows]``; ``closes_date_only`` counts the accepted won/lost leads whose
    close had no time and so stands for the end of its day.
    """
    for ddl in (
        "header_line BIGINT",
        "preamble_rows BIGINT DEFAULT 0",
        "preamble_lines VARCHAR",
        "footer_rows BIGINT DEFAULT 0",
        "footer_lines VARCHAR",
        "encoding_note VARCHAR",
        "open_values VARCHAR",
        "closes_date_only BIGINT DEFAULT 0",
    ):
        con.execute(f"ALTER TABLE files ADD COLUMN {ddl}")
    rows = [
        (
            d.header_line,
            len(d.preamble),
            line_ranges(d.preamble) if d.preamble else None,
            len(d.footer),
            line_ranges(d.footer) if d.footer else None,
            d.encoding_note,
            json.dumps(d.open_values, ensure_ascii=False) if d.open_values else None,
            d.file_idx,
        )
        for d in details
    ]
    if rows:
        con.executemany(
            "UPDATE files SET header_line = ?, preamble_rows = ?, preamble_lines = ?, "
            "footer_rows = ?, footer_lines = ?, encoding_note = ?, open_values = ? "
            "WHERE file_idx = ?",
            rows,
        )
    # A date-only close is stored as the last instant of its day (sqlparts.END_OF_DAY).
    con.execute("""
        UPDATE files SET closes_date_only = c.n FROM (
            SELECT _file, count(*) AS n FROM leads
            WHERE outcome IN ('won', 'lost')
              AND CAST(closed_at AS TIME) = TIME '23:59:59.999999'
            GROUP BY _file) c
        WHERE files.file = c._file AND files.table_name = 'leads'""")


def _preset_for(role: str, preset: str | None, kind: str) -> str | None:
    """XES trace attributes always map through the xes preset; the rest as asked or detected."""
    if role == "traces":
        return "xes"
    return preset


def _check_given_once(option: str, paths: list[str]) -> None:
    """The same file twice for one table would silently double its events."""
    seen: set[str] = set()
    for path in paths:
        p = Path(path)
        key = str(p.resolve()) if p.exists() else path
        if key in seen:
            raise InputError("load.same_file_twice", file=path, option=option)
        seen.add(key)
