import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import type { PodAttachment, PodNetwork } from '../../serverless/runner/network.js';

const run = promisify(execFile);

/**
 * The addresses pods get: 198.18.250.0/24, in RFC 2544's benchmarking range (198.18.0.0/15) —
 * neither loopback (which the API server refuses in EndpointSlices) nor a private range like
 * kwok's simulated pod IPs, so nothing outside this machine ever answers it.
 */
export const POD_NETWORK_PREFIX = '198.18.250.';
/** /30 blocks in the /24: one per pod. */
const SLOTS = 64;

export interface NetnsPodNetworkOptions {
  /** How many pods may be attached at once (each takes a /30 of the /24). @default 64 */
  slots?: number;
}
/** Network namespaces this helper makes are named `trellis-pod-<pid of the test process>-<slot>`. */
const NETNS = /^trellis-pod-(\d+)-(\d+)$/;

interface Slot {
  slot: number;
  netns: string;
  /** The veth end left in the host's namespace (≤ 15 characters). */
  hostLink: string;
  address: string;
}

async function ip(...args: string[]): Promise<void> {
  try {
    await run('ip', args, { timeout: 10_000 });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim();
    throw new Error(`ip ${args.join(' ')}: ${stderr || (err as Error).message}`, { cause: err });
  }
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * A pod network for the {@link LocalRunner} made of Linux network namespaces, one per pod (what a
 * CNI bridge plugin gives each pod sandbox): a veth pair, `198.18.250.<4k+1>/30` on the host's end
 * and `<4k+2>/30` on `eth0` inside, so the host (the activator, the runner's probes) reaches the pod
 * through it and nothing else does. The handler runs inside with `ip netns exec`. Needs root (or
 * CAP_NET_ADMIN and CAP_SYS_ADMIN) and iproute2: {@link NetnsPodNetwork.unavailable} says why not.
 * A slot is claimed atomically by creating its host link (`trl-pod-<4k>`), so test processes that
 * run at once share the /24 without clashing. {@link close} removes everything made (call it in an
 * `after` hook); a process killed before that leaves namespaces that {@link NetnsPodNetwork.sweep}
 * (called by the constructor's user at start) removes.
 *
 * @example
 *   const network = new NetnsPodNetwork()
 *   const runner = new LocalRunner({ kube, nodeName: 'pods-in-netns', network })
 *   ...
 *   after(() => network.close())
 */
export class NetnsPodNetwork implements PodNetwork {
  private readonly pods = new Map<string, Slot>();
  private readonly onExit = () => this.closeSync();

  private readonly slots: number;

  constructor(options: NetnsPodNetworkOptions = {}) {
    this.slots = Math.min(options.slots ?? SLOTS, SLOTS);
    process.once('exit', this.onExit);
  }

  /** Why this machine cannot make pod networks (not root, no iproute2), or undefined when it can. */
  static async unavailable(): Promise<string | undefined> {
    if (process.getuid?.() !== 0) return 'network namespaces need root (CI runs as root: .ci/run checks it)';
    try {
      await run('ip', ['netns', 'list']);
    } catch (err) {
      return `iproute2's \`ip netns\` does not work here: ${(err as Error).message}`;
    }
    return undefined;
  }

  /** Removes the namespaces (and with them their veth pairs) of test processes no longer alive. */
  static async sweep(): Promise<string[]> {
    const { stdout } = await run('ip', ['netns', 'list']);
    const stale = stdout
      .split('\n')
      .map((line) => line.split(' ')[0] ?? '')
      .filter((name) => {
        const m = NETNS.exec(name);
        return m && !alive(Number(m[1]));
      });
    // Not the host links by name: a live process may hold that slot again. A namespace's deletion takes
    // its eth0, and so the pair, with it.
    for (const name of stale) await ip('netns', 'del', name).catch(() => undefined);
    return stale;
  }

  async attach(pod: { namespace: string; name: string; uid: string }): Promise<PodAttachment> {
    const existing = this.pods.get(pod.uid);
    if (existing) return attachmentOf(existing);
    for (let slot = 0; slot < this.slots; slot++) {
      if ([...this.pods.values()].some((s) => s.slot === slot)) continue;
      const s: Slot = {
        slot,
        netns: `trellis-pod-${process.pid}-${slot}`,
        hostLink: hostLinkOf(slot),
        address: `${POD_NETWORK_PREFIX}${slot * 4 + 2}`,
      };
      await ip('netns', 'add', s.netns);
      try {
        // Creating the host link claims the slot: it fails when another test process holds it.
        await ip('link', 'add', s.hostLink, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', s.netns);
      } catch {
        await ip('netns', 'del', s.netns).catch(() => undefined);
        continue;
      }
      this.pods.set(pod.uid, s);
      try {
        await ip('addr', 'add', `${POD_NETWORK_PREFIX}${slot * 4 + 1}/30`, 'dev', s.hostLink);
        await ip('link', 'set', s.hostLink, 'up');
        await ip('-n', s.netns, 'addr', 'add', `${s.address}/30`, 'dev', 'eth0');
        await ip('-n', s.netns, 'link', 'set', 'eth0', 'up');
        await ip('-n', s.netns, 'link', 'set', 'lo', 'up');
      } catch (err) {
        await this.detach(pod.uid);
        throw err;
      }
      return attachmentOf(s);
    }
    throw new Error(
      `no free /30 left in ${POD_NETWORK_PREFIX}0/24 for ${pod.namespace}/${pod.name} (${this.slots} pods at most)`,
    );
  }

  async detach(uid: string): Promise<void> {
    const s = this.pods.get(uid);
    if (!s) return;
    this.pods.delete(uid);
    // Deleting either end of a veth pair deletes both; the namespace goes once nothing runs in it.
    await ip('link', 'del', s.hostLink).catch(() => undefined);
    await ip('netns', 'del', s.netns);
  }

  /** The addresses of the pods attached now. */
  addresses(): string[] {
    return [...this.pods.values()].map((s) => s.address);
  }

  /** The namespaces attached now (what `ip netns list` shows of this network). */
  namespaces(): string[] {
    return [...this.pods.values()].map((s) => s.netns);
  }

  /** Takes every pod's network down (whatever their runner did); safe to call more than once. */
  async close(): Promise<void> {
    process.removeListener('exit', this.onExit);
    for (const uid of [...this.pods.keys()]) await this.detach(uid).catch(() => undefined);
  }

  /** What {@link close} does, synchronously: the last resort when the process exits without the hook. */
  private closeSync(): void {
    for (const s of this.pods.values()) {
      for (const args of [
        ['link', 'del', s.hostLink],
        ['netns', 'del', s.netns],
      ]) {
        try {
          execFileSync('ip', args, { stdio: 'ignore' });
        } catch {
          // already gone
        }
      }
    }
    this.pods.clear();
  }
}

const hostLinkOf = (slot: number): string => `trl-pod-${slot * 4}`;
const attachmentOf = (s: Slot): PodAttachment => ({ address: s.address, launcher: ['ip', 'netns', 'exec', s.netns] });

/** True for an address in the pod network's range (198.18.250.0/24). */
export const inPodNetwork = (address: string): boolean => address.startsWith(POD_NETWORK_PREFIX);
