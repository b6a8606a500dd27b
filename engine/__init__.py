"""Public engine API: the commands and queries api/ and the CLI use. Everything else is internal."""
from engine.audit import ChainReport
from engine.clock import Clock, FakeClock, SystemClock
from engine.config import Settings
from engine.context import EngineContext, open_engine
from engine.definitions import (
    DefinitionSummary,
    DeployResult,
    deploy,
    deploy_directory,
    list_definitions,
    validate_definition,
)
from engine.errors import Diagnostic
from engine.instances import find_instances, get_instance, start_instance
from engine.maintenance import migrate_database, verify_audit_chain
from engine.subject import Subject
from engine.tasks import CompleteResult, complete_task, get_task, list_tasks
from engine.views import InstanceView, TaskDetail, TaskView

# isort: split
# Staff pages (web inbox): list/filter/count queries, instance overview, start forms, statistics.
from engine.diagrams import InstanceOverview, TimelineEntry, definition_xml, instance_overview
from engine.inbox_queries import (
    InboxPage,
    InboxQuery,
    InboxRow,
    inbox_counts,
    inbox_facets,
    inbox_page,
    task_actions,
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
    # staff pages
    "InboxPage",
    "InboxQuery",
    "InboxRow",
    "InstanceOverview",
    "StartableProcess",
    "Statistics",
    "StepDuration",
    "TimelineEntry",
    "definition_xml",
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
