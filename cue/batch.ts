/**
 * Many template evaluations as ONE `cue export` (DESIGN.md §7: a call costs ~150 ms to start, an
 * instance in a batch ~2 ms). Each distinct template becomes a pattern constraint
 * `_t<k>: [string]: {context: _, <template>}` in a file of its own (so its imports stay its own and
 * its syntax errors point at it); each evaluation is a field `_t<k>: x<i>: {parameter: …, context: …}`
 * whose requested fields are exported as `r<i>`. A pattern is only evaluated for concrete fields, so a
 * template is never evaluated without its context (which CUE would report as errors, e.g. for an
 * `if` over `context.outputs`).
 */
import { layoutOf, topLevelFields, hasTopLevelClauses, type CueSourceLayout } from './source.js';
import type { CueIssue } from './errors.js';

/** One evaluation of a template. */
export interface CueJob {
  /** CUE source in KubeVela's conventions (top-level `parameter`, `output`, …). */
  template: string;
  /** The user's properties, unified with the template's `parameter` (closed: unknown names are errors). */
  parameter?: unknown;
  /** Unified with the template's `context`. */
  context?: Record<string, unknown>;
  /**
   * Top-level fields to export, e.g. `['output', 'outputs', 'patch']`. Fields the template does not
   * declare are left out. `outputs` and `patchOutputs` are read member by member, as KubeVela reads
   * them (native engine). `+patch` asks for the KubeVela strategy comments of `patch` (render/'s
   * `PatchTags`, `null` when it has none); only the native engine reads comments, wasm leaves it out.
   */
  fields: string[];
}

/** What the worker runs: a `cue` command over files in its in-memory filesystem. */
export interface CueInvocation {
  command: string;
  args: string[];
  flags: Record<string, string | boolean>;
  files: { path: string; text: string }[];
}

export interface Batch {
  invocation: CueInvocation;
  /** Template index of each job. */
  templateOf: number[];
  /**
   * Per template: its file path, how many lines the wrapper added above the template's own text, and
   * the line (of the template) on which the wrapper's opening shifts columns right by `columnShift`.
   */
  templates: { path: string; lineShift: number; shiftedLine: number; columnShift: number; lines: number }[];
}

export const BATCH_DIR = '/batch';
const PACKAGE = 'package trellis\n';

/**
 * `_t<k>: {…}` around a template, keeping its line numbers (shifted by one for the package clause).
 * The wrapper opens at the start of the line after the imports, shifting that line's columns.
 */
export function wrapTemplate(
  src: string,
  name: string,
  layout: CueSourceLayout = layoutOf(src),
  pattern = true,
): string {
  let text = src;
  if (layout.packageClause) {
    const { start, end } = layout.packageClause;
    text = text.slice(0, start) + ' '.repeat(end - start) + text.slice(end);
  }
  const split = bodyStart(text, layout);
  return `${PACKAGE}${text.slice(0, split)}${wrapperOpening(name, pattern)}${text.slice(split)}\n}\n`;
}

/** Where the wrapper opens: 0 without imports, else the start of the line after the last import. */
function bodyStart(text: string, layout: CueSourceLayout): number {
  if (!layout.importsEnd) return 0;
  const nl = text.indexOf('\n', layout.importsEnd);
  return nl < 0 ? text.length : nl + 1;
}

/** The template line (1-based) on which the wrapper opens. */
export function wrapperLine(src: string, layout: CueSourceLayout = layoutOf(src)): number {
  return src.slice(0, bodyStart(src, layout)).split('\n').length;
}

/** The text opening the wrapper: `_t0: [string]: {context: _, ` (a pattern), or `_t0: {context: _, ` for a compile check. */
export function wrapperOpening(name: string, pattern = true): string {
  return `${name}: ${pattern ? '[string]: ' : ''}{context: _, `;
}

/** Builds one `cue export` over the jobs. */
export function buildBatch(jobs: CueJob[]): Batch {
  const templateIndex = new Map<string, number>();
  const layouts: CueSourceLayout[] = [];
  const files: CueInvocation['files'] = [];
  const templates: Batch['templates'] = [];
  const templateOf = jobs.map((job) => {
    let k = templateIndex.get(job.template);
    if (k === undefined) {
      k = templates.length;
      templateIndex.set(job.template, k);
      const layout = layoutOf(job.template);
      layouts.push(layout);
      const path = `${BATCH_DIR}/t${k}.cue`;
      files.push({ path, text: wrapTemplate(job.template, `_t${k}`, layout) });
      templates.push({
        path,
        lineShift: 1,
        shiftedLine: wrapperLine(job.template, layout),
        columnShift: wrapperOpening(`_t${k}`).length,
        lines: job.template.split('\n').length,
      });
    }
    return k;
  });
  const lines = [PACKAGE.trimEnd()];
  jobs.forEach((job, i) => {
    const k = templateOf[i];
    const declared = topLevelFields(layouts[k]);
    const dynamic = hasTopLevelClauses(layouts[k]);
    lines.push(`_t${k}: x${i}: {parameter: ${json(job.parameter ?? {})}, context: ${json(job.context ?? {})}}`);
    const exported = job.fields.flatMap((f) => {
      if (f.startsWith('+')) return []; // comments: CUE v0.4's export has none to give
      if (!/^[A-Za-z][A-Za-z0-9]*$/.test(f)) throw new Error(`field ${JSON.stringify(f)} cannot be exported`);
      if (declared.has(f)) return [`${f}: _t${k}.x${i}.${f}`];
      // Declared only inside a top-level if/for (or not at all): export it when it exists.
      if (dynamic) return [`if _t${k}.x${i}.${f} != _|_ {${f}: _t${k}.x${i}.${f}}`];
      return [];
    });
    lines.push(`r${i}: {${exported.join(', ')}}`);
  });
  files.push({ path: `${BATCH_DIR}/instances.cue`, text: `${lines.join('\n')}\n` });
  return {
    invocation: { command: 'export', args: files.map((f) => f.path), flags: { '--out': 'json' }, files },
    templateOf,
    templates,
  };
}

function json(value: unknown): string {
  return JSON.stringify(value);
}

/** The line of `instances.cue` holding job `i`'s instance (1-based): line 1 is the package clause. */
function jobOfInstanceLine(line: number): number {
  return Math.floor((line - 2) / 2);
}

/** Which jobs (and which templates) an issue is about. */
export interface Attribution {
  /** Issues per job index. */
  jobs: Map<number, CueIssue[]>;
  /** Issues per template index (every job of that template fails). */
  templates: Map<number, CueIssue[]>;
}

/** Maps the issues of a failed batch to its jobs and templates; issues naming neither are left out. */
export function attribute(batch: Batch, issues: CueIssue[]): Attribution {
  const result: Attribution = { jobs: new Map(), templates: new Map() };
  const add = <K>(map: Map<K, CueIssue[]>, key: K, issue: CueIssue) => map.set(key, [...(map.get(key) ?? []), issue]);
  for (const issue of issues) {
    // `_t3.x12.parameter.x` or `r12.output`: job 12.
    const inTemplate = /^_t\d+$/.test(issue.path[0] ?? '') ? /^x(\d+)$/.exec(issue.path[1] ?? '') : null;
    const head = inTemplate ?? /^r(\d+)$/.exec(issue.path[0] ?? '');
    if (head) {
      const i = Number(head[1]);
      if (i < batch.templateOf.length) {
        add(result.jobs, i, {
          ...issue,
          path: issue.path.slice(inTemplate ? 2 : 1),
          positions: localPositions(batch, issue),
        });
        continue;
      }
    }
    const tmpl = /^_t(\d+)$/.exec(issue.path[0] ?? '');
    const fromPosition = issue.positions.map((p) => templateOfFile(p.file)).find((k) => k !== undefined);
    const k = tmpl ? Number(tmpl[1]) : fromPosition;
    if (k !== undefined && k < batch.templates.length) {
      add(result.templates, k, {
        ...issue,
        path: (tmpl ? issue.path.slice(1) : issue.path).filter((p) => p !== '[]'),
        positions: localPositions(batch, issue),
      });
      continue;
    }
    const instanceLine = issue.positions.find((p) => p.file.endsWith('/instances.cue'));
    if (instanceLine) {
      const i = jobOfInstanceLine(instanceLine.line);
      if (i >= 0 && i < batch.templateOf.length) add(result.jobs, i, { ...issue, positions: [] });
    }
  }
  return result;
}

function templateOfFile(file: string): number | undefined {
  const m = /\/t(\d+)\.cue$/.exec(file);
  return m ? Number(m[1]) : undefined;
}

/** Positions inside templates, translated to the template's own line numbers; batch-internal ones dropped. */
function localPositions(batch: Batch, issue: CueIssue): CueIssue['positions'] {
  return issue.positions.flatMap((p) => {
    const k = templateOfFile(p.file);
    if (k === undefined) return [];
    const t = batch.templates[k];
    // Errors at the end of the file (a missing `}`) point past the template's last line: clamp.
    const line = Math.min(p.line - t.lineShift, t.lines);
    return [
      { file: 'template', line, column: line === t.shiftedLine ? Math.max(1, p.column - t.columnShift) : p.column },
    ];
  });
}
