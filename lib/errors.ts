/**
 * Errors a person reads. Every user-facing failure is a {@link TrellisError} with a stable `code`
 * (listed in docs/errors.md), the object and field it is about, and the underlying cause.
 *
 * @example
 *   throw new TrellisError('TRL_RENDER_PARAMETER', 'expected int, got "three"', {
 *     object: 'Component/web', field: 'spec.parameters.replicas' })
 *   // → [TRL_RENDER_PARAMETER] Component/web: spec.parameters.replicas: expected int, got "three"
 */
export interface ErrorContext {
  /** The object the error is about, as `Kind/name` or `Kind/namespace/name`. */
  object?: string;
  /** The field path inside that object, e.g. `spec.components[0].traits[1]`. */
  field?: string;
  /** The underlying error. */
  cause?: unknown;
}

export class TrellisError extends Error {
  readonly code: string;
  readonly object?: string;
  readonly field?: string;
  /** The message without code and location, for places that add their own framing. */
  readonly reason: string;

  constructor(code: string, reason: string, context: ErrorContext = {}) {
    super(formatMessage(code, reason, context), context.cause === undefined ? undefined : { cause: context.cause });
    this.name = 'TrellisError';
    this.code = code;
    this.reason = reason;
    if (context.object !== undefined) this.object = context.object;
    if (context.field !== undefined) this.field = context.field;
  }
}

function formatMessage(code: string, reason: string, { object, field }: ErrorContext): string {
  const where = [object, field].filter(Boolean).join(': ');
  return `[${code}] ${where ? `${where}: ` : ''}${reason}`;
}

/** The message of anything thrown, without a stack. */
export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

export function isTrellisError(err: unknown, code?: string): err is TrellisError {
  return err instanceof TrellisError && (code === undefined || err.code === code);
}
