"""Backtest of P(win) on the user's own data: how far to trust the numbers.

Rebuild everything as of an earlier date (the *cut-off*): the goal, the road, the
states and the P(win) model see only what was known then — leads created by then,
events up to then, outcomes decided by then. Score the leads open at the cut-off, and
compare with how those that have closed since really ended. Beside royalroad's model,
two baselines built the same honest way (outcome proxies left out, only events before
the cut-off): the base rate, and a plain lead score — a logistic regression on
snapshot features (activity counts, segments, age, days idle) of the leads open 90
days before the cut-off, labelled by how they had ended by the cut-off.

Reported per model: Brier score, log loss, AUC, the calibration gap (mean P(win) minus
the share won) overall, for nurture and sales-ready leads and for stalled ones, and a
reliability table by decile of P(win). Recalibration (isotonic or Platt) is tried with
two-fold cross-validation on the backtest's leads, and offered only when it lowers the
Brier score out of fold.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import zlib

import numpy as np
import pandas as pd

from royalroad import stats
from royalroad.analysis import baseline
from royalroad.analysis.backtest_result import (
    BacktestResult,
    Decile,
    ModelScore,
    Recalibration,
)
from royalroad.engine import Workspace, connect, one_row
from royalroad.errors import InputError

MAX_LEADS = 200_000
"""Leads the backtest rebuilds the past from; a larger workspace is sampled, one lead in
``ceil(leads / MAX_LEADS)`` by a hash of its id (the same leads on every run). It reruns
the goal search, the paths and the next actions on the past: on 1.3M leads that doubled
``analyze``, while 200k leads already score tens of thousands of closed leads."""
MIN_SCORED = 30
"""Closed leads needed among those open at the cut-off for a backtest to say anything."""
IMPROVES = 0.0001
"""A recalibration is offered when it lowers the out-of-fold Brier score by this much."""


def as_of_workspace(ws: Workspace, cutoff: dt.datetime, every: int = 1) -> Workspace:
    """An in-memory workspace holding what was known at ``cutoff``.

    Leads created after it are left out; a close after it is not known (the lead is
    open); events after the cut-off, or at or after the (known) close, are marked as
    the loader marks them. Journey positions are recomputed in the query. ``every`` >
    1 keeps one lead in ``every`` (by a hash of its id) and their events.
    """
    c = f"TIMESTAMP '{cutoff:%Y-%m-%d %H:%M:%S}'"
    sampled = sample_filter(every)
    src = ws.con
    new = connect()
    leads = src.sql(
        f"""SELECT * EXCLUDE (outcome, closed_at{", mark" if _has(ws, "leads", "mark") else ""}),
              CASE WHEN closed_at <= {c} THEN outcome ELSE 'open' END AS outcome,
              CASE WHEN closed_at <= {c} THEN closed_at END AS closed_at
            FROM leads
            WHERE (created_at IS NULL OR created_at <= {c}) AND {sampled}
              {"AND mark IS NULL" if _has(ws, "leads", "mark") else ""}"""
    ).to_arrow_table()
    new.register("_leads", leads)
    new.execute("CREATE TABLE leads AS SELECT * FROM _leads")
    new.unregister("_leads")
    # the journey keys follow the marks, which change at the cut-off: numbered again
    drop = "".join(f", {c}" for c in ("pos", "occ") if _has(ws, "events", c))
    # The sampled leads' events, joined on the integer key: hashing every event's
    # lead_id to sample them read and hashed 100M strings (most of the backtest's time).
    key = (
        "lead_key"
        if _has(ws, "events", "lead_key") and _has(ws, "leads", "lead_key")
        else "lead_id"
    )
    events = src.sql(
        f"""SELECT e.* EXCLUDE (mark{drop}),
              CASE WHEN e.mark = 'not_complete' THEN 'not_complete'
                   WHEN NOT l.known THEN 'after_as_of'
                   WHEN l.closed_at <= {c} AND e.ts >= l.closed_at THEN 'after_close'
                   WHEN e.ts > {c} THEN 'after_as_of' END AS mark
            FROM events e
            JOIN (SELECT {key}, closed_at, (created_at IS NULL OR created_at <= {c}) AS known
                  FROM leads WHERE {sampled}) l USING ({key})"""
    ).to_arrow_table()
    new.register("_events", events)
    new.execute("CREATE TABLE events AS SELECT * FROM _events")
    new.unregister("_events")
    new.execute("CREATE TABLE meta (key VARCHAR, value VARCHAR)")
    meta = dict(src.execute("SELECT key, value FROM meta").fetchall())
    meta["as_of"] = f"{cutoff:%Y-%m-%d %H:%M:%S}"
    new.executemany("INSERT INTO meta VALUES (?, ?)", sorted(meta.items()))
    for name in ("files", "quarantine", "notes"):
        new.register("_t", src.sql(f"SELECT * FROM {name} LIMIT 0").to_arrow_table())
        new.execute(f"CREATE TABLE {name} AS SELECT * FROM _t")
        new.unregister("_t")
    return Workspace(new)


def sample_filter(every: int, column: str = "lead_id") -> str:
    """SQL keeping one lead in ``every`` by a hash of its id (all leads when 1)."""
    return f"hash({column}) % {int(every)} = 0" if every > 1 else "TRUE"


def _has(ws: Workspace, table: str, column: str) -> bool:
    return bool(
        one_row(
            ws.con,
            "SELECT count(*) FROM duckdb_columns() WHERE database_name = current_database() "
            f"AND schema_name = 'main' AND table_name = '{table}' AND column_name = '{column}'",
        )[0]
    )


def default_cutoff(ws: Workspace, days: int = 90) -> dt.datetime:
    """``days`` before the workspace's as-of date."""
    return (pd.Timestamp(ws.as_of) - pd.Timedelta(days=days)).to_pydatetime()


def backtest(
    ws: Workspace,
    cutoff: dt.datetime | str | None = None,
    *,
    adjust=(),
    min_evidence: int = 10,
    horizon: int = 90,
    deciles: int = 10,
    max_activities: int | None = None,
    max_leads: int | None = MAX_LEADS,
) -> BacktestResult:
    """Score the leads open at ``cutoff`` with models built from what was known then.

    ``max_activities``: the activity cap the analyses run with (see
    :meth:`royalroad.engine.Workspace.activity_cap`), applied to the past data too.
    ``max_leads``: above it the past is rebuilt from a fixed sample of the leads
    (:data:`MAX_LEADS`; None: every lead); ``sample_every`` in the result says so."""
    from royalroad.analysis.goals import discover_goals
    from royalroad.analysis.nba import next_best_actions
    from royalroad.analysis.paths import analyse_paths
    from royalroad.remote import RemoteWorkspace

    if isinstance(ws, RemoteWorkspace):  # the past is rebuilt in DuckDB only
        raise InputError("remote.no_backtest")
    as_of = pd.Timestamp(ws.as_of)
    cut = _cutoff(ws, cutoff)
    n_leads = one_row(ws.con, "SELECT count(*) FROM leads")[0]
    every = -(-n_leads // max_leads) if max_leads and n_leads > max_leads else 1
    past = as_of_workspace(ws, cut, every)
    try:
        _enough_history(past, cut)
    except BaseException:
        past.close()
        raise
    cap = past.activity_cap(max_activities) if max_activities else contextlib.nullcontext()
    try:
        stack = contextlib.ExitStack()
        stack.enter_context(cap)
        goals = discover_goals(past, pairs=6, adjust=adjust)
        paths = analyse_paths(past, goals=goals)
        nxt = next_best_actions(
            past,
            goals=goals,
            road=[s.activity for s in paths.royal_road],
            min_evidence=min_evidence,
            horizon=horizon,
        )
        proxies = [p.activity for p in goals.proxies]
        base_rate = goals.base_rate
        lead_score = baseline.snapshot_logit(past, cut, proxies)
        stack.close()
    finally:
        past.close()
    # the outcomes known today of the (sampled) leads: numbers only, no rendered rows
    truth = ws.con.execute(
        "SELECT lead_id, outcome FROM leads WHERE outcome IN ('won', 'lost') AND "
        + sample_filter(every)
    ).df()
    rows = nxt.leads.select(["lead_id", "current_win_rate", "status", "stalled"]).to_pandas()
    open_at_cut = len(rows)
    scored = (
        rows.merge(truth, on="lead_id", how="inner", validate="one_to_one")
        .sort_values("lead_id", kind="stable")
        .reset_index(drop=True)
    )
    if len(scored) < MIN_SCORED:
        raise InputError(
            "backtest.too_few", cutoff=f"{cut:%Y-%m-%d}", n=len(scored), need=MIN_SCORED
        )
    y = (scored.outcome == "won").to_numpy(dtype=float)
    p_rr = scored.current_win_rate.to_numpy(dtype=float)
    p_lr = scored.lead_id.map(lead_score).to_numpy(dtype=float)
    p_base = np.full(len(scored), base_rate)
    groups = {
        "nurture": (scored.status == "nurture").to_numpy(),
        "sales_ready": (scored.status == "sales_ready").to_numpy(),
        "stalled": scored.stalled.to_numpy(dtype=bool),
    }
    folds = np.array([zlib.crc32(str(i).encode()) % 2 for i in scored.lead_id])
    recal = recalibration(p_rr, y, folds)
    models = [
        _score("royalroad", p_rr, y, groups, deciles),
        _score("base_rate", p_base, y, groups, deciles),
        _score("lead_score", p_lr, y, groups, deciles),
    ]
    if recal.kind != "none":
        models.append(_score("royalroad_recalibrated", recal.apply(p_rr), y, groups, deciles))
    scores = pd.DataFrame(
        {
            "lead_id": scored.lead_id,
            "status": scored.status,
            "stalled": groups["stalled"],
            "won": y,
            **{m.name: p for m, p in zip(models, (p_rr, p_base, p_lr), strict=False)},
        }
    )
    return BacktestResult(
        cutoff=f"{cut:%Y-%m-%d %H:%M:%S}",
        as_of=f"{as_of:%Y-%m-%d %H:%M:%S}",
        open_at_cutoff=open_at_cut,
        scored=len(scored),
        still_open=open_at_cut - len(scored),
        goal=goals.recommended.label() if goals.recommended else None,
        models=tuple(models),
        recalibration=recal,
        scores=scores,
        sample_every=every,
    )


def _enough_history(past: Workspace, cut: dt.datetime) -> None:
    """The goal search's floor, applied to what was known at the cut-off."""
    from royalroad.analysis.goals import MIN_CLOSED, MIN_PER_CLASS

    won, lost, _ = past.outcome_counts()
    if won + lost < MIN_CLOSED or won < MIN_PER_CLASS or lost < MIN_PER_CLASS:
        raise InputError(
            "backtest.too_little_history",
            cutoff=f"{cut:%Y-%m-%d}",
            closed=won + lost,
            won=won,
            lost=lost,
            min_closed=MIN_CLOSED,
            min_class=MIN_PER_CLASS,
        )


def _cutoff(ws: Workspace, cutoff) -> dt.datetime:
    as_of = pd.Timestamp(ws.as_of)
    if cutoff is None:
        return default_cutoff(ws)
    try:
        cut = pd.Timestamp(cutoff)
    except (ValueError, TypeError):
        raise InputError("backtest.bad_cutoff", value=str(cutoff)) from None
    if cut.tzinfo is not None:
        cut = cut.tz_convert(None)
    if not cut < as_of:
        raise InputError("backtest.cutoff_after", value=f"{cut}", as_of=f"{as_of}")
    return cut.to_pydatetime()


def _score(
    name: str, p: np.ndarray, y: np.ndarray, groups: dict[str, np.ndarray], k: int
) -> ModelScore:
    order = np.lexsort((np.arange(len(p)), p))  # ties stay in lead order
    parts = np.array_split(order, min(k, len(p)))
    dec = []
    for i, idx in enumerate(parts, start=1):
        won = int(y[idx].sum())
        lo, hi = stats.wilson(won, len(idx))
        dec.append(
            Decile(i, len(idx), float(p[idx].mean()), won / len(idx), (float(lo), float(hi)))
        )
    gaps = {g: _gap(p[m], y[m]) for g, m in groups.items()}
    return ModelScore(
        name=name,
        brier=stats.brier(p, y),
        log_loss=stats.log_loss(p, y),
        auc=stats.auc(p, y),
        gap=_gap(p, y),
        gap_nurture=gaps["nurture"],
        gap_sales_ready=gaps["sales_ready"],
        gap_stalled=gaps["stalled"],
        n_nurture=int(groups["nurture"].sum()),
        n_sales_ready=int(groups["sales_ready"].sum()),
        n_stalled=int(groups["stalled"].sum()),
        deciles=tuple(dec),
    )


def _gap(p: np.ndarray, y: np.ndarray) -> float:
    return float(p.mean() - y.mean()) if len(p) else math.nan


def recalibration(p: np.ndarray, y: np.ndarray, folds: np.ndarray) -> Recalibration:
    """Isotonic and Platt recalibration, judged by their out-of-fold Brier score."""
    cv = {"none": stats.brier(p, y)}
    for kind in ("isotonic", "platt"):
        losses: list[float] = []
        for f in (0, 1):
            train, test = folds != f, folds == f
            if train.sum() < 10 or test.sum() < 10 or len(set(y[train])) < 2:
                losses = []
                break
            fitted = Recalibration.fit(kind, p[train], y[train])
            losses.append(((fitted.apply(p[test]) - y[test]) ** 2).sum())
        if losses:
            cv[kind] = float(sum(losses) / len(p))
    best = min(cv, key=lambda k: (cv[k], k != "none", k))
    if best == "none" or cv[best] > cv["none"] - IMPROVES:
        return Recalibration("none", cv=cv)
    chosen = Recalibration.fit(best, p, y)
    return Recalibration(chosen.kind, chosen.params, cv=cv)
