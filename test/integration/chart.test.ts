import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { testCluster } from '../support/cluster.js';
import { CHART_ACTIVATOR_SERVICE_ACCOUNT, CHART_NAMESPACE, helm, renderChart } from '../support/chart.js';
import { startTrellis } from '../support/cli.js';
import { eventually } from '../support/namespace.js';
import { waitUntilWebhookGone } from '../support/webhook.js';
import { packageRoot } from '../../controlplane/index.js';
import type { KubeObject } from '../../kube/index.js';

const chartDir = () => path.join(packageRoot(), 'charts', 'trellis');
type Rule = { apiGroups?: string[]; resources?: string[]; verbs?: string[] };
type Webhook = {
  name: string;
  clientConfig: { caBundle?: string; service?: { name: string; namespace: string; port: number; path: string } };
  objectSelector?: unknown;
};
type PodSpec = {
  serviceAccountName: string;
  containers: { args: string[]; env?: { name: string }[]; ports: { name: string; containerPort: number }[] }[];
  volumes: { name: string; secret?: { secretName: string } }[];
};
const decode = (b64: string) => Buffer.from(b64, 'base64').toString('utf8');
const find = (objects: KubeObject[], kind: string, component?: string) =>
  objects.filter(
    (o) => o.kind === kind && (!component || o.metadata.labels?.['app.kubernetes.io/component'] === component),
  );

describe('chart: charts/trellis', () => {
  it('passes `helm lint`', async () => {
    const { stdout } = await helm(testCluster().helm, ['lint', chartDir()]);
    assert.match(stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  it('grants no wildcard verbs, resources or API groups', async () => {
    const objects = await renderChart(testCluster().helm, { 'serviceMonitor.enabled': true });
    const rules = objects
      .filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role')
      .flatMap((o) => ((o.rules as Rule[] | undefined) ?? []).map((r) => ({ role: o.metadata.name, ...r })));
    assert.ok(rules.length > 10, 'the chart defines RBAC rules');
    const wild = rules.filter((r) =>
      [...(r.verbs ?? []), ...(r.resources ?? []), ...(r.apiGroups ?? [])].includes('*'),
    );
    assert.deepEqual(wild, []);
  });

  it('marks CRDs to be kept on uninstall unless crds.keep=false, and leaves them out with crds.install=false', async () => {
    const h = testCluster().helm;
    const kept = (await renderChart(h)).filter((o) => o.kind === 'CustomResourceDefinition');
    assert.ok(kept.length >= 8);
    assert.ok(kept.every((c) => c.metadata.annotations?.['helm.sh/resource-policy'] === 'keep'));
    const notKept = (await renderChart(h, { 'crds.keep': false })).filter((o) => o.kind === 'CustomResourceDefinition');
    assert.ok(notKept.every((c) => !c.metadata.annotations?.['helm.sh/resource-policy']));
    assert.deepEqual(
      (await renderChart(h, { 'crds.install': false })).filter((o) => o.kind === 'CustomResourceDefinition'),
      [],
    );
  });

  it('lets the controller impersonate ServiceAccounts only, and passes gitops.defaultServiceAccount to it', async () => {
    const h = testCluster().helm;
    const rules = (await renderChart(h))
      .filter((o) => o.kind === 'ClusterRole')
      .flatMap((o) => (o.rules as Rule[] | undefined) ?? []);
    const impersonating = rules.filter((r) => r.verbs?.includes('impersonate'));
    assert.deepEqual(impersonating, [{ apiGroups: [''], resources: ['serviceaccounts'], verbs: ['impersonate'] }]);
    const args = async (values: Record<string, string>) =>
      (
        (await renderChart(h, values)).find(
          (o) => o.kind === 'Deployment' && /controller/.test(o.metadata.name!),
        ) as unknown as { spec: { template: { spec: { containers: { args: string[] }[] } } } }
      ).spec.template.spec.containers[0]!.args;
    assert.ok(!(await args({})).some((a) => a.startsWith('--gitops-default-service-account')));
    assert.ok(
      (await args({ 'gitops.defaultServiceAccount': 'gitops-deployer' })).includes(
        '--gitops-default-service-account=gitops-deployer',
      ),
    );
  });

  it("gives every Function pod the queue-proxy from the chart's own image unless activator.queueProxy says otherwise", async () => {
    const h = testCluster().helm;
    const args = async (values: Record<string, string | boolean>) =>
      (
        (await renderChart(h, values)).find(
          (o) => o.kind === 'Deployment' && /controller/.test(o.metadata.name!),
        ) as unknown as { spec: { template: { spec: { containers: { args: string[]; image: string }[] } } } }
      ).spec.template.spec.containers[0]!;
    const plain = await args({});
    assert.ok(
      plain.args.includes(`--functions-queue-proxy-image=${plain.image}`),
      `the Trellis image: ${plain.args.join(' ')}`,
    );
    assert.ok(
      (await args({ 'activator.queueProxy.image': 'mirror.example/trellis:1' })).args.includes(
        '--functions-queue-proxy-image=mirror.example/trellis:1',
      ),
    );
    const off = await args({ 'activator.queueProxy.enabled': false });
    assert.ok(!off.args.some((a) => a.startsWith('--functions-queue-proxy-image')), 'off: no sidecar');
  });

  it('runs the controller with controller.nodeOptions as NODE_OPTIONS under its memory limit (none when empty)', async () => {
    const h = testCluster().helm;
    const container = async (values: Record<string, string>) =>
      (
        (await renderChart(h, values)).find(
          (o) => o.kind === 'Deployment' && /controller/.test(o.metadata.name!),
        ) as unknown as {
          spec: {
            template: {
              spec: {
                containers: { env?: { name: string; value: string }[]; resources: { limits: { memory: string } } }[];
              };
            };
          };
        }
      ).spec.template.spec.containers[0]!;
    const plain = await container({});
    // bench:reconcile runs the controller with both, read from values.yaml: the figures are the chart's.
    assert.deepEqual(plain.env, [{ name: 'NODE_OPTIONS', value: '--max-semi-space-size=16' }]);
    assert.equal(plain.resources.limits.memory, '512Mi');
    assert.equal((await container({ 'controller.nodeOptions': '' })).env, undefined);
  });

  it('splits the work between controller.replicas when controller.shards is set (one leader does all by default)', async () => {
    const h = testCluster().helm;
    const controller = async (values: Record<string, string | number | boolean>) =>
      (await renderChart(h, values)).find(
        (o) => o.kind === 'Deployment' && /controller/.test(o.metadata.name!),
      ) as unknown as { spec: { replicas: number; template: { spec: { containers: { args: string[] }[] } } } };
    const plain = await controller({});
    assert.ok(!plain.spec.template.spec.containers[0]!.args.some((a) => a.startsWith('--shards')));
    const sharded = await controller({
      'controller.replicas': 3,
      'controller.shards': 12,
      'controller.leaderElection': false,
    });
    assert.equal(sharded.spec.replicas, 3);
    assert.ok(sharded.spec.template.spec.containers[0]!.args.includes('--shards=12'));
    assert.ok(
      sharded.spec.template.spec.containers[0]!.args.includes('--leader-elect'),
      'shard Leases live where the leader Lease does',
    );
  });

  it('reads Secrets only by name for GitSync credentials (only in gitops.credentialNamespaces when set); the activator has no Secrets and no impersonation', async () => {
    const h = testCluster().helm;
    const secretRules = (objects: KubeObject[]) =>
      objects
        .filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role')
        .flatMap((o) =>
          ((o.rules as Rule[] | undefined) ?? [])
            .filter((r) => r.resources?.includes('secrets'))
            .map((r) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name} ${r.verbs!.join(',')}`),
        );
    assert.deepEqual(secretRules(await renderChart(h)), ['ClusterRole//trellis-gitops get']);
    assert.deepEqual(secretRules(await renderChart(h, { 'gitops.credentialNamespaces': '{team-a,team-b}' })), [
      'Role/team-a/trellis-gitops-credentials get',
      'Role/team-b/trellis-gitops-credentials get',
    ]);
    const objects = await renderChart(h);
    const bound = objects.filter(
      (o) =>
        (o.kind === 'ClusterRoleBinding' || o.kind === 'RoleBinding') &&
        (o.subjects as { name: string }[]).some((s) => s.name === CHART_ACTIVATOR_SERVICE_ACCOUNT),
    );
    const roles = bound.map((b) => b.roleRef as { kind: string; name: string });
    assert.deepEqual(
      roles.map((r) => `${r.kind}/${r.name}`).sort(),
      ['ClusterRole/trellis-activator', 'Role/trellis-activator'],
      'the activator is bound to its own roles only',
    );
    const activatorRules = objects
      .filter((o) => roles.some((r) => r.kind === o.kind && r.name === o.metadata.name))
      .flatMap((o) => (o.rules as Rule[]) ?? []);
    assert.deepEqual(
      activatorRules.filter((r) => r.resources?.includes('secrets') || r.verbs?.includes('impersonate')),
      [],
    );
    const writes = activatorRules
      .filter((r) => r.verbs?.some((v) => ['create', 'update', 'patch', 'delete'].includes(v)))
      .flatMap((r) => r.resources ?? []);
    assert.deepEqual(
      [...new Set(writes)].sort(),
      ['deployments/scale', 'endpointslices', 'events', 'leases', 'pods'],
      "it writes only replicas, drained pods, Events, its Leases and the Functions' Service endpoints",
    );
  });

  it('runs its workloads as non-root with a read-only root filesystem and probes', async () => {
    const deployments = (await renderChart(testCluster().helm)).filter(
      (o) => o.kind === 'Deployment',
    ) as (KubeObject & {
      spec: { template: { spec: { securityContext: Record<string, unknown>; containers: Record<string, unknown>[] } } };
    })[];
    assert.ok(deployments.length >= 1);
    for (const d of deployments) {
      const pod = d.spec.template.spec;
      assert.equal(pod.securityContext.runAsNonRoot, true, `${d.metadata.name} runs as non-root`);
      for (const c of pod.containers) {
        assert.equal(
          (c.securityContext as { readOnlyRootFilesystem?: boolean }).readOnlyRootFilesystem,
          true,
          `${d.metadata.name}/${c.name} has a read-only root filesystem`,
        );
        assert.ok(c.livenessProbe && c.readinessProbe, `${d.metadata.name}/${c.name} has probes`);
      }
    }
  });

  it('installs into a cluster with `helm install`, its pods become Ready, and `helm uninstall` removes it', async function () {
    this.timeout(600_000);
    const { helm: h, kubeconfig, kube } = testCluster();
    const release = 'trellis-chart-test';
    const namespace = 'trellis-chart-test';
    // The fixture already installed the CRDs (owned by it), and other tests install the built-in
    // definitions; test/integration/chart-fresh.test.ts installs both into an empty cluster.
    await helm(h, [
      'install',
      release,
      chartDir(),
      '--kubeconfig',
      kubeconfig,
      '--namespace',
      namespace,
      '--create-namespace',
      '--set',
      'crds.install=false',
      '--set',
      'definitions.install=false',
      '--wait',
      '--timeout',
      '480s',
    ]);
    try {
      const deployments = await kube.list<
        KubeObject & { status?: { readyReplicas?: number }; spec: { replicas: number } }
      >('apps/v1', 'Deployment', { namespace });
      assert.ok(deployments.items.length >= 1);
      for (const d of deployments.items)
        assert.equal(d.status?.readyReplicas, d.spec.replicas, `${d.metadata.name} is ready`);
      const { stdout } = await helm(h, ['status', release, '--kubeconfig', kubeconfig, '--namespace', namespace]);
      assert.match(stdout, /STATUS: deployed/);
    } finally {
      // Not `--wait`: see below.
      await helm(h, ['uninstall', release, '--kubeconfig', kubeconfig, '--namespace', namespace]);
      // Its webhook configurations (failure policy Fail) pointed at pods that only kwok "runs".
      await waitUntilWebhookGone(kube);
    }
    const gone = async (apiVersion: string, kind: string, name: string, ns?: string) =>
      (await kube.getOrNull({ apiVersion, kind, name, ...(ns ? { namespace: ns } : {}) })) === undefined;
    await eventually(
      async () =>
        (await gone('apps/v1', 'Deployment', `${release}-controller`, namespace)) &&
        gone('apps/v1', 'Deployment', `${release}-webhook`, namespace),
      { what: 'the Deployments to be removed' },
    );
    assert.ok(await gone('admissionregistration.k8s.io/v1', 'ValidatingWebhookConfiguration', `${release}-validating`));
    // Kubernetes' clusterrole-aggregation-controller may re-create a deleted aggregated ClusterRole:
    // a deletion of one of its member roles queues a server-side apply of the aggregate, which creates
    // it again when it lands after Helm's delete. What comes back carries no Helm labels (and no
    // aggregation rule); the chart README tells users to delete it. Helm's own object must be gone.
    const aggregate = `${release}-controller`;
    await eventually(
      async () => {
        const role = await kube.getOrNull({
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'ClusterRole',
          name: aggregate,
        });
        return (
          !role ||
          (!role.metadata.labels?.['app.kubernetes.io/instance'] &&
            (role.metadata.managedFields as { manager?: string }[] | undefined)?.every(
              (f) => f.manager === 'clusterrole-aggregation-controller',
            ))
        );
      },
      { what: "Helm's aggregated ClusterRole to be removed" },
    );
    await kube.delete({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', name: aggregate });
    await kube.delete({ apiVersion: 'v1', kind: 'Namespace', name: namespace });
  });

  describe('the admission webhook', () => {
    it('serves a generated certificate for its Service, signed by the CA every webhook configuration trusts', async () => {
      const objects = await renderChart(testCluster().helm);
      const [secret] = find(objects, 'Secret', 'webhook') as (KubeObject & { data: Record<string, string> })[];
      const [service] = find(objects, 'Service', 'webhook') as (KubeObject & {
        spec: { ports: { name: string; port: number; targetPort: string }[] };
      })[];
      const [deployment] = find(objects, 'Deployment', 'webhook') as (KubeObject & {
        spec: { template: { spec: PodSpec } };
      })[];
      assert.ok(secret && service && deployment, 'a Secret, a Service and a Deployment for the webhook');
      const ca = new X509Certificate(decode(secret.data['ca.crt']!));
      const cert = new X509Certificate(decode(secret.data['tls.crt']!));
      assert.ok(cert.verify(ca.publicKey), 'the serving certificate is signed by the CA');
      assert.equal(
        cert.checkHost(`${service.metadata.name}.${CHART_NAMESPACE}.svc`),
        `${service.metadata.name}.${CHART_NAMESPACE}.svc`,
      );

      const configs = objects.filter(
        (o) => o.kind === 'MutatingWebhookConfiguration' || o.kind === 'ValidatingWebhookConfiguration',
      );
      assert.equal(configs.length, 2);
      const webhooks = configs.flatMap((c) => c.webhooks as Webhook[]);
      assert.ok(webhooks.length >= 5);
      for (const w of webhooks) {
        assert.equal(w.clientConfig.caBundle, secret.data['ca.crt'], `${w.name} trusts the chart's CA`);
        assert.deepEqual(
          {
            name: w.clientConfig.service?.name,
            namespace: w.clientConfig.service?.namespace,
            port: w.clientConfig.service?.port,
          },
          { name: service.metadata.name, namespace: CHART_NAMESPACE, port: 443 },
          `${w.name} calls the chart's Service`,
        );
      }
      // The Service's 443 reaches the container's HTTPS port; the pod mounts the Secret it serves.
      const pod = deployment.spec.template.spec;
      const https443 = service.spec.ports.find((p) => p.port === 443);
      assert.ok(pod.containers[0]!.ports.some((p) => p.name === https443?.targetPort));
      assert.ok(pod.volumes.some((v) => v.secret?.secretName === secret.metadata.name));
      // Built-in definitions are installed with the release, before a webhook pod can answer.
      assert.ok(
        webhooks.find((w) => w.name.startsWith('validate-definitions'))?.objectSelector,
        'the definitions webhook skips the built-in definitions',
      );
    });

    it('with cert-manager: an Issuer and a Certificate for the Service, the CA injected, no generated Secret', async () => {
      const objects = await renderChart(testCluster().helm, { 'webhook.certManager.enabled': true });
      assert.deepEqual(find(objects, 'Secret', 'webhook'), []);
      const [certificate] = find(objects, 'Certificate') as (KubeObject & {
        spec: { secretName: string; dnsNames: string[]; issuerRef: { kind: string; name: string } };
      })[];
      const [issuer] = find(objects, 'Issuer');
      assert.ok(certificate && issuer);
      assert.deepEqual(certificate.spec.issuerRef, { kind: 'Issuer', name: issuer.metadata.name });
      assert.ok(certificate.spec.dnsNames.includes(`trellis-webhook.${CHART_NAMESPACE}.svc`));
      for (const config of objects.filter((o) => o.kind.endsWith('WebhookConfiguration'))) {
        assert.equal(
          config.metadata.annotations?.['cert-manager.io/inject-ca-from'],
          `${CHART_NAMESPACE}/${certificate.metadata.name}`,
        );
        assert.ok((config.webhooks as Webhook[]).every((w) => !w.clientConfig.caBundle));
      }
      const withIssuer = await renderChart(testCluster().helm, {
        'webhook.certManager.enabled': true,
        'webhook.certManager.issuerRef.kind': 'ClusterIssuer',
        'webhook.certManager.issuerRef.name': 'corp-ca',
      });
      assert.deepEqual(find(withIssuer, 'Issuer'), []);
      assert.deepEqual(
        (find(withIssuer, 'Certificate')[0] as KubeObject & { spec: { issuerRef: unknown } }).spec.issuerRef,
        { kind: 'ClusterIssuer', name: 'corp-ca' },
      );
    });

    it("runs with the Deployment's arguments under its read-only ServiceAccount and answers TLS as its Service name", async function () {
      this.timeout(120_000);
      const objects = await renderChart(testCluster().helm);
      const [secret] = find(objects, 'Secret', 'webhook') as (KubeObject & { data: Record<string, string> })[];
      const [deployment] = find(objects, 'Deployment', 'webhook') as (KubeObject & {
        spec: { template: { spec: PodSpec } };
      })[];
      const pod = deployment!.spec.template.spec;
      assert.equal(pod.serviceAccountName, 'trellis-webhook');
      const dir = await mkdtemp(path.join(os.tmpdir(), 'trellis-chart-webhook-'));
      try {
        for (const key of ['tls.crt', 'tls.key']) await writeFile(path.join(dir, key), decode(secret!.data[key]!));
        // The container's arguments, with the mount path replaced by the folder here and free ports.
        const args = pod.containers[0]!.args.map((a) =>
          a.replace('/etc/trellis/webhook-tls', dir).replace(/^--(port|metrics-port)=\d+$/, '--$1=0'),
        );
        const { child, match } = await startTrellis(
          [...args, '--bind-address=127.0.0.1', '--kubeconfig', testCluster().webhookKubeconfig],
          /listening on (\d+)/,
        );
        try {
          const servername = `trellis-webhook.${CHART_NAMESPACE}.svc`;
          const status = await new Promise<number>((resolve, reject) => {
            const req = https.request(
              {
                host: '127.0.0.1',
                port: Number(match[1]),
                path: '/validate-components',
                method: 'POST',
                servername,
                ca: decode(secret!.data['ca.crt']!),
                headers: { 'content-type': 'application/json' },
              },
              (res) => {
                res.resume();
                resolve(res.statusCode ?? 0);
              },
            );
            req.on('error', reject);
            req.end('{}');
          });
          // The TLS handshake verified the certificate against the chart's CA for the Service's name;
          // the handler refused a body that is no AdmissionReview.
          assert.equal(status, 400);
        } finally {
          child.kill('SIGTERM');
          await new Promise((r) => child.once('exit', r));
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  });

  describe('the dashboard (dashboard.enabled)', () => {
    it('is off by default', async () => {
      const objects = await renderChart(testCluster().helm);
      assert.deepEqual(
        objects.filter((o) => o.metadata.labels?.['app.kubernetes.io/component'] === 'dashboard').map((o) => o.kind),
        [],
      );
    });

    it('runs --authenticate as its own ServiceAccount: reads what it shows, patches only AppConfigs, reviews tokens and access', async () => {
      const objects = await renderChart(testCluster().helm, { 'dashboard.enabled': true });
      const [deployment] = find(objects, 'Deployment', 'dashboard') as (KubeObject & {
        spec: { template: { spec: PodSpec } };
      })[];
      const [service] = find(objects, 'Service', 'dashboard') as (KubeObject & {
        spec: { ports: { port: number; targetPort: string }[] };
      })[];
      assert.ok(deployment && service);
      const pod = deployment.spec.template.spec;
      assert.equal(pod.serviceAccountName, 'trellis-dashboard');
      assert.ok(pod.containers[0]!.args.includes('--authenticate'), 'users come with bearer tokens');
      assert.equal(service.spec.ports[0]?.port, 80);
      const [role] = find(objects, 'ClusterRole', 'dashboard') as (KubeObject & { rules: Rule[] })[];
      const writes = role!.rules.filter((r) => r.verbs?.some((v) => !['get', 'list', 'watch'].includes(v)));
      assert.deepEqual(writes, [
        {
          apiGroups: ['core.oam.dev'],
          resources: ['applicationconfigurations'],
          verbs: ['get', 'list', 'watch', 'patch'],
        },
      ]);
      assert.ok(
        !role!.rules.some((r) => r.resources?.includes('secrets')),
        'no Secrets: nothing the dashboard shows needs them',
      );
      const bindings = find(objects, 'ClusterRoleBinding', 'dashboard') as (KubeObject & {
        roleRef: { name: string };
      })[];
      assert.deepEqual(bindings.map((b) => b.roleRef.name).sort(), ['system:auth-delegator', 'trellis-dashboard']);
      const impersonates = objects
        .filter((o) => o.kind === 'ClusterRole' && o.metadata.labels?.['app.kubernetes.io/component'] === 'dashboard')
        .flatMap((o) => (o.rules as Rule[]) ?? [])
        .some((r) => r.verbs?.includes('impersonate'));
      assert.equal(impersonates, false, 'ADR 0018: SubjectAccessReviews, not impersonation');
    });
  });

  describe('the serverless activator', () => {
    it("runs with the Deployment's arguments as its own ServiceAccount, behind a Service on port 80", async function () {
      this.timeout(120_000);
      const objects = await renderChart(testCluster().helm, { 'activator.domain': 'fn.example.com' });
      const [deployment] = find(objects, 'Deployment', 'activator') as (KubeObject & {
        spec: { template: { spec: PodSpec } };
      })[];
      const [service] = find(objects, 'Service', 'activator') as (KubeObject & {
        spec: { ports: { name: string; port: number; targetPort: string }[] };
      })[];
      assert.ok(deployment && service);
      const pod = deployment.spec.template.spec;
      assert.equal(pod.serviceAccountName, 'trellis-activator', 'its own ServiceAccount (rbac-activator.yaml)');
      assert.ok(
        pod.containers[0]!.args.includes('--no-function-controller'),
        'the Function controller runs with the controllers',
      );
      assert.equal(service.spec.ports.find((p) => p.port === 80)?.targetPort, 'http');
      assert.ok(pod.containers[0]!.ports.some((p) => p.name === 'http'));
      // The container's arguments with loopback addresses and free ports.
      const args = pod.containers[0]!.args.map((a) =>
        a.replace(/^--(listen|health-addr|peer-addr)=0\.0\.0\.0:\d+$/, '--$1=127.0.0.1:0'),
      );
      assert.ok(args.includes('--peer-addr=127.0.0.1:0'), 'replicas talk to each other');
      assert.deepEqual(
        pod.containers[0]!.env?.map((e) => e.name),
        ['POD_IP', 'TRELLIS_PEER_TOKEN'],
      );
      const pdb = find(objects, 'PodDisruptionBudget', 'activator');
      assert.equal(pdb.length, 1, 'two replicas by default, kept through drains');
      const { child, match } = await startTrellis(
        [...args, '--kubeconfig', testCluster().activatorKubeconfig],
        /activator listening on (http:\/\/\S+)/,
        { env: { TRELLIS_PEER_TOKEN: 'chart-test' } },
      );
      try {
        const res = await fetch(`${match[1]}/default/nothing-here/`);
        assert.equal(res.status, 404);
        assert.match(await res.text(), /TRL_ACTIVATOR_NO_FUNCTION.*default\/nothing-here/);
        // activator.domain reached the process: it is what the activator routes by.
        assert.match(
          await (await fetch(`${match[1]}/`)).text(),
          /TRL_ACTIVATOR_NO_ROUTE.*<name>\.<namespace>\.fn\.example\.com/,
        );
      } finally {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
    });
  });
});
