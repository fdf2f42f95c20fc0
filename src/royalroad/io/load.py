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

import os
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import partial
from pathlib import Path

from royalroad.engine import Workspace, connect
from royalroad.errors import InputError
from royalroad.io.build import Builder, Staged
from royalroad.io.mapping import Preset, find_header, load_config, resolve, with_outcome_values
from royalroad.io.raw import line_ranges
from royalroad.io.readers import read_source
from royalroad.io.validate import Settings, stage

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
    table: str | None = None,
    encoding: str | None = None,
    tz: str = "UTC",
    dayfirst: bool = False,
    as_of: str | datetime | None = None,
    lifecycle: str = "complete",
    workspace: str | Path | None = None,
    on_step: Callable[[str], None] | None = None,
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
    encoding : str, optional
        Text files: a codec name (``cp932``, ``cp1252``, ``euc_jp``…) that overrides
        the detection for every CSV given. Other formats ignore it.
    tz : str
        Zone in which naive times are read and into which all times are normalised.
    as_of : str or datetime, optional
        What counts as open: leads closed after it are open, events after it are
        marked. Default: the latest timestamp in the data.
    lifecycle : {"complete", "all"}
        Which XES lifecycle transitions feed milestones.
    workspace : path, optional
        DuckDB file to store the tables in (in memory when omitted).

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
    _check_zone(tz)
    for option, paths in (
        ("--leads", lead_paths),
        ("--events", event_paths),
        ("--notes", note_paths),
    ):
        _check_given_once(option, paths)
    config: Preset | None = load_config(mapping) if mapping else None
    settings = Settings(tz=tz, dayfirst=dayfirst)
    won_t, lost_t = tuple(won), tuple(lost)
    log_mode = not lead_paths

    target = Path(workspace) if workspace else None
    # A workspace file is built under a scratch name and moved into place only when the
    # ingest succeeded: a failed run neither leaves a half-built file nor spoils the
    # workspace that was there before.
    scratch = target.with_name(target.name + ".partial") if target else None
    if scratch:
        _remove_db(scratch)
    con = connect(scratch)
    try:
        _load(
            con,
            step,
            lead_paths,
            event_paths,
            note_paths,
            sheet=sheet,
            table=table,
            encoding=encoding,
            preset=preset,
            config=config,
            won=won_t,
            lost=lost_t,
            settings=settings,
            log_mode=log_mode,
            lifecycle=lifecycle,
            as_of=as_of,
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
    return Workspace(connect(target), path=target)


def _remove_db(path: Path) -> None:
    for p in (path, path.with_name(path.name + ".wal")):
        p.unlink(missing_ok=True)


def _load(
    con,
    step,
    lead_paths,
    event_paths,
    note_paths,
    *,
    sheet,
    table,
    encoding,
    preset,
    config,
    won,
    lost,
    settings,
    log_mode,
    lifecycle,
    as_of,
) -> None:
    """Read and stage every source, then build the canonical tables in ``con``."""
    staged: list[Staged] = []
    headers: list[tuple[int, int | None, tuple[int, ...]]] = []  # file_idx, header line, title rows
    idx = 0
    step("load.step.read")
    for role, paths in (("leads", lead_paths), ("events", event_paths), ("notes", note_paths)):
        for path in paths:
            # The header is the row that names this role's columns, below any title rows.
            finder = partial(find_header, role=role, preset=preset, config=config)
            src = read_source(path, sheet=sheet, table=table, find_header=finder, encoding=encoding)
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
                if part_role == "leads":
                    cmap = with_outcome_values(cmap, won, lost)
                step("load.step.validate")
                name = stage(con, raw, cmap, file_idx=idx, settings=settings)
                staged.append(
                    Staged(
                        part_role,
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
                headers.append((idx, raw.header_line, raw.preamble_lines))
                idx += 1

    step("load.step.build")
    builder = Builder(con, staged, log_mode=log_mode, won=won, lost=lost, lifecycle=lifecycle)
    builder.build(as_of=as_of, settings=settings)
    _record_headers(con, headers)


def _record_headers(con, headers: list[tuple[int, int | None, tuple[int, ...]]]) -> None:
    """Add where each file's header is and which title rows above it were skipped to ``files``.

    Title rows are like blank rows: not data, so neither read nor quarantined, and
    ``rows_read == accepted + quarantined`` still holds; ``preamble_rows`` and
    ``preamble_lines`` (e.g. ``1–2``) say what was skipped.
    """
    con.execute("ALTER TABLE files ADD COLUMN header_line BIGINT")
    con.execute("ALTER TABLE files ADD COLUMN preamble_rows BIGINT DEFAULT 0")
    con.execute("ALTER TABLE files ADD COLUMN preamble_lines VARCHAR")
    rows = [(line, len(pre), line_ranges(pre) if pre else None, idx) for idx, line, pre in headers]
    if rows:
        con.executemany(
            "UPDATE files SET header_line = ?, preamble_rows = ?, preamble_lines = ? "
            "WHERE file_idx = ?",
            rows,
        )


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


def _check_zone(tz: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError("load.bad_tz", value=tz) from None
