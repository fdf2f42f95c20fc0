"""Absorbing Markov chain of journeys, solved exactly through the fundamental matrix.

States are activities (order 1) or pairs of consecutive activities (order 2), plus
``▶start`` and the absorbing ``■won`` and ``■lost``. Transition probabilities are
the observed transition counts normalised per state. Open leads contribute the
transitions they made but no exit: their journeys are censored, not lost.

With Q the transient-to-transient block and R the transient-to-absorbing block,
N = (I − Q)⁻¹ is the fundamental matrix; B = N R gives the absorption probabilities
(P(win | state) is B[:, won]) and t = N 1 the expected steps to absorption. We solve
the linear systems instead of inverting, deterministically: no simulation.

A state from which no absorbing state can be reached (only open leads ever passed
through it, and they never left) has no defined P(win); it is reported as NaN and
treated as a dead end (never winning) by the states that lead into it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from royalroad.analysis.journeys import LOST, START, WON

ABSORBING = (WON, LOST)


@dataclass(frozen=True)
class Chain:
    """Transition counts as a matrix over sorted states (transient first, then won, lost)."""

    transient: tuple[str, ...]
    counts: np.ndarray  # shape (n_transient, n_transient + 2)

    @property
    def states(self) -> tuple[str, ...]:
        return (*self.transient, *ABSORBING)

    @classmethod
    def from_counts(cls, counts: Mapping[tuple[str, str], float]) -> Chain:
        names = sorted(
            ({s for s, _ in counts} | {d for _, d in counts}) - set(ABSORBING) - {_open()}
        )
        names = [START] + [n for n in names if n != START] if START in names else names
        index = {n: i for i, n in enumerate(names)}
        k = len(names)
        m = np.zeros((k, k + 2))
        for (src, dst), n in counts.items():
            if src in ABSORBING or dst == _open() or src not in index:
                continue
            col = k + ABSORBING.index(dst) if dst in ABSORBING else index[dst]
            m[index[src], col] += float(n)
        return cls(tuple(names), m)


def _open() -> str:
    from royalroad.analysis.journeys import OPEN

    return OPEN


@dataclass(frozen=True)
class Solution:
    states: tuple[str, ...]
    p_win: np.ndarray
    p_lost: np.ndarray
    expected_steps: np.ndarray

    def of(self, state: str) -> float:
        return float(self.p_win[self.states.index(state)])


def _probabilities(chain: Chain) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    k = len(chain.transient)
    row = chain.counts.sum(axis=1)
    p = np.divide(
        chain.counts, row[:, None], out=np.zeros_like(chain.counts), where=row[:, None] > 0
    )
    return p[:, :k], p[:, k:], row


def _alive(q: np.ndarray, r: np.ndarray) -> np.ndarray:
    """States from which an absorbing state can be reached (reverse reachability)."""
    alive = r.sum(axis=1) > 0
    changed = True
    while changed:  # at most k rounds over a k×k matrix: per-activity work
        new = alive | ((q > 0) & alive[None, :]).any(axis=1)
        changed = bool((new != alive).any())
        alive = new
    return alive


def solve(chain: Chain) -> Solution:
    """Absorption probabilities and expected steps for every transient state."""
    q, r, _ = _probabilities(chain)
    k = q.shape[0]
    alive = _alive(q, r)
    p_win = np.full(k, math.nan)
    p_lost = np.full(k, math.nan)
    steps = np.full(k, math.nan)
    if alive.any():
        idx = np.flatnonzero(alive)
        qa = q[np.ix_(idx, idx)]
        ra = r[idx]
        a = np.eye(idx.size) - qa
        b = np.linalg.solve(a, ra)
        p_win[idx], p_lost[idx] = b[:, 0], b[:, 1]
        # expected steps until the journey ends: absorption, or the step into a dead end
        steps[idx] = np.linalg.solve(a, np.ones(idx.size))
    return Solution(chain.transient, p_win, p_lost, steps)


def without(chain: Chain, removed: Iterable[str]) -> Chain:
    """The chain where reaching a removed state ends the journey unconverted (attribution)."""
    gone = set(removed)
    k = len(chain.transient)
    m = chain.counts.copy()
    for i, name in enumerate(chain.transient):
        if name in gone:
            m[:, k + 1] += m[:, i]  # flows into the removed state now end as lost
            m[:, i] = 0
            m[i, :] = 0
            m[i, k + 1] = 1  # the removed state itself absorbs into lost
    return Chain(chain.transient, m)


def removal_effects(chain: Chain, groups: Mapping[str, Iterable[str]]) -> dict[str, float]:
    """Relative drop in P(win from start) when each activity (its states) is removed.

    ``groups`` maps an activity to the states that carry it (one state at order 1;
    every pair whose current activity it is at order 2).
    """
    if START not in chain.transient:
        return {}
    base = solve(chain).of(START)
    out = {}
    for activity, states in sorted(groups.items()):
        p = solve(without(chain, states)).of(START)
        out[activity] = 1.0 - p / base if base > 0 else math.nan
    return out


def most_probable_path(
    chain: Chain,
    source: str,
    target: str,
    *,
    avoid: Iterable[str] = (),
    p_win: np.ndarray | None = None,
    min_gain: float = 0.0,
) -> list[str] | None:
    """The most probable sequence of states from ``source`` to ``target`` (Dijkstra on −log p).

    With ``p_win`` (P(win) per transient state), only steps that change it by at
    least ``min_gain`` are allowed (a negative value is a tolerance): a road to a
    win does not detour through steps that lower the odds. Deterministic: ties are
    broken by state name.
    """
    import heapq

    q, r, _ = _probabilities(chain)
    names = chain.states
    k = len(chain.transient)
    full = np.zeros((len(names), len(names)))
    full[:k, :k] = q
    full[:k, k:] = r
    banned = set(avoid)
    start, goal = names.index(source), names.index(target)
    dist = {start: 0.0}
    prev: dict[int, int] = {}
    heap: list[tuple[float, str, int]] = [(0.0, names[start], start)]
    done = set()
    while heap:
        d, _, u = heapq.heappop(heap)
        if u in done:
            continue
        done.add(u)
        if u == goal:
            break
        if u >= k:
            continue
        for v in map(int, np.flatnonzero(full[u] > 0)):
            if names[v] in banned and v != goal:
                continue
            if p_win is not None and v < k and not (p_win[v] >= p_win[u] + min_gain):
                continue
            nd = d - math.log(full[u, v])
            if nd < dist.get(v, math.inf) - 1e-15:
                dist[v] = nd
                prev[v] = u
                heapq.heappush(heap, (nd, names[v], v))
    if goal not in done:
        return None
    path = [goal]
    while path[-1] != start:
        path.append(prev[path[-1]])
    return [names[i] for i in reversed(path)]
