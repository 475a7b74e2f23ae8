import assert from 'node:assert/strict';
import type { Rollout } from '../../controllers/rollout/index.js';
import { trellis } from '../support/cli.js';
import { testCluster } from '../support/cluster.js';
import { useNamespace } from '../support/namespace.js';

const RO = 'delivery.trellis.dev/v1alpha1';

/**
 * `trellis rollout` when it cannot do what it is asked: a usage mistake exits 2 pointing to --help, an
 * ApplicationConfiguration or component without a rollout and a command that does not fit the state
 * exit 1 with their TRL_* code and the object — never a stack trace — and nothing is written.
 * (What the commands do to a rollout in progress: test/integration/controllers/rollout.test.ts.)
 */
describe('trellis rollout: bad input and wrong state say so and change nothing', function () {
  this.timeout(120_000);
  const ns = useNamespace('rocli');
  const kube = () => testCluster().kube;
  const cli = (...args: string[]) =>
    trellis(['rollout', ...args, '-n', ns.name, '--kubeconfig', testCluster().kubeconfig]);
  const annotations = async (component: string) =>
    (await kube().get<Rollout>({ apiVersion: RO, kind: 'Rollout', name: `${component}-rollout`, namespace: ns.name }))
      .metadata.annotations ?? {};
  const noStack = (r: { out: string; err: string }) => assert.doesNotMatch(r.out + r.err, /^\s+at /m, 'no stack trace');

  beforeEach(async () => {
    // Two components of `shop` carry the trait; nothing rolls out (no controller runs here).
    for (const component of ['api', 'web']) {
      await kube().apply({
        apiVersion: RO,
        kind: 'Rollout',
        metadata: {
          name: `${component}-rollout`,
          namespace: ns.name,
          labels: { 'app.oam.dev/name': 'shop', 'app.oam.dev/component': component },
        },
        spec: { component, steps: [{ weight: 20, pause: {} }] },
      });
    }
  });

  it('usage mistakes exit 2 and name the mistake', async () => {
    for (const [args, reason] of [
      [[], /say what to do: status, promote, abort, pause, resume/],
      [['rollback', 'shop'], /say what to do: .* \(not "rollback"\)/],
      [['promote'], /name one ApplicationConfiguration/],
      [['abort', 'shop', '--component', 'web', '--full'], /--full goes with promote only/],
      [['promote', 'shop'], /shop has rollouts for several components \(api, web\): name one with --component/],
    ] as [string[], RegExp][]) {
      const r = await cli(...args);
      assert.equal(r.code, 2, `trellis rollout ${args.join(' ')}: ${r.err}`);
      assert.match(r.err, reason);
      assert.match(r.err, /Run `trellis rollout --help` for its usage/);
      noStack(r);
    }
  });

  it('an ApplicationConfiguration or component without a rollout: TRL_ROLLOUT_NOT_FOUND, naming what has one', async () => {
    const none = await cli('status', 'nosuch');
    assert.equal(none.code, 1);
    assert.match(
      none.err,
      new RegExp(`TRL_ROLLOUT_NOT_FOUND.*ApplicationConfiguration/${ns.name}/nosuch.*attach the \`rollout\` trait`),
    );
    noStack(none);
    const component = await cli('promote', 'shop', '--component', 'cart');
    assert.equal(component.code, 1);
    assert.match(component.err, /TRL_ROLLOUT_NOT_FOUND.*component "cart" has no rollout trait \(these do: api, web\)/);
    noStack(component);
  });

  it('promote and abort with nothing rolling out: TRL_ROLLOUT_STATE, and the Rollout is not annotated', async () => {
    for (const action of ['promote', 'abort']) {
      const r = await cli(action, 'shop', '--component', 'web');
      assert.equal(r.code, 1, `${action}: ${r.out}${r.err}`);
      assert.match(r.err, new RegExp(`TRL_ROLLOUT_STATE.*Rollout ${ns.name}/web-rollout.*nothing is rolling out`));
      noStack(r);
    }
    assert.deepEqual(await annotations('web'), {});
  });

  it("status shows every component's rollout; pause and resume are idempotent and say what they did", async () => {
    const status = await cli('status', 'shop');
    assert.equal(status.code, 0, status.err);
    assert.match(
      status.out,
      new RegExp(`^Rollout ${ns.name}/api-rollout  \\(component api, canary\\)\\n  Phase:\\s+not reconciled yet`, 'm'),
    );
    assert.ok(
      status.out.indexOf('api-rollout') < status.out.indexOf('web-rollout'),
      'one after the other, by component',
    );

    const paused = await cli('pause', 'shop', '--component', 'web');
    assert.equal(paused.code, 0, paused.err);
    assert.match(paused.out, /web-rollout: paused \(the next rollout will wait at its first step\)/);
    assert.equal((await annotations('web'))['delivery.trellis.dev/paused'], 'true');
    assert.deepEqual(await annotations('api'), {}, 'the other component is untouched');
    assert.match((await cli('pause', 'shop', '--component', 'web')).out, /already paused/);
    assert.match(
      (await cli('status', 'shop', '--component', 'web')).out,
      /Phase:\s+not reconciled yet \(paused by `trellis rollout pause`\)/,
    );

    const resumed = await cli('resume', 'shop', '--component', 'web');
    assert.equal(resumed.code, 0, resumed.err);
    assert.match(resumed.out, /web-rollout: resumed/);
    assert.equal((await annotations('web'))['delivery.trellis.dev/paused'], undefined);
    const again = await cli('resume', 'shop', '--component', 'web');
    assert.equal(again.code, 1, 'nothing paused and nothing rolling out');
    assert.match(again.err, /TRL_ROLLOUT_STATE.*nothing is rolling out/);
  });
});
