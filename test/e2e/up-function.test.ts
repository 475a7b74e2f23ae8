import assert from 'node:assert/strict';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../../controlplane/index.js';
import { useUp } from '../support/up.js';
import { request } from '../support/serverless.js';

/** Processes (Linux /proc) running `handler.js` in the given folder. */
function handlerProcesses(cwd: string): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return (
          readlinkSync(`/proc/${d}/cwd`) === cwd && readFileSync(`/proc/${d}/cmdline`, 'utf8').includes('handler.js')
        );
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe('trellis up with a function (the laptop story of examples/function-hello)', () => {
  const up = useUp('trellis-up-fn-');

  it('`trellis up examples/function-hello` serves the handler by Host and path, and Ctrl-C stops its processes', async function () {
    // Starting up alone may take up to UP_READY_MS at load: beyond mocha's 120 s default.
    this.timeout(600_000);
    const handlerDir = path.join(packageRoot(), 'examples', 'function-hello');
    const running = await up.start(['examples/function-hello']);
    let pids: number[] = [];
    try {
      const url = running.functionsUrl;
      // It said it was up only once the application was: the first request finds the Function.
      assert.match(running.output(), /\[up\]\s+ApplicationConfiguration\/default\/hello: Synced=True Ready=True/);
      const byHost = await request(`${url}/`, { headers: { host: 'hello.default.fn.localhost' } });
      assert.equal(byHost.status, 200, byHost.body);
      assert.equal(byHost.body, 'hello\n');
      assert.equal((await request(`${url}/default/hello/`)).body, 'hello\n');
      pids = handlerProcesses(handlerDir);
      assert.ok(pids.length >= 1, 'the handler runs as a local process in examples/function-hello');
      // The dashboard came up with it: its URL is printed, it lists the application and the Function,
      // whose charts read the in-process activator's counters.
      const dashboard = /Dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(running.output())?.[1];
      assert.ok(dashboard, `trellis up prints the dashboard's URL:\n${running.output()}`);
      const apps = (await (await fetch(`${dashboard}api/apps`)).json()) as { items: { name: string; ready: string }[] };
      assert.deepEqual(
        apps.items.map((a) => [a.name, a.ready]),
        [['hello', 'True']],
      );
      const functions = (await (await fetch(`${dashboard}api/functions`)).json()) as {
        items: { name: string }[];
        source: string;
      };
      assert.deepEqual(
        functions.items.map((f) => f.name),
        ['hello'],
      );
      assert.equal(functions.source, 'activator');
    } catch (err) {
      await running.stop();
      throw err;
    }
    const { code, detail } = await running.stop();
    assert.equal(code, 0, detail);
    assert.deepEqual(
      handlerProcesses(handlerDir).filter((p) => pids.includes(p)),
      [],
      'its handler processes are gone',
    );
  });
});
