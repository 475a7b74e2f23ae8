import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Waits until the machine's 1-minute load average is below `below` (or `maxWaitMs` passed), so a
 * long bench can build its scene while the machine is busy and time only what it measures once the
 * machine is quiet. `below` undefined or ≤ 0: returns at once. Answers the load when it returned,
 * to be printed beside the figure.
 *
 * @example
 *   const load = await waitForQuiet(Number(process.env.BENCH_QUIET_LOAD), { what: 're-sync' })
 */
export async function waitForQuiet(
  below: number | undefined,
  {
    what,
    maxWaitMs = 3_600_000,
    log = console.error,
  }: { what: string; maxWaitMs?: number; log?: (line: string) => void },
): Promise<number> {
  const now = () => os.loadavg()[0] ?? 0;
  if (!below || below <= 0 || now() < below) return now();
  log(`[bench] ${what}: waiting for the 1-minute load (${now().toFixed(1)}) to fall below ${below}`);
  const deadline = Date.now() + maxWaitMs;
  let said = Date.now();
  while (now() >= below && Date.now() < deadline) {
    await sleep(5_000);
    if (Date.now() - said > 60_000) {
      log(`[bench] ${what}: load ${now().toFixed(1)}, still waiting`);
      said = Date.now();
    }
  }
  log(`[bench] ${what}: load ${now().toFixed(1)}${now() >= below ? ' (gave up waiting)' : ''}, measuring`);
  return now();
}
