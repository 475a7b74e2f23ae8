import { Backoff, sleep } from '../../kube/backoff.js';
import { freePort } from '../../lib/ports.js';
import { ManagedProcess, type Reaper } from '../../lib/process.js';
import { METER_PORT_ENV, withMeterPreload } from '../meter/instance-meter.js';
import { probeOnce } from '../probe.js';

export interface InstanceOptions {
  /** `namespace/pod`, for logs. */
  id: string;
  /** argv; `node` as the first word means the Node.js binary the runner itself runs on. */
  command: string[];
  cwd: string;
  env: Record<string, string>;
  /** Address the instance is reached (and probed) at. @default '127.0.0.1' */
  host?: string;
  /**
   * Address the handler is told to listen on (`HOST`), e.g. `0.0.0.0` for every interface of a
   * pod network, so its sidecars reach it on the pod's 127.0.0.1 too. @default `host`
   */
  listenHost?: string;
  /**
   * The port the handler listens on, for an instance with a network of its own (its container
   * port, as in a cluster). @default a free port on `host`, chosen at each start
   */
  port?: number;
  /** Words put before the command, e.g. `['ip', 'netns', 'exec', 'pod-a']` (a pod network's). @default none */
  launcher?: string[];
  /** HTTP readiness path; TCP connect when absent. */
  probePath?: string;
  /** The probe's port (a container's readinessProbe may name another of its ports). @default `port` */
  probePort?: number;
  /** Probe interval until the first success. @default 10 */
  startProbeMs?: number;
  /** Probe interval once ready. @default 1000 */
  readyProbeMs?: number;
  logFile: string;
  /**
   * The instance meter's preload (`writeMeterPreload`): a Node handler then counts its own direct
   * requests and answers readings on {@link LocalInstance.meterPort}. @default no meter
   */
  meterPreload?: string;
  reaper?: Reaper;
  /** Called after every state change (port, readiness, exit). */
  onChange: () => void;
}

export type InstanceState = 'starting' | 'running' | 'ready' | 'backoff' | 'stopping' | 'stopped';

/**
 * One pod's handler as a local process, the way a kubelet runs a container: its own 127.0.0.1 port
 * (given as `PORT`) — or its pod network's address and container port —, readiness probing, restart with exponential backoff when it exits, and
 * SIGTERM-then-SIGKILL on stop.
 */
export class LocalInstance {
  state: InstanceState = 'starting';
  port = 0;
  /** Where the instance's meter answers (0: no meter). */
  meterPort = 0;
  restarts = 0;
  pid: number | undefined;
  startedAt: Date | undefined;
  lastExit: { code: number | null; at: Date } | undefined;
  private proc: ManagedProcess | undefined;
  private readonly backoff = new Backoff(100, 10_000);
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;

  constructor(readonly options: InstanceOptions) {}

  start(): void {
    this.loop ??= this.run();
  }

  get ready(): boolean {
    return this.state === 'ready';
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  async stop(graceMs: number): Promise<void> {
    if (this.state === 'stopped') return;
    this.set('stopping');
    this.abort.abort();
    await this.proc?.stop(graceMs);
    await this.loop;
    this.set('stopped');
  }

  private set(state: InstanceState): void {
    if (this.state === state) return;
    this.state = state;
    this.options.onChange();
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    const host = this.options.host ?? '127.0.0.1';
    while (!signal.aborted) {
      this.port = this.options.port ?? (await freePort(host));
      // stop() may have come while the port was chosen: it found no process to stop, so start none
      // (one started now would run on, and stop() would wait for this loop forever).
      const preload = this.options.meterPreload;
      this.meterPort = preload ? await freePort(host) : 0;
      if (signal.aborted) return;
      const [first, ...rest] = this.options.command;
      const [cmd, ...args] = [...(this.options.launcher ?? []), first === 'node' ? process.execPath : first!, ...rest];
      const env: Record<string, string> = {
        ...this.options.env,
        PORT: String(this.port),
        HOST: this.options.listenHost ?? host,
      };
      if (preload) {
        env.NODE_OPTIONS = withMeterPreload(env.NODE_OPTIONS, preload);
        env[METER_PORT_ENV] = String(this.meterPort);
      }
      this.proc = new ManagedProcess({
        name: this.options.id,
        command: cmd!,
        args,
        cwd: this.options.cwd,
        env,
        logFile: this.options.logFile,
        ...(this.options.reaper ? { reaper: this.options.reaper } : {}),
      });
      this.proc.start();
      this.pid = this.proc.pid;
      this.startedAt = new Date();
      this.set('running');
      const exited = this.proc.exited();
      await Promise.race([exited, this.probeLoop(host, exited)]);
      const code = await exited;
      if (signal.aborted) return;
      this.lastExit = { code, at: new Date() };
      this.restarts++;
      if (Date.now() - this.startedAt.getTime() > 10_000) this.backoff.reset();
      this.set('backoff');
      await sleep(this.backoff.next(), signal);
    }
  }

  private async probeLoop(host: string, exited: Promise<unknown>): Promise<void> {
    let gone = false;
    void exited.then(() => (gone = true));
    const port = this.options.probePort ?? this.port;
    const target = { host, port, ...(this.options.probePath ? { path: this.options.probePath } : {}) };
    while (!gone && !this.abort.signal.aborted) {
      const ok = await probeOnce(target, 1000);
      if (gone || this.abort.signal.aborted || this.state === 'stopping') return;
      this.set(ok ? 'ready' : 'running');
      await sleep(ok ? (this.options.readyProbeMs ?? 1000) : (this.options.startProbeMs ?? 10), this.abort.signal);
    }
  }
}
