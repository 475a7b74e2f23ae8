/**
 * The conformance renderings (issue 3): inputs from ../shared/conformance/oam-v1alpha2, used
 * unchanged, and what they must render to. Shared by application/conformance.test.ts and
 * scripts/generate-goldens.ts.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import type { Component } from '../../apis/generated/core.oam.dev-v1alpha2.js';
import type { KubeObject } from '../../kube/types.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = (() => {
  let dir = here;
  while (!existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return dir;
})();
export const CONFORMANCE = path.resolve(root, '..', 'shared', 'conformance', 'oam-v1alpha2');
export const CASES_DIR = path.join(here, 'conformance');

export function objectsOf(file: string): KubeObject[] {
  const full = file.includes('/') ? file : path.join(CONFORMANCE, file);
  return parseAllDocuments(readFileSync(full, 'utf8')).map((d) => d.toJS() as KubeObject).filter(Boolean);
}

export interface ConformanceCase {
  name: string;
  /** Objects in the order they are given to render. */
  objects: KubeObject[];
  /** The revision each Component is at, as the Component controller would have recorded (first apply: v1). */
  latestRevisions: Record<string, string>;
  /** Snapshots of pinned revisions. */
  revisions: Record<string, Component>;
  /** Folder with expected.golden (and expected-children.golden). */
  dir: string;
}

export function conformanceCases(): ConformanceCase[] {
  const component01 = objectsOf('01-containerized-workload-component.yaml')[0] as unknown as Component;
  return [
    {
      name: '01-02 ContainerizedWorkload component with parameters, ManualScalerTrait, HealthScope',
      objects: [...objectsOf('01-containerized-workload-component.yaml'), ...objectsOf('02-containerized-workload-appconfig.yaml')],
      latestRevisions: { 'example-component': 'example-component-v1' },
      revisions: {},
      dir: path.join(CASES_DIR, '01-02'),
    },
    {
      name: '08-09 revisionEnabled TraitDefinition; AppConfig pinned to a revision',
      objects: [...objectsOf("08-revision-enabled-traitdefinition.yaml"), ...objectsOf("09-pinned-revisionName-appconfig.yaml"), component01 as unknown as KubeObject, ...objectsOf(path.join(CASES_DIR, '08-rollout-appconfig.yaml'))],
      latestRevisions: { 'example-component': 'example-component-v1' },
      revisions: { 'example-component-v1': component01 },
      dir: path.join(CASES_DIR, '08-09'),
    },
    {
      name: '10-10b workload.type shorthand through a definitionRef WorkloadDefinition',
      objects: [...objectsOf('10-typed-component-shorthand.yaml'), ...objectsOf('10b-typed-component-definitions.yaml'), ...objectsOf('10c-typed-component-appconfig-healthscope.yaml')],
      latestRevisions: { 'web-service-component': 'web-service-component-v1' },
      revisions: {},
      dir: path.join(CASES_DIR, '10-10b'),
    },
    {
      name: '11-11b trait name/properties shorthand; CRD (v1beta1) as workload and trait',
      objects: [...objectsOf('11-webhook-trait-name-properties-shorthand.yaml'), ...objectsOf('11b-webhook-definitions.yaml')],
      latestRevisions: { foo: 'foo-v1' },
      revisions: {},
      dir: path.join(CASES_DIR, '11-11b'),
    },
  ];
}
