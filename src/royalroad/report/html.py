"""Render the self-contained HTML report.

Autoescaping is on for every template: activity names, segment values, notes and
file names are user text and are escaped in text and attributes alike. Data for
charts is embedded with :func:`json_for_script`, which also escapes ``<``, ``>`` and
``&`` so that ``</script>`` inside a name cannot end the script element.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import jinja2

from royalroad import __version__
from royalroad.i18n import LANGS, get_lang, t


def json_for_script(value: Any) -> str:
    """JSON safe to place inside ``<script>``.

    >>> json_for_script({"a": "</script>"})
    '{"a": "\\\\u003c/script\\\\u003e"}'
    """
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def fmt_int(value: int | float | None) -> str:
    return "–" if value is None else f"{int(value):,}"


def fmt_pct(value: float | None, digits: int = 0) -> str:
    if value is None or value != value:  # None or NaN: no closed lead to rate
        return "–"
    return f"{100 * value:.{digits}f}%"


def fmt_ratio(value: float | None) -> str:
    import math

    if value is None or not math.isfinite(value):
        return "–"
    return f"{value:.2f}" if value < 100 else f"{value:,.0f}"


def fmt_pts(value: float | None) -> str:
    """A difference of probabilities in points: ``+1.2``; missing → ``–``."""
    import math

    if value is None or not math.isfinite(value):
        return "–"
    return f"{100 * value:+.1f}"


@cache
def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("royalroad.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["int"] = fmt_int
    env.filters["pct"] = fmt_pct
    env.filters["script_json"] = json_for_script
    env.filters["ratio"] = fmt_ratio
    env.filters["pts"] = fmt_pts
    return env


def _asset(name: str) -> str:
    return resources.files("royalroad.report").joinpath("assets", name).read_text(encoding="utf-8")


@dataclass(frozen=True)
class LangBlock:
    """The whole report in one language: its sections, rendered bodies and charts."""

    lang: str
    sections: list
    bodies: list[str]
    charts: list


def render_report(results, *, lang: str | None = None) -> str:
    """The whole report as one HTML string, in both languages (deterministic).

    ``lang`` (default: the current language) is shown first; a switch at the top shows
    the other, so a report can be forwarded to a reader of the other language. Each
    language's charts are drawn when its part is first shown.
    """
    from royalroad.report.sections import build_sections

    first = lang or get_lang()
    env = _env()
    blocks = []
    for code in [first, *(x for x in LANGS if x != first)]:

        def tr(key: str, _code: str = code, **params: Any) -> str:
            return t(key, lang=_code, **params)

        sections = build_sections(results, code)
        bodies = [
            env.get_template(s.template).render(s=s, _=tr, lang=code, aid=f"{code}-")
            for s in sections
        ]
        blocks.append(LangBlock(code, sections, bodies, [c for s in sections for c in s.charts]))
    charts = [(b.lang, c) for b in blocks for c in b.charts]

    def tr_first(key: str, **params: Any) -> str:
        return t(key, lang=first, **params)

    html = env.get_template("base.html.j2").render(
        _=tr_first,
        t=t,
        lang=first,
        blocks=blocks,
        css=_asset("report.css"),
        version=__version__,
        meta=results.meta,
        charts=charts,
        plotlyjs=_plotlyjs() if charts else "",
    )
    anon = getattr(results, "anonymiser", None)
    return anon.text(html) if anon is not None else html  # names in free text too


@cache
def _plotlyjs() -> str:
    """plotly.js from the installed plotly package, inlined once: the file works offline."""
    from plotly.offline import get_plotlyjs

    # A literal "</script" inside the library would end our script element.
    return get_plotlyjs().replace("</script", "<\\/script")
