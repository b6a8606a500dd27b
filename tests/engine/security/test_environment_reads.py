"""engine/ reads no environment outside config.py (the import rule lives in tests/engine/test_public_api.py)."""
from __future__ import annotations

import ast
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[3] / "engine"


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
