"""Admin handling of incidents: list, retry one or many, skip with a reason."""
from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter

import engine
from api.deps import Ctx, CurrentSubject, allowed_somewhere
from api.schemas.background import BulkRetryIn, ReasonIn, SkipIn

router = APIRouter(prefix="/api/incidents", tags=["incidents"],
                   dependencies=[allowed_somewhere("incident", "admin")])


@router.get("", response_model=list[engine.IncidentView])
def list_(ctx: Ctx, subject: CurrentSubject, status: str | None = "open", connector: str | None = None,
          since: datetime | None = None, instance_id: str | None = None, limit: int = 100) -> list[engine.IncidentView]:
    rows = engine.list_incidents(ctx, status=status or None, connector=connector, since=since,
                                 instance_id=instance_id, limit=min(limit, 500))
    return rows


@router.post("/{incident_id}/retry", response_model=engine.IncidentView)
def retry(incident_id: str, body: ReasonIn, ctx: Ctx, subject: CurrentSubject) -> engine.IncidentView:
    return engine.retry_incident(ctx, incident_id, actor=subject.username, reason=body.reason)


@router.post("/retry")
def retry_many(body: BulkRetryIn, ctx: Ctx, subject: CurrentSubject) -> dict[str, int]:
    """Retry the given ids, or every open incident of a connector since a time."""
    count = engine.retry_incidents(ctx, actor=subject.username, reason=body.reason, ids=body.ids,
                                   connector=body.connector, since=body.since)
    return {"retried": count}


@router.post("/{incident_id}/skip", response_model=engine.IncidentView)
def skip(incident_id: str, body: SkipIn, ctx: Ctx, subject: CurrentSubject) -> engine.IncidentView:
    return engine.skip_incident(ctx, incident_id, actor=subject.username, reason=body.reason, result=body.result)
