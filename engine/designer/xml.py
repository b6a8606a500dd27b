"""Safe lxml parsing of untrusted BPMN text and small lookups the designer needs."""

from __future__ import annotations

from typing import Any

from lxml import etree

from engine.errors import Diagnostic, InvalidDefinition

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
HOSPITAL_NS = "http://hospital-workflow.org/schema/1.0/bpmn"
ZEEBE_NS = "http://camunda.org/schema/zeebe/1.0"
NS = {"bpmn": BPMN_NS, "camunda": CAMUNDA_NS, "hospital": HOSPITAL_NS, "zeebe": ZEEBE_NS}
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=False)


def parse_xml(xml: str | bytes) -> Any:
    """Parse BPMN text (no entities, no network).

    Raises:
        InvalidDefinition: with the parser's line number when the text is not well-formed XML.
    """
    data = xml.encode("utf-8") if isinstance(xml, str) else xml
    try:
        return etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        line = exc.position[0] if exc.position else None
        raise InvalidDefinition(
            "XML 格式错误 (malformed XML)", [Diagnostic(f"XML 格式错误: {exc.msg}", line=line, rule="xml")]
        ) from None


def process_key_of(root: Any) -> str:
    """The id of the first executable process (or of the first process).

    Raises:
        InvalidDefinition: the document has no bpmn:process.
    """
    processes = root.findall(f"{{{BPMN_NS}}}process")
    executable = [p for p in processes if p.get("isExecutable") == "true"]
    chosen = (executable or processes or [None])[0]
    if chosen is None or not chosen.get("id"):
        raise InvalidDefinition(
            "没有流程 (no bpmn:process)", [Diagnostic("文件中没有 bpmn:process", rule="bundle")]
        )
    return str(chosen.get("id"))


def form_keys(root: Any) -> list[str]:
    """Every camunda:formKey in the document, in order, without duplicates."""
    keys = [el.get(f"{{{CAMUNDA_NS}}}formKey") for el in root.iter() if isinstance(el.tag, str)]
    return list(dict.fromkeys(k for k in keys if k))


def local(tag: Any) -> str:
    """Local name of an lxml tag ('' for comments and processing instructions)."""
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def elements_by_id(root: Any) -> dict[str, Any]:
    """BPMN model elements (not diagram interchange) keyed by id."""
    return {
        el.get("id"): el
        for el in root.iter()
        if isinstance(el.tag, str) and el.get("id") and etree.QName(el).namespace == BPMN_NS
    }
