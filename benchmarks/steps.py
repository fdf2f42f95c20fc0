"""One measured step per process, so that peak memory of one step never mixes with another's.

``run.py`` starts ``python benchmarks/steps.py STEP --work DIR --out FILE …`` for each
step; the step writes its figures as JSON to ``FILE`` (stdout is left to chatty
libraries such as pm4py's banner). Peak memory is the process's peak resident set
(``VmHWM``), reset just before the measured call by writing ``5`` to
``/proc/self/clear_refs``; ``base_mb`` is the resident set at that moment (Python,
imports, an open workspace and, for pm4py, the DataFrame).
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent))
import sql as hand

EVENTS_PER_LEAD = 7.74  # manufacturing scenario: 9,986,519 events for 1,290,000 leads (seed 1)


# --------------------------------------------------------------------------- memory


def _status(key: str) -> float | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024  # kB -> MB
    except OSError:
        return None
    return None


class Peak:
    """Peak RSS of a block: VmHWM after resetting it, else ru_maxrss (not resettable)."""

    def __enter__(self) -> Peak:
        self.resettable = True
        try:
            with open("/proc/self/clear_refs", "w") as fh:
                fh.write("5")
        except OSError:
            self.resettable = False
        self.base_mb = _status("VmRSS") or 0.0
        return self

    def __exit__(self, *exc) -> None:
        hwm = _status("VmHWM") if self.resettable else None
        self.peak_mb = (
            hwm if hwm is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        )

    def figures(self) -> dict:
        return {
            "peak_mb": round(self.peak_mb, 1),
            "base_mb": round(self.base_mb, 1),
            "peak_resettable": self.resettable,
        }


class Clock:
    """Wall time and CPU time (all threads of the process: DuckDB's workers included).

    On a shared machine wall time also measures the neighbours' load; CPU time
    much less so, hence both are reported.
    """

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def stop(self) -> tuple[float, float]:
        return time.perf_counter() - self.wall, time.process_time() - self.cpu


def _connect(path: Path):
    from royalroad.engine import connect

    return connect(path)


# --------------------------------------------------------------------------- data


def step_data(a) -> dict:
    """Simulate the log in memory, build the workspace from the Arrow tables, write Parquet."""
    from royalroad.simulate import simulate

    work = Path(a.work)
    n_leads = max(1, round(a.events / EVENTS_PER_LEAD))
    t = time.perf_counter()
    data = simulate("manufacturing", leads=n_leads, seed=a.seed)
    sim_s = time.perf_counter() - t
    leads, events = data.leads, data.events
    leads = leads.append_column("_line", pa.array(np.arange(1, leads.num_rows + 1, dtype=np.int64)))
    events = events.append_column(
        "_line", pa.array(np.arange(1, events.num_rows + 1, dtype=np.int64))
    )

    ws_path = work / "ws.duckdb"
    for p in (ws_path, work / "ws.duckdb.wal"):
        p.unlink(missing_ok=True)
    with Peak() as pk:
        c = Clock()
        build_workspace(ws_path, leads, events, as_of_default=True)
        build_s, build_cpu = c.stop()

    t = time.perf_counter()
    import pyarrow.parquet as pq

    pq.write_table(data.leads, work / "leads.parquet")
    pq.write_table(data.events, work / "events.parquet")
    parquet_s = time.perf_counter() - t

    con = _connect(ws_path)
    outcomes = dict(
        con.execute("SELECT outcome, count(*) FROM leads GROUP BY 1 ORDER BY 1").fetchall()
    )
    marks = {
        str(k): v
        for k, v in con.execute(
            "SELECT mark, count(*) FROM events GROUP BY 1 ORDER BY 1"
        ).fetchall()
    }
    n_act = con.execute("SELECT count(DISTINCT activity) FROM events").fetchone()[0]
    con.close()
    return {
        "seed": a.seed,
        "leads": leads.num_rows,
        "events": events.num_rows,
        "activities": n_act,
        "outcomes": outcomes,
        "marks": marks,
        "simulate_s": sim_s,
        "build_s": build_s,
        "build_cpu_s": build_cpu,
        "parquet_s": parquet_s,
        "build_rows_per_s": (leads.num_rows + events.num_rows) / build_s,
        "ws_mb": ws_path.stat().st_size / 2**20,
        **pk.figures(),
    }


def build_workspace(
    path: Path, leads: pa.Table, events: pa.Table, *, as_of_default: bool = True
) -> None:
    """Canonical workspace tables, as ``royalroad.io.load.ingest`` would store them.

    Same rules as the loader: the cut-off is the latest timestamp anywhere; a lead
    closed after it is open; ``seq`` is the event's position in the source;
    ``lead_key`` numbers leads in id order, ``activity`` is the ``activity_name`` ENUM
    and ``pos`` the event's place in its lead's journey by ``(ts, seq)`` (every
    simulated event is complete);
    ``mark`` is ``after_close`` for ``ts >= closed_at`` of closed leads,
    ``after_as_of`` past the cut-off, else NULL (the simulator has no lifecycle).
    """
    con = _connect(path)
    con.register("src_leads", leads)
    con.register("src_events", events)
    cutoff = con.execute("""SELECT max(t) FROM (
        SELECT max(created_at) AS t FROM src_leads UNION ALL SELECT max(closed_at) FROM src_leads
        UNION ALL SELECT max(ts) FROM src_events)""").fetchone()[0]
    cut = f"TIMESTAMP '{cutoff.isoformat(sep=' ')}'"
    extra_leads = [
        c
        for c in leads.column_names
        if c not in ("lead_id", "created_at", "outcome", "closed_at", "amount", "_line")
    ]
    extra_events = [
        c for c in events.column_names if c not in ("lead_id", "activity", "ts", "_line")
    ]
    con.execute(f"""CREATE TABLE leads AS
        SELECT lead_id, CAST(created_at AS TIMESTAMP) AS created_at,
          CASE WHEN closed_at > {cut} THEN 'open' ELSE outcome END AS outcome,
          CASE WHEN closed_at > {cut} THEN NULL ELSE CAST(closed_at AS TIMESTAMP) END AS closed_at,
          CAST(amount AS DOUBLE) AS amount, {", ".join(extra_leads)},
          'leads.parquet' AS _file, _line,
          CASE WHEN created_at > {cut} THEN 'after_as_of' END AS mark,
          CAST(row_number() OVER (ORDER BY lead_id) AS INTEGER) AS lead_key
        FROM src_leads ORDER BY _line""")
    con.execute("""CREATE TYPE activity_name AS ENUM (
        SELECT DISTINCT activity FROM src_events WHERE activity IS NOT NULL ORDER BY activity)""")
    pos = "CAST(row_number() OVER (PARTITION BY l.lead_key ORDER BY e.ts, e._line) AS INTEGER)"
    con.execute(f"""CREATE TABLE events AS
        SELECT e.lead_id, l.lead_key, CAST(e.activity AS activity_name) AS activity,
          CAST(e.ts AS TIMESTAMP) AS ts, e._line AS seq,
          {pos} AS pos,
          CAST(NULL AS VARCHAR) AS lifecycle,
          CASE WHEN l.outcome IN ('won', 'lost') AND e.ts >= l.closed_at THEN 'after_close'
               WHEN e.ts > {cut} OR l.mark = 'after_as_of' THEN 'after_as_of' END AS mark,
          {", ".join("e." + c for c in extra_events)},
          'events.parquet' AS _file, e._line
        FROM src_events e JOIN leads l USING (lead_id)
        ORDER BY seq""")
    con.execute("""CREATE TABLE notes (lead_id VARCHAR, ts TIMESTAMP, text VARCHAR, author VARCHAR,
        mark VARCHAR, _file VARCHAR, _line BIGINT)""")
    con.execute(
        """CREATE TABLE quarantine (table_name VARCHAR, file VARCHAR, line BIGINT, reason VARCHAR,
        column_name VARCHAR, value VARCHAR, raw JSON)"""
    )
    con.execute("""CREATE TABLE files (file_idx INT, table_name VARCHAR, file VARCHAR, kind VARCHAR,
        encoding VARCHAR, delimiter VARCHAR, sheet VARCHAR, preset VARCHAR, rows_read BIGINT,
        accepted BIGINT, quarantined BIGINT, blank_rows BIGINT, mapping VARCHAR)""")
    canonical = "'parquet', NULL, NULL, NULL, 'canonical'"
    nl, ne = leads.num_rows, events.num_rows
    con.execute(f"""INSERT INTO files VALUES
        (0, 'leads', 'leads.parquet', {canonical}, {nl}, {nl}, 0, 0, ''),
        (1, 'events', 'events.parquet', {canonical}, {ne}, {ne}, 0, 0, '')""")
    con.execute("CREATE TABLE meta (key VARCHAR, value VARCHAR)")
    from royalroad import __version__

    meta = {
        "as_of": str(cutoff),
        "tz": "UTC",
        "mode": "tables",
        "won": "",
        "lost": "",
        "lifecycle": "complete",
        "royalroad_version": __version__,
    }
    con.executemany("INSERT INTO meta VALUES (?, ?)", sorted(meta.items()))
    con.execute("CHECKPOINT")
    con.close()


def step_ingest(a) -> dict:
    """``royalroad.ingest`` on the Parquet files; then check it stored what the direct build did."""
    from royalroad.io.load import ingest

    work = Path(a.work)
    target = work / "ingest.duckdb"
    for p in (target, work / "ingest.duckdb.wal"):
        p.unlink(missing_ok=True)
    with Peak() as pk:
        c = Clock()
        ws = ingest(
            leads=str(work / "leads.parquet"), events=str(work / "events.parquet"), workspace=target
        )
        secs, cpu = c.stop()
    con = ws.con
    n_leads = con.execute("SELECT count(*) FROM leads").fetchone()[0]
    n_events = con.execute("SELECT count(*) FROM events").fetchone()[0]
    quarantined = con.execute("SELECT count(*) FROM quarantine").fetchone()[0]
    con.execute(f"ATTACH '{work / 'ws.duckdb'}' AS direct (READ_ONLY)")
    diffs = {}
    for table, cols in (
        (
            "leads",
            "lead_id, created_at, outcome, closed_at, amount, industry, source, region, rep, "
            "mark, lead_key",
        ),
        ("events", "lead_id, activity, ts, seq, lifecycle, mark, rep, channel, lead_key, pos"),
    ):
        # An order-free fingerprint of the multiset of rows (an EXCEPT ALL both ways
        # costs more than the ingest itself at 10M rows).
        fp = f"SELECT count(*), sum(hash({cols})::HUGEINT), sum(hash({cols}, 1)::HUGEINT) FROM"
        mine, theirs = (con.execute(f"{fp} {t}").fetchone() for t in (table, f"direct.{table}"))
        diffs[table] = 0 if mine == theirs else f"{mine} vs {theirs}"
    ws.close()
    for p in (target, work / "ingest.duckdb.wal"):
        p.unlink(missing_ok=True)
    return {
        "ingest_s": secs,
        "ingest_cpu_s": cpu,
        "leads": n_leads,
        "events": n_events,
        "quarantined": quarantined,
        "rows_per_s": (n_leads + n_events) / secs,
        "events_per_s": n_events / secs,
        "differences_vs_direct_build": diffs,
        **pk.figures(),
    }


# --------------------------------------------------------------------------- goal table


def _grid():
    from royalroad.analysis.goals import DEFAULT_WINDOWS

    return [*DEFAULT_WINDOWS, None]


def _singles_expr(m, ws, grid):
    e = m.journey(ws.table("events"), ws.table("leads"))
    return m.single_counts(m.with_occurrence(e, hand.MAX_COUNT), grid)


def step_singles(a) -> dict:
    """The single-activity candidate table: royalroad's Ibis query, or a hand-written one."""
    from royalroad.analysis import milestones as m
    from royalroad.engine import open_workspace

    grid = _grid()
    assert tuple(grid) == hand.WINDOWS, (grid, hand.WINDOWS)
    ws = open_workspace(Path(a.work) / "ws.duckdb")
    out: dict = {"variant": a.variant}
    if a.variant == "ibis_sql":  # the SQL Ibis compiles, run as a plain DuckDB query
        import ibis

        query = ibis.to_sql(_singles_expr(m, ws, grid), dialect="duckdb")
    with Peak() as pk:
        c = Clock()
        if a.variant == "royalroad":
            expr = _singles_expr(m, ws, grid)
            out["setup_s"] = c.stop()[0]  # Ibis backend, table schemas, expression
            df = expr.execute()
        elif a.variant == "ibis_sql":
            df = ws.con.execute(query).df()
        else:
            df = ws.con.execute(hand.singles(grid, hand.MAX_COUNT, medians=a.variant == "sql")).df()
        out["seconds"], out["cpu_s"] = c.stop()
    out["rows"] = len(df)
    out["threads"] = ws.con.execute("SELECT current_setting('threads')").fetchone()[0]
    ws.close()
    df.to_parquet(Path(a.work) / f"singles_{a.variant}.parquet")
    return {**out, **pk.figures()}


def _instrument():
    """Time every Ibis ``execute`` / ``to_pyarrow`` and every temporary table the
    analyses create (``Workspace.materialized``): the engine; and the statistics
    (``goals._evaluate``). A call made inside another timed call is not counted twice."""
    import ibis.backends.duckdb as duck
    import ibis.expr.types.core as core

    from royalroad.analysis import goals

    log: dict[str, list] = {"execute": [], "execute_cpu": [], "evaluate": []}
    original_evaluate = goals._evaluate
    depth = [0]

    def timed(original):
        def run(self, *args, **kwargs):
            depth[0] += 1
            c = Clock()
            try:
                return original(self, *args, **kwargs)
            finally:
                depth[0] -= 1
                w, cpu = c.stop()
                if depth[0] == 0:
                    log["execute"].append(w)
                    log["execute_cpu"].append(cpu)

        return run

    def evaluate(*args, **kwargs):
        t = time.perf_counter()
        try:
            return original_evaluate(*args, **kwargs)
        finally:
            log["evaluate"].append(time.perf_counter() - t)

    core.Expr.execute = timed(core.Expr.execute)
    core.Expr.to_pyarrow = timed(core.Expr.to_pyarrow)
    duck.Backend.create_table = timed(duck.Backend.create_table)
    goals._evaluate = evaluate
    return log


def step_goals(a) -> dict:
    """``discover_goals(ws, pairs=P)``: total, engine (Ibis executes) and statistics time."""
    from royalroad.analysis.goals import discover_goals
    from royalroad.engine import open_workspace

    log = _instrument()
    ws = open_workspace(Path(a.work) / "ws.duckdb")
    with Peak() as pk:
        c = Clock()
        result = discover_goals(ws, pairs=a.pairs)
        total, cpu = c.stop()
    ws.close()
    engine = sum(log["execute"])
    rec = result.recommended
    return {
        "pairs": a.pairs,
        "seconds": total,
        "cpu_s": cpu,
        "engine_s": engine,
        "engine_cpu_s": sum(log["execute_cpu"]),
        "executes": len(log["execute"]),
        "slowest_executes_s": sorted(log["execute"], reverse=True)[:4],
        "python_s": total - engine,
        "stats_s": sum(log["evaluate"]),
        "candidates": len(result.candidates),
        "pairs_among": len(result.settings["pairs_among"]),
        "recommended": rec.label("en") if rec else None,
        **pk.figures(),
    }


def step_profile(a) -> dict:
    """cProfile of ``discover_goals``: top functions, and the most-called Python function.

    A Python loop over leads or events would show up as a function called at least
    once per lead (≥ 1.29M times at 10M events).
    """
    import cProfile
    import pstats

    from royalroad.analysis.goals import discover_goals
    from royalroad.engine import open_workspace

    ws = open_workspace(Path(a.work) / "ws.duckdb")
    n_leads = ws.con.execute("SELECT count(*) FROM leads").fetchone()[0]
    prof = cProfile.Profile()
    t = time.perf_counter()
    prof.enable()
    discover_goals(ws, pairs=a.pairs)
    prof.disable()
    total = time.perf_counter() - t
    ws.close()
    st = pstats.Stats(prof)

    def name(key):
        file, line, fn = key
        parts = Path(file).parts
        short = "/".join(
            parts[parts.index("site-packages") + 1 :]
            if "site-packages" in parts
            else parts[parts.index("src") + 1 :]
            if "src" in parts
            else parts[-2:]
        )
        return f"{short}:{line}({fn})" if line else fn

    rows = [
        (name(k), v[1], v[2], v[3]) for k, v in st.stats.items()
    ]  # name, ncalls, tottime, cumtime
    by_tot = sorted(rows, key=lambda r: -r[2])[:10]
    by_calls = sorted(rows, key=lambda r: -r[1])[:5]
    ours = sorted((r for r in rows if r[0].startswith("royalroad/")), key=lambda r: -r[3])[:8]
    in_duckdb = sum(tt for (file, _, _), (_, _, tt, _, _) in st.stats.items() if "/duckdb/" in file)
    return {
        "pairs": a.pairs,
        "seconds": total,
        "leads": n_leads,
        "duckdb_s": in_duckdb,
        "top_tottime": by_tot,
        "top_ncalls": by_calls,
        "royalroad_cumtime": ours,
        "max_ncalls": by_calls[0][1] if by_calls else 0,
    }


# --------------------------------------------------------------------------- DFG + variants


def _log(con, max_events: int | None) -> dict:
    """Relation ``log``: all events, or those of the first leads (by id) up to ``max_events``.

    It keeps ``mark`` for royalroad's ``journeys.usable``; the SQL and pm4py ignore it
    (in the simulated log every event is complete, so scope "all" is every event).
    """
    total = con.execute("SELECT count(*) FROM events").fetchone()[0]
    if max_events and max_events < total:
        cols = "e.lead_id, e.lead_key, e.activity, e.ts, e.seq, e.pos, e.mark"
        con.execute(f"""CREATE TEMP TABLE log AS
            SELECT {cols} FROM events e JOIN (
              SELECT lead_id FROM (
                SELECT lead_id, sum(n) OVER (ORDER BY lead_id) AS cum
                FROM (SELECT lead_id, count(*) AS n FROM events GROUP BY lead_id))
              WHERE cum <= {int(max_events)}) USING (lead_id)""")
    else:
        con.execute(
            "CREATE TEMP VIEW log AS "
            "SELECT lead_id, lead_key, activity, ts, seq, pos, mark FROM events"
        )
    n, cases = con.execute("SELECT count(*), count(DISTINCT lead_id) FROM log").fetchone()
    return {"log_events": n, "log_cases": cases}


def step_dfg_sql(a) -> dict:
    con = _connect(Path(a.work) / "ws.duckdb")
    out = _log(con, a.max_events)
    with Peak() as pk:
        c = Clock()
        rows = con.execute(hand.DFG).fetchall()
        out["dfg_s"], out["dfg_cpu_s"] = c.stop()
        c = Clock()
        var_t = con.sql(
            hand.VARIANTS
        ).to_arrow_table()  # to Arrow, as royalroad's variants are timed
        out["variants_s"], out["variants_cpu_s"] = c.stop()
    con.close()
    variants = list(zip(var_t.column("v").to_pylist(), var_t.column("n").to_pylist(), strict=True))
    dfg = {(x, y): n for x, y, n, _ in rows if y is not None}
    ends = {x: n for x, y, n, _ in rows if y is None}
    starts: dict[str, int] = {}
    for x, _, _, s in rows:
        if s:
            starts[x] = starts.get(x, 0) + s
    var = {tuple(v): n for v, n in variants}
    with open(Path(a.work) / "dfg_sql.pkl", "wb") as fh:
        pickle.dump({"dfg": dfg, "start": starts, "end": ends, "variants": var}, fh)
    out.update(edges=len(dfg), variants=len(var), **pk.figures())
    return out


def step_pm4py(a) -> dict:
    con = _connect(Path(a.work) / "ws.duckdb")
    out = _log(con, a.max_events)
    t = time.perf_counter()
    df = con.execute(
        """SELECT lead_id AS "case:concept:name", CAST(activity AS VARCHAR) AS "concept:name",
        ts AS "time:timestamp" FROM log ORDER BY lead_id, ts, seq"""
    ).df()
    out["to_pandas_s"] = time.perf_counter() - t
    con.close()
    out["dataframe_mb"] = df.memory_usage(deep=True).sum() / 2**20
    import pm4py  # imported before measuring: its import is not part of the figures

    with Peak() as pk:
        c = Clock()
        dfg, start, end = pm4py.discover_dfg(
            df,
            case_id_key="case:concept:name",
            activity_key="concept:name",
            timestamp_key="time:timestamp",
        )
        out["dfg_s"], out["dfg_cpu_s"] = c.stop()
        c = Clock()
        variants = pm4py.get_variants(
            df,
            case_id_key="case:concept:name",
            activity_key="concept:name",
            timestamp_key="time:timestamp",
        )
        out["variants_s"], out["variants_cpu_s"] = c.stop()
    var = {
        tuple(k): (v if isinstance(v, int | np.integer) else len(v)) for k, v in variants.items()
    }
    with open(Path(a.work) / "dfg_pm4py.pkl", "wb") as fh:
        pickle.dump(
            {
                "dfg": {k: int(v) for k, v in dfg.items()},
                "start": {k: int(v) for k, v in start.items()},
                "end": {k: int(v) for k, v in end.items()},
                "variants": {k: int(v) for k, v in var.items()},
            },
            fh,
        )
    out.update(pm4py=pm4py.__version__, edges=len(dfg), variants=len(var), **pk.figures())
    return out


def _pm_view(edges_df, variants: dict) -> dict:
    """pm4py's shapes from royalroad's edge table: DFG, start and end activities, variants."""
    from royalroad.analysis import journeys as j

    ends = {j.WON, j.LOST, j.OPEN}
    dfg, start, end = {}, {}, {}
    for src, dst, n in zip(edges_df.src, edges_df.dst, edges_df["count"], strict=True):
        if src == j.START:
            start[dst] = start.get(dst, 0) + int(n)
        elif dst in ends:
            end[src] = end.get(src, 0) + int(n)
        else:
            dfg[(src, dst)] = int(n)
    return {"dfg": dfg, "start": start, "end": end, "variants": variants}


def step_rr_paths(a) -> dict:
    """royalroad's own DFG + variants: the Ibis expressions ``analyse_paths`` executes.

    On ``ordered(usable(events, "all"), leads)``, what ``analyse_paths(scope="all")``
    runs for its process-mining view: ``journeys.dfg`` (counts by outcome, median gap)
    executed to pandas, and ``journeys.variants(events, leads, "all")`` with
    every variant fetched as Arrow (``analyse_paths`` fetches only those it shows;
    pm4py returns all of them, so all are fetched here).

    ``main`` reads the journey keys the workspace stores (``lead_key``, ``pos``, the
    ``activity_name`` ENUM). ``query`` reads a plain view of the same events with
    ``lead_id`` and ``activity`` as VARCHAR, without ``lead_key`` and ``pos``: the
    keys are then computed in the query (``engine.journey_keys``), as they would be
    on a warehouse table: the cost of the same work without the ingest-time keys.
    """
    import pandas as pd  # noqa: F401  (imported before measuring, as pm4py is)

    from royalroad.analysis import journeys as j
    from royalroad.engine import journey_keys, open_workspace

    ws = open_workspace(Path(a.work) / "ws.duckdb")
    out = _log(ws.con, a.max_events)
    if a.variant == "query":
        ws.con.execute(
            """CREATE TEMP VIEW plain AS SELECT lead_id, CAST(activity AS VARCHAR) AS activity,
            ts, seq, mark FROM log"""
        )
        ws.con.execute("CREATE TEMP VIEW plain_leads AS SELECT * EXCLUDE (lead_key) FROM leads")
        events = journey_keys(ws.ibis.table("plain"), "events")
        leads = journey_keys(ws.ibis.table("plain_leads"), "leads")
    else:
        events, leads = (
            ws.table("log"),
            ws.table("leads"),
        )  # Ibis setup and schema look-ups, not timed
    out["variant"] = a.variant
    with Peak() as pk:
        c = Clock()
        e_all = j.dfg(j.ordered(j.usable(events, "all"), leads)).execute()
        out["dfg_s"], out["dfg_cpu_s"] = c.stop()
        c = Clock()
        var = j.variants(events, leads, "all").to_pyarrow()
        out["variants_s"], out["variants_cpu_s"] = c.stop()
    ws.close()
    variants = {
        tuple(p): int(n)
        for p, n in zip(
            var.column("path").to_pylist(), var.column("leads").to_pylist(), strict=True
        )
    }
    view = _pm_view(e_all, variants)
    with open(Path(a.work) / f"dfg_rr_{a.variant}.pkl", "wb") as fh:
        pickle.dump(view, fh)
    out.update(edges=len(view["dfg"]), variants=len(variants), **pk.figures())
    return out


def step_paths(a) -> dict:
    """``analyse_paths(ws, goal=…, exclude=…)`` end to end (default scope, order 1).

    The goal and the proxies come from ``discover_goals(ws, pairs=0)`` beforehand (not
    timed), as the ``paths`` command takes them from ``discover_goals``.
    """
    from royalroad.analysis.goals import discover_goals
    from royalroad.analysis.paths import analyse_paths
    from royalroad.engine import open_workspace

    ws = open_workspace(Path(a.work) / "ws.duckdb")
    goals = discover_goals(ws, pairs=0)
    goal, exclude = goals.recommended, [p.activity for p in goals.proxies]
    log = _instrument()
    with Peak() as pk:
        c = Clock()
        r = analyse_paths(ws, goal=goal, exclude=exclude)
        total, cpu = c.stop()
    ws.close()
    return {
        "seconds": total,
        "cpu_s": cpu,
        "engine_s": sum(log["execute"]),
        "engine_cpu_s": sum(log["execute_cpu"]),
        "executes": len(log["execute"]),
        "slowest_executes_s": sorted(log["execute"], reverse=True)[:4],
        "goal": goal.label("en") if goal else None,
        "exclude": exclude,
        "dfg_edges": len(r.dfg),
        "variants_total": r.variants_total,
        "royal_road": [s.activity for s in r.royal_road],
        **pk.figures(),
    }


STEPS = {
    "data": step_data,
    "ingest": step_ingest,
    "singles": step_singles,
    "goals": step_goals,
    "profile": step_profile,
    "dfg_sql": step_dfg_sql,
    "pm4py": step_pm4py,
    "rr_paths": step_rr_paths,
    "paths": step_paths,
}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("step", choices=sorted(STEPS))
    p.add_argument("--work", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--events", type=int, default=10_000_000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--variant",
        default="royalroad",
        choices=("royalroad", "ibis_sql", "sql", "sql_counts", "main", "query"),
    )
    p.add_argument("--pairs", type=int, default=0)
    p.add_argument("--max-events", type=int, default=None)
    a = p.parse_args()
    res = STEPS[a.step](a)
    res["pid"] = os.getpid()
    Path(a.out).write_text(json.dumps(res, default=str, ensure_ascii=False))


if __name__ == "__main__":
    main()
