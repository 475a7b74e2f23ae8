import http from 'node:http';

/**
 * `probing`: known from its endpoint, not yet answering; `ready`: receives requests; `draining`:
 * finishing its requests before a scale-down; `retired`: drained for a scale-down, never used again.
 */
export type InstanceState = 'probing' | 'ready' | 'draining' | 'retired';

/** What the activator knows about one endpoint of a function. */
export interface EndpointInfo {
  /** IP to connect to (names already resolved). */
  host: string;
  port: number;
  /** Where the instance's own concurrency meter answers, when it has one (docs/adr/0017). */
  meterPort?: number;
  /** The slice's `ready` condition. */
  ready: boolean;
  /** The slice's `terminating` condition: no new requests. */
  terminating: boolean;
  pod?: { name: string; uid: string };
}

/** Free keep-alive sockets close after this long: below Node's 5 s server keep-alive timeout. */
const IDLE_SOCKET_MS = 4_000;

/** One instance of a function behind the activator, with its own keep-alive socket pool. */
export class Instance {
  readonly id: string;
  state: InstanceState = 'probing';
  inFlight = 0;
  /** The endpoint went away (or is terminating): no new requests; forgotten once idle. */
  gone = false;
  /** Last `ready` condition seen in its slice. */
  sliceReady = false;
  /** Where its own meter answers (its direct requests), from its slice; undefined: unmetered. */
  meterPort: number | undefined;
  readonly agent: http.Agent;

  constructor(
    readonly host: string,
    readonly port: number,
    readonly pod?: { name: string; uid: string },
  ) {
    this.id = `${host}:${port}`;
    this.agent = new http.Agent({
      keepAlive: true,
      maxSockets: Infinity,
      maxFreeSockets: 1024,
      scheduling: 'lifo',
      timeout: IDLE_SOCKET_MS,
    });
  }

  get routable(): boolean {
    return this.state === 'ready' && !this.gone;
  }

  dispose(): void {
    this.agent.destroy();
  }
}
