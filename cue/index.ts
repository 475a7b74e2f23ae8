/**
 * cue/: the CUE engine — the one place CUE runs (queue, batches, cache, worker pool, sandbox).
 * render/ evaluates OAM templates through it; nothing above render/ runs CUE any other way.
 */
export {
  CueEngine,
  type CueEngineChoice,
  type CueEngineInfo,
  type CueEngineOptions,
  type CueEngineStats,
} from './engine.js';
export type { CueJob } from './batch.js';
export { CueError, describeIssues, explainParameterIssue, type CueIssue } from './errors.js';
export type { JsonSchema } from './schema.js';
export type { ProcessUsage } from './backend.js';
export { Lru, deepFreeze } from './lru.js';
export {
  contextFieldsRead,
  contextPathsRead,
  layoutOf,
  skipBalanced,
  skipSpaceAndComments,
  skipString,
} from './source.js';
