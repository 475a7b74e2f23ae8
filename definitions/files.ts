/**
 * Reading objects from files, for the CLI and tests: YAML (multi-document) and JSON files, catalog
 * `.cue` files (definitions/catalog.ts), and directories of them (recursively, in name order).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { TrellisError } from '../lib/errors.js';
import type { KubeObject } from '../kube/types.js';
import { definitionFromCue, HEADER_MARK } from './catalog.js';

export interface FileObject {
  /** The file it came from, as given (joined with the directory it was found in). */
  file: string;
  object: KubeObject;
}

const READABLE = /\.(ya?ml|json|cue)$/;

/** Every object in the given files and directories. Throws TRL_FILE_INVALID naming the file for unreadable input. */
export function readObjectFiles(paths: string[]): FileObject[] {
  return paths.flatMap((p) => {
    let stat;
    try {
      stat = statSync(p);
    } catch {
      throw new TrellisError('TRL_FILE_INVALID', 'no such file or directory', { object: p });
    }
    if (stat.isDirectory()) {
      const entries = readdirSync(p)
        .sort()
        .map((e) => path.join(p, e));
      return readObjectFiles(entries.filter((e) => statSync(e).isDirectory() || READABLE.test(e)));
    }
    return readFile(p);
  });
}

function readFile(file: string): FileObject[] {
  const text = readFileSync(file, 'utf8');
  if (file.endsWith('.cue')) {
    if (!text.startsWith(HEADER_MARK)) return [];
    return [{ file, object: definitionFromCue(path.basename(file, '.cue'), text, file) as unknown as KubeObject }];
  }
  return parseObjectText(text, file);
}

/**
 * The objects in YAML (multi-document) or JSON text, `List`s unpacked — what a file holds, for text
 * that is not in a file (`-f -`: standard input, named `file`). Throws TRL_FILE_INVALID naming it.
 */
export function parseObjectText(text: string, file: string): FileObject[] {
  const docs = parseAllDocuments(text);
  return docs.flatMap((doc, i) => {
    if (doc.errors.length)
      throw new TrellisError('TRL_FILE_INVALID', `document ${i + 1} is not valid YAML: ${doc.errors[0].message}`, {
        object: file,
      });
    const value = doc.toJS() as unknown;
    if (value === null || value === undefined) return [];
    const items = isList(value) ? value.items : [value];
    return items.map((object, j) => {
      if (!object || typeof object !== 'object' || typeof (object as KubeObject).kind !== 'string') {
        throw new TrellisError(
          'TRL_FILE_INVALID',
          `document ${i + 1}${isList(value) ? ` item ${j + 1}` : ''} is not a Kubernetes object (no kind)`,
          { object: file },
        );
      }
      const obj = object as KubeObject;
      return { file, object: { ...obj, metadata: obj.metadata ?? {} } };
    });
  });
}

function isList(value: unknown): value is { items: unknown[] } {
  return (
    !!value &&
    typeof value === 'object' &&
    (value as { kind?: unknown }).kind === 'List' &&
    Array.isArray((value as { items?: unknown }).items)
  );
}
