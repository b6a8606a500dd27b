"""/designer (static UI) and /api/designer: process administrators only; one engine call per handler."""

from __future__ import annotations

from dataclasses import asdict
from html import escape
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

import engine
from api.deps import Ctx, CurrentSubject
from api.forms_render import render_form_html
from api.schemas import designer as s
from engine.errors import NotFound

DIST = Path(__file__).resolve().parents[2] / "designer" / "dist"
CSRF_META = '<meta name="csrf-token" content="">'
# bpmn-js's icon font is embedded in its CSS as data: URIs.
PAGE_CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; font-src 'self' data:"


def require_designer(request: Request, ctx: Ctx, subject: CurrentSubject) -> engine.Subject:
    """Only process_admin / sys_admin (any institution); refusals are audited by the engine."""
    return engine.require_designer(ctx, subject, f"{request.method} {request.url.path}")


Designer = Annotated[engine.Subject, Depends(require_designer)]
router = APIRouter(prefix="/api/designer", tags=["designer"])
pages = APIRouter(tags=["designer-ui"])


def _diag(d: engine.Diagnostic) -> s.DiagnosticOut:
    return s.DiagnosticOut(**d.to_dict())


@router.get("/roles", response_model=list[s.RoleOut])
def roles(ctx: Ctx, _u: Designer) -> list[s.RoleOut]:
    return [s.RoleOut(**asdict(r)) for r in engine.list_roles(ctx)]


@router.get("/connectors", response_model=list[s.ConnectorOut])
def connectors(ctx: Ctx, _u: Designer) -> list[s.ConnectorOut]:
    return [s.ConnectorOut(**asdict(c)) for c in engine.list_connectors(ctx)]


@router.get("/forms", response_model=list[s.FormSummaryOut])
def forms(ctx: Ctx, _u: Designer) -> list[s.FormSummaryOut]:
    return [s.FormSummaryOut(key=f.key, title=f.title, source=f.source) for f in engine.list_forms(ctx)]


@router.post("/forms/preview", response_model=s.HtmlOut)
def preview_form(body: s.FormIn, _u: Designer) -> s.HtmlOut:
    return s.HtmlOut(html=render_form_html(body.form_schema, body.ui, body.data))


@router.get("/forms/{key}", response_model=s.FormOut)
def get_form(key: str, ctx: Ctx, _u: Designer) -> s.FormOut:
    f = engine.get_form(ctx, key)
    return s.FormOut(
        key=f.key, title=f.title, source=f.source, form_schema=f.schema, ui=f.ui, updated_at=f.updated_at
    )


@router.put("/forms/{key}", response_model=s.FormOut)
def save_form(key: str, body: s.FormIn, ctx: Ctx, user: Designer) -> s.FormOut:
    f = engine.save_form(ctx, key, body.form_schema, body.ui, actor=user.username)
    return s.FormOut(
        key=f.key, title=f.title, source=f.source, form_schema=f.schema, ui=f.ui, updated_at=f.updated_at
    )


@router.get("/definitions", response_model=list[s.VersionOut])
def definitions(ctx: Ctx, _u: Designer) -> list[s.VersionOut]:
    return [s.VersionOut(**asdict(v)) for v in engine.list_versions(ctx)]


@router.get("/definitions/{key}/xml", response_model=s.DefinitionXmlOut)
def definition_xml(key: str, ctx: Ctx, _u: Designer, version: int | None = None) -> s.DefinitionXmlOut:
    return s.DefinitionXmlOut(**asdict(engine.definition_xml(ctx, key, version)))


@router.get("/definitions/{key}/instances", response_model=list[s.InstanceOut])
def instances(
    key: str, version: int, ctx: Ctx, _u: Designer, to_version: int | None = None
) -> list[s.InstanceOut]:
    return [s.InstanceOut(**asdict(c)) for c in engine.migration_candidates(ctx, key, version, to_version)]


@router.get("/drafts/{key}", response_model=s.DraftOut)
def load_draft(key: str, ctx: Ctx, _u: Designer) -> s.DraftOut:
    d = engine.load_draft(ctx, key)
    return s.DraftOut(key=d.process_key, xml=d.xml, updated_by=d.updated_by, saved_at=d.updated_at)


@router.put("/drafts/{key}", response_model=s.DraftOut)
def save_draft(key: str, body: s.XmlIn, ctx: Ctx, user: Designer) -> s.DraftOut:
    d = engine.save_draft(ctx, key, body.xml, actor=user.username)
    return s.DraftOut(key=d.process_key, updated_by=d.updated_by, saved_at=d.updated_at)


@router.post("/import", response_model=s.ImportOut)
def import_xml(body: s.XmlIn, ctx: Ctx, _u: Designer) -> s.ImportOut:
    result = engine.import_bpmn(
        body.xml,
        roles={r.key for r in engine.list_roles(ctx)},
        forms={f.key for f in engine.list_forms(ctx)},
        connectors={c.topic for c in engine.list_connectors(ctx)},
    )
    return s.ImportOut(xml=result.xml, report=[s.ImportItemOut(**asdict(i)) for i in result.report])


@router.post("/validate", response_model=s.DiagnosticsOut)
def validate(body: s.XmlIn, ctx: Ctx, _u: Designer) -> s.DiagnosticsOut:
    return s.DiagnosticsOut(diagnostics=[_diag(d) for d in engine.validate_design(ctx, body.xml)])


@router.post("/diff", response_model=s.DiffOut)
def diff(body: s.XmlIn, ctx: Ctx, _u: Designer) -> s.DiffOut:
    d = engine.diff_design(ctx, body.xml)
    return s.DiffOut(
        key=d.key,
        against_version=d.against_version,
        added=d.added,
        removed=d.removed,
        changed=[s.ChangeOut(id=c.id, fields=c.fields) for c in d.changed],
        forms_changed=d.forms_changed,
    )


@router.post("/deploy", response_model=s.DeployOut, status_code=201)
def deploy(body: s.DeployIn, ctx: Ctx, user: Designer) -> s.DeployOut:
    r = engine.deploy_design(ctx, body.xml, actor=user.username, comment=body.comment)
    return s.DeployOut(
        key=r.process_key, version=r.version, created=r.created, warnings=[_diag(w) for w in r.warnings]
    )


@router.post("/dry-run", response_model=s.DryRunOut)
def dry_run(body: s.DryRunIn, ctx: Ctx, _u: Designer) -> s.DryRunOut:
    r = engine.dry_run(ctx, body.xml, body.data, body.outcomes, body.task_data)
    return s.DryRunOut(
        path=r.path,
        tasks=r.tasks,
        end_state=r.end_state,
        waiting=r.waiting,
    )


@router.post("/migrate", response_model=s.MigrateOut)
def migrate(body: s.MigrateIn, ctx: Ctx, user: Designer) -> s.MigrateOut:
    results = engine.migrate_instances(
        ctx,
        body.key,
        body.from_version,
        body.to_version,
        body.instance_ids,
        actor=user.username,
        reason=body.reason,
    )
    return s.MigrateOut(
        key=body.key,
        from_version=body.from_version,
        to_version=body.to_version,
        results=[s.MigrationResultOut(**asdict(r)) for r in results],
    )


# ---- the static UI --------------------------------------------------------------------------
@pages.get("/designer", include_in_schema=False)
def designer_root(_u: Designer) -> RedirectResponse:
    return RedirectResponse("/designer/", status_code=307)


@pages.get("/designer/{path:path}", include_in_schema=False)
def designer_file(path: str, request: Request, _u: Designer) -> Response:
    dist = Path(getattr(request.app.state, "designer_dist", DIST)).resolve()
    target = (dist / (path or "index.html")).resolve()
    if not target.is_relative_to(dist) or not target.is_file():
        raise NotFound("文件不存在 (not found)", path=path)
    if target.suffix == ".html":
        token = getattr(request.state, "csrf_token", "") or ""
        html = target.read_text("utf-8").replace(
            CSRF_META, f'<meta name="csrf-token" content="{escape(token)}">'
        )
        return HTMLResponse(html, headers={"Cache-Control": "no-store", "Content-Security-Policy": PAGE_CSP})
    return FileResponse(target)
