"""What the designer offers to pick from (roles, connectors) and who may use it."""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass, field
from typing import Any

from engine import audit
from engine.connectors import connector_names
from engine.context import EngineContext
from engine.errors import PermissionDenied
from engine.permissions import allowed_somewhere
from engine.subject import Subject

log = logging.getLogger("engine.designer")


@dataclass(frozen=True)
class RoleInfo:
    key: str
    title: str
    title_en: str = ""


@dataclass(frozen=True)
class ConnectorInfo:
    topic: str
    title: str
    params: list[str] = field(default_factory=list)


# Chinese titles and parameter names of the shipped connectors. Which connectors exist is the
# registry's answer (`engine.connectors.connector_names()`); a registered connector missing here is
# still offered, under its name and without parameter hints.
CONNECTOR_LABELS: dict[str, tuple[str, list[str]]] = {
    "identity.verify": ("区域平台身份核验", ["name", "id_number", "phone", "agent_id_number"]),
    "his.check_archive": (
        "HIS 病案归档检查",
        ["institution", "id_number", "admission_date", "discharge_date"],
    ),
    "his.book_bed": ("HIS 预约床位", ["patient_id", "ward_type", "date"]),
    "his.book_exams": ("HIS 预约术前检查", ["patient_id", "orders", "before_date"]),
    "his.notify": ("通知 HIS（退费/结算）", ["event", "order_no", "refund_request_id", "amount"]),
    "http.request": ("通用 HTTP 请求（仅限允许的地址）", ["url", "method", "json", "headers"]),
    "payment.refund": ("支付平台退款", ["channel", "order_no", "refund_request_id", "amount", "reason"]),
    "payment.refund_status": ("查询退款状态", ["channel", "refund_request_id"]),
    "notify.patient": (
        "通知患者",
        [
            "template",
            "patient_id",
            "phone",
            "institution",
            "status",
            "reason",
            "amount",
            "materials",
            "appointment_time",
            "download_url",
        ],
    ),
    "notify.sms": ("短信通知", ["template", "role", "institution", "patient_name"]),
    "notify.staff": (
        "通知工作人员（超时提醒）",
        ["task_id", "title", "step", "roles", "users", "assignee", "institution", "due_at"],
    ),
    "clinic.notify_patients": (
        "通知已预约患者停诊",
        ["department", "doctor", "start_date", "end_date", "session", "substitute_doctor"],
    ),
    "clinic.release_slots": ("释放号源", ["department", "doctor", "start_date", "end_date", "session"]),
}


def list_roles(ctx: EngineContext) -> list[RoleInfo]:
    """The platform's roles with Chinese labels, from policies/roles.csv."""
    path = ctx.settings.policies_dir / "roles.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        return [
            RoleInfo(r["role"], r.get("label_zh") or r["role"], r.get("label_en") or "")
            for r in csv.DictReader(fh)
            if r.get("role")
        ]


def list_connectors(_ctx: EngineContext) -> list[ConnectorInfo]:
    """Every registered connector a service task may call, with Chinese titles and parameter names."""
    out = []
    for name in connector_names():
        title, params = CONNECTOR_LABELS.get(name, (name, []))
        out.append(ConnectorInfo(name, title, list(params)))
    return out


def is_designer(ctx: EngineContext, subject: Subject) -> bool:
    """Whether the policy allows `admin` on `designer` in some institution (seed: process_admin)."""
    return allowed_somewhere(ctx, subject, "designer", "admin")


def require_designer(ctx: EngineContext, subject: Subject, resource: str) -> Subject:
    """Let process administrators through; record every refusal in the audit trail.

    Raises:
        PermissionDenied: the policy grants the subject `designer` `admin` nowhere (audited as
            ``designer.denied``).
    """
    if is_designer(ctx, subject):
        return subject

    def command(session: Any) -> None:
        audit.append(
            session,
            actor=subject.username,
            action="designer.denied",
            at=ctx.clock.now(),
            reason="需要流程管理员角色 (process_admin required)",
            details={"resource": resource[:200]},
        )

    ctx.db.run(command)
    log.warning("designer access denied", extra={"actor": subject.username})
    denied = PermissionDenied("需要流程管理员角色 (designer requires process_admin)", resource=resource)
    denied.audited = True  # designer.denied above; no second record
    raise denied
