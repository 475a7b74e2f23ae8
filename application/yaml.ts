import { stringify } from 'yaml';
import type { RenderedObject } from '../render/types.js';

/** `# component "web", trait "web-scaler" (TraitDefinition/scaler)`: the comment above each object. */
export function describeSource(o: RenderedObject): string {
  const s = o.source;
  const parts = [`component "${s.component}"`];
  if (s.trait) parts.push(`trait "${s.trait}"`);
  if (s.output) parts.push(`output "${s.output}"`);
  return `${parts.join(', ')}${s.definition ? ` (${s.definition})` : ''}`;
}

/** Multi-document YAML of rendered objects, each preceded by a comment saying where it came from. */
export function renderedYaml(objects: RenderedObject[], header?: string): string {
  const docs = objects.map((o) => `# ${describeSource(o)}\n${stringify(o.object, { lineWidth: 0, sortMapEntries: true })}`);
  return `${header ? `# ${header}\n` : ''}${docs.join('---\n')}`;
}
