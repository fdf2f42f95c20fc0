"""royalroad benchmark: goal table vs hand-written DuckDB SQL, DFG + variants vs pm4py.

    .venv/bin/python benchmarks/run.py                 # ~10M events (about 1.29M leads)
    .venv/bin/python benchmarks/run.py --quick         # ~200k events, a smoke run
    .venv/bin/python benchmarks/run.py --events 2000000 --repeat 5

Every measured step runs in its own process (``benchmarks/steps.py``) so that peak
memory of one step never mixes with another's; steps that are compared are run
interleaved (A, B, A, B, …) and the fastest run of each is reported, which keeps
load from other processes on the machine out of the ratios as far as possible.
Results are printed as a Markdown table and stored in ``benchmarks/results.md``
(one section per event count and day; a re-run on the same day replaces it).
Scratch data goes to ``benchmarks/work/`` (git-ignored). README.md explains the figures.

Exits with status 1 when royalroad and the hand-written SQL (or pm4py, the SQL DFG
and royalroad's own DFG + variants) disagree on any count.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import pickle
import platform
import re
import subprocess
import sys
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results.md"
QUICK_EVENTS = 200_000
PM4PY_FALLBACK_EVENTS = 1_000_000


# --------------------------------------------------------------------------- running steps


class StepFailed(RuntimeError):
    pass


def run_step(step: str, work: Path, *args: str, timeout: float = 900) -> dict:
    out = work / f"{step}.json"
    out.unlink(missing_ok=True)
    cmd = [
        sys.executable,
        str(HERE / "steps.py"),
        step,
        "--work",
        str(work),
        "--out",
        str(out),
        *args,
    ]
    t = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    except subprocess.TimeoutExpired as exc:
        raise StepFailed(f"{step} {' '.join(args)}: timed out after {timeout:.0f} s") from exc
    if proc.returncode != 0 or not out.exists():
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-25:])
        raise StepFailed(f"{step} {' '.join(args)} failed (exit {proc.returncode}):\n{tail}")
    res = json.loads(out.read_text())
    res["wall_s"] = time.perf_counter() - t
    say(f"  {step} {' '.join(args)}: {_brief(res)}")
    return res


def _brief(res: dict) -> str:
    keys = ("seconds", "cpu_s", "ingest_s", "build_s", "dfg_s", "variants_s", "peak_mb")
    return ", ".join(f"{k}={res[k]:.2f}" for k in keys if isinstance(res.get(k), float))


def say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def best(runs: list[dict], key: str = "seconds") -> dict:
    """The fastest run, with the peak memory of the most memory-hungry run."""
    b = dict(min(runs, key=lambda r: r[key]))
    cpu_key = key.replace("seconds", "cpu_s") if key == "seconds" else key.replace("_s", "_cpu_s")
    if all(cpu_key in r for r in runs):
        b[cpu_key] = min(r[cpu_key] for r in runs)
    b["peak_mb"] = max(r["peak_mb"] for r in runs)
    b["base_mb"] = min(r["base_mb"] for r in runs)
    b["runs"] = [round(r[key], 3) for r in runs]
    return b


# --------------------------------------------------------------------------- checks


def check_singles(work: Path, variants: list[str]) -> str:
    """royalroad's candidate table must equal the hand-written one; fail loudly if not."""
    import numpy as np
    import pandas as pd

    def load(v):
        df = pd.read_parquet(work / f"singles_{v}.parquet")
        df["k"] = df["k"].astype("int64")
        df["activity"] = df["activity"].astype(str)  # plain DuckDB gives the ENUM as a categorical
        return df.sort_values(["activity", "k"]).reset_index(drop=True)

    ref = load("royalroad")
    counts = [c for c in ref.columns if re.fullmatch(r"(won|lost|open)_\d+", c)]
    medians = [c for c in ref.columns if c not in counts and c not in ("activity", "k")]
    problems = []
    for v in variants:
        if v == "royalroad":
            continue
        other = load(v)
        want_cols = set(ref.columns) if v != "sql_counts" else {"activity", "k", *counts}
        if set(other.columns) != want_cols:
            problems.append(f"{v}: columns differ: {sorted(set(other.columns) ^ want_cols)}")
            continue
        if not ref[["activity", "k"]].equals(other[["activity", "k"]]):
            problems.append(f"{v}: different (activity, k) rows")
            continue
        for c in counts:
            a, b = ref[c].astype("int64").to_numpy(), other[c].astype("int64").to_numpy()
            if not np.array_equal(a, b):
                i = int(np.flatnonzero(a != b)[0])
                problems.append(
                    f"{v}: {c} differs at {ref.activity[i]} k={ref.k[i]}: {a[i]} vs {b[i]}"
                )
        if v != "sql_counts":
            for c in medians:
                a, b = ref[c].astype(float).to_numpy(), other[c].astype(float).to_numpy()
                if not np.allclose(a, b, rtol=1e-9, atol=1e-9, equal_nan=True):
                    problems.append(f"{v}: median {c} differs")
    if problems:
        raise SystemExit(
            "MISMATCH between royalroad and hand-written SQL:\n  " + "\n  ".join(problems)
        )
    n_leads_counted = int(ref[ref.k == 1][counts].to_numpy().sum())
    return (
        f"{len(ref)} (activity, k) rows × {len(counts)} counts + {len(medians)} medians equal "
        f"across {', '.join(variants)} ({n_leads_counted:,} lead-window hits at k=1)"
    )


def check_dfg(work: Path, others: tuple[str, ...] = ("sql", "rr_main", "rr_query")) -> str:
    """pm4py's DFG, start / end activities and variant counts must equal every other's."""
    with open(work / "dfg_pm4py.pkl", "rb") as fh:
        ref = pickle.load(fh)
    problems = []
    for name in others:
        with open(work / f"dfg_{name}.pkl", "rb") as fh:
            a = pickle.load(fh)
        for key in ("dfg", "start", "end", "variants"):
            if a[key] != ref[key]:
                diff = set(a[key].items()) ^ set(ref[key].items())
                problems.append(
                    f"{name} {key}: {len(diff)} entries differ, e.g. {sorted(diff, key=str)[:3]}"
                )
    if problems:
        raise SystemExit("MISMATCH with pm4py:\n  " + "\n  ".join(problems))
    names = {"sql": "SQL", "rr_main": "royalroad", "rr_query": "royalroad (keys in the query)"}
    return (
        f"pm4py, {', '.join(names[o] for o in others)} agree: {len(ref['dfg'])} DFG edges, "
        f"{len(ref['start'])} start / {len(ref['end'])} end activities, "
        f"{len(ref['variants']):,} variants"
    )


# --------------------------------------------------------------------------- machine


def machine() -> dict:
    def ver(pkg):
        try:
            return version(pkg)
        except PackageNotFoundError:
            return "-"

    def first(path: str, prefix: str) -> str | None:
        try:
            with open(path) as fh:
                return next((line for line in fh if line.startswith(prefix)), None)
        except OSError:
            return None

    cpu_line = first("/proc/cpuinfo", "model name")
    cpu = cpu_line.split(":", 1)[1].strip() if cpu_line else "-"
    mem_line = first("/proc/meminfo", "MemTotal")
    mem_gb = int(mem_line.split()[1]) / 2**20 if mem_line else math.nan
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
        ).stdout.strip()
    except OSError:
        commit = "-"
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "mem_gb": mem_gb,
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "versions": {
            p: ver(p) for p in ("duckdb", "ibis-framework", "pyarrow", "pandas", "pm4py", "scipy")
        },
        "commit": commit or "-",
        "load_start": os.getloadavg()[0],
    }


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--events", type=int, default=10_000_000, help="events to simulate (default 10M)"
    )
    p.add_argument("--quick", action="store_true", help=f"{QUICK_EVENTS:,} events, for a smoke run")
    p.add_argument(
        "--repeat", type=int, default=3, help="runs of each compared query (fastest is reported)"
    )
    p.add_argument("--goal-repeat", type=int, default=1, help="runs of each discover_goals call")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--no-ingest", action="store_true", help="skip timing royalroad.ingest on Parquet"
    )
    p.add_argument("--no-pm4py", action="store_true", help="skip the pm4py comparison")
    p.add_argument("--no-paths", action="store_true", help="skip timing analyse_paths end to end")
    p.add_argument(
        "--pm4py-events",
        type=int,
        default=None,
        help="run pm4py (and its SQL twin) on the first leads up to this many events (default all)",
    )
    p.add_argument(
        "--pm4py-timeout",
        type=float,
        default=420,
        help=f"seconds; past it pm4py is re-run on {PM4PY_FALLBACK_EVENTS:,} events",
    )
    p.add_argument(
        "--work", default=str(HERE / "work"), help="scratch directory (default benchmarks/work)"
    )
    p.add_argument("--no-save", action="store_true", help="print only; leave results.md alone")
    a = p.parse_args(argv)
    events = QUICK_EVENTS if a.quick else a.events
    work = Path(a.work) / f"e{events}"
    work.mkdir(parents=True, exist_ok=True)
    info = machine()
    t0 = time.perf_counter()
    R = {}

    say(f"royalroad benchmark: {events:,} events, work dir {work}")
    R["data"] = run_step("data", work, "--events", str(events), "--seed", str(a.seed))
    if not a.no_ingest:
        R["ingest"] = run_step("ingest", work)

    variants = ["royalroad", "ibis_sql", "sql", "sql_counts"]
    runs: dict[str, list] = {v: [] for v in variants}
    for _ in range(a.repeat):
        for v in variants:
            runs[v].append(run_step("singles", work, "--variant", v))
    R["singles"] = {v: best(runs[v]) for v in variants}
    R["singles_check"] = check_singles(work, variants)
    say("  " + R["singles_check"])

    goal_runs: dict[int, list] = {0: [], 12: []}
    for _ in range(a.goal_repeat):
        for pairs in goal_runs:
            goal_runs[pairs].append(run_step("goals", work, "--pairs", str(pairs)))
    R["goals"] = {pairs: best(r) for pairs, r in goal_runs.items()}
    R["profile"] = run_step("profile", work, "--pairs", "12")
    if not a.no_paths:
        R["paths"] = run_step("paths", work)

    if not a.no_pm4py:
        R["dfg"] = dfg_vs_pm4py(work, a, R["data"]["events"])

    R["total_s"] = time.perf_counter() - t0
    info["load_end"] = os.getloadavg()[0]
    text = render(events, info, R)
    print(text)
    if not a.no_save:
        save(events, info, text)
        say(f"results written to {RESULTS.relative_to(ROOT)}")
    return 0


def dfg_vs_pm4py(work: Path, a, total_events: int) -> dict:
    limit = a.pm4py_events if a.pm4py_events and a.pm4py_events < total_events else None
    note = None
    try:
        pm = run_step(
            "pm4py", work, *(["--max-events", str(limit)] if limit else []), timeout=a.pm4py_timeout
        )
    except StepFailed as exc:
        if limit is not None and limit <= PM4PY_FALLBACK_EVENTS:
            raise
        note = (
            f"pm4py on the whole log failed or took too long ({str(exc).splitlines()[0]}); "
            "fell back"
        )
        say("  " + note)
        limit = PM4PY_FALLBACK_EVENTS
        pm = run_step("pm4py", work, "--max-events", str(limit), timeout=a.pm4py_timeout)
    args = ["--max-events", str(limit)] if limit else []
    runs: dict[str, list] = {"sql": [], "rr_main": [], "rr_query": []}
    for _ in range(a.repeat):  # interleaved, fastest of each kept
        runs["sql"].append(run_step("dfg_sql", work, *args))
        runs["rr_main"].append(run_step("rr_paths", work, "--variant", "main", *args))
        runs["rr_query"].append(run_step("rr_paths", work, "--variant", "query", *args))
    out = {"pm4py": pm, "note": note}
    for name, rs in runs.items():
        b = dict(min(rs, key=lambda r: r["dfg_s"] + r["variants_s"]))
        b["peak_mb"] = max(r["peak_mb"] for r in rs)
        b["runs"] = [round(r["dfg_s"] + r["variants_s"], 3) for r in rs]
        out[name] = b
    out["check"] = check_dfg(work)
    say("  " + out["check"])
    return out


# --------------------------------------------------------------------------- report


def _s(x: float) -> str:
    return f"{x:.2f} s" if x < 100 else f"{x:.0f} s"


def _mb(x: float) -> str:
    return f"{x / 1024:.2f} GB" if x >= 1024 else f"{x:.0f} MB"


def render(events: int, info: dict, R: dict) -> str:
    d = R["data"]
    v = info["versions"]
    lines = [
        f"## {events:,} events requested — {info['date']}",
        "",
        f"Data: manufacturing scenario, seed {d.get('seed', 1)}: "
        f"**{d['events']:,} events, {d['leads']:,} leads**, "
        f"{d['activities']} activities; outcomes {d['outcomes']}; marks {d['marks']}.",
        "",
        f"Machine: {info['cpus']} CPUs ({info['cpu']}), {info['mem_gb']:.1f} GiB RAM, "
        f"{info['platform']}; "
        f"Python {info['python']}, duckdb {v['duckdb']}, ibis {v['ibis-framework']}, "
        f"pyarrow {v['pyarrow']}, "
        f"pandas {v['pandas']}, pm4py {v['pm4py']}, scipy {v['scipy']}; DuckDB threads "
        f"{R['singles']['sql'].get('threads', '-')}; royalroad commit {info['commit']}; "
        "1-min load average "
        f"{info['load_start']:.1f} at start, {info['load_end']:.1f} at end. "
        f"Whole run {R['total_s']:.0f} s.",
        "",
        "| step | wall time | CPU time | peak RSS | RSS before | notes |",
        "| --- | --- | --- | --- | --- | --- |",
    ]

    def row(name, secs, peak, base, note="", cpu=None):
        c = cpu if isinstance(cpu, str) else (_s(cpu) if cpu is not None else "–")
        lines.append(f"| {name} | {secs} | {c} | {_mb(peak)} | {_mb(base)} | {note} |")

    row(
        "simulate (in-memory Arrow)",
        _s(d["simulate_s"]),
        d["peak_mb"],
        d["base_mb"],
        "not part of royalroad's cost; peak/base columns are for the build below",
    )
    row(
        "build workspace from Arrow (direct SQL)",
        _s(d["build_s"]),
        d["peak_mb"],
        d["base_mb"],
        f"{d['build_rows_per_s']:,.0f} rows/s (leads + events); file {d['ws_mb']:.0f} MB",
        d.get("build_cpu_s"),
    )
    if "ingest" in R:
        g = R["ingest"]
        same = all(x == 0 for x in g["differences_vs_direct_build"].values())
        direct = (
            "same tables as the direct build"
            if same
            else "DIFFERS from direct build: " + str(g["differences_vs_direct_build"])
        )
        row(
            "`ingest()` on Parquet",
            _s(g["ingest_s"]),
            g["peak_mb"],
            g["base_mb"],
            f"{g['rows_per_s']:,.0f} rows/s ({g['events_per_s']:,.0f} events/s); {direct}",
            g.get("ingest_cpu_s"),
        )

    s = R["singles"]
    hand = s["sql"]
    labels = {
        "royalroad": "singles table — royalroad (Ibis expr → DuckDB → pandas)",
        "ibis_sql": "singles table — SQL compiled by Ibis, run directly",
        "sql": "singles table — hand-written SQL (counts + medians)",
        "sql_counts": "singles table — hand-written SQL (counts only)",
    }
    for key, label in labels.items():
        r = s[key]
        note = f"wall runs {r['runs']}"
        if key != "sql":
            note = (
                f"**{r['cpu_s'] / hand['cpu_s']:.2f}×** hand-written CPU, "
                f"{r['seconds'] / hand['seconds']:.2f}× wall, "
                f"{r['peak_mb'] / hand['peak_mb']:.2f}× peak; " + note
            )
        if key == "royalroad":
            note += f"; Ibis setup {r.get('setup_s', 0):.2f} s"
        row(label, _s(r["seconds"]), r["peak_mb"], r["base_mb"], note, r.get("cpu_s"))
    for pairs, r in R["goals"].items():
        row(
            f"`discover_goals(ws, pairs={pairs})` total",
            _s(r["seconds"]),
            r["peak_mb"],
            r["base_mb"],
            f"{r['candidates']} candidates"
            f"{'' if not pairs else ' (pairs among ' + str(r['pairs_among']) + ')'}; "
            f"goal: {r['recommended']}; wall runs {r['runs']}",
            r.get("cpu_s"),
        )
        row(
            f"  … engine part ({r['executes']} Ibis executes / temporary tables)",
            _s(r["engine_s"]),
            r["peak_mb"],
            r["base_mb"],
            f"{r['engine_cpu_s'] / hand['cpu_s']:.2f}× the hand-written singles query's CPU "
            f"({r['engine_s'] / hand['seconds']:.2f}× wall); slowest executes "
            f"{[round(x, 2) for x in r['slowest_executes_s']]} s",
            r.get("engine_cpu_s"),
        )
        row(
            "  … Python side (statistics etc.)",
            _s(r["python_s"]),
            r["peak_mb"],
            r["base_mb"],
            f"of which Fisher/BH/Wilson/MCC per candidate (`_evaluate`): {r['stats_s']:.2f} s",
            r["cpu_s"] - r["engine_cpu_s"],
        )
    if "dfg" in R:
        D = R["dfg"]
        pm, sq = D["pm4py"], D["sql"]
        scope = f"{pm['log_events']:,} events, {pm['log_cases']:,} cases"
        row(
            f"pm4py `discover_dfg` ({scope})",
            _s(pm["dfg_s"]),
            pm["peak_mb"],
            pm["base_mb"],
            f"DataFrame {pm['dataframe_mb']:.0f} MB, "
            f"built from DuckDB in {pm['to_pandas_s']:.1f} s (not timed)",
            pm.get("dfg_cpu_s"),
        )
        row(
            "pm4py `get_variants`",
            _s(pm["variants_s"]),
            pm["peak_mb"],
            pm["base_mb"],
            f"{pm['variants']:,} variants",
            pm.get("variants_cpu_s"),
        )
        row(
            "DuckDB SQL DFG + start/end (one query)",
            _s(sq["dfg_s"]),
            sq["peak_mb"],
            sq["base_mb"],
            f"pm4py/SQL **{pm['dfg_s'] / sq['dfg_s']:.1f}×** wall",
            sq.get("dfg_cpu_s"),
        )
        row(
            "DuckDB SQL variants (one query)",
            _s(sq["variants_s"]),
            sq["peak_mb"],
            sq["base_mb"],
            f"pm4py/SQL **{pm['variants_s'] / sq['variants_s']:.1f}×** wall",
            sq.get("variants_cpu_s"),
        )
        tot_pm, tot_sql = pm["dfg_s"] + pm["variants_s"], sq["dfg_s"] + sq["variants_s"]
        cpu_pm = pm.get("dfg_cpu_s", math.nan) + pm.get("variants_cpu_s", math.nan)
        cpu_sql = sq.get("dfg_cpu_s", math.nan) + sq.get("variants_cpu_s", math.nan)
        row(
            "DFG + variants: pm4py vs SQL",
            f"{_s(tot_pm)} vs {_s(tot_sql)}",
            pm["peak_mb"],
            pm["base_mb"],
            f"**{tot_pm / tot_sql:.1f}×** wall, {cpu_pm / cpu_sql:.1f}× CPU; "
            f"peak {_mb(pm['peak_mb'])} vs "
            f"{_mb(sq['peak_mb'])}; SQL wall runs {sq['runs']}",
            f"{_s(cpu_pm)} vs {_s(cpu_sql)}",
        )
        rr, qk = D["rr_main"], D["rr_query"]
        row(
            "royalroad DFG + start/end: `journeys.dfg` executed",
            _s(rr["dfg_s"]),
            rr["peak_mb"],
            rr["base_mb"],
            f"pm4py/royalroad **{pm['dfg_s'] / rr['dfg_s']:.1f}×** wall; "
            "also won/lost/open and median gap "
            f"per edge",
            rr.get("dfg_cpu_s"),
        )
        row(
            'royalroad variants: `journeys.variants(events, leads, "all")`, all fetched as Arrow',
            _s(rr["variants_s"]),
            rr["peak_mb"],
            rr["base_mb"],
            f"pm4py/royalroad **{pm['variants_s'] / rr['variants_s']:.1f}×** wall; "
            f"also won/lost/open and median days per variant",
            rr.get("variants_cpu_s"),
        )
        tot_rr = rr["dfg_s"] + rr["variants_s"]
        cpu_rr = rr.get("dfg_cpu_s", math.nan) + rr.get("variants_cpu_s", math.nan)
        ratio = tot_pm / tot_rr
        verdict = (
            "target met"
            if ratio >= 15 and rr["peak_mb"] < 3 * 1024
            else f"target (≥ 15×, < 3 GB) {'not ' if ratio < 15 else ''}met on speed, "
            f"{'not ' if rr['peak_mb'] >= 3 * 1024 else ''}met on memory"
        )
        row(
            "**DFG + variants: pm4py vs royalroad**",
            f"{_s(tot_pm)} vs {_s(tot_rr)}",
            rr["peak_mb"],
            rr["base_mb"],
            f"**{ratio:.1f}×** wall, {cpu_pm / cpu_rr:.1f}× CPU; "
            f"peak {_mb(pm['peak_mb'])} vs {_mb(rr['peak_mb'])}; "
            f"{verdict}; royalroad vs SQL {tot_rr / tot_sql:.2f}× wall; "
            f"wall runs {rr['runs']}",
            f"{_s(cpu_pm)} vs {_s(cpu_rr)}",
        )
        tot_qk = qk["dfg_s"] + qk["variants_s"]
        cpu_qk = qk.get("dfg_cpu_s", math.nan) + qk.get("variants_cpu_s", math.nan)
        row(
            "DFG + variants: pm4py vs royalroad, "
            "journey keys computed in the query (no stored `pos`)",
            f"{_s(tot_pm)} vs {_s(tot_qk)}",
            qk["peak_mb"],
            qk["base_mb"],
            f"**{tot_pm / tot_qk:.1f}×** wall, {cpu_pm / cpu_qk:.1f}× CPU "
            f"(DFG {_s(qk['dfg_s'])}, variants "
            f"{_s(qk['variants_s'])}); wall runs {qk['runs']}",
            f"{_s(cpu_pm)} vs {_s(cpu_qk)}",
        )
    if "paths" in R:
        r = R["paths"]
        row(
            "`analyse_paths(ws, goal, exclude)` total",
            _s(r["seconds"]),
            r["peak_mb"],
            r["base_mb"],
            f"goal {r['goal']}, exclude {', '.join(r['exclude'])}; {r['dfg_edges']} DFG edges, "
            f"{r['variants_total']:,} variants; road {' → '.join(r['royal_road'])}",
            r.get("cpu_s"),
        )
        row(
            f"  … engine part ({r['executes']} Ibis executes / temporary tables)",
            _s(r["engine_s"]),
            r["peak_mb"],
            r["base_mb"],
            f"slowest executes {[round(x, 2) for x in r['slowest_executes_s']]} s",
            r.get("engine_cpu_s"),
        )
        row(
            "  … Python side (Markov chain, road, pandas)",
            _s(r["seconds"] - r["engine_s"]),
            r["peak_mb"],
            r["base_mb"],
            "",
            r["cpu_s"] - r["engine_cpu_s"],
        )
    lines += ["", f"Checks: {R['singles_check']}."]
    if "dfg" in R:
        lines.append(
            f"{R['dfg']['check']}." + (f" Note: {R['dfg']['note']}." if R["dfg"]["note"] else "")
        )
    pr = R["profile"]
    top = "; ".join(f"`{n}` {calls:,}× {tot:.2f} s" for n, calls, tot, _ in pr["top_tottime"][:6])
    calls = "; ".join(f"`{n}` {c:,}×" for n, c, _, _ in pr["top_ncalls"][:3])
    ours = "; ".join(f"`{n}` {cum:.2f} s" for n, _, _, cum in pr["royalroad_cumtime"][:6])
    if pr["leads"] < 500_000:
        verdict = (
            "inconclusive at this size: compiling the Ibis queries alone makes ~0.5M calls "
            "whatever the data; judge on a run with ≥ 1M leads"
        )
    elif pr["max_ncalls"] < pr["leads"]:
        verdict = "no Python function runs once per lead, so no Python loop over leads"
    else:
        verdict = (
            "**a Python function is called once per lead or more: "
            "look for a Python loop over leads**"
        )
    lines += [
        "",
        f"Profile of `discover_goals(pairs=12)` under cProfile ({pr['seconds']:.1f} s, of which "
        f"{pr['duckdb_s']:.1f} s ({pr['duckdb_s'] / pr['seconds']:.0%}) waiting on DuckDB): "
        "most-called functions "
        f"{calls} vs {pr['leads']:,} leads — {verdict}. Top by own time: {top}. "
        f"royalroad functions by cumulative time: {ours}.",
    ]
    return "\n".join(lines) + "\n"


INTRO = """# Benchmark results

Written by `benchmarks/run.py` (see `benchmarks/README.md` for what each figure means).
One section per event count and day; a re-run on the same day replaces its section.
"""


def save(events: int, info: dict, text: str) -> None:
    key = f"<!-- run events={events} day={info['date'][:10]} -->"
    body = RESULTS.read_text() if RESULTS.exists() else INTRO
    sections = re.split(r"(?m)^(?=<!-- run )", body)
    head, runs = sections[0], [x for x in sections[1:] if not x.startswith(key)]
    runs.append(f"{key}\n{text}\n")
    runs.sort(key=lambda x: (-int(re.search(r"events=(\d+)", x).group(1)), x), reverse=False)
    RESULTS.write_text(head.rstrip() + "\n\n" + "".join(runs))


if __name__ == "__main__":
    sys.exit(main())
