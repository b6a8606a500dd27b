"""Approval operations from the task page: send back, transfer, delegate, add signer, urge, CC, comment,
attachment, claim/unclaim. The page offers only what fits the user; the engine re-checks every command."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

import engine
from api.pages.common import PageCtx, PageSubject, html_errors, redirect
from engine import Subject, TaskDetail
from engine.errors import FieldError, NotFound, ValidationFailed

router = APIRouter(include_in_schema=False)
POSITIONS = ("before", "after", "countersign")
# Operations after which the user usually no longer holds the task: back to the inbox.
LEAVES_TASK = {"send_back", "transfer", "delegate"}
TEXT_MAX = 2000


def offered(subject: Subject, detail: TaskDetail, actions: list[str]) -> list[str]:
    """The operation forms to show on the task page (a subset of what the engine would allow)."""
    task, ops = detail.task, []
    is_open = task.state == "open"
    if is_open and "complete" in actions:
        if task.assignee is None:
            ops.append("claim")
        elif task.assignee == subject.username and (task.candidate_roles or len(task.candidate_users) > 1):
            ops.append("unclaim")
        ops += ["send_back", "transfer", "delegate", "add_signer", "cc"]
    if detail.instance.initiator == subject.username and detail.instance.ended_at is None:
        ops.append("urge")
    return ops + ["comment", "attach"]


def send_back_targets(detail: TaskDetail) -> list[tuple[str, str]]:
    """Completed steps on the path (besides applicant/previous); the engine refuses any other target."""
    seen, targets = {detail.task.node_id}, []
    for t in detail.instance.history:
        if t.state != "open" and t.node_id not in seen and t.outcome not in (None, "cancelled"):
            seen.add(t.node_id)
            targets.append((t.node_id, t.name))
    return targets


def _text(form: Any, name: str, limit: int = TEXT_MAX) -> str:
    return str(form.get(name) or "").strip()[:limit]


def _users(value: str) -> list[str]:
    return [u for u in (p.strip() for p in value.replace("，", ",").replace(" ", ",").split(",")) if u][:50]


@router.post("/tasks/{task_id}/op/{name}")
@html_errors
async def operate(task_id: str, name: str, request: Request, ctx: PageCtx, subject: PageSubject) -> Response:
    form = await request.form()
    task = engine.get_task(ctx, task_id, subject).task
    if name in ("comment", "attach"):
        await _share(ctx, subject, task_id, task.instance_id, name, form)
    else:
        _command(ctx, subject, task_id, task.instance_id, name, form)
    if name in LEAVES_TASK:
        return redirect(f"/inbox?tab=todo&flash=op_{name}")
    return redirect(f"/tasks/{task_id}?flash=op_{name}")


def _command(ctx: engine.EngineContext, subject: Subject, task_id: str, instance_id: str, name: str,
             form: Any) -> None:
    reason = _text(form, "reason")
    if name == "claim":
        engine.claim_task(ctx, task_id, subject, reason=reason)
    elif name == "unclaim":
        engine.unclaim_task(ctx, task_id, subject, reason=reason)
    elif name == "send_back":
        engine.send_back(ctx, task_id, subject, target=_text(form, "target", 100) or "previous", reason=reason)
    elif name == "transfer":
        engine.transfer_task(ctx, task_id, subject, _text(form, "username", 100), reason=reason)
    elif name == "delegate":
        engine.delegate_task(ctx, task_id, subject, _text(form, "username", 100), reason=reason)
    elif name == "add_signer":
        position = _text(form, "position", 20)
        engine.add_signer(ctx, task_id, subject, _text(form, "username", 100),
                          position=position if position in POSITIONS else "after", reason=reason)
    elif name == "urge":
        engine.urge(ctx, instance_id, subject, reason=reason)
    elif name == "cc":
        engine.cc(ctx, instance_id, subject, _users(_text(form, "usernames", 1000)), reason=reason)
    else:
        raise NotFound("没有这个操作。")


async def _share(ctx: engine.EngineContext, subject: Subject, task_id: str, instance_id: str, name: str,
                 form: Any) -> None:
    if name == "comment":
        engine.add_comment(ctx, instance_id, subject, _text(form, "body"), task_id=task_id)
        return
    upload = form.get("file")
    if upload is None or not hasattr(upload, "read"):
        raise ValidationFailed("请选择要上传的文件。", [FieldError("/file", "请选择要上传的文件。", "required")])
    engine.add_attachment(ctx, instance_id, subject, upload.filename or "file", await upload.read(),
                          task_id=task_id)
