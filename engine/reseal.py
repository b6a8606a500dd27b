"""Key rotation: re-seal every stored value encrypted under a field key version that is not the current one.

Values are re-sealed lazily when a row is written again, but completed task rows, countersign votes,
connector-job parameters, finished instances and quiet staff accounts are never written again, so an old
key could never be removed. :func:`reseal_sensitive` walks those stores in primary-key order, a batch per
transaction, and rewrites only values under an old version (decrypt with the same associated data,
encrypt under the current key):

* ``instances.state``: on the JSON text through the serializer (no spec, so finished instances too);
* ``human_tasks.data`` and ``signers.data`` through the form field codec;
* connector jobs' ``payload.params_sealed``;
* staff fields: ``users`` phone, ID number and TOTP secrets, ``api_clients`` secrets.

Every value is readable at every moment (old values need the old key, still configured), so a crash
leaves nothing lost and a re-run continues where it stopped. Rows are locked (``FOR UPDATE``) while a
batch rewrites them; an instance's ``row_version`` is *not* bumped: a command that read the instance
before the batch writes its own state afterwards, sealed under the current key as every save is.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from sqlalchemy import Text, cast, or_, select
from sqlalchemy.orm import Session

from engine import audit
from engine.context import EngineContext
from engine.identity._common import field_cipher
from engine.identity.clients import SECRET_CONTEXT
from engine.identity.credentials import TOTP_CONTEXT
from engine.identity.users import ID_CONTEXT, PHONE_CONTEXT
from engine.models import ApiClientRecord, HumanTask, Instance, Job, Signer, User
from engine.security.form_fields import PREFIX
from engine.service_tasks import reseal_params

__all__ = ["ResealReport", "reseal_sensitive"]

_SEALED_LIKE = f"%{PREFIX}v%"
_USER_FIELDS = (("phone_enc", PHONE_CONTEXT), ("id_number_enc", ID_CONTEXT),
                ("totp_secret_enc", TOTP_CONTEXT), ("totp_pending_enc", TOTP_CONTEXT))
STORES = ("instances", "human_tasks", "signers", "jobs", "users", "api_clients")

# One batch: (session, last key of the previous batch, limit) -> (last key or None when done, rows, values).
_Batch = Callable[[Session, str, int], tuple[str | None, int, int]]


@dataclass(frozen=True)
class ResealReport:
    """What one run re-sealed.

    Attributes:
        key_version: The current key version everything was sealed under.
        rows: Rows rewritten per store (``instances``, ``human_tasks``, ``signers``, ``jobs``, ``users``,
            ``api_clients``).
        values: Sealed values re-encrypted in all (equal values in one instance state count once).
    """

    key_version: int
    rows: dict[str, int] = field(default_factory=dict)
    values: int = 0

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    def to_dict(self) -> dict[str, Any]:
        return {"key_version": self.key_version, "rows": dict(self.rows), "values": self.values}


def reseal_sensitive(ctx: EngineContext, *, batch: int = 500, actor: str = "maintenance") -> ResealReport:
    """Re-encrypt every stored sealed value whose key version is not the current one.

    Run it after making a new key version current (docs/BPMN_EXTENSIONS.md, "Key rotation"); when it
    returns, no row needs the old key. Each batch of `batch` rows is its own transaction; the run is
    idempotent (a second run re-seals nothing) and safe to interrupt and repeat. One
    ``maintenance.reseal`` audit record carries the counts.

    Raises:
        FieldCryptoError: A value cannot be decrypted (its key version is no longer configured, or it
            was tampered with); the batches before it stay committed.
    """
    cipher = field_cipher(ctx)
    batches: dict[str, _Batch] = {
        "instances": lambda s, after, n: _instances(ctx, s, after, n),
        "human_tasks": lambda s, after, n: _task_data(ctx, s, HumanTask, after, n),
        "signers": lambda s, after, n: _task_data(ctx, s, Signer, after, n),
        "jobs": lambda s, after, n: _jobs(ctx, s, after, n),
        "users": lambda s, after, n: _users(ctx, s, after, n),
        "api_clients": lambda s, after, n: _api_clients(ctx, s, after, n),
    }
    rows: dict[str, int] = {}
    values = 0
    for store in STORES:
        rows[store], count = _run_batches(ctx, batches[store], max(1, batch))
        values += count
    report = ResealReport(key_version=cipher.current_version, rows=rows, values=values)
    with ctx.db.unit_of_work() as session:
        audit.append(session, actor=actor, action="maintenance.reseal", at=ctx.clock.now(),
                     details={**report.to_dict(), "batch": batch})
    return report


def _run_batches(ctx: EngineContext, one: _Batch, limit: int) -> tuple[int, int]:
    rows = values = 0
    after: str | None = ""
    while after is not None:
        after, n_rows, n_values = ctx.db.run(partial(_call, one, after, limit), retries=ctx.settings.command_retries)
        rows, values = rows + n_rows, values + n_values
    return rows, values


def _call(one: _Batch, after: str, limit: int, session: Session) -> tuple[str | None, int, int]:
    return one(session, after, limit)


def _last(keys: list[str], limit: int) -> str | None:
    return keys[-1] if len(keys) == limit else None


def _instances(ctx: EngineContext, session: Session, after: str, limit: int) -> tuple[str | None, int, int]:
    page = session.execute(
        select(Instance.id, Instance.state)
        .where(Instance.id > after, Instance.state.like(_SEALED_LIKE))
        .order_by(Instance.id).limit(limit).with_for_update()).all()
    rows = values = 0
    table = Instance.__table__
    for instance_id, state in page:
        result = ctx.runtime.serializer.reseal_state(state)
        if result is None:
            continue
        # Core UPDATE: the ORM would bump row_version and fail a concurrent command that read the row.
        session.execute(table.update().where(table.c.id == instance_id).values(state=result[0]))
        rows, values = rows + 1, values + result[1]
    return _last([r[0] for r in page], limit), rows, values


def _task_data(ctx: EngineContext, session: Session, model: type[HumanTask] | type[Signer], after: str,
               limit: int) -> tuple[str | None, int, int]:
    codec = ctx.runtime.serializer.codec
    assert codec is not None, "EngineContext wires the form field codec"
    page = session.scalars(
        select(model).where(model.id > after, cast(model.data, Text).like(_SEALED_LIKE))
        .order_by(model.id).limit(limit).with_for_update()).all()
    rows = values = 0
    for row in page:
        memo: dict[tuple[str, str], str] = {}
        new = codec.reseal(row.data, memo=memo)
        if new is not row.data:
            row.data = new
            rows, values = rows + 1, values + len(memo)
    return _last([r.id for r in page], limit), rows, values


def _jobs(ctx: EngineContext, session: Session, after: str, limit: int) -> tuple[str | None, int, int]:
    page = session.scalars(
        select(Job).where(Job.id > after, Job.kind == "connector", cast(Job.payload, Text).like(_SEALED_LIKE))
        .order_by(Job.id).limit(limit).with_for_update()).all()
    rows = 0
    for job in page:
        new = reseal_params(ctx, job.payload)
        if new is not None:
            job.payload = new
            rows += 1
    return _last([j.id for j in page], limit), rows, rows


def _users(ctx: EngineContext, session: Session, after: str, limit: int) -> tuple[str | None, int, int]:
    cipher = field_cipher(ctx)
    page = session.scalars(
        select(User).where(User.id > after, or_(*(getattr(User, name).is_not(None) for name, _ in _USER_FIELDS)))
        .order_by(User.id).limit(limit).with_for_update()).all()
    rows = values = 0
    for user in page:
        changed = 0
        for name, context in _USER_FIELDS:
            value = getattr(user, name)
            if value and cipher.needs_reencrypt(value):
                setattr(user, name, cipher.reencrypt(value, context=context))
                changed += 1
        rows, values = rows + bool(changed), values + changed
    return _last([u.id for u in page], limit), rows, values


def _api_clients(ctx: EngineContext, session: Session, after: str, limit: int) -> tuple[str | None, int, int]:
    cipher = field_cipher(ctx)
    page = session.scalars(
        select(ApiClientRecord).where(ApiClientRecord.key_id > after)
        .order_by(ApiClientRecord.key_id).limit(limit).with_for_update()).all()
    rows = 0
    for client in page:
        if client.secret_enc and cipher.needs_reencrypt(client.secret_enc):
            client.secret_enc = cipher.reencrypt(client.secret_enc, context=SECRET_CONTEXT)
            rows += 1
    return _last([c.key_id for c in page], limit), rows, rows
