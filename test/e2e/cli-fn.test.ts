/**
 * `trellis fn list|describe|invoke` through the built binary, against the suite's API server and a
 * serverless runtime whose activator and handler instances are real local processes on loopback (as
 * under `trellis up`): the request goes through the activator, which starts an instance from zero.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { KubeObject } from '../../kube/index.js';
import { freePort } from '../../lib/ports.js';
import { runTrellis } from '../support/cli.js';
import { testCluster } from '../support/cluster.js';
import { eventually, useNamespace } from '../support/namespace.js';
import { useControllers } from '../support/controllers.js';
import { firstRevision, HANDLER_DIR, startServerless, testFunction } from '../support/serverless.js';

describe('trellis fn (the built CLI, with a local serverless runtime)', () => {
  const ns = useNamespace('cli-fn');
  let runtime: Awaited<ReturnType<typeof startServerless>> | undefined;
  let port = 0;
  before(async () => {
    port = await freePort();
    runtime = await startServerless(ns.name, { port });
  });
  after(async () => {
    await runtime?.close();
  });
  const k = () => ['-n', ns.name, '--kubeconfig', testCluster().controlPlane.kubeconfigPath];

  it('list and describe show the address, readiness, instances, revisions and traffic; invoke calls it', async () => {
    await testCluster().kube.apply(testFunction(ns.name, 'echo', { scale: { min: 0 } }));
    const url = `http://echo.${ns.name}.fn.localhost:${port}`;
    const list = await eventually(
      async () => {
        const r = await runTrellis(['fn', 'list', ...k()]);
        return /\sTrue\s/.test(r.stdout) && r;
      },
      { what: 'echo Ready in fn list' },
    );
    assert.equal(list.code, 0, list.stderr);
    const [header, row] = list.stdout.trimEnd().split('\n');
    assert.match(header!, /^NAME\s+URL\s+READY\s+INSTANCES\s+LATEST\s+TRAFFIC\s+AGE$/);
    assert.match(
      row!,
      new RegExp(`^echo\\s+${url.replace(/\./g, '\\.')}\\s+True\\s+\\d/\\d\\s+echo-00001\\s+echo-00001=100%\\s+\\S+$`),
    );
    const json = JSON.parse((await runTrellis(['fn', 'list', '-o', 'json', ...k()])).stdout) as { items: KubeObject[] };
    assert.deepEqual(
      json.items.map((f) => `${f.kind}/${f.metadata.name}`),
      ['Function/echo'],
    );
    const all = await runTrellis(['fn', 'list', '-A', '--kubeconfig', testCluster().controlPlane.kubeconfigPath]);
    assert.match(all.stdout, new RegExp(`^${ns.name}\\s+echo\\s+`, 'm'));

    // A POST with a body, a header, a path: the activator starts an instance (from zero) and relays the answer.
    const echo = await runTrellis(
      ['fn', 'invoke', 'echo', '--path', '/echo', '-H', 'Content-Type: text/plain', ...k()],
      {
        input: 'hello from stdin\n',
      },
    );
    assert.equal(echo.code, 0, echo.stderr);
    assert.equal(echo.stdout, 'hello from stdin\n');
    const get = await runTrellis(['fn', 'invoke', 'echo', '-i', '--path', '/sleep?ms=1', ...k()], { input: '' });
    assert.equal(get.code, 0, get.stderr);
    assert.match(get.stdout, /^HTTP\/1\.1 200 OK\n/);
    assert.match(get.stdout, /^content-type: application\/json$/im);
    assert.equal((JSON.parse(get.stdout.split('\n\n')[1]!) as { path: string }).path, '/sleep');

    const describe = await runTrellis(['fn', 'describe', 'echo', ...k()]);
    assert.equal(describe.code, 0, describe.stderr);
    assert.match(describe.stdout, /^Name:\s+echo$/m);
    assert.match(describe.stdout, new RegExp(`^URL:\\s+${url.replace(/\./g, '\\.')}$`, 'm'));
    assert.match(describe.stdout, /^Handler:\s+node handler\.js \(in \S+testdata\)$/m);
    assert.match(describe.stdout, /^Scale:\s+min 0, max unbounded$/m);
    assert.match(describe.stdout, /^Scaling:\s+\d+ desired, \d\/\d instances ready/m);
    assert.match(
      describe.stdout,
      new RegExp(
        `^Revisions:\\n\\s+NAME\\s+TRAFFIC\\s+INSTANCES\\s+READY\\s+AGE\\n\\s+${firstRevision('echo')}\\s+100%\\s+\\d/\\d\\s+True\\s+\\S+\\s+latest ready$`,
        'm',
      ),
    );
    assert.match(
      describe.stdout,
      /^Conditions:\n\s+TYPE\s+STATUS\s+REASON\s+AGE\s+MESSAGE\n(\s+\w+\s+\w+.*\n)*\s+Ready\s+True\s/m,
    );
    assert.match(describe.stdout, /^Events:\n/m);
    const yaml = await runTrellis(['fn', 'describe', 'echo', '-o', 'json', ...k()]);
    const items = (JSON.parse(yaml.stdout) as { items: KubeObject[] }).items;
    assert.deepEqual(
      items.slice(0, 2).map((o) => `${o.kind}/${o.metadata.name}`),
      ['Function/echo', 'FunctionRevision/echo-00001'],
    );
  });

  it('invoke exits 1 on a non-2xx answer, printing it; unknown Functions and bad flags are said plainly', async () => {
    await testCluster().kube.apply(
      testFunction(ns.name, 'broken', { env: [{ name: 'ANSWER_STATUS', value: '503' }], scale: { min: 0 } }),
    );
    const broken = await eventually(
      async () => {
        const r = await runTrellis(['fn', 'invoke', 'broken', ...k()], { input: '' });
        return /"pid"/.test(r.stdout) && r;
      },
      { what: 'broken answered by its handler' },
    );
    assert.equal(broken.code, 1);
    assert.match(
      broken.stderr,
      new RegExp(
        `^error: \\[TRL_FN_INVOKE\\] Function/${ns.name}/broken: answered 503 Service Unavailable through http://broken\\.`,
      ),
    );
    const missing = await runTrellis(['fn', 'describe', 'nope', ...k()]);
    assert.equal(missing.code, 1);
    assert.equal(
      missing.stderr,
      `error: [TRL_FN_NOT_FOUND] Function/${ns.name}/nope: no such Function (trellis fn list lists them)\n`,
    );
    const header = await runTrellis(['fn', 'invoke', 'broken', '-H', 'nocolon', ...k()], { input: '' });
    assert.equal(header.code, 2);
    assert.match(header.stderr, /^error: -H needs "Name: value", got "nocolon"/);
    const misplaced = await runTrellis(['fn', 'list', '--method', 'PUT', ...k()]);
    assert.equal(misplaced.code, 2);
    assert.match(misplaced.stderr, /^error: --method does not apply to `trellis fn list`/);
    const sub = await runTrellis(['fn', 'lst', ...k()]);
    assert.equal(sub.code, 2);
    assert.match(sub.stderr, /^error: no fn subcommand "lst": list, describe, invoke/);
  });

  describe('trellis logs of an application with a Function and a webservice', () => {
    useControllers(ns);

    it("prints a local Function instance's output prefixed pod/container, and names the pods whose node serves none", async () => {
      const { kube } = testCluster();
      const component = (name: string, workload: Record<string, unknown>) =>
        ({
          apiVersion: 'core.oam.dev/v1alpha2',
          kind: 'Component',
          metadata: { name, namespace: ns.name },
          spec: { workload },
        }) as KubeObject;
      await kube.apply(
        component('greeter', {
          type: 'function',
          properties: {
            handler: 'node handler.js',
            workingDir: HANDLER_DIR,
            env: [{ name: 'LOG_REQUESTS', value: '1' }],
          },
        }),
      );
      await kube.apply(component('web', { type: 'webservice', properties: { image: 'nginx:1.27' } }));
      await kube.apply({
        apiVersion: 'core.oam.dev/v1alpha2',
        kind: 'ApplicationConfiguration',
        metadata: { name: 'shop', namespace: ns.name },
        spec: { components: [{ componentName: 'greeter' }, { componentName: 'web' }] },
      } as KubeObject);
      // A request starts an instance of the function, which logs it.
      await eventually(
        async () =>
          (await runTrellis(['fn', 'invoke', 'greeter', '--path', '/hello-logs', ...k()], { input: '' })).code === 0,
        { what: 'greeter answering' },
      );
      const logs = await eventually(
        async () => {
          const r = await runTrellis(['logs', 'shop', ...k()]);
          return /request GET \/hello-logs/.test(r.stdout) && /web-/.test(r.stderr) && r;
        },
        { what: "greeter's request line and web's pod in trellis logs" },
      );
      assert.equal(logs.code, 0, logs.stderr);
      assert.match(logs.stdout, /^\[greeter-00001-[a-z0-9]+-[a-z0-9]+\/function\] request GET \/hello-logs$/m);
      assert.match(
        logs.stderr,
        /^pod web-[a-z0-9]+-[a-z0-9]+, container web: no logs from node kwok-node-\d \(a kwok-simulated node: no process runs there; it serves a container's log only from the file a kwok Logs object names\): /m,
      );
      const only = await runTrellis(['logs', 'shop', '--component', 'greeter', '--tail', '1', ...k()]);
      assert.equal(only.code, 0, only.stderr);
      assert.equal(only.stderr, '');
      assert.equal(only.stdout.trimEnd().split('\n').length, 1);
      const web = await runTrellis(['logs', 'shop', '--component', 'web', ...k()]);
      assert.equal(web.code, 1, 'no container of the component served logs');
      assert.match(
        web.stderr,
        new RegExp(
          `^error: \\[TRL_LOGS_UNAVAILABLE\\] ApplicationConfiguration/${ns.name}/shop: none of its 1 container\\(s\\) served logs`,
          'm',
        ),
      );
      // kwok serves a simulated container's log from the file a kwok Logs object names (CRI log format),
      // through the same pods/log path: the lines are the file's.
      const webPod = /^pod (web-\S+), container web:/m.exec(web.stderr)![1]!;
      const dir = mkdtempSync(path.join(os.tmpdir(), 'trellis-kwok-logs-'));
      try {
        const file = path.join(dir, 'web.log');
        writeFileSync(
          file,
          '2026-12-06T10:00:00.000000000Z stdout F GET / 200\n2026-12-06T10:00:01.000000000Z stderr F GET /nope 404\n',
        );
        await kube.create({
          apiVersion: 'kwok.x-k8s.io/v1alpha1',
          kind: 'Logs',
          metadata: { name: webPod, namespace: ns.name },
          spec: { logs: [{ containers: ['web'], logsFile: file }] },
        } as KubeObject);
        const served = await eventually(
          async () => {
            const r = await runTrellis(['logs', 'shop', '--component', 'web', ...k()]);
            return r.code === 0 && r;
          },
          { what: "web's log served by kwok" },
        );
        assert.equal(served.stdout, `[${webPod}/web] GET / 200\n[${webPod}/web] GET /nope 404\n`);
        const last = await runTrellis(['logs', 'shop', '--component', 'web', '--tail', '1', ...k()]);
        assert.equal(last.stdout, `[${webPod}/web] GET /nope 404\n`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      const since = await runTrellis(['logs', 'shop', '--component', 'greeter', '--since', '5m', ...k()]);
      assert.match(since.stderr, /local instance output has no timestamps/);
      const nope = await runTrellis(['logs', 'shop', '--component', 'nope', ...k()]);
      assert.equal(nope.code, 2);
      assert.match(nope.stderr, /^error: ApplicationConfiguration shop has no component "nope"/);
    });
  });

  describe('served on a cluster', () => {
    const remote = useNamespace('cli-fn-remote');

    it("invoke goes through the API server's service proxy (the activator's Service), and says why it failed", async () => {
      // A Function whose status.url is not on loopback (as on a cluster), in a namespace no Function
      // controller watches. Its own Service has no Endpoints (activators publish EndpointSlices, which
      // the service proxy does not read), so invoke goes through the chart's activator Service by the
      // Function's path; with no activator pod behind it the proxy answers 503: no pod address is called.
      const { kube } = testCluster();
      await kube.create({
        ...testFunction(remote.name, 'remote'),
        spec: { image: 'example.com/remote:1' },
      } as KubeObject);
      await kube.create({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'remote', namespace: remote.name },
        spec: { ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
      } as KubeObject);
      const k = ['-n', remote.name, '--kubeconfig', testCluster().kubeconfig];
      const own = await runTrellis(['fn', 'invoke', 'remote', ...k], { input: '' });
      assert.equal(own.code, 1);
      assert.equal(
        own.stderr,
        `error: [TRL_FN_INVOKE] Function/${remote.name}/remote: answered 404 Not Found through the API server's service proxy (/api/v1/namespaces/${remote.name}/services/remote:http/proxy/): services "remote" not found\n`,
        "without an activator Service, the Function's own Service is all there is",
      );
      await kube.create({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: {
          name: 'trellis-activator',
          namespace: remote.name,
          labels: { 'app.kubernetes.io/name': 'trellis', 'app.kubernetes.io/component': 'activator' },
        },
        spec: { selector: { 'trellis.test/none': 'none' }, ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
      } as KubeObject);
      await kube.patch(
        { apiVersion: 'serverless.trellis.dev/v1alpha1', kind: 'Function', namespace: remote.name, name: 'remote' },
        { status: { url: `http://remote.${remote.name}.example.com`, path: `/${remote.name}/remote/` } },
        'merge',
        'status',
      );
      const r = await runTrellis(['fn', 'invoke', 'remote', '--path', '/x', ...k], { input: '' });
      assert.equal(r.code, 1);
      assert.equal(
        r.stderr,
        `error: [TRL_FN_INVOKE] Function/${remote.name}/remote: answered 503 Service Unavailable through the API server's service proxy (/api/v1/namespaces/${remote.name}/services/trellis-activator:http/proxy/${remote.name}/remote/x): no endpoints available for service "trellis-activator"\n`,
      );
    });
  });
});
