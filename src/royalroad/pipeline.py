"""Run every analysis that exists on a workspace and write the outputs.

Used by ``royalroad demo`` (and later ``royalroad analyze``): one place that knows
which analyses run, so the CLI, the app and the demo produce the same files.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from royalroad import __version__
from royalroad.analysis.goals import (
    DEFAULT_MIN_LIFT,
    DEFAULT_MIN_MCC,
    DEFAULT_MIN_RECALL,
    DEFAULT_WINDOWS,
    discover_goals,
)
from royalroad.analysis.goals_result import GoalResult
from royalroad.analysis.nba import NextResult, next_best_actions
from royalroad.analysis.paths import analyse_paths
from royalroad.analysis.paths_result import PathsResult
from royalroad.engine import Workspace
from royalroad.quality import IngestSummary, summarise


@dataclass(frozen=True)
class Results:
    """Everything one run found; each part renders to terminal, JSON, HTML and Excel."""

    quality: IngestSummary
    goals: GoalResult
    paths: PathsResult
    next: NextResult
    meta: dict[str, str]

    def to_dict(self) -> dict:
        return {
            "royalroad_version": __version__,
            "as_of": self.meta.get("as_of"),
            "tz": self.meta.get("tz"),
            "quality": self.quality.to_dict(),
            "goals": self.goals.to_dict(),
            "paths": self.paths.to_dict(),
            "next": self.next.to_dict(),
        }

    def to_json(self) -> str:
        return (
            json.dumps(self.to_dict(), ensure_ascii=False, indent=2, sort_keys=True, default=str)
            + "\n"
        )


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


def analyse(
    ws: Workspace,
    options: AnalysisOptions | None = None,
    *,
    on_step: Callable[[str], None] | None = None,
) -> Results:
    """Run every analysis that exists on ``ws``."""
    opts = options or AnalysisOptions()
    step = on_step or (lambda _k: None)
    step("pipeline.step.quality")
    quality = summarise(ws)
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
    confounded = goals.avoided()
    step("paths.step")
    paths = analyse_paths(
        ws, goal=goals.recommended, exclude=proxies, avoid=confounded, order=opts.order
    )
    step("nba.step")
    nxt = next_best_actions(
        ws,
        goal=goals.recommended,
        exclude=proxies,
        avoid=confounded,
        road=[s.activity for s in paths.royal_road],
        min_evidence=opts.min_evidence,
        owner=opts.owner,
    )
    return Results(quality=quality, goals=goals, paths=paths, next=nxt, meta=ws.meta())


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
    }


def run_demo(
    out: Path,
    *,
    scenario: str = "manufacturing",
    leads: int = 5000,
    seed: int = 42,
    lang: str | None = None,
    on_step: Callable[[str], None] | None = None,
) -> dict[str, Path]:
    """Simulate → ingest into ``out/workspace.duckdb`` → analyse → write the report.

    The report and workbook open in ``lang``, by default Japanese: the simulated data
    is a Japanese CRM export (the report holds English too, one click away)."""
    from royalroad.io.load import ingest
    from royalroad.simulate import simulate

    step = on_step or (lambda _k: None)
    step("pipeline.step.simulate")
    data_dir = out / "data"
    data = simulate(scenario, leads=leads, seed=seed)
    data.write(data_dir)
    ws_path = out / "workspace.duckdb"
    for stale in (ws_path, ws_path.with_suffix(".duckdb.wal")):
        stale.unlink(missing_ok=True)
    ws = ingest(
        leads=data_dir / "leads.csv",
        events=data_dir / "events.csv",
        notes=data_dir / "notes.csv",
        workspace=ws_path,
        on_step=on_step,
    )
    segments = [s for s in ("industry",) if s in ws.segments()]
    results = analyse(ws, AnalysisOptions(adjust=tuple(segments)), on_step=on_step)
    written = write_outputs(results, out, lang=lang or DEMO_LANG)
    ws.close()
    return {"pipeline.out.data": data_dir, "pipeline.out.workspace": ws_path, **written}
