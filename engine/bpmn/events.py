"""What a waiting catch task is waiting for.

SpiffWorkflow 3.2 models an event-based gateway as ONE waiting task whose event definition is a
`MultipleEventDefinition` holding the definitions of every catch event behind it (those events stay
MAYBE until the gateway picks one). Timers and message waits look through it with `caught_definitions`;
`fire_caught` makes one of them happen so the gateway takes that branch.
"""
from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition


def caught_definitions(task: Any) -> list[Any]:
    """The single event definitions `task` catches: its own, or each one behind an event-based gateway."""
    definition = task.task_spec.event_definition
    if isinstance(definition, MultipleEventDefinition):
        return list(definition.event_definitions)
    return [definition]


def is_multiple(task: Any) -> bool:
    return isinstance(task.task_spec.event_definition, MultipleEventDefinition)


def fire_caught(task: Any, index: int, payload: dict[str, Any] | None = None) -> None:
    """Record that the `index`-th definition behind a gateway happened and let the gateway run its branch.

    A message branch stores `payload` under the message name, as a real delivery does.
    """
    chosen = task.task_spec.event_definition.event_definitions[index]
    event = BpmnEvent(chosen, {"payload": payload or {}, "result_var": chosen.name}
                      if isinstance(chosen, MessageEventDefinition) else None)
    task._set_internal_data(seen_events=[*task.internal_data.get("seen_events", []), event])
    task.task_spec._update(task)
