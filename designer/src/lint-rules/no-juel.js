// Our engine evaluates Python expressions; JUEL ${...} is refused at deploy time.
const JUEL = /[$#]\{/;
const ATTRS = ['camunda:candidateGroups', 'camunda:candidateUsers', 'camunda:assignee', 'camunda:dueDate',
  'camunda:formKey', 'hospital:assigneeExpr', 'hospital:signersExpr', 'hospital:institutionExpr',
  'hospital:correlationKey'];

export default function() {
  function check(node, reporter) {
    const texts = [];
    if (node.conditionExpression && node.conditionExpression.body) texts.push(node.conditionExpression.body);
    for (const a of ATTRS) {
      try { const v = node.get(a); if (typeof v === 'string') texts.push(v); } catch (e) { /* not defined */ }
    }
    if (texts.some(t => JUEL.test(t))) reporter.report(node.id, 'JUEL expression is not supported, use Python');
  }
  return { check };
}
