"""royalroad: find the royal road (王道) of a B2B sales process from CRM data.

The API a notebook needs is at the top level::

    import royalroad as rr

    ws = rr.ingest(leads="leads.csv", events="events.csv")   # or rr.open_workspace("crm.duckdb")
    goals = rr.discover_goals(ws, adjust=["industry"])       # the intermediate goal
    paths = rr.analyse_paths(ws, goals=goals)                # the royal road, journeys
    rr.dfg(ws)                                               # pm4py's DFG and variants, fast
    nxt = rr.next_best_actions(ws, goals=goals)              # hand-off and next actions
    funnel = rr.funnel(ws, goals=goals, paths=paths)         # stages, cohorts, velocity
    goals.to_frame(); nxt.to_frame()                         # pandas, one row per item
    rr.backtest(ws, "2025-01-01")                            # how far to trust P(win)
    p = rr.plan(ws, target=120_000_000, period="2026-04..2027-03")  # leads, goals by month
    rr.track(ws_later, p.to_dict())                          # actual vs plan, the pace
    rr.triggers(ws).categories_frame()                       # decision triggers in notes
    rr.reps(ws, adjust=["industry"])                         # reps fairly compared (属人化)
    results = rr.analyse(ws, adjust=["industry"])            # everything at once
    rr.write_outputs(results, "out")                         # report.html, results.json, xlsx

Every result shows a short ``repr`` and, in Jupyter, a compact table. Names are
imported lazily, so ``import royalroad`` stays cheap for the command line.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from royalroad.errors import InputError, InternalError, RoyalroadError

__version__ = "0.1.0"

_LAZY = {
    "ingest": "royalroad.io.load",
    "open_workspace": "royalroad.engine",
    "Workspace": "royalroad.engine",
    "discover_goals": "royalroad.analysis.goals",
    "analyse_paths": "royalroad.analysis.paths",
    "dfg": "royalroad.analysis.process_map",
    "next_best_actions": "royalroad.analysis.nba",
    "funnel": "royalroad.analysis.funnel",
    "backtest": "royalroad.analysis.backtest",
    "plan": "royalroad.analysis.plan",
    "track": "royalroad.analysis.track",
    "triggers": "royalroad.analysis.triggers",
    "reps": "royalroad.analysis.reps",
    "AnalysisOptions": "royalroad.pipeline",
    "Results": "royalroad.pipeline",
    "write_outputs": "royalroad.pipeline",
    "summarise": "royalroad.quality",
}

__all__ = [
    "InputError",
    "InternalError",
    "RoyalroadError",
    "__version__",
    "analyse",
    *_LAZY,
]


def analyse(ws, options=None, /, **knobs: Any):
    """Run every analysis on ``ws``; ``knobs`` are :class:`AnalysisOptions` fields.

    >>> import royalroad as rr
    >>> rr.analyse(ws, adjust=["industry"], min_evidence=20)   # doctest: +SKIP
    """
    from dataclasses import replace

    from royalroad.pipeline import AnalysisOptions
    from royalroad.pipeline import analyse as run

    opts = options or AnalysisOptions()
    for name in ("adjust", "not_proxy", "windows"):
        if name in knobs and knobs[name] is not None:
            knobs[name] = tuple(knobs[name])
    return run(ws, replace(opts, **knobs))


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'royalroad' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
