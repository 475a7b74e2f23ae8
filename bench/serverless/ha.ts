import type { KubeClient } from '../../kube/index.js';
import { killDuringLoad, type KillResult } from '../../test/support/serverless-ha.js';

/**
 * Activator HA under load: `kills` times, two `trellis serverless` replicas (processes, local
 * runner, real API server) serve one function at two instances; GETs at `rate` per second for
 * `seconds`, spread over both, and the leader gets SIGKILL at `killAt` s. Each run in a namespace of
 * its own (deleted after). What the client saw is the result (ADR 0013: only requests inside the
 * killed replica are cut, and GETs among them are sent again).
 */
export async function measureKills(
  kube: KubeClient,
  options: { kills: number; rate: number; seconds: number; killAt: number },
): Promise<KillResult[]> {
  const results: KillResult[] = [];
  for (let i = 0; i < options.kills; i++) {
    const namespace = `bench-hakill-${Date.now().toString(36)}-${i}`;
    await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
    try {
      results.push(await killDuringLoad(namespace, options));
    } finally {
      await kube.delete({ apiVersion: 'v1', kind: 'Namespace', name: namespace });
    }
  }
  return results;
}
