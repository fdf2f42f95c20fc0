"""End to end: ``royalroad ingest`` then ``royalroad analyze``, as a user runs them.

Each command runs in its own process (the installed CLI, default settings unless
``--memory-limit`` is given); reported per command: wall time, CPU time (user + sys),
peak RSS of the process (``wait4``'s ``ru_maxrss``), the 1-minute load average before
and after, and the step lines ``analyze`` prints on stderr with their start times.

The data are the manufacturing scenario (7.74 events per lead, as ``steps.py data``),
generated **in chunks streamed to Parquet**: ``--chunk-leads`` leads at a time are
simulated (seed ``seed * 1000 + chunk``), their lead ids prefixed with the chunk
number, and appended to ``leads.parquet`` / ``events.parquet``, so that 100M events
never sit in memory at once. The files are reused when they exist for the same
``--events``, ``--seed`` and ``--chunk-leads`` (``data.json`` says which).

    .venv/bin/python benchmarks/e2e.py --events 10000000
    .venv/bin/python benchmarks/e2e.py --events 100000000 --chunk-leads 500000

Prints one Markdown row per command and writes ``e2e.json`` in the work folder.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EVENTS_PER_LEAD = 7.74


def load() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def generate(work: Path, events: int, seed: int, chunk_leads: int) -> dict:
    """Simulated leads and events appended chunk by chunk to two Parquet files."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from royalroad.simulate import simulate

    spec = {"events": events, "seed": seed, "chunk_leads": chunk_leads}
    stamp = work / "data.json"
    if stamp.exists() and json.loads(stamp.read_text()).get("spec") == spec:
        return json.loads(stamp.read_text())
    work.mkdir(parents=True, exist_ok=True)
    n_leads = max(1, round(events / EVENTS_PER_LEAD))
    writers: dict[str, pq.ParquetWriter] = {}
    totals = {"leads": 0, "events": 0}
    t = time.perf_counter()
    start, chunk = 0, 0
    while start < n_leads:
        n = min(chunk_leads, n_leads - start)
        data = simulate("manufacturing", leads=n, seed=seed * 1000 + chunk)
        for name, table in (("leads", data.leads), ("events", data.events)):
            if n_leads > chunk_leads:  # ids unique across chunks
                ids = pc.binary_join_element_wise(pa.scalar(f"C{chunk:03d}-"), table["lead_id"], "")
                table = table.set_column(table.schema.get_field_index("lead_id"), "lead_id", ids)
            if name not in writers:
                writers[name] = pq.ParquetWriter(work / f"{name}.parquet", table.schema)
            writers[name].write_table(table, row_group_size=1_000_000)
            totals[name] += table.num_rows
        del data
        start += n
        chunk += 1
        print(f"  chunk {chunk}: {totals['events']:,} events", file=sys.stderr, flush=True)
    for w in writers.values():
        w.close()
    info = {"spec": spec, **totals, "chunks": chunk, "generate_s": time.perf_counter() - t}
    stamp.write_text(json.dumps(info, indent=1))
    return info


STEP = re.compile(r"^\[\s*(?P<at>[\d.]+)s\] (?P<text>.*)$")


def run(cmd: list[str], label: str) -> dict:
    """Run one CLI command; its wall time, CPU time, peak RSS and step lines."""
    env = {**os.environ, "ROYALROAD_PROGRESS_DELAY": "0"}
    before = load()
    t = time.perf_counter()
    # stderr to a file beside the data, so that a long run's steps can be followed
    log = Path(cmd[cmd.index("--workspace") + 1]).with_name(f"{label}.stderr")
    with log.open("w") as fh:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=fh, env=env, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    out, err = "", log.read_text()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        sys.stderr.write(out + err)
        raise SystemExit(f"{label} failed with exit code {proc.returncode}")
    steps = [(float(m["at"]), m["text"]) for m in map(STEP.match, err.splitlines()) if m]
    after = load()
    print(
        f"{label}: {wall:.1f} s wall, {usage.ru_utime + usage.ru_stime:.1f} CPU-s, "
        f"{usage.ru_maxrss * 1024 / 1e9:.2f} GB peak, load {before:.1f} → {after:.1f}",
        file=sys.stderr,
        flush=True,
    )
    return {
        "command": label,
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_rss_gb": usage.ru_maxrss * 1024 / 1e9,
        "load_before": before,
        "load_after": after,
        "steps": steps,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--events", type=int, default=10_000_000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--chunk-leads", type=int, default=500_000)
    p.add_argument("--work", type=Path, default=None)
    p.add_argument("--memory-limit", default=None, help="passed to both commands")
    p.add_argument("--analyze-args", default="", help="more options for analyze")
    p.add_argument("--keep", action="store_true", help="keep the workspace and outputs")
    p.add_argument("--generate-only", action="store_true", help="write the Parquet files only")
    p.add_argument(
        "--reuse-workspace",
        action="store_true",
        help="analyze the workspace a --keep run (or a failed analyze) left; no ingest",
    )
    a = p.parse_args()
    work = a.work or ROOT / "benchmarks" / "work" / f"e2e{a.events}"
    data = generate(work, a.events, a.seed, a.chunk_leads)
    if a.generate_only:
        print(json.dumps(data))
        return
    cli = str(Path(sys.executable).with_name("royalroad"))
    ws, out = work / "ws.duckdb", work / "out"
    reuse = a.reuse_workspace and ws.exists()
    for stale in () if reuse else (ws, work / "ws.duckdb.wal"):
        stale.unlink(missing_ok=True)
    shutil.rmtree(out, ignore_errors=True)
    extra = ["--memory-limit", a.memory_limit] if a.memory_limit else []
    ingest = (
        []
        if reuse
        else [
            run(
                [
                    cli,
                    "ingest",
                    "--leads",
                    str(work / "leads.parquet"),
                    "--events",
                    str(work / "events.parquet"),
                    "--workspace",
                    str(ws),
                    "-q",
                    "--max-rows",  # the default guards (20M rows, 1 GB a file) are below 30M events
                    "1000000000",
                    "--max-file-mb",
                    "100000",
                    *extra,
                ],
                "ingest",
            )
        ]
    )
    rows = [
        *ingest,
        run(
            [
                cli,
                "analyze",
                "--workspace",
                str(ws),
                "--out",
                str(out),
                *extra,
                *a.analyze_args.split(),
            ],
            "analyze",
        ),
    ]
    files = {f.name: f.stat().st_size for f in sorted(out.iterdir())}
    total = {
        "wall_s": sum(r["wall_s"] for r in rows),
        "peak_rss_gb": max(r["peak_rss_gb"] for r in rows),
    }
    from royalroad import __version__

    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    report = {
        "data": data,
        "rows": rows,
        "total": total,
        "files": files,
        "machine": f"{os.cpu_count()} CPUs, {platform.platform()}",
        "royalroad": f"{__version__} {commit}",
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    (work / "e2e.json").write_text(json.dumps(report, indent=1))
    if not a.keep:
        ws.unlink(missing_ok=True)
    print(f"{data['events']:,} events, {data['leads']:,} leads; {report['when']}, {commit}")
    print("| command | wall | CPU | peak RSS | load before → after |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['command']} | {r['wall_s']:.1f} s | {r['cpu_s']:.1f} s | "
            f"{r['peak_rss_gb']:.2f} GB | {r['load_before']:.1f} → {r['load_after']:.1f} |"
        )
    print(
        f"| **ingest + analyze** | **{total['wall_s']:.1f} s** | | "
        f"**{total['peak_rss_gb']:.2f} GB** | |"
    )
    for r in rows:
        if r["steps"]:
            marks = [f"{at:.1f}s {text}" for at, text in r["steps"]]
            print(f"{r['command']} steps: " + "; ".join(marks))
    print("files: " + ", ".join(f"{k} {v / 1e6:.1f} MB" for k, v in files.items()))


if __name__ == "__main__":
    main()
