/**
 * A small lexical reader of CUE source: enough to wrap a template into a batch file (package clause,
 * imports, top-level declarations) and to tell which `context` fields a template reads. It never
 * evaluates anything; CUE itself does that in the worker.
 */

/** One top-level declaration of a CUE file. */
export interface TopLevelDecl {
  /** The first label (`output`, `#Port`, `_helper`), `undefined` for `if`/`for`/`let` clauses and dynamic labels. */
  label?: string;
  /** `field`, `definition` (`#X`), `hidden` (`_x`), `let`, `clause` (`if`/`for` at top level), `other`. */
  kind: 'field' | 'definition' | 'hidden' | 'let' | 'clause' | 'other';
  start: number;
  end: number;
}

export interface CueSourceLayout {
  /** Offset range of the `package` clause, if any. */
  packageClause?: { start: number; end: number };
  /** Offset just past the last import declaration (0 when there is none). */
  importsEnd: number;
  /** Each imported package: the name it is referred to by, its import path, and where that path is written (1-based). */
  imports: { name: string; path: string; at?: { line: number; column: number } }[];
  decls: TopLevelDecl[];
}

const IDENT = /[A-Za-z0-9_$#]/;

/** Index just past the string literal starting at `i` (handles `"`, `"""`, `'`, `'''`, `#"…"#` and `\( )` interpolations). */
export function skipString(src: string, i: number): number {
  let hashes = 0;
  while (src[i] === '#') {
    hashes++;
    i++;
  }
  const quote = src[i];
  if (quote !== '"' && quote !== "'") return i;
  const multi = src.startsWith(quote.repeat(3), i);
  const close = (multi ? quote.repeat(3) : quote) + '#'.repeat(hashes);
  const escape = '\\' + '#'.repeat(hashes);
  i += multi ? 3 : 1;
  while (i < src.length) {
    if (src.startsWith(escape, i)) {
      const after = i + escape.length;
      if (src[after] === '(') i = skipBalanced(src, after);
      else i = after + 1;
      continue;
    }
    if (src.startsWith(close, i)) return i + close.length;
    if (!multi && src[i] === '\n') return i; // unterminated: let CUE report it
    i++;
  }
  return i;
}

/** From an opening bracket at `i`, the index just past its matching close (strings and comments skipped). */
export function skipBalanced(src: string, i: number): number {
  let depth = 0;
  while (i < src.length) {
    const c = src[i];
    if (c === '/' && src[i + 1] === '/') {
      i = lineEnd(src, i);
      continue;
    }
    if (c === '"' || c === "'" || (c === '#' && /^#+["']/.test(src.slice(i, i + 8)))) {
      i = skipString(src, i);
      continue;
    }
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') {
      depth--;
      if (depth === 0) return i + 1;
    }
    i++;
  }
  return i;
}

function lineEnd(src: string, i: number): number {
  const n = src.indexOf('\n', i);
  return n < 0 ? src.length : n;
}

export function skipSpaceAndComments(src: string, i: number): number {
  for (;;) {
    while (i < src.length && /\s/.test(src[i])) i++;
    if (src[i] === '/' && src[i + 1] === '/') i = lineEnd(src, i);
    else return i;
  }
}

function readIdent(src: string, i: number): string {
  let j = i;
  while (j < src.length && IDENT.test(src[j])) j++;
  return src.slice(i, j);
}

/** End of the declaration starting at `i`: a newline or comma at depth 0 after a token that ends an expression. */
function declEnd(src: string, i: number): number {
  let last = '';
  while (i < src.length) {
    const c = src[i];
    if (c === '/' && src[i + 1] === '/') {
      i = lineEnd(src, i);
      continue;
    }
    if (c === '"' || c === "'" || (c === '#' && /^#+["']/.test(src.slice(i, i + 8)))) {
      i = skipString(src, i);
      last = '"';
      continue;
    }
    if (c === '(' || c === '[' || c === '{') {
      i = skipBalanced(src, i);
      last = ')';
      continue;
    }
    if (c === ',') return i;
    if (c === '\n') {
      if (last && !/^[&|:=+\-*/<>!,.?]$/.test(last)) return i;
      i++;
      continue;
    }
    if (!/\s/.test(c)) {
      if (IDENT.test(c)) {
        const word = readIdent(src, i);
        i += word.length;
        last = word;
        continue;
      }
      if (src.startsWith('_|_', i)) {
        i += 3;
        last = '_|_';
        continue;
      }
      if (src.startsWith('...', i)) {
        i += 3;
        last = '...';
        continue;
      }
      last = c;
    }
    i++;
  }
  return i;
}

/** The package clause, imports and top-level declarations of a CUE file. */
export function layoutOf(src: string): CueSourceLayout {
  const layout: CueSourceLayout = { importsEnd: 0, imports: [], decls: [] };
  let i = skipSpaceAndComments(src, 0);
  if (readIdent(src, i) === 'package') {
    const end = lineEnd(src, i);
    layout.packageClause = { start: i, end };
    i = skipSpaceAndComments(src, end);
  }
  while (readIdent(src, i) === 'import') {
    let j = skipSpaceAndComments(src, i + 'import'.length);
    const spec = (at: number): number => {
      let alias: string | undefined;
      if (IDENT.test(src[at] ?? '')) {
        alias = readIdent(src, at);
        at = skipSpaceAndComments(src, at + alias.length);
      }
      const end = skipString(src, at);
      let path = src.slice(at, end);
      try {
        path = JSON.parse(path) as string;
      } catch {
        /* left for CUE to report */
      }
      const name = alias ?? path.replace(/:.*$/, '').split('/').pop() ?? path;
      const before = src.slice(0, at);
      const line = before.split('\n').length;
      layout.imports.push({ name, path, at: { line, column: at - before.lastIndexOf('\n') } });
      return end;
    };
    if (src[j] === '(') {
      const close = skipBalanced(src, j);
      let k = skipSpaceAndComments(src, j + 1);
      while (k < close - 1) k = skipSpaceAndComments(src, spec(k));
      j = close;
    } else j = spec(j);
    layout.importsEnd = j;
    i = skipSpaceAndComments(src, j);
  }
  while (i < src.length) {
    const start = i;
    const end = declEnd(src, i);
    layout.decls.push({ ...classify(src, start), start, end });
    i = skipSpaceAndComments(src, end + 1);
  }
  return layout;
}

function classify(src: string, i: number): Omit<TopLevelDecl, 'start' | 'end'> {
  const c = src[i];
  if (c === '"') {
    const end = skipString(src, i);
    const text = src.slice(i, end);
    try {
      return { kind: 'field', label: JSON.parse(text) as string };
    } catch {
      return { kind: 'other' };
    }
  }
  const word = readIdent(src, i);
  if (!word) return { kind: 'other' };
  const at = skipSpaceAndComments(src, i + word.length);
  // `label:`, `label?:`, `label!:` — but `if !x {` is a clause, not a required field `if`.
  const labelled =
    src[at] === ':' || ((src[at] === '?' || src[at] === '!') && src[skipSpaceAndComments(src, at + 1)] === ':');
  if (word === 'let') return { kind: 'let' };
  if ((word === 'if' || word === 'for') && !labelled) return { kind: 'clause' };
  if (!labelled) return { kind: 'other' };
  if (word.startsWith('#') || word.startsWith('_#')) return { kind: 'definition', label: word };
  if (word.startsWith('_')) return { kind: 'hidden', label: word };
  return { kind: 'field', label: word };
}

/** Regular fields declared at the top level (statically, outside `if`/`for` clauses). */
export function topLevelFields(layout: CueSourceLayout): Set<string> {
  return new Set(layout.decls.filter((d) => d.kind === 'field' && d.label).map((d) => d.label!));
}

/** Whether some top-level declaration is an `if`/`for` clause, which may declare fields dynamically. */
export function hasTopLevelClauses(layout: CueSourceLayout): boolean {
  return layout.decls.some((d) => d.kind === 'clause' || (d.kind === 'other' && d.label === undefined));
}

/**
 * Which `context` fields a template reads: a set of names, or `'all'` when it uses `context` in any
 * other way (`context["name"]`, `let c = context`). Conservative: a mention in a comment counts. The
 * result bounds what a cached evaluation depends on, so it errs on the side of "more".
 */
export function contextFieldsRead(src: string): Set<string> | 'all' {
  const fields = new Set<string>();
  const re = /(?<![A-Za-z0-9_$#])context(?![A-Za-z0-9_$#])(\s*\.\s*([A-Za-z_$][A-Za-z0-9_$]*))?/g;
  for (const m of src.matchAll(re)) {
    if (!m[2]) return 'all';
    fields.add(m[2]);
  }
  return fields;
}

/**
 * The paths of each `context` field a template reads, for {@link contextFieldsRead}'s fields:
 * `context.output.status.readyReplicas` reads `['status', 'readyReplicas']` of `output`; a field
 * named without a selector after it (`context.output`, `context.output[0]`, `context.output."a-b"`)
 * or before anything else reads at that depth all of what is there (`[]`, or the selectors up to
 * it). `'all'` when `context` is used otherwise, as contextFieldsRead. Conservative in the same
 * way: every mention counts, a path stops at the first thing that is not a plain `.name`, and a
 * field reached through an alias (`let o = context.output`) is read whole.
 *
 * @example
 *   contextPathsRead('isHealth: context.output.status.readyReplicas > 0')
 *   // Map { 'output' => [['status', 'readyReplicas']] }
 */
export function contextPathsRead(src: string): Map<string, string[][]> | 'all' {
  const paths = new Map<string, string[][]>();
  const re = /(?<![A-Za-z0-9_$#])context(?![A-Za-z0-9_$#])((?:\s*\.\s*[A-Za-z_$][A-Za-z0-9_$]*(?![A-Za-z0-9_$#]))*)/g;
  for (const m of src.matchAll(re)) {
    const [field, ...path] = (m[1] ?? '')
      .split('.')
      .map((s) => s.trim())
      .filter(Boolean);
    if (!field) return 'all';
    paths.set(field, [...(paths.get(field) ?? []), path]);
  }
  return paths;
}
