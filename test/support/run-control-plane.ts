/**
 * Child process for the teardown tests: starts a control plane from the given binaries, prints
 * `READY <json>` with the component pids and data folder, then waits to be stopped or killed.
 * Usage: node --import tsx test/support/run-control-plane.ts <binaries-json>
 */
import { ControlPlane } from '../../controlplane/index.js';

const binaries = JSON.parse(process.argv[2] ?? '{}') as Record<string, string>;
const cp = new ControlPlane({ binaries, nodePath: process.execPath });
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    void cp.stop().then(() => process.exit(130));
  });
}
await cp.start();
process.stdout.write(`READY ${JSON.stringify({ pids: cp.processes(), dir: cp.directory })}\n`);
setInterval(() => {}, 1 << 30);
