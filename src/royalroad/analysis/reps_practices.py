"""What the best do that others can copy: the practices of the reps who reach the goal
most, compared with the rest, and the playbook sentences built from them.

The *features* are the activities a lead did and the ordered pairs "A then B" (B after
the first A), counted once per lead, in the window the reach is measured on: before the
lead reached the goal and within the horizon of its creation (usable events only). Each
is compared between the leads of the top reps and the others' by the log-odds ratio
with an informative prior (Monroe, Colaresi and Quinn 2008; see
:func:`royalroad.analysis.reps_stats.log_odds`), its z-score, a two-sided p and a
Benjamini–Hochberg q over every feature tried. Outcome proxies, the goal's own
activities and entry steps (how a lead arrives) are never features.

The playbook turns the strongest significant differences into sentences, with the
evidence behind each and the caveat that this is association, not proof.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from royalroad import stats
from royalroad.analysis.reps_queries import ALL_BANDS
from royalroad.analysis.reps_result import Practice
from royalroad.analysis.reps_stats import pooled_log_odds
from royalroad.i18n import join, t

if TYPE_CHECKING:
    from royalroad.analysis.reps_result import RepsResult

PRIOR_LEADS = 10.0
"""Strength of the prior: a feature's share is pulled toward its pooled share by this many
pseudo-leads in each group (a feature seen on a handful of leads moves little)."""
PLAYBOOK_MORE = 3
PLAYBOOK_LESS = 2
PAIR_ACTIVITIES = 12
"""Pairs "A then B" are tried among this many activities done by most leads."""


def _num(x) -> float | None:
    return stats.finite(x)


def compare(
    singles: pd.DataFrame,
    pairs: pd.DataFrame | None,
    sizes: pd.DataFrame,
    prior_size: float = PRIOR_LEADS,
) -> tuple[Practice, ...]:
    """Every feature's log-odds ratio, z, p and BH q (top vs rest), most over-represented
    first (ties by name).

    ``singles``: ``grp, band, activity, leads, days``; ``pairs``: ``grp, band, a, b,
    leads, days``; ``sizes``: ``grp, band, n``, the leads compared (``grp`` is ``top`` or
    ``rest``; ``band`` the band of how long a lead was watched before the goal, or
    :data:`~royalroad.analysis.reps_queries.ALL_BANDS` for every band together). The
    log-odds is pooled over the bands (:func:`~royalroad.analysis.reps_stats.pooled_log_odds`);
    the shares and days shown are over every band.
    """
    from scipy.stats import norm

    n = {
        (str(g), int(b)): int(v) for g, b, v in sizes[["grp", "band", "n"]].itertuples(index=False)
    }
    n_top, n_rest = n.get(("top", ALL_BANDS), 0), n.get(("rest", ALL_BANDS), 0)
    bands = sorted({b for (_, b) in n if b != ALL_BANDS})
    frames = [singles.assign(then=None)]
    if pairs is not None and len(pairs):
        frames.append(pairs.rename(columns={"a": "activity", "b": "then"}))
    data = pd.concat(frames, ignore_index=True)
    if data.empty or n_top <= 0 or n_rest <= 0:
        return ()
    data["then"] = data["then"].astype(object).where(data["then"].notna(), None)
    data["key"] = data.activity.astype(str) + "\x1f" + data["then"].fillna("").astype(str)
    data["band"] = data["band"].astype(int)
    rows: list[dict] = []
    for _, g in data.groupby("key", sort=True):
        first = g.iloc[0]
        cells = {(str(r.grp), int(r.band)): r for r in g.itertuples(index=False)}

        def leads(grp: str, band: int, cells=cells) -> int:
            r = cells.get((grp, band))
            return int(r.leads) if r is not None else 0

        def days(grp: str, cells=cells) -> float | None:
            r = cells.get((grp, ALL_BANDS))
            return _num(r.days) if r is not None else None

        strata = [
            (leads("top", b), n.get(("top", b), 0), leads("rest", b), n.get(("rest", b), 0))
            for b in bands
        ]
        delta, se, z = pooled_log_odds(strata, prior_size)
        if not math.isfinite(z):
            continue
        rows.append(
            {
                "activity": str(first.activity),
                "then": None if first["then"] is None else str(first["then"]),
                "top_leads": leads("top", ALL_BANDS),
                "rest_leads": leads("rest", ALL_BANDS),
                "log_odds": delta,
                "se": se,
                "z": z,
                "p": float(2 * norm.sf(abs(z))),
                "days_top": days("top"),
                "days_rest": days("rest"),
            }
        )
    if not rows:
        return ()
    q = stats.bh([r["p"] for r in rows])
    out = [
        Practice(
            activity=r["activity"],
            then=r["then"],
            top_leads=r["top_leads"],
            top_n=n_top,
            rest_leads=r["rest_leads"],
            rest_n=n_rest,
            log_odds=r["log_odds"],
            se=r["se"],
            z=r["z"],
            p_value=r["p"],
            q_value=float(qv),
            days_top=r["days_top"],
            days_rest=r["days_rest"],
        )
        for r, qv in zip(rows, np.asarray(q), strict=True)
    ]
    return tuple(sorted(out, key=lambda p: (-p.z, p.activity, p.then or "")))


def pair_activities(singles: pd.DataFrame, n: int = PAIR_ACTIVITIES) -> list[str]:
    """The ``n`` activities done by most leads (both groups), ties by name."""
    if singles.empty:
        return []
    singles = singles[singles.band == ALL_BANDS]
    per = singles.groupby("activity", sort=True)["leads"].sum().reset_index()
    per = per.sort_values(["leads", "activity"], ascending=[False, True])
    return sorted(str(a) for a in per.activity.head(n))


# ---------------------------------------------------------------- the playbook


@dataclass(frozen=True)
class Line:
    """One playbook sentence: a catalogue key and its parameters, rendered in any language."""

    key: str
    params: dict = field(default_factory=dict)
    practice: Practice | None = None

    def text(self, lang: str | None = None) -> str:
        params = {k: (join(v, lang) if isinstance(v, tuple) else v) for k, v in self.params.items()}
        if self.practice is not None:
            params.update(_evidence(self.practice, lang))
        return t(self.key, lang=lang, **params)


def _days(x: float | None) -> str:
    return "–" if x is None else f"{x:.0f}"


def _evidence(p: Practice, lang: str | None) -> dict:
    return {
        "feature": p.label(lang),
        "activity": p.activity,
        "then": p.then or "",
        "top": f"{p.share_top:.0%}",
        "rest": f"{p.share_rest:.0%}",
        "log_odds": f"{p.log_odds:+.2f}",
        "z": f"{p.z:+.1f}",
        "q": f"{p.q_value:.2g}",
        "days_top": _days(p.days_top),
        "days_rest": _days(p.days_rest),
    }


def playbook(result: RepsResult) -> list[Line]:
    """The playbook: who "the best" are, the strongest significant differences before the
    goal (at most three they do more, two they do less), each with its evidence and
    timing, or that none is significant; and always the association caveat."""
    if result.goal is None or not result.top or not result.rest:
        return []
    lines = [
        Line(
            "reps.playbook.intro",
            {"goal": result.goal.activity, "reps": tuple(result.top), "days": result.horizon},
        )
    ]
    sig = result.significant_practices()
    more = [p for p in sig if p.z > 0][:PLAYBOOK_MORE]
    less = sorted((p for p in sig if p.z < 0), key=lambda p: (p.z, p.activity))[:PLAYBOOK_LESS]
    for p in more:
        key = "reps.playbook.more_pair" if p.then is not None else "reps.playbook.more"
        lines.append(Line(key, {}, p))
    for p in less:
        lines.append(Line("reps.playbook.less", {}, p))
    if not sig:
        lines.append(Line("reps.playbook.none", {"n": len(result.practices)}))
    lines.append(Line("reps.playbook.caveat"))
    return lines


__all__ = ["PRIOR_LEADS", "Line", "compare", "pair_activities", "playbook"]
