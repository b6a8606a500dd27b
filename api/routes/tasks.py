"""The caller's tasks: list, read (form + data as this step may see them), complete."""
from __future__ import annotations

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

import engine
from api.deps import Ctx, CurrentSubject
from api.schemas.workflow import CompleteIn, CompleteOut, InstanceOut, TaskDetailOut, TaskOut

router = APIRouter(prefix="/api/tasks", tags=["tasks"])


# The hot handlers are `async def` and hop to the thread pool only for the engine call: FastAPI runs a
# plain `def` handler in the pool and then validates its answer in the pool again (a second hop).
@router.get("", response_model=list[TaskOut])
async def list_tasks(ctx: Ctx, subject: CurrentSubject, state: str = Query("open", pattern="^(open|completed)$"),
                     limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0)) -> list[TaskOut]:
    views = await run_in_threadpool(engine.list_tasks, ctx, subject, state=state, limit=limit, offset=offset)
    return [TaskOut.model_validate(v, from_attributes=True) for v in views]


@router.get("/{task_id}", response_model=TaskDetailOut, response_model_by_alias=True)
def show(task_id: str, ctx: Ctx, subject: CurrentSubject) -> TaskDetailOut:
    d = engine.get_task(ctx, task_id, subject)
    return TaskDetailOut(task=TaskOut.model_validate(d.task, from_attributes=True), schema=d.schema, ui=d.ui,
                         data=d.data, outcomes=d.outcomes, readonly=d.readonly,
                         instance=InstanceOut.model_validate(d.instance, from_attributes=True))


@router.post("/{task_id}/complete", response_model=CompleteOut)
async def complete(task_id: str, body: CompleteIn, ctx: Ctx, subject: CurrentSubject) -> CompleteOut:
    result = await run_in_threadpool(engine.complete_task, ctx, task_id, subject, outcome=body.outcome,
                                     data=body.data, reason=body.reason)
    return CompleteOut(instance=InstanceOut.model_validate(result.instance, from_attributes=True),
                       created=[TaskOut.model_validate(t, from_attributes=True) for t in result.created])
