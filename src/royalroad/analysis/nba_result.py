"""Result types of the hand-off and next best action: frozen, rendered in any language."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from royalroad.i18n import t

if TYPE_CHECKING:
    from royalroad.analysis.forecast import Forecast

CLOSE = "■close"
"""Pseudo-action: no further step measurably raises P(win); ask for the decision."""
KEEP = "■nurture"
"""Pseudo-action: no step has evidence yet for this lead's state; keep nurturing."""
KINDS = ("milestone", "step", "toward_goal", "close", "keep_nurturing")
"""What an advice is: the royal road's next milestone (or the goal), another step with
a measured gain in P(win), a step that raises P(reaching the goal), asking for the
decision, or nurturing on."""


@dataclass(frozen=True)
class Action:
    """A step leads in one state took, with its evidence.

    ``metric`` says what the gain is measured in: ``win`` (P(win) among closed leads)
    or ``reach_goal`` (P(reaching the goal within the horizon)). ``rate`` is the
    metric among the leads in the state that took the step, ``rate_otherwise`` among
    those that did not; ``gain`` is their difference with a 95% Newcombe interval.
    ``n`` and ``n_otherwise`` count the leads behind each rate.
    """

    activity: str
    kind: str
    metric: str | None
    rate: float
    rate_ci: tuple[float, float]
    rate_otherwise: float
    n: int
    n_otherwise: int
    gain: float
    gain_ci: tuple[float, float]
    win_rate: float  # win rate of the closed leads in the state that took it
    win_rate_ci: tuple[float, float]
    went_next_share: float  # share of the state's leads whose next milestone it was
    reason_key: str
    reason_params: dict = field(default_factory=dict)

    @property
    def significant(self) -> bool:
        lo = self.gain_ci[0]
        return math.isfinite(lo) and lo > 0

    def reason(self, lang: str | None = None) -> str:
        return t(self.reason_key, lang=lang, **self.reason_params)

    def to_dict(self, lang: str | None = None) -> dict:
        return {
            "activity": self.activity,
            "kind": self.kind,
            "metric": self.metric,
            "rate": self.rate,
            "rate_ci": list(self.rate_ci),
            "rate_otherwise": self.rate_otherwise,
            "n": self.n,
            "n_otherwise": self.n_otherwise,
            "gain": self.gain,
            "gain_ci": list(self.gain_ci),
            "win_rate": self.win_rate,
            "win_rate_ci": list(self.win_rate_ci),
            "went_next_share": self.went_next_share,
            "reason": self.reason(lang),
        }


@dataclass(frozen=True)
class StateAdvice:
    """One history state: the road milestones passed (and the goal), its P(win) from
    the chain, the advice for leads in it, and how long leads usually wait in it."""

    s: int
    milestones: tuple[str, ...]
    passed: bool
    p_win: float
    leads: int
    best: Action | None
    second: Action | None
    stall_days: float | None
    candidates: tuple[Action, ...] = ()

    def label(self, lang: str | None = None) -> str:
        if not self.milestones:
            return t("nba.state.start", lang=lang)
        text = " · ".join(self.milestones)
        return text + (" ✓" if self.passed else "")

    def to_dict(self, lang: str | None = None) -> dict:
        return {
            "state": self.label(lang),
            "milestones": list(self.milestones),
            "passed_goal": self.passed,
            "p_win": self.p_win,
            "leads": self.leads,
            "stall_days": self.stall_days,
            "best": self.best.to_dict(lang) if self.best else None,
            "second": self.second.to_dict(lang) if self.second else None,
            "candidates": [c.to_dict(lang) for c in self.candidates],
        }


@dataclass(frozen=True)
class NextResult:
    """Open leads with status, next best action, reason and stall flag; per-state advice.

    ``leads`` has one row per open lead (``s`` links it to its :class:`StateAdvice`).
    """

    goal: str | None
    road: tuple[str, ...]
    steps: tuple[str, ...]
    leads: pa.Table
    advice: tuple[StateAdvice, ...]
    sales_ready: int
    nurture: int
    stalled: int
    min_evidence: int
    horizon_days: int
    owner_column: str | None
    forecast: Forecast | None = None

    def __repr__(self) -> str:
        return (
            f"NextResult(goal={self.goal!r}, open={self.leads.num_rows:,}, "
            f"sales_ready={self.sales_ready:,}, nurture={self.nurture:,}, "
            f"stalled={self.stalled:,}, owner_column={self.owner_column!r})"
        )

    def _repr_html_(self, lang: str | None = None, top: int = 10) -> str:
        """The hand-off counts and this week's first leads, for Jupyter."""
        from royalroad.tabular import html_table, pct

        rows = [
            (
                r["lead_id"],
                r["owner"],
                r["status"],
                r["recommended_action"],
                r["action_kind"],
                pct(r["current_win_rate"]),
                r["reason"],
            )
            for r in self.ordered(lang, top)
        ]
        return html_table(
            ("lead", "owner", "status", "next action", "kind", "P(win) now", "why"),
            rows,
            caption=f"{self.sales_ready:,} sales-ready, {self.nurture:,} nurture, "
            f"{self.stalled:,} stalled",
            note="to_frame() has every open lead",
        )

    def recalibrated(self, recal) -> NextResult:
        """The same advice with every P(win) passed through a backtest's recalibration
        (:class:`~royalroad.analysis.backtest_result.Recalibration`); the adjustments are
        recomputed along the way so they still add up to the number shown."""
        import dataclasses

        import numpy as np
        import pyarrow as pa

        if recal.kind == "none" or self.forecast is None:
            return self
        table = self.leads

        def arr(name: str) -> np.ndarray:
            return np.asarray(table.column(name).to_numpy(zero_copy_only=False), dtype=float)

        cols = {n: recal.apply(arr(n)) for n in ("current_win_rate", "win_low", "win_high")}
        running = arr("state_rate")
        cols["state_rate"] = recal.apply(running)
        for g in self.forecast.model.order():
            before = recal.apply(running)
            running = running + np.nan_to_num(arr(f"adj_{g}"))
            cols[f"adj_{g}"] = recal.apply(running) - before
        for name, values in cols.items():
            i = table.schema.get_field_index(name)
            table = table.set_column(i, name, pa.array(values, pa.float64()))
        return dataclasses.replace(self, leads=table, forecast=self.forecast.recalibrated(recal))

    def state(self, s: int) -> StateAdvice | None:
        return next((a for a in self.advice if a.s == s), None)

    def rows(self, lang: str | None = None) -> list[dict]:
        """Every open lead's row, in the table's order, with the state label, the reason
        and the P(win) adjustments rendered in ``lang``. One dict per lead: for a few
        leads in this week's order, :meth:`ordered` renders only those."""
        return self._render_rows(self.leads, lang)

    def ordered(
        self,
        lang: str | None = None,
        limit: int | None = None,
        *,
        where: pc.Expression | None = None,
    ) -> list[dict]:
        """The first ``limit`` open leads in this week's order (:func:`priority`:
        stalled, then sales-ready, then the longest idle, then the lead id), only those
        of them matching ``where`` (a ``pyarrow.compute`` expression on :attr:`leads`'
        columns), rendered as :meth:`rows` renders them.

        Filtered and sorted in Arrow: only the rows asked for become Python dicts (the
        report, the workbook and results.json show a few of millions of open leads).
        """
        table = self.leads if where is None else self.leads.filter(where)
        if limit is not None and limit <= 0:
            return []
        keys = pa.table(
            {
                "stalled": pc.fill_null(table.column("stalled"), False),
                "ready": pc.fill_null(pc.equal(table.column("status"), "sales_ready"), False),
                "idle": pc.fill_null(table.column("days_idle").cast(pa.float64()), 0.0),
                "lead_id": table.column("lead_id").cast(pa.string()),
            }
        )
        order = [
            ("stalled", "descending"),
            ("ready", "descending"),
            ("idle", "descending"),
            ("lead_id", "ascending"),
        ]
        idx = pc.sort_indices(keys, sort_keys=order)
        if limit is not None:
            idx = idx[:limit]
        return self._render_rows(table.take(idx), lang)

    def count(self, where: pc.Expression | None = None) -> int:
        """Open leads matching ``where`` (all of them without it)."""
        return self.leads.num_rows if where is None else self.leads.filter(where).num_rows

    def owner_counts(self) -> list[tuple[str | None, int, int, int]]:
        """(owner, sales-ready, other open, stalled) per owner, owners in name order
        and leads without an owner last; counted in Arrow."""
        t_ = self.leads.select(["owner", "status", "stalled"])
        t_ = t_.append_column(
            "ready", pc.fill_null(pc.equal(t_.column("status"), "sales_ready"), False).cast("int64")
        )
        t_ = t_.append_column("st", pc.fill_null(t_.column("stalled"), False).cast("int64"))
        g = t_.group_by("owner").aggregate([("ready", "sum"), ("ready", "count"), ("st", "sum")])
        out = [
            (o, int(r), int(n) - int(r), int(s))
            for o, r, n, s in zip(
                g.column("owner").to_pylist(),
                g.column("ready_sum").to_pylist(),
                g.column("ready_count").to_pylist(),
                g.column("st_sum").to_pylist(),
                strict=True,
            )
        ]
        return sorted(out, key=lambda c: (c[0] is None, c[0] or ""))

    def _render_rows(self, table: pa.Table, lang: str | None) -> list[dict]:
        from royalroad.i18n import get_lang

        lang = lang or get_lang()  # once, not from the environment per message
        by_s = {a.s: a for a in self.advice}
        factors = self._factor_names()
        out = []
        for r in table.to_pylist():
            a = by_s.get(r["s"])
            best = a.best if a else None
            internal = ("adj_", "seg_")  # shown through the adjustments
            row = {k: v for k, v in r.items() if k != "s" and not k.startswith(internal)}
            row["state"] = a.label(lang) if a else None
            row["reason"] = best.reason(lang) if best else None
            row["gain_ci"] = [row.pop("gain_low"), row.pop("gain_high")]
            row["current_win_rate_ci"] = [row.pop("win_low"), row.pop("win_high")]
            row["adjustments"] = [
                {"factor": code, "label": label(r, lang), "points": r[f"adj_{g}"]}
                for g, code, label in factors
                if r.get(f"adj_{g}") is not None
            ]
            out.append(row)
        return out

    def _factor_names(self) -> list[tuple]:
        """(group, factor code, label function) per adjustment column of the lead table."""
        from royalroad.analysis.pwin_queries import OTHER

        if self.forecast is None:
            return []
        names = list(self.forecast.model.segments)

        def days(key: str, col: str):
            return lambda r, lang: (
                t(key, lang=lang, days=f"{r[col]:.0f}")
                if r[col] is not None
                else t(key, lang=lang, days="–")
            )

        out: list[tuple] = [
            ("idle", "idle", days("pwin.factor.idle", "days_idle")),
            (
                "busy",
                "events",
                lambda r, lang: t("pwin.factor.busy", lang=lang, n=r["events_so_far"]),
            ),
            ("age", "age", days("pwin.factor.age", "age_days")),
        ]
        for g in (g for g in self.forecast.model.order() if g.startswith("g")):
            name = names[int(g[1:])]
            out.append(
                (
                    g,
                    name,
                    lambda r, lang, name=name, g=g: (
                        f"{name}: "
                        + (
                            t("pwin.other", lang=lang)
                            if r[f"seg_{g}"] == OTHER
                            else str(r[f"seg_{g}"])
                        )
                    ),
                )
            )
        return out

    def to_frame(self, lang: str | None = None) -> pd.DataFrame:
        rows = self.rows(lang)
        for r in rows:
            r["gain_low"], r["gain_high"] = r.pop("gain_ci")
        return pd.DataFrame(rows)

    def owners(self) -> list[str | None]:
        """The owners of open leads, sorted (None, for leads without one, last)."""
        values = set(self.leads.column("owner").to_pylist())
        return sorted(v for v in values if v is not None) + ([None] if None in values else [])

    def to_dict(
        self, *, lang: str | None = None, limit: int | None = None, leads_file: str | None = None
    ) -> dict:
        """``limit``: at most this many leads, this week's first (:func:`priority`); the
        full list is then in ``leads_file`` (``leads_total`` says how many there are)."""
        from royalroad.analysis.goals_result import _clean

        total = self.leads.num_rows
        extra: dict = {}
        if limit is not None and total > limit:
            rows = self.ordered(lang, limit)
            extra = {"leads_total": total, "leads_file": leads_file}
        else:
            rows = self.rows(lang)
        return _clean(
            {
                "goal": self.goal,
                "road": list(self.road),
                "state_steps": list(self.steps),
                "sales_ready": self.sales_ready,
                "nurture": self.nurture,
                "stalled": self.stalled,
                "open": self.leads.num_rows,
                "min_evidence": self.min_evidence,
                "horizon_days": self.horizon_days,
                "owner_column": self.owner_column,
                "forecast": self.forecast.to_dict() if self.forecast else None,
                "advice": [a.to_dict(lang) for a in self.advice],
                "leads": rows,
                **extra,
            }
        )


def priority(row: dict) -> tuple:
    """This week's order: stalled first, then sales-ready, then the longest idle."""
    return (
        not row["stalled"],
        row["status"] != "sales_ready",
        -(row["days_idle"] or 0),
        row["lead_id"],
    )
