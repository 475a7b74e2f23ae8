/**
 * Milliseconds since the epoch, with the microseconds as a fraction, of an audit timestamp
 * (`requestReceivedTimestamp`, `stageTimestamp`: RFC 3339 with microseconds — `Date.parse` keeps
 * only milliseconds); NaN when absent.
 *
 * @example
 *   auditTime('2026-12-07T03:17:01.123456Z') - auditTime('2026-12-07T03:17:01.123000Z') // 0.456
 */
export function auditTime(stamp: string | undefined): number {
  if (!stamp) return NaN;
  return Date.parse(stamp) + Number(/\.\d{3}(\d{1,3})/.exec(stamp)?.[1]?.padEnd(3, '0') ?? 0) / 1000;
}
