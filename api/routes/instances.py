"""Start and read process instances."""
from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

import engine
from api.deps import Ctx, CurrentSubject
from api.schemas.workflow import InstanceOut, StartIn

router = APIRouter(prefix="/api", tags=["instances"])


@router.post("/processes/{process_key}/instances", response_model=InstanceOut, status_code=201)
async def start(process_key: str, body: StartIn, ctx: Ctx, subject: CurrentSubject) -> InstanceOut:
    """Start as the signed-in user, who needs one of the process's start roles in that institution.

    `async def` with one hop for the engine call (see api/routes/tasks.py)."""
    view = await run_in_threadpool(engine.start_with_form, ctx, process_key, subject, institution=body.institution,
                                   data=body.data, business_key=body.business_key,
                                   idempotency_key=body.idempotency_key)
    return InstanceOut.model_validate(view, from_attributes=True)


@router.get("/instances/{instance_id}", response_model=InstanceOut)
def show(instance_id: str, ctx: Ctx, subject: CurrentSubject) -> InstanceOut:
    """The instance, for those who may read it (as the instance page)."""
    return InstanceOut.model_validate(engine.get_instance(ctx, instance_id, subject=subject), from_attributes=True)
