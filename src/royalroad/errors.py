"""One exception family, rendered through the ja/en catalogue.

Errors carry a message *key* and parameters, not a finished sentence, so the CLI and
the app can print them in the user's language. ``str(err)`` renders in the current
language (see :mod:`royalroad.i18n`).
"""

from __future__ import annotations

from typing import Any


class RoyalroadError(Exception):
    """Base class of every error royalroad raises on purpose."""

    exit_code = 1

    def __init__(self, key: str, /, **params: Any) -> None:
        self.key = key
        self.params = params
        super().__init__(key)

    def __str__(self) -> str:
        from royalroad.i18n import t

        return t(self.key, **self.params)


class InputError(RoyalroadError, ValueError):
    """Bad input the user can fix: unreadable file, missing column, nothing to learn from.

    The CLI prints it as one line and exits with code 2.
    """

    exit_code = 2


class InternalError(RoyalroadError, RuntimeError):
    """A bug in royalroad: exit code 1."""

    exit_code = 1
