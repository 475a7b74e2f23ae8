/** Field manager of everything the controllers apply (workloads, traits, revisions). */
export const FIELD_MANAGER = 'trellis';
/** Field manager of the status the controllers write, so status and spec writes never conflict. */
export const STATUS_FIELD_MANAGER = 'trellis-status';
