import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ensureBinaries, requireGo } from './binaries.js';
import { KUBE_TOOL } from './versions.js';
import { isTrellisError } from '../lib/errors.js';

describe('controlplane: ensureBinaries', () => {
  it('fails with one clear sentence when Go is missing', () => {
    assert.throws(
      () => requireGo({ PATH: '/nonexistent' }),
      (err: Error) =>
        isTrellisError(err, 'TRL_GO_MISSING') &&
        /^\[TRL_GO_MISSING\] Go is not installed or not on PATH: .*TRELLIS_CONTROL_PLANE_BIN/.test(err.message) &&
        !err.message.includes('\n'),
    );
  });

  it('uses prebuilt binaries without building, and names the missing one', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'prebuilt-'));
    for (const name of ['etcd', 'kube-apiserver', 'kube-controller-manager']) await writeFile(path.join(dir, name), '');
    await assert.rejects(
      ensureBinaries(KUBE_TOOL, { cacheDir: dir, env: { PATH: '/nonexistent' }, prebuiltDir: dir }),
      /prebuilt binary .*kube-scheduler is missing/,
    );
    await writeFile(path.join(dir, 'kube-scheduler'), '');
    const found = await ensureBinaries(KUBE_TOOL, { cacheDir: dir, env: { PATH: '/nonexistent' }, prebuiltDir: dir });
    assert.equal(found['kube-apiserver'], path.join(dir, 'kube-apiserver'));
  });
});
