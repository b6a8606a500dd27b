"""Guarded send-back: find completed user steps on the path actually taken and reset to one of them.

SpiffWorkflow's `reset_from_task_id` accepts any task (also unreached or off-path ones) and drops the
tree below it. We only allow COMPLETED user tasks that are ancestors of the task sending back (the
path taken, crossing out of embedded subprocesses). What the reset drops stays in our own tables.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException, TaskNotFoundException
from SpiffWorkflow.specs.Join import Join
from SpiffWorkflow.util.task import TaskState

from engine.errors import Conflict, NotFound


@dataclass(frozen=True)
class PathStep:
    """A completed user task on the path above a task, nearest first."""

    task_id: str
    node_id: str


def _task(workflow: BpmnWorkflow, task_id: str) -> Any:
    task = workflow.get_task_from_id(UUID(task_id))
    if task is None:
        raise NotFound("任务不在流程中 (task not in workflow)", task_id=task_id)
    return task


def path_steps(workflow: BpmnWorkflow, task_id: str) -> list[PathStep]:
    """Completed user tasks above `task_id`, nearest first, leaving subprocesses upwards."""
    found: list[PathStep] = []
    current = _task(workflow, task_id).parent
    while current is not None:
        spec = current.task_spec
        if getattr(spec, "manual", False) and current.has_state(TaskState.COMPLETED):
            found.append(PathStep(str(current.id), spec.bpmn_id))
        parent = current.parent
        if parent is None and current.workflow.parent_task_id is not None:
            parent = workflow.get_task_from_id(current.workflow.parent_task_id)
        current = parent
    return found


def reached_after(workflow: BpmnWorkflow, task_id: str) -> list[Any]:
    """The reached (not merely predicted) tasks after `task_id` on its own path.

    That is its descendants, the inside of embedded subprocesses they started, and what follows the
    end of the subprocess `task_id` sits in. Sibling parallel branches are not after it.
    """
    current = _task(workflow, task_id)
    stack = list(current.children)
    while current.workflow.parent_task_id is not None:
        current = workflow.get_task_from_id(current.workflow.parent_task_id)
        stack.extend(current.children)
    found: list[Any] = []
    while stack:
        task = stack.pop()
        if task.has_state(TaskState.PREDICTED_MASK | TaskState.FUTURE):
            continue  # not reached yet, and neither is anything below it
        found.append(task)
        stack.extend(task.children)
        if task.id in workflow.subprocesses:
            stack.append(workflow.subprocesses[task.id].task_tree)
    return found


def merged_join(tasks: list[Any]) -> str | None:
    """The BPMN id of a join among `tasks` that has already fired (or merged this thread into another
    one's firing), if any. Past a fired join the branches are one flow again, and compaction drops the
    branch that did not carry it, so a single branch can no longer be rewound alone.
    """
    for task in tasks:
        spec = task.task_spec
        if isinstance(spec, Join) and len(spec.inputs) > 1 \
                and task.has_state(TaskState.COMPLETED | TaskState.CANCELLED):
            return str(spec.bpmn_id)
    return None


def is_done_step(workflow: BpmnWorkflow, task_id: str) -> bool:
    """Whether `task_id` is a completed user task still in the workflow (not reset away)."""
    try:
        task = workflow.get_task_from_id(UUID(task_id))
    except TaskNotFoundException:
        return False
    return getattr(task.task_spec, "manual", False) and task.has_state(TaskState.COMPLETED)


def reset_to(workflow: BpmnWorkflow, from_task_id: str, target_task_id: str, data: dict[str, Any]) -> None:
    """Reset the workflow to a completed step on the path of `from_task_id`, with `data` prefilled.

    `from_task_id == target_task_id` resets a completed user step to itself (撤回 of one's own step).

    Raises:
        Conflict: the target is not a completed user step on the path taken.
    """
    if from_task_id == target_task_id:
        allowed = is_done_step(workflow, target_task_id)
    else:
        allowed = target_task_id in {s.task_id for s in path_steps(workflow, from_task_id)}
    if not allowed:
        raise Conflict("目标步骤不在已走过的路径上 (target step is not on the path taken)",
                       target=target_task_id)
    try:
        workflow.reset_from_task_id(UUID(target_task_id), data=data)
    except SpiffWorkflowException as exc:
        raise Conflict(f"无法退回 (cannot reset): {exc}") from None


def ready_data(workflow: BpmnWorkflow, task_id: str) -> dict[str, Any]:
    """The live data dict of a READY task (callers may update it before dumping the state)."""
    task = _task(workflow, task_id)
    if not task.has_state(TaskState.READY):
        raise Conflict("任务当前不可办理 (task is not ready)", task_id=task_id)
    return task.data
