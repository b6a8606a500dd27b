"""Workflow state (de)serialization that keeps the process spec out of every instance row.

The spec is stored once per definition version; an instance row only holds its task tree and data.
"""
from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG

from engine.bpmn.specs.connector_task import ConnectorTask, ConnectorTaskConverter

STATE_FORMAT_VERSION = "hwf-1"


class InstanceStateConverter(BpmnWorkflowConverter):
    """Converts a top-level workflow to a dict without `spec`/`subprocess_specs`."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict[str, Any], spec: Any = None, subprocess_specs: Any = None) -> BpmnWorkflow:
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def build_registry() -> Any:
    """A serializer registry: SpiffWorkflow's Camunda config (copied) plus our state converter."""
    config = {**CAMUNDA_CONFIG, BpmnWorkflow: InstanceStateConverter, ConnectorTask: ConnectorTaskConverter}
    return BpmnWorkflowSerializer.configure(config)


class StateSerializer:
    """Serialize specs once and instance state many times."""

    def __init__(self) -> None:
        self.registry = build_registry()

    def dump_specs(self, spec: Any, subprocess_specs: dict[str, Any]) -> str:
        return json.dumps(
            {
                "spec": self.registry.convert(spec),
                "subprocess_specs": {name: self.registry.convert(s) for name, s in subprocess_specs.items()},
            }
        )

    def load_specs(self, text: str) -> tuple[Any, dict[str, Any]]:
        dct = json.loads(text)
        subs = {name: self.registry.restore(s) for name, s in dct["subprocess_specs"].items()}
        return self.registry.restore(dct["spec"]), subs

    def dump_state(self, workflow: BpmnWorkflow) -> str:
        dct = self.registry.convert(workflow)
        dct[BpmnWorkflowSerializer.VERSION_KEY] = STATE_FORMAT_VERSION
        return json.dumps(dct, ensure_ascii=False, separators=(",", ":"))

    def load_state(self, text: str, spec: Any, subprocess_specs: dict[str, Any]) -> BpmnWorkflow:
        dct = json.loads(text)
        version = dct.pop(BpmnWorkflowSerializer.VERSION_KEY, None)
        if version != STATE_FORMAT_VERSION:
            raise ValueError(f"unknown stored workflow format {version!r}")
        return self.registry.restore(dct, spec=spec, subprocess_specs=subprocess_specs)
