"""``[tool.dibs]`` of the user's pyproject.toml, found by walking up from the working directory.

Keys (all optional except ``schema``)::

    [tool.dibs]
    schema = "myapp.schema"          # module or list of modules declaring tables
    migrations = "migrations"        # directory, relative to pyproject.toml
    database_url = "postgresql://…"  # else $DATABASE_URL, else the embedded server
    lock_timeout = "5s"              # for `dibs migrate`
    pythonpath = ["."]               # where the schema modules import from

Only the standard library is imported here: ``dibs check`` loads it on its fast path.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from dibs.errors import ConfigError, SourceLocation

__all__ = ["Config", "find_pyproject", "load_config"]

_KEYS = frozenset({"schema", "migrations", "database_url", "lock_timeout", "pythonpath"})
_EXAMPLE = '[tool.dibs]\nschema = "myapp.schema"   # the module declaring your tables'


@dataclass(frozen=True, slots=True)
class Config:
    root: Path
    schema_modules: tuple[str, ...]
    migrations_dir: Path
    database_url: str | None
    lock_timeout: str = "5s"
    python_path: tuple[Path, ...] = ()
    pyproject: Path | None = None


def find_pyproject(start: Path) -> Path | None:
    """Return the nearest pyproject.toml with a ``[tool.dibs]`` table, walking up."""
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            try:
                data = tomllib.loads(candidate.read_text(encoding="utf-8"))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError):
                continue
            if "dibs" in data.get("tool", {}):
                return candidate
    return None


def _strings(value: object, key: str, where: SourceLocation) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ConfigError(f"[tool.dibs] {key} must be a string or a list of strings", location=where)


def load_config(
    start: Path | None = None, *, override_url: str | None = None, require_schema: bool = True
) -> Config:
    """Load the project configuration.

    Args:
        start: where to start looking (default: the working directory).
        override_url: a URL given on the command line; it wins over the file and environment.
        require_schema: raise when no schema module is configured.

    Raises:
        ConfigError: no pyproject.toml with [tool.dibs], an unknown key or a bad value.
    """
    start = (start or Path.cwd()).resolve()
    path = find_pyproject(start)
    if path is None:
        raise ConfigError(
            f"no pyproject.toml with a [tool.dibs] table in {start} or its parents",
            hint=f"add to your project's pyproject.toml:\n{_EXAMPLE}",
        )
    where = SourceLocation(str(path), 1)
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))["tool"]["dibs"]
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}", location=where) from exc
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise ConfigError(
            f"unknown key {unknown[0]!r} in [tool.dibs]",
            location=where,
            hint=f"known keys: {', '.join(sorted(_KEYS))}",
        )
    modules = _strings(table["schema"], "schema", where) if "schema" in table else ()
    if require_schema and not modules:
        raise ConfigError(
            "[tool.dibs] does not say which module declares the schema",
            location=where,
            hint=f"add: {_EXAMPLE.splitlines()[1]}",
        )
    root = path.parent
    url = override_url or table.get("database_url") or os.environ.get("DATABASE_URL") or None
    return Config(
        root=root,
        schema_modules=modules,
        migrations_dir=root / str(table.get("migrations", "migrations")),
        database_url=url,
        lock_timeout=str(table.get("lock_timeout", "5s")),
        python_path=tuple(
            root / p for p in _strings(table.get("pythonpath", ["."]), "pythonpath", where)
        ),
        pyproject=path,
    )


def private_dir(root: Path) -> Path:
    """The project's ``.dibs/`` folder (embedded server, caches), created git-ignored."""
    folder = root / ".dibs"
    folder.mkdir(exist_ok=True)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n")
    return folder
