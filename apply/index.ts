/** Server-side apply for an owner, inventory-based prune, dry-run plans and diffs. */
export * from './labels.js';
export * from './inventory.js';
export * from './order.js';
export * from './diff.js';
export * from './applier.js';
