"""engine/ must not import web-framework or api code (STYLE.md rule 1)."""
from __future__ import annotations

import ast
from pathlib import Path

FORBIDDEN = ("fastapi", "starlette", "api", "jinja2", "flask")
ENGINE = Path(__file__).resolve().parents[3] / "engine"


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return names


def test_engine_has_no_web_imports() -> None:
    offenders = [
        f"{path.relative_to(ENGINE.parent)}: {name}"
        for path in ENGINE.rglob("*.py")
        for name in _imports(path)
        if name.split(".")[0] in FORBIDDEN
    ]
    assert offenders == []


def test_engine_reads_no_environment() -> None:
    """Only engine/config.py (the Settings object) may read the environment (STYLE.md rule 9)."""
    offenders = [
        str(path.relative_to(ENGINE.parent))
        for path in ENGINE.rglob("*.py")
        if path.name != "config.py"
        and any(
            isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv")
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        )
    ]
    assert offenders == []
