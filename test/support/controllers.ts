import { registerControllers, type ControllersOptions } from '../../controllers/index.js';
import { KubeClient } from '../../kube/index.js';
import { silentLogger, type Logger } from '../../lib/log.js';
import { Manager } from '../../runtime/index.js';
import { FIELD_MANAGER } from '../../controllers/field-managers.js';
import { testCluster } from './cluster.js';

/**
 * Runs every Trellis controller in this process, watching one namespace, for the tests of a
 * `describe`: started before each test, stopped after.
 *
 * @example
 *   const ns = useNamespace()
 *   const controllers = useControllers(ns)
 */
export function useControllers(ns: { name: string; beforeDelete: (() => Promise<void>)[] }, options: ControllersOptions & { logger?: Logger } = {}): { manager: Manager | undefined; kube: KubeClient | undefined } {
  const handle: { manager: Manager | undefined; kube: KubeClient | undefined } = { manager: undefined, kube: undefined };
  beforeEach(async function () {
    // Its own connection, field manager and identity (the chart's ServiceAccount), like the real controller.
    handle.kube = await KubeClient.connect({ kubeconfig: testCluster().controllerKubeconfig, fieldManager: FIELD_MANAGER });
    handle.manager = new Manager({ kube: handle.kube, logger: options.logger ?? silentLogger, concurrency: 2, gracefulShutdownMs: 5000 });
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
