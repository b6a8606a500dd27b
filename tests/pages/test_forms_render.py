"""The server-side form renderer and the post parser, on hand-written and on all shipped forms."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from starlette.datastructures import FormData

from api.forms_render import build_fields, parse_form_submission, render_form_html
from engine.errors import FieldError

FORMS = Path(__file__).resolve().parents[2] / "forms"
SCHEMA = {
    "type": "object",
    "required": ["name", "amount"],
    "properties": {
        "name": {"type": "string", "title": "姓名", "maxLength": 20},
        "amount": {"type": "number", "title": "金额"},
        "count": {"type": "integer", "title": "数量"},
        "urgent": {"type": "boolean", "title": "加急"},
        "kind": {"type": "string", "title": "类别", "enum": ["a", "b"], "x-enumNames": ["甲类", "乙类"]},
        "level": {"type": "integer", "title": "级别", "oneOf": [{"const": 1, "title": "一级"},
                                                              {"const": 2, "title": "二级"}]},
        "day": {"type": "string", "format": "date", "title": "日期"},
        "at": {"type": "string", "format": "date-time", "title": "时间"},
        "note": {"type": "string", "title": "备注"},
        "scope": {"type": "array", "title": "范围", "items": {"type": "string", "enum": ["x", "y"],
                                                               "x-enumNames": ["X项", "Y项"]}},
        "items": {"type": "array", "title": "明细", "items": {"type": "object", "required": ["item"], "properties": {
            "item": {"type": "string", "title": "项目"}, "qty": {"type": "integer", "title": "数量"}}}},
        "proof": {"type": "string", "format": "attachment", "title": "证明"},
        "locked": {"type": "string", "title": "锁定", "readOnly": True},
        "reason": {"type": "string", "title": "原因"},
    },
}
UI = {"order": ["name", "amount"], "widgets": {"note": "textarea", "level": "radio"},
      "help": {"amount": "单位：元"}, "visibleIf": {"reason": {"urgent": True}}}


def test_parse_converts_types_tables_checkboxes_and_drops_read_only():
    form = FormData([("name", " 张三 "), ("amount", "12.5"), ("count", "3"), ("urgent", "true"), ("kind", "b"),
                     ("level", "2"), ("day", "2026-01-05"), ("at", "2026-01-05T08:30"), ("note", ""),
                     ("scope", "x"), ("scope", "y"), ("items[1][item]", "纱布"), ("items[1][qty]", "4"),
                     ("items[0][item]", "手套"), ("items[0][qty]", ""), ("items[7][item]", ""),
                     ("locked", "hacked"), ("reason", "急诊"), ("unknown", "x")])
    data = parse_form_submission(SCHEMA, form, UI)
    assert data == {"name": " 张三 ", "amount": 12.5, "count": 3, "urgent": True, "kind": "b", "level": 2,
                    "day": "2026-01-05", "at": "2026-01-05T08:30:00+08:00", "scope": ["x", "y"],
                    "items": [{"item": "手套"}, {"item": "纱布", "qty": 4}], "reason": "急诊"}


def test_parse_keeps_bad_numbers_as_typed_and_hides_invisible_fields():
    data = parse_form_submission(SCHEMA, {"amount": "abc", "count": "1.5", "reason": "x"}, UI)
    assert data["amount"] == "abc" and data["count"] == 1.5
    assert data["urgent"] is False and "reason" not in data  # visibleIf urgent == true is not met
    assert parse_form_submission(None, {"a": "1"}) == {}


def test_parse_uploads_go_through_the_store_or_keep_the_previous_reference():
    class Upload:
        filename = "x.pdf"

    stored = parse_form_submission(SCHEMA, FormData([("proof", "old-ref"), ("proof", Upload())]),
                                   store_file=lambda name, upload: f"att:{name}:{upload.filename}")
    assert stored["proof"] == "att:proof:x.pdf"
    assert parse_form_submission(SCHEMA, FormData([("proof", "old-ref"), ("proof", Upload())]))["proof"] == "old-ref"


def test_fields_carry_labels_widgets_help_required_and_visibility():
    fields, general = build_fields(SCHEMA, UI, {"kind": "a", "locked": "v"})
    by = {f.name: f for f in fields}
    assert [f.name for f in fields][:2] == ["name", "amount"]
    assert by["name"].required and not by["note"].required
    assert (by["kind"].kind, by["kind"].options) == ("select", [("a", "甲类"), ("b", "乙类")])
    assert (by["level"].kind, by["level"].options) == ("radio", [("1", "一级"), ("2", "二级")])
    assert (by["scope"].kind, by["items"].kind, by["proof"].kind) == ("checkboxes", "table", "file")
    assert (by["day"].kind, by["at"].kind, by["note"].kind, by["urgent"].kind) == \
        ("date", "datetime", "textarea", "boolean")
    assert by["amount"].help == "单位：元" and by["locked"].readonly
    assert json.loads(by["reason"].visible_if) == {"urgent": True}
    assert general == []


def test_designer_ui_shape_is_understood():
    ui = {"order": ["note"], "note": {"widget": "textarea", "help": "说明", "visibleIf": {"kind": "a"}}}
    [note] = [f for f in build_fields(SCHEMA, ui, {})[0] if f.name == "note"]
    assert (note.kind, note.help, json.loads(note.visible_if)) == ("textarea", "说明", {"kind": "a"})


def test_errors_sit_next_to_fields_and_cells_with_the_input_kept():
    errors = [FieldError("/amount", "不是数字"), FieldError("/items/1/item", "必填项"),
              FieldError("/outcome", "可选: approve")]
    html = render_form_html(SCHEMA, UI, {"amount": "abc", "items": [{"item": "a"}, {"qty": 2}]}, errors)
    assert 'id="err-amount" role="alert">不是数字' in html
    assert 'value="abc"' in html and 'aria-invalid="true"' in html
    assert 'id="err-items-1-item"' in html
    assert "可选: approve" in html  # no field for it: shown above the form
    assert 'name="items[1][qty]"' in html and 'name="items[__INDEX__][item]"' in html


def test_read_only_fields_render_disabled_and_values_are_escaped():
    html = render_form_html(SCHEMA, UI, {"locked": "<script>alert(1)</script>", "name": '"><img src=x>'})
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert '"><img' not in html
    assert 'id="f-locked" name="locked" type="text" value="&lt;script&gt;alert(1)&lt;/script&gt;" disabled' in html


@pytest.mark.parametrize("schema_path", sorted(FORMS.glob("*.schema.json")), ids=lambda p: p.stem)
def test_every_shipped_form_renders_and_round_trips(schema_path):
    schema = json.loads(schema_path.read_text("utf-8"))
    ui_path = schema_path.with_name(schema_path.name.replace(".schema.json", ".ui.json"))
    ui = json.loads(ui_path.read_text("utf-8")) if ui_path.exists() else {}
    html = render_form_html(schema, ui, {})
    for name in schema["properties"]:
        assert f'id="field-{name}"' in html
    assert parse_form_submission(schema, {}, ui) is not None
