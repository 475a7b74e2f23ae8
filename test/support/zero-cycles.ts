import http from 'node:http';
import type { Autoscaler } from '../../serverless/autoscaler/autoscaler.js';
import { eventually } from './namespace.js';
import { request, type ReplicaHistory } from './serverless.js';

export interface ZeroCyclesResult {
  cycles: number;
  /** Requests sent, and those not answered 200 (with what they got). */
  sent: number;
  failures: string[];
  /** Wall time per cycle (burst → answered → back at zero), ms. */
  cycleMs: number[];
}

/**
 * Scale-to-zero cycles under load, counting every request: each cycle sends a burst of 20 requests
 * (waking the function from zero), waits for their answers, then fires 4 requests at the moment the
 * autoscaler decides to go to zero (the drain starts, and 2, 10, 30 ms later) and 3 when replicas 0
 * is written (the last instance being removed), and waits until it is at zero again. Shared by
 * test/integration/serverless-zero-loss.test.ts (a few cycles) and bench:serverless (up to 1,000).
 *
 * @example
 *   const r = await zeroCycles({ autoscaler: runtime.autoscaler, history, url, cycles: 8 })
 *   r.failures   // []
 */
export async function zeroCycles(options: {
  autoscaler: Autoscaler;
  history: ReplicaHistory;
  /** The function's URL for a path (through the activator). */
  url: (path: string) => string;
  cycles: number;
  /** Called after each cycle (progress). */
  onCycle?: (done: number) => void;
}): Promise<ZeroCyclesResult> {
  const { autoscaler, history, url } = options;
  const agent = new http.Agent({ keepAlive: true });
  const outcomes: string[] = [];
  const cycleMs: number[] = [];
  const inFlight = new Set<Promise<void>>();
  const fire = (label: string) => {
    const p = request(url(`/sleep?ms=40&${label}`), { agent }).then(
      (r) => void outcomes.push(r.status === 200 ? '200' : `${label}: ${r.status} ${r.body}`),
      (err: Error) => void outcomes.push(`${label}: ${err.message}`),
    );
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  };
  let armed = { decision: false, write: false };
  // At the moment the autoscaler decides to go to zero (the drain starts), and a little later.
  autoscaler.onDecision((d) => {
    if (!armed.decision || d.desired !== 0 || d.current === 0) return;
    armed.decision = false;
    for (const delay of [0, 2, 10, 30]) setTimeout(() => fire(`at-zero-decision+${delay}ms`), delay);
  });
  // The moment replicas 0 is written: the last instance is being removed.
  history.onChange = (replicas) => {
    if (!armed.write || replicas !== 0) return;
    armed.write = false;
    for (let i = 0; i < 3; i++) fire('at-zero-write');
  };
  try {
    for (let cycle = 0; cycle < options.cycles; cycle++) {
      const t0 = performance.now();
      for (let i = 0; i < 20; i++) fire(`burst-${cycle}`);
      while (inFlight.size) await Promise.all([...inFlight]);
      armed = { decision: true, write: true };
      await eventually(async () => !armed.decision && !armed.write && inFlight.size === 0, {
        what: `cycle ${cycle}: a scale to zero and the requests fired around it`,
        timeoutMs: 30_000,
        intervalMs: 20,
      });
      cycleMs.push(performance.now() - t0);
      options.onCycle?.(cycle + 1);
    }
  } finally {
    armed = { decision: false, write: false };
    history.onChange = undefined;
    agent.destroy();
  }
  return { cycles: options.cycles, sent: outcomes.length, failures: outcomes.filter((o) => o !== '200'), cycleMs };
}
