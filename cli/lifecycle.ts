/**
 * How every long-running command (controller, webhook, serverless, up) starts and stops: it says
 * when it waits for the API server, and the first SIGINT or SIGTERM ends it promptly in any state —
 * waiting, starting or running — within the shutdown timeout (1.5 s unless the command is told
 * otherwise), after which the process exits anyway; a second signal exits at once.
 */
import { waitForServer, type KubeClient, type ServerVersion } from '../kube/index.js';
import { messageOf } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import { stopSignal, type SignalSource } from '../lib/signals.js';
import { UsageError, type CommandIO } from './command.js';

/** Shutdown timeout when the command is not given one: the process is gone within 2 s of the first signal. */
export const DEFAULT_SHUTDOWN_MS = 1_500;

/** What the body of a long-running command gets. */
export interface RunContext {
  /** Aborts on the first SIGINT or SIGTERM: pass it to every wait. */
  signal: AbortSignal;
  /** Resolves with that signal: `await stopped` is "run until stopped". */
  stopped: Promise<NodeJS.Signals>;
}

export interface RunOptions {
  logger: Logger;
  /** Time from the first signal to a forced exit. @default {@link DEFAULT_SHUTDOWN_MS} */
  shutdownMs?: number;
  /** @default process */
  signals?: SignalSource & { once?: (event: 'SIGINT' | 'SIGTERM', listener: () => void) => unknown };
}

/**
 * Runs `body` until it returns. Signals are listened to before `body` starts (one during start-up is
 * not lost); the first aborts `signal`, and if `body` has not returned `shutdownMs` later, `io.exit`
 * ends the process (exit code 1). An abort while `body` waits is a clean stop (exit code 0). After a
 * stop, a process still alive `shutdownMs` after `body` returned (a leaked handle) exits with its code.
 *
 * @example
 *   return runUntilStopped(io, { logger }, async ({ signal, stopped }) => {
 *     await waitForApiServer(kube, logger, signal)
 *     await abortable(manager.start(), signal)
 *     await stopped
 *     return 0
 *   })
 */
export async function runUntilStopped(
  io: CommandIO,
  options: RunOptions,
  body: (ctx: RunContext) => Promise<number>,
): Promise<number> {
  const source = options.signals ?? process;
  const shutdownMs = options.shutdownMs ?? DEFAULT_SHUTDOWN_MS;
  const stop = stopSignal(source);
  const abort = new AbortController();
  let deadline: NodeJS.Timeout | undefined;
  const again = (signal: NodeJS.Signals) => {
    options.logger.warn({ signal }, 'second signal: exiting now');
    io.exit?.(130);
  };
  let finished = false;
  void stop.signal.then((signal) => {
    if (finished) return;
    options.logger.info({ signal, shutdownTimeoutMs: shutdownMs }, 'stopping');
    abort.abort();
    source.on('SIGINT', again);
    source.on('SIGTERM', again);
    deadline = setTimeout(() => {
      options.logger.warn(
        { shutdownTimeoutMs: shutdownMs },
        'shutdown took longer than the shutdown timeout: exiting now',
      );
      io.exit?.(1);
    }, shutdownMs);
  });
  let code = 1;
  try {
    code = await body({ signal: abort.signal, stopped: stop.signal });
    return code;
  } catch (err) {
    if (abort.signal.aborted && (err as Error)?.name === 'AbortError') {
      code = 0;
      return code;
    }
    throw err;
  } finally {
    finished = true;
    stop.dispose();
    source.off('SIGINT', again);
    source.off('SIGTERM', again);
    clearTimeout(deadline);
    // Stopped by a signal and everything shut down: a handle something leaked (a worker, a socket)
    // must not keep the process alive. Unreferenced, so a clean exit does not wait for it.
    if (abort.signal.aborted)
      setTimeout(() => {
        options.logger.warn({ shutdownTimeoutMs: shutdownMs }, 'still running after it stopped: exiting now');
        io.exit?.(code);
      }, shutdownMs).unref();
  }
}

/** Rejects with an `AbortError` as soon as `signal` aborts, else settles as `promise` does. */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(abortError());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError());
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

const abortError = () => Object.assign(new Error('interrupted'), { name: 'AbortError' });

/**
 * Waits until the API server answers, logging each failed attempt as `waiting for the API server`
 * (with the attempt, the wait before the next and why), then once that it is reachable.
 */
export async function waitForApiServer(kube: KubeClient, logger: Logger, signal: AbortSignal): Promise<ServerVersion> {
  let waited = false;
  const version = await waitForServer(kube, {
    signal,
    onWait: (attempt, retryInMs, err) => {
      waited = true;
      logger.warn(
        { server: kube.connection.server.origin, attempt, retryInMs, err: messageOf(err) },
        'waiting for the API server',
      );
    },
  });
  logger.info({ server: kube.connection.server.origin, version: version.gitVersion, waited }, 'API server reachable');
  return version;
}

/** `--shutdown-timeout` in ms, checked. */
export function shutdownTimeout(value: string | undefined): number {
  if (value === undefined) return DEFAULT_SHUTDOWN_MS;
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0)
    throw new UsageError(`--shutdown-timeout must be a positive number of seconds, got "${value}"`);
  return Math.round(seconds * 1000);
}
