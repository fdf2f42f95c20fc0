"""Aggregated path files, as marketing-attribution tools export them.

One row per path: ``path`` like ``a > b > c``, the number of conversions and of
journeys that ended without one (``null``). Duplicate paths are summed. The rows
become transition counts of an absorbing chain: ▶start → a → b → c, then c → ■won
(conversions) and c → ■lost (nulls).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import numpy as np
import pyarrow.compute as pc

from royalroad.analysis import markov
from royalroad.analysis.journeys import LOST, START, WON
from royalroad.errors import InputError
from royalroad.io.mapping import normalise_header

PATH_COLUMNS = ("path", "paths", "journey", "channel_path")
CONV_COLUMNS = ("total_conversions", "conversions", "conv", "total_conv")
NULL_COLUMNS = ("total_null", "null", "nulls", "total_nulls", "non_conversions")


@dataclass(frozen=True)
class PathFileResult:
    source: str
    rows: int
    paths: int
    conversions: float
    nulls: float
    p_win_start: float
    states: tuple[tuple[str, float, float], ...]  # state, p_win, expected steps
    removal_effects: dict[str, float]

    def to_dict(self) -> dict:
        from royalroad.analysis.goals_result import _clean

        return _clean(
            {
                "source": self.source,
                "rows": self.rows,
                "distinct_paths": self.paths,
                "conversions": self.conversions,
                "nulls": self.nulls,
                "markov": {
                    "p_win_start": self.p_win_start,
                    "states": [
                        {"state": s, "p_win": p, "expected_steps": n} for s, p, n in self.states
                    ],
                    "removal_effects": [
                        {"activity": a, "removal_effect": v}
                        for a, v in self.removal_effects.items()
                    ],
                },
            }
        )


def _find(columns: list[str], names: tuple[str, ...], source: str, what: str) -> str:
    keys = {normalise_header(c): c for c in columns}
    for n in names:
        if normalise_header(n) in keys:
            return keys[normalise_header(n)]
    raise InputError(
        "paths.file_column",
        file=source,
        column=what,
        looked=", ".join(names),
        found=", ".join(columns),
    )


def path_counts(path: str | Path, *, sep: str = ">") -> tuple[dict[tuple[str, str], float], dict]:
    """Read a path file into chain transition counts (and a small summary)."""
    from royalroad.io.delimited import read_csv

    raw = read_csv(path, source=str(path))
    cols = raw.columns
    pcol = _find(cols, PATH_COLUMNS, raw.source, "path")
    ccol = _find(cols, CONV_COLUMNS, raw.source, "conversions")
    ncol = _find(cols, NULL_COLUMNS, raw.source, "null")
    table = raw.table
    paths = table[pcol].to_pylist()
    try:
        conv = pc.cast(pc.fill_null(table[ccol], "0"), "float64").to_numpy(zero_copy_only=False)
        null = pc.cast(pc.fill_null(table[ncol], "0"), "float64").to_numpy(zero_copy_only=False)
    except Exception:  # noqa: BLE001 - pyarrow raises several types for bad numbers
        raise InputError("paths.file_numbers", file=raw.source, conv=ccol, null=ncol) from None
    lines = table["_line"].to_pylist()
    for value, line in zip(np.concatenate([conv, null]), lines + lines, strict=True):
        if not np.isfinite(value) or value < 0:
            raise InputError("paths.file_bad_count", file=raw.source, line=line, value=value)
    merged: dict[tuple[str, ...], list[float]] = {}
    for p, c, n in zip(
        paths, conv, null, strict=True
    ):  # one row per distinct path: aggregated input
        steps = tuple(s.strip() for s in str(p or "").split(sep) if s.strip())
        if not steps:  # an empty path (or only separators) has no step to count
            continue
        acc = merged.setdefault(steps, [0.0, 0.0])
        acc[0] += float(c)
        acc[1] += float(n)
    counts: dict[tuple[str, str], float] = {}

    def add(a: str, b: str, w: float) -> None:
        if w:
            counts[(a, b)] = counts.get((a, b), 0.0) + w

    for steps, (c, n) in sorted(merged.items()):
        add(START, steps[0], c + n)
        for a, b in pairwise(steps):
            add(a, b, c + n)
        add(steps[-1], WON, c)
        add(steps[-1], LOST, n)
    summary = {
        "rows": table.num_rows,
        "paths": len(merged),
        "conversions": float(np.sum(conv)),
        "nulls": float(np.sum(null)),
        "source": raw.source,
    }
    return counts, summary


def analyse_path_file(path: str | Path, *, sep: str = ">") -> PathFileResult:
    counts, info = path_counts(path, sep=sep)
    chain = markov.Chain.from_counts(counts)
    sol = markov.solve(chain)
    groups = {s: [s] for s in chain.transient if s != START}
    effects = markov.removal_effects(chain, groups)
    effects = dict(
        sorted(effects.items(), key=lambda kv: (-kv[1] if not math.isnan(kv[1]) else 1, kv[0]))
    )
    states = tuple(
        (s, float(sol.p_win[i]), float(sol.expected_steps[i]))
        for i, s in enumerate(chain.transient)
    )
    p_start = sol.of(START) if START in chain.transient else math.nan
    return PathFileResult(
        info["source"],
        info["rows"],
        info["paths"],
        info["conversions"],
        info["nulls"],
        p_start,
        states,
        effects,
    )
