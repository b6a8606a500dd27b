"""The audit log for the audit admin: read and verify only (there is no write or delete endpoint)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query

import engine
from api.deps import Ctx, CurrentSubject
from api.schemas.identity import ChainOut

router = APIRouter(prefix="/api/audit", tags=["audit"])


@router.get("/records", response_model=list[engine.AuditEntry])
def records(
    ctx: Ctx,
    subject: CurrentSubject,
    actor: str | None = Query(None, max_length=100),
    action: str | None = Query(None, max_length=50),
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0),
) -> list[engine.AuditEntry]:
    return engine.list_audit_records(
        ctx, subject, actor=actor, action=action, since=since, until=until, limit=limit, offset=offset
    )


@router.get("/verify", response_model=ChainOut)
def verify(ctx: Ctx, subject: CurrentSubject) -> ChainOut:
    report = engine.verify_audit_log(ctx, subject)
    return ChainOut(
        ok=report.ok, checked=report.checked, first_bad_seq=report.first_bad_seq, problem=report.problem
    )
