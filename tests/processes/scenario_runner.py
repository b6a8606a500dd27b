"""Run one processes/*/test_*.json scenario through the public engine (+ fake HTTP systems for connectors).

Steps: start{data}, complete{task,outcome,data}, message{name,payload}, timer{element},
connector_result{task,topic,result}; each may carry expect{tasks, waiting}; the scenario's end{event, data}
is checked on the finished instance. Tests only read engine internals to *observe* (waiting elements,
the end event reached); every action goes through the public engine functions.
"""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

import engine
from engine import EngineContext, Subject
from engine.jobs.worker import run_job_by_id
from engine.models import Definition, Instance, Job, MessageWait
from tests.fakes import servers

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = ROOT / "processes"
INSTITUTION = "JA_CENTRAL"


NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL"}


def message_start(process_key: str) -> str | None:
    """The message name of the process's message start event, if it has one."""
    for path in PROCESSES.glob("*/*.bpmn"):
        doc = etree.parse(str(path))
        proc = doc.find(f"bpmn:process[@id='{process_key}']", NS)
        if proc is None:
            continue
        for start in proc.findall("bpmn:startEvent", NS):
            ref = start.find("bpmn:messageEventDefinition", NS)
            if ref is not None:
                msg = doc.find(f"bpmn:message[@id='{ref.get('messageRef')}']", NS)
                return msg.get("name") if msg is not None else None
    return None


def end_events(end: dict[str, Any]) -> list[str]:
    """The end event(s) a scenario must reach: one name, or a list when parallel paths end separately."""
    event = end.get("event", [])
    return [event] if isinstance(event, str) else list(event)


def scenario_files() -> list[Path]:
    return sorted(PROCESSES.glob("*/test_*.json"))


def all_scenarios() -> list[tuple[str, str, dict[str, Any]]]:
    out = []
    for path in scenario_files():
        doc = json.loads(path.read_text(encoding="utf-8"))
        for i, scenario in enumerate(doc["scenarios"]):
            out.append((f"{doc['process']}[{i}]", doc["process"], scenario))
    return out


@dataclass
class Run:
    ctx: EngineContext
    systems: dict[str, servers.FakeSystem]
    process: str
    instance_id: str = ""
    business_key: str = ""
    log: list[str] = field(default_factory=list)

    # ---- observation (read-only) ----
    def _workflow(self) -> Any:
        with self.ctx.db.unit_of_work() as session:
            instance = session.get(Instance, self.instance_id)
            definition = session.get(Definition, instance.definition_id)
            specs = self.ctx.specs.get(definition, self.ctx.runtime)
            return instance, self.ctx.runtime.restore(specs, instance.state)

    def open_tasks(self) -> list[engine.TaskView]:
        return engine.get_instance(self.ctx, self.instance_id).open_tasks

    def waiting(self) -> set[str]:
        _, workflow = self._workflow()
        names = set()
        for wf in (workflow, *workflow.subprocesses.values()):
            for t in wf.get_tasks(state=TaskState.WAITING | TaskState.READY | TaskState.STARTED):
                names.add(t.task_spec.bpmn_id or t.task_spec.name)
                if type(t.task_spec).__name__ == "EventBasedGateway":  # its catch events wait with it
                    names |= {c.task_spec.bpmn_id for c in t.children}
        return names

    def reached_ends(self) -> set[str]:
        _, workflow = self._workflow()
        ends = set()
        for wf in (workflow, *workflow.subprocesses.values()):
            for t in wf.get_tasks(state=TaskState.COMPLETED):
                if type(t.task_spec).__name__ == "EndEvent":
                    ends.add(t.task_spec.bpmn_id)
        return ends

    def data(self) -> dict[str, Any]:
        return engine.get_instance(self.ctx, self.instance_id, with_data=True).data or {}

    # ---- actions through the public engine ----
    def start(self, data: dict[str, Any], index: str) -> None:
        self.business_key = f"SCN-{index}"
        institution = data.get("institution") or INSTITUTION
        message = message_start(self.process)
        if message:  # a message start event (refund_requested): the external system starts it by message
            result = engine.deliver_message(self.ctx, message, correlation_key=self.business_key, payload=data,
                                            sender="scenario_applicant", institution=institution)
            assert result.status == "started" and len(result.instance_ids) == 1, result
            self.instance_id = result.instance_ids[0]
        else:
            view = engine.start_instance(self.ctx, self.process, initiator="scenario_applicant",
                                         institution=institution, business_key=self.business_key, data=data)
            self.instance_id = view.id
        self.settle()

    def _due(self, kind_is_connector: bool) -> list[Job]:
        now = self.ctx.clock.now()
        with self.ctx.db.unit_of_work() as session:
            rows = session.scalars(select(Job).where(Job.status == "pending", Job.run_at <= now)
                                   .order_by(Job.run_at)).all()
            return [j for j in rows if (j.kind == "connector") == kind_is_connector]

    def settle(self) -> None:
        """Run the due background work (messages, webhooks, notifications …) through the job worker.

        Connector calls wait for their scenario step, which decides what the fake system answers.
        """
        for _ in range(100):
            due = self._due(False)
            if not due:
                return
            for job in due:
                run_job_by_id(self.ctx, job.id, "scenario")

    def complete(self, task: str, outcome: str | None, data: dict[str, Any]) -> None:
        matching = [t for t in self.open_tasks() if t.node_id == task]
        assert matching, f"no open task {task!r}; open: {[t.node_id for t in self.open_tasks()]}"
        t = matching[0]
        username = t.assignee or (t.candidate_users[0] if t.candidate_users else "scenario_staff")
        subject = Subject(username, {t.institution: frozenset(t.candidate_roles)})
        engine.complete_task(self.ctx, t.id, subject, outcome=outcome, data=data)
        self.settle()

    def message(self, name: str, payload: dict[str, Any]) -> None:
        with self.ctx.db.unit_of_work() as session:
            key = session.scalar(select(MessageWait.correlation_key).where(
                MessageWait.instance_id == self.instance_id, MessageWait.message_name == name))
        result = engine.deliver_message(self.ctx, name, correlation_key=key or self.business_key, payload=payload,
                                        sender="scenario")
        assert result.status != "buffered", f"message {name} (key {key!r}) was buffered, not delivered"
        self.settle()

    def timer(self, element: str) -> None:
        with self.ctx.db.unit_of_work() as session:
            jobs = session.scalars(select(Job).where(Job.instance_id == self.instance_id, Job.kind == "timer",
                                                     Job.status == "pending")).all()
            candidates = [j.payload for j in jobs]
        fired = False
        for payload in candidates:
            if payload["node_id"] == element:
                fired = engine.fire_timer(self.ctx, self.instance_id, payload["task_id"], payload["due"]) or fired
        assert fired, f"timer {element!r} is not waiting (timer jobs for {[p['node_id'] for p in candidates]})"
        self.settle()

    def _node_of(self, task_id: str | None) -> str | None:
        if not task_id:
            return None
        _, workflow = self._workflow()
        try:
            task = workflow.get_task_from_id(uuid.UUID(task_id))
        except Exception:  # noqa: BLE001 - compacted away: the job is matched by topic alone
            return None
        return task.task_spec.bpmn_id if task is not None else None

    def connector(self, topic: str, result: Any, task: str | None = None) -> None:
        system = self.systems[topic.split(".", 1)[0]]
        saved = dict(system.routes)
        for key in list(system.routes):
            system.routes[key] = lambda _s, _r, result=result: (200, result)
        try:
            due = [j for j in self._due(True) if j.payload.get("connector") == topic
                   and (task is None or self._node_of(j.payload.get("task_id")) in (task, None))]
            assert due, f"no connector call due for {topic}; due: {[j.payload.get('connector') for j in self._due(True)]}"  # noqa: E501
            outcome = run_job_by_id(self.ctx, due[0].id, "scenario")
            assert outcome == "done", f"connector {topic} job: {outcome}"
        finally:
            system.routes.clear()
            system.routes.update(saved)
        self.settle()

    def check(self, expect: dict[str, Any], where: str) -> None:
        if "tasks" in expect:
            open_nodes = sorted(t.node_id for t in self.open_tasks())
            assert sorted(set(open_nodes)) == sorted(set(expect["tasks"])), (
                f"{where}: open tasks {open_nodes} != expected {expect['tasks']}")
        if "waiting" in expect:
            waiting = self.waiting()
            missing = set(expect["waiting"]) - waiting
            assert not missing, f"{where}: not waiting on {sorted(missing)}; waiting: {sorted(waiting)}"
        if not expect:  # an empty expectation: no human task is open
            pass


def run_scenario(ctx: EngineContext, systems: dict[str, servers.FakeSystem], process: str, index: str,
                 scenario: dict[str, Any]) -> Run:
    run = Run(ctx, systems, process)
    for n, step in enumerate(scenario["steps"]):
        where = f"step {n}"
        if "start" in step:
            run.start(step["start"].get("data", {}), index)
        elif "complete" in step:
            c = step["complete"]
            run.complete(c["task"], c.get("outcome"), c.get("data", {}))
        elif "message" in step:
            run.message(step["message"]["name"], step["message"].get("payload", {}))
        elif "timer" in step:
            run.timer(step["timer"]["element"])
        elif "connector_result" in step:
            c = step["connector_result"]
            run.connector(c["topic"], c["result"], c.get("task"))
        run.check(step.get("expect", {}), where)
    end = scenario.get("end")
    if end:
        view = engine.get_instance(ctx, run.instance_id)
        assert view.status == "completed", f"instance is {view.status}; open: {[t.node_id for t in view.open_tasks]}"
        missing = set(end_events(end)) - run.reached_ends()
        assert not missing, f"end events {sorted(missing)} not reached; reached {sorted(run.reached_ends())}"
        data = run.data()
        for key, value in (end.get("data") or {}).items():
            got = data.get(key)
            if isinstance(value, dict) and isinstance(got, dict):  # a partial record: the named fields match
                got = {k: got.get(k) for k in value}
            assert got == value, f"data[{key!r}] = {got!r} != {value!r}"
    return run
