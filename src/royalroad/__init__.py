"""royalroad: find the royal road (王道) of a B2B sales process from CRM data.

The public API is small and stable:

>>> import royalroad as rr
>>> ws = rr.ingest(leads="leads.csv", events="events.csv")   # doctest: +SKIP
>>> ws.summary().rows_read                                    # doctest: +SKIP
"""

from royalroad.errors import InputError, InternalError, RoyalroadError

__version__ = "0.1.0"

__all__ = [
    "InputError",
    "InternalError",
    "RoyalroadError",
    "__version__",
    "ingest",
    "open_workspace",
]


def __getattr__(name: str):  # lazy: keep `import royalroad` cheap for the CLI
    if name == "ingest":
        from royalroad.io.load import ingest

        return ingest
    if name == "open_workspace":
        from royalroad.engine import open_workspace

        return open_workspace
    raise AttributeError(name)
