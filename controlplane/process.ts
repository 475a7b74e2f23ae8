/** Process supervision moved to lib/ so the serverless local runner shares it; re-exported for the control plane. */
export { ManagedProcess, Reaper, type ManagedProcessOptions } from '../lib/process.js';
