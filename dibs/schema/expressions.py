"""SQL expressions (defaults, checks, index keys, generated columns): text and comparison key.

An expression has two forms in dibs:

* its **text**, ``canonical_expression(sql)``: the expression re-printed by
  Postgres's own parser (pglast), so whitespace and parentheses never differ.
  It is exact and is what dibs renders back into SQL.
* its **key**, ``expression_key(sql)``: a normal form used only to decide
  whether two expressions are the same. Postgres rewrites what it stores
  (``price > 0`` becomes ``(price > (0)::numeric)``, ``x IN (1, 2)`` becomes
  ``x = ANY (ARRAY[1, 2])``, ``LIKE`` becomes ``~~``), so the key undoes those
  rewrites on both sides: it drops casts on literals and columns, spells
  ``IN``/``BETWEEN``/``LIKE``/``SIMILAR TO`` the way Postgres stores them,
  drops ``pg_catalog.`` from function names, flattens nested AND/OR and prints
  numbers by value. The key is lossy on purpose (it is never rendered): two
  expressions that differ only by a cast Postgres would add implicitly compare
  equal. What it cannot undo (Postgres reformatting a timestamp literal to the
  session's time zone) is listed in docs/declaring.md.

>>> expression_key("price > 0") == expression_key("(price > (0)::numeric)")
True
>>> expression_key("x in ('a', 'b')") == expression_key("(x = ANY (ARRAY['a'::text, 'b'::text]))")
True
>>> expression_key("name like 'a%'") == expression_key("(name ~~ 'a%'::text)")
True
>>> canonical_expression("(price   >  0)")
'price > 0'
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from dibs.errors import ExpressionError

__all__ = [
    "canonical_expression",
    "expression_key",
    "is_column_reference",
    "referenced_columns",
]

_NUMERIC_TYPES = frozenset(
    {"int2", "int4", "int8", "numeric", "float4", "float8", "integer", "bigint", "smallint"}
)


def _parse(sql: str) -> Any:
    from pglast import parse_sql
    from pglast.parser import ParseError

    try:
        stmts: Any = parse_sql(f"SELECT {sql}")
    except ParseError as exc:
        raise ExpressionError(
            f"{sql!r} is not a valid Postgres expression: {exc.args[0]}",
            hint="write the expression as you would after SELECT in psql",
        ) from exc
    stmt = stmts[0].stmt if len(stmts) == 1 else None
    if (
        stmt is None
        or type(stmt).__name__ != "SelectStmt"
        or stmt.targetList is None
        or len(stmt.targetList) != 1
        or stmt.fromClause
        or stmt.whereClause
        or stmt.targetList[0].name
    ):
        raise ExpressionError(
            f"{sql!r} is not a single SQL expression",
            hint="write one expression, without a trailing semicolon or SELECT",
        )
    return stmt.targetList[0].val


def _pglast_ast() -> Any:
    """Return ``pglast.ast`` untyped: its optional fields are checked at run time here."""
    from pglast import ast

    return ast


def _deparse(node: Any) -> str:
    """Print a parse tree back as SQL.

    ``special_functions`` prints calls the parser made from SQL syntax the way
    they were written and the way Postgres prints them back (``x AT TIME ZONE
    'utc'``, not ``pg_catalog.timezone('utc', x)``): the text dibs renders then
    reads back from ``pg_dump`` exactly as the user's own DDL would.
    """
    from pglast.stream import RawStream

    return str(RawStream(special_functions=True)(node))


@lru_cache(maxsize=16384)
def canonical_expression(sql: str) -> str:
    """Return the exact text of ``sql`` as re-printed by Postgres's parser.

    Raises:
        ExpressionError: ``sql`` is not one valid Postgres expression.
    """
    return _deparse(_keep_quoted_types(_parse(sql)))


@lru_cache(maxsize=16384)
def expression_key(sql: str) -> str:
    """Return the comparison key of ``sql`` (see the module docstring)."""
    return _deparse(_normalize(_keep_quoted_types(_parse(sql))))


# Type names whose quoted spelling is another type than the bare SQL keyword:
# ``"bit"`` is bit without a length, ``bit`` is bit(1); ``"char"`` is the one-byte
# internal type, ``char`` is character(1). pglast prints both spellings bare.
_QUOTED_TYPES = frozenset({"bit", "char"})


def _keep_quoted_types(node: Any) -> Any:
    """Qualify ``"bit"``/``"char"`` with ``pg_catalog`` so printing keeps their meaning.

    ``pg_catalog.bit`` is what Postgres resolves ``"bit"`` to (no length), and pglast
    prints a qualified name as written, where it would print ``"bit"`` as ``bit``
    and so turn ``'1010'::"bit"`` into a cast to bit(1).
    """
    ast = _pglast_ast()
    if isinstance(node, ast.TypeName):
        names: tuple[Any, ...] = tuple(node.names or ())
        if len(names) == 1 and names[0].sval in _QUOTED_TYPES and not node.typmods:
            node.names = (ast.String(sval="pg_catalog"), names[0])
        return node
    for child in _children(node):
        _keep_quoted_types(child)
    return node


def is_column_reference(sql: str) -> bool:
    """Whether ``sql`` is a bare column name (a mistake in a default).

    >>> is_column_reference("pending"), is_column_reference("CURRENT_DATE")
    (True, False)
    """
    return type(_parse(sql)).__name__ == "ColumnRef"


def referenced_columns(sql: str) -> list[str]:
    """Return the bare column names ``sql`` reads, in order of appearance.

    >>> referenced_columns("a > b and lower(c) = 'x'")
    ['a', 'b', 'c']
    """
    return list(_referenced_columns(sql))


@lru_cache(maxsize=16384)
def _referenced_columns(sql: str) -> tuple[str, ...]:
    """Cached: the diff and the planner ask about the same expressions many times."""
    found: list[str] = []

    def walk(node: Any) -> None:
        ast = _pglast_ast()

        if isinstance(node, ast.ColumnRef):
            last = node.fields[-1]
            if isinstance(last, ast.String) and last.sval not in found:
                found.append(last.sval)
            return
        for child in _children(node):
            walk(child)

    walk(_parse(sql))
    return tuple(found)


def _children(node: Any) -> list[Any]:
    ast = _pglast_ast()

    out: list[Any] = []
    if not isinstance(node, ast.Node):
        return out
    for attr in node:
        value = getattr(node, attr, None)
        if isinstance(value, ast.Node):
            out.append(value)
        elif isinstance(value, tuple):
            out.extend(v for v in value if isinstance(v, ast.Node))
    return out


def _type_name(tn: Any) -> str:
    return str(tn.names[-1].sval)


def _number(text: str) -> Any:
    ast = _pglast_ast()

    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    if not value.is_finite():
        return None
    if value == value.to_integral_value() and abs(value) < 2**63:
        return ast.A_Const(isnull=False, val=ast.Integer(ival=int(value)))
    return ast.A_Const(isnull=False, val=ast.Float(fval=format(value.normalize(), "f")))


def _strip_cast(node: Any) -> Any:
    """Drop a cast on a literal or column, keeping numbers numeric."""
    ast = _pglast_ast()

    arg = _normalize(node.arg)
    if (
        isinstance(arg, ast.A_Const)
        and not arg.isnull
        and isinstance(arg.val, ast.String)
        and _type_name(node.typeName) in _NUMERIC_TYPES
        and not node.typeName.arrayBounds
    ):
        number = _number(arg.val.sval)
        if number is not None:
            return number
    if isinstance(arg, ast.A_Const | ast.ColumnRef | ast.A_ArrayExpr):
        return arg
    if _type_name(node.typeName) in _NUMERIC_TYPES and _is_arithmetic(arg):
        # Postgres coerces an integer sum to the column's bigint with an implicit cast.
        return arg
    node.arg = arg
    return node


_ARITHMETIC = frozenset({"+", "-", "*", "/", "%"})


def _is_arithmetic(node: Any) -> bool:
    from pglast.enums import A_Expr_Kind

    ast = _pglast_ast()
    return (
        isinstance(node, ast.A_Expr)
        and node.kind == A_Expr_Kind.AEXPR_OP
        and len(node.name) == 1
        and node.name[0].sval in _ARITHMETIC
    )


def _normalize_a_expr(node: Any) -> Any:
    ast = _pglast_ast()
    from pglast.enums import A_Expr_Kind, BoolExprType

    kind = node.kind
    if kind in (A_Expr_Kind.AEXPR_BETWEEN, A_Expr_Kind.AEXPR_NOT_BETWEEN):
        low, high = node.rexpr
        between = kind == A_Expr_Kind.AEXPR_BETWEEN
        ops = (">=", "<=") if between else ("<", ">")
        parts = tuple(
            ast.A_Expr(
                kind=A_Expr_Kind.AEXPR_OP,
                name=(ast.String(sval=op),),
                lexpr=_normalize(node.lexpr),
                rexpr=_normalize(bound),
            )
            for op, bound in zip(ops, (low, high), strict=True)
        )
        boolop = BoolExprType.AND_EXPR if between else BoolExprType.OR_EXPR
        return ast.BoolExpr(boolop=boolop, args=parts)
    if kind == A_Expr_Kind.AEXPR_IN:
        op = node.name[0].sval
        return ast.A_Expr(
            kind=A_Expr_Kind.AEXPR_OP_ANY if op == "=" else A_Expr_Kind.AEXPR_OP_ALL,
            name=(ast.String(sval=op),),
            lexpr=_normalize(node.lexpr),
            rexpr=ast.A_ArrayExpr(elements=tuple(_normalize(e) for e in node.rexpr)),
        )
    if kind in (A_Expr_Kind.AEXPR_LIKE, A_Expr_Kind.AEXPR_ILIKE, A_Expr_Kind.AEXPR_SIMILAR):
        node.kind = A_Expr_Kind.AEXPR_OP
    node.lexpr = _normalize(node.lexpr) if node.lexpr is not None else None
    node.rexpr = _normalize(node.rexpr) if node.rexpr is not None else None
    return node


def _normalize(node: Any) -> Any:
    """Rewrite a pglast expression tree into its comparison form (see module doc)."""
    ast = _pglast_ast()

    if isinstance(node, tuple):
        return tuple(_normalize(n) for n in node)
    if not isinstance(node, ast.Node):
        return node
    if isinstance(node, ast.TypeCast):
        return _strip_cast(node)
    if isinstance(node, ast.A_Expr):
        return _normalize_a_expr(node)
    if isinstance(node, ast.A_Const) and isinstance(node.val, ast.Float):
        return _number(node.val.fval) or node
    if isinstance(node, ast.MinMaxExpr | ast.CoalesceExpr):
        # GREATEST/LEAST/COALESCE: Postgres casts each argument to the common type
        # (``GREATEST(abs(0), 0::bigint)`` is stored ``GREATEST(abs(0)::bigint, …)``).
        node.args = tuple(
            a.arg if isinstance(a, ast.TypeCast) else a for a in _normalize(node.args)
        )
        return node
    if (
        isinstance(node, ast.FuncCall)
        and len(node.funcname) == 2
        and node.funcname[0].sval == "pg_catalog"
    ):
        node.funcname = node.funcname[1:]
    if isinstance(node, ast.BoolExpr):
        from pglast.enums import BoolExprType

        args: list[Any] = []
        for arg in _normalize(node.args):
            # AND/OR nest associatively; NOT (NOT x) is not NOT x.
            if (
                isinstance(arg, ast.BoolExpr)
                and arg.boolop == node.boolop
                and node.boolop != BoolExprType.NOT_EXPR
            ):
                args.extend(arg.args)
            else:
                args.append(arg)
        node.args = tuple(args)
        return node
    for attr in node:
        value = getattr(node, attr, None)
        if isinstance(value, ast.Node | tuple):
            setattr(node, attr, _normalize(value))
    return node
