"""Patient data in task data never reaches log records."""
from __future__ import annotations

import logging

from engine import Subject, complete_task, deploy, start_instance
from engine.logging_setup import configure_logging
from tests.conftest import read_bundle

SECRET = "身份证110101199001011234"


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_no_log_record_carries_task_data(ctx):
    configure_logging()
    handler = _Collect()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        deploy(ctx, read_bundle("approval.bpmn"), actor="admin")
        view = start_instance(ctx, "approval", initiator="alice", institution="h1", data={"note": SECRET})
        complete_task(ctx, view.open_tasks[0].id, Subject("alice"),
                      data={"applicant_name": SECRET[:5], "amount": 1, "reason": SECRET})
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    assert handler.records, "expected engine log records"
    for record in handler.records:
        assert not hasattr(record, "data") and not hasattr(record, "internal_data")
        assert SECRET not in record.getMessage()
        assert SECRET not in repr(record.__dict__)
    assert logging.getLogger("spiff.task").getEffectiveLevel() >= logging.INFO
