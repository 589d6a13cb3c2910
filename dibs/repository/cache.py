"""Fingerprint caches that keep ``dibs check`` fast: no import, no parse when nothing changed.

Two fingerprints cost real time: the declared schema's (importing the user's
modules canonicalises every type and expression with Postgres's parser) and
``schema.json``'s (rebuilding the model does the same). Both are pure
functions of file contents, so they are cached under ``.dibs/cache/`` keyed by
what they depend on:

* ``schema.json``: the SHA-256 of its text;
* the declaration: the SHA-256 of every Python file under the project root
  that was imported while loading the schema, plus the configured module
  names. A change to any of those files misses the cache.

Both keys also hold the modification times of the modules that decide the
canonical form, so upgrading (or editing) dibs never reuses a stale
fingerprint. A corrupt or unwritable cache is ignored.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

__all__ = ["FingerprintCache"]

_CANONICAL_MODULES = (
    "model.py",
    "canonical.py",
    "types.py",
    "expressions.py",
    "declare.py",
    "declare_columns.py",
    "declare_table.py",
    "markers.py",
    "naming.py",
    "validate.py",
)


def _dibs_stamp() -> str:
    """The mtimes of the modules that define the canonical form.

    An upgrade or an edit of dibs rewrites them, so a cache written by another
    dibs never matches (reading the installed version would cost an import of
    ``importlib.metadata`` on every run).
    """
    schema_dir = Path(__file__).resolve().parent.parent / "schema"
    stamp = "1"
    for name in _CANONICAL_MODULES:
        try:
            stamp += f":{os.stat(schema_dir / name).st_mtime_ns}"
        except OSError:
            stamp += ":-"
    return stamp


def _sha(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


class FingerprintCache:
    """A small JSON file of cached fingerprints (see module docstring)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.stamp = _dibs_stamp()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            self.data: dict[str, Any] = data if data.get("stamp") == self.stamp else {}
        except (OSError, ValueError, AttributeError):
            self.data = {}
        self.dirty = False

    def schema_file(self, path: Path, compute: Callable[[], str]) -> str:
        """Fingerprint of ``schema.json`` at ``path``, computed only when its text changed."""
        digest = _sha(path)
        cached = self.data.get("schema_json", {})
        if digest is not None and cached.get("sha256") == digest:
            return str(cached["fingerprint"])
        value = compute()
        if digest is not None:
            self.data["schema_json"] = {"sha256": digest, "fingerprint": value}
            self.dirty = True
        return value

    def declared(self, modules: Iterable[str], root: Path, compute: Callable[[], str]) -> str:
        """Fingerprint of the declared schema, recomputed only when a source file changed."""
        names = sorted(modules)
        cached = self.data.get("declared", {})
        files = cached.get("files")
        if (
            cached.get("modules") == names
            and isinstance(files, dict)
            and files
            and all(_sha(Path(f)) == h for f, h in files.items())
        ):
            return str(cached["fingerprint"])
        before = set(sys.modules)
        value = compute()
        loaded = _project_files(root, [sys.modules[m] for m in sys.modules if m not in before])
        loaded |= _project_files(root, [sys.modules[m] for m in names if m in sys.modules])
        hashes = {str(f): _sha(f) for f in sorted(loaded)}
        if loaded and all(hashes.values()):
            self.data["declared"] = {"modules": names, "files": hashes, "fingerprint": value}
            self.dirty = True
        return value

    def save(self) -> None:
        if not self.dirty:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps({**self.data, "stamp": self.stamp}), encoding="utf-8")
            tmp.replace(self.path)
        except OSError:
            pass


def _project_files(root: Path, modules: Iterable[Any]) -> set[Path]:
    """Source files of ``modules`` that live under the project root (not site-packages)."""
    root = root.resolve()
    found: set[Path] = set()
    for module in modules:
        file = getattr(module, "__file__", None)
        if not file:
            continue
        path = Path(file).resolve()
        if path.suffix == ".py" and path.is_relative_to(root) and "site-packages" not in path.parts:
            found.add(path)
    return found
