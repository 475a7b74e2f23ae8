import type { Health } from '../../status/health.js';
import type { RolloutStatus } from './types.js';

/**
 * Where a Rollout's traffic is split, and what its revisions are: the Gateway API route between
 * revision-named workloads (route-backend.ts), or a Function's own traffic split between its
 * FunctionRevisions (function-backend.ts). The reconciler and the state machine do not care which.
 */
export interface TrafficBackend {
  /** The revision to roll out to: the component's current one (or the Function's newest). */
  target: string | undefined;
  /** Why there is no target yet, for the status message. */
  waiting?: string;
  /** Health of a revision's workload (its readiness to take traffic). */
  health(revision: string | undefined): Health;
  /** The revision's workload exists. */
  exists(revision: string | undefined): boolean;
  /**
   * Makes the traffic what `status` says (its weights, and a blue-green preview). Throws a
   * TrellisError when the cluster cannot carry it (no Gateway API, a route or field someone else owns).
   */
  write(status: RolloutStatus): Promise<void>;
  /** Labels of the new revision's series in the activator's metrics (functions only). */
  activatorSeries?(revision: string): { namespace: string; function: string; revision: string };
}

/** The reason a Ready=False condition names for a backend's TrellisError code. */
export const FAILURE_REASONS: Record<string, string> = {
  TRL_ROLLOUT_GATEWAY_API: 'GatewayAPIMissing',
  TRL_ROLLOUT_ROUTE_TAKEN: 'RouteFailed',
  TRL_ROLLOUT_TRAFFIC_OWNED: 'TrafficOwned',
};
