"""Service tasks as connector calls: the spec, its parser entry and its serializer converter.

A connector task never runs inline. Reaching it leaves the Spiff task STARTED (a wait state); the
engine writes a job row in the same transaction, a worker calls the connector after commit, and a
later command completes the task with the result (or records an incident).
"""
from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.serializer.helpers.spec import TaskSpecConverter
from SpiffWorkflow.bpmn.specs.mixins.bpmn_spec_mixin import BpmnSpecMixin
from SpiffWorkflow.specs.base import TaskSpec


class ConnectorTask(BpmnSpecMixin, TaskSpec):
    """`bpmn:serviceTask` with `camunda:topic` = connector name; parameters in `extensions`."""

    @property
    def connector(self) -> str | None:
        return (getattr(self, "extensions", {}) or {}).get("topic")

    def _run_hook(self, my_task: Any) -> None:
        return None  # stays STARTED until the engine completes it with the connector result


class ConnectorTaskConverter(TaskSpecConverter):
    def to_dict(self, spec: ConnectorTask) -> dict[str, Any]:
        return self.get_default_attributes(spec)

    def from_dict(self, dct: dict[str, Any]) -> ConnectorTask:
        return self.task_spec_from_dict(dct)
