"""What every command shares: the Typer app, the consoles, the progress display, the
error guard and the option groups (input files, goal search) that several commands take.

An option group is a frozen dataclass whose fields carry their Typer options;
:func:`with_groups` spreads the fields into a command's signature (so ``--help`` and
parsing are Typer's own) and hands the command one object per group. A new input
option is then written once, here, and every command that reads data gets it.
"""

from __future__ import annotations

import contextvars
import dataclasses
import functools
import inspect
import os
import sys
import threading
import time
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, get_type_hints

import typer
from rich.console import Console
from rich.markup import escape

from royalroad.errors import InputError, RoyalroadError
from royalroad.i18n import set_lang, t

if TYPE_CHECKING:
    from royalroad.engine import Workspace

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


def stdout() -> Console:
    # Piped output is plain text; give tables room instead of rich's 80-column default.
    if sys.stdout.isatty():
        return Console(highlight=False)
    return Console(highlight=False, width=160, color_system=None)


def stderr() -> Console:
    return Console(stderr=True, highlight=False)


PROGRESS_DELAY = 2.0
"""Seconds of silence before step lines start on a non-terminal stderr: a command that
ends (or fails on bad input) sooner prints nothing but its result or its one error line.
``ROYALROAD_PROGRESS_DELAY`` overrides it (tests set 0)."""


class Progress:
    """What a long command shows while it works, on stderr.

    * a terminal: rich's spinner with the current step;
    * not a terminal (a pipe, a log file, CI): one line per step, ``[ 12.3s] step…``,
      with the seconds since the command started, from the first step that is still
      running ``PROGRESS_DELAY`` seconds after the start, and a last line with the
      total time. rich's spinner prints nothing at all there, so a 40-second run
      would otherwise be 40 seconds of silence;
    * ``--quiet``: nothing.

    ``update(key)`` takes a catalogue key (the ``on_step`` keys of ingest and analyse);
    ``key`` is the first step, or None when the first ``update`` names it.
    """

    def __init__(self, key: str | None = None, *, quiet: bool = False) -> None:
        self.key = key
        self.quiet = quiet
        self.terminal = sys.stderr.isatty()
        self.started = time.monotonic()
        self.steps: list[tuple[str, float]] = []
        self.printed = 0
        self.lock = threading.Lock()
        self.timer: threading.Timer | None = None
        self.spinner: Any = None
        self.live = False

    def __enter__(self) -> Progress:
        if self.quiet:
            return self
        if self.terminal:
            self.spinner = stderr().status(t(self.key) if self.key else "")
            self.spinner.__enter__()
            return self
        if self.key is not None:
            self.steps.append((self.key, 0.0))
        delay = _delay()
        if delay <= 0:
            self._go_live()
        else:
            # the timer thread prints in the command's language: run it in this context
            context = contextvars.copy_context()
            self.timer = threading.Timer(delay, context.run, args=(self._go_live,))
            self.timer.daemon = True
            self.timer.start()
        return self

    def update(self, key: str) -> None:
        if self.quiet:
            return
        if self.spinner is not None:
            self.spinner.update(t(key))
            return
        with self.lock:
            if self.steps and self.steps[-1][0] == key:
                return
            self.steps.append((key, time.monotonic() - self.started))
            if self.live:
                self._flush()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.spinner is not None:
            self.spinner.__exit__(exc_type, exc, tb)
            return
        if self.timer is not None:
            self.timer.cancel()
        with self.lock:
            if self.live and exc_type is None:
                self._line(t("cli.progress.done"), time.monotonic() - self.started)
            self.live = False

    def _go_live(self) -> None:
        with self.lock:
            self.live = True
            self._flush()

    def _flush(self) -> None:
        for key, at in self.steps[self.printed :]:
            self._line(t("cli.progress.step", step=t(key)), at)
        self.printed = len(self.steps)

    @staticmethod
    def _line(text: str, seconds: float) -> None:
        stream = sys.stderr
        stream.write(f"[{seconds:6.1f}s] {text}\n")
        stream.flush()


def _delay() -> float:
    try:
        return float(os.environ.get("ROYALROAD_PROGRESS_DELAY", PROGRESS_DELAY))
    except ValueError:
        return PROGRESS_DELAY


def print_error(message: str) -> None:
    """One red line on stderr, prefixed like every royalroad error."""
    stderr().print(f"[red]{t('error.prefix')}: {escape(message)}[/red]", soft_wrap=True)


def print_note(message: str) -> None:
    """A remark for the user on stderr, plain (stdout may hold JSON or CSV)."""
    stderr().print(escape(message), soft_wrap=True)


def guarded(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Catch royalroad errors once: one red line on stderr, then the exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        lang = kwargs.get("lang")
        try:
            set_lang(lang.value if isinstance(lang, Lang) else lang)
            return fn(*args, **kwargs)
        except RoyalroadError as exc:
            print_error(str(exc))
            raise typer.Exit(exc.exit_code) from None
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:
            if os.environ.get("ROYALROAD_DEBUG"):
                raise
            duckdb = sys.modules.get("duckdb")
            if duckdb is not None and isinstance(exc, duckdb.OutOfMemoryException):
                # memory or spill space ran out: a limit of this machine, not a bug
                print_error(t("error.out_of_resources", detail=str(exc).splitlines()[0]))
                raise typer.Exit(1) from None
            detail = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            print_error(t("error.internal", detail=detail))
            raise typer.Exit(1) from None

    return wrapper


def split(values: list[str] | None) -> tuple[str, ...]:
    """``--won A,B --won C`` → ``("A", "B", "C")``."""
    out: list[str] = []
    for v in values or []:
        out.extend(p.strip() for p in v.split(",") if p.strip())
    return tuple(out)


def ints(value: str | None, default: tuple[int, ...]) -> tuple[int, ...]:
    """``"30,60,90"`` → ``(30, 60, 90)``; a bad list is one line and exit code 2."""
    if not value:
        return default
    try:
        return tuple(int(v) for v in value.split(",") if v.strip())
    except ValueError:
        raise InputError("goal.bad_windows", value=value) from None


# Options used one by one ------------------------------------------------------------
FormatOpt = Annotated[Format, typer.Option("--format", "-f", help=t("cli.opt.format"))]
# A plain string checked by set_lang: a wrong value is then one catalogue line and exit
# code 2 like every other input error, not click's multi-line usage message.
LangOpt = Annotated[str | None, typer.Option("--lang", help=t("cli.opt.lang"))]
AdjustOpt = Annotated[list[str] | None, typer.Option("--adjust", help=t("cli.opt.adjust"))]
WorkspaceOpt = Annotated[
    Path | None, typer.Option("--workspace", "-w", help=t("cli.opt.workspace"))
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help=t("cli.opt.quiet"))]
MaxActivitiesOpt = Annotated[
    int, typer.Option("--max-activities", help=t("cli.opt.max_activities"))
]
ScenarioOpt = Annotated[str, typer.Option("--scenario", help=t("cli.opt.scenario"))]
SimLeadsOpt = Annotated[int, typer.Option("--leads", help=t("cli.opt.sim_leads"))]
SeedOpt = Annotated[int, typer.Option("--seed", help=t("cli.opt.seed"))]


# Option groups ---------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class FileOptions:
    """How to read the input files: every command that reads data takes these."""

    leads: Annotated[list[str] | None, typer.Option("--leads", help=t("cli.opt.leads"))] = None
    events: Annotated[
        list[str] | None, typer.Option("--events", "--log", help=t("cli.opt.events"))
    ] = None
    notes: Annotated[list[str] | None, typer.Option("--notes", help=t("cli.opt.notes"))] = None
    won: Annotated[list[str] | None, typer.Option("--won", help=t("cli.opt.won"))] = None
    lost: Annotated[list[str] | None, typer.Option("--lost", help=t("cli.opt.lost"))] = None
    preset: Annotated[str | None, typer.Option("--preset", help=t("cli.opt.preset"))] = None
    mapping: Annotated[Path | None, typer.Option("--mapping", help=t("cli.opt.mapping"))] = None
    sheet: Annotated[str | None, typer.Option("--sheet", help=t("cli.opt.sheet"))] = None
    table: Annotated[str | None, typer.Option("--table", help=t("cli.opt.table"))] = None
    leads_table: Annotated[
        str | None, typer.Option("--leads-table", help=t("cli.opt.leads_table"))
    ] = None
    events_table: Annotated[
        str | None, typer.Option("--events-table", help=t("cli.opt.events_table"))
    ] = None
    notes_table: Annotated[
        str | None, typer.Option("--notes-table", help=t("cli.opt.notes_table"))
    ] = None
    encoding: Annotated[str | None, typer.Option("--encoding", help=t("cli.opt.encoding"))] = None
    tz: Annotated[str | None, typer.Option("--tz", help=t("cli.opt.tz"))] = None
    dayfirst: Annotated[bool, typer.Option("--dayfirst", help=t("cli.opt.dayfirst"))] = False
    as_of: Annotated[str | None, typer.Option("--as-of", help=t("cli.opt.as_of"))] = None
    lifecycle: Annotated[str, typer.Option("--lifecycle", help=t("cli.opt.lifecycle"))] = "complete"
    max_file_mb: Annotated[
        float | None, typer.Option("--max-file-mb", help=t("cli.opt.max_file_mb"))
    ] = None
    max_rows: Annotated[int | None, typer.Option("--max-rows", help=t("cli.opt.max_rows"))] = None
    max_columns: Annotated[
        int | None, typer.Option("--max-columns", help=t("cli.opt.max_columns"))
    ] = None
    max_unzipped_mb: Annotated[
        float | None, typer.Option("--max-unzipped-mb", help=t("cli.opt.max_unzipped_mb"))
    ] = None
    max_zip_ratio: Annotated[
        float | None, typer.Option("--max-zip-ratio", help=t("cli.opt.max_zip_ratio"))
    ] = None
    memory_limit: Annotated[
        str | None, typer.Option("--memory-limit", help=t("cli.opt.memory_limit"))
    ] = None

    def bound_memory(self) -> None:
        """Every DuckDB connection of this command gets ``--memory-limit`` (or the default)."""
        from royalroad.engine import memory_setting, set_default_memory_limit

        memory_setting(self.memory_limit)  # a bad value is one line before any work
        set_default_memory_limit(self.memory_limit)

    @property
    def given(self) -> bool:
        return bool(self.leads or self.events)

    def ingest(self, workspace: Path | None, progress: Progress | None = None) -> Workspace:
        """Read the files into ``workspace`` (a DuckDB file), or in memory when None.

        With ``progress``, its steps are shown there; else on a progress of its own.
        """
        from royalroad.io.load import ingest

        if not self.given:
            raise InputError("load.no_input")
        self.bound_memory()
        if workspace is not None:
            from royalroad.engine import check_not_in_use

            check_not_in_use(workspace)
        if progress is None:
            with Progress() as own:
                return self.ingest(workspace, own)
        progress.update("load.step.read")
        return ingest(
            leads=self.leads,
            events=self.events,
            notes=self.notes,
            won=split(self.won),
            lost=split(self.lost),
            preset=self.preset,
            mapping=self.mapping,
            sheet=self.sheet,
            table={
                "leads": self.leads_table or self.table,
                "events": self.events_table or self.table,
                "notes": self.notes_table or self.table,
            },
            encoding=self.encoding,
            tz=self.tz,
            dayfirst=self.dayfirst,
            as_of=self.as_of,
            lifecycle=self.lifecycle,
            max_file_mb=self.max_file_mb,
            max_rows=self.max_rows,
            max_columns=self.max_columns,
            max_unzipped_mb=self.max_unzipped_mb,
            max_zip_ratio=self.max_zip_ratio,
            workspace=workspace,
            on_step=progress.update,
        )


@dataclasses.dataclass(frozen=True)
class Inputs(FileOptions):
    """Files (read in memory) or else an existing ``--workspace``: what the analysis
    commands read."""

    workspace: WorkspaceOpt = None
    engine: Annotated[str, typer.Option("--engine", help=t("cli.opt.engine"))] = "duckdb"
    spark_master: Annotated[
        str | None, typer.Option("--spark-master", help=t("cli.opt.spark_master"))
    ] = None

    def open(self, progress: Progress | None = None) -> Workspace:
        """The files read in memory, or the workspace opened read-only: an analysis
        writes nothing to it, so any number of them can read one workspace at once.
        ``--engine spark`` or a URL: the canonical tables where they lie
        (:func:`royalroad.remote.open_engine`)."""
        from royalroad.engine import open_workspace

        if self.engine != "duckdb":
            from royalroad.remote import open_engine

            if progress is not None:
                progress.update("remote.step.open")
            return open_engine(
                self.engine,
                leads=self.leads,
                events=self.events,
                notes=self.notes,
                leads_table=self.leads_table or self.table,
                events_table=self.events_table or self.table,
                notes_table=self.notes_table,
                master=self.spark_master,
            )
        if self.given:
            return self.ingest(None, progress)
        if self.workspace is None:
            raise InputError("load.no_input")
        self.bound_memory()
        if progress is not None:
            progress.update("engine.step.open")
        return open_workspace(self.workspace, read_only=True)


@dataclasses.dataclass(frozen=True)
class GoalOptions:
    """The candidate milestones the goal search tries."""

    adjust: AdjustOpt = None
    not_proxy: Annotated[
        list[str] | None, typer.Option("--not-proxy", help=t("cli.opt.not_proxy"))
    ] = None
    max_count: Annotated[int, typer.Option("--max-count", help=t("cli.opt.max_count"))] = 5
    windows: Annotated[str | None, typer.Option("--windows", help=t("cli.opt.windows"))] = None
    pairs: Annotated[int, typer.Option("--pairs", help=t("cli.opt.pairs"))] = 12
    min_recall: Annotated[float, typer.Option("--min-recall", help=t("goal.opt.min_recall"))] = 0.3
    min_mcc: Annotated[float, typer.Option("--min-mcc", help=t("goal.opt.min_mcc"))] = 0.1

    def kwargs(self) -> dict[str, Any]:
        """Keyword arguments of :func:`royalroad.analysis.goals.discover_goals`."""
        from royalroad.analysis.goals import DEFAULT_WINDOWS

        return {
            "adjust": split(self.adjust),
            "not_proxy": split(self.not_proxy),
            "max_count": self.max_count,
            "windows": ints(self.windows, DEFAULT_WINDOWS),
            "pairs": self.pairs,
            "min_recall": self.min_recall,
            "min_mcc": self.min_mcc,
        }


F = TypeVar("F", bound=Callable[..., Any])


def with_groups(**groups: type) -> Callable[[F], F]:
    """Spread option groups into a command's signature.

    ``@with_groups(inputs=Inputs)`` on ``def goals(inputs: Inputs, top: int = 15)``
    gives the command every field of ``Inputs`` as an option, placed before its own
    options, and calls it with ``inputs=Inputs(...)`` built from them.
    """

    def decorate(fn: F) -> F:
        own = [
            p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
            for p in inspect.signature(fn, eval_str=True).parameters.values()
            if p.name not in groups
        ]
        spread: list[inspect.Parameter] = []
        members: dict[str, tuple[str, ...]] = {}
        for group, cls in groups.items():
            hints = get_type_hints(cls, include_extras=True)
            fields = dataclasses.fields(cls)
            members[group] = tuple(f.name for f in fields)
            spread.extend(
                inspect.Parameter(
                    f.name,
                    inspect.Parameter.KEYWORD_ONLY,
                    default=f.default,
                    annotation=hints[f.name],
                )
                for f in fields
            )

        @functools.wraps(fn)
        def wrapper(**kwargs: Any) -> Any:
            for group, cls in groups.items():
                kwargs[group] = cls(**{name: kwargs.pop(name) for name in members[group]})
            return fn(**kwargs)

        params = spread + own
        wrapper.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in params}
        return wrapper  # type: ignore[return-value]

    return decorate
