"""Append to and verify the hash-chained audit trail."""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import AuditRecord

log = logging.getLogger("engine.audit")
GENESIS = "0" * 64
AUDIT_LOCK_KEY = 7_340_001
# Built once: every command appends.
_LAST = select(AuditRecord.seq, AuditRecord.hash).order_by(AuditRecord.seq.desc()).limit(1)
_COLUMNS = tuple(AuditRecord.__table__.columns)
_INSERT = AuditRecord.__table__.insert()


def digest(payload: Any) -> str:
    """sha256 of a canonical JSON rendering (the audit stores digests, never patient data)."""
    raw = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str, separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()


def _utc_text(at: datetime) -> str:
    if at.tzinfo is not None:
        at = at.astimezone(UTC).replace(tzinfo=None)
    return at.isoformat(timespec="microseconds")


def _record_hash(r: AuditRecord) -> str:
    body = {
        "seq": r.seq,
        "at": _utc_text(r.at),
        "actor": r.actor,
        "action": r.action,
        "instance_id": r.instance_id,
        "task_id": r.task_id,
        "reason": r.reason,
        "payload_digest": r.payload_digest,
        "details": r.details,
        "prev_hash": r.prev_hash,
    }
    return digest(body)


def append(
    session: Session,
    *,
    actor: str,
    action: str,
    at: datetime,
    instance_id: str | None = None,
    task_id: str | None = None,
    reason: str = "",
    payload: Any = None,
    details: dict[str, Any] | None = None,
    lock: Any = None,
) -> AuditRecord:
    """Add one audit record chained to the previous one; written now, committed by the caller's unit of work.

    Pending ORM changes are flushed first (callers rely on that); the record itself is a Core INSERT,
    a third of the cost of an ORM flush, and is returned detached.

    Args:
        lock: a callable taking the session that serializes appenders (PostgreSQL advisory lock).
    """
    if lock is not None:
        lock(session, AUDIT_LOCK_KEY)
    last = session.execute(_LAST).first()
    record = AuditRecord(
        seq=(last.seq + 1) if last else 1,
        at=at,
        actor=actor,
        action=action,
        instance_id=instance_id,
        task_id=task_id,
        reason=reason or "",
        payload_digest=digest(payload),
        details=details or {},
        prev_hash=last.hash if last else GENESIS,
    )
    record.hash = _record_hash(record)
    session.flush()
    session.execute(_INSERT, {column.key: getattr(record, column.key) for column in _COLUMNS})
    log.info("audit", extra={"action": action, "actor": actor, "instance_id": instance_id, "seq": record.seq})
    return record


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    problem: str = ""


def verify_chain(session: Session, batch: int = 5000) -> ChainReport:
    """Recompute every hash; report the first edited, inserted or deleted record."""
    prev_hash, expected_seq, checked = GENESIS, 1, 0
    while True:
        rows = session.scalars(
            select(AuditRecord).where(AuditRecord.seq >= expected_seq).order_by(AuditRecord.seq).limit(batch)
        ).all()
        if not rows:
            return ChainReport(ok=True, checked=checked)
        for r in rows:
            if r.seq != expected_seq:
                return ChainReport(False, checked, expected_seq, "记录缺失 (record deleted)")
            if r.prev_hash != prev_hash:
                return ChainReport(False, checked, r.seq, "链接断开 (chain broken)")
            if _record_hash(r) != r.hash:
                return ChainReport(False, checked, r.seq, "内容被修改 (record edited)")
            prev_hash, expected_seq, checked = r.hash, expected_seq + 1, checked + 1
