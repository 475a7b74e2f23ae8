/**
 * Child process of `bench:serverless`: the activator alone, in a process of its own (as in the
 * runtime), in front of one already-running instance. Started with
 * `node --import tsx activator-host.ts <instance port>`; sends `{ port }` over IPC once the
 * instance answered the activator's probe, and stops on `stop`. It serves `bench/hello` by one
 * revision, and `bench/split` split 90/10 between two revisions of the same instance (so the two
 * differ only in the weighted choice).
 */
import { Activator } from '../../serverless/activator/activator.js';
import { functionConfig } from '../../serverless/function/config.js';

const instancePort = Number(process.argv[2]);
if (!Number.isInteger(instancePort) || instancePort <= 0)
  throw new Error(`usage: activator-host.ts <instance port>, got ${process.argv[2]}`);

const activator = new Activator({ domain: 'fn.bench' });
await activator.start();
const config = (name: string) =>
  functionConfig({
    apiVersion: 'serverless.trellis.dev/v1alpha1',
    kind: 'Function',
    metadata: { name, namespace: 'bench' },
    spec: { handler: 'node handler.js' },
  });
const endpoint = [{ host: '127.0.0.1', port: instancePort, ready: true, terminating: false }];
activator.upsertFunction(config('hello'));
activator.setEndpoints('bench/hello', endpoint);
for (const rev of ['split-a', 'split-b']) {
  activator.upsertRevision(config(rev));
  activator.setEndpoints(`bench/${rev}`, endpoint);
}
activator.setRoute(
  'bench/split',
  [
    { revision: 'bench/split-a', percent: 90 },
    { revision: 'bench/split-b', percent: 10 },
  ],
  config('split'),
);
for (const key of ['bench/hello', 'bench/split-a', 'bench/split-b'])
  while (activator.traffic(key)!.readyCount === 0) await new Promise((r) => setTimeout(r, 5));
process.send!({ port: activator.port });
process.on('message', (m) => {
  if (m === 'stop') void activator.stop().then(() => process.exit(0));
});
