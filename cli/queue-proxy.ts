import { createLogger } from '../lib/log.js';
import { QUEUE_METER_PORT, QUEUE_PROXY_PORT, QueueProxy } from '../serverless/meter/queue-proxy.js';
import { parse } from './args.js';
import type { Command } from './command.js';
import { UsageError } from './command.js';
import { abortable, runUntilStopped } from './lifecycle.js';

const usage = `trellis queue-proxy — the sidecar that meters a Function's pod (kubernetes backend)

Usage: trellis queue-proxy --upstream-port <port> [options]

Runs beside the function's container in every pod of a Function revision on the kubernetes backend
(the Function controller adds it when given --queue-proxy-image; docs/adr/0017-instance-meter.md).
Every request to the pod passes it: it forwards to the function on 127.0.0.1 over a keep-alive pool,
counts the requests that did not come through an activator (so a warm Function's Service can point
at its pods directly and the autoscaler still sees them), answers 504 after --timeout-seconds, and
answers the pod's readiness probe by probing the function. Not meant to be run by hand.

Options:
  --upstream-port <port>  the function container's port, on 127.0.0.1 (required)
  --port <port>           port clients and activators call (default ${QUEUE_PROXY_PORT})
  --meter-port <port>     port of the meter (GET /) and readiness (GET /ready) (default ${QUEUE_METER_PORT})
  --address <host>        address both ports listen on (default 0.0.0.0: the pod's interfaces)
  --timeout-seconds <s>   the Function's spec.timeoutSeconds: a longer request gets a 504 (default 300)
  --probe-path <path>     the function's readiness path (HTTP GET); a TCP connect when absent
  --log-level <level>     debug, info, warn, error (default info; TRELLIS_LOG_LEVEL)`;

function portOf(name: string, value: string | undefined, fallback?: number): number {
  const port = value === undefined ? fallback : Number(value);
  if (port === undefined) throw new UsageError(`--${name} is required`);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--${name} must be a port number, got "${value}"`);
  return port;
}

export const queueProxyCommand: Command = {
  usage,
  async run(args, io) {
    const { values } = parse(
      args,
      {
        'upstream-port': { type: 'string' },
        port: { type: 'string' },
        'meter-port': { type: 'string' },
        address: { type: 'string' },
        'timeout-seconds': { type: 'string' },
        'probe-path': { type: 'string' },
        'log-level': { type: 'string' },
      },
      { positionals: false },
    );
    const upstreamPort = portOf('upstream-port', values['upstream-port']);
    const timeoutSeconds = Number(values['timeout-seconds'] ?? 300);
    if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0)
      throw new UsageError(`--timeout-seconds must be a positive number, got "${values['timeout-seconds']}"`);
    const probePath = values['probe-path'];
    if (probePath !== undefined && !probePath.startsWith('/'))
      throw new UsageError(`--probe-path must start with "/", got "${probePath}"`);
    const timeoutMs = Math.round(timeoutSeconds * 1000);
    const logger = createLogger({
      name: 'queue-proxy',
      level: values['log-level'] ?? io.env.TRELLIS_LOG_LEVEL ?? 'info',
      destination: io.err,
    });
    const proxy = new QueueProxy({
      host: values.address ?? '0.0.0.0',
      port: portOf('port', values.port, QUEUE_PROXY_PORT),
      meterPort: portOf('meter-port', values['meter-port'], QUEUE_METER_PORT),
      upstream: { host: '127.0.0.1', port: upstreamPort },
      timeoutMs,
      ...(probePath ? { probePath } : {}),
    });
    // A stop finishes what it serves: up to the Function's timeout (the pod's grace period is longer).
    return runUntilStopped(io, { logger, shutdownMs: timeoutMs + 3_000 }, async ({ signal, stopped }) => {
      try {
        await abortable(proxy.start(), signal);
        logger.info(
          { port: proxy.port, meterPort: proxy.meterPort, upstream: `127.0.0.1:${upstreamPort}`, timeoutSeconds },
          'queue-proxy listening',
        );
        await stopped;
        return 0;
      } finally {
        await proxy.stop(timeoutMs);
      }
    });
  },
};
