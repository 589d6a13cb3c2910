"""The pg_catalog queries introspection runs: one per object kind, never one per table.

Every query takes the bound parameter ``schemas`` (a ``text[]`` of namespace
names) and leaves out objects that belong to an extension (``pg_depend``
deptype ``'e'``). They are run with ``search_path`` set to ``public`` so the
catalog's printing functions (``format_type``, ``pg_get_expr``…) spell public
objects unqualified and every other object qualified, as the model does.

Queries return catalog numbers where naming them in SQL would cost a lookup
per row: the caller names constraint and index keys from the COLUMNS rows,
collations from COLLATIONS and operator classes from OPCLASSES. Catalog
arrays come back as lists, the index vectors as text.
"""

from __future__ import annotations

from typing import LiteralString

from psycopg import sql

__all__ = [
    "ATTACHED_INDEXES",
    "COLLATIONS",
    "COLUMNS",
    "CONSTRAINTS",
    "ENUMS",
    "EXTENSIONS",
    "NAMESPACES",
    "OPCLASSES",
    "SEQUENCES",
    "TABLES",
    "UNMANAGED",
    "indexes_query",
]


def _not_extension_member(catalog: LiteralString, oid: LiteralString) -> LiteralString:
    """SQL condition: the object is not part of an extension."""
    return (
        "NOT EXISTS (SELECT 1 FROM pg_depend ext WHERE ext.classid = '"
        + catalog
        + "'::regclass AND ext.objid = "
        + oid
        + " AND ext.deptype = 'e')"
    )


_NOT_EXTENSION_CLASS = _not_extension_member("pg_class", "c.oid")
_NOT_EXTENSION_TYPE = _not_extension_member("pg_type", "t.oid")

# User namespaces (the caller filters by ``schemas`` itself: this query defines them).
# ``dibs`` holds the ledger of ``dibs migrate`` (docs/migrate.md): it is dibs's own
# bookkeeping, never part of a user's schema, so no diff or fingerprint sees it.
NAMESPACES: LiteralString = (
    "SELECT n.nspname FROM pg_namespace n"
    " WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', 'dibs')"
    " AND n.nspname NOT LIKE 'pg\\_temp\\_%' AND n.nspname NOT LIKE 'pg\\_toast\\_temp\\_%'"
    " AND " + _not_extension_member("pg_namespace", "n.oid") + " ORDER BY n.nspname"
)

# plpgsql is installed in every database; nobody declares it.
EXTENSIONS: LiteralString = """
SELECT e.extname, n.nspname
FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
WHERE e.extname <> 'plpgsql' AND n.nspname = ANY(%(schemas)s)
ORDER BY e.extname
"""

ENUMS: LiteralString = (
    """
SELECT n.nspname, t.typname,
       ARRAY(SELECT e.enumlabel FROM pg_enum e WHERE e.enumtypid = t.oid
             ORDER BY e.enumsortorder) AS labels,
       d.description
FROM pg_type t
JOIN pg_namespace n ON n.oid = t.typnamespace
LEFT JOIN pg_description d
  ON d.objoid = t.oid AND d.classoid = 'pg_type'::regclass AND d.objsubid = 0
WHERE t.typtype = 'e' AND n.nspname = ANY(%(schemas)s) AND """
    + _NOT_EXTENSION_TYPE
)

# Identity sequences (deptype 'i') live on their column and are left out here.
SEQUENCES: LiteralString = (
    """
SELECT n.nspname, c.relname, format_type(s.seqtypid, NULL) AS type,
       s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle,
       tn.nspname AS owner_schema, tc.relname AS owner_table, ta.attname AS owner_column
FROM pg_sequence s
JOIN pg_class c ON c.oid = s.seqrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_depend d
  ON d.classid = 'pg_class'::regclass AND d.objid = c.oid
 AND d.refclassid = 'pg_class'::regclass AND d.refobjsubid > 0 AND d.deptype IN ('a', 'i')
LEFT JOIN pg_class tc ON tc.oid = d.refobjid
LEFT JOIN pg_namespace tn ON tn.oid = tc.relnamespace
LEFT JOIN pg_attribute ta ON ta.attrelid = d.refobjid AND ta.attnum = d.refobjsubid
WHERE n.nspname = ANY(%(schemas)s) AND d.deptype IS DISTINCT FROM 'i' AND """
    + _NOT_EXTENSION_CLASS
)

# One row per table; its columns come from COLUMNS.
TABLES: LiteralString = (
    """
SELECT c.oid, n.nspname, c.relname, td.description AS comment,
       CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS partition_by,
       CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END AS bound,
       pn.nspname AS parent_schema, pc.relname AS parent_name
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_inherits inh ON c.relispartition AND inh.inhrelid = c.oid
LEFT JOIN pg_class pc ON pc.oid = inh.inhparent
LEFT JOIN pg_namespace pn ON pn.oid = pc.relnamespace
LEFT JOIN pg_description td
  ON td.objoid = c.oid AND td.classoid = 'pg_class'::regclass AND td.objsubid = 0
WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY(%(schemas)s) AND """
    + _NOT_EXTENSION_CLASS
    + " ORDER BY n.nspname, c.relname"
)

# One row per column of the TABLES tables, in table then column order.
# ``expr`` is the default (or the generation expression of a generated
# column): a default cannot refer to columns, so it is printed without the
# table as context (relation id 0), which saves opening it per column.
# ``collation_oid`` is set only when the column's collation is not its
# type's; ``attcollation`` is what an index key on the column defaults to.
# ``identity_options`` is an identity column's sequence options as text
# (``start,increment,min,max,cache,cycle``), so the row stays hashable.
COLUMNS: LiteralString = (
    """
SELECT a.attrelid, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod) AS type,
       a.attnotnull,
       CASE WHEN a.attgenerated = '' THEN pg_get_expr(ad.adbin, 0)
            ELSE pg_get_expr(ad.adbin, ad.adrelid) END AS expr,
       a.attidentity, a.attgenerated, cd.description AS comment,
       CASE WHEN a.attcollation <> 0 AND a.attcollation <> ty.typcollation
            THEN a.attcollation END AS collation_oid,
       CASE WHEN a.attidentity <> '' THEN (
         SELECT concat_ws(',', s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache,
                          s.seqcycle)
         FROM pg_depend d JOIN pg_sequence s ON s.seqrelid = d.objid
         WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
           AND d.refobjid = a.attrelid AND d.refobjsubid = a.attnum AND d.deptype = 'i')
       END AS identity_options,
       a.attcollation
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
LEFT JOIN pg_description cd
  ON cd.objoid = a.attrelid AND cd.classoid = 'pg_class'::regclass AND cd.objsubid = a.attnum
LEFT JOIN pg_type ty ON ty.oid = a.atttypid
WHERE a.attnum > 0 AND NOT a.attisdropped
  AND c.relkind IN ('r', 'p') AND n.nspname = ANY(%(schemas)s) AND """
    + _NOT_EXTENSION_CLASS
    + " ORDER BY a.attrelid, a.attnum"
)

# Every collation with its schema (a few hundred rows at most): cheaper than
# joining pg_collation into the per-column and per-index-key rows.
COLLATIONS: LiteralString = """
SELECT co.oid, co.collname::text, cn.nspname::text
FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace
"""

# Column numbers (``keys``) are named from the TABLES rows by the caller; only
# foreign keys to tables outside the selected schemas name their columns here.
# Constraints a partition inherits from its parent (conparentid) or a child
# inherits (not conislocal) belong to the parent and are left out.
CONSTRAINTS: LiteralString = """
SELECT con.conrelid, con.conname, con.contype, con.condeferrable, con.condeferred,
       con.conkey AS keys, fn.nspname AS ref_schema, fc.relname AS ref_table,
       con.confkey AS ref_keys,
       CASE WHEN con.contype = 'f' AND NOT fn.nspname = ANY(%(schemas)s) THEN
         ARRAY(SELECT (SELECT a.attname FROM pg_attribute a
                       WHERE a.attrelid = con.confrelid AND a.attnum = k.num)
               FROM unnest(con.confkey) WITH ORDINALITY k(num, pos) ORDER BY k.pos)
       END AS outside_ref_columns,
       con.confrelid,
       con.confupdtype, con.confdeltype, con.confmatchtype,
       CASE WHEN con.contype = 'c' THEN pg_get_expr(con.conbin, con.conrelid) END AS check_expr,
       CASE WHEN con.contype = 'x' THEN
         ARRAY(SELECT (SELECT o.oprname FROM pg_operator o WHERE o.oid = x.op)
               FROM unnest(con.conexclop) WITH ORDINALITY x(op, pos) ORDER BY x.pos)
       END AS operators,
       con.conindid, con.connoinherit, NOT con.convalidated AS not_valid,
       cd.description AS comment
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_class fc ON fc.oid = con.confrelid
LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace
LEFT JOIN pg_description cd
  ON cd.objoid = con.oid AND cd.classoid = 'pg_constraint'::regclass AND cd.objsubid = 0
WHERE con.contype IN ('p', 'u', 'f', 'c', 'x') AND c.relkind IN ('r', 'p')
  AND con.conparentid = 0 AND con.conislocal AND n.nspname = ANY(%(schemas)s)
ORDER BY con.conrelid, con.conname
"""

# ``defs`` holds the text of expression keys (NULL for plain columns; the
# whole array is NULL when the index has no expression key).
# ``collation_oids`` are the key collations, named by the caller. The four
# vectors come as text (``'1 0 3'``): much cheaper to send and read than arrays.
# Every index of the selected tables, including those backing a constraint
# (their details complete exclusion and unique constraints); indexes attached
# to a partitioned index (pg_inherits) belong to the parent and are left out.
# Unordered: the caller sorts each table's indexes by name.
_INDEXES: LiteralString = """
SELECT i.indrelid, i.indexrelid, ic.relname AS name, am.amname, i.indisunique,
       i.indnkeyatts, i.indkey::text AS keys, i.indoption::text AS options,
       CASE WHEN 0 = ANY(i.indkey::int2[]) THEN
         ARRAY(SELECT CASE WHEN i.indkey[k - 1] = 0
                           THEN pg_get_indexdef(i.indexrelid, k, true) END
               FROM generate_series(1, i.indnatts) k ORDER BY k)
       END AS defs,
       i.indclass::text AS opclass_oids, i.indcollation::text AS collation_oids,
       pg_get_expr(i.indpred, i.indrelid) AS predicate,
       {nulls_not_distinct} AS nulls_not_distinct,
       d.description AS comment, con.contype AS constraint_type, ic.reloptions
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_class c ON c.oid = i.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_am am ON am.oid = ic.relam
LEFT JOIN pg_constraint con
  ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid
 AND con.contype IN ('p', 'u', 'x')
LEFT JOIN pg_description d
  ON d.objoid = i.indexrelid AND d.classoid = 'pg_class'::regclass AND d.objsubid = 0
WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY(%(schemas)s)
  AND NOT EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = i.indexrelid)
"""


# A partition's indexes attached to its parent's (pg_inherits between indexes):
# the model keeps them as the parent's index, but records the partition's name.
ATTACHED_INDEXES: LiteralString = """
SELECT x.indrelid, pi.relname::text AS parent_index, ii.relname::text AS own_index
FROM pg_inherits h
JOIN pg_class ii ON ii.oid = h.inhrelid AND ii.relkind IN ('i', 'I')
JOIN pg_class pi ON pi.oid = h.inhparent
JOIN pg_index x ON x.indexrelid = ii.oid
JOIN pg_namespace n ON n.oid = ii.relnamespace
WHERE n.nspname = ANY(%(schemas)s)
"""


# Operator classes that are not their type's default: an index key using one
# names it (any other key uses the default and names none).
OPCLASSES: LiteralString = """
SELECT oc.oid,
       CASE WHEN n.nspname IN ('pg_catalog', 'public') THEN oc.opcname::text
            ELSE n.nspname || '.' || oc.opcname END AS name
FROM pg_opclass oc JOIN pg_namespace n ON n.oid = oc.opcnamespace
WHERE NOT oc.opcdefault
"""


def indexes_query(server_version: int) -> sql.Composed:
    """Return the index query for this server (NULLS NOT DISTINCT exists from 15 on)."""
    nnd = "i.indnullsnotdistinct" if server_version >= 150000 else "false"
    return sql.SQL(_INDEXES).format(nulls_not_distinct=sql.SQL(nnd))


def _relation_deps(owner: LiteralString) -> LiteralString:
    """SQL array of [schema, name] pairs of the relations a view's rules read."""
    return (
        "ARRAY(SELECT DISTINCT ARRAY[dn.nspname::text, dc.relname::text]"
        " FROM pg_rewrite r JOIN pg_depend dd ON dd.classid = 'pg_rewrite'::regclass"
        " AND dd.objid = r.oid AND dd.refclassid = 'pg_class'::regclass"
        " JOIN pg_class dc ON dc.oid = dd.refobjid"
        " JOIN pg_namespace dn ON dn.oid = dc.relnamespace"
        " WHERE r.ev_class = " + owner + " AND dc.oid <> " + owner + ")"
    )


_TABLE_OF: LiteralString = "ARRAY[ARRAY[tn.nspname::text, tc.relname::text]]"

# Objects dibs reports but does not manage: kind, schema, name, depends_on.
# ``row level security`` (enabled or forced on a table; policies are reported on their
# own), ``replica identity`` (anything but DEFAULT), ``unlogged table`` and ``table
# storage parameters`` (``WITH (fillfactor = 70)`` on a table) are table settings outside the
# model: reported, named with the setting, so that ``dibs diff`` names a difference in
# them instead of calling the tables equal; they depend on nothing, so they never stop
# a plan. ``table inheritance`` (``INHERITS``, not partitioning) is reported per child
# table, depending on its parents: the model has no inheritance, and a plan that
# changed such a table's columns or checks would not see Postgres pass them on.
UNMANAGED: LiteralString = (
    """
SELECT CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
                      ELSE 'foreign table' END AS kind,
       n.nspname AS schema, c.relname::text AS name, """
    + _relation_deps("c.oid")
    + """ AS depends_on
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('v', 'm', 'f') AND n.nspname = ANY(%(schemas)s) AND """
    + _not_extension_member("pg_class", "c.oid")
    + """
UNION ALL
SELECT CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate'
                      WHEN 'w' THEN 'window function' ELSE 'function' END,
       n.nspname, p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
       ARRAY[]::text[]
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = ANY(%(schemas)s) AND """
    + _not_extension_member("pg_proc", "p.oid")
    + """
UNION ALL
SELECT 'trigger', tn.nspname, t.tgname::text, """
    + _TABLE_OF
    + """
FROM pg_trigger t JOIN pg_class tc ON tc.oid = t.tgrelid
JOIN pg_namespace tn ON tn.oid = tc.relnamespace
WHERE NOT t.tgisinternal AND t.tgparentid = 0 AND tn.nspname = ANY(%(schemas)s)
UNION ALL
SELECT 'policy', tn.nspname, p.polname::text, """
    + _TABLE_OF
    + """
FROM pg_policy p JOIN pg_class tc ON tc.oid = p.polrelid
JOIN pg_namespace tn ON tn.oid = tc.relnamespace
WHERE tn.nspname = ANY(%(schemas)s)
UNION ALL
SELECT 'rule', tn.nspname, r.rulename::text, """
    + _TABLE_OF
    + """
FROM pg_rewrite r JOIN pg_class tc ON tc.oid = r.ev_class
JOIN pg_namespace tn ON tn.oid = tc.relnamespace
WHERE r.rulename <> '_RETURN' AND tn.nspname = ANY(%(schemas)s)
UNION ALL
SELECT 'row level security', n.nspname,
       c.relname::text || CASE WHEN c.relforcerowsecurity THEN ' (forced)' ELSE '' END,
       ARRAY[]::text[]
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND (c.relrowsecurity OR c.relforcerowsecurity)
  AND n.nspname = ANY(%(schemas)s)
UNION ALL
SELECT 'replica identity', n.nspname,
       c.relname::text || ' (' || CASE c.relreplident WHEN 'f' THEN 'full'
         WHEN 'n' THEN 'nothing'
         ELSE 'using index ' || coalesce((SELECT i.relname FROM pg_index x
                                          JOIN pg_class i ON i.oid = x.indexrelid
                                          WHERE x.indrelid = c.oid AND x.indisreplident),
                                         '?') END || ')',
       ARRAY[]::text[]
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND c.relreplident <> 'd' AND n.nspname = ANY(%(schemas)s)
UNION ALL
SELECT 'unlogged table', n.nspname, c.relname::text, ARRAY[]::text[]
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND c.relpersistence = 'u' AND n.nspname = ANY(%(schemas)s)
UNION ALL
SELECT 'table storage parameters', n.nspname,
       c.relname::text || ' (' || array_to_string(c.reloptions, ', ') || ')', ARRAY[]::text[]
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND c.reloptions IS NOT NULL AND n.nspname = ANY(%(schemas)s)
UNION ALL
SELECT 'table inheritance', cn.nspname, c.relname::text,
       ARRAY(SELECT ARRAY[pn.nspname::text, p.relname::text]
             FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent
             JOIN pg_namespace pn ON pn.oid = p.relnamespace
             WHERE i.inhrelid = c.oid ORDER BY i.inhseqno)
FROM pg_class c JOIN pg_namespace cn ON cn.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND cn.nspname = ANY(%(schemas)s)
  AND EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = c.oid)
UNION ALL
SELECT 'composite type',
       n.nspname, t.typname::text, ARRAY[]::text[]
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
LEFT JOIN pg_class tc ON tc.oid = t.typrelid
WHERE (t.typtype = 'c' AND tc.relkind = 'c')
  AND n.nspname = ANY(%(schemas)s) AND """
    + _not_extension_member("pg_type", "t.oid")
)


# Domains: base type, NOT NULL, default, collation when not the base type's, checks.
DOMAINS: LiteralString = (
    """
SELECT n.nspname, t.typname, format_type(t.typbasetype, t.typtypmod) AS type,
       t.typnotnull, t.typdefault,
       CASE WHEN t.typcollation <> 0 AND t.typcollation <> bt.typcollation
            THEN co.collname END AS collname,
       CASE WHEN t.typcollation <> 0 AND t.typcollation <> bt.typcollation
            THEN cn.nspname END AS collation_schema,
       d.description,
       ARRAY(SELECT c.conname FROM pg_constraint c WHERE c.contypid = t.oid AND c.contype = 'c'
             ORDER BY c.conname) AS check_names,
       ARRAY(SELECT pg_get_expr(c.conbin, 0) FROM pg_constraint c
             WHERE c.contypid = t.oid AND c.contype = 'c' ORDER BY c.conname) AS check_exprs
FROM pg_type t
JOIN pg_namespace n ON n.oid = t.typnamespace
JOIN pg_type bt ON bt.oid = t.typbasetype
LEFT JOIN pg_collation co ON co.oid = t.typcollation
LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace
LEFT JOIN pg_description d
  ON d.objoid = t.oid AND d.classoid = 'pg_type'::regclass AND d.objsubid = 0
WHERE t.typtype = 'd' AND n.nspname = ANY(%(schemas)s) AND """
    + _NOT_EXTENSION_TYPE
)
