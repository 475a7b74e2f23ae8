/**
 * A failed call to the API server, with the server's own `Status` reason and message.
 * Use the predicates (`isNotFound`, `isConflict`, ...) rather than comparing codes at call sites.
 */
export class KubeApiError extends Error {
  readonly statusCode: number;
  readonly reason: string;
  readonly details: unknown;

  constructor(statusCode: number, reason: string, message: string, details?: unknown, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KubeApiError';
    this.statusCode = statusCode;
    this.reason = reason;
    this.details = details;
  }
}

const hasStatus = (err: unknown, code: number): boolean => err instanceof KubeApiError && err.statusCode === code;

export const isNotFound = (err: unknown): boolean => hasStatus(err, 404);
export const isConflict = (err: unknown): boolean =>
  hasStatus(err, 409) && (err as KubeApiError).reason !== 'AlreadyExists';
export const isAlreadyExists = (err: unknown): boolean => err instanceof KubeApiError && err.reason === 'AlreadyExists';
export const isGone = (err: unknown): boolean => hasStatus(err, 410);
export const isForbidden = (err: unknown): boolean => hasStatus(err, 403);
export const isInvalid = (err: unknown): boolean => hasStatus(err, 422);
export const isUnauthorized = (err: unknown): boolean => hasStatus(err, 401);

/**
 * A kubeconfig that cannot be used as it is: none found, a context that does not exist, a file that
 * does not parse, a credential plugin that fails. `code` is a stable `TRL_KUBE_*` code
 * (docs/errors.md); the message starts with it, as a `TrellisError`'s does.
 */
export class KubeconfigError extends Error {
  readonly code: string;
  readonly reason: string;

  constructor(code: string, reason: string, options?: { cause?: unknown }) {
    super(`[${code}] ${reason}`, options);
    this.name = 'KubeconfigError';
    this.code = code;
    this.reason = reason;
  }
}

/**
 * No answer from the API server: refused, unresolvable, timed out, reset (`TRL_KUBE_UNREACHABLE`),
 * its certificate not trusted for the name asked (`TRL_KUBE_TLS`), or the proxy in between failed
 * (`TRL_KUBE_PROXY`). The message says what to check; `errno` keeps Node's code (`ECONNREFUSED`).
 */
export class KubeConnectionError extends KubeconfigError {
  readonly errno: string | undefined;
  /** Worth retrying as it is (the server may come back); false for TLS trust problems. */
  readonly transient: boolean;

  constructor(code: string, reason: string, options: { cause?: unknown; errno?: string; transient: boolean }) {
    super(code, reason, { cause: options.cause });
    this.name = 'KubeConnectionError';
    this.errno = options.errno;
    this.transient = options.transient;
  }
}

/** True when the API server could not be reached at all (see {@link KubeConnectionError}). */
export const isConnectionError = (err: unknown): err is KubeConnectionError => err instanceof KubeConnectionError;

/** True for failures worth retrying as they are: connection trouble, timeouts, 429 and 5xx. */
export function isTransient(err: unknown): boolean {
  if (err instanceof KubeApiError) return err.statusCode === 429 || err.statusCode >= 500;
  if (err instanceof KubeConnectionError) return err.transient;
  const code = (err as { code?: string } | undefined)?.code;
  return (
    typeof code === 'string' &&
    ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_SOCKET'].includes(code)
  );
}
