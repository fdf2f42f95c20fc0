"""Terminal rendering of the reps analysis, and the sentences and cells every view shares.

The report, the workbook and the app take their text from here (the ranking, the
funnel plot's verdict, the shrinkage, the tables' headers and cells), so each says the
same thing. Cells are display text, user text not yet escaped.
"""

from __future__ import annotations

import math

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from royalroad.analysis.reps_practices import playbook
from royalroad.analysis.reps_result import BEYOND_CHANCE, Practice, Rate, RepRow, RepsResult
from royalroad.i18n import get_lang, join, t
from royalroad.presenters.format import DASH, p_value_text, pct


def rate_text(rate: float | None, ci: tuple[float, float] | None) -> str:
    """``35% [33–36%]``; missing → ``–``."""
    if rate is None or not math.isfinite(rate):
        return DASH
    if not ci or not all(math.isfinite(v) for v in ci):
        return pct(rate)
    return f"{pct(rate)} [{pct(ci[0]).rstrip('%')}–{pct(ci[1])}]"


def _m(row: RepRow, name: str) -> Rate | None:
    return row.metrics.get(name)


def raw_text(r: Rate | None) -> str:
    return DASH if r is None else rate_text(r.rate, r.ci)


def shrunk_text(r: Rate | None) -> str:
    return DASH if r is None else rate_text(r.shrunk, r.shrunk_ci)


def zone_text(zone: str | None, lang: str | None = None) -> str:
    return DASH if zone is None else t(f"reps.zone.{zone}", lang=lang)


def points(x: float | None) -> str:
    """Points with a sign, one decimal: ``+7.8``; ``0.0`` when it rounds to nothing."""
    if x is None or not math.isfinite(x):
        return DASH
    value = round(100 * x, 1)
    return "0.0" if value == 0 else f"{value:+.1f}"


def days_text(x: float | None) -> str:
    return DASH if x is None or not math.isfinite(x) else f"{x:.0f}"


def metric_name(result: RepsResult, metric: str, lang: str | None = None) -> str:
    return t(f"reps.metric.{metric}", lang=lang, days=result.horizon)


def coach(row: RepRow, lang: str | None = None) -> str:
    """Where the largest shortfall of a rep below the team is: approach or closing."""
    g = row.gap
    if g is None or g.total >= 0:
        return DASH
    parts = {"reach": g.reach, "conversion": g.conversion, "no_goal": g.no_goal}
    worst = min(parts, key=lambda k: (parts[k], k))
    return t(f"reps.coach.{worst}", lang=lang) if parts[worst] < 0 else DASH


# ---------------------------------------------------------------- sentences


def header_lines(result: RepsResult, lang: str | None = None) -> list[str]:
    """The goal (or its absence), the road adherence counts and the adjustment."""
    if result.goal is not None:
        out = [t("reps.goal_line", lang=lang, goal=result.goal_label(lang), by=result.by)]
    else:
        out = [t("reps.no_goal_line", lang=lang, by=result.by)]
    if result.road:
        out.append(t("reps.road_line", lang=lang, road=" → ".join(result.road)))
    if result.adjust:
        out.append(t("reps.sentence.adjusted", lang=lang, segments=join(result.adjust, lang)))
    if result.anonymised:
        out.append(t("reps.anonymised_note", lang=lang))
    return out


def ranked_sentence(result: RepsResult, lang: str | None = None) -> str:
    """Who ranks first and last on the shrunk rate, raw → shrunk."""
    ranked = [r for r in result.reps if r.rank is not None]
    if not ranked:
        return ""
    first, last = ranked[0], ranked[-1]
    m = result.rank_metric
    a, b = first.metrics[m], last.metrics[m]
    return t(
        "reps.sentence.ranked",
        lang=lang,
        metric=metric_name(result, m, lang),
        first=first.name(lang),
        first_raw=pct(a.rate),
        first_shrunk=pct(a.shrunk if a.shrunk is not None else a.rate),
        last=last.name(lang),
        last_raw=pct(b.rate),
        last_shrunk=pct(b.shrunk if b.shrunk is not None else b.rate),
    )


def funnel_sentence(result: RepsResult, lang: str | None = None, metric: str | None = None) -> str:
    """The funnel plot's verdict: who differs from the team beyond chance, or nobody."""
    m = metric or result.rank_metric
    team = result.team.metrics.get(m)
    if team is None or team.rate is None:
        return ""
    rows = [r for r in result.reps if r.metrics[m].n > 0]
    above = [r.name(lang) for r in rows if r.metrics[m].zone in ("above_95", "above_998")]
    below = [r.name(lang) for r in rows if r.metrics[m].zone in ("below_95", "below_998")]
    target = pct(team.rate)
    if not above and not below:
        return t("reps.sentence.none_beyond", lang=lang, target=target)
    beyond = t(
        "reps.sentence.beyond",
        lang=lang,
        n=len(above) + len(below),
        total=len(rows),
        target=target,
        above=join(above, lang) if above else DASH,
        below=join(below, lang) if below else DASH,
    )
    chance = t(
        "reps.sentence.chance",
        lang=lang,
        total=len(rows),
        n95=f"{0.05 * len(rows):.1f}",
        n998=f"{0.002 * len(rows):.2f}",
    )
    return f"{beyond}{'' if (lang or get_lang()) == 'ja' else ' '}{chance}"


def prior_lines(result: RepsResult, lang: str | None = None) -> list[str]:
    """How strongly each headline rate is shrunk (the fitted prior in words)."""
    out = []
    for m in dict.fromkeys((result.rank_metric, "post_goal")):
        prior = result.priors.get(m)
        if prior is None:
            continue
        if prior.pooled or prior.strength is None:
            out.append(
                t(
                    "reps.prior_pooled",
                    lang=lang,
                    metric=metric_name(result, m, lang),
                    mean=pct(prior.mean),
                )
            )
        else:
            out.append(
                t(
                    "reps.prior",
                    lang=lang,
                    metric=metric_name(result, m, lang),
                    mean=pct(prior.mean),
                    strength=f"{prior.strength:,.0f}",
                    groups=prior.groups,
                )
            )
    return out


def playbook_lines(result: RepsResult, lang: str | None = None) -> list[str]:
    return [line.text(lang) for line in playbook(result)]


def caveat_lines(result: RepsResult, lang: str | None = None) -> list[str]:
    return [c.text(lang) for c in result.caveats]


# ---------------------------------------------------------------- tables


def all_rows(result: RepsResult) -> list[RepRow]:
    """The ranked reps, then the leads without a rep, then the team."""
    return [*result.reps, *(r for r in (result.unassigned, result.team) if r is not None)]


def reach_title(result: RepsResult, lang: str | None = None) -> str:
    if result.rank_metric == "reach":
        return t("reps.table.reach", lang=lang, goal=result.goal_label(lang))
    return t("reps.table.win", lang=lang)


def reach_headers(result: RepsResult, lang: str | None = None) -> list[str]:
    h = result.horizon
    head = [t("reps.col.rank", lang=lang), result.by, t("reps.col.leads", lang=lang)]
    head.append(t("reps.col.wonlostopen", lang=lang))
    if result.rank_metric == "reach":
        head += [t("reps.col.goal_by", lang=lang, days=h), t("reps.col.reach", lang=lang, days=h)]
    else:
        head.append(t("reps.col.win", lang=lang))
    head += [t("reps.col.shrunk", lang=lang), t("reps.col.zone", lang=lang)]
    if result.rank_metric == "reach":
        head.append(t("reps.col.days", lang=lang))
    if result.adjust:
        head += [t("reps.col.oe", lang=lang), t("reps.col.fair_rank", lang=lang)]
    return head


def reach_cells(row: RepRow, result: RepsResult, lang: str | None = None) -> list[str]:
    m = row.metrics.get(result.rank_metric)
    cells = [
        DASH if row.rank is None else str(row.rank),
        row.name(lang),
        f"{row.leads:,}",
        f"{row.won:,}/{row.lost:,}/{row.open:,}",
    ]
    if result.rank_metric == "reach":
        cells.append(rate_text(row.goal_reach, row.goal_reach_ci))
    cells += [raw_text(m), shrunk_text(m) if row.kind == "rep" else DASH]
    cells.append(zone_text(m.zone if m is not None else None, lang))
    if result.rank_metric == "reach":
        cells.append(days_text(row.median_days_to_goal))
    if result.adjust:
        oe = DASH
        if m is not None and m.observed_expected is not None:
            lo, hi = m.observed_expected_ci or (math.nan, math.nan)
            oe = f"{m.observed_expected:.2f} [{lo:.2f}–{hi:.2f}]"
        cells += [oe, DASH if row.rank_adjusted is None else str(row.rank_adjusted)]
    return cells


def convert_headers(result: RepsResult, lang: str | None = None) -> list[str]:
    head = [t("reps.col.rank", lang=lang), result.by]
    head += [
        t(f"reps.col.{k}", lang=lang) for k in ("post_goal", "post_goal_shrunk", "no_goal", "win")
    ]
    if result.road:
        head.append(t("reps.col.adherence", lang=lang))
    keys = ("gap_reach", "gap_conversion", "gap_no_goal", "gap_total", "gap_wins", "coach")
    return head + [t(f"reps.col.{k}", lang=lang) for k in keys]


def convert_cells(row: RepRow, result: RepsResult, lang: str | None = None) -> list[str]:
    post = _m(row, "post_goal")
    cells = [
        DASH if row.rank is None else str(row.rank),
        row.name(lang),
        raw_text(post),
        shrunk_text(post) if row.kind == "rep" else DASH,
        raw_text(_m(row, "no_goal")),
        raw_text(_m(row, "win")),
    ]
    if result.road:
        cells.append(raw_text(_m(row, "adherence")))
    g = row.gap
    cells += [
        points(g.reach if g else None),
        points(g.conversion if g else None),
        points(g.no_goal if g else None),
        points(g.total if g else None),
        DASH if g is None else ("0.0" if round(g.wins, 1) == 0 else f"{g.wins:+.1f}"),
        coach(row, lang),
    ]
    return cells


def shown_practices(result: RepsResult, top: int = 10) -> list[Practice]:
    """The strongest differences first (by |z|), at most ``top``."""
    return sorted(result.practices, key=lambda p: (-abs(p.z), p.activity, p.then or ""))[:top]


def practices_title(result: RepsResult, lang: str | None = None) -> str:
    first = result.practices[0] if result.practices else None
    return t(
        "reps.practices.title",
        lang=lang,
        goal=result.goal_label(lang),
        top=join([*result.top], lang),
        n_top=f"{first.top_n:,}" if first else "0",
        n_rest=f"{first.rest_n:,}" if first else "0",
        days=result.horizon,
    )


def practice_headers(lang: str | None = None) -> list[str]:
    keys = ("feature", "top", "rest", "log_odds", "z", "q", "days_top", "days_rest")
    return [t(f"reps.practices.col.{k}", lang=lang) for k in keys]


def practice_cells(p: Practice, lang: str | None = None) -> list[str]:
    return [
        p.label(lang) + (" *" if p.significant() else ""),
        f"{pct(p.share_top)} ({p.top_leads:,})",
        f"{pct(p.share_rest)} ({p.rest_leads:,})",
        f"{p.log_odds:+.2f}",
        f"{p.z:+.1f}",
        p_value_text(p.q_value, lang),
        days_text(p.days_top),
        days_text(p.days_rest),
    ]


def practices_legend(result: RepsResult, lang: str | None = None) -> str:
    return t("reps.practices.legend", lang=lang, n=len(result.practices))


def _table(title: str, headers: list[str], rows: list[list[str]]) -> Table:
    table = Table(title=escape(title), title_justify="left")
    for j, h in enumerate(headers):
        table.add_column(escape(h), justify="left" if j in (0, 1) else "right", overflow="fold")
    for r in rows:
        table.add_row(*(escape(c) for c in r))
    return table


def render_reps(result: RepsResult, console: Console, *, top: int = 10) -> None:
    """The whole comparison on the terminal, in the current language."""
    lang = get_lang()
    console.print(f"[bold]{escape(t('reps.heading'))}[/bold]")
    for line in header_lines(result, lang):
        console.print(escape(line))
    sentence = ranked_sentence(result, lang)
    if sentence:
        console.print(f"[bold green]{escape(sentence)}[/bold green]")
    rows = all_rows(result)
    console.print(
        _table(
            reach_title(result, lang),
            reach_headers(result, lang),
            [reach_cells(r, result, lang) for r in rows],
        )
    )
    verdict = funnel_sentence(result, lang)
    if verdict:
        console.print(escape(verdict))
    for line in prior_lines(result, lang):
        console.print(escape(line))
    if result.goal is not None:
        console.print(escape(t("reps.legend.reach", lang=lang, days=result.horizon)))
        console.print(
            _table(
                t("reps.table.convert", lang=lang),
                convert_headers(result, lang),
                [convert_cells(r, result, lang) for r in rows],
            )
        )
        console.print(escape(t("reps.legend.gap", lang=lang)))
    if result.practices:
        console.print(
            _table(
                practices_title(result, lang),
                practice_headers(lang),
                [practice_cells(p, lang) for p in shown_practices(result, top)],
            )
        )
        console.print(escape(practices_legend(result, lang)))
    lines = playbook_lines(result, lang)
    if lines:
        console.print(f"[bold]{escape(t('reps.playbook.title', lang=lang))}[/bold]")
        for line in lines:
            console.print(escape(line))
    for line in caveat_lines(result, lang):
        console.print(f"[yellow]{escape(line)}[/yellow]")


__all__ = ["BEYOND_CHANCE", "render_reps"]
