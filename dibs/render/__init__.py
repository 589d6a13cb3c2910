"""Rendering: model objects and operations → Postgres SQL text.

``ddl`` creates a whole ``Schema`` (``render_schema``, ``render_script``),
``alter`` renders migration operations, ``format`` pretty-prints (the only
sqlglot user) and ``validate`` checks SQL with Postgres's own grammar.
Submodules are imported where used, so importing this package stays cheap.
"""
