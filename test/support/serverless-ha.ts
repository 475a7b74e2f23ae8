import type { ChildProcess } from 'node:child_process';
import { freePort } from '../../lib/ports.js';
import { LeaseLock } from '../../kube/index.js';
import { CHART_NAMESPACE } from './chart.js';
import { startTrellis } from './cli.js';
import { testCluster } from './cluster.js';
import { eventually } from './namespace.js';
import {
  deleteFunctions,
  FailoverClient,
  request,
  startFunctionController,
  startRunner,
  testFunction,
  type FailoverOutcome,
} from './serverless.js';

/** One `trellis serverless` replica as a process of its own (the built CLI), as the chart runs it. */
export interface ReplicaProcess {
  identity: string;
  url: string;
  child: ChildProcess;
  output: () => string;
}

/**
 * Starts `trellis serverless` as one of several replicas for `namespace` as the chart runs the
 * activator: its own ServiceAccount, `--no-function-controller` (the Function controller runs with the
 * controllers: start one with {@link startFunctionController}); local backend, runner elsewhere, peer
 * API on loopback.
 */
export async function startReplicaProcess(namespace: string, identity: string): Promise<ReplicaProcess> {
  const peerPort = await freePort();
  const args = [
    'serverless',
    '--no-function-controller',
    '--kubeconfig',
    testCluster().activatorKubeconfig,
    '-n',
    namespace,
    '--backend',
    'local',
    '--listen',
    '127.0.0.1:0',
    '--health-addr',
    '0',
    '--tick',
    '0.1',
  ];
  args.push(
    '--leader-elect',
    '--leader-election-namespace',
    CHART_NAMESPACE,
    '--leader-election-id',
    `trellis-serverless-${namespace}`,
    '--lease-duration',
    '3',
    '--identity',
    identity,
    '--peer-addr',
    `127.0.0.1:${peerPort}`,
  );
  const started = await startTrellis(args, /activator listening on (http:\/\/\S+) /, {
    env: { TRELLIS_PEER_TOKEN: `token-${namespace}` },
    timeoutMs: 60_000,
  });
  return { identity, url: started.match[1]!, child: started.child, output: started.output };
}

/** The identity holding the fleet's leader Lease. */
export async function leaderOf(namespace: string): Promise<string | undefined> {
  return (
    await new LeaseLock(testCluster().kube, {
      namespace: CHART_NAMESPACE,
      name: `trellis-serverless-${namespace}`,
    }).get()
  )?.spec?.holderIdentity;
}

export interface KillResult {
  /** Requests sent, and answered 200 in the end. */
  sent: number;
  ok: number;
  /** Requests that ended without a 200 (after the retries the client may make). */
  lost: FailoverOutcome[];
  /** Requests sent again to the other activator because the killed one refused the connection (never reached it). */
  refused: number;
  /** Requests that were inside the killed activator when it died (cut before their answer): sent again only as GETs may be. */
  cut: number;
  /** Requests the client had in flight to the killed activator at the moment of the kill. */
  inFlightAtKill: number;
  /** Requests cut by the replica that lived (none may be). */
  cutBySurvivor: number;
  p50: number;
  p99: number;
  killed: string;
}

/**
 * Two activator replicas (processes), one function with two instances; open-loop GETs at `rate`
 * per second for `seconds`, spread over both activators by a {@link FailoverClient}; at `killAt`
 * seconds the leader gets SIGKILL. What the client saw is the result: every request is answered
 * except those the killed activator held when it died (counted as `cut`, sent again because GET is
 * idempotent).
 */
export async function killDuringLoad(
  namespace: string,
  options: { rate: number; seconds: number; killAt: number },
): Promise<KillResult> {
  const { kube } = testCluster();
  const runner = await startRunner();
  const functions = await startFunctionController(namespace);
  const replicas: ReplicaProcess[] = [];
  try {
    replicas.push(
      await startReplicaProcess(namespace, `${namespace}-a`),
      await startReplicaProcess(namespace, `${namespace}-b`),
    );
    await kube.apply(testFunction(namespace, 'ha', { scale: { min: 2 }, concurrency: { target: 100 } }));
    for (const r of replicas)
      await eventually(async () => (await request(`${r.url}/${namespace}/ha/`)).status === 200, {
        what: `the function answering through ${r.identity}`,
        timeoutMs: 60_000,
      });
    const leader = await eventually(() => leaderOf(namespace), { what: 'a leader' });
    const victim = replicas.find((r) => r.identity === leader)!;
    const failover = new FailoverClient(
      replicas.map((r) => r.url),
      true,
    );
    const outcomes: (FailoverOutcome & { ms: number })[] = [];
    const inFlight = new Set<Promise<void>>();
    let inFlightAtKill = 0;
    const total = Math.round(options.rate * options.seconds);
    const start = performance.now();
    let killed = false;
    for (let sent = 0; sent < total;) {
      const elapsed = performance.now() - start;
      if (!killed && elapsed >= options.killAt * 1000) {
        killed = true;
        inFlightAtKill = failover.inFlight[replicas.indexOf(victim)]!;
        victim.child.kill('SIGKILL');
      }
      const due = Math.min(total, Math.floor((elapsed * options.rate) / 1000) + 1);
      for (; sent < due; sent++) {
        const t0 = performance.now();
        const p = failover
          .get(`/${namespace}/ha/sleep?ms=2`)
          .then((o) => void outcomes.push({ ...o, ms: performance.now() - t0 }));
        inFlight.add(p);
        void p.finally(() => inFlight.delete(p));
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    await Promise.all(inFlight);
    failover.close();
    const latencies = outcomes.map((o) => o.ms).sort((a, b) => a - b);
    const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0;
    return {
      sent: total,
      ok: outcomes.filter((o) => o.status === 200).length,
      lost: outcomes.filter((o) => o.status !== 200),
      refused: outcomes.reduce((n, o) => n + o.refused, 0),
      cut: outcomes.reduce((n, o) => n + o.cut, 0),
      inFlightAtKill,
      cutBySurvivor: failover.cutBy[1 - replicas.indexOf(victim)]!,
      p50: pct(50),
      p99: pct(99),
      killed: victim.identity,
    };
  } finally {
    await deleteFunctions(namespace);
    for (const r of replicas) {
      if (r.child.exitCode === null && r.child.signalCode === null) {
        r.child.kill('SIGTERM');
        await new Promise((resolve) => r.child.once('exit', resolve));
      }
    }
    await functions.stop();
    await runner.stop();
  }
}
