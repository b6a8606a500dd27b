"""Append to and verify the hash-chained audit trail."""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from engine.db import defer, transaction_cache
from engine.errors import EngineError
from engine.models import AuditHead, AuditRecord

log = logging.getLogger("engine.audit")
GENESIS = "0" * 64
HEAD_ID = 1
# Built once: every command appends. Locking the head row serializes appenders until commit
# (PostgreSQL; SQLite writers are serialized already), so it replaces the former advisory lock.
_HEAD = select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == HEAD_ID)
_HEAD_FOR_UPDATE = _HEAD.with_for_update()
_MOVE_HEAD = (update(AuditHead).where(AuditHead.id == HEAD_ID)
              .values(seq=bindparam("new_seq"), hash=bindparam("new_hash")))
_COLUMNS = tuple(AuditRecord.__table__.columns)
_INSERT = AuditRecord.__table__.insert()
_HEAD_CACHE = "audit_head"  # (seq, hash) after this transaction's last append, while it holds the lock


def digest(payload: Any, key: bytes | None = None) -> str:
    """sha256 of a canonical JSON rendering (the audit stores digests, never patient data).

    With `key` it is an HMAC: a plain digest of a short submission (an ID number and an outcome) can be
    found again by hashing every candidate value, so process data is digested with a secret key.
    """
    raw = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str, separators=(",", ":")).encode()
    return hmac.new(key, raw, hashlib.sha256).hexdigest() if key else hashlib.sha256(raw).hexdigest()


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
    digest_key: bytes | None = None,
    details: dict[str, Any] | None = None,
) -> AuditRecord:
    """Add one audit record chained to the previous one; written with the caller's unit of work.

    Pending ORM changes are flushed first (callers rely on that). The record is returned detached.

    Appenders are serialized by the head row's lock (``SELECT … FOR UPDATE``; SQLite has one writer),
    taken at the transaction's first append and held until its commit. The head is read once per
    transaction; later appends chain to the cached head. The record's INSERT and the head's UPDATE
    are deferred (`engine.db.defer`): on PostgreSQL they travel with the COMMIT in one round trip, so
    the lock is held for one round trip instead of three.

    Args:
        digest_key: key of the payload's digest; process data is digested with `engine.pii.digest_key`.

    Raises:
        EngineError: the head row is missing (database not built by the migrations).
    """
    cache = transaction_cache(session)
    last = cache.get(_HEAD_CACHE)
    if last is None:
        # Core statements go straight to the connection: half the Python cost of Session.execute.
        last = session.connection().execute(_HEAD_FOR_UPDATE).first()
        if last is None:
            raise EngineError("审计链头缺失，请运行数据库迁移 (audit head missing: run the migrations)")
    record = AuditRecord(
        seq=last[0] + 1,
        at=at,
        actor=actor,
        action=action,
        instance_id=instance_id,
        task_id=task_id,
        reason=reason or "",
        payload_digest=digest(payload, digest_key),
        details=details or {},
        prev_hash=last[1],
    )
    record.hash = _record_hash(record)
    session.flush()
    cache[_HEAD_CACHE] = (record.seq, record.hash)
    defer(session, _INSERT, {column.key: getattr(record, column.key) for column in _COLUMNS})
    defer(session, _MOVE_HEAD, {"new_seq": record.seq, "new_hash": record.hash})
    log.info("audit", extra={"action": action, "actor": actor, "instance_id": instance_id, "seq": record.seq})
    return record


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    problem: str = ""


def verify_chain(session: Session, batch: int = 5000) -> ChainReport:
    """Recompute every hash up to the stored head; report the first edited, inserted or deleted record.

    The head is read first, so records appended while this runs are left to the next verification.
    """
    head = session.execute(_HEAD).first()
    if head is None:
        return ChainReport(False, 0, None, "链头缺失 (audit head missing)")
    prev_hash, expected_seq, checked = GENESIS, 1, 0
    while expected_seq <= head.seq:
        rows = session.scalars(
            select(AuditRecord).where(AuditRecord.seq >= expected_seq, AuditRecord.seq <= head.seq)
            .order_by(AuditRecord.seq).limit(batch)
        ).all()
        if not rows:
            return ChainReport(False, checked, expected_seq, "末尾记录缺失 (last records deleted)")
        for r in rows:
            if r.seq != expected_seq:
                return ChainReport(False, checked, expected_seq, "记录缺失 (record deleted)")
            if r.prev_hash != prev_hash:
                return ChainReport(False, checked, r.seq, "链接断开 (chain broken)")
            if _record_hash(r) != r.hash:
                return ChainReport(False, checked, r.seq, "内容被修改 (record edited)")
            prev_hash, expected_seq, checked = r.hash, expected_seq + 1, checked + 1
    if prev_hash != head.hash:
        return ChainReport(False, checked, head.seq, "链头不符 (head does not match the last record)")
    return _check_nothing_beyond_head(session, checked)


def _check_nothing_beyond_head(session: Session, checked: int) -> ChainReport:
    # The newest record first, then the head: an honest append commits both together, so a head read
    # afterwards is never behind a record already visible.
    newest = session.scalar(select(func.max(AuditRecord.seq)))
    head = session.execute(_HEAD).first()
    if newest is not None and (head is None or newest > head.seq):
        first = head.seq + 1 if head is not None else None
        return ChainReport(False, checked, first, "链头之后有记录 (records beyond the head)")
    return ChainReport(ok=True, checked=checked)
