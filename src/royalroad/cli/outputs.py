"""Commands that write files: ``analyze`` (every output at once), ``simulate`` and ``demo``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from royalroad.cli.common import (
    Format,
    FormatOpt,
    GoalOptions,
    Inputs,
    LangOpt,
    ScenarioOpt,
    SeedOpt,
    SimLeadsOpt,
    app,
    guarded,
    stderr,
    stdout,
    with_groups,
)
from royalroad.i18n import t


@app.command(help=t("cli.cmd.analyze"))
@guarded
@with_groups(inputs=Inputs, search=GoalOptions)
def analyze(
    inputs: Inputs,
    search: GoalOptions,
    out: Annotated[Path, typer.Option("--out", help=t("cli.opt.analyze_out"))] = Path("out"),
    lang: LangOpt = None,
) -> None:
    """Run every analysis and write report.html, results.json and royalroad.xlsx into --out."""
    from royalroad.pipeline import AnalysisOptions, analyse, write_outputs

    ws = inputs.open()
    options = AnalysisOptions(**search.kwargs())
    with stderr().status(t("goal.step")) as spinner:
        results = analyse(ws, options, on_step=lambda key: spinner.update(t(key)))
        written = write_outputs(results, out)
    console = stdout()
    console.print(escape(results.goals.sentence()))
    for label, path in written.items():
        console.print(f"  {t(label)}: {escape(str(path))}")
    ws.close()


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
    lang: LangOpt = None,
) -> None:
    """Write a synthetic CRM dataset with planted truth (leads, events, notes, truth.json)."""
    from royalroad.simulate import simulate as run

    with stderr().status(t("cli.simulate.running")):
        data = run(scenario, leads=leads, seed=seed, null=null, drift=drift)
        paths = data.write(out)
    if format is Format.json:
        payload = {"files": [str(p) for p in paths], "truth": data.truth}
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=True))
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
    lang: LangOpt = None,
) -> None:
    """Simulate a dataset, analyse it and write the report: the whole tool in one command."""
    from royalroad.pipeline import run_demo

    with stderr().status(t("cli.simulate.running")) as spinner:
        written = run_demo(
            out,
            scenario=scenario,
            leads=leads,
            seed=seed,
            lang=lang,
            on_step=lambda key: spinner.update(t(key)),
        )
    console = stdout()
    console.print(t("cli.demo.done"))
    for label, path in written.items():
        console.print(f"  {t(label)}: {escape(str(path))}")
