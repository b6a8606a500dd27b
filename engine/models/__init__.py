"""All tables, re-exported for Alembic and the engine's store modules."""
from engine.models.audit import AuditRecord
from engine.models.base import Base
from engine.models.definition import Definition
from engine.models.designer import FormDraft, ProcessDraft
from engine.models.human_task import HumanTask, TaskCandidate
from engine.models.instance import Instance
from engine.models.job import Job

__all__ = [
    "AuditRecord", "Base", "Definition", "FormDraft", "HumanTask", "Instance", "Job", "ProcessDraft",
    "TaskCandidate",
]
