"""Vectorised generator of one scenario: lead attributes, journeys, outcomes, events.

No Python loop runs over leads or events; loops run over the few activities of a
scenario. Every lead is drawn at once as a column of numpy arrays:

1. attributes: source, industry, region, rep, creation time, amount;
2. the journey: reaches the goal with ``expit(a + log skill + log source odds)``,
   then each later stage with a fixed share of the previous one ("depth");
3. the outcome: win rate ``expit(b[depth] + e[industry])``. Outside ``null`` it is
   assigned by stratified sampling: in every cell of (depth, industry, closed)
   exactly ``round(p * n_cell)`` leads win, so the planted rates hold in the sample
   (a goal finder sees the same ranking for every seed, with little sampling
   noise). Under ``null`` outcomes are plain independent draws with one constant
   rate: genuine noise, on which a goal finder must find nothing;
4. timestamps. The time from the goal to the close is drawn *once* for all depths
   and the later stages are placed inside it, so how long a deal takes (and hence
   whether it is still open at ``as_of``) depends neither on its depth nor on its
   outcome: the planted rates hold among closed leads as well as among all leads.

The intercepts ``a`` and ``b`` are solved (bisection on the exact expectation) so
that the planted rates hold for the scenario's mix of reps, sources and industries.
The confounder activity is assigned by stratified sampling: within every cell of
(industry, goal reached, outcome, closed) exactly ``round(p * n_cell)`` leads do it,
so it is independent of goal and outcome given industry in the sample itself, not
only in expectation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from royalroad.errors import InternalError
from royalroad.simulate.scenarios import Scenario

DAY = 86_400
HOUR = 3_600
SLOT = 1_800
_PERSONAL = frozenset({"対面", "電話", "展示会"})  # channels where a rep is logged on the entry


@dataclass(frozen=True)
class Journeys:
    """Per-lead arrays the notes and the truth need (index = lead position)."""

    rep: np.ndarray
    created: np.ndarray
    close: np.ndarray
    won: np.ndarray
    closed: np.ndarray


@dataclass(frozen=True)
class Generated:
    leads: pa.Table
    events: pa.Table
    journeys: Journeys
    win_intercepts: tuple[float, ...]  # b[depth] on the logit scale
    industry_log_odds: tuple[float, ...]
    drift_at: int | None = None  # seconds since the epoch; None without drift


def expit(x: np.ndarray | float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float)))


def calibrate(target: float, weights: np.ndarray, offsets: np.ndarray) -> float:
    """Intercept ``a`` with ``sum(w * expit(a + offsets)) == target`` (weights sum to 1)."""
    w = np.asarray(weights, dtype=float) / np.sum(weights)
    lo, hi = -30.0, 30.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if float(np.sum(w * expit(mid + offsets))) < target:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def _goal_design(
    sc: Scenario, skill: np.ndarray, src_odds: np.ndarray, src_share: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Offsets and weights of every (rep, source, once-steps done) cell, for the goal's
    intercept: the exact expectation over the scenario's design, not over a sample."""
    offsets, weights = [], []
    for sk in skill:
        for s, so in enumerate(src_odds):
            cells = [(0.0, 1.0)]  # (log odds added by the once-steps, probability)
            for once in sc.once:
                p = once.p if sc.sources[s].entry != once.activity else 0.0
                g = float(np.log(once.goal_odds))
                cells = [(o + g * h, w * (p if h else 1 - p)) for o, w in cells for h in (1, 0)]
            for o, w in cells:
                offsets.append(sk + so + o)
                weights.append(src_share[s] / len(skill) * w)
    return np.array(offsets), np.array(weights)


def business(t: np.ndarray) -> np.ndarray:
    """Map a time to a half-hour slot between 09:00 and 17:30 of the same day (monotone)."""
    day = t // DAY * DAY
    return day + 9 * HOUR + (t - day) * 18 // DAY * SLOT


def _shares(items) -> np.ndarray:
    p = np.array([x.share if hasattr(x, "share") else x[1] for x in items], dtype=float)
    return p / p.sum()


def _days(rng: np.random.Generator, mean: float, n: int) -> np.ndarray:
    """Gamma(shape 2) durations in seconds with the given mean in days."""
    return rng.gamma(2.0, mean / 2.0, n) * DAY


def strings(codes: np.ndarray, names: list[str], null: np.ndarray | None = None) -> pa.Array:
    """Dictionary-decode integer codes into a plain string array (``null`` marks nulls)."""
    idx = pa.array(codes.astype(np.int32), mask=null)
    return pa.DictionaryArray.from_arrays(idx, pa.array(names, pa.string())).cast(pa.string())


def timestamps(t: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    return pa.array(t.astype("datetime64[s]"), type=pa.timestamp("s"), mask=null)


def lead_ids(prefix: str, n: int) -> pa.Array:
    width = max(6, len(str(n)))
    num = pc.utf8_lpad(pa.array(np.arange(1, n + 1)).cast(pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise(pa.scalar(prefix + "-"), num, "")


def stratified(rng, cells: np.ndarray, p_cell: np.ndarray) -> np.ndarray:
    """Exactly ``round(p_cell[c] * n_c)`` randomly chosen members of every cell ``c``."""
    n = cells.size
    order = np.lexsort((rng.random(n), cells))
    counts = np.bincount(cells, minlength=p_cell.size)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    sorted_cells = cells[order]
    rank = np.arange(n) - starts[sorted_cells]
    take = np.floor(p_cell * counts + 0.5).astype(np.int64)
    chosen = np.zeros(n, dtype=bool)
    chosen[order] = rank < take[sorted_cells]
    return chosen


class _Events:
    """Collects blocks of events (one activity at a time) and sorts them once."""

    def __init__(self, sc: Scenario, extra: tuple[tuple[str, str], ...] = ()) -> None:
        # extra (activity, channel) pairs come last, so the codes of the others never move
        self.codes = {a: i for i, a in enumerate([*sc.activities, *(a for a, _ in extra)])}
        if len(self.codes) > 32 or sc.span_days > 1500:  # the sort key's bit budget
            raise InternalError("error.internal", detail=f"scenario {sc.name} too large")
        channels = {s.entry_channel for s in sc.sources} | {s.channel for s in sc.once}
        channels |= {c.channel for c in sc.counts} | set(sc.goal.channels)
        channels |= {c for st in sc.stages for c in st.channels}
        channels |= {sc.confounder.channel, sc.proxy_channel, "対面", "メール"}
        channels |= {c for _, c in extra}
        self.channels = sorted(channels)
        self.blocks: list[tuple[np.ndarray, np.ndarray, int, np.ndarray, bool]] = []

    def add(self, lead, ts, activity, channel, by_rep, rng=None) -> None:
        if isinstance(channel, str):
            chan = np.full(lead.size, self.channels.index(channel), dtype=np.int8)
        else:
            choice = np.array([self.channels.index(c) for c in channel], dtype=np.int8)
            chan = choice[rng.integers(0, len(choice), lead.size)]
        self.blocks.append((lead, ts.astype(np.int64), self.codes[activity], chan, by_rep))

    def table(self, sc: Scenario, ids: pa.Array, rep_of_lead, start: int, as_of: int) -> pa.Table:
        lead = np.concatenate([b[0] for b in self.blocks]).astype(np.int64)
        ts = np.concatenate([b[1] for b in self.blocks])
        act = np.concatenate([np.full(b[0].size, b[2], dtype=np.int64) for b in self.blocks])
        chan = np.concatenate([b[3] for b in self.blocks])
        by_rep = np.concatenate([np.full(b[0].size, b[4]) for b in self.blocks])
        self.blocks = []
        keep = ts <= as_of
        lead, ts, act, chan, by_rep = lead[keep], ts[keep], act[keep], chan[keep], by_rep[keep]
        # one int64 key: lead (31 bits) | seconds since start (27 bits) | tie rank (5 bits)
        key = (lead << 32) | ((ts - start) << 5) | act
        order = np.argsort(key, kind="stable")
        lead, ts, act, chan, by_rep = lead[order], ts[order], act[order], chan[order], by_rep[order]
        reps = [r for r, _ in sc.reps]
        return pa.table(
            {
                "lead_id": ids.take(pa.array(lead)),
                "activity": strings(act, list(self.codes)),
                "ts": timestamps(ts),
                "rep": strings(np.where(by_rep, rep_of_lead[lead], 0), reps, null=~by_rep),
                "channel": strings(chan, self.channels),
            }
        )


def generate(
    sc: Scenario, n: int, seed: int, null: bool, as_of: int, drift_at: int | None = None
) -> Generated:
    """Draw ``n`` leads of scenario ``sc``; ``as_of`` in seconds since the epoch (naive).

    With ``drift_at`` (seconds, inside the span) every lead created at or after it has
    ``sc.drift.win_odds`` times the win odds, and a share ``sc.drift.p`` of those leads
    do ``sc.drift.activity`` (independent of goal and outcome given the period, by
    stratified sampling). Its random numbers come from a fifth stream, so the data
    without drift stay the same bytes.
    """
    streams = np.random.SeedSequence(seed).spawn(6)
    r_lead, r_path, r_time, r_event = (np.random.Generator(np.random.PCG64(s)) for s in streams[:4])
    # the pace trait (slow leads: fewer repeated steps, lower win odds) has its own stream
    slow = np.random.Generator(np.random.PCG64(streams[5])).random(n) < sc.slow_share
    start = as_of - sc.span_days * DAY

    # 1. attributes
    src_share, ind_share = _shares(sc.sources), _shares(sc.industries)
    src = r_lead.choice(len(src_share), size=n, p=src_share)
    ind = r_lead.choice(len(ind_share), size=n, p=ind_share)
    reg = r_lead.choice(len(sc.regions), size=n, p=_shares(sc.regions))
    rep = r_lead.integers(0, len(sc.reps), n)
    created = start + r_lead.integers(0, sc.span_days, n) * DAY
    created += r_lead.integers(9 * HOUR, 19 * HOUR, n)
    amount = np.round(r_lead.lognormal(np.log(sc.amount_median), sc.amount_sigma, n), -4)
    amount = np.maximum(amount, 10_000).astype(np.int64)

    # 2. the cheap once-steps (資料送付…), then journey depth: 0 = no goal, 1 = goal, 2.. =
    # later stages. A once-step with goal_odds > 1 is the planted route to the goal.
    has_once = []
    for once in sc.once:
        not_entry = np.array([s.entry != once.activity for s in sc.sources])
        has_once.append((r_path.random(n) < once.p) & not_entry[src])
    skill = np.log([s for _, s in sc.reps])
    src_odds = np.log([s.goal_odds for s in sc.sources])
    offsets, weights = _goal_design(sc, skill, src_odds, src_share)
    a = calibrate(sc.goal.p, weights, offsets)
    route = sum(
        (np.log(once.goal_odds) * has for once, has in zip(sc.once, has_once, strict=True)),
        np.zeros(n),
    )
    goal = r_path.random(n) < expit(a + skill[rep] + src_odds[src] + route)
    reach = [goal]
    for st in sc.stages:
        reach.append(reach[-1] & (r_path.random(n) < st.p))
    depth = np.sum(reach, axis=0)

    # 3. win-rate intercepts per depth (the outcome itself is drawn once closure is known)
    names = [name for name, _ in sc.industries]
    conf = names.index(sc.confounder.industry)
    tour_p = np.full(len(names), sc.confounder.p_out)
    tour_p[conf] = sc.confounder.p_in
    e = np.zeros(len(names))
    e[conf] = 0.0 if null else np.log(sc.confounder.win_odds)
    # the pace effect: slow leads (a share slow_share) have slow_win_odds times the odds
    pace = np.array([0.0, 0.0 if null else np.log(sc.slow_win_odds)])
    pace_mix = np.array([1 - sc.slow_share, sc.slow_share])
    targets = [sc.win_catalogue, sc.goal.win] + [st.win for st in sc.stages]
    mix = [ind_share * (1 - tour_p)] + [ind_share] * (len(targets) - 1)  # depth 0: catalogue-only
    b = [
        calibrate(w, np.outer(m, pace_mix).ravel(), (e[:, None] + pace[None, :]).ravel())
        for w, m in zip(targets, mix, strict=True)
    ]
    if null:
        b = [float(np.log(sc.win_null / (1 - sc.win_null)))] * len(targets)

    # 4. times (seconds, naive local time), then the outcome and the events
    ev = _Events(sc, ((sc.drift.activity, sc.drift.channel),) if drift_at is not None else ())
    lead_all = np.arange(n)
    for k, s in enumerate(sc.sources):
        m = src == k
        ev.add(lead_all[m], created[m], s.entry, s.entry_channel, s.entry_channel in _PERSONAL)
    last_cheap = created.copy()
    once_times = []
    t_goal = business(created + (DAY + _days(r_time, sc.days_to_goal, n)).astype(np.int64))
    for once, has in zip(sc.once, has_once, strict=True):
        delay = np.minimum(r_time.exponential(once.mean_delay_days * DAY, n), 5 * DAY)
        t = created + np.where(r_time.random(n) < once.same_time_share, 0, delay).astype(np.int64)
        last_cheap = np.where(has, np.maximum(last_cheap, t), last_cheap)
        once_times.append((once, has, t))
        if once.goal_odds != 1.0:  # a step on the route comes before the goal it leads to
            t_goal = np.where(has, np.maximum(t_goal, business(t + DAY)), t_goal)
    span = 7 * DAY + _days(r_time, sc.days_goal_to_close, n)
    close_goal = business(t_goal + span.astype(np.int64))
    wait = (DAY + _days(r_time, sc.days_to_close_no_goal, n)).astype(np.int64)
    close_none = business(last_cheap + wait)
    close = np.where(goal, close_goal, close_none)
    closed = close <= as_of

    # outcome: exact planted rates per (depth, industry, closed) cell; plain noise under null
    post = created >= drift_at if drift_at is not None else np.zeros(n, dtype=bool)
    shift = float(np.log(sc.drift.win_odds)) if drift_at is not None else 0.0
    if null:
        won = r_path.random(n) < expit(b[0] + shift * post)
    else:  # cells of (depth, industry, created after the drift, pace, closed)
        logit = (
            np.asarray(b)[:, None, None, None]
            + e[None, :, None, None]
            + shift * np.arange(2)[None, None, :, None]
            + pace[None, None, None, :]
        )
        cells = (((depth * len(names) + ind) * 2 + post) * 2 + slow) * 2 + closed
        won = stratified(r_path, cells, np.repeat(expit(logit).ravel(), 2))

    for once, has, t in once_times:
        ev.add(lead_all[has], t[has], once.activity, once.channel, once.by_rep)
    ev.add(lead_all[goal], t_goal[goal], sc.goal.activity, sc.goal.channels, sc.goal.by_rep, r_time)
    second = goal & (r_time.random(n) < sc.repeat_goal)
    t2 = business(t_goal + (r_time.random(n) * 0.8 * span).astype(np.int64))
    t2 = np.maximum(t2, t_goal + SLOT)
    ev.add(lead_all[second], t2[second], sc.goal.activity, sc.goal.channels, sc.goal.by_rep, r_time)
    n_st = len(sc.stages)
    for k, st in enumerate(sc.stages):  # stage k inside window k of (0.10, 0.85) of the span
        lo, hi = 0.10 + 0.75 * k / n_st, 0.10 + 0.75 * (k + 1) / n_st - 0.05
        t = business(t_goal + ((lo + (hi - lo) * r_time.random(n)) * span).astype(np.int64))
        m = reach[k + 1]
        ev.add(lead_all[m], t[m], st.activity, st.channels, st.by_rep, r_time)

    # slow leads repeat at slow_repeat_rate times the others' rate; the mean stays mean_count
    pace_rate = np.where(slow, sc.slow_repeat_rate, 1.0)
    pace_rate /= 1 - sc.slow_share + sc.slow_share * sc.slow_repeat_rate
    for c in sc.counts:
        per_lead = r_event.poisson(c.mean_count * pace_rate)
        lead = np.repeat(lead_all, per_lead)
        t = created[lead] + (r_event.random(lead.size) * (close - created)[lead]).astype(np.int64)
        if c.by_rep:  # people call in office hours; mail is opened at any time
            t = np.clip(business(t), created[lead], close[lead] - HOUR)
        ev.add(lead, t, c.activity, c.channel, c.by_rep)

    cells = ((ind * 2 + goal) * 2 + won) * 2 + closed
    tour = stratified(r_event, cells, np.repeat(tour_p, 8))
    t = created + (r_event.random(n) * (close - HOUR - created)).astype(np.int64)
    personal = sc.confounder.channel in _PERSONAL
    if personal:
        t = np.clip(business(t), created, close - HOUR)
    ev.add(lead_all[tour], t[tour], sc.confounder.activity, sc.confounder.channel, personal)

    if drift_at is not None:
        r_drift = np.random.Generator(np.random.PCG64(streams[4]))
        cells = ((post * 2 + goal) * 2 + won) * 2 + closed
        briefed = stratified(r_drift, cells, np.repeat([0.0, sc.drift.p], 8))
        t = created + (r_drift.random(n) * (close - HOUR - created)).astype(np.int64)
        ev.add(lead_all[briefed], t[briefed], sc.drift.activity, sc.drift.channel, False)

    u = r_event.random(n)
    proxy = np.where(won, u < sc.proxy_p_won, u < sc.proxy_p_lost)
    t = close - r_event.integers(HOUR, 6 * HOUR + 1, n)
    ev.add(lead_all[proxy], t[proxy], sc.proxy, sc.proxy_channel, True)
    u = r_event.random(n)
    post = won & (u < sc.post_won_p)
    t = business(close + (DAY + _days(r_event, 10.0, n)).astype(np.int64))
    ev.add(lead_all[post], t[post], sc.post_won, "対面", True)
    post = ~won & (u < sc.post_lost_p)
    t = close + (DAY + r_event.exponential(7 * DAY, n)).astype(np.int64)
    ev.add(lead_all[post], t[post], sc.post_lost, "メール", True)

    ids = lead_ids(sc.prefix, n)
    events = ev.table(sc, ids, rep, start, as_of)
    outcome = np.where(closed, np.where(won, 0, 1), 2)
    leads = pa.table(
        {
            "lead_id": ids,
            "created_at": timestamps(created),
            "outcome": strings(outcome, ["won", "lost", "open"]),
            "closed_at": timestamps(close, null=~closed),
            "amount": pa.array(amount, pa.int64()),
            "industry": strings(ind, names),
            "source": strings(src, [s.name for s in sc.sources]),
            "region": strings(reg, [r for r, _ in sc.regions]),
            "rep": strings(rep, [r for r, _ in sc.reps]),
        }
    )
    return Generated(
        leads=leads,
        events=events,
        journeys=Journeys(rep=rep, created=created, close=close, won=won, closed=closed),
        win_intercepts=tuple(float(x) for x in b),
        industry_log_odds=tuple(float(x) for x in e),
        drift_at=drift_at,
    )
