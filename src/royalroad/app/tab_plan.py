"""The app's "Plan" tab: a revenue target worked back to leads, intermediate goals and
wins by month, from the data just analysed, with the article's benchmark beside it.

The form asks for the target, the period, the rows (month or quarter) and an industry
preset; the plan runs on the session's workspace with the goal and the next actions
already computed, so it takes a second or two. It then becomes part of the report,
the workbook and ``results.json`` downloads.
"""

from __future__ import annotations

from royalroad.analysis.plan_result import PlanResult
from royalroad.app.safe import md_escape
from royalroad.i18n import t


def plan_form(st, lang: str) -> dict | None:
    """The plan's settings; a dict when the button was pressed, else None."""
    from royalroad.analysis.plan_presets import presets

    none = t("app.plan.no_benchmark", lang=lang)
    with st.form("rr_plan", border=False):
        c1, c2, c3, c4 = st.columns([2, 2, 1, 2])
        target = c1.text_input(
            t("app.plan.target", lang=lang), "", key="rr_plan_target", help=t("plan.opt.target")
        )
        period = c2.text_input(
            t("app.plan.period", lang=lang), "", key="rr_plan_period", help=t("plan.opt.period")
        )
        by = c3.selectbox(t("app.plan.by", lang=lang), ["month", "quarter"], key="rr_plan_by")
        bench = c4.selectbox(
            t("app.plan.benchmark", lang=lang), [none, *presets()], key="rr_plan_preset"
        )
        pressed = st.form_submit_button(t("app.plan.button", lang=lang), type="primary")
    if not pressed:
        return None
    return {
        "target": target,
        "period": period.strip() or None,
        "by": by,
        "preset": None if bench == none else bench,
    }


def make_plan(workspace, results, settings: dict) -> PlanResult:
    """Run the plan on ``workspace`` (a path) with the run's goal and next actions;
    bad settings raise :class:`~royalroad.errors.InputError` (one line)."""
    from royalroad.analysis.plan import parse_period
    from royalroad.analysis.plan import plan as run
    from royalroad.cli.plan import parse_amount
    from royalroad.engine import open_workspace
    from royalroad.errors import InputError

    target = parse_amount(settings["target"] or None, "--target")
    if target is None:
        raise InputError("plan.needs_target")
    if settings["period"] is not None:
        parse_period(settings["period"])
    ws = open_workspace(workspace, read_only=True)
    try:
        return run(
            ws,
            target=target,
            period=settings["period"],
            by=settings["by"],
            goals=results.goals,
            actions=results.next,
            preset=settings["preset"],
        )
    finally:
        ws.close()


def render(st, result: PlanResult | None, lang: str) -> None:
    """Draw the plan (``st`` is the streamlit module); nothing before one is made."""
    from royalroad.presenters import plan_text
    from royalroad.report.charts_plan import plan_chart

    if result is None:
        st.caption(t("app.plan.hint", lang=lang))
        return
    st.markdown(f"**{md_escape(plan_text.title(result, lang))}**")
    for line in (
        plan_text.needed_sentence(result, lang),
        plan_text.pipeline_sentence(result, lang),
        plan_text.reach_sentence(result, lang),
    ):
        st.markdown(md_escape(line))
    rows = plan_text.chain_rows(result, lang)
    import pandas as pd

    st.dataframe(
        pd.DataFrame(
            rows,
            columns=[
                t("app.plan.col.what", lang=lang),
                t("app.plan.col.value", lang=lang),
                t("app.plan.col.interval", lang=lang),
                t("app.plan.col.source", lang=lang),
            ],
        ),
        hide_index=True,
        width="stretch",
    )
    chart = plan_chart(result, lang)
    if chart is not None:
        st.plotly_chart(chart.figure, key="rr_plan_chart")
    st.dataframe(result.to_frame(), hide_index=True, width="stretch")
    st.download_button(
        t("app.plan.download", lang=lang),
        result.to_json().encode("utf-8"),
        file_name="plan.json",
        mime="application/json",
        key="rr_dl_plan",
    )
