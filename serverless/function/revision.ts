import type { FunctionRevision, FunctionRevisionSpec } from '../../apis/generated/serverless.trellis.dev-v1alpha1.js';
import { contentHash } from '../../lib/hash.js';
import { cloneJson } from '../../lib/clone.js';
import { ANNOTATION_REVISION_HASH, LABEL_FUNCTION, LABEL_REVISION } from '../labels.js';
import {
  DEFAULT_SCALE,
  FUNCTION_API_VERSION,
  functionConfig,
  type FunctionConfig,
  type FunctionObject,
  type FunctionSpec,
  type ScaleDefaults,
} from './config.js';

export type { FunctionRevision, FunctionRevisionSpec };
export const REVISION_KIND = 'FunctionRevision';

/** What a revision holds: the Function's spec fields that reach its pods. */
export type RevisionPodSpec = Pick<
  FunctionSpec,
  'image' | 'handler' | 'workingDir' | 'port' | 'env' | 'readinessPath' | 'timeoutSeconds' | 'template'
>;

/** `hello`, 2 → `hello-00002` (Knative's revision names; numbers past 99999 just grow). */
export const revisionName = (fn: string, n: number): string => `${fn}-${String(n).padStart(5, '0')}`;

/** The number of a revision of `fn` by its name, or undefined when the name is not one. */
export function revisionNumber(fn: string, name: string): number | undefined {
  if (!name.startsWith(`${fn}-`)) return undefined;
  const digits = name.slice(fn.length + 1);
  return /^\d{5,}$/.test(digits) ? Number(digits) : undefined;
}

/**
 * The pod-facing part of a Function's spec, with the defaults the API server would fill in, so
 * that setting a field to its default makes no new revision. Scaling, concurrency, queue and
 * traffic are left out: they apply to every revision at once.
 */
export function podSnapshot(spec: FunctionSpec | undefined): RevisionPodSpec {
  const s = spec ?? {};
  const out: RevisionPodSpec = {
    port: s.port ?? 8080,
    timeoutSeconds: s.timeoutSeconds ?? 300,
    env: (s.env ?? []).map((e) => ({ name: e.name, value: e.value ?? '' })),
  };
  if (s.image) out.image = s.image;
  if (s.handler) out.handler = s.handler;
  if (s.workingDir) out.workingDir = s.workingDir;
  if (s.readinessPath) out.readinessPath = s.readinessPath;
  if (s.template && Object.keys(s.template).length) out.template = cloneJson(s.template);
  return out;
}

/** The hash a revision carries in {@link ANNOTATION_REVISION_HASH}: equal snapshots, equal hashes. */
export const snapshotHash = (snapshot: RevisionPodSpec): string => contentHash(snapshot);

/** Labels of the Function that its revisions (and their pods) carry: everything but Trellis' own selectors. */
function inheritedLabels(fn: FunctionObject): Record<string, string> {
  const { [LABEL_FUNCTION]: _f, [LABEL_REVISION]: _r, ...rest } = fn.metadata.labels ?? {};
  return rest;
}

/**
 * The FunctionRevision number `n` of a Function: the snapshot of its pods now, controlled by the
 * Function. Its labels are the Function's at this moment (they reach the revision's pods, and a
 * revision never changes).
 */
export function newRevision(
  fn: FunctionObject,
  n: number,
  owner: { apiVersion: string; kind: string },
): FunctionRevision {
  const name = fn.metadata.name!;
  const snapshot = podSnapshot(fn.spec);
  return {
    apiVersion: FUNCTION_API_VERSION,
    kind: REVISION_KIND,
    metadata: {
      name: revisionName(name, n),
      namespace: fn.metadata.namespace,
      labels: { ...inheritedLabels(fn), [LABEL_FUNCTION]: name, [LABEL_REVISION]: revisionName(name, n) },
      annotations: { [ANNOTATION_REVISION_HASH]: snapshotHash(snapshot) },
      ...(fn.metadata.uid
        ? {
            ownerReferences: [
              {
                apiVersion: owner.apiVersion,
                kind: owner.kind,
                name,
                uid: fn.metadata.uid,
                controller: true,
                blockOwnerDeletion: true,
              },
            ],
          }
        : {}),
    },
    spec: { function: name, number: n, ...snapshot },
  };
}

/**
 * The Function as revision `rev` runs it: the revision's pod fields over the Function's current
 * scaling, concurrency and queue settings, named after the revision and labelled as it is.
 *
 * @example
 *   functionConfig(asRevision(fn, rev)).key   // 'shop/hello-00002'
 */
export function asRevision(fn: FunctionObject, rev: FunctionRevision): FunctionObject {
  const { function: _f, number: _n, ...pods } = rev.spec;
  const {
    image: _i,
    handler: _h,
    workingDir: _w,
    port: _p,
    env: _e,
    readinessPath: _rp,
    timeoutSeconds: _t,
    template: _tp,
    traffic: _tr,
    revisionHistoryLimit: _l,
    ...rest
  } = fn.spec ?? {};
  return {
    apiVersion: FUNCTION_API_VERSION,
    kind: 'Function',
    metadata: { ...fn.metadata, name: rev.metadata.name!, labels: { ...(rev.metadata.labels ?? {}) } },
    spec: { ...rest, ...cloneJson(pods) },
  };
}

/** The settings revision `rev` of `fn` is served with (key `namespace/<revision>`). Throws as {@link functionConfig}. */
export const revisionConfig = (
  fn: FunctionObject,
  rev: FunctionRevision,
  defaults: ScaleDefaults = DEFAULT_SCALE,
): FunctionConfig => functionConfig(asRevision(fn, rev), defaults, fn.metadata.name);
