"""royalroad web app (a Streamlit script): upload → map columns → outcomes → analyse → report.

Start it with ``royalroad serve``. This file only lays out widgets and keeps the
session's state; every decision is a function of :mod:`royalroad.app.logic`.
Errors are shown as the same one line the CLI prints, never as a traceback.

Every value that comes from the user's data or files (activity names, outcome values,
column and file names, segments, error lines) goes through
:func:`~royalroad.app.safe.md_escape` before an element that renders Markdown shows it,
so ``![x](http://…)`` is displayed as those characters and never fetched or linked.
The session's folder belongs to :mod:`royalroad.app.sessions`, which removes it once
the session is gone.
"""

from __future__ import annotations

import hashlib
import inspect
import os
import time
from dataclasses import replace
from typing import Any

import streamlit as st

from royalroad.app import launch, logic, present, runner, sessions
from royalroad.app import tab_actions as tab_actions_module
from royalroad.app import tab_funnel as tab_funnel_module
from royalroad.app import tab_plan as tab_plan_module
from royalroad.app import tab_reps as tab_reps_module
from royalroad.app import tab_triggers as tab_triggers_module
from royalroad.app import tab_trust as tab_trust_module
from royalroad.app.safe import md_escape, md_frame, md_params, md_rows
from royalroad.engine import DEFAULT_MAX_ACTIVITIES
from royalroad.errors import RoyalroadError
from royalroad.i18n import LANGS, set_lang, t
from royalroad.io.mapping import COALESCED, OPTIONAL, PRESET_ORDER, ColumnMap, get_preset

CONFIG = launch.config_from_env()
AUTO = "auto"
NONE = ""
REPORT_HEIGHT = 900
ss = st.session_state


def _digest(*parts: object) -> str:
    return hashlib.sha1(repr(parts).encode("utf-8")).hexdigest()[:10]


def _supports(fn, name: str) -> bool:
    try:
        return name in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def _placeholder() -> dict:
    return {"placeholder": t("app.choose")} if _supports(st.multiselect, "placeholder") else {}


def _folders() -> sessions.SessionFolders:
    return sessions.registry(
        CONFIG.tmp_root, grace=CONFIG.session_grace, interval=CONFIG.sweep_seconds
    )


def _init() -> None:
    sid, state = sessions.current()
    folder = str(_folders().folder(sid, state))
    if ss.get("rr_dir") == folder:
        return
    if "rr_dir" in ss:
        # The folder went (swept after a long disconnection): uploads still in the widget
        # are saved again and the next run ingests them again.
        ss.rr_dir = folder
        ss.rr_files = {}
        ss.rr_ingested = None
        ss.rr_confirmed = None
        return
    ss.rr_dir = folder
    ss.rr_gen = ss.get("rr_gen", 0)
    ss.rr_files = {}
    ss.rr_confirmed = None
    ss.rr_results = None
    ss.rr_ingested = None
    ss.rr_segments = ()
    ss.rr_error = None
    ss.rr_downloads = {}
    ss.rr_last_run = (0.0, True)


def _start_over() -> None:
    _folders().reset(sessions.current()[0])
    gen = ss.get("rr_gen", 0) + 1
    lang = ss.get("rr_lang")
    for key in list(ss.keys()):
        del ss[key]
    ss.rr_gen = gen
    if lang:
        ss.rr_lang = lang


def _error(exc: BaseException) -> None:
    folder = ss.get("rr_dir")
    message = logic.clean_message(str(exc), folder) if folder else str(exc)
    st.error(md_escape(message))


def sidebar() -> str:
    lang = ss.get("rr_lang", CONFIG.lang)
    set_lang(lang)
    with st.sidebar:
        lang = st.radio(
            t("app.lang"),
            LANGS,
            index=LANGS.index(lang),
            horizontal=True,
            format_func=lambda code: t(f"app.lang.{code}"),
            key="rr_lang",
        )
        set_lang(lang)
        st.caption(t("app.sidebar.about", limit=CONFIG.max_upload_mb))
        st.button(t("app.start_over"), on_click=_start_over, key="rr_start_over")
    return lang


def upload_step() -> list[logic.FileInfo]:
    st.subheader(t("app.step.upload"))
    kwargs: dict[str, Any] = {}
    if _supports(st.file_uploader, "max_upload_size"):
        kwargs["max_upload_size"] = CONFIG.max_upload_mb
    uploads = st.file_uploader(
        t("app.upload.label"),
        type=list(logic.UPLOAD_TYPES),
        accept_multiple_files=True,
        key=f"rr_upload_{ss.rr_gen}",
        help=t("app.upload.help"),
        **kwargs,
    )
    infos = []
    for up in uploads or []:
        key = f"{up.name}:{up.size}:{getattr(up, 'file_id', '')}"
        if key not in ss.rr_files:
            try:
                path = logic.save_upload(
                    ss.rr_dir, up.name, up.getvalue(), max_bytes=CONFIG.max_upload_bytes
                )
                ss.rr_files[key] = logic.inspect_upload(path, logic.display_name(path, ss.rr_dir))
            except RoyalroadError as exc:
                ss.rr_files[key] = exc
        item = ss.rr_files[key]
        if isinstance(item, RoyalroadError):
            _error(item)
        else:
            infos.append(item)
    if not infos:
        st.info(t("app.upload.empty"))
    return infos


def _delimiter(value: str | None) -> str:
    shown = {"\t": "TAB", ",": ",", ";": ";", "|": "|"}
    return shown.get(value, value) if value else "–"


def file_panel(info: logic.FileInfo, preset: str | None) -> logic.FileChoice:
    fid = _digest(info.path)
    guessed = logic.guess_role(info.name, info.columns, info.kind)
    complete = logic.detect(info.columns, guessed, preset=preset).complete
    with st.expander(
        t("app.file.title", **md_params(name=info.name, rows=f"{info.rows:,}")),
        expanded=not complete,
    ):
        st.caption(
            t(
                "app.file.detected",
                **md_params(
                    kind=info.kind,
                    encoding=info.encoding or "–",
                    delimiter=_delimiter(info.delimiter),
                    sheet=info.sheet or "–",
                    rows=f"{info.rows:,}",
                    columns=len(info.columns),
                ),
            )
        )
        roles = (*logic.ROLES, logic.SKIP)
        role = st.selectbox(
            t("app.file.role"),
            roles,
            index=roles.index(guessed),
            key=f"rr_role_{fid}",
            format_func=lambda r: t(f"app.role.{r}"),
        )
        if role == logic.SKIP:
            return logic.FileChoice(info, role, {}, logic.detect((), "events"))
        det = logic.detect(info.columns, role, preset=preset, source=info.name)
        fields: dict[str, tuple[str, ...]] = {}
        cols = st.columns(3)
        for i, name in enumerate(logic.fields_of(role)):
            found = det.fields.get(name, ())
            label = t(f"app.field.{name}") + ("" if name in OPTIONAL.get(role, ()) else " *")
            wkey = f"rr_map_{fid}_{role}_{preset}_{name}"
            with cols[i % 3]:
                if name in COALESCED:
                    chosen = st.multiselect(
                        label,
                        info.columns,
                        default=list(found),
                        key=wkey,
                        help=t("app.field.coalesced"),
                        **_placeholder(),
                    )
                else:
                    options = ([] if found else [NONE]) + list(info.columns)
                    index = options.index(found[0]) if found else 0
                    pick = st.selectbox(
                        label,
                        options,
                        index=index,
                        key=wkey,
                        format_func=lambda c: t("app.map.none") if c == NONE else c,
                    )
                    chosen = [pick] if pick else []
            fields[name] = tuple(chosen)
        return logic.FileChoice(info, role, fields, det)


def mapping_step(infos: list[logic.FileInfo]):
    st.subheader(t("app.step.map"))
    presets = (AUTO, *PRESET_ORDER)
    preset = st.selectbox(
        t("app.preset.label"),
        presets,
        key="rr_preset",
        help=t("app.preset.help"),
        format_func=lambda p: (
            t("app.preset.auto") if p == AUTO else f"{p} — {get_preset(p).description}"
        ),
    )
    preset_arg = None if preset == AUTO else preset
    choices = [file_panel(info, preset_arg) for info in infos]
    mapped = logic.preview(ss.rr_dir, choices, preset=preset_arg)
    ok = bool(mapped)
    rows = []
    for ch, cmap in mapped:
        if isinstance(cmap, ColumnMap):
            rows.append(
                {
                    t("summary.col.file"): ch.info.name,
                    t("summary.col.table"): t(f"app.role.{ch.role}"),
                    t("summary.col.format"): logic.format_label(ch.info),
                    t("app.map.preset_col"): cmap.preset,
                    t("summary.col.preset"): "; ".join(
                        f"{k} ← {v}" for k, v in cmap.describe().items()
                    ),
                    t("app.map.segments_col"): ", ".join(cmap.extras),
                }
            )
        else:
            ok = False
            _error(cmap)
    if rows:
        st.caption(t("app.map.effective"))
        st.table(md_rows(rows))
    if not any(ch.role in ("leads", "events") for ch, _ in mapped):
        ok = False
        st.warning(t("app.map.need_input"))
    fingerprint = _digest(
        preset, [(ch.info.path, ch.role, sorted(ch.fields.items())) for ch in choices]
    )
    if st.button(t("app.map.confirm"), disabled=not ok, key="rr_confirm"):
        ss.rr_confirmed = fingerprint
    confirmed = ok and ss.rr_confirmed == fingerprint
    if ok and not confirmed:
        st.info(t("app.map.please_confirm"))
    return confirmed, choices, mapped, preset_arg


def outcome_step(mapped) -> dict:
    st.subheader(t("app.step.outcome"))
    leads = [(ch, m) for ch, m in mapped if ch.role == "leads"]
    if leads:
        values = logic.value_counts([(ch.info.table, m.fields["outcome"]) for ch, m in leads])
        counts = dict(values)
        names = [v for v, _ in values]
        default = logic.classify_values(names, logic.default_outcome_values([m for _, m in leads]))
        vk = _digest(names)
        st.caption(
            t(
                "app.outcome.leads_help",
                **md_params(column=", ".join(leads[0][1].fields["outcome"])),
            )
        )
        fmt = lambda v: f"{v} ({counts.get(v, 0):,})"  # noqa: E731
        c1, c2, c3 = st.columns(3)
        chosen = {
            "won": c1.multiselect(
                t("app.outcome.won_values"),
                names,
                default=default["won"],
                format_func=fmt,
                key=f"rr_won_v_{vk}",
                **_placeholder(),
            ),
            "lost": c2.multiselect(
                t("app.outcome.lost_values"),
                names,
                default=default["lost"],
                format_func=fmt,
                key=f"rr_lost_v_{vk}",
                **_placeholder(),
            ),
            "open": c3.multiselect(
                t("app.outcome.open_values"),
                names,
                default=default["open"],
                format_func=fmt,
                key=f"rr_open_v_{vk}",
                **_placeholder(),
            ),
        }
        rest = [v for v in names if not any(v in vs for vs in chosen.values())]
        if rest:
            st.warning(
                t(
                    "app.outcome.unassigned",
                    **md_params(values=", ".join(rest[:10]), n=f"{sum(counts[v] for v in rest):,}"),
                )
            )
        return {"outcome_values": chosen}
    events = [(ch, m) for ch, m in mapped if ch.role == "events"]
    values = logic.value_counts([(ch.info.table, m.fields["activity"]) for ch, m in events])
    counts = dict(values)
    names = [v for v, _ in values]
    won, lost = logic.suggest_outcome_activities(names)
    vk = _digest(names)
    st.caption(t("app.outcome.log_help"))
    if won or lost:
        # Only named, never preselected: in a log such as BPIC 2012 an offer can be
        # cancelled and the application still approved, so a guess could mislabel many leads.
        st.caption(
            t(
                "app.outcome.suggested",
                **md_params(won=", ".join(won) or "–", lost=", ".join(lost) or "–"),
            )
        )
    fmt = lambda v: f"{v} ({counts.get(v, 0):,})"  # noqa: E731
    c1, c2 = st.columns(2)
    return {
        "won": c1.multiselect(
            t("app.outcome.won_acts"),
            names,
            format_func=fmt,
            key=f"rr_won_a_{vk}",
            **_placeholder(),
        ),
        "lost": c2.multiselect(
            t("app.outcome.lost_acts"),
            names,
            format_func=fmt,
            key=f"rr_lost_a_{vk}",
            **_placeholder(),
        ),
    }


def settings_step(mapped) -> tuple[dict, bool]:
    """Analysis settings in a form: nothing reruns until the run button is pressed."""
    st.subheader(t("app.step.settings"))
    from royalroad.analysis.goals import PERIOD_SEGMENTS

    # the creation period is a built-in adjustment: drift over time looks like a cause
    segments = [*(ss.rr_segments or logic.predicted_segments(mapped)), *PERIOD_SEGMENTS]
    with st.form("rr_settings", border=False):
        c1, c2, c3, c4, c5 = st.columns([3, 1, 2, 1, 1])
        adjust = c1.multiselect(
            t("app.settings.adjust"),
            segments,
            key=f"rr_adjust_{_digest(segments)}",
            help=t("cli.opt.adjust"),
            **_placeholder(),
        )
        max_count = c2.number_input(
            t("app.settings.max_count"), 1, 20, 5, key="rr_max_count", help=t("cli.opt.max_count")
        )
        windows = c3.text_input(
            t("app.settings.windows"),
            "7, 14, 30, 60, 90, 180",
            key="rr_windows",
            help=t("cli.opt.windows"),
        )
        pairs = c4.number_input(
            t("app.settings.pairs"), 0, 50, 12, key="rr_pairs", help=t("cli.opt.pairs")
        )
        max_activities = c5.number_input(
            t("app.settings.max_activities"),
            0,
            100_000,
            DEFAULT_MAX_ACTIVITIES,
            key="rr_max_activities",
            help=t("cli.opt.max_activities"),
        )
        anonymise = st.checkbox(
            t("reps.app.anonymise"), key="rr_anonymise", help=t("reps.opt.anonymise")
        )
        label = t("app.run.rerun") if ss.rr_results is not None else t("app.run.button")
        submitted = st.form_submit_button(label, type="primary")
    settings = {
        "adjust": adjust,
        "max_count": max_count,
        "windows": windows,
        "pairs": pairs,
        "max_activities": max_activities,
        "anonymise": anonymise,
    }
    return settings, submitted


def run_step(choices, preset: str | None, outcome: dict, settings: dict, submitted: bool) -> None:
    if not submitted:
        if ss.rr_error is not None:
            _error(ss.rr_error)
        return
    ss.rr_error = None
    try:
        plan = runner.make_plan(ss.rr_dir, choices, preset=preset, **outcome)
        opts = runner.options(**settings)
    except RoyalroadError as exc:
        ss.rr_error = exc
        _error(exc)
        return
    reuse = ss.rr_ingested == plan.fingerprint()
    if not reuse:
        ss.rr_ingested, ss.rr_segments = None, ()
    with st.status(t("app.run.running"), expanded=True) as status:
        bar = st.progress(0.0, text=t("app.run.running"))
        progress = runner.StepProgress(ingest=not reuse)
        seen: list[str] = []

        def on_step(key: str) -> None:
            bar.progress(progress(key), text=t(key))
            if key not in seen:
                seen.append(key)
                status.write(t(key))

        try:
            started = time.monotonic()
            out = runner.run(plan, opts, reuse=reuse, on_step=on_step)
        except RoyalroadError as exc:
            status.update(label=t("app.run.failed"), state="error", expanded=False)
            ss.rr_error = exc
            _error(exc)
            return
        bar.progress(1.0, text=t("app.run.done"))
        status.update(label=t("app.run.done"), state="complete", expanded=False)
    ss.rr_results = runner.with_upload_names(out.results, ss.rr_dir)
    ss.rr_segments = out.segments
    ss.rr_ingested = plan.fingerprint()
    ss.rr_downloads = {}
    ss.rr_last_run = (time.monotonic() - started, out.ingested)
    # Render again from the top, so that every step above shows the new state (e.g. "Re-run").
    st.rerun()


def _download(lang: str, kind: str):
    key = (kind, lang)
    if key not in ss.rr_downloads:
        res = ss.rr_results
        if kind == "html":
            ss.rr_downloads[key] = runner.report_html(res, lang)
        elif kind == "xlsx":
            ss.rr_downloads[key] = runner.workbook(res, ss.rr_dir, lang)
        else:
            ss.rr_downloads[key] = res.to_json().encode("utf-8")
    return ss.rr_downloads[key]


def _embed(html: str) -> None:
    if hasattr(st, "iframe"):
        st.iframe(html, height=REPORT_HEIGHT)
    else:  # Streamlit before st.iframe
        import streamlit.components.v1 as components

        components.html(html, height=REPORT_HEIGHT, scrolling=True)


def plan_tab(res, lang: str) -> None:
    """The plan form; a plan made becomes part of the results and of every download."""
    settings = tab_plan_module.plan_form(st, lang)
    if settings is not None:
        try:
            made = tab_plan_module.make_plan(runner.workspace_path(ss.rr_dir), res, settings)
        except RoyalroadError as exc:
            _error(exc)
        else:
            ss.rr_results = replace(res, plan=made)
            ss.rr_downloads = {}
            st.rerun()
    tab_plan_module.render(st, getattr(res, "plan", None), lang)


def results_step(lang: str) -> None:
    res = ss.rr_results
    goals = res.goals
    st.subheader(t("app.step.results"))
    (st.success if goals.recommended is not None else st.warning)(md_escape(goals.sentence(lang)))
    st.caption(md_escape(goals.reason_text(lang)))
    seconds, ingested = ss.get("rr_last_run", (0.0, True))
    how = t("app.run.read_again" if ingested else "app.run.reused")
    st.caption(
        f"{t('app.run.last', seconds=f'{seconds:.1f}')} {how} "
        f"{md_escape(present.settings_text(goals.settings, lang))}"
    )
    q = res.quality
    metrics = st.columns(5)
    figures = (
        ("app.metric.leads", f"{q.leads:,}"),
        ("word.won", f"{q.won:,}"),
        ("word.lost", f"{q.lost:,}"),
        ("word.open", f"{q.open:,}"),
        ("app.metric.base_rate", f"{goals.base_rate:.0%}"),
    )
    for col, (key, value) in zip(metrics, figures, strict=True):
        col.metric(t(key), value)
    for caveat in goals.caveats:
        st.info(md_escape(caveat.text(lang)))

    ignore: dict[str, Any] = (
        {"on_click": "ignore"} if _supports(st.download_button, "on_click") else {}
    )
    c1, c2, c3 = st.columns(3)
    c1.download_button(
        t("app.download.html"),
        _download(lang, "html"),
        file_name="report.html",
        mime="text/html",
        key="rr_dl_html",
        **ignore,
    )
    xlsx = _download(lang, "xlsx")
    if xlsx is None:
        c2.caption(t("app.download.no_xlsx"))
    else:
        c2.download_button(
            t("app.download.xlsx"),
            xlsx,
            file_name="royalroad.xlsx",
            key="rr_dl_xlsx",
            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            **ignore,
        )
    c3.download_button(
        t("app.download.json"),
        _download(lang, "json"),
        file_name="results.json",
        mime="application/json",
        key="rr_dl_json",
        **ignore,
    )

    tabs = st.tabs(
        [
            t("report.actions.title", lang=lang),
            t("funnel.heading"),
            t("reps.app.tab", lang=lang),
            t("app.tab.triggers", lang=lang),
            t("app.tab.plan"),
            t("app.tab.trust"),
            t("app.tab.report"),
            t("app.tab.candidates"),
            t("app.tab.quality"),
        ]
    )
    (
        tab_actions,
        tab_funnel,
        tab_reps,
        tab_triggers,
        tab_plan,
        tab_trust,
        tab_report,
        tab_cands,
        tab_quality,
    ) = tabs
    with tab_actions:
        tab_actions_module.render(st, res.next, lang)
    with tab_funnel:
        tab_funnel_module.render(st, getattr(res, "funnel", None), lang)
    with tab_reps:
        tab_reps_module.render(st, getattr(res, "reps", None), lang)
    with tab_triggers:
        tab_triggers_module.render(
            st, getattr(res, "triggers", None), lang, getattr(res, "triggers_note", "")
        )
    with tab_plan:
        plan_tab(res, lang)
    with tab_trust:
        tab_trust_module.render(st, res.next, res.backtest, res.backtest_note, lang)
    with tab_report:
        _embed(_download(lang, "html").decode("utf-8"))
    with tab_cands:
        st.dataframe(present.candidates_frame(goals, lang), hide_index=True, width="stretch")
    with tab_quality:
        st.table(md_frame(present.files_frame(q, lang)))
        for note in present.quality_notes(q, lang):
            st.caption(md_escape(note))
        if q.reasons:
            st.dataframe(present.reasons_frame(q, lang), hide_index=True, width="stretch")
        else:
            st.caption(t("summary.no_quarantine", lang=lang))


def main() -> None:
    _init()
    lang = sidebar()
    st.title(t("app.title"))
    st.caption(t("app.intro"))
    infos = upload_step()
    if infos:
        confirmed, choices, mapped, preset = mapping_step(infos)
        if confirmed:
            outcome = outcome_step(mapped)
            settings, submitted = settings_step(mapped)
            run_step(choices, preset, outcome, settings, submitted)
    if ss.rr_results is not None:
        results_step(lang)


st.set_page_config(page_title="royalroad", page_icon="👑", layout="wide")
try:
    main()
except RoyalroadError as exc:
    _error(exc)
except Exception as exc:
    if os.environ.get("ROYALROAD_DEBUG"):
        raise
    detail = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    st.error(t("error.internal", **md_params(detail=detail)))
