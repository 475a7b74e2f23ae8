/**
 * The Application front door: a `core.oam.dev/v1beta1` Application becomes the ApplicationConfiguration
 * and Components render/ and bind/ already understand, plus KubeVela's conventions (its template
 * context, labels, annotations, traits in order). One pipeline, two front doors (docs/kubevela.md).
 */
import type { ApplicationConfiguration, Component } from '../../apis/generated/core.oam.dev-v1alpha2.js';
import type { Application, ApplicationComponent } from '../../apis/generated/core.oam.dev-v1beta1.js';
import { LABEL_APP_NAMESPACE, LABEL_APP_REVISION } from '../../apis/labels.js';
import { mergePatch } from '../../bind/patch.js';
import { patchScope, strategicMerge } from '../../bind/strategic-patch.js';
import { cloneJson } from '../../lib/clone.js';
import { TrellisError } from '../../lib/errors.js';
import type { KubeObject } from '../../kube/types.js';
import type { VelaConventions } from '../../render/types.js';
import { applicationId } from './policies.js';

/** The Kubernetes version `context.clusterVersion` says when rendering without a cluster (the one `trellis up` runs). */
export const DEFAULT_CLUSTER_VERSION = 'v1.36.3';

/** KubeVela's annotations naming label / annotation keys not to pass from the Application to its objects. */
const FILTER_LABELS = 'app.oam.dev/filter-label-keys';
const FILTER_ANNOTATIONS = 'app.oam.dev/filter-annotation-keys';
const NEVER_PASSED = ['kubectl.kubernetes.io/last-applied-configuration', FILTER_LABELS, FILTER_ANNOTATIONS];

export interface TranslateOptions {
  /** N of the Application revision `<app>-v<N>` being rendered. @default 1 */
  revision?: number;
  /** Component revision names (`<component>-v<N>`) by component. @default `<component>-v1` */
  componentRevisions?: Record<string, string>;
  /** `gitVersion` of the cluster, for `context.clusterVersion`. @default {@link DEFAULT_CLUSTER_VERSION} */
  clusterVersion?: string;
}

export interface Translated {
  appConfig: ApplicationConfiguration;
  components: Component[];
  /** Component revision names by component, for the ComponentSource. */
  revisions: Record<string, string>;
  vela: VelaConventions;
}

/** `context.clusterVersion` as KubeVela fills it from the server's version (`minor` a number: templates compare it). */
export function clusterVersionContext(gitVersion: string): Record<string, unknown> {
  const m = /^v?(\d+)\.(\d+)/.exec(gitVersion);
  return { major: m ? Number(m[1]) : 1, minor: m ? Number(m[2]) : 0, gitVersion, platform: 'linux/amd64' };
}

/** The Application's components as an ApplicationConfiguration and its Components (properties as `workload.properties`). */
export function translateApplication(
  app: Application,
  components: ApplicationComponent[],
  options: TranslateOptions = {},
): Translated {
  const name = app.metadata.name;
  if (!name)
    throw new TrellisError('TRL_RENDER_INVALID_OBJECT', 'the Application has no metadata.name', {
      object: 'Application',
    });
  const namespace = app.metadata.namespace ?? 'default';
  const seen = new Set<string>();
  for (const [i, c] of components.entries()) {
    if (seen.has(c.name))
      throw new TrellisError('TRL_APP_COMPONENT', `two components are named "${c.name}"`, {
        object: applicationId(app),
        field: `spec.components[${i}].name`,
      });
    seen.add(c.name);
  }
  const revisions = Object.fromEntries(
    components.map((c) => [c.name, options.componentRevisions?.[c.name] ?? `${c.name}-v1`]),
  );
  const appConfig: ApplicationConfiguration = {
    apiVersion: 'core.oam.dev/v1alpha2',
    kind: 'ApplicationConfiguration',
    metadata: { name, namespace },
    spec: {
      components: components.map((c) => ({
        componentName: c.name,
        traits: (c.traits ?? []).map((t) => ({ trait: { name: t.type, properties: cloneJson(t.properties ?? {}) } })),
      })),
    },
  };
  const translated: Component[] = components.map((c) => ({
    apiVersion: 'core.oam.dev/v1alpha2',
    kind: 'Component',
    metadata: { name: c.name, namespace },
    spec: { workload: { type: c.type, properties: cloneJson(c.properties ?? {}) } },
  }));
  return { appConfig, components: translated, revisions, vela: conventions(app, namespace, options) };
}

function passed(from: Record<string, string> | undefined, filterKey: string, app: Application): Record<string, string> {
  const filtered = new Set([
    ...NEVER_PASSED,
    ...(app.metadata.annotations?.[filterKey] ?? '').split(',').map((k) => k.trim()),
  ]);
  return Object.fromEntries(Object.entries(from ?? {}).filter(([k]) => !filtered.has(k)));
}

function conventions(app: Application, namespace: string, options: TranslateOptions): VelaConventions {
  const revisionNum = options.revision ?? 1;
  const appRevision = `${app.metadata.name}-v${revisionNum}`;
  const labels = passed(app.metadata.labels, FILTER_LABELS, app);
  const annotations = passed(app.metadata.annotations, FILTER_ANNOTATIONS, app);
  const publishVersion = app.metadata.annotations?.['app.oam.dev/publishVersion'];
  return {
    context: {
      appRevision,
      appRevisionNum: revisionNum,
      appLabels: app.metadata.labels ?? {},
      appAnnotations: app.metadata.annotations ?? {},
      clusterVersion: clusterVersionContext(options.clusterVersion ?? DEFAULT_CLUSTER_VERSION),
      workflowName: app.metadata.name,
      ...(publishVersion ? { publishVersion } : {}),
    },
    labels: { ...labels, [LABEL_APP_NAMESPACE]: namespace, [LABEL_APP_REVISION]: appRevision },
    annotations,
    patchWorkload: (workload: KubeObject, patch: Record<string, unknown>, trait: string, tags) => {
      const next = cloneJson(workload) as unknown as Record<string, unknown>;
      const ctx = { trait, owners: new Map<string, string>(), object: applicationId(app), field: 'spec.components' };
      if (tags !== undefined) strategicMerge(next, patch, patchScope(tags, ctx), ctx);
      else mergePatch(next, patch, ctx);
      return next as unknown as KubeObject;
    },
  };
}
