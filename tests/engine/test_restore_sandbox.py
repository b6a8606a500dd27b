"""A workflow restored from its stored state still runs conditions and scripts in the sandbox.

SpiffWorkflow's deserializer hands a restored workflow its default, unrestricted PythonScriptEngine;
`BpmnRuntime.restore` must put the restricted one back (issue 2 §6).
"""
from __future__ import annotations

import pytest

from engine.bpmn.runtime import BpmnRuntime
from engine.bpmn.script_env import RestrictedEnvironment, RestrictedScriptEngine, make_script_engine
from engine.errors import ScriptError

# start → user task "review" → script "calc" → gateway (condition) → end_big | end_small
WORKFLOW = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="restored" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="review" name="Review"><bpmn:incoming>f1</bpmn:incoming>
      <bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:scriptTask id="calc" name="Calc"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:script>{script}</bpmn:script></bpmn:scriptTask>
    <bpmn:exclusiveGateway id="gw" default="small"><bpmn:incoming>f3</bpmn:incoming>
      <bpmn:outgoing>big</bpmn:outgoing><bpmn:outgoing>small</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review"/>
    <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="calc"/>
    <bpmn:sequenceFlow id="f3" sourceRef="calc" targetRef="gw"/>
    <bpmn:sequenceFlow id="big" sourceRef="gw" targetRef="end_big">
      <bpmn:conditionExpression>{condition}</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="small" sourceRef="gw" targetRef="end_small"/>
    <bpmn:endEvent id="end_big"><bpmn:incoming>big</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="end_small"><bpmn:incoming>small</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


def _restored_at_review(condition: str, script: str = "total = days * 2") -> tuple[BpmnRuntime, object]:
    """Start, stop at the user task, store the state and restore it through a second runtime (a new process)."""
    bundle = {"restored.bpmn": WORKFLOW.format(condition=condition, script=script).encode()}
    first = BpmnRuntime(lambda: make_script_engine(timeout_seconds=0.5))
    parsed = first.parse_bundle(bundle)
    workflow = first.new_workflow(first.load_specs(parsed.spec_json), {"days": 5})
    first.advance(workflow)
    state = first.dump(workflow)

    second = BpmnRuntime(lambda: make_script_engine(timeout_seconds=0.5))
    return second, second.restore(second.load_specs(parsed.spec_json), state)


def _complete_review(runtime: BpmnRuntime, workflow) -> None:
    (step,) = runtime.ready_steps(workflow)
    assert step.node_id == "review"
    runtime.complete_step(workflow, step.task_id, {})


def test_restored_workflow_uses_the_restricted_engine() -> None:
    runtime, workflow = _restored_at_review("total &gt; 4")
    assert isinstance(workflow.script_engine, RestrictedScriptEngine)
    assert isinstance(workflow.script_engine.environment, RestrictedEnvironment)
    _complete_review(runtime, workflow)
    assert runtime.is_completed(workflow)
    assert "end_big" in runtime.completed_node_ids(workflow)


# Each of these runs fine under SpiffWorkflow's default engine (and would take the "big" branch).
@pytest.mark.parametrize("condition", [
    "open('/etc/hostname') is not None",
    "getattr(total, 'real') is not None and globals() is not None",
    "type(total).mro() is not None",
])
def test_hostile_condition_after_restore_raises(condition: str) -> None:
    runtime, workflow = _restored_at_review(condition)
    with pytest.raises(ScriptError):
        _complete_review(runtime, workflow)
    assert not runtime.is_completed(workflow)


@pytest.mark.parametrize("script", [
    "total = len(open('/etc/hostname').read())",
    "total = len(globals())",
    "total = 0\nfor i in range(50_000_000):\n    total += 1",  # seconds unrestricted, stopped at 0.5 s here
], ids=["open", "globals", "long-loop"])
def test_hostile_script_after_restore_raises(script: str) -> None:
    runtime, workflow = _restored_at_review("True", script=script)
    with pytest.raises(ScriptError):
        _complete_review(runtime, workflow)
    assert not runtime.is_completed(workflow)
