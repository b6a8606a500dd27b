"""The audit log as the audit admin sees it: read-only listing and chain verification.

Only ``audit:read`` (audit_admin) may read; every read and verification is itself audited.
There is no command that edits or deletes audit records.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from engine import audit
from engine.context import EngineContext
from engine.identity._common import record_now
from engine.identity.policy import require
from engine.identity.views import AuditEntry
from engine.models import AuditRecord
from engine.subject import Subject


def list_audit_records(
    ctx: EngineContext,
    subject: Subject,
    *,
    actor: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[AuditEntry]:
    """Audit records newest first, filtered (``audit:read`` on ``*``; the read is audited).

    Raises:
        PermissionDenied: Any role but audit_admin (audited as ``access.denied``).
    """
    require(ctx, subject, "*", "audit", "read", command="list_audit_records")
    record_now(
        ctx,
        actor=subject.username,
        action="audit.read",
        details={"actor": actor, "action": action, "limit": limit, "offset": offset},
    )
    query = select(AuditRecord).order_by(AuditRecord.seq.desc()).limit(min(limit, 1000)).offset(offset)
    if actor:
        query = query.where(AuditRecord.actor == actor)
    if action:
        query = query.where(AuditRecord.action.like(f"{action}%"))
    if since:
        query = query.where(AuditRecord.at >= since)
    if until:
        query = query.where(AuditRecord.at < until)
    with ctx.db.unit_of_work() as session:
        return [
            AuditEntry(
                r.seq,
                r.at,
                r.actor,
                r.action,
                r.instance_id,
                r.task_id,
                r.reason,
                dict(r.details or {}),
                r.hash,
            )
            for r in session.scalars(query).all()
        ]


def verify_audit_log(ctx: EngineContext, subject: Subject) -> audit.ChainReport:
    """Recompute the hash chain (``audit:read``); the verification and its result are audited."""
    require(ctx, subject, "*", "audit", "read", command="verify_audit_log")
    with ctx.db.unit_of_work() as session:
        report = audit.verify_chain(session)
    record_now(
        ctx,
        actor=subject.username,
        action="audit.verified",
        details={"ok": report.ok, "checked": report.checked, "first_bad_seq": report.first_bad_seq},
    )
    return report
