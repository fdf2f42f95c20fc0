"""What ``truth.json`` holds: the planted answer, the traps and what was realised."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from royalroad.simulate import notes as nt
from royalroad.simulate.engine import Generated, expit
from royalroad.simulate.scenarios import Scenario

DEFINITIONS = {
    "win_rate": "won / (won + lost) among closed leads (closed_at <= as_of); open leads are "
    "censored",
    "reached": "a lead reached an activity when it has an event of it strictly before closed_at",
    "goal_reach_rate": "P(goal) over all leads, before censoring",
    "stage_conversion": "among closed leads that reached the previous step, the share that also "
    "reached this one",
    "win_rate_given_goal": "win rate of closed leads that reached the goal: the scenario's "
    "'X% convert'",
    "win_rate_given_step": "win rate of closed leads that reached this step",
    "win_rate_by_deepest_step": "win rate of closed leads whose deepest step is this one",
    "win_rate_catalogue_only": "win rate of closed leads whose activities before close, proxies "
    "aside, all lie in catalogue_steps",
    "reps": "odds multiplier of reaching the goal (skill); reps have no other effect",
    "idle_effect": "a share slow_share of leads is slow: they do the repeated steps at "
    "slow_repeat_rate times the usual rate (so they sit idle longer) and win with "
    "slow_win_odds_ratio times the odds at every depth; planted rates hold over the mix",
    "segment_effect": "win odds multiplier of each industry at every depth (the confounder's)",
    "route_to_goal": "cheap steps done before the goal that multiply the odds of reaching it "
    "(goal_odds); a lead that does one reaches the goal, if at all, at least a day after it",
    "sampling": "outside null, outcomes are drawn by stratified sampling: in every cell of "
    "(deepest step, industry, pace, closed) exactly round(rate * n) leads win, and the confounder "
    "activity is done by exactly round(rate * n) leads of every (industry, goal, outcome, closed) "
    "cell; under null outcomes are independent draws with null_win_rate",
    "confounder": "the segment value has win_odds_ratio times the win odds at every depth and does "
    "the activity far more often; given the segment the activity is independent of goal and "
    "outcome",
    "planted_triggers": "decision-trigger categories of the default trigger dictionary: exactly "
    "round(p * n) leads of every (eventual outcome, closed) cell get one extra note mentioning "
    "the category (p_if_won for winners, p_if_lost for losers; under null both are p_null), at "
    "an office hour between creation and an hour before the close; notes after as_of are not "
    "in the data",
    "drift": "with drift, every lead created at or after date has win_odds_ratio times the win "
    "odds (the planted rates hold for leads created before it), and share_after of those leads "
    "do the activity, by stratified sampling within (goal, outcome, closed): given the creation "
    "period it is independent of goal and outcome, and nobody created before the date does it",
}


def _win_given_step(sc: Scenario, wins: list[float]) -> dict[str, float]:
    """P(win | reached step k) from the chain of conversions and win rates by depth."""
    conv = [1.0] + [st.p for st in sc.stages]
    names = [sc.goal.activity] + [st.activity for st in sc.stages]
    out = {}
    for k, name in enumerate(names):
        reach, num, den = 1.0, 0.0, 0.0
        for d in range(k, len(names)):  # deepest step d, given step k reached
            stay = 1.0 - (conv[d + 1] if d + 1 < len(conv) else 0.0)
            num += reach * stay * wins[d]
            den += reach * stay
            reach *= conv[d + 1] if d + 1 < len(conv) else 0.0
        out[name] = round(num / den, 4)
    return out


def planted_rates(sc: Scenario, gen: Generated, null: bool) -> dict[str, Any]:
    wins = [sc.goal.win] + [st.win for st in sc.stages]
    catalogue = sc.win_catalogue
    if null:
        wins, catalogue = [sc.win_null] * len(wins), sc.win_null
    given_step = _win_given_step(sc, wins)
    share = np.array([s for _, s in sc.industries], dtype=float)
    no_goal = expit(gen.win_intercepts[0] + np.array(gen.industry_log_odds))
    without = float(np.sum(share / share.sum() * no_goal))
    return {
        "definitions": DEFINITIONS,
        "goal_reach_rate": sc.goal.p,
        "source_goal_odds": {s.name: s.goal_odds for s in sc.sources},
        "route_to_goal": [
            {"activity": o.activity, "p": o.p, "goal_odds": o.goal_odds}
            for o in sc.once
            if o.goal_odds != 1.0
        ],
        "idle_effect": {
            "direction": "none" if null else "negative",
            "slow_share": sc.slow_share,
            "slow_repeat_rate": sc.slow_repeat_rate,
            "slow_win_odds_ratio": 1.0 if null else sc.slow_win_odds,
            "repeated_steps": [c.activity for c in sc.counts],
        },
        "segment_effect": {
            "segment": "industry",
            "win_odds_ratio": {
                name: (1.0 if null or name != sc.confounder.industry else sc.confounder.win_odds)
                for name, _ in sc.industries
            },
        },
        "repeat_goal_rate": sc.repeat_goal,
        "stage_conversion": {st.activity: st.p for st in sc.stages},
        "win_rate_catalogue_only": catalogue,
        "win_rate_without_goal": round(without, 4),
        "win_rate_given_goal": given_step[sc.goal.activity],
        "win_rate_given_step": given_step,
        "win_rate_by_deepest_step": {
            name: w
            for name, w in zip(
                [sc.goal.activity] + [s.activity for s in sc.stages], wins, strict=True
            )
        },
        "null_win_rate": sc.win_null if null else None,
        "confounder": {
            "activity_rate_in_segment": sc.confounder.p_in,
            "activity_rate_elsewhere": sc.confounder.p_out,
            "win_odds_ratio": 1.0 if null else sc.confounder.win_odds,
        },
        "proxy_rate": {"won": sc.proxy_p_won, "lost": sc.proxy_p_lost},
        "post_close_rate": {sc.post_won: sc.post_won_p, sc.post_lost: sc.post_lost_p},
        "notes": {
            "mean_per_lead": nt.MEAN_NOTES,
            "share_english": nt.P_ENGLISH,
            "share_with_trigger": nt.P_TRIGGER,
            "p_positive_if_won": nt.P_POSITIVE_NULL if null else nt.P_POSITIVE_WON,
            "p_positive_if_lost": nt.P_POSITIVE_NULL if null else nt.P_POSITIVE_LOST,
            "planted_triggers": _planted(null),
        },
    }


def _planted(null: bool) -> list[dict[str, Any]]:
    """The article's decision triggers planted in notes, as categories of the default
    trigger dictionary (``royalroad/text/triggers.yaml``)."""
    return [
        {
            "category": pl.category,
            "polarity": "neutral" if null else pl.polarity,
            "p_if_won": pl.p_null if null else pl.p_won,
            "p_if_lost": pl.p_null if null else pl.p_lost,
            "phrases": {"ja": list(pl.ja), "en": list(pl.en)},
        }
        for pl in nt.PLANTED
    ]


def realised(leads: pa.Table, events: pa.Table, notes: pa.Table) -> dict[str, int]:
    counts = {v["values"]: v["counts"] for v in pc.value_counts(leads["outcome"]).to_pylist()}
    return {
        "leads": leads.num_rows,
        "won": counts.get("won", 0),
        "lost": counts.get("lost", 0),
        "open": counts.get("open", 0),
        "events": events.num_rows,
        "notes": notes.num_rows,
    }


def drift_truth(sc: Scenario, gen: Generated) -> dict[str, Any] | None:
    if gen.drift_at is None:
        return None
    at = np.datetime64(gen.drift_at, "s").astype(object)
    return {
        "activity": sc.drift.activity,
        "date": f"{at:%Y-%m-%d %H:%M:%S}",
        "quarter": f"{at.year}-Q{(at.month - 1) // 3 + 1}",
        "month": f"{at:%Y-%m}",
        "win_odds_ratio": sc.drift.win_odds,
        "share_after": sc.drift.p,
    }


def truth(
    sc: Scenario, gen: Generated, notes: pa.Table, *, seed: int, null: bool, as_of: str
) -> dict[str, Any]:
    return {
        "scenario": sc.name,
        "seed": seed,
        "leads": gen.leads.num_rows,
        "null": null,
        "as_of": as_of,
        "id_prefix": sc.prefix,
        "goal": {"activity": sc.goal.activity, "min_count": 1, "within_days": None},
        "stages": sc.royal_road,
        "catalogue_steps": sc.catalogue_steps,
        "activities": sc.activities + ([sc.drift.activity] if gen.drift_at is not None else []),
        "drift": drift_truth(sc, gen),
        "proxies": [sc.proxy],
        "post_close_activities": [sc.post_won, sc.post_lost],
        "confounders": [
            {
                "activity": sc.confounder.activity,
                "segment": "industry",
                "value": sc.confounder.industry,
            }
        ],
        "segments": {
            "industry": [name for name, _ in sc.industries],
            "source": [s.name for s in sc.sources],
            "region": [name for name, _ in sc.regions],
            "rep": [name for name, _ in sc.reps],
        },
        "reps": {name: skill for name, skill in sc.reps},
        "triggers": {
            "positive": list(nt.POSITIVE_JA + nt.POSITIVE_EN),
            "negative": list(nt.NEGATIVE_JA + nt.NEGATIVE_EN),
            "categories": _planted(null),
        },
        "planted_rates": planted_rates(sc, gen, null),
        "realised": realised(gen.leads, gen.events, notes),
    }
