import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import tls from 'node:tls';
import { TrellisError, messageOf } from '../lib/errors.js';
import { silentLogger, type Logger } from '../lib/log.js';

export interface CertificateFiles {
  /** PEM certificate chain of the serving certificate. */
  certFile: string;
  /** PEM private key of the serving certificate. */
  keyFile: string;
}

export interface CertificateReloaderOptions extends CertificateFiles {
  /** Called with each new valid pair (after the first {@link CertificateReloader.load}). */
  onChange: (pair: { cert: string; key: string }) => void;
  /** Called when the files changed but do not form a valid pair (yet): the previous pair stays in use. */
  onReject?: (err: Error) => void;
  /**
   * Files are also re-read this often, for file systems whose change events are unreliable (a
   * Kubernetes Secret volume swaps a symlink). 0 turns polling off. @default 10000
   */
  pollMs?: number;
  logger?: Logger;
}

/**
 * Keeps a serving certificate and key in step with their files on disk (cert-manager or a rotated
 * Secret rewrite them). A change is picked up from file-system events of the two folders and from a
 * periodic re-read; a half-written pair (key and cert not matching, unparsable PEM) is ignored until
 * the pair is whole again.
 *
 * @example
 *   const reloader = new CertificateReloader({ certFile, keyFile, onChange: (p) => server.setSecureContext(p) })
 *   const first = await reloader.load(); reloader.start()
 */
export class CertificateReloader {
  private current = '';
  private watchers: FSWatcher[] = [];
  private timer: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private checking: Promise<void> = Promise.resolve();
  private readonly logger: Logger;

  constructor(private readonly options: CertificateReloaderOptions) {
    this.logger = options.logger ?? silentLogger;
  }

  /** Reads and checks the pair; throws `TRL_WEBHOOK_CERTIFICATE` when it is missing or invalid. */
  async load(): Promise<{ cert: string; key: string }> {
    const pair = await this.read();
    this.current = pair.cert + pair.key;
    return pair;
  }

  /** Starts watching; changes are reported through `onChange`. */
  start(): void {
    const dirs = new Set([path.dirname(this.options.certFile), path.dirname(this.options.keyFile)]);
    for (const dir of dirs) {
      try {
        const watcher = watch(dir, () => this.schedule());
        watcher.on('error', (err) =>
          this.logger.warn({ err: messageOf(err), dir }, 'certificate folder watch failed; relying on polling'),
        );
        this.watchers.push(watcher);
      } catch (err) {
        this.logger.warn({ err: messageOf(err), dir }, 'cannot watch certificate folder; relying on polling');
      }
    }
    const pollMs = this.options.pollMs ?? 10_000;
    if (pollMs > 0) {
      this.timer = setInterval(() => this.schedule(), pollMs);
      this.timer.unref();
    }
  }

  stop(): void {
    for (const w of this.watchers) w.close();
    this.watchers = [];
    clearInterval(this.timer);
    clearTimeout(this.debounce);
  }

  /** Re-reads the files now; resolves once a changed pair was handed to `onChange` (or rejected). */
  check(): Promise<void> {
    this.checking = this.checking.then(() => this.compare());
    return this.checking;
  }

  /** A writer usually replaces cert and key one after the other: wait for both before reading. */
  private schedule(): void {
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => void this.check(), 50);
    this.debounce.unref();
  }

  private async compare(): Promise<void> {
    let pair: { cert: string; key: string };
    try {
      pair = await this.read();
    } catch (err) {
      this.options.onReject?.(err as Error);
      return;
    }
    if (pair.cert + pair.key === this.current) return;
    this.current = pair.cert + pair.key;
    this.options.onChange(pair);
  }

  private async read(): Promise<{ cert: string; key: string }> {
    const { certFile, keyFile } = this.options;
    let cert: string;
    let key: string;
    try {
      [cert, key] = await Promise.all([readFile(certFile, 'utf8'), readFile(keyFile, 'utf8')]);
    } catch (err) {
      throw new TrellisError('TRL_WEBHOOK_CERTIFICATE', `cannot read the serving certificate: ${messageOf(err)}`, {
        object: certFile,
        cause: err,
      });
    }
    try {
      tls.createSecureContext({ cert, key });
    } catch (err) {
      throw new TrellisError(
        'TRL_WEBHOOK_CERTIFICATE',
        `${certFile} and ${keyFile} are not a valid certificate and key pair: ${messageOf(err)}`,
        { cause: err },
      );
    }
    return { cert, key };
  }
}
