"""Every query that lists tasks for a user goes through `visible_tasks` (one authorization filter)."""
from __future__ import annotations

from sqlalchemy import Select, and_, exists, or_, select

from engine.models import Grant, HumanTask, Instance, TaskCandidate
from engine.models import human_task as ht
from engine.subject import Subject


def candidate_filter(subject: Subject):  # noqa: ANN201 - SQLAlchemy expression
    """Tasks a subject may see as a candidate: named user, or a role they hold in the task's institution."""
    terms = [and_(TaskCandidate.kind == "user", TaskCandidate.value == subject.username)]
    for institution, roles in subject.roles.items():
        if roles:
            terms.append(and_(TaskCandidate.kind == "role", TaskCandidate.institution == institution,
                              TaskCandidate.value.in_(sorted(roles))))
    return exists().where(TaskCandidate.task_id == HumanTask.id, or_(*terms))


def visible_tasks(subject: Subject, *, state: str = ht.OPEN) -> Select[tuple[HumanTask]]:
    """Open tasks assigned to the subject or claimable through their roles/user candidacy."""
    query = select(HumanTask).where(HumanTask.state == state)
    if state == ht.OPEN:
        return query.where(or_(HumanTask.assignee == subject.username,
                               and_(HumanTask.assignee.is_(None), candidate_filter(subject))))
    return query.where(HumanTask.completed_by == subject.username)


def cc_instances(subject: Subject) -> Select[tuple[Instance]]:
    """Instances copied to the subject (抄送我的): an active CC grant, newest first."""
    granted = select(Grant.instance_id).where(Grant.grantee == subject.username, Grant.kind == "cc",
                                              Grant.revoked_at.is_(None))
    return select(Instance).where(Instance.id.in_(granted)).order_by(Instance.created_at.desc(), Instance.id)
