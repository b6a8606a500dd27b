"""Small BPMN builders for the designer tests (XML as the browser designer would send it)."""
# ruff: noqa: E501  (BPMN fixtures are clearer on one line)

from __future__ import annotations

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
  xmlns:hospital="http://hospital-workflow.org/schema/1.0/bpmn" id="defs" targetNamespace="http://x">"""


def triage(
    review_attrs: str = 'camunda:candidateGroups="dept_head" camunda:formKey="expense_review"',
    extra: str = "",
    key: str = "triage",
) -> str:
    """start → apply (initiator) → gw_amount: big → dept_review → gw_outcome (approve → end_ok, else end_no);
    small → finance_review → end_ok."""
    return f"""{HEAD}
  <bpmn:process id="{key}" name="分诊审批" isExecutable="true" hospital:title="{{applicant_name}}">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="apply"/>
    <bpmn:userTask id="apply" name="填写申请" hospital:assigneeExpr="initiator" camunda:formKey="expense"/>
    <bpmn:sequenceFlow id="f1" sourceRef="apply" targetRef="gw_amount"/>
    <bpmn:exclusiveGateway id="gw_amount" default="f_small"/>
    <bpmn:sequenceFlow id="f_big" sourceRef="gw_amount" targetRef="dept_review">
      <bpmn:conditionExpression>amount &gt; 100</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_small" sourceRef="gw_amount" targetRef="finance_review"/>
    <bpmn:userTask id="dept_review" name="科室会签" {review_attrs}/>
    <bpmn:sequenceFlow id="f2" sourceRef="dept_review" targetRef="gw_outcome"/>
    <bpmn:exclusiveGateway id="gw_outcome" default="f_no"/>
    <bpmn:sequenceFlow id="f_yes" sourceRef="gw_outcome" targetRef="end_ok">
      <bpmn:conditionExpression>outcome == "approve"</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_no" sourceRef="gw_outcome" targetRef="end_no"/>
    <bpmn:userTask id="finance_review" name="财务审核" camunda:candidateGroups="finance" camunda:formKey="expense_review"/>
    <bpmn:sequenceFlow id="f3" sourceRef="finance_review" targetRef="end_ok"/>
    {extra}
    <bpmn:endEvent id="end_ok"/>
    <bpmn:endEvent id="end_no"/>
  </bpmn:process>
</bpmn:definitions>
"""


def bad_triage() -> str:
    """dept_review without candidates and form; an unknown role on finance_review."""
    return triage(review_attrs="").replace(
        'camunda:candidateGroups="finance"', 'camunda:candidateGroups="nobody"'
    )
