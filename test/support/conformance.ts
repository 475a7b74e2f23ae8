import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { packageRoot } from '../../controlplane/index.js';
import type { KubeObject } from '../../kube/index.js';

/** `../shared/conformance` relative to the project root: inputs nobody here wrote, used unchanged. */
export const CONFORMANCE_DIR = path.resolve(packageRoot(), '..', 'shared', 'conformance');

export interface ConformanceDoc {
  file: string;
  object: KubeObject;
}

/** Every object of the given conformance files (all of oam-v1alpha2 by default), in file order. */
export function conformanceObjects(files?: string[]): ConformanceDoc[] {
  const dir = path.join(CONFORMANCE_DIR, 'oam-v1alpha2');
  const names =
    files ??
    readdirSync(dir)
      .filter((f) => f.endsWith('.yaml'))
      .sort();
  return names.flatMap((file) => {
    const full = file.includes('/') ? path.join(CONFORMANCE_DIR, file) : path.join(dir, file);
    return parseAllDocuments(readFileSync(full, 'utf8'))
      .map((d) => d.toJS() as KubeObject | null)
      .filter((o): o is KubeObject => !!o)
      .map((object) => ({ file, object }));
  });
}

/**
 * The one documented quirk (conformance README): 04 and 11b declare their CRD as
 * apiextensions.k8s.io/v1beta1, which current Kubernetes no longer serves. Same group, names,
 * scope; unknown fields preserved.
 */
export function upgradeV1beta1Crd(obj: KubeObject): KubeObject {
  if (obj.apiVersion !== 'apiextensions.k8s.io/v1beta1' || obj.kind !== 'CustomResourceDefinition') return obj;
  const spec = obj.spec as { group: string; names: object; scope: string; version: string };
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: obj.metadata.name },
    spec: {
      group: spec.group,
      names: spec.names,
      scope: spec.scope,
      versions: [
        {
          name: spec.version,
          served: true,
          storage: true,
          subresources: { status: {} },
          schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
        },
      ],
    },
  };
}

/** The path of one upstream OAM conformance file (`01-containerized-workload-component.yaml`), e.g. for `kubectl apply -f`. */
export function conformanceFile(name: string): string {
  return path.join(CONFORMANCE_DIR, 'oam-v1alpha2', name);
}
