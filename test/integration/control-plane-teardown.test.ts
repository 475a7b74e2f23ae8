import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ensureBinaries, KUBE_TOOL, packageRoot, userCacheDir } from '../../controlplane/index.js';
import { eventually } from '../support/namespace.js';

interface Started {
  pids: { name: string; pid: number }[];
  dir: string;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function startChild(): Promise<{ child: ReturnType<typeof spawn>; started: Started }> {
  // The global fixture already built or found these; this only reads the cache.
  const binaries = await ensureBinaries(KUBE_TOOL, {
    cacheDir: userCacheDir(process.env),
    env: process.env,
    ...(process.env.TRELLIS_CONTROL_PLANE_BIN ? { prebuiltDir: process.env.TRELLIS_CONTROL_PLANE_BIN } : {}),
  });
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join('test', 'support', 'run-control-plane.ts'), JSON.stringify(binaries)],
    { cwd: packageRoot(), stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const started = await new Promise<Started>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /READY (.*)\n/.exec(out);
      if (m) resolve(JSON.parse(m[1]!) as Started);
    });
    child.on('exit', (code) => reject(new Error(`control plane child exited with ${code} before it was ready`)));
  });
  return { child, started };
}

describe('control plane teardown', () => {
  it('leaves no process behind when the process that started it is killed with SIGKILL', async () => {
    const { child, started } = await startChild();
    assert.deepEqual(started.pids.map((p) => p.name).sort(), ['etcd', 'kube-apiserver', 'kube-controller-manager']);
    assert.ok(started.pids.every((p) => alive(p.pid)));
    child.kill('SIGKILL');
    await eventually(async () => started.pids.every((p) => !alive(p.pid)), {
      what: 'etcd, kube-apiserver and kube-controller-manager to exit',
      timeoutMs: 30_000,
    });
  });

  it('stops every component and removes its temporary data when interrupted with SIGINT', async () => {
    const { child, started } = await startChild();
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    child.kill('SIGINT');
    assert.equal(await exited, 130);
    assert.ok(
      started.pids.every((p) => !alive(p.pid)),
      'no component outlives a graceful stop',
    );
    assert.equal(existsSync(started.dir), false, 'temporary data folder removed');
  });
});
