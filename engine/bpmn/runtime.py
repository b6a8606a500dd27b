"""The SpiffWorkflow facade the engine uses: parse, create, restore, advance, complete, dump.

Pure SpiffWorkflow glue: no database, no web. Modelled on spiff-example-cli's
BpmnEngine(parser, serializer, script_env).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException, TaskNotFoundException
from SpiffWorkflow.util.task import TaskState

from engine.bpmn.compaction import compact_workflow
from engine.bpmn.parser import HospitalParser, process_attributes
from engine.bpmn.serializer import StateSerializer
from engine.bpmn.specs.connector_task import ConnectorTask
from engine.errors import Conflict, Diagnostic, InvalidDefinition, NotFound, ScriptError

Specs = tuple[Any, dict[str, Any]]


@dataclass(frozen=True)
class StepMeta:
    """Static facts about one user task of a definition."""

    node_id: str
    name: str
    extensions: dict[str, Any]


@dataclass(frozen=True)
class ParsedBundle:
    process_key: str
    name: str
    attributes: dict[str, Any]
    spec_json: str
    steps: dict[str, StepMeta]


@dataclass(frozen=True)
class ReadyStep:
    """A READY manual task as the engine sees it (never exposes the Spiff object)."""

    task_id: str
    node_id: str
    name: str
    extensions: dict[str, Any]
    data: dict[str, Any] = field(repr=False)


def _script_error(exc: SpiffWorkflowException) -> ScriptError:
    task = getattr(exc, "task", None)
    node_id = getattr(getattr(task, "task_spec", None), "bpmn_id", None)
    line = getattr(exc, "line_number", None) or None
    message = str(exc).split("\n")[0]
    inner = getattr(exc, "exception", None)
    if inner is not None and str(inner) not in message:
        message = f"{message}: {type(inner).__name__}: {inner}"
    return ScriptError(
        message=message,
        element_id=node_id,
        line=line,
        task_trace=list(getattr(exc, "task_trace", []) or []),
        notes=list(getattr(exc, "notes", []) or []),
    )


def _is_user_step(task_spec: Any) -> bool:
    return bool(getattr(task_spec, "manual", False))


def _top_level(parser: HospitalParser, executable: list[str]) -> str:
    """The process a bundle deploys as: the first executable one that no call activity of the bundle calls.

    SpiffWorkflow needs a called process to be executable too, so "first executable" alone would deploy
    a bundle whose called process comes first as that called process.
    """
    called = {pid for pp in parser.process_parsers.values() for pid in pp.called_element_ids()}
    return next((pid for pid in executable if pid not in called), executable[0])


class BpmnRuntime:
    """Everything the engine does with SpiffWorkflow objects goes through here."""

    def __init__(self, script_engine_factory: Callable[[], Any]) -> None:
        self._script_engine_factory = script_engine_factory
        self._script_engine = script_engine_factory()
        self.serializer = StateSerializer()

    # ---- definitions -------------------------------------------------------------------
    def parse_bundle(self, files: dict[str, bytes], process_key: str | None = None) -> ParsedBundle:
        """Parse BPMN + DMN files into a spec. Raises InvalidDefinition with diagnostics."""
        parser = self.make_parser(files)
        executable = [pid for pid, pp in parser.process_parsers.items() if pp.process_executable]
        if process_key is None:
            if not executable:
                raise InvalidDefinition(
                    "没有可执行的流程 (no executable process)",
                    [Diagnostic("文件中没有 isExecutable=\"true\" 的流程 (no executable process)")],
                )
            process_key = _top_level(parser, executable)
        if process_key not in parser.process_parsers:
            raise InvalidDefinition(
                f"文件中没有流程 {process_key}",
                [Diagnostic(f"process {process_key} not found", element_id=process_key)],
            )
        spec = parser.get_spec(process_key)
        subprocess_specs = parser.get_subprocess_specs(process_key)
        attributes = process_attributes(parser, process_key)
        steps = {}
        for s in [spec, *subprocess_specs.values()]:
            for task_spec in s.task_specs.values():
                if _is_user_step(task_spec) and task_spec.bpmn_id:
                    steps[task_spec.bpmn_id] = StepMeta(
                        node_id=task_spec.bpmn_id,
                        name=task_spec.bpmn_name or task_spec.bpmn_id,
                        extensions=dict(getattr(task_spec, "extensions", {}) or {}),
                    )
        return ParsedBundle(
            process_key=process_key,
            name=attributes.get("name", process_key),
            attributes=attributes,
            spec_json=self.serializer.dump_specs(spec, subprocess_specs),
            steps=steps,
        )

    @staticmethod
    def make_parser(files: dict[str, bytes]) -> HospitalParser:
        parser = HospitalParser()
        for name, content in sorted(files.items()):
            if name.lower().endswith(".dmn"):
                parser.add_dmn_str(content, filename=name)
        for name, content in sorted(files.items()):
            if name.lower().endswith(".bpmn"):
                parser.add_bpmn_str(content, filename=name)
        return parser

    def make_parser_check(self, files: dict[str, bytes]) -> None:
        """Parse every executable process (used by deploy-time validation)."""
        parser = self.make_parser(files)
        for pid, process_parser in list(parser.process_parsers.items()):  # get_spec adds subprocesses
            if process_parser.process_executable:
                parser.get_spec(pid)
                parser.get_subprocess_specs(pid)

    def load_specs(self, spec_json: str) -> Specs:
        return self.serializer.load_specs(spec_json)

    @staticmethod
    def has_connectors(specs: Specs) -> bool:
        """Whether any process of the spec (main or called) has a service task that calls a connector."""
        spec, subprocess_specs = specs
        return any(isinstance(task_spec, ConnectorTask)
                   for process in (spec, *subprocess_specs.values()) for task_spec in process.task_specs.values())

    # ---- instances ---------------------------------------------------------------------
    def new_workflow(self, specs: Specs, data: dict[str, Any]) -> BpmnWorkflow:
        spec, subprocess_specs = specs
        workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=self._script_engine)
        workflow.get_tasks(state=TaskState.READY)[0].data.update(data)
        return workflow

    def restore(self, specs: Specs, state: str) -> BpmnWorkflow:
        workflow = self.serializer.load_state(state, *specs)
        # A restored workflow gets SpiffWorkflow's unrestricted default engine unless we re-apply ours.
        workflow.script_engine = self._script_engine
        return workflow

    def dump(self, workflow: BpmnWorkflow) -> str:
        return self.serializer.dump_state(workflow)

    def advance(self, workflow: BpmnWorkflow) -> None:
        """Run engine steps to the next wait state, then drop stale history."""
        try:
            workflow.do_engine_steps()
        except SpiffWorkflowException as exc:
            raise _script_error(exc) from None
        compact_workflow(workflow)

    def ready_steps(self, workflow: BpmnWorkflow) -> list[ReadyStep]:
        # BpmnTaskIterator already descends into subprocesses; dedupe so each task appears once.
        steps: dict[str, ReadyStep] = {}
        for wf in (workflow, *workflow.subprocesses.values()):
            for task in wf.get_tasks(state=TaskState.READY):
                if _is_user_step(task.task_spec) and str(task.id) not in steps:
                    steps[str(task.id)] = self._ready_step(task)
        return list(steps.values())

    @staticmethod
    def _ready_step(task: Any) -> ReadyStep:
        spec = task.task_spec
        return ReadyStep(
            task_id=str(task.id),
            node_id=spec.bpmn_id,
            name=spec.bpmn_name or spec.bpmn_id,
            extensions=dict(getattr(spec, "extensions", {}) or {}),
            data=task.data,
        )

    def complete_step(self, workflow: BpmnWorkflow, task_id: str, data: dict[str, Any]) -> None:
        """Complete one READY user task with data and advance. `task.run()` does not check state; we do."""
        try:
            task = workflow.get_task_from_id(UUID(task_id))
        except TaskNotFoundException:  # SpiffWorkflow 3 raises instead of returning None
            raise NotFound("任务不存在 (task not found in workflow)", task_id=task_id) from None
        if not task.has_state(TaskState.READY) or not _is_user_step(task.task_spec):
            raise Conflict(
                "任务当前不可办理 (task is not ready)",
                task_id=task_id,
                state=TaskState.get_name(task.state),
            )
        task.data.update(data)
        try:
            task.run()
        except SpiffWorkflowException as exc:
            raise _script_error(exc) from None
        self.advance(workflow)

    def evaluate(self, expression: str, data: dict[str, Any]) -> Any:
        """Evaluate a Python expression (assignee, institution, signers) in the restricted sandbox."""
        return self._script_engine.environment.evaluate(expression, dict(data))

    @staticmethod
    def is_completed(workflow: BpmnWorkflow) -> bool:
        return bool(workflow.is_completed())

    @staticmethod
    def data(workflow: BpmnWorkflow) -> dict[str, Any]:
        """The workflow-level data after completion, or the latest task data while running."""
        if workflow.is_completed():
            ends = [t for t in workflow.get_tasks(state=TaskState.COMPLETED) if not t.children]
            return dict(ends[-1].data) if ends else dict(workflow.data)
        return dict(workflow.last_task.data) if workflow.last_task else {}


    @staticmethod
    def completed_node_ids(workflow: BpmnWorkflow) -> set[str]:
        """BPMN ids of completed elements still in the (compacted) state: the path taken so far."""
        tasks = list(workflow.get_tasks(state=TaskState.COMPLETED))
        for subprocess in workflow.subprocesses.values():
            tasks += subprocess.get_tasks(state=TaskState.COMPLETED)
        return {t.task_spec.bpmn_id for t in tasks if getattr(t.task_spec, "bpmn_id", None)}
