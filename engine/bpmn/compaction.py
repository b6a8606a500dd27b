"""Keep the task tree small so per-step cost does not grow with history.

SpiffWorkflow appends a new branch every time a flow loops back, so the tree gets one level deeper
per iteration; its task iterator stops at depth 1000 and the instance stalls. History lives in our
own tables (human tasks, audit), so the engine only needs, above the unfinished frontier, the most
recent occurrence of each step on the path taken (send-back targets). Everything older is dropped.
"""
from __future__ import annotations

from itertools import pairwise
from typing import Any

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState


def _ancestor_chain(task: Task) -> list[Task]:
    chain = []
    current: Task | None = task
    while current is not None:
        chain.append(current)
        current = current.parent
    return chain


def _frontier_ancestor(tasks: list[Task]) -> Task:
    """Deepest task that is an ancestor-or-self of every task given."""
    chain = _ancestor_chain(tasks[0])
    position = {t.id: i for i, t in enumerate(chain)}
    highest = 0
    for task in tasks[1:]:
        current: Task | None = task
        while current is not None and current.id not in position:
            current = current.parent
        if current is None:
            return chain[-1]
        highest = max(highest, position[current.id])
    return chain[highest]


def _kept_chain(anchor: Task) -> list[Task]:
    """The anchor, the most recent ancestor of each distinct step above it, and the tree root."""
    chain = _ancestor_chain(anchor)
    kept = [anchor]
    seen = {anchor.task_spec.name}
    for task in chain[1:-1]:
        if task.task_spec.name not in seen:
            seen.add(task.task_spec.name)
            kept.append(task)
    if len(chain) > 1:
        kept.append(chain[-1])
    return kept


def _subtree_ids(root: Task) -> set[Any]:
    keep = set()
    stack = [root]
    while stack:
        task = stack.pop()
        keep.add(task.id)
        stack.extend(task.children)
    return keep


def compact_tree(workflow: Any) -> int:
    """Drop finished history above the frontier of one (sub)workflow.

    The path above the frontier is spliced so that only the latest task of each step remains,
    linked child to parent; sibling branches of the path (cancelled or finished) are dropped.

    Args:
        workflow: a BpmnWorkflow or a subprocess workflow.

    Returns:
        How many tasks were removed.
    """
    unfinished = [t for t in workflow.tasks.values() if not t.has_state(TaskState.FINISHED_MASK)]
    if not unfinished:
        return 0
    anchor = _frontier_ancestor(unfinished)
    kept = _kept_chain(anchor)
    keep = _subtree_ids(anchor) | {t.id for t in kept}
    if len(keep) == len(workflow.tasks):
        return 0
    for child, parent in pairwise(kept):
        child._parent = parent.id
        parent._children = [child.id]
    removed = [tid for tid in workflow.tasks if tid not in keep]
    for tid in removed:
        del workflow.tasks[tid]
    if workflow.last_task is not None and workflow.last_task.id not in keep:
        workflow.last_task = None
    return len(removed)


def compact_workflow(workflow: BpmnWorkflow) -> int:
    """Compact the top workflow and every subprocess, and forget subprocesses of dropped tasks."""
    removed = compact_tree(workflow)
    for subprocess in list(workflow.subprocesses.values()):
        removed += compact_tree(subprocess)
    _forget_orphan_subprocesses(workflow)
    return removed


def _forget_orphan_subprocesses(workflow: BpmnWorkflow) -> None:
    # Membership, not get_task_from_id: the top workflow raises TaskNotFoundException for an unknown id.
    # Repeat until stable: dropping a subprocess orphans the subprocesses started from its tasks.
    while True:
        live = set(workflow.tasks).union(*(set(sub.tasks) for sub in workflow.subprocesses.values()))
        orphans = [task_id for task_id in workflow.subprocesses if task_id not in live]
        if not orphans:
            return
        for task_id in orphans:
            del workflow.subprocesses[task_id]
