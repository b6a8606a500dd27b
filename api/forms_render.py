"""Render a JSON-Schema form as HTML, as the inbox shows it.

PLACEHOLDER: the inbox renderer (written in parallel) replaces this module on merge; the designer's
preview endpoint calls only `render_form_html`, so the preview and the inbox stay identical.
Everything is escaped; nothing from the schema is emitted as markup.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any


def _attr(name: str, value: Any) -> str:
    return f' {name}="{escape(str(value), quote=True)}"' if value is not None and value != "" else ""


def _control(name: str, prop: dict[str, Any], ui: dict[str, Any], value: Any, readonly: bool) -> str:
    fid, common = f"f_{name}", _attr("name", name) + (" disabled" if readonly else "")
    widget, fmt, kind = ui.get("widget"), prop.get("format"), prop.get("type")
    if "enum" in prop:
        options = "".join(
            f"<option{' selected' if o == value else ''}>{escape(str(o))}</option>" for o in prop["enum"]
        )
        return f'<select id="{escape(fid)}"{common}><option value=""></option>{options}</select>'
    if kind == "boolean":
        return f'<input type="checkbox" id="{escape(fid)}"{common}{" checked" if value else ""}>'
    if kind in ("number", "integer"):
        step = "1" if kind == "integer" else "any"
        return (
            f'<input type="number" id="{escape(fid)}"{common} step="{step}"'
            f"{_attr('min', prop.get('minimum'))}{_attr('max', prop.get('maximum'))}{_attr('value', value)}>"
        )
    if kind == "array":
        item_props = (prop.get("items") or {}).get("properties") or {}
        head = "".join(f"<th>{escape(str(p.get('title') or n))}</th>" for n, p in item_props.items())
        rows = "".join(
            "<tr>" + "".join(f"<td>{escape(str(r.get(n, '')))}</td>" for n in item_props) + "</tr>"
            for r in (value or [])
            if isinstance(r, dict)
        )
        return (
            f'<table class="rows" id="{escape(fid)}"><thead><tr>{head}</tr></thead>'
            f"<tbody>{rows}</tbody></table>"
            + ("" if readonly else '<button type="button" class="add-row">+ 添加一行</button>')
        )
    if fmt == "file" or widget == "file":
        return f'<input type="file" id="{escape(fid)}"{common}>'
    if widget == "textarea":
        return f'<textarea id="{escape(fid)}"{common}>{escape(str(value or ""))}</textarea>'
    kind_attr = {"date": "date", "date-time": "datetime-local"}.get(fmt or "", "text")
    return (
        f'<input type="{kind_attr}" id="{escape(fid)}"{common}{_attr("pattern", prop.get("pattern"))}'
        f"{_attr('maxlength', prop.get('maxLength'))}{_attr('value', value)}>"
    )


def render_form_html(
    schema: dict[str, Any],
    ui: dict[str, Any],
    data: dict[str, Any] | None = None,
    errors: dict[str, str] | list[Any] | None = None,
) -> str:
    """HTML for a form: one row per property in `ui.order` then schema order, labels, required marks,
    help text, `visibleIf` as a data attribute, current values and field errors (pointer → message)."""
    data, ui = data or {}, ui or {}
    props: dict[str, Any] = schema.get("properties") or {}
    order = [k for k in ui.get("order", []) if k in props] + [
        k for k in props if k not in ui.get("order", [])
    ]
    required = set(schema.get("required") or [])
    if isinstance(errors, list):
        errors = {
            getattr(e, "pointer", None) or (e.get("pointer") if isinstance(e, dict) else ""): getattr(
                e, "message", None
            )
            or (e.get("message") if isinstance(e, dict) else str(e))
            for e in errors
        }
    errors = errors or {}
    rows = []
    for name in order:
        prop, field_ui = props[name] or {}, ui.get(name) or {}
        mark = ' <span class="req">*</span>' if name in required else ""
        label = f'<label for="f_{escape(name)}">{escape(str(prop.get("title") or name))}{mark}</label>'
        control = _control(name, prop, field_ui, data.get(name), bool(prop.get("readOnly")))
        help_text = field_ui.get("help") or prop.get("description")
        help_html = f'<small class="help">{escape(str(help_text))}</small>' if help_text else ""
        error = errors.get(f"/{name}")
        error_html = f'<div class="field-error">{escape(str(error))}</div>' if error else ""
        visible = field_ui.get("visibleIf")
        vis = (
            f" data-visible-if='{escape(json.dumps(visible, ensure_ascii=False), quote=True)}'"
            if visible
            else ""
        )
        css = "form-row has-error" if error else "form-row"
        rows.append(
            f'<div class="{css}" data-field="{escape(name)}"{vis}>'
            f"{label}{control}{help_html}{error_html}</div>"
        )
    title = escape(str(schema.get("title") or ""))
    return f'<form class="inbox-form"><h3>{title}</h3>\n' + "\n".join(rows) + "\n</form>"
