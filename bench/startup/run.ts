/**
 * `npm run bench:startup`: how long the CLI takes to start (issue 14: offline commands ≤ 0.3 s), in
 * one run, interleaved so load hits each alike:
 *   1. reference: bare `node -e 0` (the floor: Node's own start);
 *   2. `trellis --help` (bin/trellis.js: main and the command registry, no command module);
 *   3. `trellis render -f examples/quickstart/app.yaml` (an offline command: definitions + CUE).
 * BENCH_STARTUP_RUNS (default 10) runs of each; prints median, min and max wall time per command
 * and the median over the reference, and the mean CPU time (user + system) per start, counting the
 * processes a command starts (the native CUE evaluator) — the figure load disturbs least. Needs
 * `npm run build` (dist/) first.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const RUNS = Number(process.env.BENCH_STARTUP_RUNS ?? 10);
const bin = path.join(root, 'bin', 'trellis.js');

const COMMANDS: [string, string[]][] = [
  ['node -e 0 (reference)', ['-e', '0']],
  ['trellis --help', [bin, '--help']],
  ['trellis render -f examples/quickstart/app.yaml', [bin, 'render', '-f', 'examples/quickstart/app.yaml']],
];

/**
 * CPU seconds (user + system) of this process's waited-for children and theirs, from /proc (Linux;
 * NaN elsewhere): cutime + cstime, in Linux's USER_HZ hundredths of a second.
 */
function childrenCpu(): number {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[13]) + Number(fields[14])) / 100;
  } catch {
    return NaN;
  }
}

/** Wall and CPU seconds of one run of `node <args>`; fails on a non-zero exit. */
function time(args: string[]): { wall: number; cpu: number } {
  const cpu = childrenCpu();
  const started = performance.now();
  const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8' });
  const wall = (performance.now() - started) / 1000;
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return { wall, cpu: childrenCpu() - cpu };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const samples = COMMANDS.map(() => [] as number[]);
const cpu = COMMANDS.map(() => [] as number[]);
for (const [, args] of COMMANDS) time(args); // warm the file cache once
for (let i = 0; i < RUNS; i++)
  COMMANDS.forEach(([, args], j) => {
    const t = time(args);
    samples[j]!.push(t.wall);
    cpu[j]!.push(t.cpu);
  });

console.log(
  `${new Date().toISOString()} · ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'} · Node ${process.version} · ` +
    `load ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} · ${RUNS} runs each`,
);
const reference = median(samples[0]!);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const cpuReference = mean(cpu[0]!);
COMMANDS.forEach(([name], j) => {
  const xs = samples[j]!;
  const m = median(xs);
  const c = mean(cpu[j]!);
  console.log(
    `${name.padEnd(48)} median ${m.toFixed(3)} s  (min ${Math.min(...xs).toFixed(3)}, max ${Math.max(...xs).toFixed(3)})` +
      (j ? `  +${(m - reference).toFixed(3)} s over node` : '') +
      `  · CPU ${c.toFixed(3)} s` +
      (j ? ` (+${(c - cpuReference).toFixed(3)} s)` : ''),
  );
});
