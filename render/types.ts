/**
 * The contract of render/ and bind/ (docs/adr/0002-render-api.md): what goes in, what comes out.
 * Pure: nothing here talks to the network; sources given by the caller may.
 */
import type {
  ApplicationConfiguration,
  Component,
  DataInput,
  DataOutput,
  TraitDefinition,
  TypedReference,
  WorkloadDefinition,
} from '../apis/generated/core.oam.dev-v1alpha2.js';
import type { DefinitionSource } from '../definitions/types.js';
import type { KubeObject } from '../kube/types.js';
import type { CueEngine } from '../cue/index.js';
import type { PathSegment } from '../lib/fieldpath.js';

/** A Component as render needs it: its spec, and the revision it is (for labels, `context.revision`, revision names). */
export interface ResolvedComponent {
  component: Component;
  /** `<component>-v<N>`, the ControllerRevision holding this spec; unknown offline (then no revision label is set). */
  revisionName?: string;
}

/**
 * How render finds the Components an ApplicationConfiguration names. The controller backs it with
 * the cluster (Components and their ControllerRevisions); the CLI and webhooks with objects in hand
 * ({@link staticComponents} in render/components.ts).
 */
export interface ComponentSource {
  /** The current Component of this name, with its latest revision name. `undefined` when there is none. */
  component(name: string): Promise<ResolvedComponent | undefined>;
  /** The snapshot held by the ControllerRevision of this name (`web-v2`), for a pinned `revisionName` entry. */
  revision(revisionName: string): Promise<ResolvedComponent | undefined>;
}

/** The live state of objects already in the cluster, by reference. Optional everywhere. */
export type LiveObjects = (ref: {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}) => KubeObject | undefined;

export interface RenderInput {
  appConfig: ApplicationConfiguration;
  /** Namespace the objects go to. @default appConfig.metadata.namespace, else `default` */
  namespace?: string;
  components: ComponentSource;
  definitions: DefinitionSource;
  engine: CueEngine;
  /** Live objects, for `context.output` (their `status`) and health. */
  live?: LiveObjects;
  /** KubeVela's conventions, for a `core.oam.dev/v1beta1` Application rendered through this pipeline. @default none */
  vela?: VelaConventions;
}

/**
 * How an Application (KubeVela's front door) differs from an ApplicationConfiguration in rendering:
 * more template context, more labels, and traits evaluated one after another, each seeing the
 * workload as the traits before it patched it (`context.output`), as KubeVela evaluates them.
 */
export interface VelaConventions {
  /** Added to every template's `context` (`appRevision`, `appRevisionNum`, `clusterVersion`, `appLabels`, …). */
  context: Record<string, unknown>;
  /** Added to every object's labels (the Application's labels, `app.oam.dev/appRevision`, …); the OAM ones win. */
  labels: Record<string, string>;
  /** Added to every object's annotations (the Application's, filtered as KubeVela filters them). */
  annotations: Record<string, string>;
  /**
   * The workload with one trait's patch merged in (bind/'s merge, handed down by application/ so
   * render/ need not import bind/): traits then render in order, each seeing the patched workload.
   */
  patchWorkload(
    workload: KubeObject,
    patch: Record<string, unknown>,
    trait: string,
    tags?: PatchTags | null,
  ): KubeObject;
}

/** What kind of object a rendered object is, relative to its component. */
export type ObjectRole = 'workload' | 'workload-output' | 'trait' | 'trait-output';

/** Where a rendered object came from; also written onto it as annotations (apis/labels.ts). */
export interface Provenance {
  /** The component entry's name (`componentName`, or the Component of a pinned revision). */
  component: string;
  role: ObjectRole;
  /** The definition that produced it (`WorkloadDefinition/webservice`, `TraitDefinition/scaler`), when there is one. */
  definition?: string;
  /** The stable name of the trait, for trait objects. */
  trait?: string;
  /** The key under the template's `outputs`, for auxiliary objects. */
  output?: string;
}

export interface RenderedObject {
  object: KubeObject;
  source: Provenance;
}

/** One trait of a component entry, rendered (bind/ then applies its patch and writes its workloadRef). */
/**
 * KubeVela's patch strategy comments of a patch (`// +patchKey=name`, `// +patchStrategy=retainKeys`),
 * as the native evaluator reads them: the tags on the field holding this value, and the branches
 * below by field name and list index that hold any.
 */
export interface PatchTags {
  tags?: Record<string, string>;
  fields?: Record<string, PatchTags>;
  items?: (PatchTags | null)[];
}

export interface RenderedTrait {
  /**
   * Stable name: `metadata.name` when set, else `<component>-<type>` for the first trait of its type
   * on the component and `<component>-<type>-<n>` for the n-th (n ≥ 2), in AppConfig order.
   */
  name: string;
  /** The definition name: the shorthand's `name`, or the resource name of the trait's kind (`manualscalertraits.core.oam.dev`). */
  type: string;
  definition?: TraitDefinition;
  /** Position in the component entry's `traits`. */
  index: number;
  /** The trait object (the template's `output`, or the object as written); absent for patch-only traits. */
  object?: RenderedObject;
  /** The template's `outputs`. */
  outputs: RenderedObject[];
  /** The template's `patch`, merged into the workload by bind/. */
  patch?: Record<string, unknown>;
  /**
   * An Application's trait on the native engine: the patch's KubeVela strategy comments (`null`:
   * none), so bind/ merges it as KubeVela does (bind/strategic-patch.ts). Absent: Trellis' merge.
   */
  patchTags?: PatchTags | null;
  dataOutputs: DataOutput[];
  dataInputs: DataInput[];
}

/** One component entry of the AppConfig, rendered. */
export interface RenderedComponent {
  /** Component name. */
  name: string;
  /** Position in `spec.components`. */
  index: number;
  revisionName?: string;
  /** The Component's workload type: its `workload.type`, or the resource name of its kind. */
  type: string;
  definition?: WorkloadDefinition;
  workload: RenderedObject;
  /** The template's `outputs` (e.g. the Service of a webservice). */
  outputs: RenderedObject[];
  traits: RenderedTrait[];
  scopes: TypedReference[];
  dataOutputs: DataOutput[];
  dataInputs: DataInput[];
  /** Where the workload's pod template is (`['spec', 'template']`), when it has one. */
  podTemplatePath?: PathSegment[];
  /** Some trait's definition is `revisionEnabled`: the workload is named after the revision. */
  revisionEnabled: boolean;
}

/** Everything an ApplicationConfiguration renders to. */
export interface RenderedApplication {
  name: string;
  namespace: string;
  components: RenderedComponent[];
}

/** The final result (after bind/): every object to apply, in a stable order, with its provenance. */
export interface BoundApplication extends RenderedApplication {
  /** Workloads first, then their outputs, then traits and trait outputs, component by component. */
  objects: RenderedObject[];
}
