"""Generated hostile corpus: mutated BPMN and form JSON give diagnostics, never a crash or a repr."""
from __future__ import annotations

import json
import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import deploy, validate_definition
from engine.errors import Diagnostic, InvalidDefinition
from tests.conftest import DATA

ROOT = Path(__file__).resolve().parents[2]
SEEDS = [DATA / "approval.bpmn", DATA / "parallel_review.bpmn", ROOT / "processes" / "approvals" / "guest_meal.bpmn"]
HOSTILE = [b"${amount > 1}", b"__import__('os')", b"().__class__", b"\x00\xff", b"<!ENTITY x SYSTEM 'file:///etc/passwd'>",
           b"&x;", b"]]>", b"\"'><script>", "中文".encode(), b"P3Q", b"ratio:5/2", b"9" * 400]
REPR = re.compile(r"object at 0x[0-9a-f]+")


@st.composite
def mutated_bpmn(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)).read_bytes())
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["cut", "insert", "truncate", "attribute", "duplicate"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if kind == "cut":
            del data[at: at + draw(st.integers(1, 200))]
        elif kind == "insert":
            data[at:at] = draw(st.sampled_from(HOSTILE))
        elif kind == "truncate":
            del data[at:]
        elif kind == "attribute":
            quote = data.find(b'"', at)
            if quote != -1:
                data[quote + 1: quote + 1] = draw(st.sampled_from(HOSTILE))
        else:
            data[at:at] = data[max(0, at - 120): at]
    return bytes(data)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)


def _check(diagnostics: list[Diagnostic]) -> None:
    for d in diagnostics:
        assert isinstance(d.message, str) and d.message
        assert not REPR.search(d.message), d.message


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bpmn=mutated_bpmn())
def test_mutated_bpmn_never_crashes(ctx, bpmn):
    _check(validate_definition(ctx, {"fuzz.bpmn": bpmn}))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(schema=json_values, raw=st.binary(max_size=40), use_raw=st.booleans())
def test_hostile_form_json_never_crashes(ctx, schema, raw, use_raw):
    bundle = {"approval.bpmn": (DATA / "approval.bpmn").read_bytes().replace(
        b'camunda:formKey="expense"', b'camunda:formKey="fuzzed"')}
    bundle["fuzzed.schema.json"] = raw if use_raw else json.dumps(schema).encode()
    _check(validate_definition(ctx, bundle))
    try:
        deploy(ctx, bundle, actor="fuzzer")
    except InvalidDefinition as exc:
        _check(exc.diagnostics)
