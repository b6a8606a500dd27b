"""Every query that lists tasks for a user goes through `visible_tasks` (one authorization filter)."""
from __future__ import annotations

from sqlalchemy import Select, literal, or_, select, union_all

from engine.models import Grant, HumanTask, Instance, TaskCandidate
from engine.models import human_task as ht
from engine.subject import Subject

# `state = 'open'` rendered into the SQL, not bound: the partial index ix_human_tasks_open (WHERE state =
# 'open') is only usable when the planner can see the value. A bound parameter would also let PostgreSQL
# switch a prepared statement to a generic plan that cannot use it.
OPEN_STATE = literal(ht.OPEN, literal_execute=True)


def _candidate_ids(subject: Subject) -> list[Select]:
    ids = [select(TaskCandidate.task_id).where(TaskCandidate.kind == "user",
                                               TaskCandidate.value == subject.username)]
    for institution, roles in sorted(subject.roles.items()):
        if roles:
            # One branch per institution, each an index range on ix_task_candidates_visible (covering).
            ids.append(select(TaskCandidate.task_id).where(
                TaskCandidate.kind == "role", TaskCandidate.value.in_(sorted(roles)),
                TaskCandidate.institution == institution))
    return ids


def candidate_filter(subject: Subject):  # noqa: ANN201 - SQLAlchemy expression
    """Tasks a subject may see as a candidate: named user, or a role they hold in the task's institution.

    An uncorrelated `id IN (SELECT task_id …)`: the databases build the candidate set once instead of
    probing task_candidates per task (a 10,000-task inbox: bench/inbox_page.py).
    """
    ids = _candidate_ids(subject)
    return HumanTask.id.in_(union_all(*ids) if len(ids) > 1 else ids[0])


def visible_tasks(subject: Subject, *, state: str = ht.OPEN) -> Select[tuple[HumanTask]]:
    """Open tasks assigned to the subject or claimable through their roles/user candidacy.

    The open-task filter is driven by one id set (assigned to me ∪ my candidacies) rather than an OR:
    with 100,000 open tasks PostgreSQL otherwise scans human_tasks (bench/inbox_scale.py, count query
    314 ms -> 14 ms median).
    """
    if state == ht.OPEN:
        query = select(HumanTask).where(HumanTask.state == OPEN_STATE)
        mine = select(HumanTask.id).where(HumanTask.assignee == subject.username, HumanTask.state == ht.OPEN)
        return query.where(HumanTask.id.in_(union_all(mine, *_candidate_ids(subject))),
                           or_(HumanTask.assignee == subject.username, HumanTask.assignee.is_(None)))
    return select(HumanTask).where(HumanTask.state == state, HumanTask.completed_by == subject.username)


def cc_instances(subject: Subject) -> Select[tuple[Instance]]:
    """Instances copied to the subject (抄送我的): an active CC grant, newest first."""
    granted = select(Grant.instance_id).where(Grant.grantee == subject.username, Grant.kind == "cc",
                                              Grant.revoked_at.is_(None))
    return select(Instance).where(Instance.id.in_(granted)).order_by(Instance.created_at.desc(), Instance.id)
