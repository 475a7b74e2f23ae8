/**
 * All applying: ownership check, owner references, applied hash, apply-once, order, limits,
 * inventory-based prune, dry-run plans and diffs.
 */
export * from './labels.js';
export * from './inventory.js';
export * from './order.js';
export * from './diff.js';
export * from './desired.js';
export * from './ownership.js';
export * from './applier.js';
export * from './undeclared-fields.js';
export * from './revisions.js';
export * from './rollback.js';
export * from './shared.js';
