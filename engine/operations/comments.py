"""Comments and attachments on an instance/task; the instance timeline (history incl. overrides)."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.context import EngineContext
from engine.errors import FieldError, NotFound, ValidationFailed
from engine.models import Attachment, AuditRecord, Comment, HumanTask
from engine.models.base import new_id
from engine.operations._common import load_instance, record
from engine.permissions import authorize, run_command
from engine.subject import Subject

# extension -> (content type, accepted leading bytes)
MAGIC: dict[str, tuple[str, tuple[bytes, ...]]] = {
    "pdf": ("application/pdf", (b"%PDF-",)),
    "png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    "jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", (b"PK\x03\x04",)),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (b"PK\x03\x04",)),
    "doc": ("application/msword", (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)),
    "xls": ("application/vnd.ms-excel", (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)),
}


@dataclass(frozen=True)
class CommentView:
    id: str
    instance_id: str
    task_id: str | None
    author: str
    body: str
    created_at: datetime


@dataclass(frozen=True)
class AttachmentView:
    id: str
    instance_id: str
    task_id: str | None
    uploaded_by: str
    filename: str
    content_type: str
    size: int
    sha256: str
    created_at: datetime


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    actor: str
    action: str
    task_id: str | None
    reason: str
    override: bool
    details: dict[str, Any]
    step: str = ""  # the step's name when the record concerns a step
    outcome: str | None = None


def timeline_entries(session: Session, instance_id: str, step_names: dict[str, str]) -> list[TimelineEntry]:
    """An instance's history from the audit trail, oldest first (used by the API and the instance page)."""
    rows = session.scalars(select(AuditRecord).where(AuditRecord.instance_id == instance_id)
                           .order_by(AuditRecord.seq)).all()
    entries = []
    for r in rows:
        details = dict(r.details or {})
        node = details.get("node_id", "")
        entries.append(TimelineEntry(r.at, r.actor, r.action, r.task_id, r.reason, bool(details.get("override")),
                                     details, step_names.get(node, node), details.get("outcome")))
    return entries


def _check_task(session: Session, instance_id: str, task_id: str | None) -> HumanTask | None:
    if task_id is None:
        return None
    task = session.get(HumanTask, task_id)
    if task is None or task.instance_id != instance_id:
        raise NotFound("任务不存在 (task not found)", task_id=task_id)
    return task


def add_comment(ctx: EngineContext, instance_id: str, subject: Subject, body: str, *,
                task_id: str | None = None) -> CommentView:
    """Add a comment (readers, including CC readers, may comment; comments never change form data)."""
    text = (body or "").strip()
    if not text or len(text) > 5000:
        raise ValidationFailed("评论不能为空且不超过5000字", [FieldError("/body", "1-5000")])

    def command(session: Session) -> CommentView:
        loaded = load_instance(session, instance_id)
        task = _check_task(session, instance_id, task_id)
        authorize(ctx, session, subject, "comment", task=task, instance=loaded.instance)
        row = Comment(instance_id=instance_id, task_id=task_id, author=subject.username, body=text,
                      created_at=ctx.clock.now())
        session.add(row)
        session.flush()
        record(ctx, session, subject, "instance.comment", instance=loaded.instance, task=task, comment_id=row.id)
        return CommentView(row.id, row.instance_id, row.task_id, row.author, row.body, row.created_at)

    return run_command(ctx, command)


def list_comments(ctx: EngineContext, instance_id: str, subject: Subject) -> list[CommentView]:
    def command(session: Session) -> list[CommentView]:
        loaded = load_instance(session, instance_id)
        authorize(ctx, session, subject, "read", instance=loaded.instance)
        rows = session.scalars(select(Comment).where(Comment.instance_id == instance_id)
                               .order_by(Comment.created_at, Comment.id)).all()
        return [CommentView(r.id, r.instance_id, r.task_id, r.author, r.body, r.created_at) for r in rows]

    return run_command(ctx, command)


def check_upload(filename: str, content: bytes, max_bytes: int, allowed: tuple[str, ...]) -> str:
    """Return the content type of an acceptable upload (extension AND magic bytes agree).

    Raises:
        ValidationFailed: empty, too large, extension not whitelisted, or content not matching it.
    """
    ext = Path(filename or "").suffix.lower().lstrip(".")
    if not content:
        raise ValidationFailed("文件为空 (empty file)", [FieldError("/file", "empty")])
    if len(content) > max_bytes:
        raise ValidationFailed(f"文件超过 {max_bytes // (1024 * 1024)}MB (file too large)",
                               [FieldError("/file", "too large", "maxSize")])
    if ext not in allowed or ext not in MAGIC:
        raise ValidationFailed("不允许的文件类型 (file type not allowed)", [FieldError("/file", ext, "extension")])
    content_type, magics = MAGIC[ext]
    if not content.startswith(magics):
        raise ValidationFailed("文件内容与扩展名不符 (content does not match the extension)",
                               [FieldError("/file", ext, "magic")])
    return content_type


def _storage(ctx: EngineContext) -> Path:
    return ctx.settings.var_dir / "uploads"


def add_attachment(ctx: EngineContext, instance_id: str, subject: Subject, filename: str, content: bytes, *,
                   task_id: str | None = None) -> AttachmentView:
    """Store an upload under var/uploads (outside any web root, by id) and record its sha256."""
    content_type = check_upload(filename, content, ctx.settings.upload_max_bytes, ctx.settings.upload_extensions)
    sha256 = hashlib.sha256(content).hexdigest()
    safe_name = Path(filename).name[:255]

    def command(session: Session) -> AttachmentView:
        loaded = load_instance(session, instance_id)
        task = _check_task(session, instance_id, task_id)
        authorize(ctx, session, subject, "comment", task=task, instance=loaded.instance)
        key = f"{sha256[:2]}/{new_id()}"
        path = _storage(ctx) / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        row = Attachment(instance_id=instance_id, task_id=task_id, uploaded_by=subject.username, filename=safe_name,
                         content_type=content_type, size=len(content), sha256=sha256, storage_key=key,
                         created_at=ctx.clock.now())
        session.add(row)
        session.flush()
        record(ctx, session, subject, "instance.attach", instance=loaded.instance, task=task,
               attachment_id=row.id, sha256=sha256, size=len(content))
        return _attachment_view(row)

    return run_command(ctx, command)


def _attachment_view(r: Attachment) -> AttachmentView:
    return AttachmentView(r.id, r.instance_id, r.task_id, r.uploaded_by, r.filename, r.content_type, r.size,
                          r.sha256, r.created_at)


def list_attachments(ctx: EngineContext, instance_id: str, subject: Subject) -> list[AttachmentView]:
    def command(session: Session) -> list[AttachmentView]:
        loaded = load_instance(session, instance_id)
        authorize(ctx, session, subject, "read", instance=loaded.instance)
        rows = session.scalars(select(Attachment).where(Attachment.instance_id == instance_id)
                               .order_by(Attachment.created_at, Attachment.id)).all()
        return [_attachment_view(r) for r in rows]

    return run_command(ctx, command)


def read_attachment(ctx: EngineContext, attachment_id: str, subject: Subject) -> tuple[AttachmentView, bytes]:
    """An attachment's metadata and bytes, for readers of its instance (content re-checked by sha256)."""

    def command(session: Session) -> tuple[AttachmentView, bytes]:
        row = session.get(Attachment, attachment_id)
        if row is None:
            raise NotFound("附件不存在 (attachment not found)", attachment_id=attachment_id)
        authorize(ctx, session, subject, "read", instance=load_instance(session, row.instance_id).instance)
        content = (_storage(ctx) / row.storage_key).read_bytes()
        if hashlib.sha256(content).hexdigest() != row.sha256:
            raise NotFound("附件内容已损坏 (attachment content changed)", attachment_id=attachment_id)
        return _attachment_view(row), content

    return run_command(ctx, command)


def timeline(ctx: EngineContext, instance_id: str, subject: Subject) -> list[TimelineEntry]:
    """The instance's full history from the audit trail; admin overrides are flagged `override`."""

    def command(session: Session) -> list[TimelineEntry]:
        loaded = load_instance(session, instance_id)
        authorize(ctx, session, subject, "read", instance=loaded.instance)
        names = {k: v.get("name", k) for k, v in (loaded.definition.steps or {}).items()}
        return timeline_entries(session, instance_id, names)

    return run_command(ctx, command)
