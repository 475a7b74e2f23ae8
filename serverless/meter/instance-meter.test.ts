import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../lib/ports.js';
import { PROXIED_HEADER, readInstanceMeter, withMeterPreload, writeMeterPreload } from './instance-meter.js';

const HANDLER = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../test/integration/testdata/handler.js',
);

/** Polls `check` until it returns a value (unit tests may not import test/support's `eventually`). */
async function eventually<T>(check: () => Promise<T | false | undefined>, o: { what: string }): Promise<T> {
  for (let i = 0; i < 500; i++) {
    const value = await check();
    if (value) return value;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${o.what}`);
}

/** Sends a GET and resolves with its status once the answer is read. */
function get(port: number, urlPath: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, headers, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
  });
}

describe('instance meter (preloaded into a Node handler)', function () {
  this.timeout(60_000);
  let dir: string;
  let child: ChildProcess | undefined;
  let port: number;
  let meterPort: number;

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'trellis-meter-'));
    port = await freePort('127.0.0.1');
    meterPort = await freePort('127.0.0.1');
    child = spawn(process.execPath, [HANDLER], {
      env: {
        PATH: process.env.PATH ?? '',
        PORT: String(port),
        HOST: '127.0.0.1',
        NODE_OPTIONS: withMeterPreload(undefined, writeMeterPreload(dir)),
        TRELLIS_METER_PORT: String(meterPort),
      },
      stdio: 'ignore',
    });
    await eventually(async () => (await get(port, '/').catch(() => 0)) === 200, { what: 'the handler answering' });
  });

  after(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGKILL');
      await new Promise((r) => child!.once('exit', r));
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('counts requests in flight that did not come through an activator, and only those', async () => {
    const before = await readInstanceMeter('127.0.0.1', meterPort);
    assert.ok(before, 'the meter answers on its own port');
    const slow = get(port, '/sleep?ms=1500');
    const proxied = get(port, '/sleep?ms=1500', { [PROXIED_HEADER]: '1' });
    const during = await eventually(
      async () => {
        const r = await readInstanceMeter('127.0.0.1', meterPort);
        return r && r.current > 0 && r;
      },
      { what: 'the slow request in flight' },
    );
    assert.equal(during.current, 1, "the activator's request is the activator's to count");
    assert.equal(during.arrivals - before.arrivals, 1);
    assert.equal(await slow, 200);
    assert.equal(await proxied, 200);
    const after = await readInstanceMeter('127.0.0.1', meterPort);
    assert.ok(after);
    assert.equal(after.current, 0, 'answered: no longer in flight');
    assert.equal(after.peak, 1, 'the peak since the previous reading');
    assert.ok(after.area - during.area > 0, 'time in flight integrated (request·ms)');
    assert.ok(after.idleMs !== undefined, 'knows when it last saw a request');
  });

  it('reads nothing from a port where no meter answers (the instance then counts as unmetered)', async () => {
    assert.equal(await readInstanceMeter('127.0.0.1', await freePort('127.0.0.1'), 300), undefined);
    assert.equal(await readInstanceMeter('127.0.0.1', port, 300), undefined, 'the handler itself is no meter');
  });
});
