import { TrellisError } from '../../lib/errors.js';
import type { FunctionObject } from './config.js';

/** One entry of a Function's `status.traffic`: a target with its revision resolved. */
export interface ServedTarget {
  revisionName: string;
  percent: number;
  /** The target follows the latest ready revision. */
  latestRevision?: boolean;
  tag?: string;
  /** The tag's own address (with a tag only). */
  url?: string;
}

/** Where requests for one address go: `namespace/name` (or `namespace/<tag>-<name>`) and its revisions with their shares. */
export interface TrafficRoute {
  key: string;
  /** Revision keys (`namespace/<revision>`) with positive percents adding up to 100. */
  targets: { revision: string; percent: number }[];
}

/** What the revisions of a Function are, for resolving its traffic. */
export interface RevisionFacts {
  /** Names of the Function's revisions that exist. */
  names: string[];
  /** The newest revision, made from the current spec. */
  latestCreated: string;
  /** The newest revision that has had a ready instance. */
  latestReady?: string;
}

const TAG = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/**
 * The Function's `spec.traffic` with every target resolved to a revision: `latestRevision: true`
 * follows the latest ready revision (the latest created while none has been ready). Without
 * `spec.traffic`, the latest revision gets 100 %. Throws `TRL_FUNCTION_INVALID` naming the field
 * for what the CRD cannot check (a revision that does not exist or belongs to another Function, a
 * tag address too long), and for everything else it checks, for objects that never met it.
 *
 * @example
 *   resolveTraffic(fn, { names: ['hello-00001', 'hello-00002'], latestCreated: 'hello-00002', latestReady: 'hello-00002' })
 *   // spec.traffic [{ revisionName: 'hello-00001', percent: 90 }, { latestRevision: true, percent: 10, tag: 'canary' }]
 *   // → [{ revisionName: 'hello-00001', percent: 90 }, { revisionName: 'hello-00002', latestRevision: true, percent: 10, tag: 'canary' }]
 */
export function resolveTraffic(fn: FunctionObject, revisions: RevisionFacts): ServedTarget[] {
  const name = fn.metadata.name ?? '';
  const object = `Function/${fn.metadata.namespace ?? 'default'}/${name}`;
  const latest = revisions.latestReady ?? revisions.latestCreated;
  const spec = fn.spec?.traffic;
  if (!spec) return [{ revisionName: latest, latestRevision: true, percent: 100 }];
  const invalid = (field: string, reason: string) =>
    new TrellisError('TRL_FUNCTION_INVALID', reason, { object, field: `spec.traffic${field}` });
  if (spec.length === 0)
    throw invalid('', 'lists no target: leave spec.traffic out to send every request to the latest revision');
  const tags = new Set<string>();
  let sum = 0;
  const out = spec.map((t, i): ServedTarget => {
    const at = `[${i}]`;
    const latestRevision = t.latestRevision === true;
    if ((t.revisionName !== undefined) === latestRevision)
      throw invalid(at, 'names a revisionName or sets latestRevision: true (one of the two)');
    const percent = t.percent ?? 0;
    if (!Number.isInteger(percent) || percent < 0 || percent > 100)
      throw invalid(`${at}.percent`, `expected an integer from 0 to 100, got ${JSON.stringify(t.percent)}`);
    sum += percent;
    if (t.revisionName !== undefined && !revisions.names.includes(t.revisionName)) {
      throw invalid(
        `${at}.revisionName`,
        `there is no revision ${t.revisionName} of Function ${name} (it has ${revisions.names.join(', ') || 'none'})`,
      );
    }
    if (t.tag !== undefined) {
      if (!TAG.test(t.tag))
        throw invalid(
          `${at}.tag`,
          `"${t.tag}" is not a DNS label (lower-case letters, digits and "-", starting with a letter)`,
        );
      if (tags.has(t.tag)) throw invalid(`${at}.tag`, `"${t.tag}" appears twice`);
      if (t.tag.length + 1 + name.length > 63)
        throw invalid(`${at}.tag`, `its address ${t.tag}-${name} would be longer than 63 characters`);
      tags.add(t.tag);
    }
    return {
      revisionName: t.revisionName ?? latest,
      percent,
      ...(latestRevision ? { latestRevision } : {}),
      ...(t.tag !== undefined ? { tag: t.tag } : {}),
    };
  });
  if (sum !== 100) throw invalid('', `the percents add up to ${sum}, not 100`);
  return out;
}

/** A Function's `status.traffic` as read back (every field optional there): the targets that name a revision. */
export function servedTargets(
  status:
    | { traffic?: { revisionName?: string; percent?: number; latestRevision?: boolean; tag?: string; url?: string }[] }
    | undefined,
): ServedTarget[] {
  return (status?.traffic ?? []).flatMap((t) =>
    t.revisionName ? [{ ...t, revisionName: t.revisionName, percent: t.percent ?? 0 }] : [],
  );
}

/** The name a tag is served under: `<tag>-<function>`. */
export const taggedName = (tag: string, fn: string): string => `${tag}-${fn}`;

/**
 * The activator's routes for one Function's served traffic: the Function's own address with every
 * target that has a share, and one address per tag with its revision alone.
 *
 * @example
 *   trafficRoutes('shop', 'hello', [{ revisionName: 'hello-00001', percent: 90 }, { revisionName: 'hello-00002', percent: 10, tag: 'canary' }])
 *   // → [{ key: 'shop/hello', targets: [{ revision: 'shop/hello-00001', percent: 90 }, { revision: 'shop/hello-00002', percent: 10 }] },
 *   //    { key: 'shop/canary-hello', targets: [{ revision: 'shop/hello-00002', percent: 100 }] }]
 */
export function trafficRoutes(namespace: string, fn: string, served: ServedTarget[]): TrafficRoute[] {
  const shares = new Map<string, number>();
  for (const t of served) if (t.percent > 0) shares.set(t.revisionName, (shares.get(t.revisionName) ?? 0) + t.percent);
  const routes: TrafficRoute[] = [
    {
      key: `${namespace}/${fn}`,
      targets: [...shares].map(([rev, percent]) => ({ revision: `${namespace}/${rev}`, percent })),
    },
  ];
  for (const t of served)
    if (t.tag)
      routes.push({
        key: `${namespace}/${taggedName(t.tag, fn)}`,
        targets: [{ revision: `${namespace}/${t.revisionName}`, percent: 100 }],
      });
  return routes;
}

/** Revisions that can receive requests: a share of the traffic, or a tag. Only these keep `scale.min` instances. */
export function routableRevisions(served: ServedTarget[]): Set<string> {
  return new Set(served.filter((t) => t.percent > 0 || t.tag).map((t) => t.revisionName));
}
