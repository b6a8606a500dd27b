// A user task needs candidate roles/users, an assignee (expression) or a lane role.
import { is } from 'bpmnlint-utils';

function laneFor(node) {
  let process = node.$parent;
  while (process && !is(process, 'bpmn:Process') && !is(process, 'bpmn:SubProcess')) process = process.$parent;
  while (process && is(process, 'bpmn:SubProcess')) process = process.$parent;
  const stack = process ? [...(process.laneSets || [])] : [];
  let found = null;
  while (stack.length) {
    const set = stack.pop();
    for (const lane of set.lanes || []) {
      if ((lane.flowNodeRef || []).includes(node)) found = lane;
      if (lane.childLaneSet) stack.push(lane.childLaneSet);
    }
  }
  return found;
}

export default function() {
  function check(node, reporter) {
    if (!is(node, 'bpmn:UserTask')) return;
    const has = ['camunda:candidateGroups', 'camunda:candidateUsers', 'camunda:assignee', 'hospital:assigneeExpr']
      .some(a => (node.get(a) || '').trim());
    if (has) return;
    const lane = laneFor(node);
    if (lane && ((lane.get('hospital:role') || '').trim() || (lane.name || '').trim())) return;
    reporter.report(node.id, 'User task has no candidate role, user or assignee');
  }
  return { check };
}
