/**
 * Mocha global fixture: one real control plane for the whole test run (see DESIGN.md §6), and the
 * native CUE evaluator every test's CueEngine uses (test/support/cue-evaluator.ts). An
 * interrupted run (Ctrl-C, SIGTERM) still stops it; a killed one is cleaned up by the reaper.
 */
import { startTestCluster, stopTestCluster, testCluster } from './cluster.js';
import { prepareCueEvaluator } from './cue-evaluator.js';

let stopping: Promise<void> | undefined;
const stopOnce = () => (stopping ??= stopTestCluster());

export async function mochaGlobalSetup(): Promise<void> {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\n[control plane] ${signal}: stopping\n`);
      void stopOnce().finally(() => process.exit(130));
    });
  }
  // Both build with Go when their cache is cold; the evaluator is small (about 40 s of CPU).
  await Promise.all([startTestCluster(process.env), prepareCueEvaluator(process.env)]);
}

export async function mochaGlobalTeardown(): Promise<void> {
  await stopOnce();
}

/**
 * Root hook, after all tests: the chart's ServiceAccount (as which controllers run in tests) must
 * never have been refused by the API server. A `forbidden` means the chart's RBAC lacks a rule; the
 * run fails and lists the refused requests.
 */
export const mochaHooks = {
  async afterAll(): Promise<void> {
    const denied = await testCluster().forbiddenRequests();
    if (!denied.length) return;
    const lines = [
      ...new Set(denied.map((e) => `${e.verb} ${e.requestURI}: ${e.responseStatus?.message ?? 'forbidden'}`)),
    ];
    throw new Error(
      `the chart's ServiceAccount was refused ${denied.length} request(s) — add the rules to charts/trellis/templates/rbac.yaml:\n  ${lines.slice(0, 30).join('\n  ')}`,
    );
  },
};
