"""``royalroad serve``: the local web app."""

from __future__ import annotations

from typing import Annotated

import typer

from royalroad.app.launch import DEFAULT_HOST, DEFAULT_PORT
from royalroad.cli.common import LangOpt, app, guarded, print_error, stderr
from royalroad.i18n import t


@app.command(help=t("cli.cmd.serve"))
@guarded
def serve(
    port: Annotated[int, typer.Option("--port", help=t("app.opt.port"))] = DEFAULT_PORT,
    host: Annotated[str, typer.Option("--host", help=t("app.opt.host"))] = DEFAULT_HOST,
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
    stderr().print(t("app.serve.starting", url=f"http://{host}:{port}"), soft_wrap=True)
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
        print_error(t("app.server_failed", code=code))
        raise typer.Exit(1)
