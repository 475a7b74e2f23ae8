import type { KubeClient, KubeObject } from '../../kube/index.js';
import { eventually } from '../../test/support/namespace.js';
import { firstRevision, ReplicaHistory, startServerless, testFunction } from '../../test/support/serverless.js';
import { zeroCycles, type ZeroCyclesResult } from '../../test/support/zero-cycles.js';

/**
 * Scale-to-zero cycles under load (issue 13: 1,000 cycles, 0 lost): the runtime as the suite runs it
 * (activator and autoscaler under the activator's account, the Function controller, the local
 * runner; tick 50 ms), a handler that dies at once on SIGTERM (only the drain handshake keeps its
 * requests), and {@link zeroCycles}' requests — a burst from zero, then requests fired at the
 * scale-to-zero decision and at the write of replicas 0. test/integration/serverless-zero-loss.test.ts
 * runs 8 of the same cycles.
 */
export async function measureZeroCycles(
  kube: KubeClient,
  cycles: number,
  progress: (done: number) => void,
): Promise<ZeroCyclesResult> {
  const namespace = `bench-zero-${Date.now().toString(36)}`;
  await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  const runtime = await startServerless(namespace, { tickMs: 50 });
  const history = new ReplicaHistory(kube, namespace, firstRevision('cycle'));
  try {
    await kube.apply(
      testFunction(namespace, 'cycle', {
        scale: { stableWindowSeconds: 0.6, panicWindowSeconds: 0.2, idleGraceSeconds: 0.2 },
        env: [{ name: 'ON_SIGTERM', value: 'exit' }],
      }),
    );
    await eventually(
      async () =>
        (await kube.getOrNull<KubeObject>({
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          namespace,
          name: firstRevision('cycle'),
        })) !== undefined,
      { what: 'the Deployment' },
    );
    await history.start();
    const url = (path: string) => `${runtime.url}/${namespace}/cycle${path}`;
    return await zeroCycles({ autoscaler: runtime.autoscaler, history, url, cycles, onCycle: progress });
  } finally {
    await history.stop();
    await runtime.close();
    await kube.delete({ apiVersion: 'v1', kind: 'Namespace', name: namespace });
  }
}
