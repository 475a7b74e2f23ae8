import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../lib/ports.js';
import { ManagedProcess, Reaper } from '../../lib/process.js';

/** A real Prometheus (Debian's `prometheus` package) on loopback, with its own empty storage. */
export interface TestPrometheus {
  /** Its base URL, `http://127.0.0.1:<port>`. */
  url: string;
  /** Waits until every target has been scraped since `since` (ms epoch), so queries see the latest values. */
  scrapedSince(since: number): Promise<void>;
  stop(): Promise<void>;
}

/** The `prometheus` binary, or a sentence saying how CI installs it. */
export function prometheusBinary(): string {
  try {
    return execFileSync('sh', ['-c', 'command -v prometheus'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(
      'prometheus is not installed: `apt-get install -y prometheus` (.ci/run installs it); the rollout analysis tests query a real one',
    );
  }
}

/**
 * Starts Prometheus on a free loopback port scraping `targets` (host:port, loopback only) every
 * `scrapeInterval`. A killed test run does not leave it behind (a reaper process stops it).
 *
 * @example
 *   const prom = await startPrometheus(['127.0.0.1:9100'])
 *   ... query `${prom.url}/api/v1/query?query=up` ...
 *   await prom.stop()
 */
export async function startPrometheus(targets: string[], scrapeInterval = '1s'): Promise<TestPrometheus> {
  for (const t of targets)
    if (!/^(127\.\d+\.\d+\.\d+|localhost|\[::1\]):\d+$/.test(t))
      throw new Error(`scrape target ${t} is not on loopback`);
  const binary = prometheusBinary();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'trellis-prometheus-'));
  const port = await freePort();
  const config = [
    'global:',
    `  scrape_interval: ${scrapeInterval}`,
    `  evaluation_interval: ${scrapeInterval}`,
    'scrape_configs:',
    '  - job_name: test',
    '    static_configs:',
    `      - targets: [${targets.map((t) => JSON.stringify(t)).join(', ')}]`,
    '',
  ].join('\n');
  await writeFile(path.join(dir, 'prometheus.yml'), config);
  const reaper = new Reaper(process.execPath);
  const proc = new ManagedProcess({
    name: 'prometheus',
    command: binary,
    args: [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    logFile: path.join(dir, 'prometheus.log'),
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    reaper,
  });
  proc.start();
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    await proc.stop(5000);
    reaper.close();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await until(
      async () => (await fetch(`${url}/-/ready`)).ok,
      60_000,
      async () =>
        `Prometheus did not become ready (exit code ${proc.exitCode}): ${await readFile(path.join(dir, 'prometheus.log'), 'utf8').catch(() => '')}`,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    url,
    async scrapedSince(since) {
      await until(
        async () => {
          const body = (await (await fetch(`${url}/api/v1/targets`)).json()) as {
            data: { activeTargets: { lastScrape: string; health: string }[] };
          };
          const active = body.data.activeTargets;
          return (
            active.length === targets.length &&
            active.every((t) => t.health === 'up' && Date.parse(t.lastScrape) > since)
          );
        },
        60_000,
        async () => `Prometheus did not scrape ${targets.join(', ')}`,
      );
    },
    stop,
  };
}

async function until(check: () => Promise<boolean>, timeoutMs: number, why: () => Promise<string>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(await why());
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Counters served in Prometheus' text format on loopback, set by the test: what an application's
 * `/metrics` would say, so a test decides what Prometheus answers.
 *
 * @example
 *   const app = await serveMetrics()
 *   app.set('http_requests_total', { revision: 'web-v2', code: '500' }, 50)
 */
export async function serveMetrics(): Promise<{
  target: string;
  set(name: string, labels: Record<string, string>, value: number): void;
  close(): Promise<void>;
}> {
  const series = new Map<string, { name: string; labels: Record<string, string>; value: number }>();
  const server = http.createServer((_req, res) => {
    const all = [...series.values()];
    const lines = [...new Set(all.map((s) => s.name))].flatMap((name) => [
      `# TYPE ${name} counter`,
      ...all
        .filter((s) => s.name === name)
        .map(
          (s) =>
            `${name}{${Object.entries(s.labels)
              .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
              .join(',')}} ${s.value}`,
        ),
    ]);
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end([...lines, ''].join('\n'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    target: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    set: (name, labels, value) => series.set(JSON.stringify([name, labels]), { name, labels, value }),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
