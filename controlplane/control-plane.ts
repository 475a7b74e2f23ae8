import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { KubeClient } from '../kube/client.js';
import { TrellisError } from '../lib/errors.js';
import { silentLogger, type Logger } from '../lib/log.js';
import { renderKubeconfig } from './kubeconfig.js';
import { ensurePki, issueClientCert, type PkiFiles } from './pki-files.js';
import { freePort } from '../lib/ports.js';
import { ManagedProcess, Reaper } from './process.js';
import type { Binaries } from '../lib/go-build.js';
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from '../kube/types.js';
import { KWOK_CRDS } from './versions.js';

export interface ControlPlaneOptions {
  /** etcd, kube-apiserver, kube-controller-manager (and kube-scheduler + kwok when `nodes` > 0). */
  binaries: Binaries;
  /** Keeps etcd data, certificates and the kubeconfig here across restarts. @default a temporary folder, removed on stop */
  dataDir?: string;
  /** Fake nodes simulated by kwok, so pods get scheduled and become Running/Ready. @default 0 */
  nodes?: number;
  /** The Node binary for the reaper process. */
  nodePath: string;
  logger?: Logger;
  /** One line at a time while starting. */
  onProgress?: (line: string) => void;
  /** Components that must not start, e.g. `['kube-controller-manager']`. */
  without?: string[];
  /** Users whose requests the API server records in `<dataDir>/audit.log` (metadata only), e.g. to find `forbidden` answers. */
  auditUsers?: string[];
  /**
   * Users whose writes (create, update, patch, delete; no reads) are recorded too, e.g. `trellis-admin`
   * — the admin identity kube-controller-manager runs as — so a 409 answered to a controller can be
   * traced to whoever wrote the object before. Needs `auditUsers`. @default none
   */
  auditWriters?: string[];
}

/** One line of the API server's audit log (the fields Trellis reads). */
export interface AuditEvent {
  verb: string;
  requestURI: string;
  /** Who authenticated (for an impersonated request: who impersonated). */
  user: { username: string; groups?: string[] };
  /** Set when the request acted as another identity (and that was allowed): authorization was of this one. */
  impersonatedUser?: { username: string; groups?: string[] };
  responseStatus?: { code?: number; message?: string; reason?: string };
  objectRef?: { resource?: string; namespace?: string; name?: string; apiGroup?: string; subresource?: string };
  /** The client's User-Agent (Trellis controllers send `trellis-controller/<replica>`). */
  userAgent?: string;
  /** When the request arrived and when its answer was complete (RFC 3339 with microseconds). */
  requestReceivedTimestamp?: string;
  stageTimestamp?: string;
}

interface Ports {
  etcdClient: number;
  etcdPeer: number;
  apiserver: number;
  scheduler: number;
  kwok: number;
}

/**
 * A real Kubernetes control plane on loopback: etcd, kube-apiserver (RBAC, service-account tokens,
 * its own CA), kube-controller-manager (garbage collector, Deployments, EndpointSlices...), and
 * optionally kube-scheduler with kwok-simulated nodes so pods become Ready. Processes run in their
 * own process groups and a reaper kills them if this process dies without stopping them.
 *
 * @example
 *   const cp = new ControlPlane({ binaries, nodePath: process.execPath })
 *   await cp.start()
 *   // kubectl --kubeconfig cp.kubeconfigPath get ns
 *   await cp.stop()
 */
export class ControlPlane {
  private dataDir = '';
  private ownsDataDir = false;
  private ports: Ports | undefined;
  private pki: PkiFiles | undefined;
  private reaper: Reaper | undefined;
  private readonly procs = new Map<string, ManagedProcess>();
  private readonly logger: Logger;
  /** Set by {@link stop}: a start() still under way then starts nothing more and fails instead of waiting. */
  private stopping = false;
  /** Admin kubeconfig (group system:masters). Valid after {@link start}. */
  kubeconfigPath = '';
  /** `https://127.0.0.1:<port>`. Valid after {@link start}. */
  server = '';

  constructor(private readonly options: ControlPlaneOptions) {
    this.logger = options.logger ?? silentLogger;
  }

  get directory(): string {
    return this.dataDir;
  }

  async start(): Promise<void> {
    this.stopping = false;
    const say = this.options.onProgress ?? (() => {});
    if (this.options.dataDir) {
      this.dataDir = path.resolve(this.options.dataDir);
      await mkdir(this.dataDir, { recursive: true });
    } else {
      this.dataDir = await mkdtemp(path.join(os.tmpdir(), 'trellis-cp-'));
      this.ownsDataDir = true;
    }
    await mkdir(path.join(this.dataDir, 'logs'), { recursive: true });
    this.reaper = new Reaper(this.options.nodePath);
    this.ports = await this.choosePorts();
    say('generating certificates');
    this.pki = await ensurePki(this.dataDir);
    this.server = `https://127.0.0.1:${this.ports.apiserver}`;
    const adminCert = await readFile(this.pki.adminCert, 'utf8');
    const adminKey = await readFile(this.pki.adminKey, 'utf8');
    const caCert = await readFile(this.pki.caCert, 'utf8');
    this.kubeconfigPath = path.join(this.dataDir, 'kubeconfig');
    await writeFile(
      this.kubeconfigPath,
      renderKubeconfig({ server: this.server, caCert, clientCert: adminCert, clientKey: adminKey }),
      { mode: 0o600 },
    );

    if (this.options.auditUsers?.length)
      await this.writeAuditPolicy(this.options.auditUsers, this.options.auditWriters ?? []);
    try {
      say('starting etcd');
      this.spawn('etcd', this.etcdArgs());
      await this.waitFor('etcd', () => httpOk(`http://127.0.0.1:${this.ports!.etcdClient}/health`));
      say('starting kube-apiserver');
      this.spawn('kube-apiserver', this.apiserverArgs());
      await this.waitForApiserver();
      if (!this.options.without?.includes('kube-controller-manager')) {
        say('starting kube-controller-manager');
        this.spawn('kube-controller-manager', this.controllerManagerArgs());
      }
      if ((this.options.nodes ?? 0) > 0) {
        say(`starting kube-scheduler and kwok (${this.options.nodes} simulated nodes)`);
        this.spawn('kube-scheduler', [
          '--kubeconfig',
          this.kubeconfigPath,
          '--leader-elect=false',
          '--bind-address=127.0.0.1',
          `--secure-port=${this.ports.scheduler}`,
          '-v=1',
        ]);
        if (this.kwokServesLogs) await this.installKwokCrds();
        this.spawn('kwok', this.kwokArgs());
        await this.createNodes(this.options.nodes ?? 0);
      }
      say(`control plane ready at ${this.server}`);
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  /** Stops every process (reverse start order) and removes the temporary data folder. */
  async stop(): Promise<void> {
    this.stopping = true;
    // The API server's clients and the API server at once; the API server holds no state, and its
    // graceful termination waits for every watch to end, so it is killed after 0.3 s. etcd last:
    // with no API server streaming from it, it closes cleanly at once (stopping it while the API
    // server still held streams took 7 s, and the API server then hung until killed: 10 s in all).
    const timed = async (name: string, graceMs?: number) => {
      const started = Date.now();
      await this.procs.get(name)?.stop(graceMs);
      this.logger.debug({ component: name, ms: Date.now() - started }, 'control plane component stopped');
    };
    await Promise.all([
      timed('kwok'),
      timed('kube-scheduler'),
      timed('kube-controller-manager'),
      timed('kube-apiserver', 300),
    ]);
    await timed('etcd');
    this.procs.clear();
    this.reaper?.close();
    this.reaper = undefined;
    if (this.ownsDataDir && this.dataDir) await rm(this.dataDir, { recursive: true, force: true });
  }

  /**
   * Compacts etcd's history up to its current revision (what kube-apiserver does every 5 minutes):
   * a watch from an older resourceVersion is then answered 410 Gone whether the API server serves it
   * from its watch cache or from etcd.
   */
  async compactEtcd(): Promise<void> {
    if (!this.ports) throw new Error('control plane not started');
    const base = `http://127.0.0.1:${this.ports.etcdClient}/v3/kv`;
    const post = async (url: string, body: unknown) => {
      const res = await fetch(url, { method: 'POST', body: JSON.stringify(body) });
      if (!res.ok) throw new Error(`etcd ${url}: ${res.status} ${await res.text()}`);
      return (await res.json()) as { header?: { revision?: string } };
    };
    // Any key: the answer's header carries the store's current revision.
    const { header } = await post(`${base}/range`, { key: Buffer.from('/').toString('base64') });
    await post(`${base}/compaction`, { revision: header?.revision, physical: true });
  }

  /** Stops and starts kube-apiserver on the same port, as after an upgrade or a crash. */
  async restartApiServer(): Promise<void> {
    await this.procs.get('kube-apiserver')?.stop();
    this.spawn('kube-apiserver', this.apiserverArgs());
    await this.waitForApiserver();
  }

  /** Stops one component (e.g. to test behaviour while it is down). */
  async stopComponent(name: string): Promise<void> {
    await this.procs.get(name)?.stop();
  }

  /** A kubeconfig for another identity, authenticated by a client certificate from the control plane's CA. */
  async kubeconfigFor(user: string, groups: string[] = [], file?: string): Promise<string> {
    if (!this.pki) throw new Error('control plane not started');
    const pair = await issueClientCert(this.pki, user, groups);
    const target = file ?? path.join(this.dataDir, `kubeconfig-${user.replace(/[^\w.-]+/g, '_')}`);
    await writeFile(
      target,
      renderKubeconfig({
        server: this.server,
        caCert: await readFile(this.pki.caCert, 'utf8'),
        clientCert: pair.cert,
        clientKey: pair.key,
        userName: user,
      }),
      { mode: 0o600 },
    );
    return target;
  }

  /**
   * A kubeconfig authenticating as a ServiceAccount with a real token from the TokenRequest API
   * (what a pod running under that ServiceAccount gets).
   */
  async kubeconfigForServiceAccount(namespace: string, name: string, file?: string): Promise<string> {
    if (!this.pki) throw new Error('control plane not started');
    const kube = await KubeClient.connect({ kubeconfig: this.kubeconfigPath });
    try {
      const path_ = await kube.path({ apiVersion: 'v1', kind: 'ServiceAccount', namespace, name }, 'token');
      const review = await kube.request<{ status: { token: string } }>(path_, {
        method: 'POST',
        body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 172_800 } },
      });
      const target = file ?? path.join(this.dataDir, `kubeconfig-sa-${namespace}-${name}`);
      await writeFile(
        target,
        renderKubeconfig({
          server: this.server,
          caCert: await readFile(this.pki.caCert, 'utf8'),
          token: review.status.token,
          userName: `system:serviceaccount:${namespace}:${name}`,
        }),
        { mode: 0o600 },
      );
      return target;
    } finally {
      kube.close();
    }
  }

  /** Audit events recorded so far (needs `auditUsers`). */
  async auditEvents(): Promise<AuditEvent[]> {
    const text = await readFile(path.join(this.dataDir, 'audit.log'), 'utf8').catch(() => '');
    return text
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as AuditEvent);
  }

  /**
   * Audit events appended since byte `from` of the log, and the offset to read on from — for logs too
   * large to read whole (a long bench's: hundreds of MiB). A line still being written is left for the
   * next read; a log emptied meanwhile ({@link clearAuditLog}) is read from its start.
   *
   * @example
   *   let at = 0
   *   const { events, next } = await controlPlane.auditEventsFrom(at); at = next
   */
  async auditEventsFrom(from: number): Promise<{ events: AuditEvent[]; next: number }> {
    const file = await open(path.join(this.dataDir, 'audit.log'), 'r').catch(() => undefined);
    if (!file) return { events: [], next: 0 };
    try {
      const size = (await file.stat()).size;
      const start = size < from ? 0 : from;
      const buffer = Buffer.alloc(size - start);
      const { bytesRead } = await file.read(buffer, 0, buffer.length, start);
      const end = buffer.lastIndexOf(0x0a, bytesRead - 1) + 1;
      const events = buffer
        .toString('utf8', 0, end)
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as AuditEvent);
      return { events, next: start + end };
    } finally {
      await file.close();
    }
  }

  /** Empties the audit log (the API server keeps appending to the same file). */
  async clearAuditLog(): Promise<void> {
    await writeFile(path.join(this.dataDir, 'audit.log'), '').catch(() => undefined);
  }

  private async writeAuditPolicy(users: string[], writers: string[]): Promise<void> {
    // A watch is also audited when it starts (ResponseStarted), not only when it ends minutes
    // later: a watch refused while a restarted API server's RBAC caught up, then re-established,
    // shows its success at once.
    const policy = {
      apiVersion: 'audit.k8s.io/v1',
      kind: 'Policy',
      omitStages: ['RequestReceived'],
      rules: [
        { level: 'Metadata', users, verbs: ['watch'] },
        { level: 'Metadata', users, omitStages: ['ResponseStarted'] },
        ...(writers.length
          ? [{ level: 'Metadata', users: writers, verbs: ['create', 'update', 'patch', 'delete'] }]
          : []),
        { level: 'None' },
      ],
    };
    await writeFile(path.join(this.dataDir, 'audit-policy.yaml'), JSON.stringify(policy));
  }

  /** Running components and their process ids. */
  processes(): { name: string; pid: number }[] {
    return [...this.procs].filter(([, p]) => p.running && p.pid).map(([name, p]) => ({ name, pid: p.pid! }));
  }

  /** The log file of a component, for failure messages. */
  logFile(name: string): string {
    return path.join(this.dataDir, 'logs', `${name}.log`);
  }

  private async choosePorts(): Promise<Ports> {
    const stateFile = path.join(this.dataDir, 'ports.json');
    if (existsSync(stateFile)) {
      const saved = JSON.parse(await readFile(stateFile, 'utf8')) as Ports;
      if (await allFree(Object.values(saved))) return saved;
    }
    const ports: Ports = {
      etcdClient: await freePort(),
      etcdPeer: await freePort(),
      apiserver: await freePort(),
      scheduler: await freePort(),
      kwok: await freePort(),
    };
    await writeFile(stateFile, JSON.stringify(ports));
    return ports;
  }

  private spawn(name: string, args: string[]): void {
    if (this.stopping) throw stoppedWhileStarting(name);
    const command = this.options.binaries[name];
    if (!command) throw new TrellisError('TRL_CONTROLPLANE_BINARY', `no binary for ${name}`);
    const proc = new ManagedProcess({
      name,
      command,
      args,
      logFile: this.logFile(name),
      env: { HOME: this.dataDir, PATH: '/usr/bin:/bin' },
      ...(this.reaper ? { reaper: this.reaper } : {}),
    });
    proc.start();
    this.procs.set(name, proc);
    void proc.exited().then((code) => {
      if (this.procs.get(name) === proc) this.logger.warn({ component: name, code }, 'control plane component exited');
    });
  }

  private async waitFor(name: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const proc = this.procs.get(name);
    while (Date.now() < deadline) {
      // stop() may come while this waits (trellis up's first Ctrl-C): it clears the processes, so without
      // this check the loop would poll a server that is gone until the timeout, keeping the process alive.
      if (this.stopping) throw stoppedWhileStarting(name);
      if (proc && !proc.running)
        throw new TrellisError(
          'TRL_CONTROLPLANE_START',
          `${name} exited with code ${proc.exitCode} while starting; last lines of ${this.logFile(name)}:\n${await tail(this.logFile(name))}`,
        );
      if (await check().catch(() => false)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new TrellisError(
      'TRL_CONTROLPLANE_START',
      `${name} was not ready within ${timeoutMs / 1000} s; last lines of ${this.logFile(name)}:\n${await tail(this.logFile(name))}`,
    );
  }

  private async waitForApiserver(): Promise<void> {
    const pki = this.pki!;
    const [ca, cert, key] = await Promise.all([readFile(pki.caCert), readFile(pki.adminCert), readFile(pki.adminKey)]);
    await this.waitFor('kube-apiserver', () => httpsOk(`${this.server}/readyz`, { ca, cert, key }), 120_000);
  }

  private etcdArgs(): string[] {
    const p = this.ports!;
    return [
      '--name=trellis',
      `--data-dir=${path.join(this.dataDir, 'etcd')}`,
      `--listen-client-urls=http://127.0.0.1:${p.etcdClient}`,
      `--advertise-client-urls=http://127.0.0.1:${p.etcdClient}`,
      `--listen-peer-urls=http://127.0.0.1:${p.etcdPeer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${p.etcdPeer}`,
      `--initial-cluster=trellis=http://127.0.0.1:${p.etcdPeer}`,
      '--unsafe-no-fsync=true',
      '--log-level=warn',
      '--quota-backend-bytes=4294967296',
    ];
  }

  private apiserverArgs(): string[] {
    const p = this.ports!;
    const pki = this.pki!;
    return [
      `--etcd-servers=http://127.0.0.1:${p.etcdClient}`,
      `--secure-port=${p.apiserver}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--cert-dir=${path.join(this.dataDir, 'apiserver-certs')}`,
      `--tls-cert-file=${pki.servingCert}`,
      `--tls-private-key-file=${pki.servingKey}`,
      `--client-ca-file=${pki.caCert}`,
      '--authorization-mode=RBAC',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${pki.saPublicKey}`,
      `--service-account-signing-key-file=${pki.saPrivateKey}`,
      '--api-audiences=https://kubernetes.default.svc.cluster.local',
      // Room for thousands of Services (bench:reconcile creates 4 per application).
      '--service-cluster-ip-range=10.0.0.0/16',
      '--endpoint-reconciler-type=none',
      '--allow-privileged=true',
      '--enable-priority-and-fairness=false',
      // pods/log and exec reach a node at its InternalIP: the nodes here (kwok's, the local runner's) have no
      // resolvable host names, which the API server would try first.
      '--kubelet-preferred-address-types=InternalIP,Hostname',
      '--disable-admission-plugins=ServiceAccount',
      ...(this.options.auditUsers?.length
        ? [
            `--audit-policy-file=${path.join(this.dataDir, 'audit-policy.yaml')}`,
            `--audit-log-path=${path.join(this.dataDir, 'audit.log')}`,
            '--audit-log-format=json',
            // Never rotated (the default rotates at 100 MB): auditEventsFrom reads one growing file, and a
            // bench's log passes 100 MB — a rotation lost the events between two reads (bench:shards).
            '--audit-log-maxsize=1048576',
            '--audit-log-mode=blocking',
          ]
        : []),
      '-v=1',
    ];
  }

  private controllerManagerArgs(): string[] {
    const pki = this.pki!;
    return [
      `--kubeconfig=${this.kubeconfigPath}`,
      '--leader-elect=false',
      '--secure-port=0',
      '--controllers=*,-node-ipam-controller,-cloud-node-lifecycle-controller,-service-lb-controller,-node-route-controller,-persistentvolume-binder-controller,-persistentvolume-attach-detach-controller,-taint-eviction-controller',
      `--service-account-private-key-file=${pki.saPrivateKey}`,
      `--root-ca-file=${pki.caCert}`,
      '--use-service-account-credentials=false',
      '--concurrent-gc-syncs=5',
      '-v=1',
    ];
  }

  private kwokArgs(): string[] {
    return [
      `--kubeconfig=${this.kubeconfigPath}`,
      `--config=${this.options.binaries['kwok-stages.yaml']}`,
      '--manage-all-nodes=false',
      '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
      // The heartbeat stage patches a node only every ~10 minutes and counts on its Lease being
      // renewed; without a lease the node controller marks the nodes not ready every ~50 s, and
      // with them every pod (Ready=False for good: kwok readies only Pending pods).
      '--node-lease-duration-seconds=40',
      '--node-ip=127.0.0.1',
      '--cidr=10.244.0.1/16',
      `--server-address=127.0.0.1:${this.ports!.kwok}`,
      ...(this.kwokServesLogs
        ? [
            // The kubelet API (pods/log) the API server proxies to: HTTPS on the nodes' port (the API server
            // checks no kubelet certificate here), a simulated container's log being the file its Logs names.
            `--node-port=${this.ports!.kwok}`,
            `--tls-cert-file=${this.pki!.servingCert}`,
            `--tls-private-key-file=${this.pki!.servingKey}`,
            '--enable-crds=Logs,ClusterLogs',
          ]
        : []),
    ];
  }

  /** kwok serves container logs when its Logs/ClusterLogs CRDs were given ({@link KWOK_CRDS}). */
  private get kwokServesLogs(): boolean {
    return !!this.options.binaries[KWOK_CRDS];
  }

  private async installKwokCrds(): Promise<void> {
    const text = await readFile(this.options.binaries[KWOK_CRDS]!, 'utf8');
    const crds = parseAllDocuments(text)
      .map((d) => d.toJS() as KubeObject | null)
      .filter((o): o is KubeObject => !!o && o.kind === 'CustomResourceDefinition');
    const kube = await KubeClient.connect({ kubeconfig: this.kubeconfigPath });
    try {
      for (const crd of crds) await kube.apply(crd);
      for (const crd of crds)
        await this.waitFor('kube-apiserver', async () => {
          const live = await kube.get<KubeObject & { status?: { conditions?: { type: string; status: string }[] } }>({
            apiVersion: 'apiextensions.k8s.io/v1',
            kind: 'CustomResourceDefinition',
            name: crd.metadata.name!,
          });
          return !!live.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
        });
    } finally {
      kube.close();
    }
  }

  private async createNodes(count: number): Promise<void> {
    const kube = await KubeClient.connect({ kubeconfig: this.kubeconfigPath });
    try {
      for (let i = 0; i < count; i++) {
        await kube.apply({
          apiVersion: 'v1',
          kind: 'Node',
          metadata: {
            name: `kwok-node-${i}`,
            annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
            labels: { 'kubernetes.io/hostname': `kwok-node-${i}`, type: 'kwok' },
          },
          spec: {},
          status: {
            allocatable: { cpu: '32', memory: '256Gi', pods: '250' },
            capacity: { cpu: '32', memory: '256Gi', pods: '250' },
          },
        });
      }
    } finally {
      kube.close();
    }
  }
}

async function allFree(ports: number[]): Promise<boolean> {
  const check = (port: number) =>
    new Promise<boolean>((resolve) => {
      const s = net
        .createServer()
        .once('error', () => resolve(false))
        .listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
  for (const p of ports) if (!(await check(p))) return false;
  return true;
}

const stoppedWhileStarting = (name: string) =>
  new TrellisError('TRL_CONTROLPLANE_START', `the control plane was stopped while starting (before ${name} was up)`);

function httpOk(url: string): Promise<boolean> {
  return fetch(url, { signal: AbortSignal.timeout(2000) }).then(
    (r) => r.ok,
    () => false,
  );
}

function httpsOk(url: string, tls: { ca: Buffer; cert: Buffer; key: Buffer }): Promise<boolean> {
  return new Promise((resolve) => {
    const req = https.get(url, { ...tls, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
  });
}

async function tail(file: string, lines = 15): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}
