"""Errors a job handler raises to tell the worker whether to retry."""
from __future__ import annotations

from typing import Any


class JobError(Exception):
    """A failed job run. `retryable=False` goes straight to an incident; `response` is kept on it."""

    def __init__(self, message: str, *, retryable: bool = True, response: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.response = response
