/** The project's only door to the Kubernetes API. See DESIGN.md §2. */
export * from './types.js';
export * from './errors.js';
export {
  Connection,
  connectionError,
  serviceAccountUser,
  type ConnectionOptions,
  type Impersonation,
  type RequestOptions,
  type RequestObserver,
  type RequestRecord,
  type WriteFence,
} from './connection.js';
export { ResourceMapper, type ResourceInfo } from './mapper.js';
export * from './client.js';
export * from './informer.js';
export { compactForCache, hasFieldSets, LAST_APPLIED_ANNOTATION, type ManagerEntry } from './cache-transform.js';
export { Backoff, sleep } from './backoff.js';
export * from './lease.js';
export {
  loadKubeconfig,
  kubeconfigFiles,
  type ResolvedKubeconfig,
  type KubeconfigSource,
  type ClusterConfig,
  type UserConfig,
  type ExecConfig,
} from './kubeconfig.js';
export { serverVersion, waitForServer, type ServerVersion, type WaitForServerOptions } from './server.js';
export { setFinalizer } from './finalizers.js';
