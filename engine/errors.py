"""Engine error hierarchy. The API translates these in exactly one place (api/errors.py)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class EngineError(Exception):
    """Base class for every error the engine raises on purpose."""

    code = "engine_error"

    def __init__(self, message: str, **detail: Any) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail

    def to_dict(self) -> dict[str, Any]:
        return {"error": type(self).__name__, "code": self.code, "message": self.message, **self.detail}


class NotFound(EngineError):
    code = "not_found"


class Conflict(EngineError):
    """Stale version, task no longer ready, duplicate key: retry or reload."""

    code = "conflict"


class PermissionDenied(EngineError):
    code = "permission_denied"
    # True once the refusal is in the audit trail where it was decided; the API's safety net then skips it.
    audited = False


class AuthenticationFailed(EngineError):
    code = "authentication_failed"


class RateLimited(EngineError):
    code = "rate_limited"


@dataclass(frozen=True)
class Diagnostic:
    """One finding about a definition: where (element id, line) and what, in plain language."""

    message: str
    element_id: str | None = None
    line: int | None = None
    severity: str = "error"  # "error" blocks deployment, "warning" does not
    file: str | None = None
    rule: str = "invalid"

    def to_dict(self) -> dict[str, Any]:
        return {
            "message": self.message,
            "element_id": self.element_id,
            "line": self.line,
            "severity": self.severity,
            "file": self.file,
            "rule": self.rule,
        }


class InvalidDefinition(EngineError):
    """A BPMN/DMN/form bundle cannot be deployed; carries the diagnostics."""

    code = "invalid_definition"

    def __init__(self, message: str, diagnostics: list[Diagnostic]) -> None:
        super().__init__(message)
        self.diagnostics = diagnostics

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "diagnostics": [d.to_dict() for d in self.diagnostics]}


@dataclass(frozen=True)
class FieldError:
    """A form validation error mapped to one field (JSON pointer)."""

    pointer: str
    message: str
    validator: str = ""


class ValidationFailed(EngineError):
    """Submitted data does not satisfy the step's form; carries field-level errors."""

    code = "validation_failed"

    def __init__(self, message: str, errors: list[FieldError]) -> None:
        super().__init__(message)
        self.errors = errors

    def to_dict(self) -> dict[str, Any]:
        return {
            **super().to_dict(),
            "fields": [{"pointer": e.pointer, "message": e.message, "validator": e.validator} for e in self.errors],
        }


@dataclass
class ScriptError(EngineError):
    """A script or condition inside a BPMN failed at run time (keeps SpiffWorkflow's trace)."""

    message: str
    element_id: str | None = None
    line: int | None = None
    task_trace: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    code = "script_error"

    def __post_init__(self) -> None:
        Exception.__init__(self, self.message)
        self.detail = {}

    def to_dict(self) -> dict[str, Any]:
        return {
            "error": "ScriptError",
            "code": self.code,
            "message": self.message,
            "element_id": self.element_id,
            "line": self.line,
            "task_trace": self.task_trace,
            "notes": self.notes,
        }
