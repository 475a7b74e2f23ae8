/**
 * What the shards bench reads of the cluster, from watches (not by listing thousands of objects over
 * and over): has every application converged on a version, and are there orphans or duplicates.
 */
import { Informer, type KubeClient, type KubeObject } from '../../kube/index.js';
import { LABEL_REVISION_COMPONENT } from '../../apply/revisions.js';
import { LABEL_REVISION_HASH } from '../../controllers/component/revisions.js';
import type { ApplicationConfiguration, Component } from '../../controllers/types.js';
import { CHILDREN_PER_APP } from '../reconcile/apps.js';

type Deployment = KubeObject & { spec?: { template?: { spec?: { containers?: { image?: string }[] } } } };

const CHILD_KINDS = [
  ['apps/v1', 'Deployment'],
  ['v1', 'Service'],
  ['networking.k8s.io/v1', 'Ingress'],
] as const;
const controllerUid = (o: KubeObject) => o.metadata.ownerReferences?.find((r) => r.controller)?.uid;

/** Orphans and duplicates found by {@link ClusterView.audit}: each entry names the object and why. */
export interface Leftovers {
  orphans: string[];
  duplicates: string[];
}

/** Watches one namespace's applications, Components, their revisions and every child kind. */
export class ClusterView {
  readonly apps: Informer<ApplicationConfiguration>;
  readonly components: Informer<Component>;
  readonly revisions: Informer<KubeObject>;
  readonly children: Informer<KubeObject>[];

  constructor(
    kube: KubeClient,
    private readonly namespace: string,
    private readonly count: number,
  ) {
    const watch = <T extends KubeObject>(apiVersion: string, kind: string) =>
      new Informer<T>(kube, { apiVersion, kind, namespace, resyncMs: 0 });
    this.apps = watch('core.oam.dev/v1alpha2', 'ApplicationConfiguration');
    this.components = watch('core.oam.dev/v1alpha2', 'Component');
    this.revisions = watch('apps/v1', 'ControllerRevision');
    this.children = CHILD_KINDS.map(([apiVersion, kind]) => watch(apiVersion, kind));
  }

  async start(): Promise<void> {
    await Promise.all([this.apps, this.components, this.revisions, ...this.children].map((i) => i.start()));
  }

  async stop(): Promise<void> {
    for (const i of [this.apps, this.components, this.revisions, ...this.children]) await i.stop();
  }

  /**
   * Applications that have converged on their `expected` version (by application name): Synced at
   * their generation, each workload on its Component's latest revision (the Component's status at its
   * generation), the Deployment running `example.com/<role>:<version>`, and every child kind complete.
   */
  converged(expected: (app: string) => string): { done: number; complete: boolean; pending: string[] } {
    const deployments = this.children[0]!;
    let done = 0;
    const pending: string[] = [];
    for (const a of this.apps.list()) {
      const synced =
        a.status?.observedGeneration === a.metadata.generation &&
        a.status?.conditions?.some((c) => c.type === 'Synced' && c.status === 'True');
      if (!synced) {
        pending.push(a.metadata.name!);
        continue;
      }
      const workloads = a.status?.workloads ?? [];
      const names = (a.spec?.components ?? []).map((c) => c.componentName ?? '');
      const version = expected(a.metadata.name!);
      const onLatest = names.every((name) => {
        const c = this.components.get(name, this.namespace);
        const latest = c?.status?.latestRevision?.name;
        const image = (deployments.get(name, this.namespace) as Deployment | undefined)?.spec?.template?.spec
          ?.containers?.[0]?.image;
        return (
          c?.status?.observedGeneration === c?.metadata.generation &&
          latest !== undefined &&
          workloads.some((w) => w.componentRevisionName === latest) &&
          image === `example.com/${name.split('-').at(-1)}:${version}`
        );
      });
      if (onLatest) done++;
      else pending.push(a.metadata.name!);
    }
    const complete =
      done === this.count &&
      this.children.every(
        (i) => i.list().length === this.count * CHILDREN_PER_APP[i.options.kind as keyof typeof CHILDREN_PER_APP],
      );
    return { done, complete, pending };
  }

  /**
   * Orphans: a child with no live controlling application, or one its application's inventory does
   * not list; a revision whose Component is gone. Duplicates: an application with more children of a
   * kind than it renders, two revisions of one Component for the same spec (hash).
   */
  audit(): Leftovers {
    const orphans: string[] = [];
    const duplicates: string[] = [];
    const apps = new Map(this.apps.list().map((a) => [a.metadata.uid!, a]));
    for (const informer of this.children) {
      const kind = informer.options.kind as keyof typeof CHILDREN_PER_APP;
      const perApp = new Map<string, number>();
      for (const child of informer.list()) {
        const id = `${kind} ${child.metadata.name}`;
        const owner = apps.get(controllerUid(child) ?? '');
        if (!owner) {
          orphans.push(`${id}: no live ApplicationConfiguration controls it`);
          continue;
        }
        const listed = (owner.status?.inventory ?? []).some((e) => e.kind === kind && e.name === child.metadata.name);
        if (!listed) orphans.push(`${id}: not in ${owner.metadata.name}'s inventory`);
        perApp.set(owner.metadata.name!, (perApp.get(owner.metadata.name!) ?? 0) + 1);
      }
      for (const [app, n] of perApp)
        if (n > CHILDREN_PER_APP[kind]) duplicates.push(`${app}: ${n} ${kind}s, renders ${CHILDREN_PER_APP[kind]}`);
    }
    const components = new Set(this.components.list().map((c) => c.metadata.uid));
    const byHash = new Map<string, string[]>();
    for (const r of this.revisions.list()) {
      const component = r.metadata.labels?.[LABEL_REVISION_COMPONENT];
      if (!component) continue;
      if (!components.has(controllerUid(r)))
        orphans.push(`ControllerRevision ${r.metadata.name}: its Component is gone`);
      const key = `${component}@${r.metadata.labels?.[LABEL_REVISION_HASH]}`;
      byHash.set(key, [...(byHash.get(key) ?? []), r.metadata.name!]);
    }
    for (const [key, names] of byHash)
      if (names.length > 1) duplicates.push(`revisions of one spec ${key}: ${names.sort().join(', ')}`);
    return { orphans, duplicates };
  }
}
