"""Starting a process from the staff pages: which processes a subject may start, and their start forms."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from engine.context import EngineContext
from engine.definitions import latest_definition
from engine.errors import PermissionDenied
from engine.instances import start_form_of, start_instance
from engine.models import Definition
from engine.subject import Subject
from engine.views import InstanceView


@dataclass(frozen=True)
class StartableProcess:
    process_key: str
    name: str
    version: int
    description: str
    institutions: list[str]
    form_key: str | None
    schema: dict[str, Any] | None
    ui: dict[str, Any]


def start_institutions(definition_attributes: dict[str, Any], subject: Subject) -> list[str]:
    """Institutions in which the subject holds one of the process's start roles (any role if none set)."""
    roles = set(definition_attributes.get("startRoles") or [])
    return sorted(i for i, held in subject.roles.items() if held and (not roles or held & roles))


def _latest(session: Any) -> list[Definition]:
    latest = select(Definition.process_key, func.max(Definition.version).label("v")) \
        .group_by(Definition.process_key).subquery()
    return list(session.scalars(select(Definition).join(
        latest, (latest.c.process_key == Definition.process_key) & (latest.c.v == Definition.version))
        .order_by(Definition.process_key)))


def _startable(row: Definition, institutions: list[str]) -> StartableProcess:
    form = start_form_of(row)
    return StartableProcess(row.process_key, row.name, row.version, (row.attributes or {}).get("description", ""),
                            institutions, form.key if form else None, form.schema if form else None,
                            form.ui if form else {})


def startable_processes(ctx: EngineContext, subject: Subject) -> list[StartableProcess]:
    """Latest deployed processes the subject may start (hospital:startRoles vs the subject's roles)."""
    with ctx.db.unit_of_work() as session:
        rows = _latest(session)
    found = []
    for row in rows:
        institutions = start_institutions(row.attributes or {}, subject)
        if institutions:
            found.append(_startable(row, institutions))
    return found


def start_form(ctx: EngineContext, process_key: str, subject: Subject) -> StartableProcess:
    """One startable process with its start form.

    Raises:
        NotFound: no version of the process is deployed.
        PermissionDenied: the subject may not start it.
    """
    row = ctx.db.read(lambda session: latest_definition(session, process_key))  # NotFound when never deployed
    institutions = start_institutions(row.attributes or {}, subject)
    if not institutions:
        raise PermissionDenied("无权发起此流程 (not allowed to start this process)", process_key=process_key)
    return _startable(row, institutions)


def start_with_form(ctx: EngineContext, process_key: str, subject: Subject, *, institution: str,
                    data: dict[str, Any], business_key: str | None = None,
                    idempotency_key: str | None = None) -> InstanceView:
    """Start the process as the subject (start_instance validates the start form server-side).

    Raises:
        NotFound: not deployed.  PermissionDenied: no start role in that institution.
        ValidationFailed: field errors.
    """
    def admit(definition: Definition) -> None:  # in start_instance's transaction: no read of its own
        allowed = start_institutions(definition.attributes or {}, subject)
        if not allowed:
            raise PermissionDenied("无权发起此流程 (not allowed to start this process)", process_key=process_key)
        if institution not in allowed:
            raise PermissionDenied("无权在该机构发起此流程 (no start role in this institution)",
                                   process_key=process_key, institution=institution)

    return start_instance(ctx, process_key, initiator=subject.username, institution=institution,
                          business_key=business_key, data=data, idempotency_key=idempotency_key, admit=admit)
