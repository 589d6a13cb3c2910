"""Rendering: model objects and operations → Postgres SQL text."""
