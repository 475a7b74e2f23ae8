/**
 * Golden renderings: what a folder of input files renders to, as the text `trellis render` prints,
 * plus what the ContainerizedWorkload controller makes of each rendered ContainerizedWorkload. The
 * golden tests compare with the committed files; `npm run generate:goldens` rewrites them.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import type { ContainerizedWorkload } from '../apis/generated/core.oam.dev-v1alpha2.js';
import { readObjectFiles } from '../definitions/files.js';
import type { KubeObject } from '../kube/types.js';
import { containerizedWorkloadObjects } from '../render/containerized-workload.js';
import type { CueEngine } from '../cue/index.js';
import { offlineHeader, renderObjects, type OfflineRenderOptions } from './offline.js';
import { renderedYaml } from './yaml.js';

/** Committed golden files of an example folder: everything else in it is input. */
export const GOLDEN_FILES = ['expected.golden', 'expected-children.golden'];

export interface Golden {
  /** `trellis render -f <folder>`. */
  rendered: string;
  /** The Deployments, Services and ConfigMaps of the rendered ContainerizedWorkloads, if any. */
  children?: string;
}

/** Renders input objects to their golden text. */
export async function goldenOf(
  objects: KubeObject[],
  engine: CueEngine,
  revisions?: OfflineRenderOptions['revisions'],
): Promise<Golden> {
  const apps = await renderObjects(objects, { engine, ...(revisions ? { revisions } : {}) });
  const rendered = apps
    .map((a) => renderedYaml(a.app.objects, offlineHeader({ ...a, synthesized: false })))
    .join('---\n');
  const cws = apps
    .flatMap(({ app }) => app.objects.map((o) => o.object))
    .filter((o) => o.kind === 'ContainerizedWorkload' && o.apiVersion.startsWith('core.oam.dev/'));
  if (!cws.length) return { rendered };
  const children = cws.flatMap((cw) => {
    const { deployment, service, configMaps } = containerizedWorkloadObjects(cw as unknown as ContainerizedWorkload);
    return [...configMaps, deployment, ...(service ? [service] : [])].map(
      (o) =>
        `# from ContainerizedWorkload/${cw.metadata.name}\n${stringify(o, { lineWidth: 0, sortMapEntries: true })}`,
    );
  });
  return { rendered, children: children.join('---\n') };
}

/** The input objects of an example folder (its files except the golden ones). */
export function exampleInputs(dir: string): KubeObject[] {
  const files = readdirSync(dir)
    .filter((f) => !GOLDEN_FILES.includes(f) && /\.(ya?ml|json)$/.test(f))
    .map((f) => path.join(dir, f));
  return readObjectFiles(files).map((f) => f.object);
}

/** Every example folder under `examplesDir`, by name. */
export function exampleDirs(examplesDir: string): string[] {
  if (!existsSync(examplesDir)) return [];
  return readdirSync(examplesDir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => path.join(examplesDir, d.name))
    .sort();
}
