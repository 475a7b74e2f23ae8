import { Document, isMap, isScalar, isSeq, stringify } from 'yaml';
import { childPath } from './field-paths.js';
import { originOf, type FieldSources } from './provenance.js';
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
  const docs = objects.map(
    (o) => `# ${describeSource(o)}\n${stringify(o.object, { lineWidth: 0, sortMapEntries: true })}`,
  );
  return `${header ? `# ${header}\n` : ''}${docs.join('---\n')}`;
}

/**
 * As {@link renderedYaml}, each leaf field followed by a comment saying what set it (`trellis render
 * --provenance`); fields without one came from what the object's header comment names.
 */
export function provenanceYaml(objects: RenderedObject[], sources: FieldSources[], header?: string): string {
  const docs = objects.map((o, i) => {
    const s = sources[i]!;
    const doc = new Document(o.object, { sortMapEntries: true });
    comment(doc.contents, '', s);
    return `# ${describeSource(o)}\n# fields without a comment: ${s.object}\n${doc.toString({ lineWidth: 0 })}`;
  });
  return `${header ? `# ${header}\n` : ''}${docs.join('---\n')}`;
}

function comment(node: unknown, path: string, s: FieldSources): void {
  const visit = (child: unknown, at: string) => {
    if (isScalar(child)) {
      const origin = originOf(s, at);
      if (origin !== s.object) child.comment = ` ${origin}`;
    } else comment(child, at, s);
  };
  if (isMap(node)) {
    for (const pair of node.items)
      visit(pair.value, childPath(path, String(isScalar(pair.key) ? pair.key.value : pair.key)));
  } else if (isSeq(node)) node.items.forEach((item, i) => visit(item, childPath(path, i)));
}
