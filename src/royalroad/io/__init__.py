"""Readers, column mapping, validation and quarantine."""
