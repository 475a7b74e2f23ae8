import { silentLogger, type Logger } from '../../lib/log.js';
import { messageOf } from '../../lib/errors.js';
import type { Resolved } from '../../render/index.js';
import type { JsonSchema } from '../../cue/index.js';
import { withDefaults } from '../rules/properties.js';

/**
 * The stored form of a resolved shorthand (render/'s `resolveWorkload` / `resolveTrait`):
 * - definitionRef: the object of the referenced kind (`properties` as `spec`) with the type label,
 *   as upstream's webhook wrote it;
 * - CUE template: the shorthand kept (render evaluates it), its properties completed with the
 *   defaults the template's `parameter` declares;
 * - a full object: unchanged (`undefined`).
 */
export async function expandResolved(
  written: Record<string, unknown>,
  resolved: Resolved<unknown>,
  options: { typeLabel: string; parameterSchema: (template: string) => Promise<JsonSchema>; logger?: Logger },
): Promise<Record<string, unknown> | undefined> {
  if (resolved.mode === 'object') return undefined;
  if (resolved.mode === 'shorthand') {
    const metadata = (resolved.object.metadata ?? {}) as { labels?: Record<string, string> };
    return {
      ...resolved.object,
      metadata: { ...metadata, labels: { ...metadata.labels, [options.typeLabel]: resolved.type } },
    };
  }
  const key = written.properties !== undefined || written.spec === undefined ? 'properties' : 'spec';
  try {
    const schema = await options.parameterSchema(resolved.template);
    return { ...written, [key]: withDefaults(resolved.properties, schema) };
  } catch (err) {
    // A template that does not compile is reported by validation (and by validate-definitions before it).
    (options.logger ?? silentLogger).debug(
      { err: messageOf(err), type: resolved.type },
      'no defaults: parameter schema unavailable',
    );
    return written;
  }
}
