/**
 * Child process of `bench:serverless`: the activator alone, in a process of its own (as in the
 * runtime), in front of one already-running instance. Started with
 * `node --import tsx activator-host.ts <instance port>`; sends `{ port }` over IPC once the
 * instance answered the activator's probe, and stops on `stop`.
 */
import { Activator } from '../../serverless/activator/activator.js';
import { functionConfig } from '../../serverless/function/config.js';

const instancePort = Number(process.argv[2]);
if (!Number.isInteger(instancePort) || instancePort <= 0) throw new Error(`usage: activator-host.ts <instance port>, got ${process.argv[2]}`);

const activator = new Activator({ domain: 'fn.bench' });
await activator.start();
activator.upsertFunction(functionConfig({ apiVersion: 'serverless.trellis.dev/v1alpha1', kind: 'Function', metadata: { name: 'hello', namespace: 'bench' }, spec: { handler: 'node handler.js' } }));
activator.setEndpoints('bench/hello', [{ host: '127.0.0.1', port: instancePort, ready: true, terminating: false }]);
while (activator.traffic('bench/hello')!.readyCount === 0) await new Promise((r) => setTimeout(r, 5));
process.send!({ port: activator.port });
process.on('message', (m) => {
  if (m === 'stop') void activator.stop().then(() => process.exit(0));
});
