"""Marked form fields: schema marks, sealing with the field path bound, masking, echo of masked values."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.forms import schema_problem
from engine.security.fields import FieldCipher, FieldCryptoError, generate_key
from engine.security.form_fields import (
    FormFieldCodec,
    drop_masked_echo,
    mask,
    sensitive_fields,
)

ROOT = Path(__file__).resolve().parents[3]
SCHEMA = {
    "type": "object",
    "properties": {
        "id_number": {"type": "string", "x-sensitive": "id_number"},
        "phone": {"type": "string", "x-sensitive": "phone"},
        "note": {"type": "string"},
        "contact": {"type": "object", "properties": {"mobile": {"type": "string", "x-sensitive": "phone"}}},
        "companions": {"type": "array", "items": {"type": "object", "properties": {
            "name": {"type": "string", "x-sensitive": "name"}}}},
    },
}
DATA = {"id_number": "310106198001011234", "phone": "13800000000", "note": "13800000000 is in a note",
        "contact": {"mobile": "13911112222"}, "companions": [{"name": "张三"}, {"name": "欧阳娜娜"}], "n": 3}


@pytest.fixture
def codec() -> FormFieldCodec:
    return FormFieldCodec(FieldCipher({1: generate_key()}, 1))


def test_marks_are_collected_nested_and_in_array_items():
    fields = sensitive_fields([SCHEMA])
    assert fields.tree == {"id_number": "id_number", "phone": "phone", "contact": {"mobile": "phone"},
                           "companions": {"[]": {"name": "name"}}}
    assert not sensitive_fields([{"type": "object", "properties": {"a": {"type": "string"}}}])


def test_seal_and_unseal_round_trip_without_touching_unmarked_fields(codec):
    fields = sensitive_fields([SCHEMA])
    sealed = codec.seal(DATA, fields)
    text = json.dumps(sealed, ensure_ascii=False)
    assert "310106198001011234" not in text and "13911112222" not in text and "张三" not in text
    assert sealed["note"] == DATA["note"] and sealed["n"] == 3  # only marked fields
    assert sealed["id_number"].startswith("pii:v1:")
    assert codec.seal(sealed, fields) == sealed  # idempotent: no double encryption
    assert codec.unseal(sealed) == DATA
    assert DATA["contact"] == {"mobile": "13911112222"}  # the input is never changed


def test_a_sealed_value_cannot_move_to_another_field(codec):
    sealed = codec.seal(DATA, sensitive_fields([SCHEMA]))
    moved = {"phone": sealed["id_number"]}
    with pytest.raises(FieldCryptoError):
        codec.unseal(moved)


def test_key_rotation_reseals_old_values(codec):
    old_key, new_key = generate_key(), generate_key()
    old = FormFieldCodec(FieldCipher({1: old_key}, 1))
    fields = sensitive_fields([SCHEMA])
    sealed = old.seal(DATA, fields)
    rotated = FormFieldCodec(FieldCipher({1: old_key, 2: new_key}, 2))
    resealed = rotated.seal(sealed, fields)
    assert resealed["id_number"].startswith("pii:v2:")
    assert rotated.unseal(resealed) == DATA


def test_mask_and_keep():
    fields = sensitive_fields([SCHEMA])
    shown = mask(DATA, fields)
    assert shown["id_number"] == "310106********1234"
    assert shown["phone"] == "138****0000"
    assert shown["contact"] == {"mobile": "139****2222"}
    assert [c["name"] for c in shown["companions"]] == ["张*", "欧***"]
    assert shown["note"] == DATA["note"]
    assert mask(DATA, fields, keep=frozenset({"phone"}))["phone"] == "13800000000"


def test_a_masked_value_sent_back_unchanged_is_dropped():
    fields = sensitive_fields([SCHEMA])
    submitted = {"id_number": "310106********1234", "phone": "13900000000", "note": "x"}
    assert drop_masked_echo(submitted, DATA, fields) == {"phone": "13900000000", "note": "x"}


def test_form_validator_accepts_the_keyword_and_refuses_a_wrong_mark():
    assert schema_problem(SCHEMA) is None
    bad_kind = {"type": "object", "properties": {"a": {"type": "string", "x-sensitive": "passport"}}}
    assert "x-sensitive" in (schema_problem(bad_kind) or "")
    not_string = {"type": "object", "properties": {"a": {"type": "integer", "x-sensitive": "phone"}}}
    assert "x-sensitive" in (schema_problem(not_string) or "")


@pytest.mark.parametrize("form", ["medical_record_apply", "day_surgery_apply", "refund_request", "referral_apply"])
def test_patient_forms_mark_id_number_and_phone(form):
    schema = json.loads((ROOT / "forms" / f"{form}.schema.json").read_text("utf-8"))
    assert schema_problem(schema) is None
    tree = sensitive_fields([schema]).tree
    assert tree.get("phone") == "phone"
    if "id_number" in schema["properties"]:
        assert tree["id_number"] == "id_number"
