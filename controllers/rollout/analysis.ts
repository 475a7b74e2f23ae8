import { messageOf } from '../../lib/errors.js';
import type { ActivatorMeasure } from './activator-metrics.js';
import type { MetricResult, RolloutSpec } from './types.js';

/** Where measurements come from: one number per query, `undefined` for no data. */
export interface MetricSource {
  query(query: string): Promise<number | undefined>;
}

/** The sources a Rollout's metrics are measured from; a missing one makes its metrics inconclusive, saying why. */
export interface MetricSources {
  /** Prometheus, for metrics with a `query`. */
  prometheus?: MetricSource;
  /** The activator's measure of the new revision over the last interval, for metrics naming an `activator` measure (functions). */
  activator?: (measure: ActivatorMeasure) => Promise<number | undefined>;
}

const NO_PROMETHEUS =
  'no Prometheus to ask: set analysis.prometheus.address, or start the controller with --prometheus-address';
const NO_ACTIVATOR =
  'no activator metrics to read: an activator measure needs a function component, and the controller its --activator-metrics-url';

/** What `{{name}}` placeholders in a query stand for. */
export type QueryVariables = Record<'revision' | 'stableRevision' | 'component' | 'app' | 'namespace', string>;

/** The query with `{{revision}}`, `{{stableRevision}}`, `{{component}}`, `{{app}}`, `{{namespace}}` filled in (unknown ones left as they are). */
export function expandQuery(query: string, vars: QueryVariables): string {
  return query.replace(/\{\{\s*(\w+)\s*\}\}/g, (all, name: string) =>
    name in vars ? vars[name as keyof QueryVariables] : all,
  );
}

/**
 * Measures every metric of the analysis once. A value outside `min`/`max` fails; no data, a value
 * that is not a number (e.g. 0/0), a source that cannot answer or is not there is inconclusive
 * (neither passes nor fails: the step waits, and says why).
 */
export async function measure(
  spec: RolloutSpec,
  sources: MetricSources,
  vars: QueryVariables,
  now: Date,
): Promise<MetricResult[]> {
  const measuredAt = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return Promise.all(
    (spec.analysis?.metrics ?? []).map(async (m): Promise<MetricResult> => {
      const inconclusive = (message: string): MetricResult => ({
        name: m.name,
        phase: 'Inconclusive',
        message,
        measuredAt,
      });
      let value: number | undefined;
      try {
        if (m.activator) {
          if (!sources.activator) return inconclusive(NO_ACTIVATOR);
          value = await sources.activator(m.activator);
        } else {
          if (!sources.prometheus) return inconclusive(NO_PROMETHEUS);
          value = await sources.prometheus.query(expandQuery(m.query ?? '', vars));
        }
      } catch (err) {
        return inconclusive(messageOf(err));
      }
      if (value === undefined || Number.isNaN(value))
        return inconclusive(
          value === undefined ? 'no data (no request in the interval?)' : 'not a number (no traffic?)',
        );
      const shown = Number(value.toPrecision(6));
      if (m.min !== undefined && value < m.min)
        return {
          name: m.name,
          phase: 'Failed',
          value: shown,
          message: `${shown} is below the minimum ${m.min}`,
          measuredAt,
        };
      if (m.max !== undefined && value > m.max)
        return {
          name: m.name,
          phase: 'Failed',
          value: shown,
          message: `${shown} is above the maximum ${m.max}`,
          measuredAt,
        };
      return {
        name: m.name,
        phase: 'Successful',
        value: shown,
        message: `${shown}${m.min !== undefined ? ` ≥ ${m.min}` : ''}${m.max !== undefined ? ` ≤ ${m.max}` : ''}`,
        measuredAt,
      };
    }),
  );
}
