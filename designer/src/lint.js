// Client-side lint: bpmnlint config packed at build time (virtual:bpmnlint-config,
// see build.mjs) and a helper that turns lint results into diagnostics.
import packedConfig from 'virtual:bpmnlint-config';

export const lintConfig = packedConfig;

/** Run the linter of the modeler and return [{element_id, message, severity, rule, source}]. */
export async function runLint(modeler) {
  const linting = modeler.get('linting');
  const translate = modeler.get('translate');
  const results = await linting.lint();
  const out = [];
  for (const [rule, issues] of Object.entries(results)) {
    for (const issue of issues) {
      out.push({
        element_id: issue.id,
        message: translate(issue.message),
        severity: issue.category === 'warn' ? 'warning' : issue.category,
        rule,
        source: 'client'
      });
    }
  }
  return out;
}
