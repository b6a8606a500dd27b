"""Deploy and list process definitions."""
from __future__ import annotations

from fastapi import APIRouter, UploadFile

import engine
from api.deps import Ctx, CurrentSubject
from api.schemas.workflow import DefinitionOut, DeployOut, DiagnosticOut

router = APIRouter(prefix="/api/definitions", tags=["definitions"])
MAX_FILE_BYTES = 5 * 1024 * 1024


async def _read(files: list[UploadFile]) -> dict[str, bytes]:
    return {f.filename or "upload.bpmn": await f.read(MAX_FILE_BYTES + 1) for f in files}


@router.get("", response_model=list[DefinitionOut])
def list_definitions(ctx: Ctx, _subject: CurrentSubject) -> list[DefinitionOut]:
    return [DefinitionOut.model_validate(d, from_attributes=True) for d in engine.list_definitions(ctx)]


@router.post("/validate", response_model=list[DiagnosticOut])
async def validate(ctx: Ctx, _subject: CurrentSubject, files: list[UploadFile]) -> list[DiagnosticOut]:
    return [DiagnosticOut(**d.to_dict()) for d in engine.validate_definition(ctx, await _read(files))]


@router.post("", response_model=DeployOut, status_code=201)
async def deploy(ctx: Ctx, subject: CurrentSubject, files: list[UploadFile], comment: str = "") -> DeployOut:
    result = engine.deploy(ctx, await _read(files), actor=subject.username, comment=comment)
    return DeployOut(definition_id=result.definition_id, process_key=result.process_key, version=result.version,
                     created=result.created, warnings=[DiagnosticOut(**w.to_dict()) for w in result.warnings])
