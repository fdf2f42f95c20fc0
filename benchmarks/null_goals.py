"""How often does the goal search recommend a goal on pure noise?

The simulator's null world (``simulate(..., null=True)``) keeps every scenario's
process, traps and timing but draws each outcome independently of every activity,
segment and note: any recommended goal is a false discovery. This script runs the
four scenarios' null worlds over many seeds and counts the runs that recommended a
goal, and the runs with a *lead to watch* (a real-looking effect that stayed below the
floors of a goal).

    .venv/bin/python benchmarks/null_goals.py                      # 4 × 25 seeds, 2,000 leads
    .venv/bin/python benchmarks/null_goals.py --leads 5000 --seeds 25
    .venv/bin/python benchmarks/null_goals.py --drift              # null world with a drift

It prints a Markdown section; the figures of record are in ``benchmarks/results.md``.
Exit status 1 when more than ``--allow`` runs recommended a goal.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

SCENARIOS = ("manufacturing", "saas", "education", "consulting")


def one(args: tuple[str, int, int, bool]) -> dict:
    """Simulate one null world, ingest it and search for a goal."""
    import royalroad as rr
    from royalroad.analysis.goals import discover_goals
    from royalroad.simulate import simulate

    scenario, leads, seed, drift = args
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        simulate(scenario, leads=leads, seed=seed, null=True, drift=drift).write(out)
        ws = rr.ingest(leads=out / "leads.csv", events=out / "events.csv")
        start = time.perf_counter()
        result = discover_goals(ws)
        elapsed = time.perf_counter() - start
        ws.close()
    goal, watch = result.recommended, result.watch
    return {
        "scenario": scenario,
        "seed": seed,
        "goal": goal.label("en") if goal else None,
        "goal_mcc": goal.mcc if goal else None,
        "goal_recall": goal.recall if goal else None,
        "watch": watch.label("en") if watch else None,
        "reason": result.reason,
        "seconds": elapsed,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--leads", type=int, default=2000, help="leads per run (default 2000)")
    p.add_argument("--seeds", type=int, default=25, help="seeds per scenario (default 25)")
    p.add_argument("--first-seed", type=int, default=0)
    p.add_argument("--scenarios", default=",".join(SCENARIOS))
    p.add_argument("--drift", action="store_true", help="plant a drift in every null world")
    p.add_argument("--workers", type=int, default=2, help="processes (default 2)")
    p.add_argument("--allow", type=int, default=1, help="recommendations tolerated (default 1)")
    a = p.parse_args(argv)

    jobs = [
        (sc, a.leads, seed, a.drift)
        for sc in a.scenarios.split(",")
        for seed in range(a.first_seed, a.first_seed + a.seeds)
    ]
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=a.workers) as pool:
        runs = list(pool.map(one, jobs))
    wall = time.perf_counter() - start

    hits = [r for r in runs if r["goal"] is not None]
    watched = [r for r in runs if r["watch"] is not None]
    reasons: dict[str, int] = {}
    for r in runs:
        reasons[r["reason"]] = reasons.get(r["reason"], 0) + 1
    world = "null world with a drift" if a.drift else "null world"
    print(f"## Goals on noise: {a.leads:,} leads, {len(runs)} runs ({world})\n")
    print(
        f"**{len(hits)} of {len(runs)} runs recommended a goal**; "
        f"{len(watched)} named a lead to watch. Scenarios {a.scenarios}, seeds "
        f"{a.first_seed}–{a.first_seed + a.seeds - 1}, default settings "
        f"(min_recall 0.3, min_mcc 0.1, min_lift 1.5, alpha 0.05). Reasons: "
        + ", ".join(f"{k} {v}" for k, v in sorted(reasons.items()))
        + f". {wall:.0f} s wall on {a.workers} processes; discover_goals median "
        f"{sorted(r['seconds'] for r in runs)[len(runs) // 2]:.2f} s.\n"
    )
    if hits or watched:
        print("| scenario | seed | goal | MCC | of wins | lead to watch |")
        print("|---|---:|---|---:|---:|---|")
        for r in runs:
            if r["goal"] or r["watch"]:
                mcc = f"{r['goal_mcc']:.3f}" if r["goal"] else ""
                rec = f"{r['goal_recall']:.0%}" if r["goal"] else ""
                print(
                    f"| {r['scenario']} | {r['seed']} | {r['goal'] or ''} | {mcc} | {rec} "
                    f"| {r['watch'] or ''} |"
                )
    return 1 if len(hits) > a.allow else 0


if __name__ == "__main__":
    sys.exit(main())
