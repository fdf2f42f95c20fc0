"""P(win) per open lead: its history state, how long it has been idle, its age, its segments.

The model is a binomial GLM (statsmodels), fitted on snapshots of closed leads at moments
they were open (:mod:`royalroad.analysis.pwin_queries`)::

    logit P(win) = a + b·logit p_chain(state) + c·passed_goal
                   + idle band + age band + one term per segment value

``p_chain(state)`` is the exact Markov chain's P(win) of the history state
(:mod:`royalroad.analysis.nba`): sparse states borrow strength from the chain's
structure, and one slope ``b`` calibrates it. Bands and segment values with few leads
are shrunk toward no effect by weak pseudo-observations (``PRIOR_LEADS`` leads' worth
at the base rate), so the fit is deterministic and has a covariance matrix: every
P(win) carries an interval.

**Explained.** A lead's number is its state's rate — the model for a lead in that state
with the average idle, age and segment effects — plus one adjustment per factor, in
points: the idle time, then the age, then each segment, each the change in P(win) when
its average effect is replaced by the lead's own. The adjustments add up exactly to the
shown number.

**The open pipeline.** Expected wins are the sum of the P(win)s, expected revenue the sum
weighted by each lead's amount; their intervals add the binomial variance of the
outcomes to the model's uncertainty (delta method on the GLM covariance). Computed, not
sampled: the same data give the same bytes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from royalroad import stats
from royalroad.analysis.pwin_queries import AGE_BANDS, BUSY_BANDS, IDLE_BANDS, cell_keys

MIN_SNAPSHOTS = 50.0
"""Closed leads (weighted) needed to fit the model; fewer: the chain's rate alone."""
SEGMENT_ALPHA = 0.01
"""A segment enters the model when its likelihood ratio test gives p below this."""
MIN_STATE = 100.0
"""Closed leads (weighted) a state needs to get its own term beside the chain's rate."""
PRIOR_LEADS = 40.0
"""Weight (in leads) of the pseudo-observations at the base rate that shrink each band,
state and segment term toward no effect: a term moves halfway to its own data's rate
with about this many leads behind it. 40 rather than 10 cut the largest decile gap of
the backtest from 5 to 4 points (5 seeds × 2 scenarios) at no cost in Brier or AUC."""
LOGIT_CLIP = 6.0
Z80 = 1.2815515655446004


def _logit(p: np.ndarray | float) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=float), 1e-6, 1 - 1e-6)
    return np.clip(np.log(p / (1 - p)), -LOGIT_CLIP, LOGIT_CLIP)


def _expit(x: np.ndarray | float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float)))


def band_label(kind: str, band: int) -> str:
    """``0–7``, ``120+`` … (days, or events for ``busy``) for a band."""
    bounds = {"idle": IDLE_BANDS, "busy": BUSY_BANDS, "age": AGE_BANDS}[kind]
    lo = 0 if band == 0 else bounds[band - 1]
    return f"{lo:g}+" if band >= len(bounds) else f"{lo:g}–{bounds[band]:g}"


FACTORS = ("idle", "busy", "age")
"""The time factors, in the order their adjustments are applied (segments follow)."""


@dataclass(frozen=True)
class PWinModel:
    """The fitted model: design columns, coefficients and their covariance."""

    columns: tuple[str, ...]
    beta: np.ndarray = field(repr=False)
    cov: np.ndarray = field(repr=False)
    p_chain: dict[int, float] = field(repr=False)
    segments: dict[str, tuple[str, ...]]
    base_rate: float
    means: dict[str, float] = field(repr=False)  # average contribution per factor group
    snapshots: float  # closed leads behind the fit (weighted)
    fitted: bool  # False: too few snapshots, the chain's rate alone

    # -- design -----------------------------------------------------------------------
    def design(self, rows: pd.DataFrame) -> np.ndarray:
        """One design row per cell (columns ``s``, ``idle_band``, ``age_band``, g…)."""
        return _design(
            rows, self.columns, _chain_fn(self.p_chain, self.base_rate), len(self.segments)
        )

    def groups(self) -> dict[str, list[int]]:
        """Design column indexes per factor group: idle, age, g0, g1 … (a segment each)."""
        return _groups(self.columns)

    # -- prediction -------------------------------------------------------------------
    def predict(self, cells: pd.DataFrame, z: float = stats.Z95) -> pd.DataFrame:
        """Per cell (columns ``s``, ``idle_band``, ``age_band``, ``g0`` …): P(win), its
        interval, the state's rate and one adjustment column per factor (points):
        ``adj_idle``, ``adj_age``, ``adj_g0`` …; they add up to ``p_win − state_rate``."""
        x = self.design(cells)
        eta = x @ self.beta
        se = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", x, self.cov, x), 0.0))
        out = pd.DataFrame(
            {"p_win": _expit(eta), "p_low": _expit(eta - z * se), "p_high": _expit(eta + z * se)},
            index=cells.index,
        )
        groups = self.groups()
        contrib = {g: x[:, idx] @ self.beta[idx] for g, idx in groups.items()}
        running = eta - sum(contrib.values(), np.zeros(len(cells)))
        running = running + sum(self.means.get(g, 0.0) for g in groups)
        out["state_rate"] = _expit(running)
        for g in self.order():
            before = _expit(running)
            if g in contrib:
                running = running - self.means.get(g, 0.0) + contrib[g]
            out[f"adj_{g}"] = _expit(running) - before
        return out

    def order(self) -> list[str]:
        """Factor groups in the order their adjustments are applied: idle, busy, age, then
        the segments the model uses (g0, g1 … by their place among all segments)."""
        used = sorted({int(c.split(":", 1)[0][1:]) for c in self.columns if c.startswith("g")})
        return [*FACTORS, *(f"g{k}" for k in used)]

    # -- the open pipeline ------------------------------------------------------------
    def pipeline(self, cells: pd.DataFrame, p: np.ndarray) -> dict[str, float]:
        """Expected wins and revenue of the open leads, with 80% and 95% intervals.

        ``cells``: per cell the number of open leads ``n`` and the sums of their amounts
        ``amount`` and squared amounts ``amount2``; ``p`` the cells' P(win). Outcomes are
        independent Bernoulli draws given P(win) (their variance) and P(win) is uncertain
        through the coefficients (delta method): the two variances add.
        """
        x = self.design(cells) if len(cells) else np.zeros((0, len(self.columns)))
        v = p * (1 - p)
        out: dict[str, float] = {"leads": float(cells.n.sum()) if len(cells) else 0.0}
        sums = (
            ("wins", cells.n.to_numpy(float), cells.n.to_numpy(float)),
            ("revenue", cells.amount.to_numpy(float), cells.amount2.to_numpy(float)),
        )
        for name, w1, w2 in sums:
            mean = float(np.sum(w1 * p))
            var_outcome = float(np.sum(w2 * v))
            g = (w1 * v) @ x
            var_model = float(g @ self.cov @ g)
            sd = math.sqrt(max(var_outcome + var_model, 0.0))
            out[name] = mean
            for level, zq in (("80", Z80), ("95", stats.Z95)):
                out[f"{name}_low_{level}"] = max(mean - zq * sd, 0.0)
                out[f"{name}_high_{level}"] = mean + zq * sd
        return out


def _groups(columns: Sequence[str]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for j, c in enumerate(columns):
        kind = c.split(":", 1)[0]
        if kind in FACTORS or kind.startswith("g"):
            out.setdefault(kind, []).append(j)
    return out


def _design(rows: pd.DataFrame, columns: Sequence[str], chain, n_segments: int) -> np.ndarray:
    n = len(rows)
    x = np.zeros((n, len(columns)))
    index = {c: j for j, c in enumerate(columns)}
    x[:, index["const"]] = 1.0
    s = rows["s"].to_numpy(dtype="int64")
    x[:, index["chain"]] = _logit(np.array([chain(v) for v in s]))
    x[:, index["passed"]] = (s & 1).astype(float)
    for i, v in enumerate(s):
        j = index.get(f"state:{v}")
        if j is not None:
            x[i, j] = 1.0
    for kind in FACTORS:
        col = rows[f"{kind}_band"].to_numpy(dtype="int64")
        for i, b in enumerate(col):
            j = index.get(f"{kind}:{b}")
            if j is not None:
                x[i, j] = 1.0
    for k in range(n_segments):
        col = rows[f"g{k}"].astype(str).to_numpy()
        for i, v in enumerate(col):
            j = index.get(f"g{k}:{v}")
            if j is not None:
                x[i, j] = 1.0
    return x


def fit(
    cells: pd.DataFrame,
    p_chain: dict[int, float],
    segments: dict[str, tuple[str, ...]],
    base_rate: float,
) -> PWinModel:
    """Fit the GLM on training cells (columns of :func:`cell_keys`, ``won``, ``lost``).

    A segment enters the model only when it improves the fit beyond chance (likelihood
    ratio test against the model without segments, p < ``SEGMENT_ALPHA``): a segment
    that carries nothing would only add noise to every lead's number.
    """
    cells = cells.sort_values(cell_keys(len(segments)), kind="stable").reset_index(drop=True)
    total = float(cells.won.sum() + cells.lost.sum()) if len(cells) else 0.0
    base = base_rate if math.isfinite(base_rate) else 0.5
    chain = _chain_fn(p_chain, base)
    fitted = total >= MIN_SNAPSHOTS
    used: tuple[int, ...] = ()
    if fitted:
        from scipy.stats import chi2

        plain = _glm(cells, _columns(cells, ()), chain, base, len(segments))
        for k in range(len(segments)):
            with_k = _glm(cells, _columns(cells, (k,)), chain, base, len(segments))
            df = len(with_k.columns) - len(plain.columns)
            if df > 0 and chi2.sf(plain.deviance - with_k.deviance, df) < SEGMENT_ALPHA:
                used += (k,)
    columns = _columns(cells, used)
    beta = np.zeros(len(columns))
    beta[1] = 1.0  # without a fit: the state's chain rate (slope 1, no other term)
    cov = np.zeros((len(columns), len(columns)))
    means: dict[str, float] = {}
    if fitted:
        res = _glm(cells, columns, chain, base, len(segments))
        beta, cov, means = res.beta, res.cov, res.means
    return PWinModel(
        columns=tuple(columns),
        beta=beta,
        cov=cov,
        p_chain=p_chain,
        segments=segments,
        base_rate=base,
        means=means,
        snapshots=total,
        fitted=fitted,
    )


def _columns(cells: pd.DataFrame, used: Sequence[int]) -> list[str]:
    columns = ["const", "chain", "passed"]
    for kind, bounds in (("idle", IDLE_BANDS), ("busy", BUSY_BANDS), ("age", AGE_BANDS)):
        columns += [f"{kind}:{b}" for b in range(1, len(bounds) + 1)]
    if len(cells):  # frequent states get a term of their own on top of the chain's rate
        per_state = (cells.won + cells.lost).groupby(cells.s).sum()
        columns += [f"state:{int(v)}" for v in sorted(per_state.index[per_state >= MIN_STATE])]
    for k in used:
        ref = _reference(cells, f"g{k}")
        levels = sorted(set(cells[f"g{k}"].astype(str)))
        columns += [f"g{k}:{v}" for v in levels if v != ref]
    return columns


@dataclass(frozen=True)
class _Fit:
    columns: list[str]
    beta: np.ndarray
    cov: np.ndarray
    deviance: float
    means: dict[str, float]


def _glm(cells: pd.DataFrame, columns: list[str], chain, base: float, n_seg: int) -> _Fit:
    """The binomial GLM on the cells, with weak pseudo-observations at the base rate for
    every band, state and segment term (they keep sparse terms finite and near zero)."""
    import warnings

    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import SingularMatrixWarning

    full, groups = cells, _collapsed(cells, columns)
    cells = full.groupby(groups, sort=True, dropna=False)[["won", "lost"]].sum().reset_index()
    for k in range(n_seg):  # a segment the model leaves out: no term reads it
        if f"g{k}" not in cells.columns:
            cells[f"g{k}"] = None
    x = _design(cells, columns, chain, n_seg)
    y = np.column_stack([cells.won.to_numpy(float), cells.lost.to_numpy(float)])
    weights = y.sum(axis=1)
    prior = np.zeros((len(columns) - 3, len(columns)))
    prior[:, 0] = 1.0
    prior[:, 1] = float(np.average(x[:, 1], weights=weights))
    prior[np.arange(len(columns) - 3), np.arange(3, len(columns))] = 1.0
    prior_y = np.tile([PRIOR_LEADS * base, PRIOR_LEADS * (1 - base)], (len(prior), 1))
    with warnings.catch_warnings():
        # A term no lead varies on (one state only, nobody past the goal) makes the design
        # rank-deficient; IRLS then takes the minimum-norm solution (pinv), whose
        # predictions and their variances are still unique. Nothing to warn the user of.
        warnings.simplefilter("ignore", SingularMatrixWarning)
        with stats.one_blas_thread():
            res = sm.GLM(
                np.vstack([y, prior_y]), np.vstack([x, prior]), family=sm.families.Binomial()
            ).fit(method="irls", tol=1e-10)
            cov = np.asarray(res.cov_params(), dtype=float)
    beta = np.asarray(res.params, dtype=float)
    means = {
        g: float(np.average(x[:, idx] @ beta[idx], weights=weights))
        for g, idx in _groups(columns).items()
    }
    # The deviance of the cells as given (the likelihood ratio tests compare models
    # fitted on different collapses): the same fitted rates, spread back over the cells.
    mu = np.asarray(res.fittedvalues, dtype=float)[: len(cells)]
    code = full.groupby(groups, sort=True, dropna=False).ngroup().to_numpy()
    y_full = np.column_stack([full.won.to_numpy(float), full.lost.to_numpy(float)])
    deviance = float(res.deviance) - _deviance(y, mu) + _deviance(y_full, mu[code])
    return _Fit(columns, beta, cov, deviance, means)


def _collapsed(cells: pd.DataFrame, columns: Sequence[str]) -> list[str]:
    """The cell columns a model with ``columns`` reads: cells equal on them have the same
    design row, so the GLM is fitted on their sums (the same likelihood, hence the same
    estimates and covariance, on far fewer rows: at 1M events 50,228 cells become 771
    without segment terms)."""
    used = {c.split(":", 1)[0] for c in columns if c.startswith("g")}
    return ["s", *(f"{kind}_band" for kind in FACTORS), *(g for g in cells.columns if g in used)]


def _deviance(y: np.ndarray, mu: np.ndarray) -> float:
    """Binomial deviance of (won, lost) counts against fitted win rates."""
    from scipy.special import xlogy

    n = y.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        won = xlogy(y[:, 0], y[:, 0] / (n * mu))
        lost = xlogy(y[:, 1], y[:, 1] / (n * (1 - mu)))
    return float(2 * np.nansum(won + lost))


def _reference(cells: pd.DataFrame, col: str) -> str | None:
    """The most frequent value (by weight) of a segment: the one without its own term."""
    if not len(cells):
        return None
    w = (cells.won + cells.lost).groupby(cells[col].astype(str)).sum()
    w = w.sort_index()
    return str(w.idxmax())


def _chain_fn(p_chain: dict[int, float], base: float):
    def chain(s: int) -> float:
        p = p_chain.get(int(s), math.nan)
        return base if not math.isfinite(p) else p

    return chain


def moments(as_of, first_created, *, count: int = 10, min_days: int = 60, max_days: int = 365):
    """Past moments to take snapshots at: ``count`` evenly spaced between ``max_days``
    (or the data's start) and ``min_days`` before the as-of date, so that most leads open
    then have closed since. Empty when the data is too short."""
    as_of = pd.Timestamp(as_of)
    start = max(
        pd.Timestamp(first_created) + pd.Timedelta(days=14), as_of - pd.Timedelta(days=max_days)
    )
    end = as_of - pd.Timedelta(days=min_days)
    if end <= start:
        return [end] if end > pd.Timestamp(first_created) else []
    step = (end - start) / max(count - 1, 1)
    return [(start + step * i).floor("s").to_pydatetime() for i in range(count)]
