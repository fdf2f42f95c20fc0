"""The article's industry benchmarks (``kpi_presets.toml``) as typed presets.

>>> p = preset("manufacturing")
>>> p.benchmark_rate, p.benchmark_to, round(p.p_win_given_goal, 2)
(0.6, '見積依頼', 0.3)
>>> preset("saas").p_win_given_goal
0.3
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

from royalroad.errors import InputError

WON = "won"
"""``benchmark_to`` of a benchmark that ends in the win itself."""


@dataclass(frozen=True)
class KpiPreset:
    """One industry: the article's benchmark and the defaults a first plan needs.

    ``benchmark_rate`` is the article's figure; everything else is a preset default
    (an assumption every output labels as such).
    """

    name: str
    goal: str
    benchmark_to: str
    benchmark_rate: float
    p_goal_given_lead: float
    p_win_without_goal: float
    days_to_goal: float
    days_goal_to_close: float
    won_amount_cv: float
    p_win_after_benchmark: float | None = None

    @property
    def ends_in_win(self) -> bool:
        return self.benchmark_to == WON

    @property
    def p_win_given_goal(self) -> float:
        """The article's rate when its step ends in the win; else the article's rate to
        the next step times the preset's P(win) after it."""
        if self.ends_in_win:
            return self.benchmark_rate
        return self.benchmark_rate * (self.p_win_after_benchmark or 0.0)


@cache
def presets() -> dict[str, KpiPreset]:
    text = resources.files("royalroad.analysis").joinpath("kpi_presets.toml").read_text("utf-8")
    return {name: KpiPreset(name=name, **fields) for name, fields in tomllib.loads(text).items()}


def preset(name: str) -> KpiPreset:
    """The preset called ``name``; an unknown name is one line, exit code 2."""
    found = presets().get(name)
    if found is None:
        raise InputError("plan.unknown_preset", value=name, allowed=", ".join(presets()))
    return found


def is_preset(name: str) -> bool:
    return name in presets()


__all__ = ["WON", "KpiPreset", "is_preset", "preset", "presets"]
