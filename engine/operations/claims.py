"""认领 / 取消认领: take a pooled task for yourself, or give it back to the pool."""
from __future__ import annotations

from sqlalchemy.orm import Session

from engine.context import EngineContext
from engine.errors import Conflict
from engine.models import HumanTask, TaskCandidate
from engine.operations._common import load_task, record, require_open
from engine.permissions import authorize, run_command
from engine.signing import touch
from engine.subject import Subject
from engine.views import TaskView


def returnable(subject: Subject, task: HumanTask) -> bool:
    """The subject holds the task and it came from a pool (candidate role, or several named users)."""
    pooled = subject.has_any_role(task.institution, task.candidate_roles or []) or \
        (len(task.candidate_users or []) > 1 and subject.username in task.candidate_users)
    return task.assignee == subject.username and pooled


def claim_task(ctx: EngineContext, task_id: str, subject: Subject, *, reason: str = "") -> TaskView:
    """Assign a pooled task (candidate roles/users, no assignee) to the subject.

    Raises:
        NotFound, AccessDenied (not a candidate), Conflict (already assigned or not open).
    """

    def command(session: Session) -> TaskView:
        loaded = load_task(session, task_id)
        task = loaded.task
        require_open(task, loaded.instance)
        if task.assignee:
            raise Conflict("任务已被认领 (task already assigned)", task_id=task_id, assignee=task.assignee)
        authorize(ctx, session, subject, "claim", task=task, instance=loaded.instance)
        task.assignee = subject.username
        touch(session, loaded.instance, ctx.clock.now())  # two claimers at once: the second one conflicts
        session.merge(TaskCandidate(task_id=task.id, kind="user", value=subject.username,
                                    institution=task.institution))
        record(ctx, session, subject, "task.claim", instance=loaded.instance, task=task, reason=reason)
        return TaskView.of(task)

    return run_command(ctx, command)


def unclaim_task(ctx: EngineContext, task_id: str, subject: Subject, *, reason: str = "") -> TaskView:
    """Give a claimed task back to its candidate pool.

    Raises:
        AccessDenied (not the assignee), Conflict (not open, or the step has no pool to return to).
    """

    def command(session: Session) -> TaskView:
        loaded = load_task(session, task_id)
        task = loaded.task
        require_open(task, loaded.instance)
        authorize(ctx, session, subject, "unclaim", task=task, instance=loaded.instance)
        if not returnable(subject, task):
            raise Conflict("该任务不能退回任务池 (task was not claimed from a pool)", task_id=task_id)
        task.assignee = None
        touch(session, loaded.instance, ctx.clock.now())
        if subject.username not in (task.candidate_users or []):
            session.query(TaskCandidate).filter_by(task_id=task.id, kind="user", value=subject.username).delete()
        record(ctx, session, subject, "task.unclaim", instance=loaded.instance, task=task, reason=reason)
        return TaskView.of(task)

    return run_command(ctx, command)
