"""Public engine API: the commands and queries api/ and the CLI use. Everything else is internal."""
from engine.audit import ChainReport

# Background work: jobs, timers, SLA, messages, connectors, incidents, webhooks
from engine.background import tick
from engine.bootstrap import open_engine
from engine.clock import Clock, FakeClock, SystemClock
from engine.config import Settings
from engine.context import EngineContext
from engine.definitions import (
    DefinitionSummary,
    DeployResult,
    deploy,
    deploy_directory,
    list_definitions,
    validate_definition,
)

# Designer (process administrators): drafts, forms, validate, import, diff, deploy, dry-run, migrate, export.
from engine.designer import *  # noqa: E402,F403 - the designer package pins its own __all__
from engine.designer import __all__ as _designer_all  # noqa: E402
from engine.errors import Diagnostic
from engine.incidents import IncidentView, list_incidents, retry_incident, retry_incidents, skip_incident
from engine.instances import find_instances, get_instance, start_instance
from engine.jobs.inline import InlineWorker, start_inline_worker
from engine.jobs.worker import run_due_jobs
from engine.maintenance import check_consistency, migrate_database, verify_audit_chain
from engine.messages import DeliveryResult, deliver_message, list_messages

# ---- approval operations, permissions and notifications (docs/OPERATIONS.md) ----
from engine.notifications.service import (
    list_notifications,
    mark_read,
    notify_overdue,
    unread_count,
    unread_counts,
)
from engine.operations.admin import (
    BulkResult,
    admin_approve,
    admin_reassign,
    admin_reset,
    admin_skip,
    bulk_approve,
    bulk_reassign,
)
from engine.operations.claims import claim_task, unclaim_task
from engine.operations.comments import (
    AttachmentView,
    CommentView,
    TimelineEntry,
    add_attachment,
    add_comment,
    list_attachments,
    list_comments,
    read_attachment,
    timeline,
)
from engine.operations.handover import delegate_task, transfer_task
from engine.operations.offers import task_actions
from engine.operations.reminders import cc, list_cc, urge
from engine.operations.sendback import send_back, withdraw
from engine.operations.signers import SignerView, add_signer, list_signers, remove_signer
from engine.permissions import allowed_somewhere, authorize, require_allowed_somewhere
from engine.reseal import ResealReport, reseal_sensitive
from engine.sla import escalate_task, overdue_tasks
from engine.subject import Subject
from engine.tasks import CompleteResult, complete_task, get_task, list_tasks
from engine.timers import fire_timer
from engine.urgency import URGENT_PRIORITY
from engine.views import InstanceView, TaskDetail, TaskView
from engine.webhooks import WebhookView, create_webhook, delete_webhook, list_webhooks, publish_event, verify_signature

# isort: split
# Staff pages (web inbox): list/filter/count queries, instance overview, start forms, statistics.
from engine.diagrams import InstanceOverview, instance_overview
from engine.inbox_queries import (
    InboxPage,
    InboxQuery,
    InboxRow,
    inbox_counts,
    inbox_facets,
    inbox_page,
)
from engine.starting import StartableProcess, start_form, start_with_form, startable_processes
from engine.stats import Statistics, StepDuration, statistics, statistics_csv_rows

__all__ = [
    "ChainReport",
    "Clock",
    "CompleteResult",
    "DefinitionSummary",
    "DeployResult",
    "Diagnostic",
    "EngineContext",
    "FakeClock",
    "InstanceView",
    "Settings",
    "Subject",
    "SystemClock",
    "TaskDetail",
    "TaskView",
    "check_consistency",
    "complete_task",
    "deploy",
    "deploy_directory",
    "find_instances",
    "get_instance",
    "get_task",
    "list_definitions",
    "list_tasks",
    "migrate_database",
    "open_engine",
    "start_instance",
    "validate_definition",
    "verify_audit_chain",
    # background work
    "DeliveryResult",
    "IncidentView",
    "InlineWorker",
    "WebhookView",
    "create_webhook",
    "delete_webhook",
    "deliver_message",
    "escalate_task",
    "fire_timer",
    "list_incidents",
    "list_messages",
    "list_webhooks",
    "overdue_tasks",
    "publish_event",
    "retry_incident",
    "retry_incidents",
    "run_due_jobs",
    "skip_incident",
    "start_inline_worker",
    "tick",
    "verify_signature",
    # staff pages
    "InboxPage",
    "InboxQuery",
    "InboxRow",
    "InstanceOverview",
    "StartableProcess",
    "Statistics",
    "StepDuration",
    "inbox_counts",
    "inbox_facets",
    "inbox_page",
    "instance_overview",
    "start_form",
    "start_with_form",
    "startable_processes",
    "statistics",
    "statistics_csv_rows",
    "task_actions",
]
__all__ += [
    "URGENT_PRIORITY", "AttachmentView", "BulkResult", "CommentView", "SignerView", "TimelineEntry",
    "add_attachment", "add_comment", "add_signer", "admin_approve", "admin_reassign", "admin_reset", "admin_skip",
    "authorize", "bulk_approve", "bulk_reassign", "cc", "claim_task", "delegate_task", "list_attachments",
    "list_cc", "list_comments", "list_notifications", "list_signers", "mark_read", "notify_overdue",
    "read_attachment", "remove_signer", "send_back", "timeline", "transfer_task", "unclaim_task",
    "unread_count", "unread_counts", "urge", "withdraw",
]
# Platform-wide admin objects (incident, webhook, message, designer): Casbin decides, denials audited.
__all__ += ["allowed_somewhere", "require_allowed_somewhere"]
# Key rotation: re-seal stored values under the current field key (docs/BPMN_EXTENSIONS.md).
__all__ += ["ResealReport", "reseal_sensitive"]

# ---- identity, sessions, admin management, Casbin policy in the database (issue 3) ----
from engine.identity import *  # noqa: E402,F403 - the identity package pins its own __all__
from engine.identity import __all__ as _identity_all  # noqa: E402

__all__ += _identity_all

__all__ += _designer_all

# ---- external API v1 and portal interface (issue 8) ----
from engine.announcements import (  # noqa: E402
    AnnouncementView,
    PortalTodo,
    announcements_for,
    create_announcement,
    portal_todos,
)
from engine.identity.policy import decide as policy_allows  # noqa: E402
from engine.identity.policy import require as require_permission  # noqa: E402
from engine.instances import cancel_instance, find_by_idempotency_key  # noqa: E402

__all__ += ["AnnouncementView", "PortalTodo", "announcements_for", "cancel_instance", "create_announcement",
            "find_by_idempotency_key", "policy_allows", "portal_todos", "require_permission"]
