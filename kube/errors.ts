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
export const isConflict = (err: unknown): boolean => hasStatus(err, 409) && (err as KubeApiError).reason !== 'AlreadyExists';
export const isAlreadyExists = (err: unknown): boolean => err instanceof KubeApiError && err.reason === 'AlreadyExists';
export const isGone = (err: unknown): boolean => hasStatus(err, 410);
export const isForbidden = (err: unknown): boolean => hasStatus(err, 403);
export const isInvalid = (err: unknown): boolean => hasStatus(err, 422);
export const isUnauthorized = (err: unknown): boolean => hasStatus(err, 401);

/** True for failures worth retrying as they are: connection trouble, timeouts, 429 and 5xx. */
export function isTransient(err: unknown): boolean {
  if (err instanceof KubeApiError) return err.statusCode === 429 || err.statusCode >= 500;
  const code = (err as { code?: string } | undefined)?.code;
  return typeof code === 'string' && ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_SOCKET'].includes(code);
}
