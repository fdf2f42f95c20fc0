"""The ``royalroad`` command line: thin commands that parse, call the library, render.

One module per area: :mod:`~royalroad.cli.common` (the app, shared options, the error
guard), :mod:`~royalroad.cli.ingest` (ingest, validate), :mod:`~royalroad.cli.analyses`
(goals, paths, next), :mod:`~royalroad.cli.kpis` (funnel), :mod:`~royalroad.cli.outputs`
(analyze, simulate, demo), :mod:`~royalroad.cli.reps` (reps) and
:mod:`~royalroad.cli.serve` (the web app).

Exit codes: 0 ok, 2 bad input (one red line on stderr, no traceback), 1 internal
error. ``ROYALROAD_DEBUG=1`` shows the traceback of an internal error.
"""

from __future__ import annotations

from royalroad.cli import analyses as _analyses  # noqa: F401

# Importing the command modules registers their commands on ``app``, in help order.
from royalroad.cli import ingest as _ingest  # noqa: F401
from royalroad.cli import kpis as _kpis  # noqa: F401
from royalroad.cli import outputs as _outputs  # noqa: F401
from royalroad.cli import plan as _plan  # noqa: F401
from royalroad.cli import reps as _reps  # noqa: F401
from royalroad.cli import serve as _serve  # noqa: F401
from royalroad.cli import triggers as _triggers  # noqa: F401
from royalroad.cli.common import app

__all__ = ["app", "main"]


def main() -> None:  # console_scripts entry point
    app()
