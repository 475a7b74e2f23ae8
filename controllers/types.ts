import type * as oam from '../apis/generated/core.oam.dev-v1alpha2.js';
import type { KubeObject } from '../kube/types.js';

/** The generated API types, made to fit kube/'s structural `KubeObject` (informers, client). */
export type ApplicationConfiguration = oam.ApplicationConfiguration & KubeObject;
export type Component = oam.Component & KubeObject;
export type HealthScope = oam.HealthScope & KubeObject;
export type ContainerizedWorkload = oam.ContainerizedWorkload & KubeObject;
export type ManualScalerTrait = oam.ManualScalerTrait & KubeObject;
export type WorkloadDefinition = oam.WorkloadDefinition & KubeObject;
export type TraitDefinition = oam.TraitDefinition & KubeObject;
export type ScopeDefinition = oam.ScopeDefinition & KubeObject;
export { API_VERSION } from '../apis/generated/core.oam.dev-v1alpha2.js';
