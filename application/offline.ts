/**
 * Rendering objects in hand, without a cluster: what `trellis render` and `trellis def vet` do, and
 * what the golden tests check. Definitions and CRDs among the objects are used before the built-in
 * catalog.
 */
import type { ApplicationConfiguration, Component } from '../apis/generated/core.oam.dev-v1alpha2.js';
import { builtinCatalog, layeredSource, StaticDefinitionSource, type DefinitionSource } from '../definitions/index.js';
import type { KubeObject } from '../kube/types.js';
import type { CueEngine } from '../cue/index.js';
import { staticComponents, type StaticComponentsOptions } from '../render/components.js';
import type { BoundApplication, RenderInput } from '../render/types.js';
import { renderApplication } from './render-application.js';
import { API_VERSION as VELA_API_VERSION, type Application } from '../apis/generated/core.oam.dev-v1beta1.js';
import { renderVelaApplication } from './vela/render-vela.js';

export interface OfflineRenderOptions {
  engine: CueEngine;
  /** Namespace for ApplicationConfigurations that set none. @default 'default' */
  namespace?: string;
  /** Definitions to use instead of the built-in catalog's of the same name (besides those among the objects). */
  definitions?: KubeObject[];
  /** Leave out the built-in catalog. @default false */
  noCatalog?: boolean;
  /** Revision names and snapshots of the Components. @default none; a pinned revision resolves to the current Component */
  revisions?: Pick<StaticComponentsOptions, 'latestRevisions' | 'revisions'>;
}

export interface OfflineApplication {
  app: BoundApplication;
  /** What was rendered: an ApplicationConfiguration, or KubeVela's Application (core.oam.dev/v1beta1). */
  kind: 'ApplicationConfiguration' | 'Application';
  /** True when no ApplicationConfiguration was given and one was made up for a lone Component. */
  synthesized: boolean;
  /** What it was rendered from (for `fieldProvenance`). */
  input: RenderInput;
}

/** The comment line `trellis render` heads an application's objects with. */
export function offlineHeader({ app, kind, synthesized }: OfflineApplication): string {
  return `${kind} ${app.namespace}/${app.name}${synthesized ? ' (none given: the Component alone)' : ''}`;
}

const isOam = (o: KubeObject, kind: string) => o.kind === kind && o.apiVersion?.startsWith('core.oam.dev/');

/**
 * Renders every ApplicationConfiguration among the objects, in order, then every KubeVela
 * Application. Components without any ApplicationConfiguration (and no Application given) are
 * rendered each in one of their own name, with no traits.
 */
export async function renderObjects(
  objects: KubeObject[],
  options: OfflineRenderOptions,
): Promise<OfflineApplication[]> {
  const components = objects.filter((o) => isOam(o, 'Component')) as unknown as Component[];
  let appConfigs = objects.filter((o) => isOam(o, 'ApplicationConfiguration')) as unknown as ApplicationConfiguration[];
  const applications = objects.filter(
    (o) => o.kind === 'Application' && o.apiVersion === VELA_API_VERSION,
  ) as unknown as Application[];
  const synthesized = appConfigs.length === 0 && applications.length === 0;
  if (synthesized) {
    appConfigs = components.map((c) => ({
      apiVersion: 'core.oam.dev/v1alpha2',
      kind: 'ApplicationConfiguration',
      metadata: { name: c.metadata.name!, ...(c.metadata.namespace ? { namespace: c.metadata.namespace } : {}) },
      spec: { components: [{ componentName: c.metadata.name! }] },
    }));
  }
  const given = StaticDefinitionSource.fromObjects([...objects, ...(options.definitions ?? [])]);
  const definitions: DefinitionSource = options.noCatalog ? given : layeredSource(given, builtinCatalog());
  const source = staticComponents(components, { revisionsFromCurrent: true, ...options.revisions });
  const namespaced = (a: Application): Application => ({
    ...a,
    metadata: { ...a.metadata, namespace: a.metadata.namespace ?? options.namespace ?? 'default' },
  });
  return Promise.all([
    ...appConfigs.map(async (appConfig): Promise<OfflineApplication> => {
      const namespace = appConfig.metadata.namespace ?? options.namespace ?? 'default';
      const input: RenderInput = { appConfig, components: source, definitions, engine: options.engine, namespace };
      return { app: await renderApplication(input), kind: 'ApplicationConfiguration', synthesized, input };
    }),
    ...applications.map(async (application): Promise<OfflineApplication> => {
      const { app, input } = await renderVelaApplication({
        application: namespaced(application),
        definitions,
        engine: options.engine,
      });
      return { app, kind: 'Application', synthesized: false, input };
    }),
  ]);
}
