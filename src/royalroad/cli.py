"""The ``royalroad`` command line: thin commands that parse, call the library, render.

Exit codes: 0 ok, 2 bad input (one red line on stderr, no traceback), 1 internal
error. ``ROYALROAD_DEBUG=1`` shows the traceback of an internal error.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from royalroad.errors import RoyalroadError
from royalroad.i18n import set_lang, t

app = typer.Typer(
    name="royalroad",
    help=t("cli.app_help"),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


class Format(str, Enum):
    table = "table"
    json = "json"


class Lang(str, Enum):
    en = "en"
    ja = "ja"


def _stdout() -> Console:
    # Piped output is plain text; give tables room instead of rich's 80-column default.
    if sys.stdout.isatty():
        return Console(highlight=False)
    return Console(highlight=False, width=160, color_system=None)


def _stderr() -> Console:
    return Console(stderr=True, highlight=False)


def guarded(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Catch royalroad errors once: one red line on stderr, then the exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        lang = kwargs.get("lang")
        try:
            set_lang(lang.value if isinstance(lang, Lang) else lang)
            return fn(*args, **kwargs)
        except RoyalroadError as exc:
            _stderr().print(f"[red]{t('error.prefix')}: {escape(str(exc))}[/red]", soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:
            if os.environ.get("ROYALROAD_DEBUG"):
                raise
            detail = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            _stderr().print(
                f"[red]{t('error.prefix')}: {escape(t('error.internal', detail=detail))}[/red]",
                soft_wrap=True,
            )
            raise typer.Exit(1) from None

    return wrapper


def _split(values: list[str] | None) -> tuple[str, ...]:
    out: list[str] = []
    for v in values or []:
        out.extend(p.strip() for p in v.split(",") if p.strip())
    return tuple(out)


# Shared option types --------------------------------------------------------------
LeadsOpt = Annotated[list[str] | None, typer.Option("--leads", help=t("cli.opt.leads"))]
EventsOpt = Annotated[list[str] | None, typer.Option("--events", "--log", help=t("cli.opt.events"))]
NotesOpt = Annotated[list[str] | None, typer.Option("--notes", help=t("cli.opt.notes"))]
WonOpt = Annotated[list[str] | None, typer.Option("--won", help=t("cli.opt.won"))]
LostOpt = Annotated[list[str] | None, typer.Option("--lost", help=t("cli.opt.lost"))]
PresetOpt = Annotated[str | None, typer.Option("--preset", help=t("cli.opt.preset"))]
MappingOpt = Annotated[Path | None, typer.Option("--mapping", help=t("cli.opt.mapping"))]
SheetOpt = Annotated[str | None, typer.Option("--sheet", help=t("cli.opt.sheet"))]
TableOpt = Annotated[str | None, typer.Option("--table", help=t("cli.opt.table"))]
EncodingOpt = Annotated[str | None, typer.Option("--encoding", help=t("cli.opt.encoding"))]
TzOpt = Annotated[str, typer.Option("--tz", help=t("cli.opt.tz"))]
DayfirstOpt = Annotated[bool, typer.Option("--dayfirst", help=t("cli.opt.dayfirst"))]
AsOfOpt = Annotated[str | None, typer.Option("--as-of", help=t("cli.opt.as_of"))]
LifecycleOpt = Annotated[str, typer.Option("--lifecycle", help=t("cli.opt.lifecycle"))]
WorkspaceOpt = Annotated[
    Path | None, typer.Option("--workspace", "-w", help=t("cli.opt.workspace"))
]
FormatOpt = Annotated[Format, typer.Option("--format", "-f", help=t("cli.opt.format"))]
# A plain string checked by set_lang: a wrong value is then one catalogue line and exit
# code 2 like every other input error, not click's multi-line usage message.
LangOpt = Annotated[str | None, typer.Option("--lang", help=t("cli.opt.lang"))]
AdjustOpt = Annotated[list[str] | None, typer.Option("--adjust", help=t("cli.opt.adjust"))]
NotProxyOpt = Annotated[list[str] | None, typer.Option("--not-proxy", help=t("cli.opt.not_proxy"))]
MaxCountOpt = Annotated[int, typer.Option("--max-count", help=t("cli.opt.max_count"))]
WindowsOpt = Annotated[str | None, typer.Option("--windows", help=t("cli.opt.windows"))]
PairsOpt = Annotated[int, typer.Option("--pairs", help=t("cli.opt.pairs"))]


def load_inputs(
    *,
    leads,
    events,
    notes,
    won,
    lost,
    preset,
    mapping,
    sheet,
    table,
    encoding,
    tz,
    dayfirst,
    as_of,
    lifecycle,
    workspace,
    status: Console | None = None,
):
    """Files given → ingest them (into ``workspace`` if given); else open ``workspace``."""
    from royalroad.engine import open_workspace
    from royalroad.errors import InputError
    from royalroad.io.load import ingest

    if not leads and not events:
        if workspace is None:
            raise InputError("load.no_input")
        return open_workspace(workspace)
    console = status or _stderr()
    with console.status(t("load.step.read")) as spinner:
        return ingest(
            leads=leads,
            events=events,
            notes=notes,
            won=_split(won),
            lost=_split(lost),
            preset=preset,
            mapping=mapping,
            sheet=sheet,
            table=table,
            encoding=encoding,
            tz=tz,
            dayfirst=dayfirst,
            as_of=as_of,
            lifecycle=lifecycle,
            workspace=workspace,
            on_step=lambda key: spinner.update(t(key)),
        )


INPUT_OPTIONS = (
    "leads",
    "events",
    "notes",
    "won",
    "lost",
    "preset",
    "mapping",
    "sheet",
    "table",
    "encoding",
    "tz",
    "dayfirst",
    "as_of",
    "lifecycle",
    "workspace",
)


def open_inputs(params: dict[str, Any]):
    """The analysis commands' inputs: files (read in memory) or else ``--workspace``."""
    kw = {k: params[k] for k in INPUT_OPTIONS}
    if kw["leads"] or kw["events"]:
        kw["workspace"] = None
    return load_inputs(**kw)


def _print_summary(ws, fmt: Format) -> None:
    from royalroad.presenters.terminal import render_summary
    from royalroad.quality import summarise

    summary = summarise(ws)
    if fmt is Format.json:
        typer.echo(summary.to_json())
    else:
        render_summary(summary, _stdout())


@app.command(help=t("cli.cmd.ingest"))
@guarded
def ingest(
    leads: LeadsOpt = None,
    events: EventsOpt = None,
    notes: NotesOpt = None,
    won: WonOpt = None,
    lost: LostOpt = None,
    preset: PresetOpt = None,
    mapping: MappingOpt = None,
    sheet: SheetOpt = None,
    table: TableOpt = None,
    encoding: EncodingOpt = None,
    tz: TzOpt = "UTC",
    dayfirst: DayfirstOpt = False,
    as_of: AsOfOpt = None,
    lifecycle: LifecycleOpt = "complete",
    workspace: Annotated[
        Path, typer.Option("--workspace", "-w", help=t("cli.opt.workspace_out"))
    ] = Path("royalroad.duckdb"),
    format: FormatOpt = Format.table,
    lang: LangOpt = None,
) -> None:
    """Read CRM exports, validate them and store them in a DuckDB workspace."""
    from royalroad.errors import InputError

    if not leads and not events:
        raise InputError("load.no_input")
    ws = load_inputs(
        leads=leads,
        events=events,
        notes=notes,
        won=won,
        lost=lost,
        preset=preset,
        mapping=mapping,
        sheet=sheet,
        table=table,
        encoding=encoding,
        tz=tz,
        dayfirst=dayfirst,
        as_of=as_of,
        lifecycle=lifecycle,
        workspace=workspace,
    )
    _print_summary(ws, format)
    if format is Format.table:
        _stdout().print(t("cli.ingest.done", path=escape(str(workspace))))
    ws.close()


@app.command(help=t("cli.cmd.validate"))
@guarded
def validate(
    leads: LeadsOpt = None,
    events: EventsOpt = None,
    notes: NotesOpt = None,
    won: WonOpt = None,
    lost: LostOpt = None,
    preset: PresetOpt = None,
    mapping: MappingOpt = None,
    sheet: SheetOpt = None,
    table: TableOpt = None,
    encoding: EncodingOpt = None,
    tz: TzOpt = "UTC",
    dayfirst: DayfirstOpt = False,
    as_of: AsOfOpt = None,
    lifecycle: LifecycleOpt = "complete",
    workspace: WorkspaceOpt = None,
    format: FormatOpt = Format.table,
    lang: LangOpt = None,
) -> None:
    """Check input files (or a workspace) and report what is wrong; writes nothing."""
    ws = open_inputs(locals())
    _print_summary(ws, format)
    ws.close()


def _ints(value: str | None, default: tuple[int, ...]) -> tuple[int, ...]:
    from royalroad.errors import InputError

    if not value:
        return default
    try:
        return tuple(int(v) for v in value.split(",") if v.strip())
    except ValueError:
        raise InputError("goal.bad_windows", value=value) from None


@app.command(help=t("cli.cmd.goals"))
@guarded
def goals(
    leads: LeadsOpt = None,
    events: EventsOpt = None,
    notes: NotesOpt = None,
    won: WonOpt = None,
    lost: LostOpt = None,
    preset: PresetOpt = None,
    mapping: MappingOpt = None,
    sheet: SheetOpt = None,
    table: TableOpt = None,
    encoding: EncodingOpt = None,
    tz: TzOpt = "UTC",
    dayfirst: DayfirstOpt = False,
    as_of: AsOfOpt = None,
    lifecycle: LifecycleOpt = "complete",
    workspace: WorkspaceOpt = None,
    adjust: AdjustOpt = None,
    not_proxy: NotProxyOpt = None,
    max_count: MaxCountOpt = 5,
    windows: WindowsOpt = None,
    pairs: PairsOpt = 12,
    alpha: Annotated[float, typer.Option("--alpha", help=t("cli.opt.alpha"))] = 0.05,
    min_lift: Annotated[float, typer.Option("--min-lift", help=t("cli.opt.min_lift"))] = 1.5,
    top: Annotated[int, typer.Option("--top", help=t("cli.opt.top"))] = 15,
    format: FormatOpt = Format.table,
    lang: LangOpt = None,
) -> None:
    """Find the intermediate goal (中間ゴール): the milestone after which winning is highly probable."""
    from royalroad.analysis.goals import DEFAULT_WINDOWS, discover_goals

    ws = open_inputs(locals())
    with _stderr().status(t("goal.step")):
        result = discover_goals(
            ws,
            max_count=max_count,
            windows=_ints(windows, DEFAULT_WINDOWS),
            pairs=pairs,
            adjust=_split(adjust),
            not_proxy=_split(not_proxy),
            alpha=alpha,
            min_lift=min_lift,
        )
    if format is Format.json:
        typer.echo(result.to_json())
    else:
        from royalroad.presenters.goals_terminal import render_goals

        render_goals(result, _stdout(), top=top)
    ws.close()


@app.command(help=t("cli.cmd.analyze"))
@guarded
def analyze(
    leads: LeadsOpt = None,
    events: EventsOpt = None,
    notes: NotesOpt = None,
    won: WonOpt = None,
    lost: LostOpt = None,
    preset: PresetOpt = None,
    mapping: MappingOpt = None,
    sheet: SheetOpt = None,
    table: TableOpt = None,
    encoding: EncodingOpt = None,
    tz: TzOpt = "UTC",
    dayfirst: DayfirstOpt = False,
    as_of: AsOfOpt = None,
    lifecycle: LifecycleOpt = "complete",
    workspace: WorkspaceOpt = None,
    adjust: AdjustOpt = None,
    not_proxy: NotProxyOpt = None,
    max_count: MaxCountOpt = 5,
    windows: WindowsOpt = None,
    pairs: PairsOpt = 12,
    out: Annotated[Path, typer.Option("--out", help=t("cli.opt.analyze_out"))] = Path("out"),
    lang: LangOpt = None,
) -> None:
    """Run every analysis and write report.html, results.json and royalroad.xlsx into --out."""
    from royalroad.analysis.goals import DEFAULT_WINDOWS
    from royalroad.pipeline import AnalysisOptions, analyse, write_outputs

    ws = open_inputs(locals())
    options = AnalysisOptions(
        adjust=_split(adjust),
        not_proxy=_split(not_proxy),
        max_count=max_count,
        windows=_ints(windows, DEFAULT_WINDOWS),
        pairs=pairs,
    )
    with _stderr().status(t("goal.step")) as spinner:
        results = analyse(ws, options, on_step=lambda key: spinner.update(t(key)))
        written = write_outputs(results, out)
    console = _stdout()
    console.print(escape(results.goals.sentence()))
    for label, path in written.items():
        console.print(f"  {t(label)}: {escape(str(path))}")
    ws.close()


class PathFormat(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


def _goal_for(ws, adjust: tuple[str, ...] = ()):
    """The intermediate goal, the proxies and the confounded activities the journey analyses need."""
    from royalroad.analysis.goals import discover_goals

    result = discover_goals(ws, pairs=6, adjust=adjust)
    confounded = sorted({c.activity for c in result.candidates if c.confounded and c.then is None})
    return result, [p.activity for p in result.proxies], confounded


@app.command(help=t("cli.cmd.paths"))
@guarded
def paths(
    leads: LeadsOpt = None,
    events: EventsOpt = None,
    notes: NotesOpt = None,
    won: WonOpt = None,
    lost: LostOpt = None,
    preset: PresetOpt = None,
    mapping: MappingOpt = None,
    sheet: SheetOpt = None,
    table: TableOpt = None,
    encoding: EncodingOpt = None,
    tz: TzOpt = "UTC",
    dayfirst: DayfirstOpt = False,
    as_of: AsOfOpt = None,
    lifecycle: LifecycleOpt = "complete",
    workspace: WorkspaceOpt = None,
    adjust: AdjustOpt = None,
    path_file: Annotated[
        Path | None, typer.Option("--path-file", help=t("cli.opt.path_file"))
    ] = None,
    scope: Annotated[str, typer.Option("--scope", help=t("cli.opt.scope"))] = "before_close",
    order: Annotated[int, typer.Option("--order", help=t("cli.opt.order"))] = 1,
    top: Annotated[int, typer.Option("--top", help=t("cli.opt.top_variants"))] = 20,
    coverage: Annotated[float, typer.Option("--coverage", help=t("cli.opt.coverage"))] = 0.8,
    format: FormatOpt = Format.table,
    lang: LangOpt = None,
) -> None:
    """Winning paths: variants, directly-follows graph, exact Markov model and the royal road."""
    if path_file is not None:
        from royalroad.analysis.pathfile import analyse_path_file
        from royalroad.presenters.paths_terminal import render_path_file

        res = analyse_path_file(path_file)
        if format is Format.json:
            typer.echo(json.dumps(res.to_dict(), ensure_ascii=False, indent=2, sort_keys=True))
        else:
            render_path_file(res, _stdout())
        return
    from royalroad.analysis.paths import analyse_paths
    from royalroad.presenters.paths_terminal import render_paths

    ws = open_inputs(locals())
    with _stderr().status(t("paths.step")):
        goals_result, proxies, confounded = _goal_for(ws, _split(adjust))
        result = analyse_paths(
            ws,
            goal=goals_result.recommended,
            exclude=proxies,
            avoid=confounded,
            scope=scope,
            order=order,
            top=top,
            coverage=coverage,
        )
    if format is Format.json:
        typer.echo(result.to_json())
    else:
        render_paths(result, goals_result, _stdout())
    ws.close()


@app.command("next", help=t("cli.cmd.next"))
@guarded
def next_(
    leads: LeadsOpt = None,
    events: EventsOpt = None,
    notes: NotesOpt = None,
    won: WonOpt = None,
    lost: LostOpt = None,
    preset: PresetOpt = None,
    mapping: MappingOpt = None,
    sheet: SheetOpt = None,
    table: TableOpt = None,
    encoding: EncodingOpt = None,
    tz: TzOpt = "UTC",
    dayfirst: DayfirstOpt = False,
    as_of: AsOfOpt = None,
    lifecycle: LifecycleOpt = "complete",
    workspace: WorkspaceOpt = None,
    adjust: AdjustOpt = None,
    min_evidence: Annotated[
        int, typer.Option("--min-evidence", help=t("cli.opt.min_evidence"))
    ] = 10,
    out: Annotated[Path | None, typer.Option("--out", help=t("cli.opt.next_out"))] = None,
    top: Annotated[int, typer.Option("--top", help=t("cli.opt.top_leads"))] = 20,
    format: Annotated[
        PathFormat, typer.Option("--format", "-f", help=t("cli.opt.next_format"))
    ] = PathFormat.table,
    lang: LangOpt = None,
) -> None:
    """Hand-off and next best action for every open lead (table, JSON or CSV for CRM import)."""
    from royalroad.analysis.nba import next_best_actions
    from royalroad.presenters.nba_csv import write_next_csv

    ws = open_inputs(locals())
    with _stderr().status(t("nba.step")):
        goals_result, proxies, confounded = _goal_for(ws, _split(adjust))
        result = next_best_actions(
            ws,
            goal=goals_result.recommended,
            exclude=proxies,
            avoid=confounded,
            min_evidence=min_evidence,
        )
    if out is not None:
        write_next_csv(result, out)
    if format is PathFormat.csv:
        if out is None:
            write_next_csv(result, sys.stdout)
    elif format is PathFormat.json:
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2, sort_keys=True))
    else:
        from royalroad.presenters.paths_terminal import render_next

        render_next(result, goals_result, _stdout(), top=top)
        if out is not None:
            _stdout().print(t("nba.written", path=escape(str(out))))
    ws.close()


@app.command(help=t("cli.cmd.simulate"))
@guarded
def simulate(
    scenario: Annotated[
        str, typer.Option("--scenario", help=t("cli.opt.scenario"))
    ] = "manufacturing",
    leads: Annotated[int, typer.Option("--leads", help=t("cli.opt.sim_leads"))] = 5000,
    seed: Annotated[int, typer.Option("--seed", help=t("cli.opt.seed"))] = 0,
    null: Annotated[bool, typer.Option("--null", help=t("cli.opt.null"))] = False,
    out: Annotated[Path, typer.Option("--out", help=t("cli.opt.sim_out"))] = Path("simulated"),
    format: FormatOpt = Format.table,
    lang: LangOpt = None,
) -> None:
    """Write a synthetic CRM dataset with planted truth (leads, events, notes, truth.json)."""
    from royalroad.simulate import simulate as run

    with _stderr().status(t("cli.simulate.running")):
        data = run(scenario, leads=leads, seed=seed, null=null)
        paths = data.write(out)
    if format is Format.json:
        typer.echo(
            json.dumps(
                {"files": [str(p) for p in paths], "truth": data.truth},
                ensure_ascii=False,
                indent=2,
                sort_keys=True,
            )
        )
        return
    realised = data.truth["realised"]
    _stdout().print(
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
        _stdout().print(f"  {escape(str(p))}")


@app.command(help=t("cli.cmd.demo"))
@guarded
def demo(
    out: Annotated[Path, typer.Option("--out", help=t("cli.opt.demo_out"))] = Path("out"),
    scenario: Annotated[
        str, typer.Option("--scenario", help=t("cli.opt.scenario"))
    ] = "manufacturing",
    leads: Annotated[int, typer.Option("--leads", help=t("cli.opt.sim_leads"))] = 5000,
    seed: Annotated[int, typer.Option("--seed", help=t("cli.opt.seed"))] = 42,
    lang: LangOpt = None,
) -> None:
    """Simulate a dataset, analyse it and write the report: the whole tool in one command."""
    from royalroad.pipeline import run_demo

    with _stderr().status(t("cli.simulate.running")) as spinner:
        written = run_demo(
            out,
            scenario=scenario,
            leads=leads,
            seed=seed,
            on_step=lambda key: spinner.update(t(key)),
        )
    console = _stdout()
    console.print(t("cli.demo.done"))
    for label, path in written.items():
        console.print(f"  {t(label)}: {escape(str(path))}")


@app.command(help=t("cli.cmd.serve"))
@guarded
def serve(
    port: Annotated[int, typer.Option("--port", help=t("app.opt.port"))] = 8501,
    host: Annotated[str, typer.Option("--host", help=t("app.opt.host"))] = "127.0.0.1",
    max_upload_mb: Annotated[
        int, typer.Option("--max-upload-mb", help=t("app.opt.max_upload"))
    ] = 200,
    lang: LangOpt = None,
) -> None:
    """Start the web app (upload → check columns → analyse → report) on this machine."""
    import importlib.util
    import shutil
    import signal
    import subprocess
    import tempfile

    from royalroad.app.launch import server_command, server_env
    from royalroad.errors import InputError

    cmd = server_command(port=port, host=host, max_upload_mb=max_upload_mb)
    if importlib.util.find_spec("streamlit") is None:
        raise InputError("app.no_streamlit")
    # Every session's uploads and workspace live below this folder; it goes with the server.
    tmp = tempfile.mkdtemp(prefix="royalroad-app-")
    env = server_env(lang=lang, max_upload_mb=max_upload_mb, tmp_root=tmp)
    _stderr().print(t("app.serve.starting", url=f"http://{host}:{port}"), soft_wrap=True)
    proc = subprocess.Popen(cmd, env=env)
    # `kill <pid>` of this command must not leave Streamlit running without us.
    previous = signal.signal(signal.SIGTERM, lambda signum, _frame: proc.send_signal(signum))
    try:
        code = proc.wait()
    except KeyboardInterrupt:  # Ctrl+C reached Streamlit too (same process group)
        code = 0
    finally:
        signal.signal(signal.SIGTERM, previous)
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    if code not in (0, -signal.SIGTERM, -signal.SIGINT):
        _stderr().print(
            f"[red]{t('error.prefix')}: {escape(t('app.server_failed', code=code))}[/red]",
            soft_wrap=True,
        )
        raise typer.Exit(1)


def main() -> None:  # console_scripts entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
