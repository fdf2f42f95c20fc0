"""How ``royalroad serve`` starts Streamlit, and how the app reads its settings back.

The CLI and the Streamlit script run in different processes; the settings travel
through environment variables (``ROYALROAD_LANG``, ``ROYALROAD_MAX_UPLOAD_MB``,
``ROYALROAD_APP_TMP``), which survive Streamlit's own argument parsing unchanged.
``ROYALROAD_APP_SESSION_GRACE`` and ``ROYALROAD_APP_SWEEP_SECONDS`` tune how soon a
closed session's folder is removed (see :mod:`royalroad.app.sessions`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from royalroad.app.sessions import DEFAULT_GRACE, DEFAULT_INTERVAL
from royalroad.errors import InputError
from royalroad.i18n import LANGS

ENV_LANG = "ROYALROAD_LANG"
ENV_MAX_UPLOAD = "ROYALROAD_MAX_UPLOAD_MB"
ENV_TMP = "ROYALROAD_APP_TMP"
ENV_GRACE = "ROYALROAD_APP_SESSION_GRACE"
ENV_SWEEP = "ROYALROAD_APP_SWEEP_SECONDS"
DEFAULT_MAX_UPLOAD_MB = 200
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8501
MAX_UPLOAD_LIMIT_MB = 10_000
SCRIPT = Path(__file__).with_name("main.py")


@dataclass(frozen=True)
class AppConfig:
    """What the running app was started with."""

    lang: str
    max_upload_mb: int
    tmp_root: str | None
    session_grace: float = DEFAULT_GRACE
    sweep_seconds: float = DEFAULT_INTERVAL

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024


def check_server_args(*, port: int, host: str, max_upload_mb: int) -> None:
    """Fail early, with one line, on a port, host or upload limit Streamlit would reject."""
    if not 1 <= port <= 65535:
        raise InputError("app.bad_port", value=port)
    if not host.strip():
        raise InputError("app.bad_host", value=host)
    if not 1 <= max_upload_mb <= MAX_UPLOAD_LIMIT_MB:
        raise InputError("app.bad_max_upload", value=max_upload_mb, limit=MAX_UPLOAD_LIMIT_MB)


def server_command(
    *,
    port: int = DEFAULT_PORT,
    host: str = DEFAULT_HOST,
    max_upload_mb: int = DEFAULT_MAX_UPLOAD_MB,
    python: str | None = None,
) -> list[str]:
    """The ``python -m streamlit run …`` command line of ``royalroad serve``.

    >>> cmd = server_command(port=8600)
    >>> cmd[1:4], "--server.port" in cmd, cmd[cmd.index("--server.address") + 1]
    (['-m', 'streamlit', 'run'], True, '127.0.0.1')
    """
    check_server_args(port=port, host=host, max_upload_mb=max_upload_mb)
    return [
        python or sys.executable,
        "-m",
        "streamlit",
        "run",
        str(SCRIPT),
        "--server.headless",
        "true",
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--browser.gatherUsageStats",
        "false",
        # The file watcher floods inotify on a virtualenv and reruns nothing useful here.
        "--server.fileWatcherType",
        "none",
        "--server.runOnSave",
        "false",
        "--server.maxUploadSize",
        str(max_upload_mb),
        "--global.developmentMode",
        "false",
        "--client.toolbarMode",
        "minimal",
    ]


def server_env(
    *,
    lang: str | None,
    max_upload_mb: int,
    tmp_root: str | Path,
    base: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Environment of the Streamlit process: ours plus the app settings."""
    env = dict(os.environ if base is None else base)
    if lang:
        env[ENV_LANG] = lang
    env[ENV_MAX_UPLOAD] = str(max_upload_mb)
    env[ENV_TMP] = str(tmp_root)
    return env


def config_from_env(env: Mapping[str, str] | None = None) -> AppConfig:
    """Settings of the running app; bad or missing values fall back to the defaults."""
    env = os.environ if env is None else env
    lang = env.get(ENV_LANG, "")
    if lang not in LANGS:
        lang = _lang_of(env)
    try:
        mb = int(env.get(ENV_MAX_UPLOAD, DEFAULT_MAX_UPLOAD_MB))
    except ValueError:
        mb = DEFAULT_MAX_UPLOAD_MB
    if not 1 <= mb <= MAX_UPLOAD_LIMIT_MB:
        mb = DEFAULT_MAX_UPLOAD_MB
    tmp = env.get(ENV_TMP) or None
    grace = _seconds(env.get(ENV_GRACE), DEFAULT_GRACE)
    sweep = _seconds(env.get(ENV_SWEEP), DEFAULT_INTERVAL)
    return AppConfig(
        lang=lang, max_upload_mb=mb, tmp_root=tmp, session_grace=grace, sweep_seconds=sweep
    )


def _seconds(value: str | None, default: float) -> float:
    try:
        seconds = float(value) if value else default
    except ValueError:
        return default
    return seconds if seconds > 0 else default


def _lang_of(env: Mapping[str, str]) -> str:
    """The rule of :func:`royalroad.i18n.default_lang`, applied to ``env`` rather than our own."""
    for var in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        value = env.get(var, "")
        if value:
            return "ja" if value.lower().startswith("ja") else "en"
    return "en"
