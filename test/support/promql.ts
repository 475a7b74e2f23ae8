/**
 * Reading Prometheus text and PromQL in tests: which metric families a process exports, and which
 * metrics a query refers to.
 */

/** Metric families in Prometheus text format (from its `# TYPE` lines), with their types. */
export function metricFamilies(text: string): Map<string, string> {
  const families = new Map<string, string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) families.set(m[1]!, m[2]!);
  return families;
}

const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  'inf',
  'nan',
]);

/**
 * The metric names a PromQL expression selects (Grafana variables such as `$__rate_interval` allowed):
 * identifiers that are not functions, keywords, label names or strings.
 *
 * @example
 *   metricNames('sum by (le) (rate(foo_bucket{a="b"}[5m])) / bar')   // ['foo_bucket', 'bar']
 */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names: string[] = [];
  for (const m of stripped.matchAll(/(\$?)\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b(\s*\()?/g)) {
    if (m[1] || m[3] || KEYWORDS.has(m[2]!.toLowerCase())) continue;
    if (/^\d/.test(m[2]!)) continue;
    names.push(m[2]!);
  }
  return [...new Set(names)];
}

/** True when `name` is a family exported, or one of a histogram's (or summary's) series. */
export function isExported(name: string, families: Map<string, string>): boolean {
  if (families.has(name)) return true;
  const base = name.replace(/_(bucket|sum|count)$/, '');
  return base !== name && ['histogram', 'summary'].includes(families.get(base) ?? '');
}
