import { writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { isRecord } from '../../lib/is-record.js';
import type { MeterReading } from '../activator/meter.js';
import { DirectCounter } from './counter.js';

/**
 * The per-instance concurrency meter (Knative's queue-proxy's counting half, docs/adr/0017): what
 * lets a Function's Service point straight at its instances (serve mode) without the autoscaler
 * losing sight of the requests that no longer pass an activator.
 */

/** Set by the activator on every request it forwards: an instance's meter leaves those to the activator's. */
export const PROXIED_HEADER = 'x-trellis-activator';

/** Name of the meter's port in an instance's EndpointSlice (next to the Service's own port). */
export const METER_PORT_NAME = 'trellis-meter';

/** Environment variable telling the preloaded meter where to listen. */
export const METER_PORT_ENV = 'TRELLIS_METER_PORT';

/**
 * Preloaded into a Node handler (`--require`): counts the requests its HTTP servers take that did
 * not come through an activator (Node's `http.server.request.start` diagnostics channel; a request
 * leaves at its response's `close`, answered or cut) with {@link DirectCounter} (its compiled source
 * embedded), and answers `GET /` on `$TRELLIS_METER_PORT` (the same host as `$HOST`) with a
 * {@link MeterReading}. No hop: the count is taken inside the handler's own process. CommonJS, no
 * imports but Node's, so it loads before any handler (CommonJS or ESM).
 */
export const METER_PRELOAD_SOURCE = `'use strict';
// Written by Trellis' local runner (serverless/meter/instance-meter.ts): the instance's concurrency meter.
const http = require('node:http');
const dc = require('node:diagnostics_channel');
const { performance } = require('node:perf_hooks');
// serverless/meter/counter.ts, as compiled (a transpiler's __name, if any, is a no-op here).
var __name = (target) => target;
const DirectCounter = ${DirectCounter.toString()};
const port = Number(process.env.${METER_PORT_ENV});
if (port > 0) {
  const counter = new DirectCounter(() => performance.now());
  const leave = () => counter.leave();
  let meter;
  dc.subscribe('http.server.request.start', ({ request, response, server }) => {
    if (server === meter || request.headers[${JSON.stringify(PROXIED_HEADER)}] !== undefined) return;
    counter.enter();
    response.once('close', leave);
  });
  meter = http.createServer((req, res) => {
    const body = JSON.stringify(counter.read());
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  meter.on('error', (err) => process.stderr.write('trellis meter: ' + err.message + '\\n'));
  meter.listen(port, process.env.HOST || '127.0.0.1');
  meter.unref();
}
`;

/**
 * Writes the meter's preload into `dir` and returns its path, for `NODE_OPTIONS=--require <path>`.
 *
 * @example
 *   const preload = writeMeterPreload(runnerDir)   // <runnerDir>/trellis-instance-meter.cjs
 */
export function writeMeterPreload(dir: string): string {
  const file = path.join(dir, 'trellis-instance-meter.cjs');
  writeFileSync(file, METER_PRELOAD_SOURCE);
  return file;
}

/** `NODE_OPTIONS` with the meter's preload added to what the handler's environment already says. */
export function withMeterPreload(nodeOptions: string | undefined, preload: string): string {
  const flag = `--require ${JSON.stringify(preload)}`;
  return nodeOptions ? `${nodeOptions} ${flag}` : flag;
}

/**
 * One reading of an instance's meter; undefined when it does not answer within `timeoutMs` (a handler
 * that is not Node, or one that replaced the preload) — the instance then counts as unmetered.
 */
export function readInstanceMeter(host: string, port: number, timeoutMs = 500): Promise<MeterReading | undefined> {
  return new Promise((resolve) => {
    const req = http.get({ host, port, path: '/', agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          resolve(res.statusCode === 200 ? asReading(JSON.parse(Buffer.concat(chunks).toString('utf8'))) : undefined);
        } catch {
          resolve(undefined);
        }
      });
      res.on('error', () => resolve(undefined));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
}

function asReading(value: unknown): MeterReading | undefined {
  if (!isRecord(value)) return undefined;
  const v = value;
  const nums = ['at', 'area', 'arrivals', 'current', 'peak'] as const;
  if (!nums.every((k) => typeof v[k] === 'number')) return undefined;
  return {
    at: v.at as number,
    area: v.area as number,
    arrivals: v.arrivals as number,
    current: v.current as number,
    peak: v.peak as number,
    ...(typeof v.idleMs === 'number' ? { idleMs: v.idleMs } : {}),
  };
}
