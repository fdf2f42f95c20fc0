"""Each browser session's private folder (uploads, workspace), removed once the session
is gone, while the server keeps running.

Streamlit gives no "session ended" callback that fires once a session can no longer
come back: a closed tab is first *disconnected* and kept for a reconnect (two minutes
in Streamlit 1.67's ``MemorySessionStorage``), then dropped from that storage without
its ``shutdown`` (which is what frees the session's uploaded bytes). So a sweeper
thread asks the runtime every ``interval`` seconds which sessions are still active
(``Runtime.is_active_session``, documented thread-safe) and, for a session inactive for
longer than ``grace`` (longer than the reconnect window), removes its folder, empties
its session state (the uploaded tables, the results) and drops its uploaded files from
Streamlit's upload manager. Without a Streamlit runtime nothing is ever swept; the
whole temporary root still goes with the server (``royalroad serve`` removes it).

:class:`SessionFolders` holds the rules and is tested without Streamlit; the functions
at the end connect it to the running app.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_LOG = logging.getLogger(__name__)

DEFAULT_GRACE = 180.0
"""Seconds a session may be inactive before its folder goes: longer than Streamlit's
reconnect window (120 s), so a tab that lost its connection for a moment finds its
files again."""
DEFAULT_INTERVAL = 30.0
"""Seconds between two sweeps."""
PREFIX = "royalroad-session-"


@dataclass
class _Entry:
    folder: Path
    seen: float
    state: Any = None


class SessionFolders:
    """Folders of live sessions under ``root``; those of sessions gone for ``grace``
    seconds are removed by :meth:`sweep`.

    ``alive(session_id)`` says whether a session is still connected; ``on_gone`` runs
    once for a session whose folder was removed (to free what the server still holds).
    ``state`` is the session's state object: its keys are deleted when it is gone.
    """

    def __init__(
        self,
        root: str | Path | None,
        *,
        alive: Callable[[str], bool],
        grace: float = DEFAULT_GRACE,
        on_gone: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.root = Path(root) if root is not None else None
        self.alive = alive
        self.grace = grace
        self.on_gone = on_gone
        self.clock = clock
        self.entries: dict[str, _Entry] = {}
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None

    def folder(self, session_id: str, state: Any = None) -> Path:
        """The session's folder, made (again) when missing; the session counts as seen."""
        with self.lock:
            entry = self.entries.get(session_id)
            if entry is None or not entry.folder.is_dir():
                entry = _Entry(self._new_folder(), self.clock(), state)
                self.entries[session_id] = entry
            entry.seen = self.clock()
            if state is not None:
                entry.state = state
            return entry.folder

    def reset(self, session_id: str) -> Path:
        """Remove the session's folder and give it a fresh, empty one ("start over")."""
        with self.lock:
            entry = self.entries.pop(session_id, None)
        if entry is not None:
            shutil.rmtree(entry.folder, ignore_errors=True)
        return self.folder(session_id, entry.state if entry else None)

    def sweep(self) -> list[str]:
        """Remove what sessions inactive for longer than ``grace`` left behind.

        Returns the ids of the sessions removed."""
        now = self.clock()
        gone: list[tuple[str, _Entry]] = []
        with self.lock:
            for sid, entry in list(self.entries.items()):
                if self.alive(sid):
                    entry.seen = now
                elif now - entry.seen > self.grace:
                    gone.append((sid, entry))
                    del self.entries[sid]
        for sid, entry in gone:
            shutil.rmtree(entry.folder, ignore_errors=True)
            _clear(entry.state)
            if self.on_gone is not None:
                self.on_gone(sid)
        return [sid for sid, _ in gone]

    def start(self, interval: float = DEFAULT_INTERVAL) -> None:
        """Sweep every ``interval`` seconds in a daemon thread (once per process)."""
        with self.lock:
            if self.thread is not None:
                return
            self.thread = threading.Thread(
                target=self._loop, args=(interval,), name="royalroad-sweeper", daemon=True
            )
        self.thread.start()

    def _loop(self, interval: float) -> None:
        while True:
            time.sleep(interval)
            try:
                self.sweep()
            except Exception:  # noqa: BLE001 - a failed sweep must not end the sweeper
                _LOG.warning("royalroad: sweeping session folders failed", exc_info=True)

    def _new_folder(self) -> Path:
        if self.root is not None:
            self.root.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=PREFIX, dir=self.root))


def _clear(state: Any) -> None:
    """Delete every key of a gone session's state: its uploaded tables and results."""
    if state is None:
        return
    for key in list(state.filtered_state()):
        with contextlib.suppress(KeyError):  # deleted meanwhile
            del state[key]


# Streamlit ----------------------------------------------------------------------------

_registry: SessionFolders | None = None
_registry_lock = threading.Lock()


def _streamlit_alive(session_id: str) -> bool:
    from streamlit import runtime

    if not runtime.exists():
        return True  # no server to ask (bare mode): never sweep
    return runtime.get_instance().is_active_session(session_id)


def _streamlit_gone(session_id: str) -> None:
    """Drop a gone session's uploaded files from Streamlit's upload manager: a session
    evicted from the reconnect storage is never shut down, and its uploads would stay
    in memory until the server stops."""
    from streamlit import runtime

    if runtime.exists():
        runtime.get_instance().uploaded_file_mgr.remove_session_files(session_id)


def registry(root: str | Path | None, *, grace: float, interval: float) -> SessionFolders:
    """The process's :class:`SessionFolders`, its sweeper started on first use."""
    global _registry
    with _registry_lock:
        if _registry is None:
            _registry = SessionFolders(
                root, alive=_streamlit_alive, grace=grace, on_gone=_streamlit_gone
            )
            _registry.start(interval)
        return _registry


def current() -> tuple[str, Any]:
    """The running script's session id and its session state object."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    if ctx is None:  # bare mode (a test importing the script): one session
        return "bare", None
    return ctx.session_id, ctx.session_state
