"""The engine's dependencies, built once and passed to every command (no import-time I/O)."""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.bpmn.runtime import BpmnRuntime, Specs
from engine.bpmn.script_env import make_script_engine
from engine.clock import Clock, SystemClock
from engine.config import Settings
from engine.db import Database, make_engine
from engine.logging_setup import configure_logging
from engine.security.form_fields import FormFieldCodec, SensitiveFields, sensitive_fields


class SpecCache:
    """Parsed specs (and facts derived from them) per definition id.

    Definitions are immutable, so entries never go stale.
    """

    def __init__(self, size: int = 256, forms_dir: Path | None = None) -> None:
        self._items: OrderedDict[str, tuple[Specs, bool]] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()
        self.forms_dir = forms_dir  # current forms/: their x-sensitive marks also apply to older snapshots

    def _entry(self, definition: Any, runtime: BpmnRuntime) -> tuple[Specs, bool]:
        definition_id = definition.id
        with self._lock:
            if definition_id in self._items:
                self._items.move_to_end(definition_id)
                return self._items[definition_id]
        specs = runtime.load_specs(definition.spec_json)
        runtime.serializer.mark_sensitive(specs[0], self._sensitive(definition))
        entry = (specs, runtime.has_connectors(specs))
        with self._lock:
            self._items[definition_id] = entry
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return entry

    def get(self, definition: Any, runtime: BpmnRuntime) -> Specs:
        """Specs of a Definition row; its deferred `spec_json` column is only read on a miss."""
        return self._entry(definition, runtime)[0]

    def _sensitive(self, definition: Any) -> SensitiveFields:
        """Marks of the forms snapshotted with the definition, plus those of the same forms in forms/ today
        (a definition deployed before a field was marked still gets it sealed and masked)."""
        from engine.forms import load_form

        forms = dict(getattr(definition, "forms", None) or {})
        schemas = [raw.get("schema") for raw in forms.values() if isinstance(raw, dict)]
        if self.forms_dir is not None:
            current = (load_form(self.forms_dir, key) for key in forms)
            schemas += [form.schema for form in current if form is not None]
        return sensitive_fields(schemas)

    def sensitive(self, definition: Any, runtime: BpmnRuntime) -> SensitiveFields:
        """The x-sensitive fields of a definition's data (engine/security/form_fields.py)."""
        spec = self._entry(definition, runtime)[0][0]
        fields = runtime.serializer.sensitive_fields(spec)
        return fields if fields is not None else self._sensitive(definition)

    def has_connectors(self, definition: Any, runtime: BpmnRuntime) -> bool:
        """Whether the definition's processes contain a service task (connector call) at all."""
        return self._entry(definition, runtime)[1]


@dataclass
class EngineContext:
    settings: Settings
    db: Database
    runtime: BpmnRuntime
    clock: Clock
    specs: SpecCache = field(default_factory=SpecCache)
    extras: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.specs.forms_dir is None:
            self.specs.forms_dir = self.settings.forms_dir
        if self.runtime.serializer.codec is None:
            self.runtime.serializer.codec = FormFieldCodec(self._field_cipher)

    def _field_cipher(self) -> Any:
        from engine.identity._common import field_cipher  # imports this module

        return field_cipher(self)


def build_context(settings: Settings | None = None, clock: Clock | None = None) -> EngineContext:
    """Build the engine from settings: database, SpiffWorkflow runtime with the restricted sandbox.

    Without an authorization policy: every decision is refused until one is installed. Use
    :func:`engine.bootstrap.open_engine`, which installs the Casbin policy.
    """
    settings = settings or Settings()
    configure_logging()
    if not settings.database_url:
        settings.var_dir.mkdir(parents=True, exist_ok=True)
    database = Database(make_engine(settings.effective_database_url, echo=settings.sql_echo))
    runtime = BpmnRuntime(lambda: make_script_engine(settings.script_timeout_seconds))
    return EngineContext(settings=settings, db=database, runtime=runtime, clock=clock or SystemClock())
