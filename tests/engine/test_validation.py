"""Deploy-time validation: every hostile or malformed file gives a located error, valid files give none."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from SpiffWorkflow.camunda.parser import CamundaParser

from engine.bpmn.validation import format_diagnostics, validate_bundle
from engine.errors import Diagnostic

CORPUS = Path(__file__).parent / "corpus"
INVALID = sorted((CORPUS / "invalid").iterdir())
VALID = sorted((CORPUS / "valid").iterdir())
ENGINE = Path(__file__).parents[2] / "engine"


def spiff_parse(files: dict[str, bytes]) -> None:
    """What the engine's own parser does: load DMN then BPMN, then build every executable process."""
    parser = CamundaParser()
    for name, data in files.items():
        if name.endswith(".dmn"):
            parser.add_dmn_str(data, name)
    for name, data in files.items():
        if name.endswith(".bpmn"):
            parser.add_bpmn_str(data, name)
    for process_id in parser.get_process_ids():
        parser.get_spec(process_id)
        parser.get_subprocess_specs(process_id)


def errors(found: list[Diagnostic]) -> list[Diagnostic]:
    return [d for d in found if d.severity == "error"]


def rules_of(found: list[Diagnostic]) -> set[str]:
    return {d.rule for d in errors(found)}


def valid_bpmn() -> bytes:
    return (CORPUS / "valid" / "leave_camunda7.bpmn").read_bytes()


def with_bpmn(path: Path) -> dict[str, bytes]:
    files = {path.name: path.read_bytes()}
    if path.suffix == ".dmn":
        files["leave.bpmn"] = valid_bpmn()
    return files


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.name)
def test_every_corpus_file_yields_a_located_error(path: Path) -> None:
    found = validate_bundle(with_bpmn(path), parse=spiff_parse)
    bad = errors(found)
    assert bad, f"{path.name} passed validation"
    assert all(d.line is not None or d.element_id is not None for d in bad), bad
    assert all(d.file for d in bad)
    assert all(" at 0x" not in d.message and "object at" not in d.message for d in found)
    assert format_diagnostics(found)


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_valid_camunda7_files_have_no_errors(path: Path) -> None:
    found = validate_bundle({path.name: path.read_bytes()}, parse=spiff_parse)
    assert errors(found) == []


def test_valid_file_has_no_warnings_either() -> None:
    assert validate_bundle({"leave.bpmn": valid_bpmn()}) == []


EXPECTED_RULES = {
    "truncated.bpmn": "xml-syntax",
    "binary_garbage.bpmn": "xml-syntax",
    "empty.bpmn": "empty-file",
    "billion_laughs.bpmn": "xml-doctype",
    "xxe_external_entity.bpmn": "xml-doctype",
    "zeebe.bpmn": "zeebe",
    "camunda_cloud_platform.bpmn": "zeebe",
    "data_store.bpmn": "unsupported-element",
    "complex_gateway.bpmn": "unsupported-element",
    "compensation.bpmn": "unsupported-element",
    "ad_hoc.bpmn": "unsupported-element",
    "conversation.bpmn": "unsupported-element",
    "juel_condition.bpmn": "juel",
    "juel_assignee.bpmn": "juel",
    "juel_timer.bpmn": "juel",
    "juel_input_output.bpmn": "juel",
    "bad_python_condition.bpmn": "python-syntax",
    "hostile_condition.bpmn": "python-syntax",
    "import_in_script.bpmn": "python-syntax",
    "script_syntax_error.bpmn": "python-syntax",
    "groovy_script.bpmn": "script-format",
    "bad_timer.bpmn": "timer",
    "missing_start_event.bpmn": "missing-start-event",
    "not_executable.bpmn": "no-executable-process",
    "dangling_flow.bpmn": "dangling-flow",
    "schema_error.bpmn": "xml-schema",
    "bad_countersign.bpmn": "countersign",
    "bad_due_date.bpmn": "iso8601",
    "bad_sla.bpmn": "iso8601",
    "bad_assignee_expr.bpmn": "python-syntax",
    "dunder_signers_expr.bpmn": "python-syntax",
    "bad_input_output.bpmn": "python-syntax",
    "call_activity_missing_target.bpmn": "parse",
    "not_bpmn.bpmn": "not-bpmn",
    "truncated.dmn": "xml-syntax",
    "no_decision.dmn": "dmn",
    "wrong_namespace.dmn": "dmn",
}


@pytest.mark.parametrize(("name", "rule"), sorted(EXPECTED_RULES.items()))
def test_corpus_file_is_refused_for_the_right_reason(name: str, rule: str) -> None:
    found = validate_bundle(with_bpmn(CORPUS / "invalid" / name), parse=spiff_parse)
    assert rule in rules_of(found), format_diagnostics(found)


def test_syntax_error_points_at_line_and_column() -> None:
    found = validate_bundle({"t.bpmn": (CORPUS / "invalid" / "truncated.bpmn").read_bytes()})
    assert found[0].line and found[0].line > 1 and "列" in found[0].message


def test_expression_errors_carry_element_id_and_file_line() -> None:
    found = validate_bundle({"c.bpmn": (CORPUS / "invalid" / "bad_python_condition.bpmn").read_bytes()})
    (diag,) = [d for d in found if d.rule == "python-syntax"]
    assert diag.element_id == "f2" and diag.file == "c.bpmn"
    text = (CORPUS / "invalid" / "bad_python_condition.bpmn").read_text().splitlines()
    assert "conditionExpression" in text[diag.line - 1]


def test_script_error_line_is_the_line_inside_the_file() -> None:
    found = validate_bundle({"s.bpmn": (CORPUS / "invalid" / "import_in_script.bpmn").read_bytes()})
    (diag,) = [d for d in found if d.rule == "python-syntax"]
    text = (CORPUS / "invalid" / "import_in_script.bpmn").read_text().splitlines()
    assert text[diag.line - 1].strip() == "import os"
    assert diag.element_id == "t"


def test_juel_message_suggests_python() -> None:
    found = validate_bundle({"j.bpmn": (CORPUS / "invalid" / "juel_condition.bpmn").read_bytes()})
    (diag,) = [d for d in found if d.rule == "juel"]
    assert "JUEL" in diag.message and "amount > 1000" in diag.message and diag.element_id == "f2"


def test_zeebe_message_is_clear() -> None:
    (diag,) = validate_bundle({"z.bpmn": (CORPUS / "invalid" / "zeebe.bpmn").read_bytes()})
    assert "Camunda 8" in diag.message and "Camunda Platform 7" in diag.message


def test_huge_attribute_is_refused_without_parsing() -> None:
    data = valid_bpmn().replace(
        b'name="\xe8\xaf\xb7', b'name="' + b"x" * (6 * 1024 * 1024) + b"\xe8\xaf\xb7", 1
    )
    (diag,) = validate_bundle({"huge.bpmn": data})
    assert diag.rule == "file-too-large" and diag.line == 1


def test_attribute_over_lxml_limit_is_refused() -> None:
    huge = b"x" * (11 * 1024 * 1024)
    from engine.bpmn import _xml_checks

    root, found = _xml_checks.load_xml("h.bpmn", b'<a b="' + huge + b'"/>')
    assert root is None and found  # either the size cap or lxml's huge_tree=False limit refuses it


def test_billion_laughs_is_not_expanded() -> None:
    found = validate_bundle({"b.bpmn": (CORPUS / "invalid" / "billion_laughs.bpmn").read_bytes()})
    assert [d.rule for d in found] == ["xml-doctype"]


def test_exclusive_gateway_all_conditioned_without_default_is_a_warning() -> None:
    data = (
        valid_bpmn()
        .replace(b' default="flow_short"', b"")
        .replace(
            b'<bpmn:sequenceFlow id="flow_short" sourceRef="gw_days" targetRef="record" />',
            b'<bpmn:sequenceFlow id="flow_short" sourceRef="gw_days" targetRef="record">'
            b"<bpmn:conditionExpression>days &lt;= 3</bpmn:conditionExpression></bpmn:sequenceFlow>",
        )
    )
    found = validate_bundle({"w.bpmn": data}, parse=spiff_parse)
    assert errors(found) == []
    (warning,) = found
    assert warning.rule == "gateway-no-default" and warning.element_id == "gw_days" and warning.line


def test_exclusive_gateway_flow_without_condition_or_default_is_an_error() -> None:
    # SpiffWorkflow would refuse it at parse time; we name the flow and say what to do.
    data = valid_bpmn().replace(b' default="flow_short"', b"")
    found = validate_bundle({"w.bpmn": data}, parse=spiff_parse)
    (diag,) = errors(found)
    assert diag.rule == "gateway-condition" and diag.element_id == "flow_short" and diag.line


def test_bare_iso_timers_are_accepted_and_python_timers_checked() -> None:
    for literal in (
        b"PT4H",
        b"P1DT2H",
        b"2025-01-31T09:00:00",
        b"R3/PT1H",
        b"R/2025-01-01T00:00:00/P1D",
        b"timedelta(hours=4)",
        b"'PT4H'",
    ):
        data = valid_bpmn().replace(b">P1D<", b">" + literal + b"<")
        assert errors(validate_bundle({"t.bpmn": data})) == [], literal


@pytest.mark.parametrize("value", [b"all", b"any", b"sequential", b"ratio:1/1", b"ratio:2/3"])
def test_valid_countersign_values(value: bytes) -> None:
    data = valid_bpmn().replace(b'hospital:countersign="ratio:2/3"', b'hospital:countersign="' + value + b'"')
    assert errors(validate_bundle({"c.bpmn": data})) == []


@pytest.mark.parametrize("value", [b"ratio:0/3", b"ratio:4/3", b"ratio:2/0", b"half", b"ALL", b"ratio:a/b"])
def test_invalid_countersign_values(value: bytes) -> None:
    data = valid_bpmn().replace(b'hospital:countersign="ratio:2/3"', b'hospital:countersign="' + value + b'"')
    assert rules_of(validate_bundle({"c.bpmn": data})) == {"countersign"}


def test_dmn_is_checked_with_the_bundle() -> None:
    dmn = (
        b'<?xml version="1.0"?>\n<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" '
        b'name="d" namespace="x">\n  <decision id="dec" name="dec">\n    <decisionTable id="t">\n'
        b'      <input id="i" label="amount"><inputExpression id="ie" typeRef="number"><text>amount</text>'
        b'</inputExpression></input>\n      <output id="o" name="level" typeRef="string" />\n'
        b'      <rule id="r"><inputEntry id="ie1"><text>&gt; 1000</text></inputEntry>'
        b'<outputEntry id="oe1"><text>"high"</text></outputEntry></rule>\n'
        b"    </decisionTable>\n  </decision>\n</definitions>\n"
    )
    assert errors(validate_bundle({"leave.bpmn": valid_bpmn(), "rules.dmn": dmn}, parse=spiff_parse)) == []


def test_parser_exceptions_never_leak_object_reprs() -> None:
    class Boom(Exception):
        pass

    def parse(files: dict[str, bytes]) -> None:
        raise Boom(f"cannot connect {object()} to <SpiffWorkflow.bpmn.specs.Foo object at 0x7f00deadbeef>")

    (diag,) = validate_bundle({"leave.bpmn": valid_bpmn()}, parse=parse)
    assert diag.rule == "parse" and diag.severity == "error"
    assert "0x" not in diag.message and "object at" not in diag.message and "Boom" in diag.message


def test_validation_exception_is_mapped_to_element_and_line() -> None:
    path = CORPUS / "invalid" / "call_activity_missing_target.bpmn"
    (diag,) = validate_bundle({path.name: path.read_bytes()}, parse=spiff_parse)
    assert diag.rule == "parse" and diag.file == path.name
    assert diag.element_id == "t" or diag.line is not None


def test_parse_is_skipped_when_our_checks_fail() -> None:
    calls: list[int] = []
    validate_bundle(
        {"z.bpmn": (CORPUS / "invalid" / "zeebe.bpmn").read_bytes()}, parse=lambda f: calls.append(1)
    )
    assert calls == []


def test_bundle_without_bpmn_and_unknown_files() -> None:
    assert "no-executable-process" in rules_of(validate_bundle({}))
    found = validate_bundle({"leave.bpmn": valid_bpmn(), "notes.txt": b"hello"})
    assert rules_of(found) == {"unknown-file-type"}


def test_format_diagnostics() -> None:
    assert "no problems" in format_diagnostics([])
    text = format_diagnostics(
        [
            Diagnostic("坏条件", element_id="f2", line=12, file="a.bpmn", rule="python-syntax"),
            Diagnostic("提示", file="a.bpmn", rule="gateway-no-default", severity="warning"),
        ]
    )
    assert "a.bpmn:12: error [python-syntax] <f2> 坏条件" in text
    assert text.splitlines()[-1].startswith("1 个错误")


def test_bpmn_modules_import_no_database_or_web_code() -> None:
    forbidden = ("sqlalchemy", "fastapi", "starlette", "jinja2", "api")
    for path in (ENGINE / "bpmn").glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            for name in names:
                assert name.split(".")[0] not in forbidden, f"{path.name} imports {name}"


def test_non_ascii_attribute_names_are_diagnosed_not_crashed():
    """Found by the fuzzer: XML allows Chinese in names; the schema copy must not re-encode them."""
    from pathlib import Path
    bpmn = (Path(__file__).parent / "data" / "parallel_review.bpmn").read_bytes().replace(
        b'id="fb2" sourceRef', 'id="fb2" 中文sourceRef'.encode())
    found = validate_bundle({"f.bpmn": bpmn})
    assert found and all(d.line for d in found if d.rule == "xml-schema")


def test_multi_instance_completion_condition_is_refused_with_a_pointer_to_countersign() -> None:
    loop = (
        b'<bpmn:multiInstanceLoopCharacteristics camunda:collection="reviewers" camunda:elementVariable="r">\n'
        b"        <bpmn:completionCondition>nrOfCompletedInstances / nrOfInstances &gt;= 2 / 3"
        b"</bpmn:completionCondition>\n      </bpmn:multiInstanceLoopCharacteristics>\n    </bpmn:userTask>"
    )
    source = valid_bpmn()
    start = source.index(b'<bpmn:userTask id="dept_approve"')
    data = source[:start] + source[start:].replace(b"</bpmn:userTask>", loop, 1)
    found = validate_bundle({"mi.bpmn": data}, parse=spiff_parse)
    (diag,) = [d for d in errors(found) if d.rule == "multi-instance-completion"]
    line = data.decode().splitlines().index(
        next(x for x in data.decode().splitlines() if "<bpmn:completionCondition>" in x)) + 1
    assert (diag.element_id, diag.line, diag.file) == ("dept_approve", line, "mi.bpmn")
    assert "hospital:countersign" in diag.message
    # a multi-instance task without a completion condition (every instance must finish) still deploys
    plain = data.replace(data[data.index(b"<bpmn:completionCondition>"):data.index(b"</bpmn:completionCondition>")
                              + len(b"</bpmn:completionCondition>")], b"")
    assert errors(validate_bundle({"mi.bpmn": plain}, parse=spiff_parse)) == []


def test_no_shipped_or_test_bpmn_uses_a_multi_instance_completion_condition() -> None:
    root = ENGINE.parent
    offenders = [p for folder in ("processes", "tests") for p in (root / folder).rglob("*.bpmn")
                 if b"completionCondition" in p.read_bytes()]
    assert offenders == []


# Element-level rules: the diagnostic names the element AND a line: the element's own, or for an expression
# inside it (JUEL in a condition or parameter) the expression's line.
ELEMENT_LEVEL = sorted(name for name, rule in EXPECTED_RULES.items() if rule in {
    "juel", "unsupported-element", "timer", "missing-start-event", "zeebe"})


@pytest.mark.parametrize("name", ELEMENT_LEVEL)
def test_element_level_rules_give_element_id_and_its_line(name: str) -> None:
    path = CORPUS / "invalid" / name
    found = [d for d in errors(validate_bundle(with_bpmn(path))) if d.rule == EXPECTED_RULES[name]]
    assert found, name
    lines = path.read_text("utf-8").splitlines()
    for diag in found:
        assert diag.element_id and diag.line, diag
        [element_line] = [n for n, text in enumerate(lines, 1) if f'id="{diag.element_id}"' in text]
        at = lines[diag.line - 1]
        assert diag.line == element_line or ("${" in at and diag.line > element_line), (diag, at)


def test_data_store_reports_the_store_and_its_reference() -> None:
    found = validate_bundle(with_bpmn(CORPUS / "invalid" / "data_store.bpmn"))
    assert {(d.element_id, d.line) for d in found if d.rule == "unsupported-element"} == {("store", 3),
                                                                                          ("store_ref", 8)}
