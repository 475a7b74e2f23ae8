/**
 * Checking a template without inputs (`CueEngine.check`). One `cue eval` (either engine) over two copies of it:
 * `_t0`, as it will run (syntax, imports, conflicts, bad references), and `_#c0`, the same inside a
 * definition, where structs are closed. CUE structs are open, so `parameter.replicaz` in the first
 * copy is merely incomplete (a field that might still come); in the closed copy it is an "undefined
 * field". Only those errors are taken from the closed copy — references into `parameter` the
 * template does not declare — since closing changes the meaning of other templates (a struct
 * extended with fields from elsewhere would be "not allowed" there and fine in use).
 */
import type { CueFiles } from './backend.js';
import { BATCH_DIR, wrapperLine, wrapperOpening, wrapTemplate } from './batch.js';
import type { CueIssue } from './errors.js';
import { layoutOf } from './source.js';

const PLAIN = '_t0';
const CLOSED = '_#c0';
const PLAIN_FILE = `${BATCH_DIR}/t0.cue`;
const CLOSED_FILE = `${BATCH_DIR}/c0.cue`;

/** The files whose `cue eval` checks a template. */
export function checkFiles(template: string): CueFiles {
  const layout = layoutOf(template);
  return [
    { path: PLAIN_FILE, text: wrapTemplate(template, PLAIN, layout, false) },
    { path: CLOSED_FILE, text: wrapTemplate(template, CLOSED, layout, false) },
  ];
}

const fromClosedCopy = (issue: CueIssue) =>
  issue.path[0] === CLOSED || issue.positions.some((p) => p.file.endsWith('/c0.cue'));

/** `parameter.a.b.` (then the undefined field), ending where CUE points. */
const PARAMETER_CHAIN = /(?<![A-Za-z0-9_$#])parameter(?:\s*\.\s*[A-Za-z_$][A-Za-z0-9_$]*)*\s*\.\s*$/;

/**
 * The issues of a failed check, with the template's own line numbers: everything the plain copy
 * reports, and each reference to a field the template's `parameter` does not declare.
 */
export function checkIssues(template: string, issues: CueIssue[]): CueIssue[] {
  const lines = template.split('\n');
  const plain = issues.filter((i) => !fromClosedCopy(i)).map((i) => toTemplate(i, PLAIN, lines.length));
  const shiftedLine = wrapperLine(template);
  const shift = wrapperOpening(CLOSED, false).length;
  const undeclared = issues.filter(fromClosedCopy).flatMap((issue) => {
    const field = /^undefined field:? (\S+)$/.exec(issue.message)?.[1];
    const at = issue.positions.find((p) => p.file.endsWith('/c0.cue'));
    if (!field || !at) return [];
    const line = at.line - 1;
    const column = line === shiftedLine ? at.column - shift : at.column;
    const before = PARAMETER_CHAIN.exec((lines[line - 1] ?? '').slice(0, column - 1));
    if (!before) return [];
    const reference = `${before[0].replace(/\s+/g, '')}${field}`;
    return [
      {
        ...toTemplate(issue, CLOSED, lines.length),
        message: `${reference} is not declared in the template's parameter`,
        positions: [{ file: 'template', line, column }],
      },
    ];
  });
  // Once each: CUE may name one reference from several places, and a position-less error comes from both copies.
  const seen = new Set<string>();
  return [...plain, ...undeclared].filter((i) => {
    const key = i.message.endsWith("the template's parameter") ? JSON.stringify(i.positions) : JSON.stringify(i);
    return !seen.has(key) && !!seen.add(key);
  });
}

/** An issue of one copy, with its path relative to the template and the template's line numbers. */
function toTemplate(issue: CueIssue, name: string, lines: number): CueIssue {
  return {
    path: (issue.path[0] === name ? issue.path.slice(1) : issue.path).filter((p) => p !== '[]'),
    message: issue.message,
    positions: issue.positions.map((p) => ({ file: 'template', line: Math.min(p.line - 1, lines), column: p.column })),
  };
}
