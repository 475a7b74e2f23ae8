import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { silentLogger } from '../../lib/log.js';
import { userCacheDir } from '../../lib/paths.js';
import type { BackendStats, EvalResult } from '../backend.js';
import type { CueError } from '../errors.js';
import { findEvaluator, type FoundEvaluator } from './binary.js';
import { NativeEvaluator, type NativeEvaluatorOptions } from './evaluator.js';

const TEMPLATE = 'parameter: n: int\noutput: {n: parameter.n, double: parameter.n * 2}\n';
const keyOf = (template: string) => createHash('sha256').update(template).digest('hex');
const job = (n: number, template = TEMPLATE) => ({ template, parameter: { n }, fields: ['output'] });

describe('cue: the native evaluator process (trellis-cue)', () => {
  let found: FoundEvaluator;
  let stats: BackendStats;
  const evaluators: NativeEvaluator[] = [];
  const start = (options: Partial<NativeEvaluatorOptions> = {}) => {
    const evaluator = new NativeEvaluator({
      binary: found.binary,
      version: found.version,
      logger: silentLogger,
      stats,
      ...options,
    });
    evaluators.push(evaluator);
    return evaluator;
  };
  before(async () => {
    found = await findEvaluator({ cacheDir: userCacheDir(process.env) });
  });
  beforeEach(() => {
    stats = { invocations: 0, evaluated: 0, collectedReruns: 0, restarts: 0 };
  });
  afterEach(async () => {
    await Promise.all(evaluators.splice(0).map((e) => e.stop()));
  });

  const assertAnswered = (results: EvalResult[], from = 0) =>
    results.forEach((r, i) =>
      assert.deepEqual(
        r,
        { ok: true, value: { output: { n: from + i, double: 2 * (from + i) } } },
        `request ${from + i}`,
      ),
    );

  it('serves many evaluations from one process, compiling the template once', async () => {
    const evaluator = start();
    assertAnswered(
      await Promise.all(Array.from({ length: 200 }, (_, i) => evaluator.evaluate(job(i), keyOf(TEMPLATE)))),
    );
    assertAnswered(
      await Promise.all(Array.from({ length: 50 }, (_, i) => evaluator.evaluate(job(i), keyOf(TEMPLATE)))),
    );
    assert.equal(stats.invocations, 1);
    assert.equal(stats.evaluated, 250);
    const usage = await evaluator.usage();
    assert.equal(usage?.pid, evaluator.pid);
    assert.ok(
      usage!.rssBytes > 1 << 20 && usage!.cpuMs >= 0,
      `${JSON.stringify(usage)}: the process's own memory and CPU`,
    );
  });

  it('reads every JSON value its inputs may hold as the same CUE value (escapes, unicode, numbers, odd keys)', async () => {
    const evaluator = start();
    const template = 'parameter: {...}\ncontext: {...}\noutput: {p: parameter, c: context.name}\n';
    const parameter = {
      text: 'quote " backslash \\ slash / newline \n tab \t bell \u0007 nul \u0000 é ✓ 😀 \u2028 \\( not interpolation',
      numbers: [0, -1, 7, 3.25, -0.5, 1e21, 1.5e-7, 123456789012, Number.MAX_SAFE_INTEGER],
      flags: [true, false, null],
      nested: [[], {}, [{ a: [1, { b: 'c' }] }]],
      '': 'empty key',
      _hidden: 'a regular field named _hidden',
      '#def': 'a regular field named #def',
      'a.b-c': 'dots and dashes',
      'x"y': 'a quote in a key',
    };
    const answer = await evaluator.evaluate(
      { template, parameter, context: { name: 'ünïcode' }, fields: ['output'] },
      keyOf(template),
    );
    assert.deepEqual(answer, { ok: true, value: { output: { p: parameter, c: 'ünïcode' } } });
  });

  it('replaces a crashed process and retries what it owed: every request is answered', async () => {
    const evaluator = start();
    await evaluator.evaluate(job(-1), keyOf(TEMPLATE));
    const pending = Array.from({ length: 100 }, (_, i) => evaluator.evaluate(job(i), keyOf(TEMPLATE)));
    process.kill(evaluator.pid!, 'SIGKILL');
    assertAnswered(await Promise.all(pending));
    assert.equal(stats.invocations, 2, 'one more process');
    assert.equal(stats.restarts, 1);
  });

  it('replaces a process that stops answering, and retries what it owed', async () => {
    const evaluator = start({ timeoutMs: 3000 });
    await evaluator.evaluate(job(-1), keyOf(TEMPLATE));
    const stopped = evaluator.pid!;
    process.kill(stopped, 'SIGSTOP'); // hung: alive, never answering
    try {
      assertAnswered(
        await Promise.all(Array.from({ length: 20 }, (_, i) => evaluator.evaluate(job(i), keyOf(TEMPLATE)))),
      );
      assert.notEqual(evaluator.pid, stopped);
      assert.ok(stats.restarts >= 1);
    } finally {
      try {
        process.kill(stopped, 'SIGKILL');
      } catch {
        /* killed by the evaluator already */
      }
    }
  });

  it('a template that crashes CUE fails by itself with TRL_CUE_ENGINE; the requests beside it are answered', async () => {
    const crashing = 'parameter: n: int\noutput: crash: parameter.n\n';
    const evaluator = start({ args: [`-test-exit-on=${keyOf(crashing)}`] });
    const results = await Promise.all([
      ...Array.from({ length: 30 }, (_, i) => evaluator.evaluate(job(i), keyOf(TEMPLATE))),
      evaluator.evaluate(job(0, crashing), keyOf(crashing)),
      ...Array.from({ length: 30 }, (_, i) => evaluator.evaluate(job(30 + i), keyOf(TEMPLATE))),
    ]);
    const bad = results.splice(30, 1)[0];
    assertAnswered(results);
    assert.equal(bad.ok, false);
    const error = (bad as { error: CueError }).error;
    assert.equal(error.code, 'TRL_CUE_ENGINE');
    assert.match(
      error.message,
      /the CUE evaluator exited \(code 3\) \(on this request, run alone after an earlier failure\)/,
    );
  });

  it('a template whose evaluation never ends fails by itself once the process stops answering', async () => {
    const hanging = 'parameter: n: int\noutput: hang: parameter.n\n';
    const evaluator = start({ timeoutMs: 3000, args: [`-test-hang-on=${keyOf(hanging)}`] });
    const [good, bad] = await Promise.all([
      evaluator.evaluate(job(0), keyOf(TEMPLATE)),
      evaluator.evaluate(job(0, hanging), keyOf(hanging)),
    ]);
    assertAnswered([good]);
    assert.equal(bad.ok, false);
    assert.match(
      (bad as { error: CueError }).error.message,
      /\[TRL_CUE_ENGINE\] the CUE evaluator did not answer within 3000 ms/,
    );
    assertAnswered([await evaluator.evaluate(job(1), keyOf(TEMPLATE))], 1);
  });

  it('sends a template again when the process no longer has its source', async () => {
    // One source kept: each template pushes the other out, so the process answers "missing".
    const evaluator = start({ workers: 1, args: ['-sources=1', '-templates=1'] });
    const other = 'parameter: n: int\noutput: {n: parameter.n, double: parameter.n + parameter.n}\n';
    for (let i = 0; i < 3; i++) {
      assertAnswered([await evaluator.evaluate(job(i), keyOf(TEMPLATE))], i);
      assertAnswered([await evaluator.evaluate(job(i, other), keyOf(other))], i);
    }
    assert.equal(stats.invocations, 1);
  });

  it('gives up on a binary that never starts answering, and says so for every later request', async () => {
    const evaluator = start({ binary: '/bin/false', maxStartFailures: 3 });
    const gaveUp =
      /\[TRL_CUE_ENGINE\] the native CUE evaluator could not be started \(3 attempts failed in a row, each before answering\): the CUE evaluator exited \(code 1\)$/;
    const first = await evaluator.evaluate(job(0), keyOf(TEMPLATE));
    assert.match((first as { error: CueError }).error.message, gaveUp);
    const later = await evaluator.evaluate(job(1), keyOf(TEMPLATE));
    assert.match((later as { error: CueError }).error.message, gaveUp);
    await assert.rejects(evaluator.vet([{ path: '/batch/a.cue', text: 'a: 1' }]), gaveUp);
    assert.equal(stats.invocations, 3, 'no process started after giving up');
  });

  it('started(): the process says hello with its CUE release, and serves the next evaluation (no second start)', async () => {
    const evaluator = start();
    assert.equal(await evaluator.started(), found.version);
    assert.equal(await evaluator.started(), found.version, 'again: the same process');
    assertAnswered([await evaluator.evaluate(job(2), keyOf(TEMPLATE))], 2);
    assert.equal(stats.invocations, 1);
  });

  it('started(): rejects with why when the binary ends, or says nothing, before its hello', async () => {
    await assert.rejects(start({ binary: '/bin/false' }).started(), /^Error: the CUE evaluator exited \(code 1\)$/);
    await assert.rejects(
      start({ binary: '/bin/cat', helloTimeoutMs: 200 }).started(),
      /^Error: the CUE evaluator wrote nothing within 200 ms of starting$/,
    );
  });
});
