/**
 * Upstream's store-based data passing (`dataOutputs[].outputStore`, `dataInputs[].inputStore`):
 * `jsonPatch` operations that copy values from a source object into a target — the producer into a
 * store object (a ConfigMap, say), and the store into the consumer. Pure: the controller decides
 * when the sources are live and ready.
 */
import type { DataOperation } from '../apis/generated/shared.js';
import { TrellisError } from '../lib/errors.js';
import { cloneJson } from '../lib/clone.js';
import { conditionFails } from './data-flow.js';
import { deleteFieldPath, getFieldPath, setFieldPath } from '../lib/fieldpath.js';

export interface OperationsState {
  ready: boolean;
  /** The first operation that is not ready, and why: for `status.dependency.unsatisfied`. */
  pending?: { operation: DataOperation; reason: string };
}

/** `toFieldPath` as upstream reports it in a dependency: `data.key(toDataPath)`. */
export function operationTarget(op: DataOperation): string {
  return op.toDataPath ? `${op.toFieldPath}(${op.toDataPath})` : op.toFieldPath;
}

/**
 * Whether every operation can run against `source`: its conditions hold and its `valueFrom` is
 * present (as upstream: `<path> not found in object` otherwise).
 */
export function operationsReady(source: unknown, operations: DataOperation[], appConfig?: unknown): OperationsState {
  for (const operation of operations) {
    const path = operation.valueFrom?.fieldPath;
    if (path && getFieldPath(source, path) === undefined)
      return { ready: false, pending: { operation, reason: `${path} not found in object` } };
    const failed = (operation.conditions ?? [])
      .map((c) => conditionFails(source, c, path ? getFieldPath(source, path) : undefined, path, appConfig))
      .find(Boolean);
    if (failed) return { ready: false, pending: { operation, reason: failed } };
  }
  return { ready: true };
}

/**
 * Runs `operations` in order on `target` (in place), taking values from `source`:
 * - the value is `value` read as JSON (`{}`, `"text"`; anything that is not JSON as the text itself),
 *   or the value at `valueFrom.fieldPath` of the source;
 * - `add` / `replace` set it at `toFieldPath` (`replace` only where something is), `delete` removes it;
 * - with `toDataPath`, the field at `toFieldPath` holds a JSON document as a string (a ConfigMap value):
 *   the operation applies at that path inside the document, which is written back as a string.
 *
 * @example
 *   applyOperations(store, [{ type: 'jsonPatch', op: 'add', toFieldPath: 'data.key1', valueFrom: { fieldPath: 'spec.key1' } }], source)
 */
export function applyOperations(
  target: Record<string, unknown>,
  operations: DataOperation[],
  source: unknown,
  where: { object: string; field: string },
): void {
  operations.forEach((op, i) => {
    const field = `${where.field}.operations[${i}]`;
    if (op.type !== 'jsonPatch')
      throw new TrellisError(
        'TRL_RENDER_DATA_OPERATION',
        `type "${String(op.type)}" is not supported (only jsonPatch)`,
        { object: where.object, field: `${field}.type` },
      );
    const value = op.op === 'delete' ? undefined : valueOf(op, source, { object: where.object, field });
    if (!op.toDataPath) {
      patch(target, op.toFieldPath, op.op, value, { object: where.object, field: `${field}.toFieldPath` });
      return;
    }
    const current = getFieldPath(target, op.toFieldPath);
    const doc: unknown =
      typeof current === 'string' ? parseJson(current, current === '' ? {} : undefined) : (current ?? {});
    if (!doc || typeof doc !== 'object') {
      throw new TrellisError(
        'TRL_RENDER_DATA_OPERATION',
        `${op.toFieldPath} holds ${JSON.stringify(current)}, not a JSON document toDataPath "${op.toDataPath}" could go into`,
        { object: where.object, field: `${field}.toDataPath` },
      );
    }
    const holder = { doc: cloneJson(doc) };
    patch(holder, `doc.${op.toDataPath}`, op.op, value, { object: where.object, field: `${field}.toDataPath` });
    setFieldPath(target, op.toFieldPath, JSON.stringify(holder.doc));
  });
}

function valueOf(op: DataOperation, source: unknown, where: { object: string; field: string }): unknown {
  if (op.valueFrom?.fieldPath) return cloneJson(getFieldPath(source, op.valueFrom.fieldPath));
  if (op.value !== undefined) return parseJson(op.value, op.value);
  throw new TrellisError('TRL_RENDER_DATA_OPERATION', 'sets neither value nor valueFrom.fieldPath', {
    object: where.object,
    field: where.field,
  });
}

function patch(
  target: Record<string, unknown>,
  path: string,
  op: string,
  value: unknown,
  where: { object: string; field: string },
): void {
  if (op === 'delete') return void deleteFieldPath(target, path);
  if (op === 'replace' && getFieldPath(target, path) === undefined)
    throw new TrellisError('TRL_RENDER_DATA_OPERATION', `replace: nothing at ${path} to replace`, where);
  if (op !== 'add' && op !== 'replace')
    throw new TrellisError('TRL_RENDER_DATA_OPERATION', `op "${op}" is not one of add, replace, delete`, where);
  setFieldPath(target, path, value);
}

function parseJson(text: string, fallback: unknown): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return fallback;
  }
}
