"""Approval operations: /api/tasks/{id}/…, /api/instances/{id}/…, admin and bulk endpoints."""
from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import Response

import engine
from api.deps import Ctx, CurrentSubject
from api.schemas.operations import (
    AddSignerIn,
    AdminApproveIn,
    AdminResetIn,
    AttachmentOut,
    BulkApproveIn,
    BulkReassignIn,
    BulkResultOut,
    CcIn,
    CommentIn,
    CommentOut,
    ReasonIn,
    SendBackIn,
    SignerOut,
    TasksOut,
    TimelineOut,
    UserIn,
)
from api.schemas.workflow import InstanceOut, TaskOut

router = APIRouter(prefix="/api", tags=["operations"])


def _task(view: Any) -> TaskOut:
    return TaskOut.model_validate(view, from_attributes=True)


def _tasks(views: list[Any]) -> TasksOut:
    return TasksOut(tasks=[_task(v) for v in views])


@router.post("/tasks/{task_id}/claim", response_model=TaskOut)
def claim(task_id: str, body: ReasonIn, ctx: Ctx, subject: CurrentSubject) -> TaskOut:
    return _task(engine.claim_task(ctx, task_id, subject, reason=body.reason))


@router.post("/tasks/{task_id}/unclaim", response_model=TaskOut)
def unclaim(task_id: str, body: ReasonIn, ctx: Ctx, subject: CurrentSubject) -> TaskOut:
    return _task(engine.unclaim_task(ctx, task_id, subject, reason=body.reason))


@router.post("/tasks/{task_id}/signers", response_model=TasksOut)
def add_signer(task_id: str, body: AddSignerIn, ctx: Ctx, subject: CurrentSubject) -> TasksOut:
    return _tasks(engine.add_signer(ctx, task_id, subject, body.username, position=body.position,
                                    reason=body.reason))


@router.get("/tasks/{task_id}/signers", response_model=list[SignerOut])
def signers(task_id: str, ctx: Ctx, subject: CurrentSubject) -> list[SignerOut]:
    return [SignerOut.model_validate(s, from_attributes=True) for s in engine.list_signers(ctx, task_id, subject)]


@router.delete("/signers/{signer_id}", response_model=TasksOut)
def remove_signer(signer_id: str, ctx: Ctx, subject: CurrentSubject, reason: str = Query("", max_length=1000)
                  ) -> TasksOut:
    return _tasks(engine.remove_signer(ctx, signer_id, subject, reason=reason))


@router.post("/tasks/{task_id}/transfer", response_model=TaskOut)
def transfer(task_id: str, body: UserIn, ctx: Ctx, subject: CurrentSubject) -> TaskOut:
    return _task(engine.transfer_task(ctx, task_id, subject, body.username, reason=body.reason))


@router.post("/tasks/{task_id}/delegate", response_model=TaskOut)
def delegate(task_id: str, body: UserIn, ctx: Ctx, subject: CurrentSubject) -> TaskOut:
    return _task(engine.delegate_task(ctx, task_id, subject, body.username, reason=body.reason))


@router.post("/tasks/{task_id}/send-back", response_model=TasksOut)
def send_back(task_id: str, body: SendBackIn, ctx: Ctx, subject: CurrentSubject) -> TasksOut:
    return _tasks(engine.send_back(ctx, task_id, subject, target=body.target, reason=body.reason))


@router.post("/instances/{instance_id}/withdraw", response_model=TasksOut)
def withdraw(instance_id: str, body: ReasonIn, ctx: Ctx, subject: CurrentSubject) -> TasksOut:
    return _tasks(engine.withdraw(ctx, instance_id, subject, reason=body.reason))


@router.post("/instances/{instance_id}/urge", response_model=TasksOut)
def urge(instance_id: str, body: ReasonIn, ctx: Ctx, subject: CurrentSubject) -> TasksOut:
    return _tasks(engine.urge(ctx, instance_id, subject, reason=body.reason))


@router.post("/instances/{instance_id}/cc", response_model=list[str])
def cc(instance_id: str, body: CcIn, ctx: Ctx, subject: CurrentSubject) -> list[str]:
    return engine.cc(ctx, instance_id, subject, body.usernames, reason=body.reason)


@router.get("/cc", response_model=list[InstanceOut])
def cc_to_me(ctx: Ctx, subject: CurrentSubject, limit: int = Query(50, ge=1, le=500),
             offset: int = Query(0, ge=0)) -> list[InstanceOut]:
    views = engine.list_cc(ctx, subject, limit=limit, offset=offset)
    return [InstanceOut.model_validate(v, from_attributes=True) for v in views]


@router.get("/instances/{instance_id}/timeline", response_model=list[TimelineOut])
def history(instance_id: str, ctx: Ctx, subject: CurrentSubject) -> list[TimelineOut]:
    return [TimelineOut.model_validate(e, from_attributes=True) for e in engine.timeline(ctx, instance_id, subject)]


@router.post("/instances/{instance_id}/comments", response_model=CommentOut, status_code=201)
def comment(instance_id: str, body: CommentIn, ctx: Ctx, subject: CurrentSubject) -> CommentOut:
    view = engine.add_comment(ctx, instance_id, subject, body.body, task_id=body.task_id)
    return CommentOut.model_validate(view, from_attributes=True)


@router.get("/instances/{instance_id}/comments", response_model=list[CommentOut])
def comments(instance_id: str, ctx: Ctx, subject: CurrentSubject) -> list[CommentOut]:
    return [CommentOut.model_validate(c, from_attributes=True)
            for c in engine.list_comments(ctx, instance_id, subject)]


@router.post("/instances/{instance_id}/attachments", response_model=AttachmentOut, status_code=201)
def upload(instance_id: str, ctx: Ctx, subject: CurrentSubject, file: Annotated[UploadFile, File()],
           task_id: Annotated[str | None, Form()] = None) -> AttachmentOut:
    content = file.file.read(ctx.settings.upload_max_bytes + 1)
    view = engine.add_attachment(ctx, instance_id, subject, file.filename or "", content, task_id=task_id)
    return AttachmentOut.model_validate(view, from_attributes=True)


@router.get("/instances/{instance_id}/attachments", response_model=list[AttachmentOut])
def attachments(instance_id: str, ctx: Ctx, subject: CurrentSubject) -> list[AttachmentOut]:
    return [AttachmentOut.model_validate(a, from_attributes=True)
            for a in engine.list_attachments(ctx, instance_id, subject)]


@router.get("/attachments/{attachment_id}")
def download(attachment_id: str, ctx: Ctx, subject: CurrentSubject) -> Response:
    meta, content = engine.read_attachment(ctx, attachment_id, subject)
    return Response(content, media_type=meta.content_type, headers={
        "Content-Disposition": "attachment; filename*=UTF-8''" + quote(meta.filename),
        "X-Content-SHA256": meta.sha256})


@router.post("/tasks/{task_id}/admin/reassign", response_model=TaskOut)
def admin_reassign(task_id: str, body: UserIn, ctx: Ctx, subject: CurrentSubject) -> TaskOut:
    return _task(engine.admin_reassign(ctx, task_id, subject, body.username, reason=body.reason))


@router.post("/tasks/{task_id}/admin/approve", response_model=TasksOut)
def admin_approve(task_id: str, body: AdminApproveIn, ctx: Ctx, subject: CurrentSubject) -> TasksOut:
    return _tasks(engine.admin_approve(ctx, task_id, subject, reason=body.reason, outcome=body.outcome,
                                       data=body.data))


@router.post("/tasks/{task_id}/admin/skip", response_model=TasksOut)
def admin_skip(task_id: str, body: ReasonIn, ctx: Ctx, subject: CurrentSubject) -> TasksOut:
    return _tasks(engine.admin_skip(ctx, task_id, subject, reason=body.reason))


@router.post("/instances/{instance_id}/admin/reset", response_model=TasksOut)
def admin_reset(instance_id: str, body: AdminResetIn, ctx: Ctx, subject: CurrentSubject) -> TasksOut:
    return _tasks(engine.admin_reset(ctx, instance_id, subject, body.node_id, reason=body.reason))


@router.post("/admin/reassign-all", response_model=TasksOut)
def bulk_reassign(body: BulkReassignIn, ctx: Ctx, subject: CurrentSubject) -> TasksOut:
    return _tasks(engine.bulk_reassign(ctx, subject, body.from_user, body.to_user, reason=body.reason))


@router.post("/tasks/bulk-approve", response_model=list[BulkResultOut])
def bulk_approve(body: BulkApproveIn, ctx: Ctx, subject: CurrentSubject) -> list[BulkResultOut]:
    return [BulkResultOut.model_validate(r, from_attributes=True)
            for r in engine.bulk_approve(ctx, body.task_ids, subject, reason=body.reason)]
