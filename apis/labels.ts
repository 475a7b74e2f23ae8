/** Labels and annotations Trellis puts on what it creates (DESIGN.md §3). Part of the API: users select by them. */

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

/** On a Component (and its workload) expanded from the `workload.type` shorthand: the WorkloadDefinition's name (upstream OAM's label). */
export const LABEL_WORKLOAD_TYPE = 'workload.oam.dev/type';
/** On a trait expanded from the `name`/`properties` shorthand: the TraitDefinition's name (upstream OAM's label). */
export const LABEL_TRAIT_TYPE = 'trait.oam.dev/type';
