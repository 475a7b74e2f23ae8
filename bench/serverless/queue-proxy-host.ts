/**
 * Child process of `bench:serverless`: `trellis queue-proxy`'s QueueProxy (the kubernetes backend's
 * sidecar, serverless/meter/queue-proxy.ts) in front of one instance, as in a pod. Started with
 * `node --import tsx queue-proxy-host.ts <instance port>`; sends `{ port }` over IPC, stops on `stop`.
 */
import { QueueProxy } from '../../serverless/meter/queue-proxy.js';

const instancePort = Number(process.argv[2]);
if (!Number.isInteger(instancePort) || instancePort <= 0)
  throw new Error(`usage: queue-proxy-host.ts <instance port>, got ${process.argv[2]}`);

const proxy = new QueueProxy({
  host: '127.0.0.1',
  port: 0,
  meterPort: 0,
  upstream: { host: '127.0.0.1', port: instancePort },
  timeoutMs: 300_000,
});
await proxy.start();
process.send!({ port: proxy.port });
process.on('message', (m) => {
  if (m !== 'stop') return;
  void proxy.stop(0).then(() => process.exit(0));
});
