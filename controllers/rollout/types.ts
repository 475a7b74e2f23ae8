import type * as delivery from '../../apis/generated/delivery.trellis.dev-v1alpha1.js';
import type { KubeObject } from '../../kube/types.js';

/** The generated Rollout type, made to fit kube/'s structural `KubeObject`. */
export type Rollout = delivery.Rollout & KubeObject;
export type RolloutSpec = delivery.RolloutSpec;
export type RolloutStatus = delivery.RolloutStatus;
export type MetricResult = delivery.MetricResult;
export type RevisionWeight = delivery.RevisionWeight;
export { API_VERSION as ROLLOUT_API_VERSION } from '../../apis/generated/delivery.trellis.dev-v1alpha1.js';

/** Field manager of the HTTPRoutes and the status the rollout controller writes. */
export const ROLLOUT_FIELD_MANAGER = 'trellis-rollout';
/** Field manager of what `trellis rollout promote|abort|pause|resume` writes (annotations only). */
export const ROLLOUT_CLI_FIELD_MANAGER = 'trellis-rollout-cli';
/** The Gateway API kind whose backend weights split the traffic. */
export const HTTP_ROUTE = { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute' } as const;
