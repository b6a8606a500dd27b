"""Helpers for running a workflow in memory without the outside world (designer dry-run).

Pure SpiffWorkflow glue: which tasks finished since the last look, which automatic waits (connector
calls, timers, messages) block progress, and how to pretend they happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from SpiffWorkflow.util.task import TaskState

from engine.bpmn.events import fire_caught, is_multiple
from engine.bpmn.specs.connector_task import ConnectorTask


@dataclass(frozen=True)
class AutomaticWait:
    """A non-human task that would wait for the outside world in a real run."""

    task_id: str
    node_id: str
    kind: str  # "connector" | "event"


def _tasks(workflow: Any) -> list[Any]:
    tasks = list(workflow.tasks.values())
    for sub in workflow.subprocesses.values():
        tasks.extend(sub.tasks.values())
    return tasks


def finished_since(workflow: Any, seen: set[str]) -> list[str]:
    """BPMN ids of tasks completed since the last call (in completion order); `seen` is updated."""
    done = [
        t
        for t in _tasks(workflow)
        if t.has_state(TaskState.COMPLETED)
        and getattr(t.task_spec, "bpmn_id", None)
        and str(t.id) not in seen
    ]
    done.sort(key=lambda t: t.last_state_change)
    seen.update(str(t.id) for t in done)
    return [t.task_spec.bpmn_id for t in done]


def current_ids(workflow: Any) -> list[str]:
    """BPMN ids of tasks that are READY, WAITING or STARTED now."""
    mask = TaskState.READY | TaskState.WAITING | TaskState.STARTED
    return [
        t.task_spec.bpmn_id
        for t in _tasks(workflow)
        if t.has_state(mask) and getattr(t.task_spec, "bpmn_id", None)
    ]


def automatic_waits(workflow: Any) -> list[AutomaticWait]:
    """Connector tasks in flight and catch events (timer/message/signal) waiting, boundary events excluded."""
    waits = []
    for task in _tasks(workflow):
        spec = task.task_spec
        if not getattr(spec, "bpmn_id", None):
            continue
        if isinstance(spec, ConnectorTask) and task.has_state(TaskState.STARTED):
            waits.append(AutomaticWait(str(task.id), spec.bpmn_id, "connector"))
        elif (
            task.has_state(TaskState.WAITING)
            and hasattr(spec, "event_definition")
            and type(spec).__name__ != "BoundaryEvent"
            and not getattr(spec, "manual", False)
        ):
            waits.append(AutomaticWait(str(task.id), spec.bpmn_id, "event"))
    return waits


def pretend_done(workflow: Any, task_id: str, task_data: dict[str, dict[str, Any]]) -> None:
    """Complete an automatic wait as if its connector answered / its event arrived.

    `task_data` maps element ids to data merged in on the way. Behind an event-based gateway the branch
    whose catch event has an entry in `task_data` happens (else the first branch); a message branch
    gets its entry as the message payload.
    """
    task = workflow.get_task_from_id(UUID(task_id))
    if is_multiple(task):
        branches = [spec.bpmn_id for spec in task.task_spec.outputs]
        index = next((i for i, node in enumerate(branches) if node in task_data), 0)
        fire_caught(task, index, task_data.get(branches[index], {}))
        return
    task.data.update(task_data.get(task.task_spec.bpmn_id, {}))
    task.complete()
