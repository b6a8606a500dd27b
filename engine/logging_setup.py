"""Named, structured, PHI-safe logging.

SpiffWorkflow attaches full task data to its `spiff.task` records; in a hospital that is patient
data, so those attributes are stripped and the library loggers are held at INFO or higher.
"""
from __future__ import annotations

import logging

PHI_ATTRIBUTES = ("data", "internal_data", "task_data")
SPIFF_LOGGERS = ("spiff", "spiff.task", "spiff.workflow")


class DropTaskData(logging.Filter):
    """Removes task data from log records before any handler sees them."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name in PHI_ATTRIBUTES:
            if name in record.__dict__:
                del record.__dict__[name]
        return True


_FILTER = DropTaskData()


def configure_logging(level: int = logging.INFO) -> None:
    """Idempotent: set library logger levels and attach the PHI filter."""
    for name in SPIFF_LOGGERS:
        logger = logging.getLogger(name)
        logger.setLevel(max(level, logging.INFO))
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
    root = logging.getLogger()
    for handler in root.handlers:
        if _FILTER not in handler.filters:
            handler.addFilter(_FILTER)
