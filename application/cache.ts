import { Lru, type CueEngine } from '../cue/index.js';
import type { BoundApplication } from '../render/types.js';

/** Whole bound applications kept per engine. @default 5000 */
export const APPLICATION_CACHE_SIZE = 5000;

const caches = new WeakMap<CueEngine, Lru<string, BoundApplication>>();

/**
 * The cache of whole bound applications that go with `engine`, by the plan's fingerprint: one per
 * engine, so it lives and dies with the engine whose (frozen) template results its objects share.
 * Entries are never handed out as they are: `renderApplication` copies them.
 */
export function applicationCache(engine: CueEngine): Lru<string, BoundApplication> {
  let cache = caches.get(engine);
  if (!cache) caches.set(engine, (cache = new Lru(APPLICATION_CACHE_SIZE)));
  return cache;
}
