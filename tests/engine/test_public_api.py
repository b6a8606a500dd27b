"""Pin the engine's public names (changing them is an API change) and the one-way dependency rule."""
from __future__ import annotations

import ast
from pathlib import Path

import engine

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = ("api", "fastapi", "starlette", "jinja2")

EXPECTED = {
    "ChainReport", "Clock", "CompleteResult", "DefinitionSummary", "DeployResult", "Diagnostic",
    "EngineContext", "FakeClock", "InstanceView", "Settings", "Subject", "SystemClock", "TaskDetail",
    "TaskView", "check_consistency", "complete_task", "deploy", "deploy_directory", "find_instances", "get_instance",
    "get_task",
    "list_definitions", "list_tasks", "migrate_database", "open_engine", "ResealReport", "reseal_sensitive",
    "start_instance",
    "validate_definition", "verify_audit_chain",
}
OPERATIONS = {
    "URGENT_PRIORITY", "AttachmentView", "BulkResult", "CommentView", "SignerView", "TimelineEntry",
    "add_attachment", "add_comment", "add_signer", "admin_approve", "admin_reassign", "admin_reset", "admin_skip",
    "authorize", "bulk_approve", "bulk_reassign", "cc", "claim_task", "delegate_task", "list_attachments",
    "list_cc", "list_comments", "list_notifications", "list_signers", "mark_read", "notify_overdue",
    "read_attachment", "remove_signer", "send_back", "timeline", "transfer_task", "unclaim_task",
    "unread_count", "urge", "withdraw",
}

# Staff and admin pages: what a user may do on a task, which institutions an admin may manage.
PAGES = {"task_actions", "permitted_institutions", "INSTITUTION_KINDS", "USER_IMPORT_COLUMNS", "known_roles",
         "allowed_somewhere", "require_allowed_somewhere"}


def test_public_names_are_pinned():
    assert set(engine.__all__) >= EXPECTED | OPERATIONS | PAGES
    for name in engine.__all__:
        assert hasattr(engine, name), name


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


# Jinja2 is allowed for message templates only (not page code), in this one module.
JINJA_ALLOWED = {"engine/notifications/templates.py"}


def test_engine_never_imports_the_web_layer():
    offenders = {str(p.relative_to(ROOT)): _imports(p) & set(FORBIDDEN)
                 for p in (ROOT / "engine").rglob("*.py")}
    for name in JINJA_ALLOWED:
        offenders[name] = offenders.get(name, set()) - {"jinja2"}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_api_imports_only_the_public_engine():
    allowed = {"engine", "engine.errors"}
    for path in (ROOT / "api").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("engine"):
                assert node.module in allowed, f"{path.relative_to(ROOT)} imports {node.module}"


def test_public_names_are_unique():
    """Two packages exporting one name would silently shadow each other in engine/__init__.py."""
    duplicated = sorted({n for n in engine.__all__ if engine.__all__.count(n) > 1})
    assert duplicated == []
