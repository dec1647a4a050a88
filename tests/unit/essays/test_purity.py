"""The essay logic stays plain Python: no framework, service client or settings import."""

from __future__ import annotations

import ast
from pathlib import Path

import essays

FORBIDDEN_ROOTS = {"celery", "kombu", "redis", "sqlalchemy", "alembic", "psycopg", "fastapi", "starlette"}
ALLOWED_ELS = {"els.errors", "els.jsontypes"}
INTERNAL_ROOTS = {"coordinator", "db", "tasks", "worker", "api"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_essays_imports_no_framework_no_edge_and_no_settings() -> None:
    package = Path(essays.__file__).parent
    offending: list[str] = []
    for path in sorted(package.glob("*.py")):
        for name in imported_modules(path):
            root = name.split(".")[0]
            if root in FORBIDDEN_ROOTS | INTERNAL_ROOTS or (root == "els" and name not in ALLOWED_ELS):
                offending.append(f"{path.name}: {name}")
    assert offending == []
