/**
 * Server-side apply refuses a field the object's schema does not declare (`.spec.foo: field not
 * declared in schema`), where a create or update would have had the API server prune it silently —
 * which is what the upstream OAM runtime, and the objects written for it, relied on. Trellis keeps
 * server-side apply and prunes such fields the way the API server would, naming each one
 * (docs/adr/0016-upstream-compatibility.md).
 */
import type { KubeObject } from '../kube/types.js';
import { cloneJson } from '../lib/clone.js';
import { isRecord } from '../lib/is-record.js';

const UNDECLARED = /(\.[^\s,]*?): field not declared in schema/g;
/** A strict create's refusal: `strict decoding error: unknown field "spec.foo", unknown field "spec.x[0].y"`. */
const UNKNOWN = /unknown field "([^"]+)"/g;

/**
 * The paths an error names as not declared in the schema, as the API server writes them — a
 * server-side apply's (`.spec.foo`, `.spec.containers[name="web"].foo`, `.spec.items[0].x`) or a
 * strict create's (`unknown field "spec.foo"`, returned as `.spec.foo`).
 */
export function undeclaredFields(message: string): string[] {
  const applied = [...message.matchAll(UNDECLARED)].map((m) => m[1]!);
  const created = [...message.matchAll(UNKNOWN)].map((m) => `.${m[1]!}`);
  return [...new Set([...applied, ...created])];
}

type Segment = { field: string } | { index: number } | { keys: Record<string, string> };

/** `.spec.containers[name="web"].ports[0]` → segments; undefined for what it cannot read. */
function parse(path: string): Segment[] | undefined {
  const out: Segment[] = [];
  const re = /\.([^.[\]]+)|\[(\d+)\]|\[([^\]]*)\]/gy;
  let m: RegExpExecArray | null;
  let at = 0;
  while (at < path.length) {
    re.lastIndex = at;
    m = re.exec(path);
    if (!m) return undefined;
    at = re.lastIndex;
    if (m[1] !== undefined) out.push({ field: m[1] });
    else if (m[2] !== undefined) out.push({ index: Number(m[2]) });
    else {
      const keys: Record<string, string> = {};
      for (const kv of m[3]!.matchAll(/([^=,]+)=("(?:[^"\\]|\\.)*"|[^,]*)/g)) {
        const raw = kv[2]!;
        keys[kv[1]!.trim()] = raw.startsWith('"') ? (JSON.parse(raw) as string) : raw;
      }
      out.push({ keys });
    }
  }
  return out;
}

/**
 * A copy of `obj` without the fields at `paths` (as {@link undeclaredFields} returns them).
 * Returns the paths it removed; a path it cannot find is not counted (the caller then stops
 * retrying rather than loop).
 */
export function withoutFields(obj: KubeObject, paths: string[]): { object: KubeObject; removed: string[] } {
  const copy = cloneJson(obj);
  const removed: string[] = [];
  for (const path of paths) {
    const segments = parse(path);
    if (!segments?.length) continue;
    let node: unknown = copy;
    for (const seg of segments.slice(0, -1)) node = step(node, seg);
    const last = segments[segments.length - 1]!;
    if ('field' in last && isRecord(node) && last.field in node) {
      delete node[last.field];
      removed.push(path.replace(/^\./, ''));
    } else if ('index' in last && Array.isArray(node) && last.index < node.length) {
      node.splice(last.index, 1);
      removed.push(path.replace(/^\./, ''));
    }
  }
  return { object: copy, removed };
}

function step(node: unknown, seg: Segment): unknown {
  if ('field' in seg) return isRecord(node) ? node[seg.field] : undefined;
  if (!Array.isArray(node)) return undefined;
  if ('index' in seg) return node[seg.index];
  return node.find((item) => isRecord(item) && Object.entries(seg.keys).every(([k, v]) => String(item[k]) === v));
}
