"""Result types of the P(win) backtest."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from royalroad.analysis.goals_result import _clean
from royalroad.tabular import html_table


@dataclass(frozen=True)
class Decile:
    """One tenth of the scored leads, by P(win): predicted and observed, with a Wilson CI."""

    index: int
    n: int
    predicted: float
    observed: float
    observed_ci: tuple[float, float]

    @property
    def gap(self) -> float:
        return self.predicted - self.observed


@dataclass(frozen=True)
class ModelScore:
    """How one model's P(win) at the cut-off compared with what happened."""

    name: str  # royalroad | royalroad_recalibrated | base_rate | lead_score
    brier: float
    log_loss: float
    auc: float
    gap: float  # mean P(win) − share won
    gap_nurture: float
    gap_sales_ready: float
    gap_stalled: float
    n_nurture: int
    n_sales_ready: int
    n_stalled: int
    deciles: tuple[Decile, ...]

    def max_decile_gap(self, min_n: int = 50) -> float:
        gaps = [abs(d.gap) for d in self.deciles if d.n >= min_n]
        return max(gaps) if gaps else math.nan


@dataclass(frozen=True)
class Recalibration:
    """A monotone map of P(win) learned on the backtest: ``none``, ``isotonic`` or ``platt``.

    ``cv`` holds the out-of-fold Brier score of each kind tried (two folds by lead id).
    """

    kind: str
    params: dict = field(default_factory=dict)
    cv: dict = field(default_factory=dict)

    @classmethod
    def fit(cls, kind: str, p: np.ndarray, y: np.ndarray) -> Recalibration:
        if kind == "isotonic":
            from scipy.optimize import isotonic_regression

            order = np.lexsort((y, p))
            fitted = isotonic_regression(y[order], increasing=True).x
            # one value per distinct P(win): the mean over its ties
            per = pd.Series(fitted).groupby(p[order]).mean()
            return cls("isotonic", {"x": per.index.tolist(), "y": per.tolist()})
        if kind == "platt":
            import statsmodels.api as sm

            z = np.log(np.clip(p, 1e-6, 1 - 1e-6) / (1 - np.clip(p, 1e-6, 1 - 1e-6)))
            from royalroad.stats import one_blas_thread

            with one_blas_thread():
                res = sm.GLM(y, sm.add_constant(z), family=sm.families.Binomial()).fit()
            a, b = (float(v) for v in res.params)
            return cls("platt", {"a": a, "b": b})
        return cls("none")

    def apply(self, p: np.ndarray) -> np.ndarray:
        p = np.asarray(p, dtype=float)
        if self.kind == "isotonic":
            return np.interp(p, self.params["x"], self.params["y"])
        if self.kind == "platt":
            z = np.log(np.clip(p, 1e-6, 1 - 1e-6) / (1 - np.clip(p, 1e-6, 1 - 1e-6)))
            return 1.0 / (1.0 + np.exp(-(self.params["a"] + self.params["b"] * z)))
        return p


@dataclass(frozen=True)
class BacktestResult:
    """P(win) rebuilt as of ``cutoff`` and scored against the outcomes known at ``as_of``."""

    cutoff: str
    as_of: str
    open_at_cutoff: int
    scored: int  # open at the cut-off and closed since
    still_open: int
    goal: str | None
    models: tuple[ModelScore, ...]
    recalibration: Recalibration
    scores: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False, compare=False)
    """Per lead scored: lead_id, status, stalled, won (0/1) and each model's P(win)."""
    sample_every: int = 1
    """1: every lead; n > 1: the past was rebuilt from one lead in n (a large workspace,
    see :data:`royalroad.analysis.backtest.MAX_LEADS`)."""

    def model(self, name: str) -> ModelScore | None:
        return next((m for m in self.models if m.name == name), None)

    def __repr__(self) -> str:
        rr = self.model("royalroad")
        lr = self.model("lead_score")
        assert rr is not None
        return (
            f"BacktestResult(cutoff={self.cutoff!r}, scored={self.scored:,}, "
            f"brier={rr.brier:.4f}, auc={rr.auc:.3f}, gap={100 * rr.gap:+.1f} pts, "
            f"lead_score_auc={lr.auc if lr else math.nan:.3f}, "
            f"recalibration={self.recalibration.kind!r})"
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per model: the scores."""
        return pd.DataFrame(
            [{k: v for k, v in asdict(m).items() if k != "deciles"} for m in self.models]
        )

    def _repr_html_(self) -> str:
        rows = [
            (m.name, f"{m.brier:.4f}", f"{m.log_loss:.4f}", f"{m.auc:.3f}", f"{100 * m.gap:+.1f}")
            for m in self.models
        ]
        return html_table(
            ("model", "Brier", "log loss", "AUC", "gap (pts)"),
            rows,
            caption=f"cut-off {self.cutoff}: {self.scored:,} leads open then and closed since",
        )

    def to_dict(self) -> dict:
        return _clean(
            {
                "cutoff": self.cutoff,
                "as_of": self.as_of,
                "open_at_cutoff": self.open_at_cutoff,
                "scored": self.scored,
                "still_open": self.still_open,
                "goal": self.goal,
                "models": [
                    {
                        **{k: v for k, v in asdict(m).items() if k != "deciles"},
                        "max_decile_gap": m.max_decile_gap(),
                        "deciles": [
                            {**asdict(d), "observed_ci": list(d.observed_ci), "gap": d.gap}
                            for d in m.deciles
                        ],
                    }
                    for m in self.models
                ],
                "recalibration": asdict(self.recalibration),
                **({"sample_every": self.sample_every} if self.sample_every > 1 else {}),
            }
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2, sort_keys=True)
