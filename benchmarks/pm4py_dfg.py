"""``rr.dfg`` (counts only) and royalroad's enriched DFG + variants against pm4py.

Needs a workspace built by ``steps.py data`` in ``--work``. Runs, each in a fresh
process: pm4py ``discover_dfg`` + ``get_variants`` (``steps.py pm4py``, once), and
``--repeat`` times, interleaved, ``rr.dfg(ws)`` (what pm4py counts, nothing more)
and the enriched form ``analyse_paths(scope="all")`` runs (``steps.py rr_paths
--variant main``: outcome split and medians too). Checks that all give pm4py's DFG,
start / end activities and variants; prints wall / CPU / peak and the ratios.

    .venv/bin/python benchmarks/pm4py_dfg.py --work benchmarks/work/pm10m
"""

from __future__ import annotations

import argparse
import json
import pickle
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def step(work: Path, name: str, *extra: str) -> dict:
    out = work / f"_{name}.json"
    cmd = [sys.executable, str(HERE / "steps.py"), name, "--work", str(work), "--out", str(out)]
    subprocess.run([*cmd, *extra], check=True)
    return json.loads(out.read_text())


def rr_dfg(work: Path) -> dict:
    """Time ``rr.dfg(ws)`` in this (fresh) process."""
    sys.path.insert(0, str(HERE))
    from steps import Clock, Peak  # type: ignore[import-not-found]

    import royalroad as rr

    ws = rr.open_workspace(work / "ws.duckdb", read_only=True)
    ws.table("events")  # Ibis setup and schema look-ups, not timed (as for rr_paths)
    with Peak() as pk:
        c = Clock()
        pm = rr.dfg(ws)
        wall, cpu = c.stop()
    ws.close()
    view = {
        "dfg": pm.edges,
        "start": pm.start_activities,
        "end": pm.end_activities,
        "variants": pm.variants,
    }
    with open(work / "dfg_rr_counts.pkl", "wb") as fh:
        pickle.dump(view, fh)
    return {"wall_s": wall, "cpu_s": cpu, **pk.figures()}


def load() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--work", type=Path, required=True)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.inner:
        print(json.dumps(rr_dfg(a.work)))
        return
    before = load()
    pm = step(a.work, "pm4py")
    counts, enriched = [], []
    for _ in range(a.repeat):
        res = subprocess.run(
            [sys.executable, __file__, "--work", str(a.work), "--inner"],
            check=True,
            capture_output=True,
            text=True,
        )
        counts.append(json.loads(res.stdout.strip().splitlines()[-1]))
        enriched.append(step(a.work, "rr_paths", "--variant", "main"))
    after = load()
    views = {}
    for name in ("pm4py", "rr_counts", "rr_main"):
        with open(a.work / f"dfg_{name}.pkl", "rb") as fh:
            views[name] = pickle.load(fh)
    ref = views["pm4py"]
    for name, view in views.items():
        for part in ("dfg", "start", "end", "variants"):
            if dict(view[part]) != dict(ref[part]):
                raise SystemExit(f"{name} {part} differs from pm4py")
    pm_wall = pm["dfg_s"] + pm["variants_s"]
    pm_cpu = pm["dfg_cpu_s"] + pm["variants_cpu_s"]
    best_c = min(counts, key=lambda r: r["wall_s"])
    best_e = min(enriched, key=lambda r: r["dfg_s"] + r["variants_s"])
    e_wall = best_e["dfg_s"] + best_e["variants_s"]
    e_cpu = best_e["dfg_cpu_s"] + best_e["variants_cpu_s"]
    print(
        f"{pm['log_events']:,} events, {pm['log_cases']:,} cases, "
        f"{len(ref['variants']):,} variants; load {before:.1f} → {after:.1f}; "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )
    print("| what | wall | CPU | peak RSS | pm4py / this: wall (CPU) |")
    print("|---|---|---|---|---|")
    print(
        f"| pm4py {pm['pm4py']} `discover_dfg` + `get_variants` | {pm_wall:.2f} s | "
        f"{pm['dfg_cpu_s'] + pm['variants_cpu_s']:.2f} s | {pm['peak_mb'] / 1e3:.2f} GB | 1× |"
    )
    print(
        f"| `rr.dfg(ws)`: the same counts | {best_c['wall_s']:.2f} s | {best_c['cpu_s']:.2f} s | "
        f"{best_c['peak_mb'] / 1e3:.2f} GB | **{pm_wall / best_c['wall_s']:.1f}×** "
        f"({pm_cpu / best_c['cpu_s']:.1f}×) "
        f"(runs {[round(r['wall_s'], 2) for r in counts]}) |"
    )
    print(
        f"| enriched (outcome split, medians: what `analyse_paths` runs) | {e_wall:.2f} s | "
        f"{e_cpu:.2f} s | {best_e['peak_mb'] / 1e3:.2f} GB | **{pm_wall / e_wall:.1f}×** "
        f"({pm_cpu / e_cpu:.1f}×) "
        f"(runs {[round(r['dfg_s'] + r['variants_s'], 2) for r in enriched]}) |"
    )
    print("All give pm4py's DFG, start / end activities and variant counts.")


if __name__ == "__main__":
    main()
