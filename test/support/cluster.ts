import { canonicalJson } from '../../lib/hash.js';
import {
  ADMIN_USER,
  ControlPlane,
  ensureBinaries,
  gatewayApiCrds,
  KUBE_TOOL,
  KWOK_TOOL,
  KWOK_CRDS_TOOL,
  userCacheDir,
  type AuditEvent,
  type Binaries,
} from '../../controlplane/index.js';
import { KubeClient, type KubeObject } from '../../kube/index.js';
import {
  CHART_ACTIVATOR_SERVICE_ACCOUNT,
  CHART_DASHBOARD_SERVICE_ACCOUNT,
  CHART_NAMESPACE,
  CHART_SERVICE_ACCOUNT,
  CHART_WEBHOOK_SERVICE_ACCOUNT,
  helmBinary,
  renderChart,
} from './chart.js';

/** What integration tests share: one control plane per test run. */
export interface TestCluster {
  controlPlane: ControlPlane;
  kubeconfig: string;
  /** Admin client (field manager `trellis-test`). */
  kube: KubeClient;
  /**
   * Kubeconfig of the chart's ServiceAccount (a real token), bound to the chart's RBAC as rendered by
   * Helm. Run controllers with this in tests: any `forbidden` they hit fails the test run.
   */
  controllerKubeconfig: string;
  /** Kubeconfig of the chart's webhook ServiceAccount (read-only RBAC); `startTestWebhook` reads as it. */
  webhookKubeconfig: string;
  /** Kubeconfig of the chart's activator ServiceAccount: run the activator and autoscaler as it. */
  activatorKubeconfig: string;
  /** The Helm binary, for tests of the chart. */
  helm: string;
  /** The control plane's binaries (etcd, kube-apiserver, ...), for tests that need a cluster of their own. */
  binaries: Binaries;
  /** Requests of the chart's ServiceAccounts (controllers, webhook, activator) that the API server answered with 403 so far. */
  forbiddenRequests(): Promise<AuditEvent[]>;
}

let current: TestCluster | undefined;

/** The running test cluster; throws when the global fixture did not start one. */
export function testCluster(): TestCluster {
  if (!current) throw new Error('no test control plane: run through `npm test` (the mocha global fixture starts it)');
  return current;
}

const log = (line: string) => process.stderr.write(`[control plane] ${line}\n`);

/**
 * Builds (or reuses) the binaries, starts the control plane with simulated nodes, installs the
 * chart's CRDs. Reads its settings from the environment given: TRELLIS_CONTROL_PLANE_BIN (prebuilt
 * kube binaries), TRELLIS_KWOK_BIN (prebuilt kwok), TRELLIS_GATEWAY_API_DIR (a folder holding
 * gateway-api-crds.yaml), TRELLIS_TEST_NODES (simulated nodes, default 2). The Gateway API CRDs are
 * installed too (the rollout trait writes HTTPRoutes), as a cluster with a gateway has them.
 * `auditAdminWrites`: the audit log also holds the admin identity's writes (kube-controller-manager's,
 * kwok's, the caller's own), e.g. to tell which writer a controller's 409 met. @default false
 */
export async function startTestCluster(
  env: NodeJS.ProcessEnv,
  options: { auditAdminWrites?: boolean } = {},
): Promise<TestCluster> {
  const cacheDir = userCacheDir(env);
  const started = Date.now();
  const kube = await ensureBinaries(KUBE_TOOL, {
    cacheDir,
    env,
    onProgress: log,
    ...(env.TRELLIS_CONTROL_PLANE_BIN ? { prebuiltDir: env.TRELLIS_CONTROL_PLANE_BIN } : {}),
  });
  const kwok = await ensureBinaries(KWOK_TOOL, {
    cacheDir,
    env,
    onProgress: log,
    ...(env.TRELLIS_KWOK_BIN ? { prebuiltDir: env.TRELLIS_KWOK_BIN } : {}),
  });
  const kwokCrds = await ensureBinaries(KWOK_CRDS_TOOL, {
    cacheDir,
    env,
    onProgress: log,
    ...(env.TRELLIS_KWOK_BIN ? { prebuiltDir: env.TRELLIS_KWOK_BIN } : {}),
  });
  const helm = await helmBinary(env, log);
  const gatewayApi = await gatewayApiCrds({
    cacheDir,
    env,
    onProgress: log,
    ...(env.TRELLIS_GATEWAY_API_DIR ? { prebuiltDir: env.TRELLIS_GATEWAY_API_DIR } : {}),
  });
  const chartUsers = [
    CHART_SERVICE_ACCOUNT,
    CHART_WEBHOOK_SERVICE_ACCOUNT,
    CHART_ACTIVATOR_SERVICE_ACCOUNT,
    CHART_DASHBOARD_SERVICE_ACCOUNT,
  ].map((sa) => `system:serviceaccount:${CHART_NAMESPACE}:${sa}`);
  const controlPlane = new ControlPlane({
    binaries: { ...kube, ...kwok, ...kwokCrds },
    nodePath: process.execPath,
    nodes: Number(env.TRELLIS_TEST_NODES ?? 2),
    onProgress: log,
    auditUsers: chartUsers,
    ...(options.auditAdminWrites ? { auditWriters: [ADMIN_USER] } : {}),
  });
  await controlPlane.start();
  const client = await KubeClient.connect({ kubeconfig: controlPlane.kubeconfigPath, fieldManager: 'trellis-test' });
  const controllerKubeconfig = await installChartIdentity(client, controlPlane, helm);
  await installCrds(client, gatewayApi);
  const webhookKubeconfig = await controlPlane.kubeconfigForServiceAccount(
    CHART_NAMESPACE,
    CHART_WEBHOOK_SERVICE_ACCOUNT,
  );
  const activatorKubeconfig = await controlPlane.kubeconfigForServiceAccount(
    CHART_NAMESPACE,
    CHART_ACTIVATOR_SERVICE_ACCOUNT,
  );
  log(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s — kubeconfig ${controlPlane.kubeconfigPath}`);
  current = {
    controlPlane,
    kubeconfig: controlPlane.kubeconfigPath,
    kube: client,
    controllerKubeconfig,
    webhookKubeconfig,
    activatorKubeconfig,
    helm,
    binaries: { ...kube, ...kwok, ...kwokCrds },
    // A write into a namespace being deleted is refused with 403 by NamespaceLifecycle, not by RBAC: not a missing rule.
    // A request that impersonates another identity (GitSync's spec.serviceAccountName) is audited under
    // the chart's user with `impersonatedUser` set: its refusal is that identity's, not a missing chart
    // rule. A refused impersonation itself (no `impersonate` right) has no impersonatedUser and counts.
    forbiddenRequests: async () =>
      refusedForGood(
        (await controlPlane.auditEvents()).filter((e) => chartUsers.includes(e.user.username) && !e.impersonatedUser),
      ).filter((e) => !/because it is being terminated/.test(e.responseStatus?.message ?? '')),
  };
  return current;
}

/**
 * The 403s among `events` that were never followed by a success of the same request (verb,
 * resource, namespace). A restarted API server refuses requests for a moment while its RBAC
 * authorizer catches up; a missing rule refuses every time.
 */
function refusedForGood(events: AuditEvent[]): AuditEvent[] {
  const what = (e: AuditEvent) =>
    JSON.stringify([
      e.verb,
      e.objectRef?.apiGroup,
      e.objectRef?.resource,
      e.objectRef?.subresource,
      e.objectRef?.namespace,
    ]);
  return events.filter(
    (e, i) =>
      e.responseStatus?.code === 403 &&
      !events.slice(i + 1).some((later) => what(later) === what(e) && (later.responseStatus?.code ?? 0) < 400),
  );
}

const RBAC_KINDS = new Set(['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding']);

/**
 * Renders the chart with real Helm and installs what defines Trellis' identity: the CRDs (as the
 * chart templates them) and the ServiceAccount with its RBAC. Returns a kubeconfig for that
 * ServiceAccount, so controllers in tests run with exactly the chart's permissions.
 */
async function installChartIdentity(kube: KubeClient, controlPlane: ControlPlane, helm: string): Promise<string> {
  const objects = await renderChart(helm);
  const crds = objects.filter((o) => o.kind === 'CustomResourceDefinition');
  if (!crds.length) throw new Error('the chart rendered no CRDs');
  await installCrds(kube, crds);
  await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: CHART_NAMESPACE } });
  const rbac = objects.filter((o) => RBAC_KINDS.has(o.kind));
  for (const obj of rbac) await kube.apply(obj);
  await waitForAggregation(kube, rbac);
  return controlPlane.kubeconfigForServiceAccount(CHART_NAMESPACE, CHART_SERVICE_ACCOUNT);
}

type ClusterRole = KubeObject & {
  rules?: unknown[];
  aggregationRule?: { clusterRoleSelectors?: { matchLabels?: Record<string, string> }[] };
};

/**
 * Waits until every aggregated ClusterRole among `rbac` holds the rules of the chart's roles it
 * selects: kube-controller-manager fills it asynchronously, and controllers started before that
 * are refused (a test's informer, refused once and then stopped, failed the run's RBAC audit).
 */
async function waitForAggregation(kube: KubeClient, rbac: KubeObject[]): Promise<void> {
  const roles = rbac.filter((o) => o.kind === 'ClusterRole') as ClusterRole[];
  for (const aggregated of roles.filter((r) => r.aggregationRule)) {
    const selects = (r: ClusterRole) =>
      (aggregated.aggregationRule!.clusterRoleSelectors ?? []).some((sel) =>
        Object.entries(sel.matchLabels ?? {}).every(([k, v]) => r.metadata.labels?.[k] === v),
      );
    const wanted = roles.filter(selects).flatMap((r) => (r.rules ?? []).map((rule) => canonicalJson(rule)));
    for (let i = 0; ; i++) {
      const live = await kube.get<ClusterRole>({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        name: aggregated.metadata.name!,
      });
      const have = new Set((live.rules ?? []).map((rule) => canonicalJson(rule)));
      if (wanted.every((rule) => have.has(rule))) return;
      if (i >= 300) throw new Error(`ClusterRole ${aggregated.metadata.name} was not aggregated within 30 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function installCrds(kube: KubeClient, crds: KubeObject[]): Promise<void> {
  for (const crd of crds) await kube.apply(crd);
  for (const crd of crds) await waitForEstablished(kube, crd.metadata.name!);
  kube.mapper.invalidate();
}

export async function stopTestCluster(): Promise<void> {
  const cluster = current;
  current = undefined;
  cluster?.kube.close();
  await cluster?.controlPlane.stop();
}

/** Waits until the CRD's Established condition is True. */
export async function waitForEstablished(kube: KubeClient, name: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const crd = await kube.get<KubeObject & { status?: { conditions?: { type: string; status: string }[] } }>({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      name,
    });
    if (crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`CRD ${name} was not Established within 30 s`);
}
