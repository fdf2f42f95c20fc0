"""Run every analysis that exists on a workspace and write the outputs.

Used by ``royalroad analyze``, ``royalroad demo`` and the web app: one place that
knows which analyses run, so the CLI, the app and the demo produce the same files.

Two guards keep a run bounded whatever the data:

* too few closed leads to learn from (:func:`check_enough_closed`) stops the run at
  once, in one line, before any analysis grinds through the events;
* at most ``max_activities`` activities are analysed one by one; the rarer ones are
  grouped into one "(other activities)" by the engine
  (:meth:`~royalroad.engine.Workspace.activity_cap`), so every analysis sees the
  same events, and a caveat says how many activities and events were grouped.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from royalroad import __version__
from royalroad.analysis.backtest import backtest as run_backtest
from royalroad.analysis.backtest_result import BacktestResult
from royalroad.analysis.funnel import funnel as run_funnel
from royalroad.analysis.funnel_result import FunnelResult
from royalroad.analysis.goals import (
    DEFAULT_MIN_LIFT,
    DEFAULT_MIN_MCC,
    DEFAULT_MIN_RECALL,
    DEFAULT_WINDOWS,
    MIN_CLOSED,
    MIN_PER_CLASS,
    discover_goals,
)
from royalroad.analysis.goals_result import Caveat, GoalResult
from royalroad.analysis.nba import NextResult, next_best_actions
from royalroad.analysis.paths import analyse_paths, shared_chain
from royalroad.analysis.paths_result import PathsResult
from royalroad.analysis.plan_result import PlanResult
from royalroad.analysis.reps import analyse_reps
from royalroad.analysis.reps_result import RepsResult
from royalroad.analysis.track_result import TrackResult
from royalroad.analysis.triggers import has_notes
from royalroad.analysis.triggers import triggers as run_triggers
from royalroad.analysis.triggers_result import TriggersResult
from royalroad.engine import DEFAULT_MAX_ACTIVITIES, ActivityGrouping, Workspace
from royalroad.errors import InputError
from royalroad.quality import IngestSummary, summarise


@dataclass(frozen=True)
class Results:
    """Everything one run found; each part renders to terminal, JSON, HTML and Excel."""

    quality: IngestSummary
    goals: GoalResult
    paths: PathsResult
    next: NextResult
    meta: dict[str, str]
    grouping: ActivityGrouping | None = None
    """Rare activities grouped into one (``--max-activities``), or None."""
    backtest: BacktestResult | None = None
    """How P(win) did as of an earlier date, when a backtest ran."""
    backtest_note: str = ""
    """Why no backtest ran (too little history), in the language of the run."""
    funnel: FunnelResult | None = None
    """The funnel along the royal road (stages, censored rates, cohorts, velocity)."""
    plan: PlanResult | None = None
    """The reverse plan from a revenue target, when one was given."""
    track: TrackResult | None = None
    """The pace against a plan file, when one was given."""
    reps: RepsResult | None = None
    """Reps (or any segment) compared fairly on the royal road; None without a rep column."""
    triggers: TriggersResult | None = None
    """Decision triggers in the notes against the outcome; None without notes."""
    triggers_note: str = ""
    """Why the notes were not mined (e.g. no Japanese tokenizer), in the run's language."""
    anonymiser: Any = None
    """With ``anonymise``: the labels, applied once more to the text of every file written."""

    def to_dict(self) -> dict:
        return {
            "royalroad_version": __version__,
            "as_of": self.meta.get("as_of"),
            "tz": self.meta.get("tz"),
            "quality": self.quality.to_dict(),
            "activity_grouping": self.grouping.to_dict() if self.grouping else None,
            "goals": self.goals.to_dict(),
            "paths": self.paths.to_dict(),
            "next": self.next.to_dict(limit=JSON_LEADS, leads_file=LEADS_FILE),
            "backtest": self.backtest.to_dict() if self.backtest else None,
            "backtest_note": self.backtest_note or None,
            "funnel": self.funnel.to_dict() if self.funnel else None,
            "plan": self.plan.to_dict() if self.plan else None,
            "track": self.track.to_dict() if self.track else None,
            "reps": self.reps.to_dict() if self.reps else None,
            "triggers": self.triggers.to_dict() if self.triggers else None,
            "triggers_note": self.triggers_note or None,
        }

    def to_json(self) -> str:
        text = json.dumps(self.to_dict(), ensure_ascii=False, indent=2, sort_keys=True, default=str)
        if self.anonymiser is not None:  # names in free text too (notes' authors …)
            text = self.anonymiser.text(text)
        return text + "\n"


JSON_LEADS = 1_000
"""Open leads results.json lists (this week's first); past it ``next.leads_total`` and
``next.leads_file`` point to the CSV beside it, which has them all."""
LEADS_FILE = "next_actions.parquet"
"""Every open lead's next action, written beside the report (:func:`write_leads`)."""


DEMO_LANG = "ja"
"""The demo's data is a Japanese CRM export: its report opens in Japanese."""


@dataclass(frozen=True)
class AnalysisOptions:
    """Knobs of every analysis, shared by the CLI, the app and the demo."""

    adjust: tuple[str, ...] = ()
    not_proxy: tuple[str, ...] = ()
    max_count: int = 5
    windows: tuple[int, ...] = DEFAULT_WINDOWS
    pairs: int = 12
    alpha: float = 0.05
    min_lift: float = DEFAULT_MIN_LIFT
    min_recall: float = DEFAULT_MIN_RECALL
    min_mcc: float = DEFAULT_MIN_MCC
    order: int = 1
    min_evidence: int = 10
    owner: str | None = None
    max_activities: int = DEFAULT_MAX_ACTIVITIES
    """Activities analysed one by one (the most frequent); 0 keeps every activity."""
    backtest: bool = True
    """Rebuild P(win) as of ``backtest_as_of`` and score it, and recalibrate today's
    P(win) when that helps out of fold (see :mod:`royalroad.analysis.backtest`)."""
    backtest_as_of: str | None = None
    """The backtest's cut-off; default 90 days before the data's as-of date."""
    target: float | None = None
    """Revenue target: with it, the reverse plan (:func:`royalroad.analysis.plan.plan`)."""
    period: str | None = None
    """The plan's period, ``2026-04..2027-03``; default the twelve months after the data."""
    plan_by: str = "month"
    """The plan's periods: ``month`` or ``quarter``."""
    benchmark: str | None = None
    """Industry preset (``saas``, ``manufacturing``, ``education``, ``consulting``) whose
    article figures the team's rates are compared with in the plan."""
    track: Any = None
    """A plan file (path, dict or PlanFile) to track the pace against."""
    reps_by: str | None = None
    """The column reps are compared by (default: the owner column found by name)."""
    anonymise: bool = False
    """Replace rep and owner names with stable labels (Rep A …) in every output."""
    triggers_file: str | Path | None = None
    """A trigger dictionary (YAML) instead of the default one."""
    snippets: bool = True
    """Show masked example sentences of the notes (False: none at all)."""


def check_max_activities(value: int) -> int:
    if value < 0:
        raise InputError("engine.bad_max_activities", value=value)
    return value


def check_enough_closed(ws: Workspace) -> None:
    """Stop at once when there are too few closed leads to learn a win from.

    The same floor as the goal search's "too few closed leads" (at least
    ``MIN_CLOSED`` closed, ``MIN_PER_CLASS`` won and lost): below it no goal, path
    probability or next action would be more than noise, and the analyses would
    still read every event to find that out. One small query on ``leads``.
    """
    won, lost, _ = ws.outcome_counts()
    closed = won + lost
    if closed < MIN_CLOSED or won < MIN_PER_CLASS or lost < MIN_PER_CLASS:
        raise InputError(
            "pipeline.too_few_closed",
            source=", ".join(ws.sources()) or "-",
            closed=closed,
            won=won,
            lost=lost,
            min_closed=MIN_CLOSED,
            min_class=MIN_PER_CLASS,
        )


def grouping_caveat(grouping: ActivityGrouping) -> Caveat:
    """The caveat every output shows when rare activities were grouped."""
    return Caveat(
        "engine.caveat.grouped",
        {
            "grouped_activities": grouping.grouped_activities,
            "grouped_events": grouping.grouped_events,
            "label": grouping.label,
            "kept": len(grouping.kept),
            "activities": grouping.activities,
        },
    )


def with_grouping(goals: GoalResult, grouping: ActivityGrouping | None) -> GoalResult:
    """``goals`` with the grouping caveat added (the report, workbook, terminal and app
    all show the goal search's caveats)."""
    if grouping is None:
        return goals
    return replace(goals, caveats=(*goals.caveats, grouping_caveat(grouping)))


def never_advised(avoid: Sequence[str], grouping: ActivityGrouping | None) -> list[str]:
    """Activities never to advise: ``avoid`` plus the grouped "(other activities)",
    which stays in the journeys but is no step anyone can take."""
    out = list(avoid)
    if grouping is not None and grouping.label not in out:
        out.append(grouping.label)
    return out


def analyse(
    ws: Workspace,
    options: AnalysisOptions | None = None,
    *,
    on_step: Callable[[str], None] | None = None,
) -> Results:
    """Run every analysis that exists on ``ws``.

    Raises :class:`~royalroad.errors.InputError` at once when there are too few
    closed leads to learn from (:func:`check_enough_closed`).
    """
    opts = options or AnalysisOptions()
    check_max_activities(opts.max_activities)
    step = on_step or (lambda _k: None)
    check_enough_closed(ws)
    step("pipeline.step.quality")
    quality = summarise(ws)
    with ws.activity_cap(opts.max_activities) as grouping:
        step("goal.step")
        goals = discover_goals(
            ws,
            max_count=opts.max_count,
            windows=opts.windows,
            pairs=opts.pairs,
            adjust=opts.adjust,
            not_proxy=opts.not_proxy,
            alpha=opts.alpha,
            min_lift=opts.min_lift,
            min_recall=opts.min_recall,
            min_mcc=opts.min_mcc,
        )
        proxies = [p.activity for p in goals.proxies]
        avoid = never_advised(goals.avoided(), grouping)
        step("paths.step")
        # paths and next actions read the same chain of journeys: built once
        with shared_chain(ws, goal=goals.recommended, exclude=proxies) as chain:
            paths = analyse_paths(
                ws,
                goal=goals.recommended,
                exclude=proxies,
                avoid=avoid,
                order=opts.order,
                chain=chain,
            )
            step("nba.step")
            nxt = next_best_actions(
                ws,
                goal=goals.recommended,
                exclude=proxies,
                avoid=avoid,
                road=[s.activity for s in paths.royal_road],
                min_evidence=opts.min_evidence,
                owner=opts.owner,
                chain=chain,
            )
        step("funnel.step")
        # cohorts by the first lead column adjusted for: the segment the user cares about
        by = next((a for a in opts.adjust if a in ws.segments()), None)
        funnel = run_funnel(ws, goals=goals, paths=paths, by=by)
        step("reps.step")
        try:
            reps = analyse_reps(ws, by=opts.reps_by, adjust=opts.adjust, goals=goals, paths=paths)
        except InputError:
            if opts.reps_by:  # asked for by name: the user must know
                raise
            reps = None  # no rep column: the report has no reps section
        trig, trig_note = None, ""
        if has_notes(ws):
            step("triggers.step")
            try:
                trig = run_triggers(
                    ws,
                    dictionary=opts.triggers_file,
                    alpha=opts.alpha,
                    snippets=opts.snippets,
                    goals=goals,
                    goal_options={
                        "max_count": opts.max_count,
                        "windows": opts.windows,
                        "pairs": opts.pairs,
                        "adjust": opts.adjust,
                        "not_proxy": opts.not_proxy,
                        "alpha": opts.alpha,
                        "min_lift": opts.min_lift,
                        "min_recall": opts.min_recall,
                        "min_mcc": opts.min_mcc,
                    },
                )
            except InputError as exc:
                if exc.key.startswith("triggers.yaml") or opts.triggers_file is not None:
                    raise
                trig_note = str(exc)  # e.g. no Japanese tokenizer: the report says why
    result, note = None, ""
    if opts.backtest:
        step("backtest.step")
        try:
            result = run_backtest(
                ws,
                opts.backtest_as_of,
                adjust=opts.adjust,
                min_evidence=opts.min_evidence,
                max_activities=opts.max_activities,
            )
        except InputError as exc:
            if opts.backtest_as_of is not None:  # asked for by date: the user must know
                raise
            note = str(exc)  # too little history: the report says why there is none
        if result is not None:
            nxt = nxt.recalibrated(result.recalibration)
    planned, tracked = None, None
    if opts.target is not None:
        from royalroad.analysis.plan import plan as run_plan

        step("plan.step.plan")
        planned = run_plan(
            ws,
            target=opts.target,
            period=opts.period,
            by=opts.plan_by,
            goals=goals,
            actions=nxt,
            preset=opts.benchmark,
        )
    if opts.track is not None:
        from royalroad.analysis.track import track as run_track

        step("plan.step.track")
        tracked = run_track(ws, opts.track, goals=goals, actions=nxt)
    results = Results(
        quality=quality,
        goals=with_grouping(goals, grouping),
        paths=paths,
        next=nxt,
        meta=ws.meta(),
        grouping=grouping,
        backtest=result,
        backtest_note=note,
        funnel=funnel,
        plan=planned,
        track=tracked,
        reps=reps,
        triggers=trig,
        triggers_note=trig_note,
    )
    return anonymised(results) if opts.anonymise else results


def anonymised(results: Results) -> Results:
    """``results`` with every rep and owner name replaced by a stable label (sorted order
    of the names: the same person keeps the same letter from run to run)."""
    from royalroad.analysis.reps_anon import Anonymiser

    names = list(results.next.owners()) if results.next is not None else []
    if results.reps is not None:
        names += [r.rep for r in results.reps.reps]
    people = results.reps.is_owner if results.reps is not None else True
    anon = Anonymiser.from_names(names, people=people)
    column = results.reps.by if results.reps is not None else None
    return replace(anon.results(results, column=column), anonymiser=anon)


def write_outputs(results: Results, out: Path, *, lang: str | None = None) -> dict[str, Path]:
    """Write ``results.json``, ``report.html`` and ``royalroad.xlsx`` into ``out``.

    Returns label → path."""
    from royalroad.report.excel import write_workbook
    from royalroad.report.html import render_report

    out.mkdir(parents=True, exist_ok=True)
    json_path = out / "results.json"
    json_path.write_text(results.to_json(), encoding="utf-8")
    html_path = out / "report.html"
    html_path.write_text(render_report(results, lang=lang), encoding="utf-8")
    return {
        "pipeline.out.report": html_path,
        "pipeline.out.results": json_path,
        "excel.out.workbook": write_workbook(results, out, lang=lang),
        "pipeline.out.next_actions": write_leads(results, out, lang=lang),
    }


def write_leads(results: Results, out: Path, *, lang: str | None = None) -> Path:
    """Every open lead's next action as Parquet, beside the workbook and results.json
    (which list only this week's first): the per-lead columns of results.json's
    ``next.leads`` with the state label and the reason in ``lang``, built column by
    column (rendering 200k leads row by row took 20 s; ``royalroad next --format csv``
    writes the CRM hand-off CSV)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    nxt = results.next
    table = nxt.leads
    s = table.column("s").to_pylist()
    labels = {a.s: a.label(lang) for a in nxt.advice}
    reasons = {a.s: a.best.reason(lang) if a.best else None for a in nxt.advice}
    keep = [c for c in table.column_names if c != "s" and not c.startswith(("adj_", "seg_"))]
    table = table.select(keep)
    table = table.append_column("state", pa.array([labels.get(v) for v in s], pa.string()))
    table = table.append_column("reason", pa.array([reasons.get(v) for v in s], pa.string()))
    path = out / LEADS_FILE
    pq.write_table(table, path)
    return path


@dataclass(frozen=True)
class Demo:
    """What ``royalroad demo`` made: the files, and the results behind the headline."""

    written: dict[str, Path]
    results: Results


DEMO_GROWTH = 1.2
"""The demo plans for the twelve months after the data with this growth on the last
twelve months' won revenue: the plan section shows what 20% more would take."""


def demo_target(ws: Workspace) -> float | None:
    """The demo's revenue target: ``DEMO_GROWTH`` × the revenue won in the year before
    the as-of date (None when nothing was won then)."""
    sql = (
        "SELECT sum(amount) FROM leads WHERE outcome = 'won' "
        "AND closed_at > ?::TIMESTAMP - INTERVAL 365 DAY AND closed_at <= ?::TIMESTAMP"
    )
    # fetchall, not fetchone: DuckDB 2.0 keeps a fetchone() result pending
    won = ws.con.execute(sql, [ws.as_of, ws.as_of]).fetchall()[0][0]
    return round(DEMO_GROWTH * float(won), -6) if won else None


def run_demo(
    out: Path,
    *,
    scenario: str = "manufacturing",
    leads: int = 5000,
    seed: int = 42,
    lang: str | None = None,
    on_step: Callable[[str], None] | None = None,
) -> Demo:
    """Simulate → ingest into ``out/workspace.duckdb`` → analyse → write the report.

    The report and workbook open in ``lang``, by default Japanese: the simulated data
    is a Japanese CRM export (the report holds English too, one click away)."""
    from royalroad.engine import check_not_in_use
    from royalroad.io.load import ingest
    from royalroad.simulate import simulate

    step = on_step or (lambda _k: None)
    ws_path = out / "workspace.duckdb"
    check_not_in_use(ws_path)
    step("pipeline.step.simulate")
    data_dir = out / "data"
    data = simulate(scenario, leads=leads, seed=seed)
    data.write(data_dir)
    for stale in (ws_path, ws_path.with_suffix(".duckdb.wal")):
        stale.unlink(missing_ok=True)
    ws = ingest(
        leads=data_dir / "leads.csv",
        events=data_dir / "events.csv",
        notes=data_dir / "notes.csv",
        tz="Asia/Tokyo",  # the simulated company is in Japan: the same bytes on every machine
        workspace=ws_path,
        on_step=on_step,
    )
    with ws:
        segments = [s for s in ("industry",) if s in ws.segments()]
        options = AnalysisOptions(adjust=tuple(segments), target=demo_target(ws))
        results = analyse(ws, options, on_step=on_step)
    written = write_outputs(results, out, lang=lang or DEMO_LANG)
    return Demo(
        {"pipeline.out.data": data_dir, "pipeline.out.workspace": ws_path, **written}, results
    )
