"""A throwaway PostgreSQL server for the warehouse tests: ``initdb`` in a temporary
directory, a port the OS picks, loopback only, stopped (and its files removed by
pytest) after the tests. Needs Debian's ``postgresql`` binaries (``.ci/run`` installs
them); fails with a message saying so when they are missing.

PostgreSQL refuses to run as root: when the tests run as root (CI), the server runs
as the ``postgres`` user that the Debian package creates.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _bindir() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(versions[-1]).parent if versions else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def postgres() -> Iterator[str]:
    """Start a server in a new temporary directory; yield its URL (user ``rr``, database
    ``postgres``); stop it and remove the directory after.

    Not under pytest's ``tmp_path``: as root, that lies in a directory only root may
    enter, and the server runs as ``postgres``."""
    root = Path(tempfile.mkdtemp(prefix="royalroad-pg-"))
    try:
        with _server(root) as url:
            yield url
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _run(args: list[str]) -> None:
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"PostgreSQL did not start: {' '.join(args)}\n{done.stderr}")


@contextmanager
def _server(root: Path) -> Iterator[str]:
    bindir = _bindir()
    if bindir is None:
        raise RuntimeError(
            "PostgreSQL binaries (initdb, pg_ctl) not found: apt-get install postgresql "
            "(.ci/run installs it when missing)"
        )
    as_user: list[str] = []
    if os.geteuid() == 0:
        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            raise RuntimeError(
                "running as root and there is no postgres user to run the server"
            ) from None
        as_user = ["runuser", "-u", "postgres", "--"]
        os.chown(root, pw.pw_uid, pw.pw_gid)
    data = root / "data"
    _run(
        [
            *as_user,
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            "rr",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        ],
    )
    port = _free_port()
    options = f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off -c TimeZone=UTC"
    _run(
        [
            *as_user,
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(root / "server.log"),
            "-w",
            "-t",
            "60",
            "start",
        ],
    )
    try:
        yield f"postgres://rr@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
            check=False,
            capture_output=True,
        )
