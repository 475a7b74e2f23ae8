/**
 * `tsx bench/shards/recheck.ts <audit.log> [from]`: checks a kept copy of a bench:shards run's API
 * server audit log again with the current ExclusivityChecker — every replica write against the shard
 * tenures read from the same log, and 409s between replicas — from RFC 3339 time `from` (the start of
 * the kills; default the whole log). For a checker fixed after a run: the run removes its control
 * plane's folder when it ends, so copy `audit.log` out of it while it runs.
 *
 * Env: BENCH_SHARDS_SHARDS (12), as the run.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { AuditEvent } from '../../controlplane/index.js';
import { ExclusivityChecker, replicaOf } from '../../test/support/shards.js';
import { shardOfWrite } from './attribution.js';

const [file, from = ''] = process.argv.slice(2);
if (!file) {
  console.error('usage: tsx bench/shards/recheck.ts <audit.log> [from, e.g. 2026-12-07T02:57:00Z]');
  process.exit(2);
}
const SHARDS = Number(process.env.BENCH_SHARDS_SHARDS ?? 12);
const checker = new ExclusivityChecker({
  group: 'bench-shards',
  shards: SHARDS,
  shardOf: shardOfWrite('bench-shards', SHARDS),
});
let batch: AuditEvent[] = [];
let events = 0;
for await (const line of createInterface({ input: createReadStream(file) })) {
  if (!line) continue;
  const e = JSON.parse(line) as AuditEvent;
  if ((e.stageTimestamp ?? '') < from) continue;
  events++;
  batch.push(e);
  if (batch.length >= 50_000) {
    checker.add(batch.filter((x) => replicaOf(x) || x.verb !== 'get'));
    batch = [];
  }
}
checker.add(batch);
const report = checker.report();
console.log(
  `${events} audit events from ${from || 'the start'}: ${report.writes} replica writes checked from ${report.replicas.length} replicas, ` +
    `${report.handovers} shard tenures, ${report.violations.length} outside the writer's shards, ${report.conflicts.length} conflicts between replicas`,
);
for (const v of report.violations.slice(0, 20)) console.log(`  violation: ${v}`);
for (const c of report.conflicts.slice(0, 20)) console.log(`  conflict: ${c}`);
