/**
 * The KubeVela conformance renderings (issue 16): KubeVela's own definitions and docs examples from
 * ../shared/conformance/kubevela, used unchanged, and what each Application must render to — a
 * golden under application/testdata/kubevela/, or a refusal naming what Trellis cannot run. Shared by
 * application/vela/conformance.test.ts and scripts/generate-goldens.ts.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KubeObject } from '../../kube/types.js';
import { objectsOf } from './conformance-cases.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const KUBEVELA = path.resolve(here, '..', '..', '..', 'shared', 'conformance', 'kubevela');
export const KUBEVELA_GOLDENS = path.join(here, 'kubevela');
/** Applications written here for KubeVela's definitions (storage, patch strategies): `<name>.yaml` beside `<name>.golden`. */
export const KUBEVELA_MORE = path.join(here, 'kubevela-more');

/** What Trellis says instead of rendering an Application it cannot run as KubeVela would. */
export interface Refusal {
  code: string;
  field: string;
  message: RegExp;
}

export interface KubeVelaCase {
  /** The file name under applications/ (`traits--env--single-container.yaml`). */
  name: string;
  objects: KubeObject[];
  /** The golden file, for Applications that render. */
  golden?: string;
  /** The Application's file, when it is not KubeVela's (`applications/<name>`). */
  file?: string;
  refused?: Refusal;
}

/**
 * Applications Trellis refuses, and why. KubeVela refuses the first three as well: their `volumes`
 * trait was removed from KubeVela's definitions (the `storage` trait replaced it), so no
 * TraitDefinition of that name exists. The workflow example needs KubeVela's workflow engine.
 */
export const REFUSED: Record<string, Refusal> = {
  'app-with-volumes--app-task-volumes.yaml': { code: 'TRL_RENDER_UNKNOWN_DEFINITION', field: 'spec.components[0].traits[0].type', message: /trait type "volumes" has no TraitDefinition/ },
  'app-with-volumes--app-websvc-volumes.yaml': { code: 'TRL_RENDER_UNKNOWN_DEFINITION', field: 'spec.components[0].traits[0].type', message: /trait type "volumes" has no TraitDefinition/ },
  'app-with-volumes--app-worker-volumes.yaml': { code: 'TRL_RENDER_UNKNOWN_DEFINITION', field: 'spec.components[0].traits[0].type', message: /trait type "volumes" has no TraitDefinition/ },
  'workflow--basic-app.yaml': { code: 'TRL_APP_WORKFLOW_STEP', field: 'spec.workflow.steps[0].type', message: /step "deploy-server1" has type "custom-apply-component", which needs KubeVela's workflow engine/ },
};

/** KubeVela's definitions, unchanged. */
export function kubevelaDefinitions(): KubeObject[] {
  const dir = path.join(KUBEVELA, 'definitions');
  return readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort().flatMap((f) => objectsOf(path.join(dir, f)));
}

export function kubevelaCases(): KubeVelaCase[] {
  if (!existsSync(KUBEVELA)) return [];
  const dir = path.join(KUBEVELA, 'applications');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((name) => {
      const objects = objectsOf(path.join(dir, name));
      const refused = REFUSED[name];
      return refused ? { name, objects, refused } : { name, objects, golden: path.join(KUBEVELA_GOLDENS, name.replace(/\.yaml$/, '.golden')) };
    });
}

/** The Applications of application/testdata/kubevela-more/, each with its golden beside it. */
export function kubevelaMoreCases(): KubeVelaCase[] {
  return readdirSync(KUBEVELA_MORE)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((name) => ({
      name,
      file: path.join(KUBEVELA_MORE, name),
      objects: objectsOf(path.join(KUBEVELA_MORE, name)),
      golden: path.join(KUBEVELA_MORE, name.replace(/\.yaml$/, '.golden')),
    }));
}
