"""The restricted script environment refuses escapes, stops runaway code and still runs ordinary scripts."""

from __future__ import annotations

import threading
import time
from datetime import date

import pytest
from RestrictedPython import safe_builtins
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.camunda.parser import CamundaParser

from engine.bpmn.script_env import (
    RestrictedEnvironment,
    RestrictedSyntaxError,
    check_expression_syntax,
    make_script_engine,
)

HOSTILE_EXPRESSIONS = [
    "__import__('os')",
    "().__class__.__bases__",
    "().__class__.__bases__[0].__subclasses__()",
    "open('/etc/passwd')",
    "eval('1')",
    "exec('x=1')",
    "(lambda: 1).__globals__",
    "f.__code__",
    "f.__globals__['__builtins__']",
    "getattr(x, '__class__')",
    "getattr(f, '__globals__')",
    "x.format",
    "'{0.__class__}'.format(x)",
    "type(x)",
    "globals()",
    "vars()",
    "compile('1', 'f', 'eval')",
    "[c for c in ().__class__.__base__.__subclasses__()]",
    "(g for g in [1]).gi_frame",
]


def run_eval(source: str, **data: object) -> object:
    return RestrictedEnvironment().evaluate(source, dict(data))


@pytest.mark.parametrize("source", HOSTILE_EXPRESSIONS)
def test_hostile_expressions_are_refused(source: str) -> None:
    with pytest.raises(Exception) as info:
        run_eval(source, x="s", f=lambda: 1)
    assert not isinstance(info.value, AssertionError)


@pytest.mark.parametrize(
    "source",
    ["__import__('os')", "().__class__.__bases__", "eval('1')", "exec('x=1')", "(lambda: 1).__globals__"],
)
def test_hostile_expressions_are_reported_at_deploy_time(source: str) -> None:
    message = check_expression_syntax(source, "eval")
    assert message is not None and "line 1" in message


@pytest.mark.parametrize(
    "script",
    [
        "import os",
        "from os import path",
        "import os as o\no.system('id')",
        "f = lambda: 1\ng = f.__code__",
        "def f():\n    pass\nx = f.__globals__",
        "try:\n    x = 1\nexcept:\n    pass",
    ],
)
def test_hostile_scripts_are_refused_at_compile_time(script: str) -> None:
    assert check_expression_syntax(script, "exec") is not None
    with pytest.raises(RestrictedSyntaxError):
        RestrictedEnvironment().execute(script, {})


def test_syntax_message_names_the_line() -> None:
    message = check_expression_syntax("x = 1\ny = (\n", "exec")
    assert message is not None and "line" in message
    assert check_expression_syntax("amount >", "eval") is not None
    assert check_expression_syntax("amount > 1000", "eval") is None


@pytest.mark.parametrize(
    "script",
    [
        "while True: pass",
        "while True:\n    x = 1",
        "try:\n    while True: pass\nexcept Exception:\n    done = True",
        "try:\n    while True: pass\nfinally:\n    while True: pass",
        "def f(n):\n    return 1 if n == 0 else f(n - 1) + f(n - 1)\nr = f(60)",
        "f = lambda g, n: 1 if n == 0 else g(g, n - 1) + g(g, n - 1)\nr = f(f, 60)",
        "r = sum(1 for a in range(100000) for b in range(100000))",
    ],
)
def test_runaway_scripts_stop_within_budget(script: str) -> None:
    env = RestrictedEnvironment(timeout_seconds=0.5)
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        env.execute(script, {})
    assert time.monotonic() - started < 2.0


def test_budget_works_in_a_worker_thread() -> None:
    outcome: list[BaseException] = []

    def work() -> None:
        try:
            RestrictedEnvironment(timeout_seconds=0.3).execute("while True: pass", {})
        except BaseException as err:  # noqa: BLE001 - collected for the assertion
            outcome.append(err)

    worker = threading.Thread(target=work)
    worker.start()
    worker.join(timeout=5)
    assert not worker.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], TimeoutError)


@pytest.mark.parametrize(
    "source",
    ["'a' * 10**8", "[0] * 10**8", "10 ** 10**6", "1 << 10**6", "range(10**9)", "pow(10, 10**6)"],
)
def test_huge_results_are_refused(source: str) -> None:
    with pytest.raises((MemoryError, OverflowError, ValueError)):
        run_eval(source)


def test_doubling_a_string_is_capped() -> None:
    with pytest.raises(MemoryError):
        RestrictedEnvironment().execute("s = 'a'\nwhile True:\n    s = s + s", {})


def test_ordinary_expressions() -> None:
    assert run_eval("amount > 1000 and dept == '外科'", amount=1500, dept="外科") is True
    assert run_eval("amount > 1000 and dept == '外科'", amount=500, dept="外科") is False
    assert run_eval("[d * 2 for d in days if d > 1]", days=[1, 2, 3]) == [4, 6]
    assert run_eval("form['days'] >= 3", form={"days": 3}) is True
    assert run_eval("form.get('missing', 0)", form={}) == 0
    assert run_eval("len(signers) == 2 and sorted(signers)[0] == 'a'", signers=["b", "a"]) is True
    assert run_eval("outcome == 'approve'", outcome="approve") is True
    assert run_eval("start + timedelta(days=3)", start=date(2024, 1, 30)) == date(2024, 2, 2)
    assert run_eval("(end - start).days", start=date(2024, 1, 1), end=date(2024, 1, 11)) == 10
    assert run_eval("datetime(2024, 1, 1, 8) < datetime(2024, 1, 1, 9)") is True
    assert run_eval("{k: v for k, v in zip(['a', 'b'], range(2))}") == {"a": 0, "b": 1}
    assert run_eval("round(sum([1.25, 2.5]), 1) + abs(-1)") == 4.8


def test_task_data_may_shadow_helper_names() -> None:
    # A form field called `date` is common; it must win over the builtin helper.
    assert run_eval("date", date="2024-01-01") == "2024-01-01"


def test_script_assigns_new_variables_into_task_data() -> None:
    data = {"amount": 1200, "items": [{"price": 3}, {"price": 4}], "_internal": 1}
    RestrictedEnvironment().execute(
        "total = sum(i['price'] for i in items)\n"
        "needs_director = amount > 1000\n"
        "x = 0\n"
        "for i in range(10):\n"
        "    x += i\n"
        "a, b = 1, 2\n"
        "due = date(2024, 1, 1) + timedelta(days=2)\n"
        "def helper():\n"
        "    return 1\n"
        "print('hello')\n",
        data,
    )
    assert data["total"] == 7 and data["needs_director"] is True and data["x"] == 45
    assert data["a"] == 1 and data["due"] == date(2024, 1, 3)
    assert data["_internal"] == 1
    assert "helper" not in data and "__builtins__" not in data and "_print" not in data


def test_evaluate_does_not_mutate_task_data() -> None:
    data = {"a": 1}
    RestrictedEnvironment().evaluate("[b for b in range(3)]", data)
    assert data == {"a": 1}


def test_safe_builtins_are_not_mutated() -> None:
    before = dict(safe_builtins)
    RestrictedEnvironment().execute("x = sorted([2, 1])\ny = datetime(2024, 1, 1)", {})
    assert safe_builtins == before
    assert "datetime" not in safe_builtins and "sorted" not in safe_builtins


def test_overwriting_an_external_function_is_refused() -> None:
    with pytest.raises(ValueError):
        RestrictedEnvironment().execute("x = 1", {"lookup": 1}, {"lookup": lambda: 2})


# A real workflow: exclusive gateway conditions and a script task run through the restricted engine.
WORKFLOW = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="leave" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="prepare" name="Prepare">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>total = days * 2
{extra}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:exclusiveGateway id="gw" default="small"><bpmn:incoming>f2</bpmn:incoming>
      <bpmn:outgoing>big</bpmn:outgoing><bpmn:outgoing>small</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="prepare"/>
    <bpmn:sequenceFlow id="f2" sourceRef="prepare" targetRef="gw"/>
    <bpmn:sequenceFlow id="big" sourceRef="gw" targetRef="end_big">
      <bpmn:conditionExpression>{condition}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="small" sourceRef="gw" targetRef="end_small"/>
    <bpmn:endEvent id="end_big"><bpmn:incoming>big</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="end_small"><bpmn:incoming>small</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


def build_workflow(condition: str, extra: str = "", data: dict[str, object] | None = None) -> BpmnWorkflow:
    parser = CamundaParser()
    parser.add_bpmn_str(WORKFLOW.format(condition=condition, extra=extra).encode(), "leave.bpmn")
    spec = parser.get_spec("leave")
    subspecs = parser.get_subprocess_specs("leave")
    workflow = BpmnWorkflow(spec, subspecs, script_engine=make_script_engine(timeout_seconds=0.5))
    workflow.get_tasks()[0].data.update(data or {})
    return workflow


def finished_end_events(workflow: BpmnWorkflow) -> set[str]:
    return {
        t.task_spec.name
        for t in workflow.get_tasks()
        if t.task_spec.name.startswith("end_") and t.has_state(64)
    }


@pytest.mark.parametrize(("days", "end"), [(5, "end_big"), (1, "end_small")])
def test_real_workflow_branches_on_python_condition(days: int, end: str) -> None:
    workflow = build_workflow("total &gt; 4 and dept == '外科'", data={"days": days, "dept": "外科"})
    workflow.do_engine_steps()
    assert workflow.is_completed()
    assert end in finished_end_events(workflow)
    assert workflow.last_task.data["total"] == days * 2


@pytest.mark.parametrize(
    "condition",
    [
        "().__class__.__bases__",
        "__import__('os').system('id')",
        "getattr(total, '__class__')",
        "open('/etc/passwd')",
    ],
)
def test_hostile_condition_raises_workflow_task_exception(condition: str) -> None:
    workflow = build_workflow(condition, data={"days": 5})
    with pytest.raises(WorkflowTaskException) as info:
        workflow.do_engine_steps()
    assert info.value.task_spec.name == "gw"


def test_runaway_script_task_raises_workflow_task_exception_with_line() -> None:
    workflow = build_workflow("True", extra="while True:\n    pass", data={"days": 1})
    started = time.monotonic()
    with pytest.raises(WorkflowTaskException) as info:
        workflow.do_engine_steps()
    assert time.monotonic() - started < 2.0
    assert info.value.task_spec.name == "prepare"
    assert info.value.error_type == "TimeoutError"
    assert info.value.line_number == 3  # the `pass` inside the loop


def test_import_in_script_task_raises_workflow_task_exception() -> None:
    workflow = build_workflow("True", extra="import os", data={"days": 1})
    with pytest.raises(WorkflowTaskException) as info:
        workflow.do_engine_steps()
    assert info.value.line_number == 2
