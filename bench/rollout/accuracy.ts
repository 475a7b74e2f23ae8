import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Activator } from '../../serverless/activator/activator.js';
import { functionConfig } from '../../serverless/function/config.js';

export interface AccuracyOptions {
  /** The new revision's percent (the other gets the rest). */
  percent: number;
  /** Requests sent through the split. */
  requests: number;
  /** Requests in flight at once. */
  concurrency: number;
}

export interface AccuracyResult extends AccuracyOptions {
  /** The new revision's share of all answers, in percent. */
  share: number;
  errors: number;
  /** Largest distance (percentage points) of the new revision's share from `percent`, over windows of consecutive answers. */
  worstWindow: Record<number, number>;
}

/** Window sizes (consecutive answers) the share is looked at over. */
const WINDOWS = [100, 1000];

/**
 * Weighted-routing accuracy: an activator (this process) splits `percent` / 100 − `percent`
 * between two revisions whose instances answer with their own name, `requests` requests at
 * `concurrency`; the share is counted from the answers, in the order they arrive.
 */
export async function measureAccuracy(options: AccuracyOptions): Promise<AccuracyResult> {
  const instances = await Promise.all(['old', 'new'].map(instance));
  const activator = new Activator({ domain: 'fn.bench' });
  await activator.start();
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency });
  try {
    const config = (name: string) =>
      functionConfig({
        apiVersion: 'serverless.trellis.dev/v1alpha1',
        kind: 'Function',
        metadata: { name, namespace: 'bench' },
        spec: { handler: 'node handler.js' },
      });
    for (const [i, rev] of ['split-a', 'split-b'].entries()) {
      activator.upsertRevision(config(rev));
      activator.setEndpoints(`bench/${rev}`, [
        { host: '127.0.0.1', port: instances[i]!.port, ready: true, terminating: false },
      ]);
    }
    const targets = [
      { revision: 'bench/split-a', percent: 100 - options.percent },
      { revision: 'bench/split-b', percent: options.percent },
    ];
    activator.setRoute('bench/split', targets, config('split'));
    for (const key of ['bench/split-a', 'bench/split-b'])
      while (activator.traffic(key)!.readyCount === 0) await new Promise((r) => setTimeout(r, 5));

    const url = `http://127.0.0.1:${activator.port}/bench/split/`;
    const answers: string[] = [];
    let errors = 0;
    let next = 0;
    const worker = async () => {
      while (next < options.requests) {
        next++;
        const body = await get(url, agent).catch(() => undefined);
        if (body === 'old' || body === 'new') answers.push(body);
        else errors++;
      }
    };
    await Promise.all(Array.from({ length: options.concurrency }, worker));
    const fresh = (from: number, to: number) => answers.slice(from, to).filter((a) => a === 'new').length;
    const worstWindow: Record<number, number> = {};
    for (const size of WINDOWS.filter((w) => w <= answers.length)) {
      let worst = 0;
      for (let from = 0; from + size <= answers.length; from += size)
        worst = Math.max(worst, Math.abs((100 * fresh(from, from + size)) / size - options.percent));
      worstWindow[size] = worst;
    }
    return { ...options, share: (100 * fresh(0, answers.length)) / answers.length, errors, worstWindow };
  } finally {
    agent.destroy();
    await activator.stop();
    await Promise.all(instances.map((s) => new Promise((r) => s.server.close(r))));
  }
}

/** An instance that answers every request with `name`. */
async function instance(name: string): Promise<{ server: http.Server; port: number }> {
  const server = http.createServer((_req, res) => res.end(name));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port };
}

function get(url: string, agent: http.Agent): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`HTTP ${res.statusCode}`))));
      })
      .on('error', reject);
  });
}
