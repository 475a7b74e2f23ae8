/** Reading what `cue` prints on failure, and saying it the way a person who wrote the input understands. */
import { TrellisError } from '../lib/errors.js';

/** One error CUE reported. */
export interface CueIssue {
  /** The value path CUE names (`_x3.parameter.replicas` → `['_x3', 'parameter', 'replicas']`); empty for syntax errors. */
  path: string[];
  /** CUE's message without the path, e.g. `conflicting values int and "three" (mismatched types int and string)`. */
  message: string;
  /** Source positions CUE lists under the message. */
  positions: { file: string; line: number; column: number }[];
}

/**
 * CUE could not evaluate a template. `scope` says whose fault it is: `template` (the template itself
 * does not compile: every use fails), `instance` (these inputs: a wrong parameter, a conflict),
 * `engine` (CUE did not answer). `issues` are CUE's own, with paths relative to the template's top
 * level (`parameter.replicas`, `output.spec`) and positions as lines of the template.
 */
export class CueError extends TrellisError {
  constructor(
    readonly scope: 'template' | 'instance' | 'engine',
    readonly issues: CueIssue[],
  ) {
    super(
      scope === 'template' ? 'TRL_CUE_TEMPLATE' : scope === 'instance' ? 'TRL_CUE_EVAL' : 'TRL_CUE_ENGINE',
      describeIssues(issues),
    );
    this.name = 'CueError';
  }
}

/** Issues as one line each: `parameter.replicas: conflicting values … (line 3:9)`. */
export function describeIssues(issues: CueIssue[]): string {
  if (!issues.length) return 'CUE failed without saying why';
  return issues
    .map((i) => {
      const where = i.positions[0] ? ` (line ${i.positions[0].line}:${i.positions[0].column})` : '';
      return `${i.path.length ? `${i.path.join('.')}: ` : ''}${i.message}${where}`;
    })
    .join('; ');
}

const POSITION = /^\s+(\S+?):(\d+):(\d+)\s*$/;
const PATH_SEGMENT = String.raw`(?:[A-Za-z_$#][A-Za-z0-9_$#-]*|"(?:[^"\\]|\\.)*"|\d+)`;
const WITH_PATH = new RegExp(String.raw`^(${PATH_SEGMENT}(?:\.${PATH_SEGMENT})*): (.*)$`);

/** Splits a dotted CUE path, keeping quoted labels (`metadata.labels."app.oam.dev/name"`) whole. */
export function splitCuePath(path: string): string[] {
  const parts: string[] = [];
  const re = new RegExp(PATH_SEGMENT, 'g');
  for (const m of path.matchAll(re)) parts.push(m[0].startsWith('"') ? (JSON.parse(m[0]) as string) : m[0]);
  return parts;
}

/** Parses the standard error of a failed `cue` run into issues. */
export function parseCueErrors(stderr: string): CueIssue[] {
  const issues: CueIssue[] = [];
  for (const line of stderr.split('\n')) {
    if (!line.trim()) continue;
    const pos = POSITION.exec(line);
    if (pos && issues.length) {
      issues[issues.length - 1].positions.push({ file: pos[1], line: Number(pos[2]), column: Number(pos[3]) });
      continue;
    }
    const text = line.replace(/:\s*$/, '');
    const m = WITH_PATH.exec(text);
    // "expected '}', found 'EOF'" has no path; "foo.bar: reason" has one.
    if (m && !/\s/.test(m[1])) issues.push({ path: splitCuePath(m[1]), message: m[2], positions: [] });
    else issues.push({ path: [], message: text, positions: [] });
  }
  return issues;
}

/** The type names CUE prints, as a person who writes YAML reads them. */
const TYPE_WORDS: Record<string, string> = {
  int: 'int',
  float: 'number',
  number: 'number',
  string: 'string',
  bool: 'bool',
  struct: 'object',
  list: 'list',
  null: 'null',
  bytes: 'bytes',
};

/**
 * A readable reason for one issue about a parameter value, e.g. `expected int, got "three"`.
 * `given` is the value the user set there, when known.
 */
export function explainParameterIssue(message: string, given: unknown): string {
  const mismatch = /^conflicting values (.+?) and (.+?) \(mismatched types (\w+) and (\w+)\)$/.exec(message);
  if (mismatch) {
    const [, a, b, ta, tb] = mismatch;
    // CUE orders the two sides by position; the user's value is the one equal to what they wrote.
    const givenText = given === undefined ? undefined : JSON.stringify(given);
    const userIsA = givenText !== undefined && a === givenText;
    const expectedType = userIsA ? tb : ta;
    const got = userIsA ? a : b;
    const expected = userIsA ? b : a;
    const typeWord = TYPE_WORDS[expectedType] ?? expectedType;
    return `expected ${/^[a-z]+$/.test(expected) && expected in TYPE_WORDS ? TYPE_WORDS[expected] : typeWord}, got ${givenText ?? got}`;
  }
  const conflict = /^conflicting values (.+?) and (.+?)$/.exec(message);
  if (conflict) {
    const givenText = given === undefined ? undefined : JSON.stringify(given);
    const other = conflict[1] === givenText ? conflict[2] : conflict[1];
    return `expected ${other}, got ${givenText ?? conflict[2]}`;
  }
  const bound = /^invalid value (.+?) \(out of bound (.+?)\)$/.exec(message);
  if (bound) return `${bound[1]} is out of bound ${bound[2]}`;
  const disjunction = /^(\d+) errors in empty disjunction/.exec(message);
  if (disjunction)
    return `${given === undefined ? 'the value' : JSON.stringify(given)} matches none of the allowed values`;
  if (/^incomplete value/.test(message)) return 'is required but not set';
  if (/not allowed$/.test(message)) return 'is not a parameter of this definition';
  return message;
}
