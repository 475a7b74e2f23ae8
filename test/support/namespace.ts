import { randomBytes } from 'node:crypto';
import { testCluster } from './cluster.js';

/**
 * Gives each test of the enclosing `describe` a fresh namespace, deleted afterwards.
 *
 * @example
 *   const ns = useNamespace()
 *   it('creates', async () => { await kube.apply({ ..., metadata: { namespace: ns.name } }) })
 */
export function useNamespace(prefix = 't'): { name: string; beforeDelete: (() => Promise<void>)[] } {
  const ns = { name: '', beforeDelete: [] as (() => Promise<void>)[] };
  beforeEach(async function () {
    ns.name = `${prefix}-${randomBytes(4).toString('hex')}`;
    await testCluster().kube.apply({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: ns.name, labels: { 'trellis.dev/test': 'true' } },
    });
  });
  afterEach(async function () {
    // What runs in the namespace (e.g. controllers, see useControllers) stops before it is deleted.
    for (const stop of ns.beforeDelete) await stop();
    if (ns.name) await testCluster().kube.delete({ apiVersion: 'v1', kind: 'Namespace', name: ns.name });
  });
  return ns;
}

/** Polls `fn` until it returns a value other than undefined/false, or fails with the last value seen. */
export async function eventually<T>(
  fn: () => Promise<T | undefined | false>,
  options: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let lastError: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out waiting for ${options.what ?? 'condition'}${lastError ? `: ${String(lastError)}` : ''}`,
      );
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 100));
  }
}
