"""Placeholder (replaced by the full deploy-time validator on merge)."""
from collections.abc import Callable

from engine.errors import Diagnostic


def validate_bundle(files: dict[str, bytes], parse: Callable[[dict[str, bytes]], object] | None = None) -> list[Diagnostic]:
    if parse is None:
        return []
    try:
        parse(files)
    except Exception as exc:  # noqa: BLE001
        return [Diagnostic(str(exc).split("\n")[0], element_id=getattr(exc, "id", None),
                           line=getattr(exc, "line_number", None))]
    return []


def format_diagnostics(diagnostics: list[Diagnostic]) -> str:
    return "\n".join(f"{d.severity}: {d.file or ''}:{d.line or ''} [{d.element_id or '-'}] {d.message}" for d in diagnostics)
