"""``rr.dfg``: pm4py's DFG, start / end activities and variant counts, equal to pm4py's
own on real XES logs (pm4py is test-only), and to a pandas recount on a simulated log."""

from __future__ import annotations

import warnings
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

import royalroad as rr
from royalroad.simulate import simulate

SHARED = Path("/work/shared/data")
EXAMPLES = SHARED / "pm4py_example_logs"
BPIC = SHARED / "bpic2012" / "BPI_Challenge_2012.xes.gz"
LOGS = {
    "running-example.xes": (["pay compensation"], ["reject request"]),
    "02_teleclaims.xes.gz": (["initiate payment"], ["end"]),
    "lending_log_high.xes.gz": (["Sign Loan Agreement"], ["Loan Denied", "Application Rejected"]),
}


def pm4py_view(path: Path):
    pm4py = pytest.importorskip("pm4py")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = pm4py.read_xes(str(path), show_progress_bar=False)
    if "lifecycle:transition" in df.columns:
        df = df[df["lifecycle:transition"].astype(str).str.lower() == "complete"]
    dfg, start, end = pm4py.discover_dfg(df)
    variants = pm4py.get_variants(df)
    counts = Counter({tuple(k): (v if isinstance(v, int) else len(v)) for k, v in variants.items()})
    return df, dict(dfg), dict(start), dict(end), counts


def assert_equal(ws, path: Path) -> None:
    df, dfg, start, end, variants = pm4py_view(path)
    pm = rr.dfg(ws)
    assert pm.edges == dfg
    assert pm.start_activities == start
    assert pm.end_activities == end
    assert Counter(pm.variants) == variants
    assert pm.events == len(df)
    assert pm.cases == df["case:concept:name"].nunique()


@pytest.mark.parametrize("name", sorted(LOGS))
def test_equal_to_pm4py_on_example_logs(name, tmp_path):
    path = EXAMPLES / name
    if not path.is_file():
        pytest.skip(f"pm4py example log not found at {path}")
    won, lost = LOGS[name]
    ws = rr.ingest(events=path, won=won, lost=lost, workspace=tmp_path / "ws.duckdb")
    try:
        assert_equal(ws, path)
    finally:
        ws.close()


@pytest.mark.slow
def test_equal_to_pm4py_on_bpic2012(tmp_path):
    if not BPIC.is_file():
        pytest.skip(f"BPIC 2012 log not found at {BPIC}")
    ws = rr.ingest(
        events=BPIC,
        won=["A_APPROVED"],
        lost=["A_DECLINED", "A_CANCELLED"],
        workspace=tmp_path / "ws.duckdb",
    )
    try:
        assert_equal(ws, BPIC)
    finally:
        ws.close()


def test_equal_to_a_pandas_recount(tmp_path):
    data = simulate("manufacturing", leads=500, seed=3)
    data.write(tmp_path)
    ws = rr.ingest(leads=tmp_path / "leads.csv", events=tmp_path / "events.csv")
    ev = ws.con.execute(
        "SELECT lead_id, CAST(activity AS VARCHAR) AS activity, ts, seq FROM events "
        "WHERE mark IS NULL OR mark <> 'not_complete'"
    ).df()
    ev = ev.sort_values(["lead_id", "ts", "seq"], kind="stable")
    traces = ev.groupby("lead_id", sort=True).activity.agg(tuple)
    edges = Counter(p for t in traces for p in zip(t, t[1:], strict=False))
    pm = rr.dfg(ws)
    assert pm.edges == dict(edges)
    assert pm.start_activities == dict(Counter(t[0] for t in traces))
    assert pm.end_activities == dict(Counter(t[-1] for t in traces))
    assert pm.variants == dict(Counter(traces))
    assert not rr.dfg(ws, variants=False).variants
    frame = pm.to_frame()
    assert list(frame.columns) == ["src", "dst", "count"]
    assert frame["count"].sum() == sum(edges.values()) == len(ev) - len(traces)
    assert isinstance(frame, pd.DataFrame)
    ws.close()
