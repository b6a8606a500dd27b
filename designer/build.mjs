// Reproducible build: bundles src/ with esbuild into dist/, packs .bpmnlintrc
// (rules imported statically, like bpmnlint-pack-config) and copies static assets.
import * as esbuild from 'esbuild';
import { readFileSync, mkdirSync, rmSync, cpSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(fileURLToPath(import.meta.url));
const dist = join(root, 'dist');
const LOCAL_PLUGIN = 'bpmnlint-plugin-hospital';

function packLintConfig() {
  const rc = JSON.parse(readFileSync(join(root, '.bpmnlintrc'), 'utf8'));
  const imports = [];
  const cache = [];
  Object.keys(rc.rules).forEach((name, i) => {
    const local = name.startsWith('hospital/');
    const rule = local ? name.slice('hospital/'.length) : name;
    const path = local ? `./src/lint-rules/${rule}.js` : `bpmnlint/rules/${rule}`;
    imports.push(`import rule${i} from ${JSON.stringify(path)};`);
    cache.push(`  ${JSON.stringify(`rule:${local ? LOCAL_PLUGIN : 'bpmnlint'}/${rule}`)}: rule${i}`);
  });
  return `${imports.join('\n')}
const cache = {\n${cache.join(',\n')}\n};
const resolver = {
  resolveRule(pkg, name) { const r = cache['rule:' + pkg + '/' + name]; if (!r) throw new Error('unknown rule ' + pkg + '/' + name); return r; },
  resolveConfig(pkg, name) { throw new Error('unknown config ' + pkg + '/' + name); }
};
export default { config: ${JSON.stringify({ rules: rc.rules })}, resolver };
`;
}

const bpmnlintPlugin = {
  name: 'bpmnlint-config',
  setup(build) {
    build.onResolve({ filter: /^virtual:bpmnlint-config$/ }, () => ({ path: 'bpmnlint-config', namespace: 'bpmnlint' }));
    build.onLoad({ filter: /.*/, namespace: 'bpmnlint' }, () => ({ contents: packLintConfig(), resolveDir: root, loader: 'js' }));
  }
};

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

const common = {
  bundle: true, minify: true, sourcemap: true, format: 'iife', target: ['es2020'],
  legalComments: 'linked', logLevel: 'info',
  loader: { '.json': 'json' }, plugins: [bpmnlintPlugin]
};

await esbuild.build({ ...common, entryPoints: { designer: join(root, 'src/main.js') }, outdir: dist });
await esbuild.build({ ...common, entryPoints: { forms: join(root, 'src/forms/main.js') }, outdir: dist });

// CSS: vendor css + ours; fonts referenced relatively by bpmn-font css.
const nm = join(root, 'node_modules');
await esbuild.build({
  entryPoints: { designer: join(root, 'static/designer.css') }, outdir: dist, bundle: true, minify: true,
  loader: { '.woff': 'file', '.woff2': 'file', '.ttf': 'file', '.eot': 'file', '.svg': 'file' },
  assetNames: 'assets/[name]-[hash]', logLevel: 'info', nodePaths: [nm]
});
cpSync(join(nm, 'bpmn-js/dist/assets/bpmn-font'), join(dist, 'bpmn-font'), { recursive: true });
for (const f of ['index.html', 'forms.html']) cpSync(join(root, 'static', f), join(dist, f));
writeFileSync(join(dist, 'BUILD_INFO.txt'), `built from package-lock.json; bpmn-js ${JSON.parse(readFileSync(join(nm, 'bpmn-js/package.json'))).version}\n`);

// Staff pages (api/static/vendor/, git-ignored): bpmn-js NavigatedViewer and Chart.js, copied from
// package-lock.json versions; VENDOR.txt records versions and licenses.
const vendor = join(root, '..', 'api', 'static', 'vendor');
mkdirSync(vendor, { recursive: true });
const version = (pkg) => JSON.parse(readFileSync(join(nm, pkg, 'package.json'))).version;
cpSync(join(nm, 'bpmn-js/dist/bpmn-navigated-viewer.production.min.js'), join(vendor, 'bpmn-navigated-viewer.production.min.js'));
await esbuild.build({
  entryPoints: { 'bpmn-js': join(root, 'static/viewer.css') }, outdir: vendor, bundle: true, minify: true,
  loader: { '.woff': 'file', '.woff2': 'file', '.ttf': 'file', '.eot': 'file', '.svg': 'file' },
  assetNames: 'assets/[name]-[hash]', logLevel: 'info', nodePaths: [nm]
});
cpSync(join(nm, 'chart.js/dist/chart.umd.min.js'), join(vendor, 'chart.umd.min.js'));
writeFileSync(join(vendor, 'VENDOR.txt'), [
  `bpmn-js ${version('bpmn-js')} (bpmn.io license) dist/bpmn-navigated-viewer.production.min.js + dist/assets css`,
  `chart.js ${version('chart.js')} (MIT) dist/chart.umd.min.js`,
  'built by designer/build.mjs from designer/package-lock.json (make designer)', ''
].join('\n'));
