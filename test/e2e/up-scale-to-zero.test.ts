import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../../controlplane/index.js';
import type { KubeObject } from '../../kube/index.js';
import { CONFORMANCE_DIR } from '../support/conformance.js';
import { eventually } from '../support/namespace.js';
import { request } from '../support/serverless.js';
import { useUp } from '../support/up.js';

type Fn = KubeObject & {
  status?: { readyReplicas?: number; desiredReplicas?: number; conditions?: { type: string; reason?: string }[] };
};

describe("trellis up: the seed's OpenFaaS Function scales to zero with the scale-to-zero trait (examples/scale-to-zero)", () => {
  const up = useUp('trellis-up-zero-');

  it('runs the seed Component unchanged, goes to zero when idle and comes back on a request', async function () {
    // Its own waits (up to UP_READY_MS for up, 120 s per Function to reach zero) outlast mocha's 120 s default.
    this.timeout(600_000);
    const example = path.join(packageRoot(), 'examples', 'scale-to-zero');
    assert.equal(
      readFileSync(path.join(example, 'component.yaml'), 'utf8'),
      readFileSync(path.join(CONFORMANCE_DIR, 'seed-openfaas-function-component.yaml'), 'utf8'),
      "the Component is the seed's, byte for byte",
    );
    const running = await up.start(['.'], { cwd: example });
    const { kube, functionsUrl: url } = running;
    try {
      for (const { apiVersion, name } of [
        { apiVersion: 'openfaas.com/v1', name: 'web-function' },
        { apiVersion: 'serverless.trellis.dev/v1alpha1', name: 'nodeinfo' },
      ]) {
        const call = async () => {
          const r = await request(`${url}/default/${name}/`);
          assert.equal(r.status, 200, `${name}: ${r.body}`);
          assert.match(r.body, /^Hostname: /, "answered by main.js (node main.js, the seed's handler)");
        };
        await call();
        const ref = { apiVersion, kind: 'Function', namespace: 'default', name };
        await eventually(
          async () => {
            const fn = await kube.get<Fn>(ref);
            return (
              fn.status?.conditions?.find((c) => c.type === 'Ready')?.reason === 'ScaledToZero' &&
              fn.status.desiredReplicas === 0
            );
          },
          { what: `${name} scaled to zero after 10 s idle`, timeoutMs: 120_000, intervalMs: 500 },
        );
        const pods = await kube.list('v1', 'Pod', {
          namespace: 'default',
          labelSelector: `serverless.trellis.dev/function=${name}`,
        });
        assert.deepEqual(
          pods.items.filter((p) => !p.metadata.deletionTimestamp).map((p) => p.metadata.name),
          [],
          `${name}: no instance left`,
        );
        await call();
      }
    } catch (err) {
      await running.stop();
      throw err;
    }
    const { code, detail } = await running.stop();
    assert.equal(code, 0, detail);
  });
});
