"""Deploy-time validation of a BPMN/DMN bundle, reported as plain-language diagnostics.

Our own checks run first, on safely parsed XML, so the author sees every problem with its element id and
line at once. Only a bundle without errors is handed to the real SpiffWorkflow parser, whose
exceptions are converted as well.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from lxml import etree

from engine.bpmn import _bpmn_rules as rules
from engine.bpmn._xml_checks import check_bpmn_schema, check_dmn, load_xml, make_diag
from engine.errors import Diagnostic

__all__ = ["validate_bundle", "format_diagnostics"]

ParseFn = Callable[[dict[str, bytes]], object]

_OBJECT_REPR = re.compile(r"<[\w.]+(?: [\w.]+)* object at 0x[0-9a-fA-F]+>")
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def validate_bundle(files: dict[str, bytes], parse: ParseFn | None = None) -> list[Diagnostic]:
    """Validate every file of a definition bundle.

    Args:
        files: File name (``*.bpmn`` or ``*.dmn``) to raw bytes.
        parse: Optional callable running the real SpiffWorkflow parser over the same files; called only
            when no error was found, and its exceptions become diagnostics.

    Returns:
        All diagnostics, errors and warnings; deployment should be refused if any has severity "error".
    """
    found: list[Diagnostic] = []
    trees: dict[str, etree._Element] = {}
    executable = 0
    for name, data in files.items():
        kind = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        if kind not in {"bpmn", "dmn"}:
            found.append(
                make_diag(
                    "未知的文件类型 (only .bpmn and .dmn files are accepted)",
                    "unknown-file-type",
                    name,
                    line=1,
                )
            )
            continue
        root, problems = load_xml(name, data)
        found += problems
        if root is None:
            continue
        trees[name] = root
        if kind == "dmn":
            found += check_dmn(root, name)
        else:
            count, problems = _check_bpmn(root, name)
            executable += count
            found += problems
    if not any(name.lower().endswith(".bpmn") for name in files):
        found.append(
            make_diag("缺少 BPMN 文件 (the bundle has no .bpmn file)", "no-executable-process", None)
        )
    elif executable == 0 and not _has_errors(found):
        first = next(name for name in files if name.lower().endswith(".bpmn"))
        found.append(
            make_diag(
                '没有可执行的流程 (no process with isExecutable="true")',
                "no-executable-process",
                first,
                trees.get(first),
            )
        )
    if parse is not None and not _has_errors(found):
        found += _run_parser(parse, files, trees)
    return found


def _check_bpmn(root: etree._Element, name: str) -> tuple[int, list[Diagnostic]]:
    platform = rules.check_platform(root, name)
    if platform:
        return 0, platform  # a Zeebe or non-BPMN file would only produce noise below
    found = check_bpmn_schema(root, name)
    count, problems = rules.check_processes(root, name)
    found += problems
    found += rules.check_unsupported(root, name)
    found += rules.check_expressions(root, name)
    found += rules.check_attributes(root, name)
    found += rules.check_flows(root, name)
    return count, found


def _has_errors(found: list[Diagnostic]) -> bool:
    return any(d.severity == "error" for d in found)


def _clean(text: str) -> str:
    """Drop object reprs and memory addresses, which mean nothing to a process author."""
    return _ADDRESS.sub("", _OBJECT_REPR.sub("(内部对象)", text)).strip()


def _run_parser(
    parse: ParseFn, files: dict[str, bytes], trees: dict[str, etree._Element]
) -> list[Diagnostic]:
    try:
        parse(files)
    except Exception as err:  # noqa: BLE001 - every parser failure must become a diagnostic
        return [_from_exception(err, trees)]
    return []


def _from_exception(err: Exception, trees: dict[str, etree._Element]) -> Diagnostic:
    element_id = getattr(err, "id", None) or None
    file_name = getattr(err, "file_name", None) or None
    line = getattr(err, "line_number", None) or getattr(err, "sourceline", None) or None
    if not isinstance(line, int):
        line = int(line) if str(line).isdigit() else None
    message = str(err.args[0]) if err.args else type(err).__name__
    if not element_id:
        element_id, file_name = _mentioned_element(message, file_name, trees)
    if element_id and line is None:
        line, file_name = _locate(element_id, file_name, trees)
    notes = [n for n in getattr(err, "notes", []) if isinstance(n, str)]
    if notes:
        message = f"{message}. {'. '.join(notes)}"
    name = getattr(err, "name", "")
    if name and element_id:
        message = f"{message} ({name})"
    prefix = (
        "流程解析失败 (SpiffWorkflow)"
        if type(err).__name__ == "ValidationException"
        else f"流程解析失败 ({type(err).__name__})"
    )
    return Diagnostic(
        message=f"{prefix}: {_clean(message)}",
        element_id=element_id if isinstance(element_id, str) else None,
        line=line,
        severity="error",
        file=file_name if isinstance(file_name, str) else None,
        rule="parse",
    )


def _mentioned_element(
    message: str, file_name: str | None, trees: dict[str, etree._Element]
) -> tuple[str | None, str | None]:
    """Some parser errors carry no node, only a quoted id (e.g. a callActivity's missing target)."""
    for token in re.findall(r"'([^']+)'|\"([^\"]+)\"", message):
        wanted = token[0] or token[1]
        for name, root in trees.items():
            for element in root.iter():
                if isinstance(element.tag, str) and wanted in (
                    element.get("id"),
                    element.get("calledElement"),
                    element.get(_DECISION_REF),
                ):
                    return element.get("id"), name
    return None, file_name


_DECISION_REF = "{http://camunda.org/schema/1.0/bpmn}decisionRef"


def _locate(
    element_id: str, file_name: str | None, trees: dict[str, etree._Element]
) -> tuple[int | None, str | None]:
    for name, root in trees.items():
        if file_name and name != file_name:
            continue
        for element in root.iter():
            if isinstance(element.tag, str) and element.get("id") == element_id:
                return element.sourceline, name
    return None, file_name


def format_diagnostics(diagnostics: list[Diagnostic]) -> str:
    """Render diagnostics for a terminal, one per line, like a compiler: ``file:line: severity [rule] ...``.

    Args:
        diagnostics: The list returned by :func:`validate_bundle`.

    Returns:
        The text, ending with a summary line; "没有问题 (no problems found)" if the list is empty.
    """
    if not diagnostics:
        return "没有问题 (no problems found)"
    lines = []
    for d in sorted(diagnostics, key=lambda d: (d.file or "", d.line or 0)):
        where = f"{d.file or '<bundle>'}:{d.line}" if d.line else (d.file or "<bundle>")
        element = f" <{d.element_id}>" if d.element_id else ""
        lines.append(f"{where}: {d.severity} [{d.rule}]{element} {d.message}")
    errors = sum(1 for d in diagnostics if d.severity == "error")
    lines.append(f"{errors} 个错误 (errors), {len(diagnostics) - errors} 个警告 (warnings)")
    return "\n".join(lines)
