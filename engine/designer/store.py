"""Designer working copies in the database: process drafts, form drafts, and the bundle they make.

Forms edited in the designer are rows here, never files in the repository; deploying snapshots
them into the definition version (forms are versioned with the process).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit
from engine.context import EngineContext
from engine.designer.xml import form_keys, parse_xml, process_key_of
from engine.errors import Diagnostic, InvalidDefinition, NotFound
from engine.forms import load_form, schema_problem
from engine.models import Definition, FormDraft, ProcessDraft


@dataclass(frozen=True)
class FormInfo:
    """A form as the designer shows it; `source` is `draft` (database) or `repository` (forms/ file)."""

    key: str
    title: str
    source: str
    schema: dict[str, Any] = field(default_factory=dict)
    ui: dict[str, Any] = field(default_factory=dict)
    updated_at: datetime | None = None


@dataclass(frozen=True)
class DraftInfo:
    process_key: str
    xml: str
    updated_by: str
    updated_at: datetime


def _repo_keys(ctx: EngineContext) -> list[str]:
    folder = ctx.settings.forms_dir
    return (
        sorted(p.name[: -len(".schema.json")] for p in folder.glob("*.schema.json"))
        if folder.is_dir()
        else []
    )


def list_forms(ctx: EngineContext) -> list[FormInfo]:
    """Every form the designer can pick: repository forms, overridden or extended by draft rows."""
    with ctx.db.unit_of_work() as session:
        drafts = {d.form_key: d for d in session.scalars(select(FormDraft)).all()}
    out = {}
    for key in _repo_keys(ctx):
        form = load_form(ctx.settings.forms_dir, key)
        if form is not None:
            out[key] = FormInfo(key, str(form.schema.get("title") or key), "repository")
    for key, d in drafts.items():
        out[key] = FormInfo(key, d.title or key, "draft", updated_at=d.updated_at)
    return [out[k] for k in sorted(out)]


def get_form(ctx: EngineContext, key: str) -> FormInfo:
    """One form with schema and UI schema (the draft row wins over the repository file).

    Raises:
        NotFound: neither a draft nor forms/<key>.schema.json exists.
    """
    with ctx.db.unit_of_work() as session:
        draft = session.get(FormDraft, key)
        if draft is not None:
            return FormInfo(
                key, draft.title or key, "draft", dict(draft.schema), dict(draft.ui), draft.updated_at
            )
    form = load_form(ctx.settings.forms_dir, key)
    if form is None:
        raise NotFound(f"表单 {key} 不存在 (form not found)", form_key=key)
    return FormInfo(key, str(form.schema.get("title") or key), "repository", form.schema, form.ui)


def save_form(
    ctx: EngineContext, key: str, schema: dict[str, Any], ui: dict[str, Any], *, actor: str
) -> FormInfo:
    """Save a form draft (database only; deploy snapshots it with the process). Audited.

    Raises:
        InvalidDefinition: the key is not a plain identifier or the schema is not a valid object schema.
    """
    if not key.replace("_", "").replace("-", "").isalnum() or len(key) > 100:
        raise InvalidDefinition(
            "表单标识无效 (invalid form key)", [Diagnostic(f"invalid form key {key!r}", rule="form-key")]
        )
    problem = schema_problem(schema) or (
        None if schema.get("type") == "object" else "表单 schema 的 type 必须是 object"
    )
    if problem:
        raise InvalidDefinition(
            "表单定义无效 (invalid form)", [Diagnostic(problem, element_id=key, rule="form-schema")]
        )

    def command(session: Session) -> FormInfo:
        now = ctx.clock.now()
        row = session.get(FormDraft, key) or FormDraft(form_key=key)
        row.title, row.schema, row.ui = str(schema.get("title") or key)[:200], schema, ui or {}
        row.updated_by, row.updated_at = actor, now
        session.add(row)
        audit.append(
            session,
            actor=actor,
            action="designer.form.save",
            at=now,
            payload={"schema": schema, "ui": ui},
            details={"form_key": key},
        )
        return FormInfo(key, row.title, "draft", schema, ui or {}, now)

    return ctx.db.run(command)


def save_draft(ctx: EngineContext, process_key: str, xml: str, *, actor: str) -> DraftInfo:
    """Save the BPMN being edited for a process key (replaces the previous draft).

    Raises:
        InvalidDefinition: the XML is malformed or its process id is not `process_key`.
    """
    found = process_key_of(parse_xml(xml))
    if found != process_key:
        raise InvalidDefinition(
            "流程标识不一致 (process id differs from the key)",
            [Diagnostic(f"流程 id 为 {found}，而不是 {process_key}", element_id=found, rule="key")],
        )

    def command(session: Session) -> DraftInfo:
        now = ctx.clock.now()
        row = session.get(ProcessDraft, process_key) or ProcessDraft(process_key=process_key)
        row.xml, row.updated_by, row.updated_at = xml, actor, now
        session.add(row)
        return DraftInfo(process_key, xml, actor, now)

    return ctx.db.run(command)


def load_draft(ctx: EngineContext, process_key: str) -> DraftInfo:
    """The saved draft of a process key.

    Raises:
        NotFound: no draft saved for this key.
    """
    with ctx.db.unit_of_work() as session:
        row = session.get(ProcessDraft, process_key)
        if row is None:
            raise NotFound(f"流程 {process_key} 没有草稿 (no draft)", process_key=process_key)
        return DraftInfo(row.process_key, row.xml, row.updated_by, row.updated_at)


def drop_deployed_draft(ctx: EngineContext, process_key: str, deployed_xml: str) -> bool:
    """Remove the saved draft once exactly its BPMN has been deployed (it now is that version).

    A draft that differs from what was deployed is kept: it holds work the deployment did not include.
    Returns whether a draft was removed.
    """
    def command(session: Session) -> bool:
        row = session.get(ProcessDraft, process_key)
        if row is None or row.xml != deployed_xml:
            return False
        session.delete(row)
        return True

    return ctx.db.run(command)


def list_drafts(ctx: EngineContext) -> list[DraftInfo]:
    """Every saved process draft."""
    with ctx.db.unit_of_work() as session:
        rows = session.scalars(select(ProcessDraft).order_by(ProcessDraft.process_key)).all()
        return [DraftInfo(r.process_key, r.xml, r.updated_by, r.updated_at) for r in rows]


def latest_row(session: Session, process_key: str, version: int | None = None) -> Definition | None:
    """One deployed version of a key, the latest when `version` is None (0, the draft, is never deployed)."""
    query = select(Definition).where(Definition.process_key == process_key)
    query = (
        query.where(Definition.version == version)
        if version is not None
        else query.order_by(Definition.version.desc())
    )
    return session.scalar(query.limit(1))


def _repo_dmn(ctx: EngineContext, process_key: str) -> dict[str, bytes]:
    folder = ctx.settings.processes_dir
    if not folder.is_dir():
        return {}
    for bpmn in folder.rglob("*.bpmn"):
        if f'id="{process_key}"' in bpmn.read_text("utf-8", errors="replace"):
            return {d.name: d.read_bytes() for d in sorted(bpmn.parent.glob("*.dmn"))}
    return {}


def designer_bundle(ctx: EngineContext, xml: str) -> tuple[str, dict[str, bytes]]:
    """The files deploying this XML would mean: the BPMN, the DMN beside the process, the draft forms.

    DMN files come from the latest deployed version of the key, else from the repository folder of
    the process. Referenced forms with a draft row are added as `<key>.schema.json`/`.ui.json`, so
    validation and deployment see the designer's forms; others resolve from forms/ as usual, or
    from the latest deployed snapshot when forms/ no longer has them.

    Raises:
        InvalidDefinition: malformed XML or no process.
    """
    root = parse_xml(xml)
    key = process_key_of(root)
    files: dict[str, bytes] = {f"{key}.bpmn": xml.encode("utf-8")}
    with ctx.db.unit_of_work() as session:
        latest = latest_row(session, key)
        deployed_files = dict(latest.files) if latest else {}
        snapshot = dict(latest.forms) if latest else {}
        drafts = {
            d.form_key: d
            for d in session.scalars(select(FormDraft).where(FormDraft.form_key.in_(form_keys(root)))).all()
        }
    dmn = {n: c.encode("utf-8") for n, c in deployed_files.items() if n.lower().endswith(".dmn")}
    files.update(dmn or _repo_dmn(ctx, key))
    for form_key in form_keys(root):
        if form_key in drafts:
            schema, ui = drafts[form_key].schema, drafts[form_key].ui
        elif load_form(ctx.settings.forms_dir, form_key) is None and form_key in snapshot:
            schema, ui = snapshot[form_key]["schema"], snapshot[form_key].get("ui", {})
        else:
            continue
        files[f"{form_key}.schema.json"] = json.dumps(schema, ensure_ascii=False).encode("utf-8")
        if ui:
            files[f"{form_key}.ui.json"] = json.dumps(ui, ensure_ascii=False).encode("utf-8")
    return key, files
