"""Statistics of the trigger analysis: pure functions on counts (numpy, no engine).

**Log-odds ratio with an informative Dirichlet prior** (Monroe, Colaresi and Quinn
2008, "Fightin' Words", eqs. 16, 18–20). For a term ``w`` counted ``y_i`` times in
class *i* (won) and ``y_j`` in class *j* (lost), with class totals ``n_i``, ``n_j`` and
prior pseudo-counts ``α_w`` summing to ``α_0``::

    δ_w = log((y_i + α_w) / (n_i + α_0 − y_i − α_w)) − log((y_j + α_w) / (n_j + α_0 − y_j − α_w))
    σ²(δ_w) ≈ 1 / (y_i + α_w) + 1 / (y_j + α_w)
    z_w = δ_w / σ(δ_w)

Here a term counts once per lead (the number of leads whose notes mention it), the
class totals are the sums of those counts over the whole vocabulary (so a chattier
class does not make every word look like its own), and the prior is the pooled
count over all leads (won, lost and open) scaled by ``prior``: ``α_w = prior · y_w``.
A trigger category is one more "term" of the same model, counted the same way.
The two-sided p-value ``2 Φ(−|z|)`` then goes into one Benjamini–Hochberg correction
with everything else tested.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm

DEFAULT_PRIOR = 0.1
PROXY_AFTER_CLOSE_SHARE = 0.5
PROXY_PURITY = 0.98
PROXY_PURITY_MIN_N = 20
PROXY_AT_CLOSE_DAYS = 1.0
PROXY_AT_CLOSE_POSITION = 0.8
PROXY_MIN_NOTES = 5


def log_odds_dirichlet(
    y_i: np.ndarray,
    y_j: np.ndarray,
    n_i: float,
    n_j: float,
    alpha_w: np.ndarray,
    alpha_0: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Monroe et al.'s δ and z for every term (arrays of equal length).

    >>> d, z = log_odds_dirichlet(np.array([30.0]), np.array([10.0]), 100, 100, np.array([1.0]), 10)
    >>> round(float(d[0]), 4), round(float(z[0]), 4)
    (1.2618, 3.5953)
    """
    y_i = np.asarray(y_i, dtype=float)
    y_j = np.asarray(y_j, dtype=float)
    a = np.asarray(alpha_w, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):  # a term never seen: NaN, untested
        delta = np.log((y_i + a) / (n_i + alpha_0 - y_i - a)) - np.log(
            (y_j + a) / (n_j + alpha_0 - y_j - a)
        )
        var = 1.0 / (y_i + a) + 1.0 / (y_j + a)
        return delta, delta / np.sqrt(var)


def two_sided_p(z: np.ndarray) -> np.ndarray:
    """``2 Φ(−|z|)``, computed in the tail so that large |z| keep their precision."""
    return 2.0 * norm.sf(np.abs(np.asarray(z, dtype=float)))


def score(counts: pd.DataFrame, n_won: float, n_lost: float, n_all: float, prior: float):
    """δ and z of every row of ``counts`` (columns ``won``, ``lost``, ``open``).

    ``n_won`` and ``n_lost`` are the class totals, ``n_all`` the pooled total over all
    leads: ``α_w = prior · (won + lost + open)`` and ``α_0 = prior · n_all``.
    """
    pooled = (counts["won"] + counts["lost"] + counts["open"]).to_numpy(dtype=float)
    return log_odds_dirichlet(
        counts["won"].to_numpy(dtype=float),
        counts["lost"].to_numpy(dtype=float),
        n_won,
        n_lost,
        prior * pooled,
        prior * n_all,
    )


def proxy_reason(row) -> tuple[str | None, dict]:
    """Whether a term or category is part of the outcome rather than a trigger before it.

    The same three rules as for activities: mostly noted at or after the close
    (受注のお礼), concentrated at the close (median < 1 day before it, at the end of the
    journey), or almost only in one outcome class.
    """
    before, after = int(row.notes_closed), int(row.notes_after)
    if before + after >= PROXY_MIN_NOTES and after / (before + after) >= PROXY_AFTER_CLOSE_SHARE:
        return "after_close", {"share": f"{after / (before + after):.0%}"}
    to_close, position = row.to_close, row.position
    if (
        before >= PROXY_MIN_NOTES
        and pd.notna(to_close)
        and to_close < PROXY_AT_CLOSE_DAYS
        and pd.notna(position)
        and position >= PROXY_AT_CLOSE_POSITION
    ):
        return "at_close", {"hours": f"{24 * to_close:.1f}"}
    n = int(row.won + row.lost)
    if n >= PROXY_PURITY_MIN_N and max(row.won, row.lost) / n >= PROXY_PURITY:
        cls = "won" if row.won >= row.lost else "lost"
        return f"one_class_{cls}", {"share": f"{max(row.won, row.lost) / n:.1%}", "n": n}
    return None, {}
