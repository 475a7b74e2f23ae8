/**
 * Checking a definition the way `trellis def vet` and the definition webhook do: its CUE template
 * compiles, its parameter has a schema, and its example renders with it.
 */
import { templateOf, type TraitDefinition, type WorkloadDefinition } from '../definitions/types.js';
import { TrellisError } from '../lib/errors.js';
import type { KubeObject } from '../kube/types.js';
import { CueError, describeIssues, type CueEngine } from '../cue/index.js';
import type { JsonSchema } from '../cue/index.js';
import type { BoundApplication } from '../render/types.js';
import { renderObjects } from './offline.js';

export interface VetResult {
  /** `WorkloadDefinition/webservice` */
  id: string;
  /** JSON Schema of the template's `parameter` (absent for definitionRef definitions). */
  schema?: JsonSchema;
  /** Why the template's `parameter` has no JSON Schema (CUE cannot express it; `TRL_CUE_SCHEMA`): its properties are then checked by rendering only. */
  schemaProblem?: string;
  /** What the example rendered to, when one was given. */
  example?: BoundApplication[];
  /** How many of the example's objects this definition produced or patched. */
  exampleUses?: number;
}

/**
 * Vets one definition. Throws TRL_DEFINITION_TEMPLATE (with the template line) when it does not
 * compile, TRL_DEFINITION_EXAMPLE when its example fails to render or does not use it.
 */
export async function vetDefinition(
  definition: WorkloadDefinition | TraitDefinition,
  options: { engine: CueEngine; example?: KubeObject[] },
): Promise<VetResult> {
  const id = `${definition.kind}/${definition.metadata.name}`;
  const template = templateOf(definition);
  const result: VetResult = { id };
  if (template !== undefined) {
    try {
      await options.engine.check(template);
    } catch (err) {
      if (!(err instanceof CueError)) throw err;
      throw new TrellisError(
        'TRL_DEFINITION_TEMPLATE',
        `the CUE template does not compile: ${describeIssues(err.issues)}`,
        { object: id, field: 'spec.schematic.cue.template', cause: err },
      );
    }
    try {
      result.schema = await options.engine.parameterSchema(template);
    } catch (err) {
      if (!(err instanceof TrellisError) || err.code !== 'TRL_CUE_SCHEMA') throw err;
      result.schemaProblem = err.reason;
    }
  } else if (!definition.spec?.definitionRef?.name) {
    throw new TrellisError('TRL_DEFINITION_INVALID', 'it has neither a CUE schematic nor a definitionRef', {
      object: id,
      field: 'spec',
    });
  }
  if (options.example) {
    let apps;
    try {
      apps = (
        await renderObjects(options.example, {
          engine: options.engine,
          definitions: [definition as unknown as KubeObject],
        })
      ).map((a) => a.app);
    } catch (err) {
      throw new TrellisError('TRL_DEFINITION_EXAMPLE', `its example does not render: ${(err as Error).message}`, {
        object: id,
        cause: err,
      });
    }
    const uses = apps
      .flatMap((a) => a.components)
      .reduce(
        (n, c) =>
          n +
          (c.type === definition.metadata.name ? 1 : 0) +
          c.traits.filter((t) => t.type === definition.metadata.name).length,
        0,
      );
    if (!uses)
      throw new TrellisError(
        'TRL_DEFINITION_EXAMPLE',
        `its example does not use it (no component of type, or trait named, "${definition.metadata.name}")`,
        { object: id },
      );
    result.example = apps;
    result.exampleUses = uses;
  }
  return result;
}
