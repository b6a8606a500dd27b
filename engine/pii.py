"""Patient identity fields of process data: sealed in task rows, masked or revealed (and audited) on read.

The instance state is sealed by the serializer (engine/bpmn/serializer.py); this module does the rest
with the same marks (``x-sensitive`` in a definition's forms, engine/security/form_fields.py):

* rows that keep a step's submitted data (``human_tasks.data``, countersign ``signers.data``) are sealed
  with :func:`seal_data` and opened with :func:`open_data`;
* what a user reads goes through :func:`shown`: masked, unless the user holds ``pii``/``read`` in the
  instance's institution (then plain, and one ``pii.read`` audit record names the fields), or the field
  is one the user must fill in at this step (``keep``: editable on an open task they may complete).
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.orm import Session

from engine import audit
from engine.context import EngineContext
from engine.models import Definition, Instance
from engine.permissions import policy_allows
from engine.security.form_fields import (
    NONE,
    FormFieldCodec,
    SensitiveFields,
    drop_masked_echo,
    mask,
    masked_fields,
)
from engine.subject import Subject

__all__ = ["drop_masked_echo", "editable_fields", "fields_of", "may_reveal", "open_data", "seal_data", "shown"]


def fields_of(ctx: EngineContext, definition: Definition | None) -> SensitiveFields:
    """The x-sensitive fields of a definition (cached with its parsed specs)."""
    return ctx.specs.sensitive(definition, ctx.runtime) if definition is not None else NONE


def _codec(ctx: EngineContext) -> FormFieldCodec:
    codec = ctx.runtime.serializer.codec
    assert codec is not None, "EngineContext wires the form field codec"
    return codec


def seal_data(ctx: EngineContext, definition: Definition | None, data: Any) -> Any:
    """`data` as it may be stored: marked fields encrypted."""
    fields = fields_of(ctx, definition)
    return _codec(ctx).seal(data, fields) if fields and data else data


def open_data(ctx: EngineContext, data: Any) -> Any:
    """Stored data with every sealed value decrypted (plaintext rows from before pass through)."""
    return _codec(ctx).unseal(data) if data else data


def digest_key(ctx: EngineContext) -> bytes:
    """The audit's key for digests of process data, derived one-way from the blind-index key."""
    key = ctx.extras.get("_audit_digest_key")
    if key is None:
        from engine.identity._common import blind_index  # engine.identity imports the operations

        key = ctx.extras["_audit_digest_key"] = bytes.fromhex(blind_index(ctx).compute("audit-payload", "key"))
    return key


def may_reveal(ctx: EngineContext, subject: Subject, institution: str) -> bool:
    """Whether the policy gives `subject` patient identity fields in full (``pii``, ``read``)."""
    return policy_allows(ctx, subject, institution, "pii", "read")


def editable_fields(schema: dict[str, Any] | None, readonly: Iterable[str], hidden: Iterable[str]) -> frozenset[str]:
    """Fields of a step's form its user fills in (not read-only, not hidden)."""
    props = (schema or {}).get("properties") or {}
    closed = set(readonly) | set(hidden)
    return frozenset(k for k, v in props.items() if k not in closed and not (v or {}).get("readOnly"))


def shown(ctx: EngineContext, session: Session, subject: Subject, *, instance: Instance,
          definition: Definition | None, data: dict[str, Any], keep: frozenset[str] = frozenset(),
          task_id: str | None = None) -> dict[str, Any]:
    """`data` as `subject` may read it: opened, then masked or (``pii``/``read``, audited) revealed.

    Args:
        keep: Fields left as they are without an audit record: the ones `subject` must fill in here.
    """
    data = open_data(ctx, data)
    fields = fields_of(ctx, definition)
    hidden = masked_fields(data, fields, keep=keep)
    if not hidden:
        return data
    if may_reveal(ctx, subject, instance.institution):
        audit.append(session, actor=subject.username, action="pii.read", at=ctx.clock.now(),
                     instance_id=instance.id, task_id=task_id,
                     details={"fields": hidden, "institution": instance.institution})
        return data
    return mask(data, fields, keep=keep)
