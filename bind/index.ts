/**
 * The bind stage (docs/adr/0002-render-api.md): traits onto workloads, pure. Most callers want the
 * whole of render + bind: `renderApplication` in application/.
 */
export { bindApplication } from './bind.js';
export { appliesTo, findConflict, matchesWorkload, type WorkloadIdentity, type TraitIdentity } from './applies-to.js';
export { mergePatch } from './patch.js';
