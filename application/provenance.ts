/**
 * Per-field provenance (issue 15): for every leaf field of every rendered object, what set it — the
 * template of a definition, a trait's patch, a parameter of a component or trait, an AppConfig
 * `parameterValue`, or Trellis itself (labels, annotations, a trait's workloadRef).
 *
 * Parameters are found by probing, not guessed from values: each scalar parameter is rendered once
 * more with another value, and the fields that change with it are its own. That costs one render per
 * parameter (bounded by `maxProbes`), so it is for the CLI (`trellis render --provenance`,
 * `trellis diff`) and the dashboard, never for the controllers' hot path.
 */
import { cloneJson } from '../lib/clone.js';
import { jsonEqual } from '../lib/equal.js';
import { getFieldPath, parseFieldPath, setFieldPath, type PathSegment } from '../lib/fieldpath.js';
import { isRecord } from '../lib/is-record.js';
import type { Component } from '../apis/generated/core.oam.dev-v1alpha2.js';
import type { BoundApplication, ComponentSource, RenderedObject, RenderInput } from '../render/types.js';
import { childPath, leaves } from './field-paths.js';
import { renderApplication } from './render-application.js';
import { definitionKind } from '../render/index.js';

/** What set the fields of one rendered object. */
export interface FieldSources {
  /** What set every field not in `fields`: the template (or the object as written) it came from. */
  object: string;
  /** Field path (apply/diff.ts notation) → what set it. */
  fields: Map<string, string>;
}

export interface ProvenanceOptions {
  /** At most this many parameters are probed (one render each); the rest count as the template's. @default 64 */
  maxProbes?: number;
}

/** A parameter to probe: how to give it another value, and how to say it. */
interface Probe {
  says: string;
  appConfig?: (appConfig: RenderInput['appConfig']) => void;
  component?: { name: string; change: (component: Component) => void };
}

const TRELLIS_KEYS = /^((app|workload|trait)\.oam\.dev|([a-z-]+\.)?trellis\.dev)\/|^app\.kubernetes\.io\/managed-by$/;

/**
 * The provenance of every object of `app` (the result of `renderApplication(input)`), in the order of
 * `app.objects`.
 *
 * @example
 *   const app = await renderApplication(input)
 *   const sources = await fieldProvenance(input, app)
 *   originOf(sources[0], 'spec.template.spec.containers[0].image') // 'parameter "image" of component "web" (WorkloadDefinition/webservice)'
 */
export async function fieldProvenance(
  input: RenderInput,
  app: BoundApplication,
  options: ProvenanceOptions = {},
): Promise<FieldSources[]> {
  const out: FieldSources[] = app.objects.map((o) => ({ object: objectOrigin(o), fields: new Map() }));
  const at = new Map(app.objects.map((o, i) => [o, i]));
  app.objects.forEach((o, i) => markTrellisMetadata(o, out[i]!));
  for (const c of app.components) {
    const workload = out[at.get(c.workload)!]!;
    for (const t of c.traits) {
      const says = `trait "${t.name}" patch${t.definition ? ` (TraitDefinition/${t.definition.metadata.name})` : ''}`;
      for (const leaf of leaves(t.patch ?? {})) {
        if (t.patch === undefined) break;
        const [first, second, ...rest] = leaf.segments;
        const onPod = first === 'spec' && second === 'template' && c.podTemplatePath;
        workload.fields.set(onPod ? formatDiffPath([...c.podTemplatePath!, ...rest]) : leaf.path, says);
      }
      const refPath = t.definition?.spec?.workloadRefPath;
      if (t.object && refPath) {
        const target = out[at.get(t.object)!]!;
        for (const leaf of leaves(getFieldPath(t.object.object, refPath))) {
          target.fields.set(
            formatDiffPath([...pathOf(refPath), ...leaf.segments]),
            `Trellis: the workloadRef of trait "${t.name}"`,
          );
        }
      }
    }
  }
  for (const probe of (await probesOf(input, app)).slice(0, options.maxProbes ?? 64)) {
    const probed = await renderApplication(probeInput(input, probe)).catch(() => undefined);
    if (!probed) continue; // the other value is not valid for this parameter: its fields stay the template's
    app.objects.forEach((o, i) => {
      const other = probed.objects[i]?.object;
      if (!other || other.kind !== o.object.kind) return;
      for (const leaf of leaves(o.object)) {
        if (!jsonEqual(getFieldPath(other, leaf.segments), leaf.value)) out[i]!.fields.set(leaf.path, probe.says);
      }
    });
  }
  return out;
}

/** What set the field at `path` (or, for a field that is itself an object, the first field in it). */
export function originOf(sources: FieldSources, path: string): string {
  const exact = sources.fields.get(path);
  if (exact) return exact;
  for (const [p, says] of sources.fields) if (p.startsWith(`${path}.`) || p.startsWith(`${path}[`)) return says;
  for (let p = parentOf(path); p; p = parentOf(p)) {
    const found = sources.fields.get(p);
    if (found) return found;
  }
  return sources.object;
}

/** `template of WorkloadDefinition/webservice (component "web")`: what made the object as a whole. */
export function objectOrigin(o: RenderedObject): string {
  const s = o.source;
  const who = s.trait ? `trait "${s.trait}" of component "${s.component}"` : `component "${s.component}"`;
  const output = s.output ? `, output "${s.output}"` : '';
  if (!s.definition) return `${who}${output} as written`;
  return `template of ${s.definition}${output} (${who})`;
}

function markTrellisMetadata(o: RenderedObject, into: FieldSources): void {
  for (const key of ['labels', 'annotations'] as const) {
    for (const name of Object.keys(o.object.metadata[key] ?? {})) {
      if (TRELLIS_KEYS.test(name))
        into.fields.set(
          childPath(childPath('metadata', key), name),
          `Trellis (${key === 'labels' ? 'label' : 'annotation'})`,
        );
    }
  }
}

/** Every scalar parameter of the AppConfig's components and traits, and its parameterValues. */
async function probesOf(input: RenderInput, app: BoundApplication): Promise<Probe[]> {
  const probes: Probe[] = [];
  const entries = input.appConfig.spec?.components ?? [];
  for (const c of app.components) {
    const entry = entries[c.index];
    const componentName = entry?.componentName;
    const definition = c.definition ? ` (${definitionKind(c.definition)}/${c.definition.metadata.name})` : '';
    if (componentName) {
      const resolved = await input.components.component(componentName);
      probes.push(
        ...scalarProbes(shorthandProperties(resolved?.component), (path, change) => ({
          says: `parameter "${path}" of component "${c.name}"${definition}`,
          component: {
            name: componentName,
            change: (component) => change(component.spec.workload as Record<string, unknown>),
          },
        })),
      );
    }
    for (const t of c.traits) {
      const trait = entry?.traits?.[t.index]?.trait;
      if (!isRecord(trait) || typeof trait.name !== 'string' || !isRecord(trait.properties)) continue;
      const def = t.definition ? ` (TraitDefinition/${t.definition.metadata.name})` : '';
      probes.push(
        ...scalarProbes({ prefix: ['properties'], value: trait.properties }, (path, change) => ({
          says: `parameter "${path}" of trait "${t.name}"${def}`,
          appConfig: (a) => change(a.spec!.components![c.index]!.traits![t.index]!.trait as Record<string, unknown>),
        })),
      );
    }
    (entry?.parameterValues ?? []).forEach((p, i) => {
      const other = otherValue(p.value);
      if (other === undefined) return;
      probes.push({
        says: `parameterValue "${p.name}" of ApplicationConfiguration/${app.namespace}/${app.name} (component "${c.name}")`,
        appConfig: (a) => {
          a.spec!.components![c.index]!.parameterValues![i]!.value = other;
        },
      });
    });
  }
  return probes;
}

/** The `properties` (or `spec`) of a shorthand workload (`type` + properties), where its parameters are. */
function shorthandProperties(component: Component | undefined): { prefix: PathSegment[]; value: unknown } | undefined {
  const workload = component?.spec.workload as Record<string, unknown> | undefined;
  if (!workload || typeof workload.type !== 'string' || (workload.apiVersion && workload.kind)) return undefined;
  if (isRecord(workload.properties)) return { prefix: ['properties'], value: workload.properties };
  return isRecord(workload.spec) ? { prefix: ['spec'], value: workload.spec } : undefined;
}

function scalarProbes(
  where: { prefix: PathSegment[]; value: unknown } | undefined,
  make: (path: string, change: (into: Record<string, unknown>) => void) => Probe,
): Probe[] {
  if (!where) return [];
  return leaves(where.value).flatMap((leaf) => {
    const other = otherValue(leaf.value);
    if (other === undefined) return [];
    return [make(leaf.path, (into) => setFieldPath(into, [...where.prefix, ...leaf.segments], other))];
  });
}

/** Another value of the same type, or undefined when there is none worth probing. */
function otherValue(v: unknown): unknown {
  if (typeof v === 'string') return `${v}-0`;
  if (typeof v === 'number') return Number.isInteger(v) ? v + 1 : v * 2 + 1;
  if (typeof v === 'boolean') return !v;
  return undefined;
}

function probeInput(input: RenderInput, probe: Probe): RenderInput {
  const appConfig = cloneJson(input.appConfig);
  probe.appConfig?.(appConfig);
  const change = probe.component;
  if (!change) return { ...input, appConfig };
  const components: ComponentSource = {
    async component(name) {
      const found = await input.components.component(name);
      if (!found || name !== change.name) return found;
      const component = cloneJson(found.component);
      change.change(component);
      return { ...found, component };
    },
    revision: (name) => input.components.revision(name),
  };
  return { ...input, appConfig, components };
}

function pathOf(path: string): PathSegment[] {
  return parseFieldPath(path);
}

function formatDiffPath(segments: PathSegment[]): string {
  return segments.reduce<string>((p, s) => childPath(p, s), '');
}

function parentOf(path: string): string {
  const cut = Math.max(path.lastIndexOf('.'), path.lastIndexOf('['));
  return cut > 0 ? path.slice(0, cut) : '';
}
