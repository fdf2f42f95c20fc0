"""A run of the web app: the ingest plan, the analysis options, progress and downloads.

No Streamlit here either. A run ingests into ``workspace.duckdb`` in the session
folder once; a re-run with other analysis settings but the same files and choices
(:meth:`Plan.fingerprint`) reuses that workspace instead of reading the files again.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from royalroad.app.logic import (
    ROLES,
    WORKSPACE,
    FileChoice,
    check_outcomes,
    display_name,
    mapping_toml,
    overrides,
    write_mapping,
)
from royalroad.errors import InputError

# Runs ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """Everything ingest needs; equal plans give the same workspace."""

    leads: tuple[str, ...]
    events: tuple[str, ...]
    notes: tuple[str, ...]
    won: tuple[str, ...]
    lost: tuple[str, ...]
    preset: str | None
    mapping: str | None
    mapping_text: str
    workspace: str

    @property
    def log_mode(self) -> bool:
        return not self.leads

    def fingerprint(self) -> str:
        return json.dumps(
            [
                self.leads,
                self.events,
                self.notes,
                self.won,
                self.lost,
                self.preset,
                self.mapping_text,
            ],
            ensure_ascii=False,
        )

    def ingest_kwargs(self) -> dict:
        return dict(
            leads=list(self.leads) or None,
            events=list(self.events) or None,
            notes=list(self.notes) or None,
            won=self.won,
            lost=self.lost,
            preset=self.preset,
            mapping=self.mapping,
            workspace=self.workspace,
        )


def make_plan(
    folder: str | Path,
    choices: Sequence[FileChoice],
    *,
    preset: str | None,
    won: Sequence[str] = (),
    lost: Sequence[str] = (),
    outcome_values: dict[str, Sequence[str]] | None = None,
) -> Plan:
    """Turn the user's choices into an ingest plan, writing the mapping file when needed.

    Leads mode (a leads file is among the uploads): ``outcome_values`` (won, lost,
    open) go into the mapping file. Event-log mode: ``won`` / ``lost`` activities.
    """
    by_role = {r: tuple(ch.info.path for ch in choices if ch.role == r) for r in ROLES}
    if not by_role["leads"] and not by_role["events"]:
        raise InputError("load.no_input")
    log_mode = not by_role["leads"]
    if log_mode:
        check_outcomes(won, lost)
    elif outcome_values:
        check_outcomes(*(outcome_values.get(cls, ()) for cls in ("won", "lost", "open")))
    cols = overrides(choices)
    values = None if log_mode else outcome_values
    text = mapping_toml(cols, outcome_values=values) if (cols or values) else ""
    path = str(write_mapping(folder, text)) if text else None
    return Plan(
        leads=by_role["leads"],
        events=by_role["events"],
        notes=by_role["notes"],
        won=tuple(won) if log_mode else (),
        lost=tuple(lost) if log_mode else (),
        preset=preset,
        mapping=path,
        mapping_text=text,
        workspace=str(Path(folder) / WORKSPACE),
    )


def workspace_path(folder: str | Path) -> Path:
    """The session's workspace file (written by the last run's ingest)."""
    return Path(folder) / WORKSPACE


def parse_windows(text: str) -> tuple[int, ...]:
    """``"7, 14, 30"`` → ``(7, 14, 30)``; empty → the default grid.

    >>> parse_windows(" 30,7 , 7"), parse_windows("")[:2]
    ((7, 30), (7, 14))
    """
    from royalroad.analysis.goals import DEFAULT_WINDOWS

    text_ = unicodedata.normalize("NFKC", text or "")
    parts = [p.strip() for p in re.split(r"[,、\s]+", text_) if p.strip()]
    if not parts:
        return DEFAULT_WINDOWS
    try:
        days = sorted({int(p) for p in parts})
    except ValueError:
        raise InputError("goal.bad_windows", value=text) from None
    if any(d <= 0 for d in days):
        raise InputError("goal.bad_windows", value=text)
    return tuple(days)


def options(
    *,
    adjust: Sequence[str] = (),
    max_count: int = 5,
    windows: str = "",
    pairs: int = 12,
    max_activities: int | None = None,
    anonymise: bool = False,
):
    """The :class:`~royalroad.pipeline.AnalysisOptions` of the settings form."""
    from royalroad.engine import DEFAULT_MAX_ACTIVITIES
    from royalroad.pipeline import AnalysisOptions, check_max_activities

    return AnalysisOptions(
        adjust=tuple(adjust),
        max_count=int(max_count),
        windows=parse_windows(windows),
        pairs=int(pairs),
        max_activities=check_max_activities(
            DEFAULT_MAX_ACTIVITIES if max_activities is None else int(max_activities)
        ),
        anonymise=bool(anonymise),
    )


STEPS = (
    "load.step.read",
    "load.step.validate",
    "load.step.build",
    "pipeline.step.quality",
    "goal.step",
    "paths.step",
    "nba.step",
    "funnel.step",
    "reps.step",
    "triggers.step",
    "backtest.step",
)
"""The ``on_step`` keys of ingest and analyse, in order; a key not listed still moves the bar."""


class StepProgress:
    """Maps the ``on_step`` keys of ingest and analyse to a rising fraction of the bar."""

    def __init__(self, *, ingest: bool = True) -> None:
        self.steps = STEPS if ingest else STEPS[3:]
        self.done = 0.0

    def __call__(self, key: str) -> float:
        if key in self.steps:
            frac = (self.steps.index(key) + 1) / (len(self.steps) + 1)
        else:
            frac = self.done + (1 - self.done) / 4
        self.done = max(self.done, frac)
        return self.done


@dataclass(frozen=True)
class RunOutcome:
    results: object
    segments: tuple[str, ...]
    ingested: bool


def run(
    plan: Plan, opts, *, reuse: bool, on_step: Callable[[str], None] | None = None
) -> RunOutcome:
    """Ingest (unless ``reuse`` and the workspace exists), analyse, close the workspace."""
    from royalroad.engine import open_workspace
    from royalroad.io.load import ingest
    from royalroad.pipeline import analyse

    ws_path = Path(plan.workspace)
    fresh = not (reuse and ws_path.exists())
    if fresh:
        for stale in (ws_path, ws_path.with_name(ws_path.name + ".wal")):
            stale.unlink(missing_ok=True)
        ws = ingest(**plan.ingest_kwargs(), on_step=on_step)
    else:
        ws = open_workspace(ws_path, read_only=True)
    try:
        results = analyse(ws, opts, on_step=on_step)
        segments = tuple(ws.segments())
    finally:
        ws.close()
    return RunOutcome(results, segments, fresh)


def with_upload_names(results, folder: str | Path):
    """Results whose file names are the uploaded names, not the session folder's paths."""
    q = results.quality
    files = tuple(replace(f, file=display_name(f.file, folder)) for f in q.files)
    reasons = tuple(replace(r, file=display_name(r.file, folder)) for r in q.reasons)
    return replace(results, quality=replace(q, files=files, reasons=reasons))


# Downloads ----------------------------------------------------------------------------


def report_html(results, lang: str) -> bytes:
    from royalroad.report.html import render_report

    return render_report(results, lang=lang).encode("utf-8")


def workbook(results, folder: str | Path, lang: str) -> bytes | None:
    """``royalroad.xlsx`` as bytes, or ``None`` when this build has no Excel writer."""
    try:
        from royalroad.report.excel import write_workbook
    except ImportError as exc:  # the Excel presenter is not part of this build (yet)
        if exc.name == "royalroad.report.excel":
            return None
        raise
    path = Path(folder) / f"royalroad-{lang}.xlsx"
    written = write_workbook(results, path, lang=lang)
    return Path(written or path).read_bytes()
