"""Move running instances from one deployed version to another, safely, one transaction each.

An instance may move when every task it currently stands on (READY/WAITING user tasks, waiting
events, running connector calls) exists in the target version, and each current user task's form
is compatible: the same form unchanged, or a new form that accepts the data the instance holds.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit
from engine.bpmn import migration as spiff_migration
from engine.context import EngineContext
from engine.designer.store import latest_row
from engine.errors import FieldError, NotFound, ValidationFailed
from engine.human_tasks import refresh_open_tasks
from engine.instances import apply_workflow
from engine.models import Definition, Instance
from engine.models import instance as inst

log = logging.getLogger("engine.instance")


@dataclass(frozen=True)
class MigrationCandidate:
    """A running instance of the source version and whether it can move to the target."""

    id: str
    business_key: str | None
    title: str
    current: list[str]
    migratable: bool
    reason: str


@dataclass(frozen=True)
class MigrationOutcome:
    id: str
    business_key: str | None
    status: str  # "migrated" | "refused" | "skipped"
    message: str


def _form(definition: Definition, key: str | None) -> dict[str, Any] | None:
    return (definition.forms or {}).get(key) if key else None


def _form_problem(
    old: Definition, new: Definition, point: spiff_migration.Waypoint, new_form_key: str | None
) -> str:
    old_form, new_form = _form(old, point.form_key), _form(new, new_form_key)
    if new_form is None or (point.form_key == new_form_key and old_form == new_form):
        return ""
    schema = dict(new_form["schema"])
    schema.pop("required", None)  # the step's own fields are filled when it is completed
    props = schema.get("properties", {})
    relevant = {k: v for k, v in point.data.items() if k in props}
    errors = list(Draft202012Validator(schema, format_checker=FormatChecker()).iter_errors(relevant))
    if errors:
        where = "/".join(str(p) for p in errors[0].absolute_path) or new_form_key
        return (
            f"节点 {point.node_id} 的新表单 {new_form_key} 不接受当前数据 ({where}: {errors[0].message}) "
            "(new form rejects the current data)"
        )
    return ""


def _assess(
    ctx: EngineContext, instance: Instance, old: Definition, new: Definition
) -> tuple[Any, list[str], str]:
    """(restored workflow, current node ids, reason it may not move or '')."""
    workflow = ctx.runtime.restore(ctx.specs.get(old, ctx.runtime), instance.state)
    points = spiff_migration.current_waypoints(workflow)
    current = list(dict.fromkeys(p.node_id for p in points))
    if instance.status != inst.RUNNING:
        return workflow, current, f"实例状态为 {instance.status}，只能迁移运行中的实例 (not running)"
    if instance.definition_id != old.id:
        return (
            workflow,
            current,
            f"实例在版本 {instance.version}，不是 {old.version} (instance is on another version)",
        )
    new_specs = ctx.specs.get(new, ctx.runtime)
    blockers = spiff_migration.migration_blockers(ctx.runtime.serializer.registry, workflow, new_specs)
    if blockers:
        return workflow, current, "; ".join(reason for _, reason in blockers)
    for point in points:
        if point.manual:
            new_form_key = (new.steps.get(point.node_id, {}).get("extensions") or {}).get("formKey")
            problem = _form_problem(old, new, point, new_form_key)
            if problem:
                return workflow, current, problem
    return workflow, current, ""


def _versions(
    session: Session, key: str, from_version: int, to_version: int | None
) -> tuple[Definition, Definition]:
    old = latest_row(session, key, from_version)
    new = latest_row(session, key, to_version) if to_version else latest_row(session, key)
    if old is None or new is None:
        raise NotFound(f"流程 {key} 的版本不存在 (version not found)", process_key=key)
    return old, new


def migration_candidates(
    ctx: EngineContext, key: str, from_version: int, to_version: int | None = None
) -> list[MigrationCandidate]:
    """Running instances of `key` v`from_version`, each checked against `to_version` (default latest).

    Raises:
        NotFound: either version does not exist.
    """
    with ctx.db.unit_of_work() as session:
        old, new = _versions(session, key, from_version, to_version)
        rows = session.scalars(
            select(Instance)
            .where(Instance.definition_id == old.id, Instance.status == inst.RUNNING)
            .order_by(Instance.created_at)
        ).all()
        out = []
        for row in rows:
            _, current, reason = _assess(ctx, row, old, new)
            if old.id == new.id:
                reason = "目标版本与当前版本相同 (same version)"
            out.append(MigrationCandidate(row.id, row.business_key, row.title, current, not reason, reason))
        return out


def _migrate_one(
    ctx: EngineContext,
    instance_id: str,
    key: str,
    from_version: int,
    to_version: int | None,
    actor: str,
    reason: str,
) -> MigrationOutcome:
    def command(session: Session) -> MigrationOutcome:
        old, new = _versions(session, key, from_version, to_version)
        instance = session.get(Instance, instance_id)
        if instance is None or instance.process_key != key:
            return MigrationOutcome(instance_id, None, "skipped", "实例不存在 (instance not found)")
        workflow, current, problem = _assess(ctx, instance, old, new)
        if old.id == new.id:
            problem = "目标版本与当前版本相同 (same version)"
        now = ctx.clock.now()
        details = {
            "process_key": key,
            "from_version": old.version,
            "to_version": new.version,
            "current": current,
        }
        if problem:
            audit.append(
                session,
                actor=actor,
                action="instance.migrate_refused",
                at=now,
                instance_id=instance.id,
                reason=f"{reason} | {problem}"[:1000],
                details=details,
            )
            return MigrationOutcome(instance.id, instance.business_key, "refused", problem)
        spiff_migration.migrate(ctx.runtime.serializer.registry, workflow, ctx.specs.get(new, ctx.runtime))
        ctx.runtime.advance(workflow)
        instance.definition_id, instance.version = new.id, new.version
        refresh_open_tasks(session, instance, new.steps)
        apply_workflow(ctx, session, instance, new, workflow)
        audit.append(
            session,
            actor=actor,
            action="instance.migrate",
            at=now,
            instance_id=instance.id,
            reason=reason,
            details=details,
        )
        return MigrationOutcome(
            instance.id, instance.business_key, "migrated", f"v{old.version} → v{new.version}"
        )

    return ctx.db.run(command, retries=ctx.settings.command_retries)


def migrate_instances(
    ctx: EngineContext,
    key: str,
    from_version: int,
    to_version: int | None,
    instance_ids: list[str],
    *,
    actor: str,
    reason: str,
) -> list[MigrationOutcome]:
    """Migrate the selected instances, one transaction per instance; unsafe ones are refused and audited.

    Each migrated instance is pinned to the target definition; its open human tasks are kept (task ids
    survive SpiffWorkflow's migration, so claims stay) and take the target step's name, form and candidates.

    Raises:
        ValidationFailed: no reason given (the reason is part of the audit record).
        NotFound: either version does not exist.
    """
    if not reason.strip():
        raise ValidationFailed(
            "必须填写迁移原因 (a reason is required)",
            [FieldError("/reason", "必填项 (required)", "required")],
        )
    results = []
    for instance_id in dict.fromkeys(instance_ids):
        try:
            results.append(
                _migrate_one(ctx, instance_id, key, from_version, to_version, actor, reason.strip())
            )
        except NotFound:
            raise
        except Exception as exc:  # noqa: BLE001 - one instance's failure must not stop the batch
            log.warning("migration failed", extra={"instance_id": instance_id, "error": type(exc).__name__})
            results.append(MigrationOutcome(instance_id, None, "refused", f"迁移失败 (failed): {exc}"))
    return results
