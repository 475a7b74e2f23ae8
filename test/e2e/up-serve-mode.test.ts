import assert from 'node:assert/strict';
import http from 'node:http';
import { eventually } from '../support/namespace.js';
import { firstRevision, ReplicaHistory, testFunction } from '../support/serverless.js';
import { ServiceClient } from '../support/service-client.js';
import { useUp } from '../support/up.js';
import type { KubeObject } from '../../kube/types.js';

type Fn = KubeObject & { status?: { url?: string } };

/** One answer through the URL `trellis up` prints: its status and who handed it to the handler. */
interface Outcome {
  status: number;
  /** The handler's `via`: `activator` (marked by it) or `direct` (the local router sent it to the instance). */
  via: string;
  error?: string;
}

/** Closed-loop load on one URL: `concurrency` workers, one request after another over keep-alive, until stop(). */
class UrlLoad {
  readonly outcomes: Outcome[] = [];
  private running = true;
  private readonly agent = new http.Agent({ keepAlive: true, timeout: 4_000 });
  private readonly workers: Promise<void>[];

  constructor(
    private readonly url: string,
    concurrency: number,
  ) {
    this.workers = Array.from({ length: concurrency }, () => this.worker());
  }

  count(via: string): number {
    return this.outcomes.filter((o) => o.via === via).length;
  }

  async stop(): Promise<Outcome[]> {
    this.running = false;
    await Promise.all(this.workers);
    this.agent.destroy();
    return this.outcomes;
  }

  private async worker(): Promise<void> {
    while (this.running) this.outcomes.push(await call(this.url, this.agent));
  }
}

function call(url: string, agent: http.Agent | false = false): Promise<Outcome> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => {
        let via = '';
        try {
          via = (JSON.parse(body) as { via?: string }).via ?? '';
        } catch {
          via = body.slice(0, 200);
        }
        resolve({ status: res.statusCode ?? 0, via });
      });
      res.on('error', (err) => resolve({ status: 0, via: '', error: err.message }));
    });
    req.on('error', (err) => resolve({ status: 0, via: '', error: err.message }));
  });
}

/**
 * Issue 13 item 3's last sentence (docs/adr/0017-instance-meter.md): under `trellis up` there is no
 * kube-proxy, so the address it prints is a local router that does what kube-proxy does for a
 * Function's Service — its instances directly when the Service is in serve mode, the activator at
 * zero and under a burst. Every request goes to that printed address on loopback; the test handler
 * says in each answer whether an activator forwarded it.
 */
describe("trellis up: the local router takes a warm Function's requests straight to its instances", () => {
  const up = useUp('trellis-up-serve-');

  it('zero → activator → instances (serve) → activator (burst) → zero, through the printed URL, no request lost', async function () {
    this.timeout(600_000);
    const running = await up.start(['--no-dashboard']);
    const { kube, functionsUrl: url } = running;
    const loads: UrlLoad[] = [];
    let history: ReplicaHistory | undefined;
    let service: ServiceClient | undefined;
    const stopLoads = async () => {
      for (const l of loads) await l.stop();
      await service?.stop();
      await history?.stop();
    };
    try {
      // Target 10 per instance, 5 spare needed: one instance at concurrency ≤ 5 is served directly.
      await kube.apply(
        testFunction('default', 'warm', {
          concurrency: { target: 10 },
          scale: { stableWindowSeconds: 1, panicWindowSeconds: 0.5, idleGraceSeconds: 0.3, targetBurstCapacity: 5 },
        }),
      );
      const ref = {
        apiVersion: 'serverless.trellis.dev/v1alpha1',
        kind: 'Function',
        namespace: 'default',
        name: 'warm',
      };
      await eventually(async () => Boolean((await kube.get<Fn>(ref)).status?.url), {
        what: "the Function's status.url",
      });
      const fn = await kube.get<Fn>(ref);
      assert.equal(
        new URL(fn.status!.url!).port,
        new URL(url).port,
        "status.url (what `trellis fn invoke` calls) names the printed port, the router's",
      );
      history = new ReplicaHistory(kube, 'default', firstRevision('warm'));
      await history.start();
      service = await ServiceClient.start(kube, 'default', 'warm');
      await eventually(async () => history!.current === 0 && service!.mode() === 'proxy', {
        what: 'the revision at zero, its Service on the activator',
        timeoutMs: 90_000,
      });
      const fnUrl = (p: string) => `${url}/default/warm${p}`;
      assert.deepEqual(await call(fnUrl('/')), { status: 200, via: 'activator' }, 'at zero through the activator');

      const steady = new UrlLoad(fnUrl('/sleep?ms=20'), 2);
      loads.push(steady);
      await eventually(async () => steady.count('direct') >= 200, {
        what: 'requests the router sent straight to the instance (serve mode)',
        timeoutMs: 90_000,
      });
      assert.equal(service.mode(), 'serve', "the router followed the Service's slices");

      // A burst (concurrency ≈ 12 > 1 × 10 − 5): the Service, and so the router, go back to the activator.
      const burst = new UrlLoad(fnUrl('/sleep?ms=50'), 10);
      loads.push(burst);
      const proxied = steady.count('activator');
      await eventually(async () => steady.count('activator') + burst.count('activator') > proxied + 20, {
        what: 'requests through the activator again under the burst',
        timeoutMs: 60_000,
      });
      const outcomes = [...(await burst.stop()), ...(await steady.stop())];
      loads.length = 0;

      // Idle: back to the activator first, then to zero; the printed URL still answers.
      await eventually(async () => history!.current === 0, { what: 'back at zero', timeoutMs: 90_000 });
      assert.equal(service.mode(), 'proxy', 'at zero the Service points at the activator');
      assert.deepEqual(await call(fnUrl('/')), { status: 200, via: 'activator' }, 'and the router sends it there');

      const lost = outcomes.filter((o) => o.status !== 200);
      assert.deepEqual(lost.slice(0, 5), [], `${lost.length} of ${outcomes.length} requests lost across the switches`);
      assert.ok(
        outcomes.filter((o) => o.via === 'direct').length >= 200 &&
          outcomes.filter((o) => o.via === 'activator').length > 20,
        'both ways were taken under load',
      );
    } catch (err) {
      await stopLoads();
      await running.stop();
      throw err;
    }
    await stopLoads();
    const { code, detail } = await running.stop();
    assert.equal(code, 0, detail);
  });
});
