import type { Component } from '../apis/generated/core.oam.dev-v1alpha2.js';
import type { ComponentSource, ResolvedComponent } from './types.js';

export interface StaticComponentsOptions {
  /** Snapshots of revisions by revision name (what ControllerRevisions hold). */
  revisions?: Record<string, Component>;
  /** Revision name each current Component is at, by component name. @default none (no revision label) */
  latestRevisions?: Record<string, string>;
  /**
   * Offline: a pinned `<component>-v<N>` with no snapshot given resolves to the current Component of
   * that name (the CLI has no history to read). @default false
   */
  revisionsFromCurrent?: boolean;
}

/**
 * A {@link ComponentSource} over Components in hand: for the CLI, the webhooks (which validate one
 * AppConfig against what the cluster holds) and tests.
 */
export function staticComponents(components: Component[], options: StaticComponentsOptions = {}): ComponentSource {
  const byName = new Map(components.map((c) => [c.metadata.name!, c]));
  return {
    async component(name): Promise<ResolvedComponent | undefined> {
      const component = byName.get(name);
      if (!component) return undefined;
      const revisionName = options.latestRevisions?.[name];
      return revisionName ? { component, revisionName } : { component };
    },
    async revision(revisionName): Promise<ResolvedComponent | undefined> {
      const snapshot = options.revisions?.[revisionName];
      if (snapshot) return { component: snapshot, revisionName };
      const m = /^(.*)-v\d+$/.exec(revisionName);
      const current = m && options.revisionsFromCurrent ? byName.get(m[1]) : undefined;
      return current ? { component: current, revisionName } : undefined;
    },
  };
}
