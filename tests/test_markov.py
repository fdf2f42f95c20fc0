"""The absorbing Markov chain, checked against computations that share no code with it.

* P(win) and expected steps: numpy power iteration of the full transition matrix
  (absorbing states and dead ends made to trap), and exact rational arithmetic
  (``fractions.Fraction`` Gaussian elimination of the first-step equations).
* Removal effects: the counts rebuilt without the channel (its inflow routed to
  ``■lost``), solved again by power iteration.
* The most probable path: enumeration of every simple path.
* Aggregated path files: ChannelAttribution's simulated ``markov_model`` (GPL,
  test-only) on its own example data, and a hand-made file with duplicated paths.

Every reference here starts from the transition *counts* written in the test, with
its own state indexing, so an indexing slip in :class:`markov.Chain` cannot cancel
out.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from royalroad.analysis import markov
from royalroad.analysis.journeys import LOST, OPEN, START, WON
from royalroad.analysis.pathfile import analyse_path_file, path_counts

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
CA_DATA = SHARED / "channelattribution_paths" / "Data.csv"

# ---------------------------------------------------------------- references


def _states(counts) -> list[str]:
    names = {s for s, _ in counts} | {d for _, d in counts}
    return sorted(names - {WON, LOST, OPEN})


def power_reference(counts, *, steps: int = 200_000, tol: float = 1e-15):
    """P(win), P(lost) and E[steps to absorption] for every transient state, by power iteration.

    Open exits are censoring, not an end: they are dropped before normalising. A
    state without any other exit traps the walker forever (it never wins or loses);
    its expected steps are then infinite.
    """
    names = _states(counts) + [WON, LOST]
    ix = {n: i for i, n in enumerate(names)}
    k = len(names) - 2
    p = np.zeros((k + 2, k + 2))
    for (s, d), n in counts.items():
        if d != OPEN:
            p[ix[s], ix[d]] += n
    # states with no way to won/lost (breadth-first search on reversed edges) trap the walker
    reaches = {k, k + 1}
    frontier = [k, k + 1]
    while frontier:
        j = frontier.pop()
        for i in np.flatnonzero(p[:, j] > 0):
            if int(i) not in reaches:
                reaches.add(int(i))
                frontier.append(int(i))
    for i in range(k + 2):
        if i >= k or i not in reaches:
            p[i] = 0
            p[i, i] = 1.0  # absorbing, or a dead end trapping the walker
        p[i] /= p[i].sum()
    dead = [i for i in range(k) if p[i, i] == 1.0]
    v = np.eye(k + 2)[:k]  # one walker per starting state
    expected = np.zeros(k)
    for _ in range(steps):
        alive = v[:, :k].copy()
        alive[:, dead] = 0
        mass = alive.sum(axis=1)
        expected += mass
        v = v @ p
        if mass.max() < tol:
            break
    else:  # pragma: no cover - would mean the reference itself did not converge
        raise AssertionError("power iteration did not converge")
    trapped = v[:, dead].sum(axis=1) if dead else np.zeros(k)
    expected[trapped > 1e-12] = math.inf
    out = {}
    for n in names[:k]:
        i = ix[n]
        out[n] = (
            v[i, k],
            v[i, k + 1],
            expected[i] if n not in [names[j] for j in dead] else math.inf,
        )
    return out


def fraction_reference(counts) -> dict[str, tuple[Fraction, Fraction]]:
    """Exact P(win) and E[steps]: Gauss–Jordan on x = Q x + r, t = Q t + 1 over the rationals."""
    names = _states(counts)
    k = len(names)
    ix = {n: i for i, n in enumerate(names)}
    rows = {n: {} for n in names}
    for (s, d), n in counts.items():
        if d != OPEN:
            rows[s][d] = rows[s].get(d, Fraction(0)) + Fraction(n)
    # augmented matrix [I - Q | r_won | 1]
    a = [[Fraction(0)] * (k + 2) for _ in range(k)]
    for s in names:
        total = sum(rows[s].values())
        i = ix[s]
        a[i][i] += 1
        a[i][k + 1] = Fraction(1)
        for d, n in rows[s].items():
            if d == WON:
                a[i][k] += n / total
            elif d != LOST:
                a[i][ix[d]] -= n / total
    for c in range(k):
        piv = next(r for r in range(c, k) if a[r][c] != 0)
        a[c], a[piv] = a[piv], a[c]
        f = a[c][c]
        a[c] = [x / f for x in a[c]]
        for r in range(k):
            if r != c and a[r][c] != 0:
                g = a[r][c]
                a[r] = [x - g * y for x, y in zip(a[r], a[c], strict=True)]
    return {n: (a[ix[n]][k], a[ix[n]][k + 1]) for n in names}


def without_reference(counts, removed: set[str]) -> dict:
    """Counts of the journeys with ``removed`` taken out: reaching it ends the journey
    unconverted."""
    out: dict = {}
    for (s, d), n in counts.items():
        if s in removed:
            continue
        key = (s, LOST) if d in removed else (s, d)
        out[key] = out.get(key, 0) + n
    return out


def probabilities(counts) -> dict[str, dict[str, float]]:
    rows: dict[str, dict[str, float]] = {}
    for (s, d), n in counts.items():
        if d != OPEN:
            rows.setdefault(s, {})[d] = rows.setdefault(s, {}).get(d, 0) + n
    return {s: {d: n / sum(r.values()) for d, n in r.items()} for s, r in rows.items()}


def all_simple_paths(prob, source: str, target: str, banned=frozenset()):
    """Every simple path source → target with its probability (depth-first)."""
    out = []

    def walk(path, p):
        u = path[-1]
        if u == target:
            out.append((tuple(path), p))
            return
        for v, q in prob.get(u, {}).items():
            if v in path or (v in banned and v != target) or q <= 0:
                continue
            if v in (WON, LOST) and v != target:
                continue
            walk(path + [v], p * q)

    walk([source], 1.0)
    return out


def path_probability(prob, path) -> float:
    return math.prod(prob[a][b] for a, b in itertools.pairwise(path))


# ---------------------------------------------------------------- chains

# start → A ↔ B, self-loop on A, C back to B; open exits (censored) that must be ignored.
CYCLIC = {
    (START, "A"): 3,
    (START, "B"): 1,
    ("A", "A"): 1,
    ("A", "B"): 2,
    ("A", WON): 1,
    ("B", "A"): 1,
    ("B", "C"): 2,
    ("B", LOST): 1,
    ("B", OPEN): 7,
    ("C", WON): 2,
    ("C", LOST): 1,
    ("C", "B"): 1,
    ("C", "C"): 2,
    ("C", OPEN): 5,
}
# Three transient states plus start, a self-loop and a two-cycle, for exact arithmetic.
SMALL = {
    (START, "a"): 2,
    (START, "b"): 1,
    ("a", "a"): 1,
    ("a", "b"): 1,
    ("a", WON): 1,
    ("b", "a"): 2,
    ("b", LOST): 3,
}
# D and the cycle E ↔ F were reached only by open leads: no exit, P(win) undefined.
DEAD_ENDS = {
    (START, "A"): 4,
    (START, "E"): 1,
    ("A", WON): 2,
    ("A", "B"): 1,
    ("A", "D"): 1,
    ("B", WON): 1,
    ("B", LOST): 1,
    ("B", "D"): 2,
    ("D", OPEN): 3,
    ("E", "F"): 1,
    ("F", "E"): 1,
    ("F", OPEN): 1,
}


def _random_counts(seed: int, k: int = 6, density: float = 0.45) -> dict:
    rng = np.random.default_rng(seed)
    names = [chr(ord("A") + i) for i in range(k)]
    counts = {}
    for n in names:
        counts[(START, n)] = int(rng.integers(1, 9))
    for s in names:
        for d in names + [WON, LOST]:
            if rng.random() < density:
                counts[(s, d)] = int(rng.integers(1, 20))
        # every state exits somewhere, so that no state is a dead end here
        if not any(d in (WON, LOST) for (a, d) in counts if a == s):
            counts[(s, LOST)] = int(rng.integers(1, 5))
    return counts


CHAINS = {"cyclic": CYCLIC, "small": SMALL, **{f"random{s}": _random_counts(s) for s in range(5)}}


# ---------------------------------------------------------------- exactness


@pytest.mark.parametrize("name", sorted(CHAINS))
def test_solve_equals_power_iteration(name):
    counts = CHAINS[name]
    sol = markov.solve(markov.Chain.from_counts(counts))
    ref = power_reference(counts)
    assert sorted(sol.states) == sorted(ref)
    for state, (p_win, p_lost, steps) in ref.items():
        i = sol.states.index(state)
        assert sol.p_win[i] == pytest.approx(p_win, abs=1e-9), state
        assert sol.p_lost[i] == pytest.approx(p_lost, abs=1e-9), state
        assert sol.expected_steps[i] == pytest.approx(steps, rel=1e-9), state
        assert sol.of(state) == pytest.approx(p_win, abs=1e-9)


@pytest.mark.parametrize("name", ["small", "cyclic"])
def test_solve_equals_exact_rational_solution(name):
    counts = CHAINS[name]
    sol = markov.solve(markov.Chain.from_counts(counts))
    exact = fraction_reference(counts)
    for state, (p_win, steps) in exact.items():
        assert abs(sol.of(state) - float(p_win)) < 1e-9, (state, p_win)
        assert abs(sol.expected_steps[sol.states.index(state)] - float(steps)) < 1e-9, (
            state,
            steps,
        )


def test_small_chain_by_hand():
    # a = 1/3 a + 1/3 b + 1/3, b = 2/5 a  →  8/15 a = 1/3: a = 5/8, b = 1/4,
    # start = 2/3 · 5/8 + 1/3 · 1/4 = 1/2
    exact = fraction_reference(SMALL)
    assert exact["a"][0] == Fraction(5, 8)
    assert exact["b"][0] == Fraction(1, 4)
    assert exact[START][0] == Fraction(1, 2)
    sol = markov.solve(markov.Chain.from_counts(SMALL))
    assert sol.of(START) == pytest.approx(1 / 2, abs=1e-12)


def test_open_exits_are_censored_not_lost():
    """Adding open exits to a state changes nothing: open journeys are not losses."""
    base = {k: v for k, v in CYCLIC.items() if k[1] != OPEN}
    a = markov.solve(markov.Chain.from_counts(base))
    b = markov.solve(markov.Chain.from_counts(CYCLIC))
    assert a.states == b.states
    np.testing.assert_allclose(a.p_win, b.p_win, rtol=0, atol=1e-12)


def test_state_reached_only_by_open_journeys_is_nan_not_a_crash():
    chain = markov.Chain.from_counts(DEAD_ENDS)
    sol = markov.solve(chain)
    ref = power_reference(DEAD_ENDS)
    for dead in ("D", "E", "F"):
        assert math.isnan(sol.of(dead)), dead
        assert math.isnan(sol.p_lost[sol.states.index(dead)])
    # the live states treat the dead ends as never winning: power iteration with D trapping
    for state in (START, "A", "B"):
        assert sol.of(state) == pytest.approx(ref[state][0], abs=1e-9)
        assert sol.p_lost[sol.states.index(state)] == pytest.approx(ref[state][1], abs=1e-9)
    # ...so they no longer sum to one
    assert sol.of("B") + sol.p_lost[sol.states.index("B")] == pytest.approx(0.5)
    effects = markov.removal_effects(chain, {s: [s] for s in ("A", "B", "D")})
    assert all(math.isfinite(v) for v in effects.values())
    # expected steps count the step into a dead end as the end of the journey (as if it
    # were lost): power iteration on the chain with D, E, F routed to lost
    ended = power_reference(without_reference(DEAD_ENDS, {"D", "E", "F"}))
    for state in (START, "A", "B"):
        assert sol.expected_steps[sol.states.index(state)] == pytest.approx(
            ended[state][2], rel=1e-9
        )
    assert math.isinf(ref["A"][2])  # strictly, a walker may never be absorbed from A


def test_everything_dead_gives_nan_removal_effects():
    counts = {(START, "A"): 2, ("A", OPEN): 2}
    chain = markov.Chain.from_counts(counts)
    sol = markov.solve(chain)
    assert math.isnan(sol.of(START)) and math.isnan(sol.of("A"))
    effects = markov.removal_effects(chain, {"A": ["A"]})
    assert list(effects) == ["A"] and math.isnan(effects["A"])


# ---------------------------------------------------------------- removal effects


@pytest.mark.parametrize("name", sorted(CHAINS) + ["dead_ends"])
def test_removal_effects_equal_brute_force(name):
    counts = DEAD_ENDS if name == "dead_ends" else CHAINS[name]
    chain = markov.Chain.from_counts(counts)
    channels = [s for s in chain.transient if s != START]
    got = markov.removal_effects(chain, {c: [c] for c in channels})
    base = power_reference(counts)[START][0]
    assert set(got) == set(channels)
    for c in channels:
        removed = power_reference(without_reference(counts, {c}))
        p = removed[START][0] if START in removed else 0.0
        assert got[c] == pytest.approx(1 - p / base, abs=1e-9), c


def test_removal_of_a_group_of_states_equals_brute_force():
    """Order 2: an activity is carried by several pair states, removed together."""
    counts = CHAINS["random3"]
    group = {"B", "D"}
    got = markov.removal_effects(markov.Chain.from_counts(counts), {"BD": sorted(group)})
    base = power_reference(counts)[START][0]
    p = power_reference(without_reference(counts, group))[START][0]
    assert got["BD"] == pytest.approx(1 - p / base, abs=1e-9)


# ---------------------------------------------------------------- most probable path


@pytest.mark.parametrize("seed", range(8))
def test_most_probable_path_equals_enumeration(seed):
    counts = _random_counts(100 + seed, k=6, density=0.5)
    chain = markov.Chain.from_counts(counts)
    prob = probabilities(counts)
    for target in (WON, LOST, "C"):
        for banned in (frozenset(), frozenset({"A"}), frozenset({"B", "E"})):
            paths = all_simple_paths(prob, START, target, banned)
            got = markov.most_probable_path(chain, START, target, avoid=banned)
            if not paths:
                assert got is None
                continue
            best = max(p for _, p in paths)
            assert got is not None, (target, banned)
            assert got[0] == START and got[-1] == target
            assert not set(got[1:-1]) & banned
            assert path_probability(prob, got) == pytest.approx(best, rel=1e-12), (target, banned)


def test_most_probable_path_on_a_hand_graph():
    counts = {
        (START, "A"): 6,
        (START, "B"): 4,
        ("A", WON): 1,
        ("A", "C"): 3,  # start→A→won 0.15
        ("B", WON): 2,
        ("B", LOST): 2,  # start→B→won 0.2
        ("C", WON): 9,
        ("C", LOST): 1,  # start→A→C→won 0.6·0.75·0.9 = 0.405
    }
    chain = markov.Chain.from_counts(counts)
    assert markov.most_probable_path(chain, START, WON) == [START, "A", "C", WON]
    assert markov.most_probable_path(chain, START, WON, avoid=["C"]) == [START, "B", WON]
    assert markov.most_probable_path(chain, "B", "C") is None


def test_most_probable_path_ties_broken_by_state_name():
    counts = {(START, "B"): 1, (START, "A"): 1, ("A", WON): 1, ("B", WON): 1}
    chain = markov.Chain.from_counts(counts)
    assert markov.most_probable_path(chain, START, WON) == [START, "A", WON]


# ---------------------------------------------------------------- path files


def test_duplicate_paths_are_summed(tmp_path):
    dup = tmp_path / "dup.csv"
    dup.write_text(
        "path;total_conversions;total_null\na > b;1;3\nb;2;0\na > b;4;1\na > c > b;0;2\n",
        encoding="utf-8",
    )
    one = tmp_path / "one.csv"
    one.write_text(
        "path;total_conversions;total_null\na > b;5;4\nb;2;0\na > c > b;0;2\n",
        encoding="utf-8",
    )
    c_dup, info_dup = path_counts(dup)
    c_one, info_one = path_counts(one)
    assert c_dup == c_one
    # by hand: start→a 11, start→b 2, a→b 9, a→c 2, c→b 2, b→won 7, b→lost 6
    assert c_one == {
        (START, "a"): 11,
        (START, "b"): 2,
        ("a", "b"): 9,
        ("a", "c"): 2,
        ("c", "b"): 2,
        ("b", WON): 7,
        ("b", LOST): 6,
    }
    assert (info_dup["rows"], info_dup["paths"]) == (4, 3)
    assert (info_dup["conversions"], info_dup["nulls"]) == (7, 6)
    r_dup, r_one = analyse_path_file(dup), analyse_path_file(one)
    assert r_dup.removal_effects == r_one.removal_effects
    assert r_dup.p_win_start == r_one.p_win_start == pytest.approx(7 / 13, abs=1e-12)
    # removing a: 9 of 13 journeys now end unconverted at a, the rest go start→b (7/13 win there)
    assert r_one.removal_effects["a"] == pytest.approx(1 - (2 / 13 * 7 / 13) / (7 / 13), abs=1e-12)
    assert r_one.removal_effects["b"] == pytest.approx(1.0, abs=1e-12)


@pytest.fixture(scope="module")
def channel_attribution():
    if not CA_DATA.is_file():
        pytest.skip(
            f"ChannelAttribution example data not found at {CA_DATA} "
            "(clone shared/ beside the repo)"
        )
    pd = pytest.importorskip("pandas")
    raw = pd.read_csv(CA_DATA, sep=";")
    agg = raw.groupby("path", as_index=False)[["total_conversions", "total_null"]].sum()
    with contextlib.redirect_stdout(io.StringIO()):  # the package prints a banner
        ca = pytest.importorskip("ChannelAttribution")
        res = ca.markov_model(
            agg,
            "path",
            "total_conversions",
            var_null="total_null",
            out_more=True,
            verbose=False,
            flg_pro=False,
            nsim_start=1e6,
        )
    re = res["removal_effects"]
    return raw, agg, dict(zip(re["channel_name"], re["removal_effect"], strict=True))


def test_path_file_removal_effects_agree_with_channelattribution(channel_attribution):
    raw, agg, theirs = channel_attribution
    ours = analyse_path_file(CA_DATA)
    assert ours.rows == len(raw) == 10_000
    assert ours.paths == len(agg)
    assert ours.conversions == pytest.approx(raw.total_conversions.sum())
    assert ours.nulls == pytest.approx(raw.total_null.sum())
    # P(conversion from start) of the fitted chain reproduces the data's conversion share
    total = raw.total_conversions.sum() + raw.total_null.sum()
    assert ours.p_win_start == pytest.approx(raw.total_conversions.sum() / total, abs=1e-9)
    assert set(ours.removal_effects) == set(theirs)
    for channel, v in theirs.items():
        assert abs(ours.removal_effects[channel] - v) < 0.01, (
            channel,
            ours.removal_effects[channel],
            v,
        )
    # same ranking where ChannelAttribution's simulation noise cannot swap neighbours
    top = sorted(theirs, key=theirs.get, reverse=True)[:5]
    assert list(ours.removal_effects)[:5] == top


def test_path_file_removal_effects_equal_brute_force():
    if not CA_DATA.is_file():
        pytest.skip(f"ChannelAttribution example data not found at {CA_DATA}")
    counts, _ = path_counts(CA_DATA)
    ours = analyse_path_file(CA_DATA)
    base = power_reference(counts)[START][0]
    for channel in ("alpha", "iota", "mi"):
        p = power_reference(without_reference(counts, {channel}))[START][0]
        assert ours.removal_effects[channel] == pytest.approx(1 - p / base, abs=1e-9)


def test_cli_path_file_json(channel_attribution):
    from royalroad.cli import app

    _, _, theirs = channel_attribution
    res = CliRunner().invoke(app, ["paths", "--path-file", str(CA_DATA), "--format", "json"])
    assert res.exit_code == 0, res.stdout + res.stderr
    data = json.loads(res.stdout)
    effects = {r["activity"]: r["removal_effect"] for r in data["markov"]["removal_effects"]}
    assert set(effects) == set(theirs)
    for channel, v in theirs.items():
        assert abs(effects[channel] - v) < 0.01, channel
    states = {r["state"]: r["p_win"] for r in data["markov"]["states"]}
    assert START in states and set(theirs) <= set(states)
    assert data["rows"] == 10_000


# ---------------------------------------------------------------- path files: bad input


def _path_file(tmp_path, body: str) -> Path:
    f = tmp_path / "paths.csv"
    f.write_text("path;total_conversions;total_null\n" + body, encoding="utf-8")
    return f


def test_regression_path_file_json_has_no_nan(tmp_path):
    from royalroad.cli import app

    f = _path_file(tmp_path, "a > b;0;2\nb;0;3\n")
    res = CliRunner().invoke(app, ["paths", "--path-file", str(f), "--format", "json"])
    assert res.exit_code == 0, res.stdout + res.stderr

    def strict(token):
        raise ValueError(f"not JSON: {token}")

    data = json.loads(res.stdout, parse_constant=strict)
    assert data["markov"]["p_win_start"] == 0.0
    assert all(r["removal_effect"] is None for r in data["markov"]["removal_effects"])


def test_regression_path_of_separators_only_is_not_an_internal_error(tmp_path):
    from royalroad.errors import InputError

    f = _path_file(tmp_path, "a > b;1;2\n > ;1;1\n")
    try:
        res = analyse_path_file(f)
    except InputError:
        return
    assert res.p_win_start == pytest.approx(1 / 3)  # the empty path skipped like an empty cell


def test_regression_all_zero_path_file_is_not_an_internal_error(tmp_path):
    from royalroad.errors import InputError

    try:
        res = analyse_path_file(_path_file(tmp_path, "a > b;0;0\n"))
    except InputError:
        return
    assert math.isnan(res.p_win_start)


def test_regression_negative_counts_are_rejected(tmp_path):
    from royalroad.errors import InputError

    f = _path_file(tmp_path, "a > b;1;2\nb;-5;3\n")
    try:
        res = analyse_path_file(f)
    except InputError:
        return
    assert 0.0 <= res.p_win_start <= 1.0
