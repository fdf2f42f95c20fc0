"""The royal road's milestone rule, against brute force and the simulator's planted stages."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import royalroad as rr
from royalroad.analysis import markov
from royalroad.analysis.goals import discover_goals
from royalroad.analysis.journeys import LOST, START, WON
from royalroad.analysis.paths import analyse_paths
from royalroad.simulate import simulate

COUNTS = {
    (START, "a"): 6,
    (START, "b"): 4,
    ("a", "b"): 3,
    ("a", "c"): 2,
    ("a", LOST): 1,
    ("b", "c"): 5,
    ("b", "d"): 1,
    ("b", LOST): 4,
    ("c", "d"): 2,
    ("c", WON): 3,
    ("c", LOST): 2,
    ("d", WON): 2,
    ("d", LOST): 1,
}


def _brute(chain: markov.Chain, src: str, dst: str, p_win: np.ndarray | None, min_gain: float):
    q = chain.counts / chain.counts.sum(axis=1, keepdims=True)
    names = chain.states
    k = len(chain.transient)
    best, best_p = None, 0.0
    middle = [s for s in chain.transient if s not in (src, dst)]
    for n in range(len(middle) + 1):
        for perm in itertools.permutations(middle, n):
            path = [src, *perm, dst]
            p = 1.0
            for u, v in itertools.pairwise(path):
                i, j = names.index(u), names.index(v)
                if p_win is not None and j < k and not p_win[j] >= p_win[i] + min_gain:
                    p = 0.0
                p *= q[i, j]
            if p > best_p + 1e-15:
                best, best_p = path, p
    return best


@pytest.mark.parametrize("min_gain", [None, -0.01, 0.0, 0.05])
def test_most_probable_path_equals_brute_force(min_gain):
    chain = markov.Chain.from_counts(COUNTS)
    sol = markov.solve(chain)
    p_win = None if min_gain is None else sol.p_win
    got = markov.most_probable_path(chain, START, WON, p_win=p_win, min_gain=min_gain or 0.0)
    assert got == _brute(chain, START, WON, p_win, min_gain or 0.0)


@pytest.mark.parametrize("scenario", ["manufacturing", "education", "consulting"])
def test_steps_after_the_goal_raise_the_odds(tmp_path, scenario):
    data = simulate(scenario, leads=2500, seed=8)
    data.write(tmp_path)
    ws = rr.ingest(leads=tmp_path / "leads.csv", events=tmp_path / "events.csv")
    goals = discover_goals(ws, pairs=0, adjust=["industry"])
    confounded = sorted({c.activity for c in goals.candidates if c.confounded and c.then is None})
    result = analyse_paths(
        ws, goal=goals.recommended, exclude=[p.activity for p in goals.proxies], avoid=confounded
    )
    steps = [s.activity for s in result.royal_road]
    goal = data.truth["goal"]["activity"]
    assert goal in steps and steps[-1] == WON
    after = [s.p_win_after for s in result.royal_road[steps.index(goal) :]]
    assert all(b >= a - 1e-12 for a, b in itertools.pairwise(after)), result.royal_road
    assert not set(steps) & {c["activity"] for c in data.truth["confounders"]}
    assert not math.isnan(result.p_win_start)
