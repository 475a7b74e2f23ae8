import { registerControllers, type ControllersOptions } from '../../controllers/index.js';
import { KubeClient } from '../../kube/index.js';
import { silentLogger, type Logger } from '../../lib/log.js';
import { Manager } from '../../runtime/index.js';
import { FIELD_MANAGER } from '../../controllers/field-managers.js';
import { CHART_NAMESPACE, CHART_SERVICE_ACCOUNT } from './chart.js';
import { testCluster } from './cluster.js';
import { eventually } from './namespace.js';
import type { KubeObject } from '../../kube/index.js';

/**
 * Runs every Trellis controller in this process, watching one namespace, for the tests of a
 * `describe`: started before each test, stopped after.
 *
 * @example
 *   const ns = useNamespace()
 *   const controllers = useControllers(ns)
 */
export function useControllers(
  ns: { name: string; beforeDelete: (() => Promise<void>)[] },
  options: ControllersOptions & { logger?: Logger } = {},
): { manager: Manager | undefined; kube: KubeClient | undefined } {
  const handle: { manager: Manager | undefined; kube: KubeClient | undefined } = {
    manager: undefined,
    kube: undefined,
  };
  beforeEach(async function () {
    // Its own connection, field manager and identity (the chart's ServiceAccount), like the real controller.
    handle.kube = await KubeClient.connect({
      kubeconfig: testCluster().controllerKubeconfig,
      fieldManager: FIELD_MANAGER,
    });
    handle.manager = new Manager({
      kube: handle.kube,
      logger: options.logger ?? silentLogger,
      concurrency: 2,
      gracefulShutdownMs: 5000,
    });
    registerControllers(handle.manager, { namespace: ns.name, ...options });
    await handle.manager.start();
  });
  // Stopped before the namespace is deleted: Events about objects in a terminating namespace are refused.
  const stop = async () => {
    await handle.manager?.stop();
    handle.kube?.close();
    handle.manager = undefined;
  };
  ns.beforeDelete.push(stop);
  return handle;
}

/**
 * Waits until the chart's ServiceAccount may `verb` the `resource` of `group` (a SubjectAccessReview
 * as the admin): a ClusterRole aggregated into the controller's role takes effect a moment after it
 * is applied, and a controller refused meanwhile fails the run (see global-fixture.ts).
 *
 * @example
 *   await kube.apply(clusterRoleForBars)
 *   await waitUntilControllerMay('example.com', 'bars', ['list', 'watch', 'patch'])
 */
export async function waitUntilControllerMay(
  group: string,
  resource: string,
  verbs = ['get', 'list', 'watch', 'create', 'patch', 'delete'],
): Promise<void> {
  const { kube } = testCluster();
  for (const verb of verbs) {
    await eventually(
      async () => {
        const review = await kube.create<KubeObject & { status?: { allowed?: boolean } }>({
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SubjectAccessReview',
          metadata: {},
          spec: {
            user: `system:serviceaccount:${CHART_NAMESPACE}:${CHART_SERVICE_ACCOUNT}`,
            resourceAttributes: { group, resource, verb, namespace: 'default' },
          },
        } as KubeObject);
        return review.status?.allowed === true;
      },
      { what: `the controller may ${verb} ${resource}.${group}` },
    );
  }
}
