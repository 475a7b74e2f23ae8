import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { packageRoot } from '../../controlplane/index.js';
import { runTrellis } from '../support/cli.js';

const root = packageRoot();
const WEB = `apiVersion: core.oam.dev/v1alpha2
kind: Component
metadata: { name: web }
spec:
  workload: { type: webservice, properties: { image: "nginx:1.27" } }
---
apiVersion: core.oam.dev/v1alpha2
kind: Component
metadata: { name: api }
spec:
  workload: { type: worker, properties: { image: "api:1" } }
`;
const app = (components: string) => `${WEB}---
apiVersion: core.oam.dev/v1alpha2
kind: ApplicationConfiguration
metadata: { name: shop, namespace: prod }
spec:
  components:
${components}`;

/** Bad input, and the one line `trellis render` must print for it. */
const BAD: [string, string, RegExp][] = [
  [
    'an unknown definition',
    app('    - componentName: web\n      traits: [{ trait: { name: scalr, properties: {} } }]\n'),
    /^error: \[TRL_RENDER_UNKNOWN_DEFINITION\] ApplicationConfiguration\/prod\/shop: spec\.components\[0\]\.traits\[0\]\.trait\.name: trait "scalr" of component "web": trait type "scalr" has no TraitDefinition\n$/,
  ],
  [
    'a parameter of the wrong type',
    app('    - componentName: web\n      traits: [{ trait: { name: scaler, properties: { replicas: three } } }]\n'),
    /^error: \[TRL_RENDER_PARAMETER\] .*: cannot render trait "scaler" of component "web": parameter "replicas": expected int, got "three"\n$/,
  ],
  [
    'a trait the workload does not accept',
    app(
      '    - componentName: api\n      traits: [{ trait: { name: ingress, properties: {} } }, { trait: { name: autoscaler, properties: {} } }]\n',
    ).replace('type: worker', 'type: task'),
    /^error: \[TRL_BIND_NOT_APPLICABLE\] .*trait "autoscaler" cannot be applied to component "api": TraitDefinition\/autoscaler applies to deployments\.apps, statefulsets\.apps, replicasets\.apps, and the workload is task \(Job\.batch\)\n$/,
  ],
  [
    'conflicting traits',
    app(
      '    - componentName: web\n      traits: [{ trait: { name: autoscaler, properties: {} } }, { trait: { name: scaler, properties: {} } }]\n',
    ),
    /^error: \[TRL_BIND_TRAIT_CONFLICT\] .*traits "autoscaler" and "scaler" of component "web" conflict/,
  ],
  [
    'a missing Component',
    app('    - componentName: db\n'),
    /^error: \[TRL_RENDER_COMPONENT_MISSING\] ApplicationConfiguration\/prod\/shop: spec\.components\[0\]\.componentName: component "db" does not exist\n$/,
  ],
  [
    'a cyclic data input',
    app(
      '    - componentName: web\n      dataOutputs: [{ name: a, fieldPath: status.a }]\n      dataInputs: [{ valueFrom: { dataOutputName: b }, toFieldPaths: [spec.x] }]\n    - componentName: api\n      dataOutputs: [{ name: b, fieldPath: status.b }]\n      dataInputs: [{ valueFrom: { dataOutputName: a }, toFieldPaths: [spec.y] }]\n',
    ),
    /^error: \[TRL_RENDER_DATA_CYCLE\] .*: data inputs form a cycle: component "web" takes from component "api" takes from component "web"\n$/,
  ],
  [
    'a dangling data input',
    app(
      '    - componentName: web\n      dataInputs: [{ valueFrom: { dataOutputName: nowhere }, toFieldPaths: [spec.x] }]\n',
    ),
    /^error: \[TRL_RENDER_DATA_DANGLING\] .*spec\.components\[0\]\.dataInputs\[0\]\.valueFrom\.dataOutputName: component "web" takes dataOutput "nowhere", which nothing declares\n$/,
  ],
];

describe('trellis render / trellis def vet (the built CLI, as a process)', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'trellis-render-cli-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('prints what an example renders to, the same text as its golden', async () => {
    const { code, stdout, stderr } = await runTrellis(['render', '-f', 'examples/ingress']);
    assert.equal(stderr, '');
    assert.equal(code, 0);
    assert.equal(stdout, readFileSync(path.join(root, 'examples', 'ingress', 'expected.golden'), 'utf8'));
  });

  for (const [what, input, message] of BAD) {
    it(`exits 1 with one line naming object, field and reason for ${what}`, async () => {
      const file = path.join(dir, `${what.replace(/\W+/g, '-')}.yaml`);
      writeFileSync(file, input);
      const { code, stdout, stderr } = await runTrellis(['render', '-f', file]);
      assert.equal(code, 1);
      assert.equal(stdout, '');
      assert.match(stderr, message);
      assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
    });
  }

  it('exits 1 naming the definition and template line for a CUE syntax error', async () => {
    const defs = path.join(dir, 'broken-def.yaml');
    writeFileSync(
      defs,
      'apiVersion: core.oam.dev/v1alpha2\nkind: TraitDefinition\nmetadata: { name: scaler }\nspec:\n  schematic:\n    cue:\n      template: |\n        parameter: replicas: int\n        patch: spec: { replicas: parameter.replicas\n',
    );
    const file = path.join(dir, 'uses-broken.yaml');
    writeFileSync(
      file,
      app('    - componentName: web\n      traits: [{ trait: { name: scaler, properties: { replicas: 2 } } }]\n'),
    );
    const { code, stderr } = await runTrellis(['render', '-f', file, '--definitions', defs]);
    assert.equal(code, 1);
    assert.match(
      stderr,
      /^error: \[TRL_DEFINITION_TEMPLATE\] TraitDefinition\/scaler: spec\.schematic\.cue\.template: cannot render trait "scaler" of component "web": the CUE template of TraitDefinition\/scaler does not compile: expected '}', found 'EOF' \(line [23]:\d+\)\n$/,
    );
    const vet = await runTrellis(['def', 'vet', defs]);
    assert.equal(vet.code, 1);
    assert.match(
      vet.stderr,
      /^error: \[TRL_DEFINITION_TEMPLATE\] TraitDefinition\/scaler: spec\.schematic\.cue\.template: the CUE template does not compile: expected '}', found 'EOF' \(line [23]:\d+\)\n$/,
    );
  });

  it('def vet compiles a catalog definition and renders its example', async () => {
    const { code, stdout } = await runTrellis(['def', 'vet', 'definitions/catalog/storage.cue']);
    assert.equal(code, 0);
    assert.match(
      stdout,
      /^TraitDefinition\/storage: ok\n {2}parameters: configMap\?: array, secret\?: array, pvc\?: array, containerName\?: string\n {2}example examples\/storage: renders 3 objects, uses it 1 time\n$/,
    );
  });

  it('explains how to call it when called wrongly (exit 2)', async () => {
    const { code, stderr } = await runTrellis(['render']);
    assert.equal(code, 2);
    assert.equal(
      stderr,
      'error: name at least one file or directory with -f\n\nRun `trellis render --help` for its usage.\n',
    );
  });
});
