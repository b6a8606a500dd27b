"""`BpmnRuntime.complete_step` checks the task itself: SpiffWorkflow's `task.run()` does not."""
from __future__ import annotations

import uuid

import pytest
from SpiffWorkflow.util.task import TaskState

from engine.bpmn.runtime import BpmnRuntime
from engine.bpmn.script_env import make_script_engine
from engine.errors import Conflict, NotFound
from tests.conftest import read_bundle


@pytest.fixture
def runtime() -> BpmnRuntime:
    return BpmnRuntime(lambda: make_script_engine(timeout_seconds=0.5))


@pytest.fixture
def workflow(runtime):
    parsed = runtime.parse_bundle(read_bundle("approval.bpmn"))
    workflow = runtime.new_workflow(runtime.load_specs(parsed.spec_json), {"amount": 10})
    runtime.advance(workflow)
    return workflow


def _task_at(workflow, node_id: str):
    return next(t for t in workflow.get_tasks() if t.task_spec.bpmn_id == node_id)


def test_a_future_task_is_refused(runtime, workflow):
    review = _task_at(workflow, "dept_review")
    assert not review.has_state(TaskState.READY)
    with pytest.raises(Conflict, match="task is not ready") as err:
        runtime.complete_step(workflow, str(review.id), {"comment": "抢先"})
    assert err.value.detail["state"] == TaskState.get_name(review.state)
    assert "comment" not in review.data and not review.has_state(TaskState.COMPLETED)


def test_a_completed_task_is_refused(runtime, workflow):
    [apply] = runtime.ready_steps(workflow)
    runtime.complete_step(workflow, apply.task_id, {"outcome": "submit"})
    with pytest.raises(Conflict, match="task is not ready"):
        runtime.complete_step(workflow, apply.task_id, {"outcome": "again"})
    assert [s.node_id for s in runtime.ready_steps(workflow)] == ["dept_review"]


def test_a_ready_task_that_is_not_a_user_step_is_refused(runtime, workflow):
    start = _task_at(workflow, "start")
    start._set_state(TaskState.READY)  # an engine task is never the user's to complete
    with pytest.raises(Conflict):
        runtime.complete_step(workflow, str(start.id), {})


def test_an_unknown_task_is_not_found(runtime, workflow):
    with pytest.raises(NotFound):
        runtime.complete_step(workflow, str(uuid.uuid4()), {})


SUBPROCESS_LOOP = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="review"/>
    <bpmn:subProcess id="review">
      <bpmn:startEvent id="sub_start"/>
      <bpmn:sequenceFlow id="s0" sourceRef="sub_start" targetRef="check"/>
      <bpmn:userTask id="check"/>
      <bpmn:sequenceFlow id="s1" sourceRef="check" targetRef="sub_end"/>
      <bpmn:endEvent id="sub_end"/>
    </bpmn:subProcess>
    <bpmn:sequenceFlow id="f1" sourceRef="review" targetRef="decide"/>
    <bpmn:userTask id="decide"/>
    <bpmn:sequenceFlow id="f2" sourceRef="decide" targetRef="gw"/>
    <bpmn:exclusiveGateway id="gw" default="f_end"/>
    <bpmn:sequenceFlow id="f_again" sourceRef="gw" targetRef="review">
      <bpmn:conditionExpression>outcome == "again"</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_end" sourceRef="gw" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>"""


def test_looping_back_over_an_embedded_subprocess_keeps_working(runtime):
    """Compaction drops the old subprocess task; its subprocess must be forgotten, not crash the lookup."""
    specs = runtime.load_specs(runtime.parse_bundle({"p.bpmn": SUBPROCESS_LOOP}).spec_json)
    workflow = runtime.new_workflow(specs, {})
    runtime.advance(workflow)
    for _ in range(20):
        for node_id in ("check", "decide"):
            [step] = runtime.ready_steps(workflow)
            assert step.node_id == node_id
            runtime.complete_step(workflow, step.task_id, {"outcome": "again"})
            workflow = runtime.restore(specs, runtime.dump(workflow))
        assert len(workflow.subprocesses) == 1
    [check] = runtime.ready_steps(workflow)
    runtime.complete_step(workflow, check.task_id, {})
    [decide] = runtime.ready_steps(workflow)
    runtime.complete_step(workflow, decide.task_id, {"outcome": "done"})
    assert runtime.is_completed(workflow)
