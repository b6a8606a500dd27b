"""Designer view of definitions: list versions, read one version's XML, validate, diff and deploy a draft."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from engine.bpmn.migration import spec_changes
from engine.context import EngineContext
from engine.definitions import DeployResult, deploy, validate_definition
from engine.designer.catalog import list_connectors, list_roles
from engine.designer.checks import designer_checks
from engine.designer.store import designer_bundle, drop_deployed_draft, latest_row, list_drafts, load_draft
from engine.designer.xml import NS, elements_by_id, form_keys, parse_xml, process_key_of
from engine.errors import Diagnostic, InvalidDefinition, NotFound
from engine.forms import load_form
from engine.models import Definition


@dataclass(frozen=True)
class VersionInfo:
    """One deployed version (or a never-deployed draft, version 0)."""

    key: str
    name: str
    version: int
    deployed_by: str = ""
    deployed_at: datetime | None = None
    comment: str = ""


@dataclass(frozen=True)
class DefinitionXml:
    key: str
    version: int
    xml: str
    draft: bool = False


@dataclass(frozen=True)
class ElementChange:
    id: str
    fields: list[str]


@dataclass(frozen=True)
class DesignDiff:
    """What deploying the draft would change against the latest deployed version of the same key."""

    key: str
    against_version: int | None
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[ElementChange] = field(default_factory=list)
    forms_changed: list[str] = field(default_factory=list)


def list_versions(ctx: EngineContext) -> list[VersionInfo]:
    """Every deployed version of every process; each saved draft follows its key's versions as version 0."""
    with ctx.db.unit_of_work() as session:
        rows = session.execute(
            select(
                Definition.process_key,
                Definition.name,
                Definition.version,
                Definition.deployed_by,
                Definition.deployed_at,
                Definition.comment,
            ).order_by(Definition.process_key, Definition.version)
        ).all()
    out = [VersionInfo(*r) for r in rows]
    names = {v.key: v.name for v in out}
    for d in list_drafts(ctx):
        name = names.get(d.process_key, d.process_key)
        out.append(VersionInfo(d.process_key, name, 0, d.updated_by, d.updated_at, "草稿 (draft)"))
    # Stable sort: per key, the deployed versions in order, then the draft.
    return sorted(out, key=lambda v: v.key)


def _bpmn_text(files: dict[str, str]) -> str:
    return next(text for name, text in sorted(files.items()) if name.lower().endswith(".bpmn"))


def definition_xml(ctx: EngineContext, key: str, version: int | None = None) -> DefinitionXml:
    """The BPMN of one version: `version` 0 is the saved draft; None is the latest deployed version, or
    the draft when the key was never deployed.

    Raises:
        NotFound: no such version, or no draft when the draft is asked for.
    """
    if version == 0:
        return DefinitionXml(key, 0, load_draft(ctx, key).xml, draft=True)
    with ctx.db.unit_of_work() as session:
        row = latest_row(session, key, version)
        if row is not None:
            return DefinitionXml(key, row.version, _bpmn_text(row.files))
    if version is None:
        return DefinitionXml(key, 0, load_draft(ctx, key).xml, draft=True)
    raise NotFound(f"流程 {key} 没有版本 {version} (version not found)", process_key=key, version=version)


def _dedupe(items: list[Diagnostic]) -> list[Diagnostic]:
    seen, out = set(), []
    for d in items:
        marker = (d.element_id, d.message)
        if marker not in seen:
            seen.add(marker)
            out.append(d)
    return out


def validate_design(ctx: EngineContext, xml: str) -> list[Diagnostic]:
    """Deploy-time diagnostics for the draft (with the designer's forms) plus the hospital lint rules.

    Raises:
        InvalidDefinition: the XML is not well-formed or has no process (422 in the API).
    """
    root = parse_xml(xml)
    _, files = designer_bundle(ctx, xml)
    roles = {r.key for r in list_roles(ctx)}
    connectors = {c.topic for c in list_connectors(ctx)}
    return _dedupe(validate_definition(ctx, files) + designer_checks(root, roles, connectors))


def deploy_design(ctx: EngineContext, xml: str, *, actor: str, comment: str = "") -> DeployResult:
    """Deploy the draft with its forms as the next version of its key (forms are snapshotted).

    Raises:
        InvalidDefinition: with every error diagnostic (element id, line) when anything blocks deployment.
    """
    errors = [d for d in validate_design(ctx, xml) if d.severity == "error"]
    if errors:
        raise InvalidDefinition(f"{len(errors)} 个错误，未发布 (definition is invalid)", errors)
    key, files = designer_bundle(ctx, xml)
    result = deploy(ctx, files, actor=actor, comment=comment)
    drop_deployed_draft(ctx, key, xml)
    return result


def _flow_changes(old_root: Any, new_root: Any) -> tuple[list[str], list[str], list[ElementChange]]:
    """Sequence flows, unconnected elements and the process element are not task specs: compare the XML."""

    def flows(root: Any) -> dict[str, dict[str, str]]:
        out = {}
        for f in root.iterfind(".//bpmn:sequenceFlow", NS):
            cond = f.find("bpmn:conditionExpression", NS)
            out[f.get("id")] = {
                "name": f.get("name") or "",
                "sourceRef": f.get("sourceRef") or "",
                "targetRef": f.get("targetRef") or "",
                "conditionExpression": (cond.text or "").strip() if cond is not None else "",
            }
        return out

    a, b = flows(old_root), flows(new_root)
    changed = [
        ElementChange(i, [k for k in b[i] if a[i][k] != b[i][k]])
        for i in sorted(set(a) & set(b))
        if a[i] != b[i]
    ]
    # Elements the parser never reaches (not yet connected) are still additions/removals on the diagram.
    ids_old, ids_new = set(elements_by_id(old_root)), set(elements_by_id(new_root))
    key_old, key_new = process_key_of(old_root), process_key_of(new_root)
    pa, pb = elements_by_id(old_root).get(key_old), elements_by_id(new_root).get(key_new)
    if pa is not None and pb is not None:
        names = sorted(set(pa.attrib) | set(pb.attrib))
        fields = [_attr_label(n) for n in names if pa.get(n) != pb.get(n)]
        if fields:
            changed.append(ElementChange(key_new, fields))
    return sorted(ids_new - ids_old), sorted(ids_old - ids_new), changed


def _attr_label(qualified: str) -> str:
    for prefix, uri in NS.items():
        if qualified.startswith(f"{{{uri}}}"):
            return (
                f"{prefix}:{qualified.split('}', 1)[1]}" if prefix != "bpmn" else qualified.split("}", 1)[1]
            )
    return qualified


def _current_form(ctx: EngineContext, files: dict[str, bytes], key: str) -> dict[str, Any] | None:
    if f"{key}.schema.json" in files:
        ui = files.get(f"{key}.ui.json")
        return {"schema": json.loads(files[f"{key}.schema.json"]), "ui": json.loads(ui) if ui else {}}
    form = load_form(ctx.settings.forms_dir, key)
    return form.to_dict() if form else None


def diff_design(ctx: EngineContext, xml: str) -> DesignDiff:
    """Compare the draft with the latest deployed version of its key (SpiffWorkflow's SpecDiff).

    Changed elements list which fields changed, including `camunda:`/`hospital:` attributes.

    Raises:
        InvalidDefinition: the draft does not parse.
    """
    new_root = parse_xml(xml)
    key, files = designer_bundle(ctx, xml)
    models = {n: c for n, c in files.items() if n.lower().endswith((".bpmn", ".dmn"))}
    new_specs = ctx.runtime.load_specs(ctx.runtime.parse_bundle(models, key).spec_json)
    with ctx.db.unit_of_work() as session:
        row = latest_row(session, key)
        if row is None:
            ids = [i for i in elements_by_id(new_root) if i != key]
            return DesignDiff(key, None, added=sorted(ids), forms_changed=form_keys(new_root))
        old_specs = ctx.specs.get(row, ctx.runtime)
        old_root, snapshot, version = parse_xml(_bpmn_text(row.files)), dict(row.forms), row.version
    changes = spec_changes(ctx.runtime.serializer.registry, old_specs, new_specs)
    f_added, f_removed, f_changed = _flow_changes(old_root, new_root)
    changed = [ElementChange(i, f) for i, f in sorted(changes.changed.items())] + f_changed
    forms_changed = [k for k in form_keys(new_root) if _current_form(ctx, files, k) != snapshot.get(k)]
    return DesignDiff(
        key,
        version,
        sorted(set(changes.added) | set(f_added)),
        sorted(set(changes.removed) | set(f_removed)),
        changed,
        forms_changed,
    )
