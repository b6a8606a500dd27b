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

# Designer (process administrators): drafts, forms, validate, import, diff, deploy, dry-run, migrate, export.
from engine.designer import (  # noqa: E402 - kept as its own block
    ConnectorInfo,
    DefinitionXml,
    DesignDiff,
    DraftInfo,
    DryRunResult,
    DryRunTask,
    ElementChange,
    ExportResult,
    FormInfo,
    ImportItem,
    ImportResult,
    MigrationCandidate,
    MigrationOutcome,
    RoleInfo,
    VersionInfo,
    definition_xml,
    deploy_design,
    diff_design,
    dry_run,
    export_definition,
    get_form,
    import_bpmn,
    is_designer,
    list_connectors,
    list_drafts,
    list_forms,
    list_roles,
    list_versions,
    load_draft,
    migrate_instances,
    migration_candidates,
    require_designer,
    save_draft,
    save_form,
    validate_design,
)

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

__all__ += [  # designer
    "ConnectorInfo", "DefinitionXml", "DesignDiff", "DraftInfo", "DryRunResult", "DryRunTask", "ElementChange",
    "ExportResult", "FormInfo", "ImportItem", "ImportResult", "MigrationCandidate", "MigrationOutcome", "RoleInfo",
    "VersionInfo", "definition_xml", "deploy_design", "diff_design", "dry_run", "export_definition", "get_form",
    "import_bpmn", "is_designer", "list_connectors", "list_drafts", "list_forms", "list_roles", "list_versions",
    "load_draft", "migrate_instances", "migration_candidates", "require_designer", "save_draft", "save_form",
    "validate_design",
]
