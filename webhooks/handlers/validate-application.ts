import type { Application } from '../../apis/generated/core.oam.dev-v1beta1.js';
import { asApplicationError, renderVelaApplication, velaRenderInput } from '../../application/vela/render-vela.js';
import { isTrellisError, TrellisError } from '../../lib/errors.js';
import { didYouMean } from '../../lib/suggest.js';
import { describeRequestObject, type Admission, type AdmissionRequest } from '../admission.js';
import type { AdmissionHandler } from '../handler.js';
import { Problems } from '../problems.js';
import { quickAdmission } from '../quick-admission.js';
import type { WebhookDeps } from './deps.js';

/**
 * `validate-applications` (KubeVela's core.oam.dev/v1beta1 Application), as AppConfigs are validated:
 * first what needs no rendering, all problems at once — every component `type` names a
 * ComponentDefinition (or WorkloadDefinition) and every trait `type` a TraitDefinition, with a
 * did-you-mean; policies and workflow steps Trellis runs (`TRL_APP_POLICY`, `TRL_APP_WORKFLOW_STEP`);
 * then the quick path (quick-admission.ts: no CUE when the templates' facts settle it), else the
 * render the controller will make, whose errors name `spec.components[i].properties.<field>` or
 * `spec.components[i].traits[j].properties`.
 */
export function validateApplications(deps: WebhookDeps): AdmissionHandler {
  return {
    name: 'validate-applications',
    async handle(request: AdmissionRequest): Promise<Admission> {
      const raw = request.object as unknown as Application;
      const namespace = request.namespace ?? raw.metadata?.namespace ?? 'default';
      const application: Application = {
        ...raw,
        metadata: { ...raw.metadata, name: raw.metadata?.name ?? request.name ?? 'unnamed', namespace },
        spec: { ...raw.spec, components: raw.spec?.components ?? [] },
      };
      const problems = new Problems(describeRequestObject(request));
      // In the Application's order (one message, the same every time); lookups are watch-cache hits.
      for (const [i, c] of application.spec.components.entries()) {
        if (typeof c.type === 'string' && !(await deps.definitions.workloadDefinition(c.type)))
          problems.add(
            'TRL_ADMISSION_DEFINITION_MISSING',
            `spec.components[${i}].type`,
            `ComponentDefinition "${c.type}" does not exist${didYouMean(c.type, deps.definitionNames?.('component') ?? [])}; apply it first`,
          );
        for (const [j, t] of (c.traits ?? []).entries())
          if (typeof t.type === 'string' && !(await deps.definitions.traitDefinition(t.type)))
            problems.add(
              'TRL_ADMISSION_DEFINITION_MISSING',
              `spec.components[${i}].traits[${j}].type`,
              `TraitDefinition "${t.type}" does not exist${didYouMean(t.type, deps.definitionNames?.('trait') ?? [])}; apply it first`,
            );
      }
      let prepared;
      try {
        prepared = velaRenderInput({ application, definitions: deps.definitions, engine: deps.engine });
      } catch (err) {
        const named = asApplicationError(err, application);
        if (!isTrellisError(named)) throw named;
        problems.addError(named);
      }
      problems.throwIfAny();
      const verdict = await quickAdmission({ ...prepared!.input, facts: deps.templateFacts });
      if (verdict.admit) return {};
      try {
        await renderVelaApplication({ application, definitions: deps.definitions, engine: deps.engine });
      } catch (err) {
        // CUE not answering is not the user's fault: a webhook failure (retried), not a denial.
        if (isTrellisError(err) && err.code === 'TRL_CUE_ENGINE') throw new Error(err.message, { cause: err });
        throw isTrellisError(err) ? namingTheProperty(err) : err;
      }
      deps.templateFacts.rendered(verdict.templates);
      return {};
    },
  };
}

/** `…properties` + `parameter "image": …` → the field `…properties.image` (the one the user wrote wrong). */
function namingTheProperty(err: TrellisError): TrellisError {
  const parameter = /\bparameter "([^"]+)"/.exec(err.reason)?.[1];
  if (!parameter || !err.field?.endsWith('.properties')) return err;
  return new TrellisError(err.code, err.reason, {
    ...(err.object ? { object: err.object } : {}),
    field: `${err.field}.${parameter}`,
    cause: err,
  });
}
