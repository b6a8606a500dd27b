"""Workflow state (de)serialization that keeps the process spec out of every instance row.

The spec is stored once per definition version; an instance row only holds its task tree and data.
Form fields marked ``x-sensitive`` are sealed in that data on dump and opened on load
(engine/security/form_fields.py): the stored text never holds them in plain, the live workflow always does.
"""
from __future__ import annotations

import json
import weakref
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG

from engine.bpmn.specs.connector_task import ConnectorTask, ConnectorTaskConverter
from engine.security.form_fields import PREFIX, FormFieldCodec, SensitiveFields

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
        self.codec: FormFieldCodec | None = None  # set by EngineContext; None: nothing is sealed
        self._sensitive: weakref.WeakKeyDictionary[Any, SensitiveFields] = weakref.WeakKeyDictionary()

    def mark_sensitive(self, spec: Any, fields: SensitiveFields) -> None:
        """Seal `fields` in the state of every workflow of this (top-level) spec from now on."""
        self._sensitive[spec] = fields

    def sensitive_fields(self, spec: Any) -> SensitiveFields | None:
        return self._sensitive.get(spec)

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
        fields = self._sensitive.get(workflow.spec)
        if fields and self.codec is not None:
            _each_data(dct, lambda data, memo: self.codec.seal(data, fields, memo))  # type: ignore[union-attr]
        dct[BpmnWorkflowSerializer.VERSION_KEY] = STATE_FORMAT_VERSION
        return json.dumps(dct, ensure_ascii=False, separators=(",", ":"))

    def load_state(self, text: str, spec: Any, subprocess_specs: dict[str, Any]) -> BpmnWorkflow:
        dct = json.loads(text)
        version = dct.pop(BpmnWorkflowSerializer.VERSION_KEY, None)
        if version != STATE_FORMAT_VERSION:
            raise ValueError(f"unknown stored workflow format {version!r}")
        if self.codec is not None and f'"{PREFIX}v' in text:  # states saved before sealing load as they are
            _each_data(dct, self.codec.unseal)
        return self.registry.restore(dct, spec=spec, subprocess_specs=subprocess_specs)

    def reseal_state(self, text: str) -> tuple[str, int] | None:
        """A stored state with the values sealed under an old key version sealed again under the current one.

        Works on the JSON alone (no spec, so finished instances and retired definitions too) and keeps
        everything else as it was. Returns the new text and the number of values re-sealed, or None
        when nothing was under an old key.
        """
        if self.codec is None or f'"{PREFIX}v' not in text:
            return None
        codec = self.codec
        resealed: dict[tuple[str, str], str] = {}
        dct = json.loads(text)
        _each_data(dct, lambda data, memo: codec.reseal(data, memo=resealed))
        if not resealed:
            return None
        return json.dumps(dct, ensure_ascii=False, separators=(",", ":")), len(resealed)


def _each_data(dct: dict[str, Any], change: Any) -> None:
    """Replace every data dict of a converted state with `change(data, memo)`: the workflows' data, a root
    task's data and the other tasks' `delta.updates` (SpiffWorkflow stores a child's top-level changes)."""
    memo: dict[tuple[str, str], str] = {}
    for workflow in (dct, *(dct.get("subprocesses") or {}).values()):
        if isinstance(workflow.get("data"), dict):
            workflow["data"] = change(workflow["data"], memo=memo)
        for task in (workflow.get("tasks") or {}).values():
            if task.get("data"):
                task["data"] = change(task["data"], memo=memo)
            delta = task.get("delta")
            if delta and delta.get("updates"):
                delta["updates"] = change(delta["updates"], memo=memo)
