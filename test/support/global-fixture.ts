/**
 * Mocha global fixture: one real control plane for the whole test run (see DESIGN.md §6). An
 * interrupted run (Ctrl-C, SIGTERM) still stops it; a killed one is cleaned up by the reaper.
 */
import { startTestCluster, stopTestCluster } from './cluster.js';

let stopping: Promise<void> | undefined;
const stopOnce = () => (stopping ??= stopTestCluster());

export async function mochaGlobalSetup(): Promise<void> {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\n[control plane] ${signal}: stopping\n`);
      void stopOnce().finally(() => process.exit(130));
    });
  }
  await startTestCluster(process.env);
}

export async function mochaGlobalTeardown(): Promise<void> {
  await stopOnce();
}
