import type { KubeClient, KubeObject } from '../../kube/index.js';
import { ServerlessRuntime } from '../../cli/serverless-runtime.js';
import { firstRevision, ReplicaHistory } from '../../test/support/serverless.js';
import { freePort } from '../../lib/ports.js';
import { HELLO_DIR, startHandler, stopChild, timeToFirstByte, waitListening } from './processes.js';

export interface ColdSample {
  /** Request sent at zero → first byte of its answer, through the whole runtime. */
  coldMs: number;
  /** Request sent → a watch sees the Deployment's replicas leave zero (the scale decision written). */
  scaleWrittenMs: number;
  /** Reference: spawn `node handler.js` → it accepts a connection → first byte of a GET. */
  bareMs: number;
}

const NAMESPACE = 'bench-serverless';
const NAME = 'hello';
/** Short windows, so an idle function is back at zero about two seconds after its last request. */
const FAST_SCALE = { stableWindowSeconds: 1, panicWindowSeconds: 0.5, idleGraceSeconds: 0.5 };

/**
 * Cold start through the real runtime: activator, autoscaler and local runner against the real
 * API server (Deployment → ReplicaSet → Pod → local process → EndpointSlice → probe), with
 * examples/function-hello's handler. Each cycle waits until the function is at zero with no
 * process left, sends one request, and then measures the reference: the same handler started bare.
 */
export async function measureCold(kube: KubeClient, cycles: number): Promise<ColdSample[]> {
  await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } });
  const runtime = new ServerlessRuntime({
    kube,
    backend: 'local',
    namespace: NAMESPACE,
    tickMs: 100,
    runner: { nodeName: 'trellis-local-runner-bench' },
  });
  await runtime.start();
  const history = new ReplicaHistory(kube, NAMESPACE, firstRevision(NAME));
  try {
    await kube.apply({
      apiVersion: 'serverless.trellis.dev/v1alpha1',
      kind: 'Function',
      metadata: { name: NAME, namespace: NAMESPACE },
      spec: { handler: 'node handler.js', workingDir: HELLO_DIR, scale: FAST_SCALE },
    });
    await until(
      async () =>
        (await kube.getOrNull({
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          namespace: NAMESPACE,
          name: firstRevision(NAME),
        })) !== undefined,
      'the Deployment',
      30_000,
    );
    await history.start();
    const url = `${runtime.url}/${NAMESPACE}/${NAME}/`;
    // One call first: the handler's files are in the page cache for every cycle and the reference alike.
    await timeToFirstByte(url);
    const samples: ColdSample[] = [];
    for (let i = 0; i < cycles; i++) {
      await until(
        async () =>
          history.current === 0 &&
          runtime.activator.traffic(`${NAMESPACE}/${firstRevision(NAME)}`)?.readyCount === 0 &&
          (await pods(kube)) === 0,
        'the function at zero with no process left',
        60_000,
      );
      let scaled = 0;
      history.onChange = (r) => (r > 0 && !scaled ? (scaled = performance.now()) : undefined);
      const sent = performance.now();
      const cold = await timeToFirstByte(url);
      if (cold.status !== 200) throw new Error(`cold request answered ${cold.status}`);
      await until(async () => scaled > 0, 'the watch to see the scale-up', 30_000);
      history.onChange = undefined;
      samples.push({ coldMs: cold.ms, scaleWrittenMs: scaled - sent, bareMs: await bareStart() });
    }
    return samples;
  } finally {
    await history.stop();
    await kube
      .delete({ apiVersion: 'serverless.trellis.dev/v1alpha1', kind: 'Function', namespace: NAMESPACE, name: NAME })
      .catch(() => undefined);
    await until(async () => (await pods(kube)) === 0, 'the runner to stop the handler processes', 30_000).catch(
      () => undefined,
    );
    await runtime.stop();
  }
}

/** The reference: `node handler.js` from spawn until its first answer (connect polled every 1 ms). */
async function bareStart(): Promise<number> {
  const port = await freePort();
  const start = performance.now();
  const child = startHandler(port);
  try {
    await waitListening(port, 1);
    const asked = performance.now();
    const first = await timeToFirstByte(`http://127.0.0.1:${port}/`);
    return asked - start + first.ms;
  } finally {
    await stopChild(child);
  }
}

async function pods(kube: KubeClient): Promise<number> {
  return (
    await kube.list<KubeObject>('v1', 'Pod', {
      namespace: NAMESPACE,
      labelSelector: `serverless.trellis.dev/function=${NAME}`,
    })
  ).items.length;
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
