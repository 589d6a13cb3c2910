"""The words ``quote_ident`` quotes: reserved, column-name and type/function keywords.

The list is Postgres's own (``src/include/parser/kwlist.h``, the grammar
pglast v8.8 is built from). It is kept here as data so that naming
things (introspection, ``dibs migrate``) does not import the parser, some
20 ms of a command's start-up; a test checks it still equals pglast's.
"""

from __future__ import annotations

__all__ = ["QUOTED_KEYWORDS"]

_WORDS = """
    all analyse analyze and any array as asc asymmetric authorization between bigint binary
    bit boolean both case cast char character check coalesce collate collation column
    concurrently constraint create cross current_catalog current_date current_role
    current_schema current_time current_timestamp current_user dec decimal default deferrable
    desc distinct do else end except exists extract false fetch float for foreign freeze from
    full grant greatest group grouping having ilike in initially inner inout int integer
    intersect interval into is isnull join json json_array json_arrayagg json_exists
    json_object json_objectagg json_query json_scalar json_serialize json_table json_value
    lateral leading least left like limit localtime localtimestamp merge_action national
    natural nchar none normalize not notnull null nullif numeric offset on only or order out
    outer overlaps overlay placing position precision primary real references returning right
    row select session_user setof similar smallint some substring symmetric system_user table
    tablesample then time timestamp to trailing treat trim true union unique user using values
    varchar variadic verbose when where window with xmlattributes xmlconcat xmlelement
    xmlexists xmlforest xmlnamespaces xmlparse xmlpi xmlroot xmlserialize xmltable
    """
QUOTED_KEYWORDS = frozenset(_WORDS.split())
