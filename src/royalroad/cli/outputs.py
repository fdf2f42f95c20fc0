"""Commands that write files: ``analyze`` (every output at once), ``simulate`` and ``demo``."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from royalroad.cli.common import (
    Format,
    FormatOpt,
    GoalOptions,
    LangOpt,
    MaxActivitiesOpt,
    Progress,
    QuietOpt,
    ScenarioOpt,
    SeedOpt,
    SimLeadsOpt,
    app,
    guarded,
    stdout,
    with_groups,
)
from royalroad.cli.plan import PlanInputs
from royalroad.engine import DEFAULT_MAX_ACTIVITIES
from royalroad.errors import InputError
from royalroad.i18n import t

if TYPE_CHECKING:
    from royalroad.pipeline import Results

DEFAULT_OUT = Path("out")


def print_headline(results: Results) -> None:
    """The goal in one sentence, the hand-off counts (sales-ready, nurture, stalled), what
    the open pipeline should bring, and how P(win) did in the backtest."""
    from royalroad.presenters.backtest_terminal import pipeline_sentence, verdict

    console = stdout()
    console.print(escape(results.goals.sentence()))
    nxt = results.next
    console.print(
        escape(
            t(
                "nba.summary",
                ready=f"{nxt.sales_ready:,}",
                nurture=f"{nxt.nurture:,}",
                stalled=f"{nxt.stalled:,}",
                goal=nxt.goal or "–",
            )
        )
    )
    for line in (
        pipeline_sentence(nxt.forecast),
        verdict(results.backtest)
        if results.backtest is not None
        else (t("backtest.not_run", reason=results.backtest_note) if results.backtest_note else ""),
    ):
        if line:
            console.print(escape(line))
    if results.plan is not None:
        from royalroad.presenters import plan_text

        for line in (
            plan_text.needed_sentence(results.plan),
            plan_text.reach_sentence(results.plan),
        ):
            console.print(escape(line))
    if results.track is not None:
        from royalroad.presenters.plan_text import pace_sentence

        console.print(escape(pace_sentence(results.track)))
    if results.grouping is not None:
        from royalroad.pipeline import grouping_caveat

        console.print(escape(grouping_caveat(results.grouping).text()))


def print_files(written: dict[str, Path]) -> None:
    console = stdout()
    for label, path in written.items():
        console.print(f"  {t(label)}: {escape(str(path))}")


@app.command(help=t("cli.cmd.analyze"))
@guarded
@with_groups(inputs=PlanInputs, search=GoalOptions)
def analyze(
    inputs: PlanInputs,
    search: GoalOptions,
    out: Annotated[Path | None, typer.Option("--out", help=t("cli.opt.analyze_out"))] = None,
    max_activities: MaxActivitiesOpt = DEFAULT_MAX_ACTIVITIES,
    backtest: Annotated[
        bool, typer.Option("--backtest/--no-backtest", help=t("cli.opt.backtest"))
    ] = True,
    backtest_as_of: Annotated[
        str | None, typer.Option("--backtest-as-of", help=t("cli.opt.backtest_as_of"))
    ] = None,
    revenue: Annotated[str | None, typer.Option("--target", help=t("plan.opt.target"))] = None,
    period: Annotated[str | None, typer.Option("--period", help=t("plan.opt.period"))] = None,
    by: Annotated[str, typer.Option("--by", help=t("plan.opt.by"))] = "month",
    plan_file: Annotated[
        Path | None, typer.Option("--track", help=t("cli.opt.track_in_analyze"))
    ] = None,
    reps_by: Annotated[str | None, typer.Option("--reps-by", help=t("reps.opt.by"))] = None,
    anonymise: Annotated[
        bool, typer.Option("--anonymise", "--anonymize", help=t("reps.opt.anonymise"))
    ] = False,
    triggers: Annotated[
        Path | None, typer.Option("--triggers", help=t("triggers.opt.triggers"))
    ] = None,
    no_snippets: Annotated[
        bool, typer.Option("--no-snippets", help=t("triggers.opt.no_snippets"))
    ] = False,
    format: Annotated[
        Format, typer.Option("--format", "-f", help=t("cli.opt.analyze_format"))
    ] = Format.table,
    quiet: QuietOpt = False,
    lang: LangOpt = None,
) -> None:
    """Run every analysis and write report.html, results.json and royalroad.xlsx into --out."""
    from royalroad.analysis.plan import parse_period
    from royalroad.analysis.track import load_plan
    from royalroad.cli.plan import parse_amount
    from royalroad.pipeline import AnalysisOptions, analyse, write_outputs

    # plan options are checked before any data is read
    data, benchmark = inputs.split_presets()
    if period is not None:
        parse_period(period)
    if by not in ("month", "quarter"):
        raise InputError("plan.bad_by", value=by, allowed="month, quarter")
    if (period is not None or benchmark is not None) and revenue is None:
        raise InputError("plan.needs_target")
    if triggers is not None:  # a bad dictionary is one line, before any data is read
        from royalroad.text.dictionary import load

        load(triggers)
    options = AnalysisOptions(
        **search.kwargs(),
        max_activities=max_activities,
        backtest=backtest,
        backtest_as_of=backtest_as_of,
        target=parse_amount(revenue, "--target"),
        period=period,
        plan_by=by,
        benchmark=benchmark,
        track=load_plan(plan_file) if plan_file is not None else None,
        reps_by=reps_by,
        anonymise=anonymise,
        triggers_file=triggers,
        snippets=not no_snippets,
    )
    # --format json: the results go to stdout, and the files only when --out is given.
    target = out if out is not None or format is Format.json else DEFAULT_OUT
    with Progress(quiet=quiet) as progress:
        with data.open(progress) as ws:
            results = analyse(ws, options, on_step=progress.update)
        written = write_outputs(results, target) if target is not None else {}
    if format is Format.json:
        typer.echo(results.to_json(), nl=False)
    elif not quiet:
        print_headline(results)
        print_files(written)


@app.command(help=t("cli.cmd.simulate"))
@guarded
def simulate(
    scenario: ScenarioOpt = "manufacturing",
    leads: SimLeadsOpt = 5000,
    seed: SeedOpt = 0,
    null: Annotated[bool, typer.Option("--null", help=t("cli.opt.null"))] = False,
    drift: Annotated[bool, typer.Option("--drift", help=t("simulate.opt.drift"))] = False,
    out: Annotated[Path, typer.Option("--out", help=t("cli.opt.sim_out"))] = Path("simulated"),
    format: FormatOpt = Format.table,
    quiet: QuietOpt = False,
    lang: LangOpt = None,
) -> None:
    """Write a synthetic CRM dataset with planted truth (leads, events, notes, truth.json)."""
    from royalroad.simulate import simulate as run

    with Progress("pipeline.step.simulate", quiet=quiet):
        data = run(scenario, leads=leads, seed=seed, null=null, drift=drift)
        paths = data.write(out)
    if format is Format.json:
        payload = {"files": [str(p) for p in paths], "truth": data.truth}
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=True))
        return
    if quiet:
        return
    realised = data.truth["realised"]
    console = stdout()
    console.print(
        t(
            "cli.simulate.done",
            scenario=scenario,
            leads=f"{realised['leads']:,}",
            won=f"{realised['won']:,}",
            lost=f"{realised['lost']:,}",
            open=f"{realised['open']:,}",
            events=f"{realised['events']:,}",
            out=escape(str(out)),
        )
    )
    for p in paths:
        console.print(f"  {escape(str(p))}")


@app.command(help=t("cli.cmd.demo"))
@guarded
def demo(
    out: Annotated[Path, typer.Option("--out", help=t("cli.opt.demo_out"))] = Path("out"),
    scenario: ScenarioOpt = "manufacturing",
    leads: SimLeadsOpt = 5000,
    seed: SeedOpt = 42,
    quiet: QuietOpt = False,
    lang: LangOpt = None,
) -> None:
    """Simulate a dataset, analyse it and write the report: the whole tool in one command."""
    from royalroad.pipeline import run_demo

    with Progress("pipeline.step.simulate", quiet=quiet) as progress:
        demo_run = run_demo(
            out,
            scenario=scenario,
            leads=leads,
            seed=seed,
            lang=lang,
            on_step=progress.update,
        )
    if quiet:
        return
    console = stdout()
    console.print(t("cli.demo.done"))
    print_files(demo_run.written)
    console.print()
    print_headline(demo_run.results)
    console.print()
    print_app_hint(demo_run.written["pipeline.out.data"])


def invoked_as() -> str:
    """How the user ran royalroad, to repeat it in a hint: ``.venv/bin/royalroad`` when
    it ran from a folder below this one (``make demo``), ``royalroad`` when that is the
    one on PATH, else its full path."""
    argv0 = Path(sys.argv[0])
    if argv0.name != "royalroad" or not argv0.exists():
        return "royalroad"
    here = argv0.resolve()
    on_path = shutil.which("royalroad")
    if on_path and Path(on_path).resolve() == here:
        return "royalroad"
    try:
        return str(here.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(here)


def print_app_hint(data: Path) -> None:
    """How to open the web app (or how to install it first)."""
    import importlib.util

    from royalroad.app.launch import DEFAULT_HOST, DEFAULT_PORT

    command = f"{invoked_as()} serve"
    url = f"http://{DEFAULT_HOST}:{DEFAULT_PORT}"
    key = "cli.demo.app" if importlib.util.find_spec("streamlit") else "cli.demo.app_missing"
    stdout().print(escape(t(key, command=command, url=url, data=str(data))))
