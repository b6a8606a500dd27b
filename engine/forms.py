"""JSON-Schema forms: loading, server-side validation and per-step field permissions."""
from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError

from engine.errors import FieldError, ValidationFailed
from engine.security.form_fields import schema_problem as sensitive_mark_problem

FORM_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]{0,99}$")


def is_valid_form_key(key: str) -> bool:
    """Form keys name files under forms/: letters, digits, '_' and '-' only (no paths)."""
    return bool(FORM_KEY.match(key))


@dataclass(frozen=True)
class Form:
    key: str
    schema: dict[str, Any]
    ui: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"schema": self.schema, "ui": self.ui}


@dataclass(frozen=True)
class StepPermissions:
    readonly: frozenset[str] = frozenset()
    hidden: frozenset[str] = frozenset()

    @classmethod
    def from_step(cls, node_id: str, extensions: dict[str, Any], form: Form | None) -> StepPermissions:
        """Merge the BPMN step's marks with the form UI schema's per-step marks (`ui.steps.<node_id>`)."""
        per_step = (form.ui.get("steps", {}) if form else {}).get(node_id, {})
        return cls(
            readonly=frozenset(extensions.get("readonlyFields", [])) | frozenset(per_step.get("readonly", [])),
            hidden=frozenset(extensions.get("hiddenFields", [])) | frozenset(per_step.get("hidden", [])),
        )


def load_form(forms_dir: Path, key: str) -> Form | None:
    """Read forms/<key>.schema.json (+ optional <key>.ui.json); None when missing or the key is not a valid name."""
    if not is_valid_form_key(key):
        return None
    schema_path = forms_dir / f"{key}.schema.json"
    if not schema_path.is_file():
        return None
    ui_path = forms_dir / f"{key}.ui.json"
    ui = json.loads(ui_path.read_text("utf-8")) if ui_path.is_file() else {}
    return Form(key=key, schema=json.loads(schema_path.read_text("utf-8")), ui=ui)


def schema_problem(schema: dict[str, Any]) -> str | None:
    """A plain-language reason the schema itself is invalid, or None."""
    try:
        text = json.dumps(schema, sort_keys=True, ensure_ascii=False)
    except (TypeError, ValueError):
        return _check_schema(schema)
    return _schema_problem_of(text)


@functools.lru_cache(maxsize=1024)
def _schema_problem_of(text: str) -> str | None:
    # Checking against the 2020-12 metaschema costs ~40 ms a form, and every deploy re-checks every form it
    # snapshots although forms rarely change; the answer depends on the content only.
    return _check_schema(json.loads(text))


def _check_schema(schema: Any) -> str | None:
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        return f"表单定义无效 (invalid JSON Schema): {exc.message}"
    return sensitive_mark_problem(schema)


def _pointer(path: Any) -> str:
    return "/" + "/".join(str(p) for p in path) if path else ""


def _field_errors(schema: dict[str, Any], data: dict[str, Any]) -> list[FieldError]:
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    errors = []
    for err in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path)):
        pointer = _pointer(err.absolute_path)
        if err.validator == "required":
            missing = err.message.split("'")[1] if "'" in err.message else ""
            pointer = f"{pointer}/{missing}"
            message = "必填项 (required)"
        else:
            message = err.message
        errors.append(FieldError(pointer=pointer, message=message, validator=str(err.validator)))
    return errors


def visible_schema(form: Form, perms: StepPermissions) -> dict[str, Any]:
    """The schema as the step's user may see it: hidden fields removed, read-only fields marked."""
    schema = json.loads(json.dumps(form.schema))
    props = schema.get("properties", {})
    for name in perms.hidden:
        props.pop(name, None)
    for name in perms.readonly:
        if name in props:
            props[name]["readOnly"] = True
    if "required" in schema:
        schema["required"] = [r for r in schema["required"] if r not in perms.hidden]
    return schema


def visible_data(data: dict[str, Any], perms: StepPermissions) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in perms.hidden}


def accept_submission(
    form: Form | None, perms: StepPermissions, current: dict[str, Any], submitted: dict[str, Any]
) -> dict[str, Any]:
    """Validate a step's submission and return the data to merge into the workflow.

    Read-only fields may be sent back unchanged but not changed. Hidden fields may not be sent at all: the
    step's user never sees them, and accepting an unchanged value would let them guess it by trial.
    The merged result must satisfy the schema.

    Raises:
        ValidationFailed: with one FieldError per offending field.
    """
    errors = []
    for name in sorted(perms.hidden):
        if name in submitted:
            errors.append(FieldError(f"/{name}", "该字段在此步骤不可见，不能提交 (field is hidden here)", "hidden"))
    for name in sorted(perms.readonly - perms.hidden):
        if name in submitted and submitted[name] != current.get(name):
            errors.append(FieldError(f"/{name}", "该字段在此步骤不可修改 (field is read-only here)", "readOnly"))
    if form is None:
        if errors:
            raise ValidationFailed("表单校验失败 (validation failed)", errors)
        return dict(submitted)
    props = form.schema.get("properties", {})
    allowed = {k: v for k, v in submitted.items() if k in props or form.schema.get("additionalProperties", True)}
    merged = {**{k: current[k] for k in props if k in current}, **allowed}
    errors.extend(_field_errors(form.schema, merged))
    if errors:
        raise ValidationFailed("表单校验失败 (validation failed)", errors)
    return {k: v for k, v in allowed.items() if k not in perms.readonly and k not in perms.hidden}
