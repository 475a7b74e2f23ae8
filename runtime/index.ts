/**
 * The reconcile runtime every Trellis controller runs on (see docs/adr/0003-reconcile-runtime.md):
 * a {@link Manager} owning shared informers, leader election, the health/metrics server and an
 * Event recorder; {@link Controller}s that feed a {@link WorkQueue} from informer events through
 * {@link Predicate}s and drain it with N workers calling a {@link Reconciler}.
 */
export * from './reconciler.js';
export * from './queue.js';
export * from './predicates.js';
export * from './controller.js';
export * from './manager.js';
export * from './leader-election.js';
export * from './events.js';
export * from './metrics.js';
export * from './health-server.js';
export * from './indexer.js';
export * from './shards.js';
