"""Spark local[2] against DuckDB on the same ~1M-event log, in one run.

Simulates the manufacturing log (seed 1, ``--events`` events), ingests it into a
DuckDB workspace, writes the validated tables to Parquet (``royalroad export``) and
runs the four analyses ``analyze`` chains (goals, paths, next best actions, funnel)
on DuckDB and then on Spark reading that Parquet, timing each step (wall clock) and
recording the load average around each engine. Prints a Markdown table and writes
the figures as JSON (``--out``); the answers of the two engines are compared too.

    .venv/bin/python benchmarks/spark_vs_duckdb.py --events 1000000 --out benchmarks/work/spark.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

EVENTS_PER_LEAD = 7.74  # manufacturing scenario, as in steps.py


def timed(fn, *args, **kwargs):
    t = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t


def run_analyses(ws) -> tuple[dict, dict[str, float]]:
    from royalroad.analysis.funnel import funnel
    from royalroad.analysis.goals import discover_goals
    from royalroad.analysis.nba import next_best_actions
    from royalroad.analysis.paths import analyse_paths

    secs: dict[str, float] = {}
    goals, secs["goals"] = timed(discover_goals, ws)
    proxies = [p.activity for p in goals.proxies]
    paths, secs["paths"] = timed(analyse_paths, ws, goal=goals.recommended, exclude=proxies)
    road = [s.activity for s in paths.royal_road]
    nxt, secs["next"] = timed(
        next_best_actions, ws, goal=goals.recommended, exclude=proxies, road=road
    )
    fun, secs["funnel"] = timed(funnel, ws, goals=goals, paths=paths)
    secs["total"] = sum(secs.values())
    results = {
        "goals": goals.to_dict(),
        "paths": paths.to_dict(),
        "next": nxt.to_dict(),
        "funnel": fun.to_dict(),
    }
    return results, secs


class PeakRSS:
    """Peak resident memory of this process and its descendants (the Spark JVM),
    sampled from /proc every 0.2 s while a phase runs."""

    def __init__(self) -> None:
        import threading

        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def _tree_rss() -> int:
        pids, total = [os.getpid()], 0
        while pids:
            pid = pids.pop()
            try:
                status = Path(f"/proc/{pid}/status").read_text()
                kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            except OSError:
                continue
            total += next(
                (int(x.split()[1]) * 1024 for x in status.splitlines() if x.startswith("VmRSS")),
                0,
            )
            pids += [int(k) for k in kids]
        return total

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self.peak = max(self.peak, self._tree_rss())

    def __enter__(self) -> PeakRSS:
        self.peak = self._tree_rss()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._tree_rss())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args()

    import pyarrow.parquet as pq
    from parity import differences

    from royalroad.io.load import ingest
    from royalroad.remote import export_parquet, open_spark, spark_session
    from royalroad.simulate import simulate

    work = Path(tempfile.mkdtemp(prefix="rr-spark-bench-"))
    data = simulate("manufacturing", leads=round(a.events / EVENTS_PER_LEAD), seed=a.seed)
    pq.write_table(data.leads, work / "leads_in.parquet")
    pq.write_table(data.events, work / "events_in.parquet")
    n_events = data.events.num_rows
    del data
    ws, ingest_s = timed(ingest, leads=work / "leads_in.parquet", events=work / "events_in.parquet")
    files, export_s = timed(export_parquet, ws, work / "canonical")

    load_duck = os.getloadavg()
    with PeakRSS() as rss_duck:
        duck, duck_s = run_analyses(ws)
    load_duck = (load_duck, os.getloadavg())

    load_spark = os.getloadavg()
    with PeakRSS() as rss_spark:  # Python and the JVM together
        session, start_s = timed(spark_session, a.master)
        rs, open_s = timed(
            open_spark,
            leads=str(files["leads"]),
            events=str(files["events"]),
            notes=str(files["notes"]),
            meta=str(files["meta"]),
            session=session,
        )
        spark, spark_s = run_analyses(rs)
    load_spark = (load_spark, os.getloadavg())
    session.stop()

    diffs = {k: differences(duck[k], spark[k]) for k in duck}
    figures = {
        "events": n_events,
        "cores": os.cpu_count(),
        "ingest_s": ingest_s,
        "export_parquet_s": export_s,
        "duckdb_s": duck_s,
        "spark_start_s": start_s,
        "spark_open_and_check_s": open_s,
        "spark_s": spark_s,
        "load_duckdb": load_duck,
        "load_spark": load_spark,
        "peak_rss_gb_duckdb": rss_duck.peak / 1e9,
        "peak_rss_gb_spark": rss_spark.peak / 1e9,
        "same_answers": {k: not v for k, v in diffs.items()},
        "differences": {k: v[:5] for k, v in diffs.items() if v},
    }
    if a.out:
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    print(f"{n_events:,} events; ingest {ingest_s:.1f} s, Parquet export {export_s:.1f} s")
    print("| step | DuckDB (s) | Spark local[2] (s) | ratio |")
    print("|---|---|---|---|")
    for k in ("goals", "paths", "next", "funnel", "total"):
        print(f"| {k} | {duck_s[k]:.1f} | {spark_s[k]:.1f} | {spark_s[k] / duck_s[k]:.1f}× |")
    print(f"| Spark session start / open + contract check | — | {start_s:.1f} / {open_s:.1f} | |")
    print(
        f"peak RSS (process tree): DuckDB {rss_duck.peak / 1e9:.2f} GB, "
        f"Spark (Python + JVM) {rss_spark.peak / 1e9:.2f} GB"
    )
    print(f"load average (1/5/15 min) before/after DuckDB: {load_duck}; Spark: {load_spark}")
    print("same answers:", figures["same_answers"])


if __name__ == "__main__":
    main()
