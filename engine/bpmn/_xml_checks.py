"""Safe XML loading and XML-schema checks for BPMN and DMN files (used by ``validation``)."""

from __future__ import annotations

import os
import re
from copy import deepcopy
from functools import cache

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import XSD_PATH, BpmnValidator
from SpiffWorkflow.dmn.parser.BpmnDmnParser import SCHEMAS as DMN_SCHEMAS

from engine.errors import Diagnostic

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
MAX_FILE_BYTES = 5 * 1024 * 1024
_NS_PREFIXES = {
    BPMN_NS: "bpmn",
    "http://camunda.org/schema/1.0/bpmn": "camunda",
    "http://hospital-workflow.org/schema/1.0/bpmn": "hospital",
    **{ns: "dmn" for ns in DMN_SCHEMAS},
}
_CLARK = re.compile(r"\{([^}]*)\}")
_DOCTYPE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_POSITION_SUFFIX = re.compile(r", line \d+, column \d+$")
_DOCTYPE_MESSAGE = "不允许 DOCTYPE/实体声明 (DOCTYPE and entity declarations are not allowed)"


def make_diag(
    message: str,
    rule: str,
    file: str | None,
    element: etree._Element | None = None,
    *,
    line: int | None = None,
    severity: str = "error",
    element_id: str | None = None,
) -> Diagnostic:
    """Build a Diagnostic, taking the line and id from ``element`` (or its nearest ancestor with an id)."""
    if element is not None:
        line = line or element.sourceline
        element_id = element_id or nearest_id(element)
    return Diagnostic(
        message=message, element_id=element_id, line=line, severity=severity, file=file, rule=rule
    )


def nearest_id(element: etree._Element) -> str | None:
    """Return the id of ``element`` or of its closest ancestor that has one."""
    node: etree._Element | None = element
    while node is not None:
        if isinstance(node.tag, str) and node.get("id"):
            return node.get("id")
        node = node.getparent()
    return None


def short_tag(text: str) -> str:
    """Replace ``{namespace}`` in lxml/XSD messages with the usual prefix, e.g. ``bpmn:``."""
    return _CLARK.sub(lambda m: f"{_NS_PREFIXES.get(m.group(1), m.group(1))}:", text)


def _safe_parser() -> etree.XMLParser:
    # No entity expansion (billion laughs), no DTD or network fetches (XXE), default size limits.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_pis=True,
    )


def load_xml(name: str, data: bytes) -> tuple[etree._Element | None, list[Diagnostic]]:
    """Parse ``data`` safely.

    Args:
        name: File name, used in diagnostics.
        data: Raw file content.

    Returns:
        The root element (None if the file cannot be used) and the diagnostics found while loading.
    """
    if not data.strip():
        return None, [make_diag("文件为空 (empty file)", "empty-file", name, line=1)]
    if len(data) > MAX_FILE_BYTES:
        limit = MAX_FILE_BYTES // (1024 * 1024)
        return None, [make_diag(f"文件超过 {limit} MB (file too large)", "file-too-large", name, line=1)]
    doctype = _DOCTYPE.search(data)
    if doctype is not None:
        # Refused before parsing: entity declarations are how expansion (billion laughs) and XXE start.
        return None, [
            make_diag(_DOCTYPE_MESSAGE, "xml-doctype", name, line=data.count(b"\n", 0, doctype.start()) + 1)
        ]
    try:
        root = etree.fromstring(data, parser=_safe_parser())
    except etree.XMLSyntaxError as err:
        line, column = err.position if err.position else (err.lineno, 0)
        detail = _POSITION_SUFFIX.sub("", short_tag(err.msg or ""))
        msg = f"XML 格式错误 (not well-formed XML), 第 {line} 行第 {column} 列: {detail}"
        return None, [make_diag(msg, "xml-syntax", name, line=line or 1)]
    except (ValueError, TypeError) as err:
        return None, [make_diag(f"无法读取 XML (unreadable XML): {err}", "xml-syntax", name, line=1)]
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:  # e.g. UTF-16 input the byte scan cannot see
        return None, [make_diag(_DOCTYPE_MESSAGE, "xml-doctype", name, line=1)]
    return root, []


@cache
def _bpmn_validator() -> BpmnValidator:
    return BpmnValidator(XSD_PATH)


@cache
def _dmn_schema(namespace: str) -> etree.XMLSchema | None:
    path = DMN_SCHEMAS.get(namespace)
    if path is None or not os.path.exists(path):
        return None
    return etree.XMLSchema(etree.parse(path))


def _element_at(root: etree._Element, line: int) -> etree._Element | None:
    best = None
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        if element.sourceline == line:
            return element
        if element.sourceline is not None and element.sourceline < line:
            best = element
    return best


def _schema_diagnostics(
    schema: etree.XMLSchema, root: etree._Element, name: str, kind: str
) -> list[Diagnostic]:
    if schema.validate(root):
        return []
    found: list[Diagnostic] = []
    for error in list(schema.error_log)[:20]:
        element = _element_at(root, error.line)
        message = f"{kind} 结构不符合规范 (XML schema): {short_tag(error.message)}"
        found.append(make_diag(message, "xml-schema", name, element, line=error.line))
    return found


def check_bpmn_schema(root: etree._Element, name: str) -> list[Diagnostic]:
    """Validate a BPMN document against the BPMN 2.0 XSDs shipped with SpiffWorkflow.

    Args:
        root: Root element from :func:`load_xml`; it is validated on a copy.
        name: File name, used in diagnostics.

    Returns:
        One diagnostic per schema error (at most 20), each with a line and the nearest element id.
    """
    validator = _bpmn_validator()
    # Copy the tree rather than re-serialising it: tostring() defaults to ASCII and would turn
    # non-ASCII characters in element/attribute *names* into (invalid) character references.
    copy = deepcopy(root)
    validator.preprocess(copy)  # the same bpmn-js correlation fix-up the parser applies
    return _schema_diagnostics(validator.validator, copy, name, "BPMN")


def check_dmn(root: etree._Element, name: str) -> list[Diagnostic]:
    """Check that a DMN document uses a supported DMN version, has decisions and matches its XSD.

    Args:
        root: Root element from :func:`load_xml`.
        name: File name, used in diagnostics.

    Returns:
        Diagnostics for the DMN file.
    """
    namespace = etree.QName(root).namespace or ""
    if etree.QName(root).localname != "definitions" or namespace not in DMN_SCHEMAS:
        supported = ", ".join(sorted(DMN_SCHEMAS))
        return [
            make_diag(
                f"不是受支持的 DMN 文件 (not a supported DMN 1.1-1.3 document; namespaces: {supported})",
                "dmn",
                name,
                root,
            )
        ]
    decisions = root.findall(f"{{{namespace}}}decision")
    if not decisions:
        return [make_diag("DMN 文件中没有决策 (no decision in DMN file)", "dmn", name, root)]
    schema = _dmn_schema(namespace)
    found = _schema_diagnostics(schema, root, name, "DMN") if schema is not None else []
    for decision in decisions:
        if decision.find(f"{{{namespace}}}decisionTable") is None:
            found.append(make_diag("决策缺少决策表 (decision has no decisionTable)", "dmn", name, decision))
    return found
