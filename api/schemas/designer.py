"""Request and response bodies of /api/designer (shapes fixed by designer/README.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.workflow import DiagnosticOut
from engine import DryRunTask

MAX_XML = 5 * 1024 * 1024


class XmlIn(BaseModel):
    xml: str = Field(max_length=MAX_XML)


class DeployIn(XmlIn):
    comment: str = Field(default="", max_length=500)


class DryRunIn(XmlIn):
    data: dict[str, Any] = Field(default_factory=dict)
    outcomes: dict[str, str] = Field(default_factory=dict)
    task_data: dict[str, dict[str, Any]] = Field(default_factory=dict)


class FormIn(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    form_schema: dict[str, Any] = Field(alias="schema")
    ui: dict[str, Any] = Field(default_factory=dict)
    data: dict[str, Any] | None = None


class MigrateIn(BaseModel):
    key: str
    from_version: int
    to_version: int | None = None
    instance_ids: list[str] = Field(max_length=1000)
    reason: str = Field(default="", max_length=1000)


class RoleOut(BaseModel):
    key: str
    title: str
    title_en: str = ""


class ConnectorOut(BaseModel):
    topic: str
    title: str
    params: list[str]


class FormSummaryOut(BaseModel):
    key: str
    title: str
    source: str


class FormOut(FormSummaryOut):
    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)
    form_schema: dict[str, Any] = Field(alias="schema")
    ui: dict[str, Any]
    updated_at: datetime | None = None


class HtmlOut(BaseModel):
    html: str


class VersionOut(BaseModel):
    key: str
    name: str
    version: int
    deployed_by: str = ""
    deployed_at: datetime | None = None
    comment: str = ""


class DefinitionXmlOut(BaseModel):
    key: str
    version: int
    xml: str
    draft: bool = False


class DraftOut(BaseModel):
    key: str
    xml: str | None = None
    updated_by: str
    saved_at: datetime


class DiagnosticsOut(BaseModel):
    diagnostics: list[DiagnosticOut]


class ImportItemOut(BaseModel):
    element_id: str | None
    attribute: str
    status: str
    message: str


class ImportOut(BaseModel):
    xml: str
    report: list[ImportItemOut]


class ChangeOut(BaseModel):
    id: str
    fields: list[str]


class DiffOut(BaseModel):
    key: str
    against_version: int | None
    added: list[str]
    removed: list[str]
    changed: list[ChangeOut]
    forms_changed: list[str]


class DeployOut(BaseModel):
    key: str
    version: int
    created: bool
    warnings: list[DiagnosticOut]


class DryRunOut(BaseModel):
    path: list[str]
    tasks: list[DryRunTask]
    end_state: str
    waiting: list[str]


class InstanceOut(BaseModel):
    id: str
    business_key: str | None
    title: str
    current: list[str]
    migratable: bool
    reason: str


class MigrationResultOut(BaseModel):
    id: str
    business_key: str | None
    status: str
    message: str


class MigrateOut(BaseModel):
    key: str
    from_version: int
    to_version: int | None
    results: list[MigrationResultOut]
