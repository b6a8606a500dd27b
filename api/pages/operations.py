"""Approval operations from the task page: send back, transfer, delegate, add/remove signer, withdraw, urge,
CC, comment, attachment, claim/unclaim. The page offers what `engine.task_actions` allows; the engine
re-checks every command."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

import engine
from api.pages.common import PageCtx, PageSubject, form_text, html_errors, redirect
from engine import Subject, TaskDetail, TaskView
from engine.errors import FieldError, NotFound, ValidationFailed

router = APIRouter(include_in_schema=False)
POSITIONS = ("before", "after", "countersign")
# Operations after which the user usually no longer holds the task: back to the inbox.
LEAVES_TASK = {"send_back", "transfer", "delegate", "withdraw"}
TEXT_MAX = 2000


def removable_signers(request: Request, detail: TaskDetail, actions: list[str]) -> list[engine.SignerView]:
    """Signers the user may remove (减签) now; the engine marks them, the page only lists them."""
    if "remove_signer" not in actions:
        return []
    return [s for s in engine.list_signers(request.app.state.ctx, detail.task.id, request.state.subject)
            if s.removable]


def send_back_targets(detail: TaskDetail) -> list[tuple[str, str]]:
    """Completed steps on the path (besides applicant/previous); the engine refuses any other target."""
    seen, targets = {detail.task.node_id}, []
    for t in detail.instance.history:
        if t.state != "open" and t.node_id not in seen and t.outcome not in (None, "cancelled"):
            seen.add(t.node_id)
            targets.append((t.node_id, t.name))
    return targets


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
        _command(ctx, subject, task, name, form)
    if name in LEAVES_TASK:
        return redirect(f"/inbox?tab=todo&flash=op_{name}")
    return redirect(f"/tasks/{task_id}?flash=op_{name}")


Command = Callable[[engine.EngineContext, Subject, TaskView, Any, str], object]
COMMANDS: dict[str, Command] = {
    "claim": lambda ctx, who, task, form, reason: engine.claim_task(ctx, task.id, who, reason=reason),
    "unclaim": lambda ctx, who, task, form, reason: engine.unclaim_task(ctx, task.id, who, reason=reason),
    "send_back": lambda ctx, who, task, form, reason: engine.send_back(
        ctx, task.id, who, target=form_text(form, "target", 100) or "previous", reason=reason),
    "transfer": lambda ctx, who, task, form, reason: engine.transfer_task(
        ctx, task.id, who, form_text(form, "username", 100), reason=reason),
    "delegate": lambda ctx, who, task, form, reason: engine.delegate_task(
        ctx, task.id, who, form_text(form, "username", 100), reason=reason),
    "add_signer": lambda ctx, who, task, form, reason: engine.add_signer(
        ctx, task.id, who, form_text(form, "username", 100), position=_position(form), reason=reason),
    "remove_signer": lambda ctx, who, task, form, reason: engine.remove_signer(
        ctx, form_text(form, "signer_id", 100), who, reason=reason),
    "withdraw": lambda ctx, who, task, form, reason: engine.withdraw(ctx, task.instance_id, who, reason=reason),
    "urge": lambda ctx, who, task, form, reason: engine.urge(ctx, task.instance_id, who, reason=reason),
    "cc": lambda ctx, who, task, form, reason: engine.cc(
        ctx, task.instance_id, who, _users(form_text(form, "usernames", 1000)), reason=reason),
}


def _position(form: Any) -> str:
    position = form_text(form, "position", 20)
    return position if position in POSITIONS else "after"


def _command(ctx: engine.EngineContext, subject: Subject, task: TaskView, name: str, form: Any) -> None:
    command = COMMANDS.get(name)
    if command is None:
        raise NotFound("没有这个操作。")
    command(ctx, subject, task, form, form_text(form, "reason", TEXT_MAX))


async def _share(ctx: engine.EngineContext, subject: Subject, task_id: str, instance_id: str, name: str,
                 form: Any) -> None:
    if name == "comment":
        engine.add_comment(ctx, instance_id, subject, form_text(form, "body", TEXT_MAX), task_id=task_id)
        return
    upload = form.get("file")
    if upload is None or not hasattr(upload, "read"):
        raise ValidationFailed("请选择要上传的文件。", [FieldError("/file", "请选择要上传的文件。", "required")])
    engine.add_attachment(ctx, instance_id, subject, upload.filename or "file", await upload.read(),
                          task_id=task_id)
