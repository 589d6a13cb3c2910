"""Checks of dibs's diff engine against schema-diff suites written by other projects."""
