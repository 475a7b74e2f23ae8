import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { freePort } from '../../lib/ports.js';
import { testCluster } from '../support/cluster.js';
import { runTrellis, startTrellis } from '../support/cli.js';
import { eventually, useNamespace } from '../support/namespace.js';
import { request, TEST_RUNNER_NODE, testFunction } from '../support/serverless.js';

/** `trellis serverless` as the process the chart (and a laptop) runs. */
describe('trellis serverless (the built CLI, as a process)', () => {
  let child: ChildProcess | undefined;
  const exited = (c: ChildProcess) =>
    new Promise<number | null>((resolve) => (c.exitCode !== null ? resolve(c.exitCode) : c.once('exit', resolve)));
  // Registered before useNamespace: the runtime stops before its namespace is deleted.
  afterEach(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await exited(child);
    }
    child = undefined;
  });
  const ns = useNamespace('fncli');

  it('serves a Function through the activator with its handler as a local process, reports on /healthz and /metrics, scales to zero when idle, and exits 0 on SIGTERM', async () => {
    const { kube, kubeconfig } = testCluster();
    const healthPort = await freePort();
    // The local runner plays kubelet (it writes pod status and its node), so this runs as the admin.
    const started = await startTrellis(
      [
        'serverless',
        '--kubeconfig',
        kubeconfig,
        '-n',
        ns.name,
        '--local',
        '--node-name',
        TEST_RUNNER_NODE,
        '--listen',
        '127.0.0.1:0',
        '--health-addr',
        `127.0.0.1:${healthPort}`,
        '--tick',
        '0.1',
        '--domain',
        'fn.test',
      ],
      /activator listening on (http:\/\/\S+) /,
    );
    child = started.child;
    const url = started.match[1]!;
    await kube.apply(
      testFunction(ns.name, 'hi', {
        scale: { stableWindowSeconds: 1, panicWindowSeconds: 0.5, idleGraceSeconds: 0.2 },
      }),
    );
    const answer = await eventually(
      async () => {
        const r = await request(`${url}/${ns.name}/hi/`);
        return r.status === 200 && r;
      },
      { what: 'the function to answer through the activator', timeoutMs: 60_000 },
    );
    assert.equal(JSON.parse(answer.body).greeting, 'hello');
    const byHost = await request(`${url}/`, { headers: { host: `hi.${ns.name}.fn.test` } });
    assert.equal(byHost.status, 200, 'routed by Host in the --domain');
    assert.equal((await request(`http://127.0.0.1:${healthPort}/healthz`)).status, 200);
    const metrics = (await request(`http://127.0.0.1:${healthPort}/metrics`)).body;
    assert.match(
      metrics,
      new RegExp(
        `trellis_activator_requests_total\\{namespace="${ns.name}",function="hi",revision="hi-00001",code="200"\\} [1-9]`,
      ),
    );

    // Idle, it scales to zero: no pod is left for the namespace's deletion after the process is gone.
    await eventually(async () => (await kube.list('v1', 'Pod', { namespace: ns.name })).items.length === 0, {
      what: 'the idle function scaled to zero, its pods gone',
      timeoutMs: 60_000,
    });
    child.kill('SIGTERM');
    assert.equal(await exited(child), 0);
    assert.doesNotMatch(started.output(), /^\s+at /m, 'no stack trace on the way out');
  });

  it('exits 2 naming the flag and the reason for a bad --listen, without a stack trace', async () => {
    const result = await runTrellis(['serverless', '--listen', 'nowhere']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--listen must be host:port, got "nowhere"/);
    assert.doesNotMatch(result.stderr, /^\s+at /m);
  });
});
