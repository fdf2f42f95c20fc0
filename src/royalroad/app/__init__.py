"""The royalroad web app: upload → map columns → pick outcomes → analyse → report.

``royalroad serve`` starts :mod:`royalroad.app.main` with Streamlit. Everything that
can be decided without a browser lives in :mod:`royalroad.app.logic` (uploads,
column mapping, outcome choices, runs, downloads) and :mod:`royalroad.app.launch`
(the server command line), so it is unit-tested without Streamlit; ``main.py`` only
lays out widgets.
"""
