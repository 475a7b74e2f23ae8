import type { ApplicationConfiguration } from '../apis/generated/core.oam.dev-v1alpha2.js';
import { renderApplication } from '../application/index.js';
import type { DefinitionSource } from '../definitions/index.js';
import { isTrellisError, TrellisError } from '../lib/errors.js';
import type { ComponentSource } from '../render/index.js';
import type { CueEngine } from '../cue/index.js';
import { quickAdmission } from './quick-admission.js';
import type { TemplateFactsCache } from './template-facts.js';

/** Codes that mean "CUE did not answer", not "the input is wrong": retried by the user, not denied as invalid. */
const NOT_THE_USERS_FAULT = new Set(['TRL_CUE_ENGINE']);

export interface RenderCheckInput {
  appConfig: ApplicationConfiguration;
  components: ComponentSource;
  definitions: DefinitionSource;
  engine: CueEngine;
  /** Facts of the templates: when given, an AppConfig they settle is admitted without CUE (quick-admission.ts). */
  facts?: TemplateFactsCache;
}

/**
 * Validates an ApplicationConfiguration by rendering and binding it exactly as the controller will
 * (render/ + bind/): definitions exist, properties match their templates' parameters,
 * appliesToWorkloads and conflictsWith hold, data flow has no cycle. Resolves with warnings; rejects
 * with the first TrellisError render or bind raised.
 *
 * With `facts`, an AppConfig whose every Component exists is first checked without CUE
 * (quick-admission.ts); only what the facts do not settle is rendered — and so every denial still
 * comes from the render, with its message. A successful render records its templates as rendered.
 *
 * A Component that does not exist yet is no reason to refuse the AppConfig (a directory applied in
 * file order may hold it further down): its entry is skipped with a warning and the others are
 * rendered on their own.
 */
export async function checkAppConfigRenders(input: RenderCheckInput): Promise<string[]> {
  const entries = input.appConfig.spec?.components ?? [];
  const present = await Promise.all(
    entries.map(async (e) =>
      e.revisionName
        ? !!(await input.components.revision(e.revisionName))
        : e.componentName
          ? !!(await input.components.component(e.componentName))
          : true,
    ),
  );
  const warnings = entries.flatMap((e, i) =>
    present[i]
      ? []
      : [
          `spec.components[${i}]: ${e.revisionName ? `component revision "${e.revisionName}"` : `component "${e.componentName}"`} does not exist yet; its traits are checked once it does (by the controller)`,
        ],
  );
  if (present.every(Boolean)) {
    await renderUnlessSettled(input, input.appConfig);
    return warnings;
  }
  // Render each present entry alone (data flow between entries is checked by rules/data-dependencies),
  // and put its index back into the error.
  for (const [i, entry] of entries.entries()) {
    if (!present[i]) continue;
    const { dataInputs: _in, dataOutputs: _out, ...alone } = entry;
    const single = {
      ...input.appConfig,
      spec: {
        ...input.appConfig.spec,
        components: [{ ...alone, traits: (alone.traits ?? []).map(({ dataInputs: _i, dataOutputs: _o, ...t }) => t) }],
      },
    };
    try {
      await renderUnlessSettled(input, single);
    } catch (err) {
      if (isTrellisError(err)) throw reindex(err, i);
      throw err;
    }
  }
  return warnings;
}

/** Renders the AppConfig unless its templates' facts settle it (logged reason when they do not). */
export async function renderUnlessSettled(input: RenderCheckInput, appConfig: ApplicationConfiguration): Promise<void> {
  if (!input.facts) return render(input, appConfig);
  const verdict = await quickAdmission({ ...input, appConfig, facts: input.facts });
  if (verdict.admit) return;
  await render(input, appConfig);
  input.facts.rendered(verdict.templates);
}

async function render(input: RenderCheckInput, appConfig: ApplicationConfiguration): Promise<void> {
  try {
    await renderApplication({
      appConfig,
      components: input.components,
      definitions: input.definitions,
      engine: input.engine,
    });
  } catch (err) {
    if (isTrellisError(err) && NOT_THE_USERS_FAULT.has(err.code)) throw new Error(err.message, { cause: err });
    throw err;
  }
}

function reindex(err: TrellisError, index: number): TrellisError {
  const fix = (s: string) => s.replace(/spec\.components\[0\]/g, `spec.components[${index}]`);
  return new TrellisError(err.code, fix(err.reason), {
    ...(err.object ? { object: err.object } : {}),
    ...(err.field ? { field: fix(err.field) } : {}),
    cause: err,
  });
}
