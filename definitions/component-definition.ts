/**
 * KubeVela's `core.oam.dev/v1beta1` ComponentDefinition, read as the workload definition render/
 * understands: its `schematic`, `status`, `podSpecPath` and `workload` (the kind it renders, by
 * resource name or `definition.{apiVersion, kind}`) keep their meaning. It keeps its own apiVersion
 * and kind, so messages and provenance name it as the user wrote it (`ComponentDefinition/webservice`).
 */
import type { KubeObject } from '../kube/types.js';
import { isRecord } from '../lib/is-record.js';
import type { WorkloadDefinition } from './types.js';

/** KubeVela's `workload.type` for "whatever the template renders" (k8s-objects). */
export const AUTODETECT_WORKLOAD = 'autodetects.core.oam.dev';

interface ComponentDefinitionSpec {
  workload?: { type?: string; definition?: { apiVersion?: string; kind?: string } };
  schematic?: unknown;
  status?: unknown;
  podSpecPath?: string;
  childResourceKinds?: unknown;
  extension?: unknown;
}

/** The workload definition a ComponentDefinition is; its namespace is dropped (definitions are cluster-wide in Trellis). */
export function workloadDefinitionOf(cd: KubeObject): WorkloadDefinition {
  const spec = (isRecord(cd.spec) ? cd.spec : {}) as ComponentDefinitionSpec;
  const type = spec.workload?.type;
  const { namespace: _ns, ...metadata } = cd.metadata ?? {};
  const converted = {
    apiVersion: cd.apiVersion,
    kind: 'ComponentDefinition',
    metadata,
    spec: {
      ...(type && type !== AUTODETECT_WORKLOAD ? { definitionRef: { name: type } } : {}),
      ...(spec.schematic !== undefined ? { schematic: spec.schematic } : {}),
      ...(spec.status !== undefined ? { status: spec.status } : {}),
      ...(spec.podSpecPath ? { podSpecPath: spec.podSpecPath } : {}),
      ...(spec.childResourceKinds !== undefined ? { childResourceKinds: spec.childResourceKinds } : {}),
      ...(spec.extension !== undefined ? { extension: spec.extension } : {}),
    },
  };
  return converted as unknown as WorkloadDefinition;
}
