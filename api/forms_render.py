"""Server-side rendering of a JSON Schema + UI schema as an HTML form, and parsing the post back.

`render_form_html(schema, ui, data, errors)` is what the task page, the start page and the designer's
live preview call. `parse_form_submission(schema, form_data)` turns posted strings into typed JSON
(numbers, booleans, arrays, arrays of objects from `field[0][col]` names); read-only fields are never
taken from the post. Values that do not convert are kept as typed by the user, so that the engine's
validation reports them next to the field and the page shows them again.

Two UI-schema shapes are accepted: the shipped one (`{"order": [...], "widgets": {f: w}, "help": {f: h},
"visibleIf": {f: {g: v}}}`) and the designer's per-field one (`{"order": [...], f: {"widget", "help",
"visibleIf"}}`). Hidden fields never reach this module: the engine removes them from the schema.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from api.templating import templates

ATTACHMENT_FORMATS = ("attachment", "file", "data-url")
ROW_NAME = re.compile(r"^(?P<field>[A-Za-z0-9_]+)\[(?P<index>\d{1,3})\]\[(?P<col>[A-Za-z0-9_]+)\]$")
MAX_ROWS = 200


@dataclass
class Field:
    """One input as the template draws it."""

    name: str
    kind: str  # text textarea number integer select radio checkboxes boolean date datetime file table
    title: str
    required: bool = False
    readonly: bool = False
    help: str = ""
    options: list[tuple[str, str]] = field(default_factory=list)
    value: Any = None
    error: str = ""
    visible_if: str = ""  # JSON {"field": value} for app JS and for the server-side check
    columns: list[Field] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    row_errors: dict[tuple[int, str], str] = field(default_factory=dict)
    attrs: dict[str, Any] = field(default_factory=dict)

    def checked(self, option: str) -> bool:
        if isinstance(self.value, list):
            return option in {_text(v) for v in self.value}
        return _text(self.value) == option


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def ui_for(ui: Mapping[str, Any] | None, name: str) -> dict[str, Any]:
    """widget/help/visibleIf of one field from either UI-schema shape."""
    ui = ui or {}
    per_field = ui.get(name) if isinstance(ui.get(name), dict) else {}
    widget = per_field.get("widget") or per_field.get("ui:widget") or (ui.get("widgets") or {}).get(name)
    help_text = per_field.get("help") or per_field.get("ui:help") or (ui.get("help") or {}).get(name)
    visible = per_field.get("visibleIf") or (ui.get("visibleIf") or {}).get(name)
    return {"widget": widget, "help": help_text or "", "visibleIf": visible}


def field_order(schema: Mapping[str, Any], ui: Mapping[str, Any] | None) -> list[str]:
    props = schema.get("properties") or {}
    order = [n for n in (ui or {}).get("order", []) if n in props]
    return order + [n for n in props if n not in order]


def enum_options(prop: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(value, label) pairs from enum + x-enumNames, or from oneOf/anyOf const + title."""
    if "enum" in prop:
        names = prop.get("x-enumNames") or prop.get("enumNames") or []
        return [(_text(v), str(names[i]) if i < len(names) else _text(v)) for i, v in enumerate(prop["enum"])]
    choices = prop.get("oneOf") or prop.get("anyOf") or []
    return [(_text(c["const"]), str(c.get("title", c["const"]))) for c in choices if "const" in c]


def _kind(prop: Mapping[str, Any], widget: str | None) -> str:
    kind = prop.get("type")
    if kind == "array":
        items = prop.get("items") or {}
        return "checkboxes" if enum_options(items) else "table"
    if enum_options(prop):
        return "radio" if widget == "radio" else "select"
    if kind == "boolean":
        return "boolean"
    if kind in ("number", "integer"):
        return kind
    fmt = prop.get("format")
    if fmt == "date":
        return "date"
    if fmt == "date-time":
        return "datetime"
    if fmt in ATTACHMENT_FORMATS or widget == "file":
        return "file"
    if widget == "textarea" or (prop.get("maxLength") or 0) > 300:
        return "textarea"
    return "text"


def _attrs(prop: Mapping[str, Any], kind: str) -> dict[str, Any]:
    attrs: dict[str, Any] = {}
    if kind in ("text", "textarea") and prop.get("maxLength"):
        attrs["maxlength"] = prop["maxLength"]
    if kind in ("number", "integer"):
        attrs["inputmode"] = "numeric" if kind == "integer" else "decimal"
    return attrs


def _display(value: Any, kind: str) -> Any:
    if kind == "datetime" and isinstance(value, str):
        return value[:16]  # datetime-local shows YYYY-MM-DDTHH:MM
    return value


def _errors_by_pointer(errors: Iterable[Any] | None) -> dict[str, str]:
    found: dict[str, str] = {}
    for err in errors or []:
        pointer = getattr(err, "pointer", None) if not isinstance(err, Mapping) else err.get("pointer")
        message = getattr(err, "message", "") if not isinstance(err, Mapping) else err.get("message", "")
        found.setdefault(pointer or "", message)
    return found


def build_fields(schema: Mapping[str, Any] | None, ui: Mapping[str, Any] | None,
                 data: Mapping[str, Any] | None, errors: Iterable[Any] | None = None
                 ) -> tuple[list[Field], list[str]]:
    """The fields to draw, plus error messages that belong to no field (shown above the form)."""
    if not schema:
        return [], [m for m in _errors_by_pointer(errors).values()]
    data = data or {}
    props = schema.get("properties") or {}
    required = set(schema.get("required") or [])
    by_pointer = _errors_by_pointer(errors)
    used: set[str] = set()
    fields = []
    for name in field_order(schema, ui):
        prop = props[name]
        meta = ui_for(ui, name)
        kind = _kind(prop, meta["widget"])
        f = Field(name=name, kind=kind, title=str(prop.get("title") or name), required=name in required,
                  readonly=bool(prop.get("readOnly")),
                  help=meta["help"] or str(prop.get("description") or ""),
                  options=enum_options(prop.get("items") or {} if kind == "checkboxes" else prop),
                  value=_display(data.get(name, prop.get("default")), kind), attrs=_attrs(prop, kind),
                  visible_if=json.dumps(meta["visibleIf"], ensure_ascii=False) if meta["visibleIf"] else "")
        if f"/{name}" in by_pointer:
            f.error = by_pointer[f"/{name}"]
            used.add(f"/{name}")
        if kind == "table":
            _table(f, prop, by_pointer, used)
        fields.append(f)
    general = [m for p, m in by_pointer.items() if p not in used and not any(
        p.startswith(f"/{f.name}/") for f in fields)]
    return fields, general


def _table(f: Field, prop: Mapping[str, Any], by_pointer: dict[str, str], used: set[str]) -> None:
    items = prop.get("items") or {}
    cols_required = set(items.get("required") or [])
    for col, col_prop in (items.get("properties") or {}).items():
        kind = _kind(col_prop, None)
        f.columns.append(Field(name=col, kind="text" if kind in ("table", "checkboxes", "textarea") else kind,
                               title=str(col_prop.get("title") or col), required=col in cols_required,
                               options=enum_options(col_prop), attrs=_attrs(col_prop, kind)))
    values = f.value if isinstance(f.value, list) else []
    f.rows = [dict(r) if isinstance(r, Mapping) else {} for r in values]
    for pointer, message in by_pointer.items():
        parts = pointer.split("/")
        if len(parts) >= 3 and parts[1] == f.name and parts[2].isdigit():
            col = parts[3] if len(parts) > 3 else ""
            f.row_errors[(int(parts[2]), col)] = message
            used.add(pointer)


# ---- parsing the post back -----------------------------------------------------------------------

def _pairs(form_data: Any) -> list[tuple[str, Any]]:
    if hasattr(form_data, "multi_items"):
        return list(form_data.multi_items())
    if isinstance(form_data, Mapping):
        out = []
        for key, value in form_data.items():
            out += [(key, v) for v in value] if isinstance(value, list) else [(key, value)]
        return out
    return list(form_data)


def convert(prop: Mapping[str, Any], raw: Any) -> Any:
    """A posted string as the schema's type; the raw text when it does not convert (validation reports it)."""
    if not isinstance(raw, str):
        return raw
    text = raw.strip()
    options = {_text(v): v for v in prop.get("enum", [])} or \
        {_text(c["const"]): c["const"] for c in prop.get("oneOf") or prop.get("anyOf") or [] if "const" in c}
    if options:
        return options.get(text, text)
    kind = prop.get("type")
    if kind in ("number", "integer"):
        try:
            number = float(text.replace(",", ""))
        except ValueError:
            return text
        # Whole numbers stay ints ("2" -> 2, not 2.0): titles such as "请假 {days}天" render them.
        return int(number) if number.is_integer() and abs(number) < 2**53 else number
    if kind == "boolean":
        return text.lower() in ("on", "true", "1", "yes")
    if prop.get("format") == "date-time" and re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", text):
        return f"{text}:00+08:00"  # datetime-local has no zone; the hospital's wall clock is China time
    return raw


def _visible(ui: Mapping[str, Any] | None, name: str, values: Mapping[str, Any]) -> bool:
    condition = ui_for(ui, name)["visibleIf"]
    if not isinstance(condition, Mapping):
        return True
    return all(_text(values.get(k)) == _text(v) for k, v in condition.items())


def _rows(prop: Mapping[str, Any], cells: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
    columns = (prop.get("items") or {}).get("properties") or {}
    rows = []
    for index in sorted(cells)[:MAX_ROWS]:
        row = {c: convert(columns[c], v) for c, v in cells[index].items()
               if c in columns and not (isinstance(v, str) and v.strip() == "")}
        if row:
            rows.append(row)
    return rows


def parse_form_submission(schema: Mapping[str, Any] | None, form_data: Any,
                          ui: Mapping[str, Any] | None = None,
                          store_file: Callable[[str, Any], str | None] | None = None) -> dict[str, Any]:
    """Typed JSON from posted form fields, for the schema's editable properties only.

    Empty inputs are left out (so `required` reports them); unchecked booleans become false; tables come
    from `name[i][col]`; checkbox groups from repeated names; uploads go through `store_file(field, upload)`
    (which returns the stored reference), otherwise the previous value posted in `name` is kept.
    """
    if not schema:
        return {}
    props = schema.get("properties") or {}
    editable = {n: p for n, p in props.items() if not p.get("readOnly")}
    scalars: dict[str, list[Any]] = {}
    tables: dict[str, dict[int, dict[str, Any]]] = {}
    for key, value in _pairs(form_data):
        match = ROW_NAME.match(key)
        if match and match["field"] in editable:
            tables.setdefault(match["field"], {}).setdefault(int(match["index"]), {})[match["col"]] = value
        elif key in editable:
            scalars.setdefault(key, []).append(value)
    result: dict[str, Any] = {}
    for name, prop in editable.items():
        values = scalars.get(name, [])
        kind = prop.get("type")
        if kind == "array" and (prop.get("items") or {}).get("type") == "object":
            result[name] = _rows(prop, tables.get(name, {}))
        elif kind == "array":
            result[name] = [convert(prop.get("items") or {}, v) for v in values if isinstance(v, str) and v]
        elif kind == "boolean":
            result[name] = any(convert(prop, v) is True for v in values)
        else:
            picked = _pick(name, values, store_file)
            if picked is not None and not (isinstance(picked, str) and picked.strip() == ""):
                result[name] = convert(prop, picked)
    return {k: v for k, v in result.items() if _visible(ui, k, result)}


def _pick(name: str, values: list[Any], store_file: Callable[[str, Any], str | None] | None) -> Any:
    """The posted value; an upload (has .filename) replaces the previous reference when stored."""
    text = next((v for v in reversed(values) if isinstance(v, str) and v != ""), None)
    for upload in values:
        if not isinstance(upload, str) and getattr(upload, "filename", ""):
            stored = store_file(name, upload) if store_file else None
            if stored:
                return stored
    return text


def render_form_html(schema: Mapping[str, Any] | None, ui: Mapping[str, Any] | None = None,
                     data: Mapping[str, Any] | None = None, errors: Iterable[Any] | None = None,
                     lang: str = "zh-CN") -> Markup:
    """The form's fields as HTML (no <form> element, no buttons): used by pages and the designer preview."""
    fields, general = build_fields(schema, ui, data, errors)
    html = templates.env.get_template("forms/_fields.html").render(fields=fields, general_errors=general,
                                                                   lang=lang)
    return Markup(html)
