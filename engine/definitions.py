"""Validate and deploy process definitions (BPMN + DMN + referenced forms) as immutable versions."""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import audit
from engine.bpmn.runtime import ParsedBundle
from engine.bpmn.validation import validate_bundle
from engine.context import EngineContext
from engine.errors import Diagnostic, InvalidDefinition, NotFound
from engine.forms import Form, is_valid_form_key, load_form, schema_problem
from engine.models import Definition

log = logging.getLogger("engine.definition")
FORM_SUFFIX = ".schema.json"
UI_SUFFIX = ".ui.json"


@dataclass(frozen=True)
class DeployResult:
    definition_id: str
    process_key: str
    version: int
    created: bool
    warnings: tuple[Diagnostic, ...] = ()


@dataclass(frozen=True)
class DefinitionSummary:
    id: str
    process_key: str
    version: int
    name: str
    content_hash: str
    deployed_by: str
    deployed_at: str
    steps: dict[str, Any]
    attributes: dict[str, Any]


def _load_json(name: str, content: bytes, problems: list[Diagnostic]) -> dict[str, Any] | None:
    try:
        value = json.loads(content)
    except (ValueError, UnicodeDecodeError) as exc:
        problems.append(Diagnostic(f"表单文件不是有效的 JSON (invalid JSON): {exc}", file=name, rule="form-json",
                                   line=getattr(exc, "lineno", None)))
        return None
    if not isinstance(value, dict):
        problems.append(Diagnostic("表单文件必须是 JSON 对象 (form must be a JSON object)", file=name,
                                   rule="form-json"))
        return None
    return value


def _split_bundle(files: dict[str, bytes]) -> tuple[dict[str, bytes], dict[str, Form], list[Diagnostic]]:
    """Separate model files from uploaded forms (`<key>.schema.json` / `<key>.ui.json`)."""
    models = {n: c for n, c in files.items() if n.lower().endswith((".bpmn", ".dmn"))}
    forms, problems = {}, []
    for name, content in files.items():
        base = Path(name).name
        if base.endswith(FORM_SUFFIX):
            key = base[: -len(FORM_SUFFIX)]
            ui_name = next((n for n in files if Path(n).name == key + UI_SUFFIX), None)
            schema = _load_json(name, content, problems)
            ui = _load_json(ui_name, files[ui_name], problems) if ui_name else {}
            if schema is not None and ui is not None:
                forms[key] = Form(key=key, schema=schema, ui=ui)
    return models, forms, problems


def _referenced_forms(
    ctx: EngineContext, bundle: ParsedBundle, uploaded: dict[str, Form]
) -> tuple[dict[str, Form], list[Diagnostic]]:
    """Every form the process uses (its start form and each step's) must exist and be a valid schema."""
    forms, problems = {}, []
    wanted = [(node_id, meta.extensions.get("formKey")) for node_id, meta in bundle.steps.items()]
    if bundle.attributes.get("startForm"):
        wanted.insert(0, (bundle.process_key, bundle.attributes["startForm"]))
    for node_id, key in wanted:
        if not key or key in forms:
            continue
        if not is_valid_form_key(key):
            problems.append(Diagnostic(f"表单标识无效 (invalid form key {key[:60]!r}: use letters, digits, _ and -)",
                                       element_id=node_id, rule="form-key"))
            continue
        form = uploaded.get(key) or load_form(ctx.settings.forms_dir, key)
        if form is None:
            problems.append(Diagnostic(f"表单 {key} 不存在 (form not found: forms/{key}.schema.json)",
                                       element_id=node_id, rule="form-exists"))
            continue
        reason = schema_problem(form.schema)
        if reason:
            problems.append(Diagnostic(reason, element_id=node_id, rule="form-schema"))
        forms[key] = form
    return forms, problems


def _content_hash(models: dict[str, bytes], forms: dict[str, Form]) -> str:
    h = hashlib.sha256()
    for name in sorted(models):
        h.update(Path(name).name.encode() + b"\0" + models[name] + b"\0")
    for key in sorted(forms):
        h.update(key.encode() + json.dumps(forms[key].to_dict(), sort_keys=True).encode())
    return h.hexdigest()


def validate_definition(ctx: EngineContext, files: dict[str, bytes]) -> list[Diagnostic]:
    """Every problem deployment would refuse (errors) or tolerate (warnings), without deploying."""
    models, uploaded, json_problems = _split_bundle(files)
    if not any(n.lower().endswith(".bpmn") for n in models):
        return [Diagnostic("没有 BPMN 文件 (no .bpmn file in the bundle)", rule="bundle")]
    diagnostics = json_problems + validate_bundle(models, parse=ctx.runtime.make_parser_check)
    if any(d.severity == "error" for d in diagnostics):
        return diagnostics
    bundle = ctx.runtime.parse_bundle(models)
    _, form_problems = _referenced_forms(ctx, bundle, uploaded)
    return diagnostics + form_problems


def deploy(ctx: EngineContext, files: dict[str, bytes], *, actor: str, comment: str = "") -> DeployResult:
    """Deploy a bundle as the next version of its process key; an identical bundle returns the existing one.

    Raises:
        InvalidDefinition: with diagnostics (element id, line, message) when anything is wrong.
    """
    diagnostics = validate_definition(ctx, files)
    errors = [d for d in diagnostics if d.severity == "error"]
    if errors:
        raise InvalidDefinition("流程定义校验失败 (definition is invalid)", errors)
    models, uploaded, _ = _split_bundle(files)
    bundle = ctx.runtime.parse_bundle(models)
    forms, _ = _referenced_forms(ctx, bundle, uploaded)
    content_hash = _content_hash(models, forms)
    warnings = tuple(d for d in diagnostics if d.severity != "error")

    def command(session: Session) -> DeployResult:
        existing = session.scalar(select(Definition).where(
            Definition.process_key == bundle.process_key, Definition.content_hash == content_hash))
        if existing is not None:
            return DeployResult(existing.id, existing.process_key, existing.version, False, warnings)
        version = (session.scalar(select(func.max(Definition.version)).where(
            Definition.process_key == bundle.process_key)) or 0) + 1
        row = Definition(
            process_key=bundle.process_key, version=version, name=bundle.name, content_hash=content_hash,
            files={n: c.decode("utf-8") for n, c in models.items()},
            forms={k: f.to_dict() for k, f in forms.items()},
            attributes=bundle.attributes,
            steps={k: {"name": m.name, "extensions": m.extensions} for k, m in bundle.steps.items()},
            spec_json=bundle.spec_json, deployed_by=actor, deployed_at=ctx.clock.now(), comment=comment,
        )
        session.add(row)
        session.flush()
        audit.append(session, actor=actor, action="definition.deploy", at=ctx.clock.now(),
                     payload={"hash": content_hash}, reason=comment,
                     details={"process_key": bundle.process_key, "version": version})
        return DeployResult(row.id, row.process_key, row.version, True, warnings)

    result = ctx.db.run(command)
    log.info("deployed", extra={"process_key": result.process_key, "version": result.version})
    return result


def bundle_from_directory(folder: Path) -> list[dict[str, bytes]]:
    """One bundle per .bpmn file in `folder` (recursively), each with the DMN files beside it."""
    bundles = []
    for bpmn in sorted(folder.rglob("*.bpmn")):
        files = {bpmn.name: bpmn.read_bytes()}
        files.update({d.name: d.read_bytes() for d in sorted(bpmn.parent.glob("*.dmn"))})
        bundles.append(files)
    return bundles


def deploy_directory(ctx: EngineContext, folder: Path, *, actor: str) -> list[DeployResult]:
    """Deploy every process under `folder` (e.g. processes/)."""
    return [deploy(ctx, files, actor=actor) for files in bundle_from_directory(folder)]


def _summary(row: Definition) -> DefinitionSummary:
    return DefinitionSummary(row.id, row.process_key, row.version, row.name, row.content_hash,
                             row.deployed_by, row.deployed_at.isoformat(), row.steps, row.attributes)


def list_definitions(ctx: EngineContext, latest_only: bool = True) -> list[DefinitionSummary]:
    with ctx.db.unit_of_work() as session:
        rows = session.scalars(select(Definition).order_by(Definition.process_key, Definition.version)).all()
    if latest_only:
        latest: dict[str, Definition] = {}
        for row in rows:
            latest[row.process_key] = row
        rows = list(latest.values())
    return [_summary(r) for r in rows]


def latest_definition(session: Session, process_key: str) -> Definition:
    row = session.scalar(select(Definition).where(Definition.process_key == process_key)
                         .order_by(Definition.version.desc()).limit(1))
    if row is None:
        raise NotFound(f"流程 {process_key} 未部署 (process not deployed)", process_key=process_key)
    return row
