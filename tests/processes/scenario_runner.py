"""Run one processes/*/test_*.json scenario against the platform, through one of two drivers.

Steps: start{data}, complete{task,outcome,data}, message{name,payload}, timer{element},
connector_result{task,topic,result}; each may carry expect{tasks, waiting}; the scenario's end{event, data}
is checked on the finished instance.

`ScenarioRun` owns what both drivers share: the step loop, the checks, observation (engine state is only
*read*: waiting elements, the end events reached, the final data), the background job worker and the
connector steps (the fake HTTP systems of tests/fakes/servers.py are steered per step). A driver says how
the actors reach the platform: `EngineRun` calls the public engine functions; `http_driver.HttpRun` goes
through the HTTP API as the external systems and the staff would.
"""
from __future__ import annotations

import functools
import json
import uuid
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
INSTITUTION = "rmyy_main"  # where a scenario starts when its data names no institution (demo district)


NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL"}


@functools.cache
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


def start_institution(data: dict[str, Any]) -> str:
    """The institution a scenario starts in: its own, else the referral's source, else the default."""
    return data.get("institution") or data.get("source_institution") or INSTITUTION


def scenario_files() -> list[Path]:
    return sorted(PROCESSES.glob("*/test_*.json"))


def all_scenarios() -> list[tuple[str, str, Path, dict[str, Any]]]:
    """(id, process key, process folder, scenario) for every scenario of every process."""
    out = []
    for path in scenario_files():
        doc = json.loads(path.read_text(encoding="utf-8"))
        for i, scenario in enumerate(doc["scenarios"]):
            out.append((f"{doc['process']}[{i}]", doc["process"], path.parent, scenario))
    return out


class ScenarioRun:
    """The step loop, checks, observation and background work; subclasses implement the four actions."""

    def __init__(self, ctx: EngineContext, systems: dict[str, servers.FakeSystem], process: str) -> None:
        self.ctx, self.systems, self.process = ctx, systems, process
        self.instance_id = ""
        self.business_key = ""

    # ---- actions (the driver) ----
    def start(self, data: dict[str, Any]) -> None:
        raise NotImplementedError

    def complete(self, task: str, outcome: str | None, data: dict[str, Any]) -> None:
        raise NotImplementedError

    def message(self, name: str, payload: dict[str, Any]) -> None:
        raise NotImplementedError

    def timer(self, element: str) -> None:
        raise NotImplementedError

    # ---- observation (read-only) ----
    def _workflow(self) -> Any:
        with self.ctx.db.unit_of_work() as session:
            instance = session.get(Instance, self.instance_id)
            definition = session.get(Definition, instance.definition_id)
            specs = self.ctx.specs.get(definition, self.ctx.runtime)
            return self.ctx.runtime.restore(specs, instance.state)

    def open_tasks(self) -> list[engine.TaskView]:
        return engine.get_instance(self.ctx, self.instance_id).open_tasks

    def open_task(self, node_id: str) -> engine.TaskView:
        matching = [t for t in self.open_tasks() if t.node_id == node_id]
        assert matching, f"no open task {node_id!r}; open: {[t.node_id for t in self.open_tasks()]}"
        return matching[0]

    def open_steps(self) -> list[str]:
        """The steps of the open human tasks (one entry per task)."""
        return [t.node_id for t in self.open_tasks()]

    def status(self) -> str:
        return engine.get_instance(self.ctx, self.instance_id).status

    def waiting(self) -> set[str]:
        workflow = self._workflow()
        names = set()
        for wf in (workflow, *workflow.subprocesses.values()):
            for t in wf.get_tasks(state=TaskState.WAITING | TaskState.READY | TaskState.STARTED):
                names.add(t.task_spec.bpmn_id or t.task_spec.name)
                if type(t.task_spec).__name__ == "EventBasedGateway":  # its catch events wait with it
                    names |= {c.task_spec.bpmn_id for c in t.children}
        return names

    def reached_ends(self) -> set[str]:
        workflow = self._workflow()
        ends = set()
        for wf in (workflow, *workflow.subprocesses.values()):
            for t in wf.get_tasks(state=TaskState.COMPLETED):
                if type(t.task_spec).__name__ == "EndEvent":
                    ends.add(t.task_spec.bpmn_id)
        return ends

    def data(self) -> dict[str, Any]:
        return engine.get_instance(self.ctx, self.instance_id, with_data=True).data or {}

    def correlation_key(self, name: str) -> str:
        """The key the instance waits on for message `name` (the external system knows it)."""
        with self.ctx.db.unit_of_work() as session:
            key = session.scalar(select(MessageWait.correlation_key).where(
                MessageWait.instance_id == self.instance_id, MessageWait.message_name == name))
        return key or self.business_key

    def timer_jobs(self, element: str) -> list[Job]:
        """Pending timer jobs of this instance for `element`, earliest first."""
        with self.ctx.db.unit_of_work() as session:
            jobs = session.scalars(select(Job).where(Job.instance_id == self.instance_id, Job.kind == "timer",
                                                     Job.status == "pending").order_by(Job.run_at)).all()
            found = [j for j in jobs if j.payload["node_id"] == element]
        assert found, f"timer {element!r} is not waiting (timer jobs for {[j.payload['node_id'] for j in jobs]})"
        return found

    # ---- background work through the job worker ----
    def _due(self, kind_is_connector: bool) -> list[Job]:
        now = self.ctx.clock.now()
        with self.ctx.db.unit_of_work() as session:
            rows = session.scalars(select(Job).where(Job.status == "pending", Job.run_at <= now)
                                   .order_by(Job.run_at)).all()
            return [j for j in rows if (j.kind == "connector") == kind_is_connector]

    def settle(self) -> None:
        """Run the due background work (timers, messages, SLA, webhooks, notifications …) through the job
        worker, as beat + workers do (one claim and run per due job).

        Connector calls wait for their scenario step, which decides what the fake system answers.
        """
        for _ in range(100):
            due = self._due(False)
            if not due:
                return
            for job in due:
                run_job_by_id(self.ctx, job.id, "scenario")

    def _node_of(self, task_id: str | None) -> str | None:
        if not task_id:
            return None
        try:
            task = self._workflow().get_task_from_id(uuid.UUID(task_id))
        except Exception:  # noqa: BLE001 - compacted away: the job is matched by topic alone
            return None
        return task.task_spec.bpmn_id if task is not None else None

    def connector(self, topic: str, result: Any, task: str | None = None) -> None:
        """The external system answers `result`: steer its fake and let the worker make the call."""
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

    # ---- the step loop and checks ----
    def check(self, expect: dict[str, Any], where: str) -> None:
        if "tasks" in expect:
            open_nodes = sorted(self.open_steps())
            assert sorted(set(open_nodes)) == sorted(set(expect["tasks"])), (
                f"{where}: open tasks {open_nodes} != expected {expect['tasks']}")
        if "waiting" in expect:
            waiting = self.waiting()
            missing = set(expect["waiting"]) - waiting
            assert not missing, f"{where}: not waiting on {sorted(missing)}; waiting: {sorted(waiting)}"

    def check_end(self, end: dict[str, Any]) -> None:
        status = self.status()
        assert status == "completed", f"instance is {status}; open: {self.open_steps()}"
        missing = set(end_events(end)) - self.reached_ends()
        assert not missing, f"end events {sorted(missing)} not reached; reached {sorted(self.reached_ends())}"
        data = self.data()
        for key, value in (end.get("data") or {}).items():
            got = data.get(key)
            if isinstance(value, dict) and isinstance(got, dict):  # a partial record: the named fields match
                got = {k: got.get(k) for k in value}
            assert got == value, f"data[{key!r}] = {got!r} != {value!r}"

    def run(self, index: str, scenario: dict[str, Any]) -> ScenarioRun:
        self.business_key = f"SCN-{index}"
        for n, step in enumerate(scenario["steps"]):
            if "start" in step:
                self.start(step["start"].get("data", {}))
            elif "complete" in step:
                c = step["complete"]
                self.complete(c["task"], c.get("outcome"), c.get("data", {}))
            elif "message" in step:
                self.message(step["message"]["name"], step["message"].get("payload", {}))
            elif "timer" in step:
                self.timer(step["timer"]["element"])
            elif "connector_result" in step:
                c = step["connector_result"]
                self.connector(c["topic"], c["result"], c.get("task"))
            self.check(step.get("expect", {}), f"step {n}")
        if scenario.get("end"):
            self.check_end(scenario["end"])
        return self


class EngineRun(ScenarioRun):
    """Actions through the public engine functions (subjects are made up from the task's candidates)."""

    def start(self, data: dict[str, Any]) -> None:
        institution = start_institution(data)
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

    def complete(self, task: str, outcome: str | None, data: dict[str, Any]) -> None:
        t = self.open_task(task)
        username = t.assignee or (t.candidate_users[0] if t.candidate_users else "scenario_staff")
        subject = Subject(username, {t.institution: frozenset(t.candidate_roles)})
        engine.complete_task(self.ctx, t.id, subject, outcome=outcome, data=data)
        self.settle()

    def message(self, name: str, payload: dict[str, Any]) -> None:
        result = engine.deliver_message(self.ctx, name, correlation_key=self.correlation_key(name), payload=payload,
                                        sender="scenario")
        assert result.status != "buffered", f"message {name} was buffered, not delivered"
        self.settle()

    def timer(self, element: str) -> None:
        fired = False
        for job in self.timer_jobs(element):
            p = job.payload
            fired = engine.fire_timer(self.ctx, self.instance_id, p["task_id"], p["due"]) or fired
        assert fired, f"timer {element!r} did not fire"
        self.settle()
