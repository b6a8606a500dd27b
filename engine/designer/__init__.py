"""Designer back end (pure engine code): catalogs, drafts, validate, import, diff, deploy, dry-run,
migration and export. The API's /api/designer router calls only these (re-exported by `engine`)."""

from engine.designer.catalog import (
    ConnectorInfo,
    RoleInfo,
    is_designer,
    list_connectors,
    list_roles,
    require_designer,
)
from engine.designer.dryrun import DryRunResult, DryRunTask, dry_run
from engine.designer.export import ExportResult, export_definition
from engine.designer.importer import BpmnImportReport, ImportItem, import_bpmn
from engine.designer.migration import (
    MigrationCandidate,
    MigrationOutcome,
    migrate_instances,
    migration_candidates,
)
from engine.designer.store import (
    DraftInfo,
    FormInfo,
    get_form,
    list_drafts,
    list_forms,
    load_draft,
    save_draft,
    save_form,
)
from engine.designer.versions import (
    DefinitionXml,
    DesignDiff,
    ElementChange,
    VersionInfo,
    definition_xml,
    deploy_design,
    diff_design,
    list_versions,
    validate_design,
)

__all__ = [
    "ConnectorInfo",
    "DefinitionXml",
    "DesignDiff",
    "DraftInfo",
    "DryRunResult",
    "DryRunTask",
    "ElementChange",
    "ExportResult",
    "FormInfo",
    "ImportItem",
    "BpmnImportReport",
    "MigrationCandidate",
    "MigrationOutcome",
    "RoleInfo",
    "VersionInfo",
    "definition_xml",
    "deploy_design",
    "diff_design",
    "dry_run",
    "export_definition",
    "get_form",
    "import_bpmn",
    "is_designer",
    "list_connectors",
    "list_drafts",
    "list_forms",
    "list_roles",
    "list_versions",
    "load_draft",
    "migrate_instances",
    "migration_candidates",
    "require_designer",
    "save_draft",
    "save_form",
    "validate_design",
]
