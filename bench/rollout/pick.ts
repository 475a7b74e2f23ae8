import { Route } from '../../serverless/activator/route.js';

/**
 * The weighted choice alone: ns per `Route.pick()` with one target (the single-revision path, the
 * reference) and with 2 and 4 weighted targets, `calls` picks each, best of `repeats` runs (the
 * least disturbed by other processes).
 */
export function measurePick(calls: number, repeats = 5): { targets: number; nsPerPick: number }[] {
  const splits = [[100], [90, 10], [70, 20, 5, 5]];
  return splits.map((percents) => {
    const route = new Route('bench/pick', { queueSize: 1, queueTimeoutMs: 1 }, () => true);
    route.setTargets(percents.map((percent, i) => ({ revision: `bench/pick-${i}`, percent })));
    let best = Infinity;
    let sink = 0;
    for (let r = 0; r < repeats; r++) {
      const start = process.hrtime.bigint();
      for (let i = 0; i < calls; i++) sink += route.pick()!.length;
      best = Math.min(best, Number(process.hrtime.bigint() - start) / calls);
    }
    if (sink === 0) throw new Error('no pick');
    return { targets: percents.length, nsPerPick: best };
  });
}
