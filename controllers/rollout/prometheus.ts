import { TrellisError } from '../../lib/errors.js';

export interface PrometheusOptions {
  /** Base URL, e.g. `http://prometheus.monitoring:9090`. */
  address: string;
  /** Longest a query may take. @default 10000 */
  timeoutMs?: number;
}

/** The answer bodies larger than this are refused (a query answering one number is small). */
const MAX_BODY = 1 << 20;

interface QueryResponse {
  status?: string;
  error?: string;
  data?: { resultType?: string; result?: unknown };
}

/**
 * A minimal Prometheus HTTP API client: one instant query answering one number.
 *
 * @example
 *   await new PrometheusClient({ address: 'http://127.0.0.1:9090' }).query('sum(up)')   // 3, or undefined when no series
 */
export class PrometheusClient {
  constructor(private readonly options: PrometheusOptions) {}

  /**
   * The query's value: a scalar, or the single sample of a vector; `undefined` when the vector is
   * empty (no data yet). Throws a TrellisError (`TRL_ROLLOUT_ANALYSIS`) when Prometheus cannot be
   * reached, refuses the query, or answers more than one series.
   */
  async query(promql: string): Promise<number | undefined> {
    const url = `${this.options.address.replace(/\/+$/, '')}/api/v1/query?query=${encodeURIComponent(promql)}`;
    let body: QueryResponse;
    try {
      const res = await fetch(url, {
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
        headers: { accept: 'application/json' },
      });
      const text = await res.text();
      if (text.length > MAX_BODY) throw new Error(`answer of ${text.length} bytes is too large`);
      body = JSON.parse(text) as QueryResponse;
      if (!res.ok && !body.error) throw new Error(`HTTP ${res.status}`);
    } catch (err) {
      throw new TrellisError(
        'TRL_ROLLOUT_ANALYSIS',
        `cannot query Prometheus at ${this.options.address}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    if (body.status !== 'success')
      throw new TrellisError(
        'TRL_ROLLOUT_ANALYSIS',
        `Prometheus refused the query: ${body.error ?? 'no reason given'}`,
      );
    const { resultType, result } = body.data ?? {};
    if (resultType === 'scalar') return Number((result as [number, string])[1]);
    if (resultType !== 'vector' || !Array.isArray(result))
      throw new TrellisError('TRL_ROLLOUT_ANALYSIS', `the query answers a ${resultType ?? 'nothing'}, not one number`);
    if (result.length === 0) return undefined;
    if (result.length > 1)
      throw new TrellisError(
        'TRL_ROLLOUT_ANALYSIS',
        `the query answers ${result.length} series, not one number (aggregate it, e.g. with sum(...))`,
      );
    return Number((result[0] as { value: [number, string] }).value[1]);
  }
}
