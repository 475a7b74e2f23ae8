import assert from 'node:assert/strict';
import { execFile, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import {
  KUBEVELA,
  kubevelaCases,
  kubevelaMoreCases,
  type KubeVelaCase,
} from '../../application/testdata/kubevela-cases.js';
import { packageRoot } from '../../controlplane/index.js';
import { KubeClient, type KubeObject } from '../../kube/index.js';
import { startTrellis, UP_READY_MS } from '../support/cli.js';
import { kubectl } from '../support/kubectl.js';
import { eventually } from '../support/namespace.js';
import { tourSteps } from '../support/tour.js';

const exec = promisify(execFile);

interface VelaStatus {
  status?: string;
  services?: { name: string; healthy?: boolean; message?: string }[];
  workflow?: { message?: string };
  appliedResources?: { apiVersion: string; kind: string; namespace?: string; name: string }[];
}
type App = KubeObject & { status?: VelaStatus };
type Container = {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  env?: unknown[];
  volumeMounts?: { name: string; mountPath: string }[];
};
type Workload = KubeObject & { spec?: { template?: { spec?: { containers?: Container[] } } } };

/**
 * What a container runs, without what the API server defaults (pull policy, termination message, …);
 * an empty list is no list (the API server does not keep `args: []`, which the `command` trait renders).
 */
const running = (c: Container) => {
  const list = <T>(l: T[] | undefined) => (l?.length ? l : undefined);
  const mounts = list(c.volumeMounts?.map((m) => `${m.name}:${m.mountPath}`));
  return { name: c.name, image: c.image, command: list(c.command), args: list(c.args), env: list(c.env), mounts };
};

/**
 * Issue 16's acceptance, as a user would do it: `trellis up` (once), KubeVela's definitions applied
 * unchanged with kubectl, then every example Application of ../shared/conformance/kubevela applied
 * with kubectl, each into its own namespace (several are all named `busybox`). A runnable one must
 * reach KubeVela's `status.status: running` with every service healthy, and the objects it runs are
 * the reviewed golden's (application/testdata/kubevela/): same kinds and names, same containers. One
 * Trellis cannot run is refused at admission with the message naming what (the `volumes` trait
 * KubeVela removed, the workflow step needing KubeVela's engine), and nothing of it is stored.
 * Then the Applications of application/testdata/kubevela-more (KubeVela's `storage` with each kind of
 * volume, its patch strategies on a webservice with its own env and volumes) the same way.
 */
describe('trellis up: every KubeVela example Application applied with kubectl converges or is refused by name', function () {
  this.timeout(600_000);
  const cases = kubevelaCases();
  let dir: string;
  let up: { child: ChildProcess; output: () => string };
  let kubeconfig: string;
  let kube: KubeClient;
  const run = (args: string[], input?: string) => kubectl(args, { kubeconfig, input });

  before(async function () {
    if (!existsSync(KUBEVELA)) this.skip();
    dir = await mkdtemp(path.join(os.tmpdir(), 'trellis-up-vela-'));
    const started = await startTrellis(['up', '--data-dir', path.join(dir, 'data')], /export KUBECONFIG=(\S+)/, {
      timeoutMs: UP_READY_MS,
    });
    up = started;
    kubeconfig = started.match[1]!;
    kube = await KubeClient.connect({ kubeconfig, fieldManager: 'test' });
    const applied = await run(['apply', '-f', path.join(KUBEVELA, 'definitions')]);
    assert.equal(applied.code, 0, `KubeVela's definitions apply unchanged: ${applied.stderr}`);
  });

  after(async () => {
    if (up) {
      const exited = new Promise((resolve) => up.child.once('exit', resolve));
      up.child.kill('SIGINT');
      await exited;
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('has 14 examples: 10 that run on one cluster, 4 refused', () => {
    assert.equal(cases.length, 14);
    assert.equal(cases.filter((c) => c.refused).length, 4);
  });

  it('README "Coming from KubeVela": steps 4 and 5, run verbatim in bash, print what the README says', async () => {
    const steps = tourSteps('kubevela-up-tour');
    assert.equal(steps[0], 'npx trellis up', 'step 3 is the trellis up this file started');
    assert.equal(steps.length - 1, TOUR.length, 'one expectation per further step');
    for (const [i, step] of steps.slice(1).entries()) {
      const { stdout } = await exec('bash', ['-euo', 'pipefail', '-c', `exec 2>&1\n${step}`], {
        cwd: packageRoot(),
        env: { ...process.env, KUBECONFIG: kubeconfig },
        maxBuffer: 16 * 1024 * 1024,
      }).catch((err: Error & { stdout?: string }) => {
        throw new Error(`step ${i + 4} failed: ${err.message}\n${err.stdout ?? ''}`, { cause: err });
      });
      try {
        TOUR[i]!(stdout);
      } catch (err) {
        throw new Error(`step ${i + 4}: ${(err as Error).message}\n--- it printed:\n${stdout}`, { cause: err });
      }
    }
  });

  // Then ours with KubeVela's definitions (application/testdata/kubevela-more): storage, patch strategies.
  for (const [i, c] of [...cases, ...kubevelaMoreCases()].entries()) {
    const ns = `vela-${i}`;
    const file = c.file ?? path.join(KUBEVELA, 'applications', c.name);
    // An example naming its namespace (workflow--basic-app.yaml: default) is applied there, as written.
    const where = () => c.objects[0]!.metadata.namespace ?? ns;
    const apply = async () => {
      if (!c.objects[0]!.metadata.namespace) assert.equal((await run(['create', 'namespace', ns])).code, 0);
      return run(c.objects[0]!.metadata.namespace ? ['apply', '-f', file] : ['apply', '-n', ns, '-f', file]);
    };

    if (c.refused) {
      it(`${c.name}: refused at admission, naming what Trellis cannot run; nothing stored`, async () => {
        const applied = await apply();
        assert.notEqual(applied.code, 0, `kubectl apply must fail: ${applied.stdout}`);
        assert.doesNotMatch(applied.stderr, /\n\s+at /, 'no stack trace');
        assert.match(applied.stderr, refusedAt(c), applied.stderr);
        const name = c.objects[0]!.metadata.name!;
        const got = await run(['get', 'app', '-n', where(), name]);
        assert.notEqual(got.code, 0, `Application ${name} must not be stored`);
        assert.match(got.stderr, /NotFound|not found/);
      });
      continue;
    }

    // trellis up has no volume provisioner: a pod claiming a PersistentVolumeClaim stays unschedulable, so such an
    // Application is applied (every object of its golden) but never healthy — as on any cluster without storage.
    const claims = goldenObjects(c).some((o) => o.kind === 'PersistentVolumeClaim');
    const until = claims ? 'is applied (its claims wait for a provisioner)' : 'reaches running with healthy services';
    it(`${c.name}: ${until}, running the golden's objects`, async () => {
      const applied = await apply();
      assert.equal(applied.code, 0, applied.stderr);
      const name = c.objects[0]!.metadata.name!;
      const components = (c.objects[0]!.spec as { components: { name: string }[] }).components.map((x) => x.name);
      const all = goldenObjects(c);
      const app = await eventually(
        async () => {
          const a = await kube.get<App>({
            apiVersion: 'core.oam.dev/v1beta1',
            kind: 'Application',
            namespace: ns,
            name,
          });
          const s = a.status;
          const listed = (o: KubeObject) =>
            s?.appliedResources?.some((r) => r.kind === o.kind && r.name === o.metadata.name);
          if (!all.every(listed)) return false;
          if (claims) return a;
          const healthy = s?.services?.filter((x) => x.healthy).map((x) => x.name) ?? [];
          return s?.status === 'running' && components.every((x) => healthy.includes(x)) && a;
        },
        {
          what: `Application ${ns}/${name} ${claims ? 'applied' : `running with ${components.join(', ')} healthy`}`,
          timeoutMs: 180_000,
          intervalMs: 500,
        },
      ).catch(async (err: Error) => {
        const a = await run(['get', 'app', '-n', ns, name, '-o', 'yaml']);
        throw new Error(`${err.message}\n${a.stdout}${a.stderr}`, { cause: err });
      });
      // appliedResources records the intent before the apply (controllers/application/reconcile.ts): with nothing
      // healthy to wait for, wait for the objects themselves.
      if (claims)
        return eventually(async () => (await assertApplied(all), true), {
          what: `the objects of ${ns}/${name} in the cluster, as the golden shows them`,
          timeoutMs: 120_000,
        });
      assert.equal(app.status!.services!.length, components.length);
      await assertApplied(all);
      const table = await run(['get', 'app', '-n', ns, name, '--no-headers']);
      assert.match(table.stdout, new RegExp(`^${name}\\s+${components[0]}\\s+\\S+\\s+running\\s+true\\s`));
    });

    /** The golden's objects are in the cluster: same kinds, names, containers and KubeVela labels. */
    const assertApplied = async (all: KubeObject[]) => {
      for (const expected of all) {
        const live = await kube.get<Workload>({
          apiVersion: expected.apiVersion,
          kind: expected.kind,
          namespace: ns,
          name: expected.metadata.name!,
        });
        const wanted = expected as Workload;
        assert.deepEqual(
          (live.spec?.template?.spec?.containers ?? []).map(running),
          (wanted.spec?.template?.spec?.containers ?? []).map(running),
          `${expected.kind}/${expected.metadata.name}: the containers the golden shows`,
        );
        const volumes = (o: Workload) =>
          (o.spec?.template?.spec as { volumes?: { name: string }[] } | undefined)?.volumes;
        assert.deepEqual(
          volumes(live)?.map((v) => v.name),
          volumes(wanted)?.map((v) => v.name),
          'the volumes',
        );
        for (const key of ['app.oam.dev/name', 'app.oam.dev/component', 'workload.oam.dev/type'])
          assert.equal(live.metadata.labels?.[key], expected.metadata.labels?.[key], `label ${key}`);
      }
    };
  }
});

/** What README "Coming from KubeVela" steps 4 and 5 print (step 3 is the `trellis up` this file runs). */
const TOUR: ((out: string) => void)[] = [
  (out) => {
    assert.match(out, /^application\.core\.oam\.dev\/busybox created$/m);
    assert.match(out, /^application\.core\.oam\.dev\/busybox condition met$/m);
    assert.match(out, /^NAME\s+COMPONENT\s+TYPE\s+PHASE\s+HEALTHY\s+STATUS\s+AGE$/m);
    assert.match(out, /^busybox\s+busybox\s+webservice\s+running\s+true\s/m);
  },
  (out) => {
    assert.match(out, /^application\.core\.oam\.dev\/wired created$/m);
    assert.match(out, /^application\.core\.oam\.dev\/wired condition met$/m);
    assert.match(out, /^db\.default\.svc\.cluster\.local$/m, "api's DB_HOST is db's output");
  },
];

/** The objects a golden lists (its `# …` lines are comments), in the Application's namespace. */
function goldenObjects(c: KubeVelaCase): KubeObject[] {
  const docs = parseAllDocuments(readFileSync(c.golden!, 'utf8')).map((d) => d.toJS() as KubeObject);
  const objects = docs.filter((o) => o?.kind);
  assert.ok(objects.length, `${c.golden} lists objects`);
  return objects;
}

/** What the webhook's refusal must say: the code and the thing Trellis cannot run, by name. */
function refusedAt(c: KubeVelaCase): RegExp {
  if (c.refused!.code === 'TRL_APP_WORKFLOW_STEP')
    return /TRL_APP_WORKFLOW_STEP.*spec\.workflow\.steps\[0\]\.type.*"custom-apply-component"/s;
  return /TRL_ADMISSION_DEFINITION_MISSING.*spec\.components\[0\]\.traits\[0\]\.type.*"volumes"/s;
}
