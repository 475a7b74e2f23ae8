import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isTrellisError } from '../../lib/errors.js';
import { cachedBuild, moduleHash } from '../../lib/go-build.js';
import { userCacheDir } from '../../lib/paths.js';
import { EVALUATOR_COMMAND, evaluatorBuild, findEvaluator, NATIVE_CUE_VERSION } from './binary.js';

describe('cue: finding the native evaluator', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'trellis-cue-binary-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is built from the cuelang.org/go release NATIVE_CUE_VERSION names, and says so', async () => {
    const goMod = readFileSync(path.join(evaluatorBuild().moduleDir, 'go.mod'), 'utf8');
    assert.equal(/^require cuelang\.org\/go (\S+)$/m.exec(goMod)?.[1], NATIVE_CUE_VERSION);
    const found = await findEvaluator({ cacheDir: userCacheDir(process.env) });
    assert.equal(found.version, NATIVE_CUE_VERSION);
    assert.match(
      found.binary,
      new RegExp(`/trellis/bin/cue-evaluator-${NATIVE_CUE_VERSION.replace(/\./g, '\\.')}-[0-9a-f]{12}/trellis-cue$`),
    );
  });

  it('keys its build cache by CUE version and source hash, taking a precompiled hash as given', async () => {
    const build = evaluatorBuild();
    const hash = await moduleHash(build.moduleDir);
    const computed = await cachedBuild({ ...build, sourceHash: undefined }, dir);
    assert.equal(path.basename(computed.dir), `cue-evaluator-${NATIVE_CUE_VERSION}-${hash}`);
    const given = await cachedBuild({ ...build, sourceHash: 'feedfacecafe' }, dir);
    assert.equal(path.basename(given.dir), `cue-evaluator-${NATIVE_CUE_VERSION}-feedfacecafe`);
    assert.equal(given.complete, false);
  });

  it('uses a prebuilt evaluator (the binary, or a folder holding it) without Go or a cache', async () => {
    const { binary } = await findEvaluator({ cacheDir: userCacheDir(process.env) });
    const folder = path.join(dir, 'bin');
    mkdirSync(folder);
    symlinkSync(binary, path.join(folder, EVALUATOR_COMMAND));
    for (const given of [binary, folder]) {
      const found = await findEvaluator({
        binary: given,
        cacheDir: path.join(dir, 'no-cache'),
        env: { PATH: '/nonexistent' },
      });
      assert.equal(found.version, NATIVE_CUE_VERSION);
      assert.match(found.how, /^prebuilt evaluator /);
    }
  });

  it('names what is wrong with a prebuilt evaluator that is missing or is not one', async () => {
    const wrong = (given: string, reason: RegExp) =>
      assert.rejects(
        findEvaluator({ binary: given, cacheDir: dir }),
        (err: Error) => isTrellisError(err, 'TRL_CUE_EVALUATOR') && reason.test(err.message),
      );
    await wrong(path.join(dir, 'nothing-here'), /prebuilt CUE evaluator .*nothing-here is missing/);
    await wrong('/bin/true', /the CUE evaluator \/bin\/true does not run: answered "" to -version/);
  });

  it('without a cached build, builds only when given an environment, and says Go is missing in one sentence', async () => {
    const empty = path.join(dir, 'empty-cache');
    await assert.rejects(
      findEvaluator({ cacheDir: empty }),
      (err: Error) => isTrellisError(err, 'TRL_CUE_EVALUATOR') && /no native evaluator is built yet/.test(err.message),
    );
    await assert.rejects(
      findEvaluator({ cacheDir: empty, env: { PATH: '/nonexistent' } }),
      (err: Error) =>
        isTrellisError(err, 'TRL_GO_MISSING') &&
        /^\[TRL_GO_MISSING\] Go is not installed or not on PATH: the native CUE evaluator is built from source with Go ≥ 1\.23 .*TRELLIS_CUE_BIN.*--cue-engine wasm/.test(
          err.message,
        ) &&
        !err.message.includes('\n'),
    );
  });
});
