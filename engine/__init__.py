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
]

# ---- identity, sessions, admin management, Casbin policy in the database (issue 3) ----
from engine.identity import *  # noqa: E402,F403 - the identity package pins its own __all__
from engine.identity import __all__ as _identity_all  # noqa: E402

__all__ += _identity_all
