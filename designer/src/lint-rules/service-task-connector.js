// Service tasks run connectors: camunda:type="external" + camunda:topic.
import { is } from 'bpmnlint-utils';

export default function() {
  function check(node, reporter) {
    if (!is(node, 'bpmn:ServiceTask')) return;
    if (node.get('camunda:type') === 'external' && (node.get('camunda:topic') || '').trim()) return;
    reporter.report(node.id, 'Service task has no connector topic');
  }
  return { check };
}
