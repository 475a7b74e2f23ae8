import { messageOf } from '../../lib/errors.js';
import type { MetricResult, RolloutSpec } from './types.js';

/** Where measurements come from: one number per query, `undefined` for no data. */
export interface MetricSource {
  query(query: string): Promise<number | undefined>;
}

/** What `{{name}}` placeholders in a query stand for. */
export type QueryVariables = Record<'revision' | 'stableRevision' | 'component' | 'app' | 'namespace', string>;

/** The query with `{{revision}}`, `{{stableRevision}}`, `{{component}}`, `{{app}}`, `{{namespace}}` filled in (unknown ones left as they are). */
export function expandQuery(query: string, vars: QueryVariables): string {
  return query.replace(/\{\{\s*(\w+)\s*\}\}/g, (all, name: string) => (name in vars ? vars[name as keyof QueryVariables] : all));
}

/**
 * Measures every metric of the analysis once. A value outside `min`/`max` fails; no data, a value
 * that is not a number (e.g. 0/0) or a query that cannot be answered is inconclusive (neither passes
 * nor fails: the step waits, and says why).
 */
export async function measure(spec: RolloutSpec, source: MetricSource, vars: QueryVariables, now: Date): Promise<MetricResult[]> {
  const measuredAt = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return Promise.all(
    (spec.analysis?.metrics ?? []).map(async (m): Promise<MetricResult> => {
      let value: number | undefined;
      try {
        value = await source.query(expandQuery(m.query, vars));
      } catch (err) {
        return { name: m.name, phase: 'Inconclusive', message: messageOf(err), measuredAt };
      }
      if (value === undefined || Number.isNaN(value)) return { name: m.name, phase: 'Inconclusive', message: value === undefined ? 'no data' : 'not a number (no traffic?)', measuredAt };
      const shown = Number(value.toPrecision(6));
      if (m.min !== undefined && value < m.min) return { name: m.name, phase: 'Failed', value: shown, message: `${shown} is below the minimum ${m.min}`, measuredAt };
      if (m.max !== undefined && value > m.max) return { name: m.name, phase: 'Failed', value: shown, message: `${shown} is above the maximum ${m.max}`, measuredAt };
      return { name: m.name, phase: 'Successful', value: shown, message: `${shown}${m.min !== undefined ? ` ≥ ${m.min}` : ''}${m.max !== undefined ? ` ≤ ${m.max}` : ''}`, measuredAt };
    }),
  );
}
