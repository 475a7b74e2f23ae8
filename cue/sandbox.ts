/**
 * What a template may import: CUE's pure standard packages, which compute and nothing else. The
 * tool/* packages (file, exec, http, os, cli: files, commands, the network, environment variables)
 * and every package outside the standard library are refused before either engine sees the
 * template. Each engine holds the line itself too: the wasm workers see an empty in-memory
 * filesystem, the native evaluator checks the same list with CUE's own parser
 * (cue/native/go/sandbox.go) and runs no loader.
 */
import type { CueIssue } from './errors.js';
import { layoutOf } from './source.js';

/** CUE's standard packages that neither read nor write anything outside the evaluation. Keep in step with sandbox.go. */
export const PURE_STANDARD_PACKAGES: ReadonlySet<string> = new Set([
  'crypto/ed25519',
  'crypto/hmac',
  'crypto/md5',
  'crypto/sha1',
  'crypto/sha256',
  'crypto/sha512',
  'encoding/base64',
  'encoding/csv',
  'encoding/hex',
  'encoding/json',
  'encoding/toml',
  'encoding/yaml',
  'html',
  'list',
  'math',
  'math/bits',
  'net',
  'path',
  'regexp',
  'strconv',
  'strings',
  'struct',
  'text/tabwriter',
  'text/template',
  'time',
  'uuid',
]);

/** The sentence refusing an import (the native evaluator says the same). */
export function refusedImportMessage(path: string): string {
  return `import ${JSON.stringify(path)} is not allowed: templates may import only CUE's pure standard packages (no tool/* package, no other module), so they cannot read files or environment variables, reach the network or run commands`;
}

/** One issue per import of the template that is not a pure standard package, at the import's line. */
export function refusedImports(template: string): CueIssue[] {
  const layout = layoutOf(template);
  return layout.imports
    .filter((i) => !PURE_STANDARD_PACKAGES.has(i.path))
    .map((i) => ({
      path: [],
      message: refusedImportMessage(i.path),
      positions: i.at ? [{ file: 'template', line: i.at.line, column: i.at.column }] : [],
    }));
}
