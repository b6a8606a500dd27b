"""Small factories for the operations tests: users, deployments, starting and walking instances."""
from __future__ import annotations

from engine import Subject, complete_task, deploy, get_instance, list_tasks, start_instance
from tests.conftest import read_bundle

ALICE = Subject("alice", {"h1": frozenset({"staff"})})
HEAD = Subject("dr_wang", {"h1": frozenset({"dept_head"})})
HEAD2 = Subject("dr_li", {"h1": frozenset({"dept_head"})})
FINANCE = Subject("fin_li", {"h1": frozenset({"finance"})})
MEDICAL = Subject("med_zhao", {"h1": frozenset({"medical_affairs"})})
ARCHIVIST = Subject("archivist")
ADMIN = Subject("root", {"h1": frozenset({"process_admin"})})
STRANGER = Subject("mallory", {"h2": frozenset({"dept_head"})})
EXPERTS = {n: Subject(n) for n in ("e1", "e2", "e3", "e4")}
E1, E2, E3, E4 = EXPERTS.values()
VALID = {"applicant_name": "张三", "amount": 1200, "reason": "购买耗材"}


# Bundle file -> the key of the process it starts (files whose top-level process id differs).
KEYS = {"subprocess": "withsub", "callactivity": "withcall", "embedded_review": "withembedded"}


def start(ctx, process: str, **data):
    deploy(ctx, read_bundle(f"{process}.bpmn"), actor="admin")
    view = start_instance(ctx, KEYS.get(process, process), initiator="alice", institution="h1", data=data)
    complete_task(ctx, view.open_tasks[0].id, ALICE, data=VALID)
    return get_instance(ctx, view.id)


def task_of(ctx, subject, instance_id=None, node_id=None):
    tasks = [t for t in list_tasks(ctx, subject, limit=500)
             if (instance_id is None or t.instance_id == instance_id) and (node_id is None or t.node_id == node_id)]
    assert len(tasks) == 1, tasks
    return tasks[0]


def open_nodes(ctx, instance_id):
    return sorted((t.node_id, t.assignee) for t in get_instance(ctx, instance_id).open_tasks)


def states(ctx, instance_id):
    return [(t.node_id, t.state, t.outcome) for t in get_instance(ctx, instance_id).history]


def reopened(ctx):
    """A new engine over the same database: nothing cached, every workflow restored from stored state."""
    import dataclasses

    from engine.bpmn.runtime import BpmnRuntime
    from engine.bpmn.script_env import make_script_engine
    from engine.context import SpecCache
    return dataclasses.replace(ctx, specs=SpecCache(), runtime=BpmnRuntime(lambda: make_script_engine(1.0)))


def ready_spiff_tasks(ctx, instance_id):
    """READY user tasks in the stored workflow state (restored from the database)."""
    from engine.models import Definition, Instance
    with ctx.db.unit_of_work() as session:
        instance = session.get(Instance, instance_id)
        definition = session.get(Definition, instance.definition_id)
        workflow = ctx.runtime.restore(ctx.specs.get(definition, ctx.runtime),
                                       instance.state)
        return [s.node_id for s in ctx.runtime.ready_steps(workflow)]
