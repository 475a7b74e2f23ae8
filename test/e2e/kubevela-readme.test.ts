import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { KUBEVELA } from '../../application/testdata/kubevela-cases.js';
import { packageRoot } from '../../controlplane/index.js';
import { tourSteps } from '../support/tour.js';

const exec = promisify(execFile);

/** README "Coming from KubeVela": each ```sh block run verbatim in bash, as a reader would (the built CLI). */
describe('README: coming from KubeVela (offline steps)', function () {
  this.timeout(300_000);
  before(function () {
    if (!existsSync(KUBEVELA)) this.skip();
  });
  const expect: ((out: string) => void)[] = [
    (out) => {
      assert.match(out, /^# Application default\/busybox\n# component "busybox" \(ComponentDefinition\/webservice\)\n/);
      assert.match(out, /app\.oam\.dev\/appRevision: busybox-v1\n/);
      assert.match(out, /- name: key_first\n\s+value: value_first\n/, 'the env trait patched the main container');
      assert.match(out, /- image: nginx\n\s+name: sidecar-nginx\n/, 'the sidecar trait added its container');
    },
    (out) => {
      assert.match(
        out,
        /^error: \[TRL_APP_WORKFLOW_STEP\] Application\/default\/application-sample: spec\.workflow\.steps\[0\]\.type: step "deploy-server1" has type "custom-apply-component", which needs KubeVela's workflow engine/,
      );
      assert.doesNotMatch(out, /\n\s+at /, 'no stack trace');
      assert.match(out, /exit 1\n$/);
    },
  ];
  it('has one expectation per step', () => assert.equal(tourSteps('kubevela-tour').length, expect.length));
  it('every step prints what the README says', async () => {
    for (const [i, step] of tourSteps('kubevela-tour').entries()) {
      const { stdout } = await exec('bash', ['-euo', 'pipefail', '-c', `exec 2>&1\n${step}`], {
        cwd: packageRoot(),
        maxBuffer: 16 * 1024 * 1024,
      });
      try {
        expect[i]!(stdout);
      } catch (err) {
        throw new Error(`step ${i + 1}: ${(err as Error).message}\n--- it printed:\n${stdout}`, { cause: err });
      }
    }
  });
});
