"""Shared by the engine parity tests: one simulated dataset, the analyses, and a
number-for-number comparison of their results.

Each engine computes from its own copy of the canonical tables; nothing is handed
from one engine's result to the other's. Counts must be equal, floats equal to 1e-9
(relative or absolute), everything else (names, order, flags) identical.
"""

from __future__ import annotations

import math
from typing import Any

SCENARIO = "manufacturing"
LEADS = 600
SEED = 3


ANALYSES = ("goals", "paths", "next", "funnel", "reps", "plan", "track", "triggers")
TARGET = 1.2e9
"""The plan's revenue target: about 1.2 times the simulated team's won revenue of the
last twelve months (as ``make demo``), so that the plan needs new leads."""
TRIGGER_GOALS = {"pairs": 0, "max_count": 2}
"""The goals grid the triggers' "notes mention X" milestones run in: small (no pairs,
counts up to 2), since the full grid is the goals parity's; each query costs Spark
about a second."""
INTS_AT_LEAST = {"plan": 5, "track": 0}
"""How many integers a result must hold for its comparison to count (more than 10
unless listed here): the plan and track report expected leads, goals and wins, floats
even when counted."""


def analyses(ws) -> dict[str, Any]:
    """Goals, paths, next best actions and the funnel, as ``analyze`` chains them; then
    reps (by the simulated ``rep``, adjusted for ``industry``, with the practices), the
    reverse plan (a target over a period half past, half ahead of the as-of date, by
    ``industry``, against the manufacturing benchmark), track of that plan, and the
    triggers in the notes (with their milestones in a small goals grid)."""
    from royalroad.analysis.funnel import funnel
    from royalroad.analysis.goals import discover_goals
    from royalroad.analysis.nba import next_best_actions
    from royalroad.analysis.paths import analyse_paths
    from royalroad.analysis.plan import plan
    from royalroad.analysis.plan_model import month_index, month_label
    from royalroad.analysis.reps import analyse_reps
    from royalroad.analysis.track import track
    from royalroad.analysis.triggers import triggers

    goals = discover_goals(ws)
    proxies = [p.activity for p in goals.proxies]
    paths = analyse_paths(ws, goal=goals.recommended, exclude=proxies)
    nxt = next_best_actions(
        ws, goal=goals.recommended, exclude=proxies, road=[s.activity for s in paths.royal_road]
    )
    now = month_index(ws.as_of)
    planned = plan(
        ws,
        target=TARGET,
        period=f"{month_label(now - 5)}..{month_label(now + 6)}",
        goals=goals,
        actions=nxt,
        segment="industry",
        preset="manufacturing",
    )
    return {
        "goals": goals.to_dict(),
        "paths": paths.to_dict(),
        "next": nxt.to_dict(),
        "funnel": funnel(ws, goals=goals, paths=paths).to_dict(),
        "reps": analyse_reps(ws, goals=goals, paths=paths, adjust=["industry"]).to_dict(),
        "plan": planned.to_dict(),
        "track": track(ws, planned.to_dict(), goals=goals, actions=nxt).to_dict(),
        "triggers": triggers(ws, goals=goals, goal_options=TRIGGER_GOALS).to_dict(),
    }


def covered(result: Any, analysis: str) -> None:
    """Fail unless ``result`` holds enough numbers for its comparison to mean something."""
    ints, floats = n_numbers(result)
    assert ints >= INTS_AT_LEAST.get(analysis, 11) and floats > 10, (analysis, ints, floats)


def differences(a: Any, b: Any, path: str = "$", out: list[str] | None = None) -> list[str]:
    """Where ``a`` and ``b`` differ (at most 20 places), counts exactly, floats to 1e-9."""
    out = [] if out is None else out
    if len(out) >= 20:
        return out
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            out.append(f"{path}: keys {sorted(set(a) ^ set(b))}")
        for k in sorted(set(a) & set(b), key=str):
            differences(a[k], b[k], f"{path}.{k}", out)
    elif isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        if len(a) != len(b):
            out.append(f"{path}: {len(a)} items vs {len(b)}")
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            differences(x, y, f"{path}[{i}]", out)
    elif isinstance(a, float) or isinstance(b, float):
        if not _close(a, b):
            out.append(f"{path}: {a!r} vs {b!r}")
    elif a != b or type(a) is not type(b):
        out.append(f"{path}: {a!r} vs {b!r}")
    return out


def _close(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, bool) or isinstance(b, bool):
        return a == b
    x, y = float(a), float(b)
    if math.isnan(x) or math.isnan(y):
        return math.isnan(x) and math.isnan(y)
    return math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-9)


def n_numbers(d: Any) -> tuple[int, int]:
    """How many integers and floats a result holds (what the parity covered)."""
    if isinstance(d, dict):
        d = list(d.values())
    if isinstance(d, (list, tuple)):
        parts = [n_numbers(x) for x in d]
        return sum(p[0] for p in parts), sum(p[1] for p in parts)
    if isinstance(d, bool):
        return 0, 0
    return (1, 0) if isinstance(d, int) else (0, 1) if isinstance(d, float) else (0, 0)
