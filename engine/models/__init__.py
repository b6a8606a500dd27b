"""All tables, re-exported for Alembic and the engine's store modules."""
from engine.models.audit import AuditHead, AuditRecord
from engine.models.base import Base
from engine.models.definition import Definition
from engine.models.designer import FormDraft, ProcessDraft
from engine.models.human_task import HumanTask, TaskCandidate
from engine.models.identity import (
    ApiClientRecord,
    CasbinRule,
    Department,
    Institution,
    LoginCaptcha,
    PolicyVersion,
    SecuritySetting,
    UnknownLoginFailures,
    UsedNonce,
    User,
    UserSession,
)

# Background work (timers, messages, connectors, incidents, webhooks)
from engine.models.incident import Incident
from engine.models.instance import Instance
from engine.models.job import Job
from engine.models.message import MessageRecord, MessageWait
from engine.models.notification import Notification
from engine.models.operations import Attachment, Comment, Grant, Signer, SignPlan
from engine.models.task_sla import TaskSla
from engine.models.webhook import WebhookSubscription

__all__ = [
    "Attachment", "AuditHead", "AuditRecord", "Base", "Comment", "Definition", "Grant", "HumanTask", "Incident",
    "Instance", "Job",
    "MessageRecord", "MessageWait", "Notification", "SignPlan", "Signer", "TaskCandidate", "TaskSla",
    "WebhookSubscription",
    "ApiClientRecord", "CasbinRule", "Department", "Institution", "LoginCaptcha", "PolicyVersion", "SecuritySetting",
    "UnknownLoginFailures", "UsedNonce",
    "User", "UserSession",
    "FormDraft", "ProcessDraft",
]

from engine.models.announcement import Announcement  # noqa: E402

__all__ += ["Announcement"]
