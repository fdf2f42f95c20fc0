"""Presenters for the shareable outputs: HTML report (and later the Excel workbook).

Computation → a list of typed section objects holding only data → one template per
section type. A section appears only when it has content.
"""
