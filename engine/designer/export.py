"""Export a deployed version back to files, so repository files and the designer stay one source of truth."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from engine.context import EngineContext
from engine.designer.store import latest_row
from engine.errors import NotFound


@dataclass(frozen=True)
class ExportResult:
    process_key: str
    version: int
    written: list[str]


def export_definition(
    ctx: EngineContext, key: str, out_dir: Path, *, version: int | None = None, forms_dir: Path | None = None
) -> ExportResult:
    """Write one deployed version's BPMN/DMN files to `out_dir` and its forms to `forms_dir`.

    Files are written exactly as deployed (deploying the exported folder again yields the same
    content hash, i.e. no new version). Forms go to `forms_dir` (default: settings.forms_dir) as
    `<key>.schema.json` and, when not empty, `<key>.ui.json`.

    Raises:
        NotFound: the key or version is not deployed.
    """
    forms_dir = forms_dir or ctx.settings.forms_dir
    with ctx.db.unit_of_work() as session:
        row = latest_row(session, key, version)
        if row is None:
            raise NotFound(f"流程 {key} 未部署该版本 (version not found)", process_key=key, version=version)
        files, forms, found_version = dict(row.files), dict(row.forms), row.version
    out_dir.mkdir(parents=True, exist_ok=True)
    forms_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in sorted(files.items()):
        target = out_dir / Path(name).name
        target.write_text(text, encoding="utf-8", newline="")
        written.append(str(target))
    for form_key, form in sorted(forms.items()):
        parts = [("schema", form["schema"])] + ([("ui", form["ui"])] if form.get("ui") else [])
        for suffix, content in parts:
            target = forms_dir / f"{form_key}.{suffix}.json"
            target.write_text(json.dumps(content, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
            written.append(str(target))
    return ExportResult(key, found_version, written)
