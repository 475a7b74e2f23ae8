/** Labels and annotations Trellis puts on what it creates (DESIGN.md §3). Part of the API: users select by them. */
import { groupOf } from '../lib/api-version.js';

/** The ApplicationConfiguration (or other owner) an object belongs to. */
export const LABEL_APP_NAME = 'app.oam.dev/name';
export const LABEL_COMPONENT = 'app.oam.dev/component';
export const LABEL_REVISION = 'app.oam.dev/revision';
/** `WORKLOAD` or `TRAIT`. */
export const LABEL_RESOURCE_TYPE = 'app.oam.dev/resourceType';
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'trellis';

/**
 * The inventory mark prune relies on: the owner that applied the object, as
 * `<Kind>.<group>/<namespace>/<name>` (e.g. `ApplicationConfiguration.core.oam.dev/shop/web`).
 * Prune deletes an object only while it still carries its owner's mark.
 */
export const ANNOTATION_OWNER = 'trellis.dev/owner';

/** On every object an owner applies: the hash of exactly what it applied last, so an unchanged re-sync writes nothing. */
export const ANNOTATION_APPLIED_HASH = 'trellis.dev/applied-hash';

/**
 * Put by a person on an object Trellis did not create, to let one owner take it over:
 * `<Kind>.<group>/<namespace>/<name>` as in {@link ANNOTATION_OWNER}, or `<Kind>/<name>` for an owner
 * in the object's namespace (`ApplicationConfiguration/shop`). The owner removes it when it adopts
 * the object. See docs/adr/0010-ownership.md.
 */
export const ANNOTATION_ADOPT = 'trellis.dev/adopt';
/** Put by the owner that adopted an object, in place of {@link ANNOTATION_ADOPT}: when, and who had made it (`<RFC 3339 time> <who>`). */
export const ANNOTATION_ADOPTED = 'trellis.dev/adopted';

/**
 * On an object whose rendered fields its schema does not declare: those fields, comma-separated —
 * pruned before applying, as the API server prunes them on a create or update (server-side apply
 * refuses them instead). The next pass knows the live copy lacks them on purpose. See
 * docs/adr/0016-upstream-compatibility.md.
 */
export const ANNOTATION_PRUNED_FIELDS = 'trellis.dev/pruned-fields';

/**
 * On an object applied in apply-once mode: the epoch it was applied for (the AppConfig's generation
 * and the component's revision, or a value a GitSync manifest sets). While the live object carries
 * the epoch the owner would apply, hand edits are left alone; a new epoch applies it again.
 */
export const ANNOTATION_APPLY_ONCE = 'trellis.dev/apply-once';

/**
 * On a WorkloadDefinition or TraitDefinition: the namespaces (comma-separated, or `*` for any) its
 * template may put objects in besides the ApplicationConfiguration's own. Without it, an output
 * asking for another namespace is refused (`TRL_RENDER_NAMESPACE`). Set by an operator.
 */
export const ANNOTATION_ALLOWED_NAMESPACES = 'trellis.dev/allowed-namespaces';

/** On a Component (and its workload) expanded from the `workload.type` shorthand: the WorkloadDefinition's name (upstream OAM's label). */
export const LABEL_WORKLOAD_TYPE = 'workload.oam.dev/type';
/** On a trait expanded from the `name`/`properties` shorthand: the TraitDefinition's name (upstream OAM's label). */
export const LABEL_TRAIT_TYPE = 'trait.oam.dev/type';
/** KubeVela: the key under the template's `outputs` an object came from (on an Application's objects). */
export const LABEL_TRAIT_RESOURCE = 'trait.oam.dev/resource';
/** KubeVela: the Application revision an object was rendered from (`web-app-v2`). */
export const LABEL_APP_REVISION = 'app.oam.dev/appRevision';
/** KubeVela: the Application's namespace. */
export const LABEL_APP_NAMESPACE = 'app.oam.dev/namespace';
/** KubeVela's `trait.oam.dev/type` of a workload's auxiliary objects (its template's `outputs`). */
export const AUXILIARY_WORKLOAD = 'AuxiliaryWorkload';
/** The definition that rendered an object: `WorkloadDefinition/webservice`, `TraitDefinition/scaler`. */
export const ANNOTATION_DEFINITION = 'trellis.dev/definition';
/** On trait objects (and their outputs): the stable name of the trait that rendered them. */
export const ANNOTATION_TRAIT = 'trellis.dev/trait';
/** On trait objects: their workload, as `<Kind>.<group>/<name>` (`Deployment.apps/web`; core kinds without group). */
export const ANNOTATION_WORKLOAD = 'trellis.dev/workload';
/** On workloads: their traits, comma-separated `<trait name>=<Kind>.<group>/<object name>` (`=patch` for patch-only traits), in AppConfig order. */
export const ANNOTATION_TRAITS = 'trellis.dev/traits';
/**
 * `Deployment.apps/web`, `Service/web`: how {@link ANNOTATION_WORKLOAD} and {@link ANNOTATION_TRAITS}
 * name an object.
 */
export function objectId(obj: { apiVersion: string; kind: string; metadata?: { name?: string } }): string {
  const group = groupOf(obj.apiVersion);
  return `${obj.kind}${group ? `.${group}` : ''}/${obj.metadata?.name ?? ''}`;
}
/** On auxiliary objects: the key of the template's `outputs` that produced them. */
export const ANNOTATION_OUTPUT = 'trellis.dev/output';
/**
 * On a CUE-templated WorkloadDefinition or TraitDefinition: YAML `{ properties, workload? }` — the
 * admission webhook renders the template with these properties (a trait onto `workload`, default a
 * Deployment) before it admits the definition. Without it, the parameter defaults are rendered.
 */
export const ANNOTATION_EXAMPLE = 'trellis.dev/example';

/**
 * On the built-in definitions (definitions/catalog, installed by the chart and `trellis up`): `"true"`.
 * The definitions webhook skips objects with this label — the catalog is rendered by the test suite
 * before it ships, and the chart installs it while the webhook's pods may still be starting.
 */
export const LABEL_BUILT_IN = 'trellis.dev/built-in';

/**
 * On an ApplicationConfiguration or a GitSync: `"true"` suspends it — the controller leaves what it
 * applied as it is (no apply, no prune, no drift correction) and says so in a `Suspended` condition,
 * until the annotation is removed (`trellis suspend` / `trellis resume`; Flux's `spec.suspend`, kept
 * in an annotation so the upstream OAM schema stays as it is). Deleting still deletes.
 */
export const ANNOTATION_SUSPEND = 'trellis.dev/suspend';

/** True when the object carries {@link ANNOTATION_SUSPEND} `"true"`. */
export function isSuspended(obj: { metadata?: { annotations?: Record<string, string> } }): boolean {
  return obj.metadata?.annotations?.[ANNOTATION_SUSPEND] === 'true';
}

/**
 * On an ApplicationConfiguration or a GitSync: any new value (`trellis reconcile` writes the time)
 * asks for a reconcile now, as Flux's `reconcile.fluxcd.io/requestedAt`; status echoes the last
 * handled value in `lastHandledReconcileAt`.
 */
export const ANNOTATION_RECONCILE_REQUESTED = 'trellis.dev/reconcile-requested-at';

/**
 * KubeVela's record of the Applications sharing an object (`shared-resource` policy): `<namespace>/<name>`
 * of each, comma-separated, the one that created it first. Example: `shop/app1,shop/app2`.
 */
export const ANNOTATION_SHARED_BY = 'app.oam.dev/shared-by';
