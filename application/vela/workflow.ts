/**
 * An Application's workflow, as far as Trellis runs one: KubeVela's default (no `workflow`: deploy
 * every component, in `dependsOn` order) and the built-in steps `deploy` (with its `policies`),
 * `apply-component` (`properties.component`) and `suspend` (wait for `trellis resume` / `vela
 * workflow resume`'s annotation, or `properties.duration`). Other step types run CUE through
 * KubeVela's workflow engine (its Go module, not available here): refused, naming the step
 * (TRL_APP_WORKFLOW_STEP), before anything is applied.
 */
import type { Application } from '../../apis/generated/core.oam.dev-v1beta1.js';
import { TrellisError } from '../../lib/errors.js';
import { isRecord } from '../../lib/is-record.js';
import { applicationId } from './policies.js';

export const SUPPORTED_STEPS = ['deploy', 'apply-component', 'suspend'] as const;

/** One step of the workflow Trellis runs. */
export type Step =
  | { name: string; type: 'deploy'; components: string[]; policies?: string[] }
  | { name: string; type: 'apply-component'; components: string[] }
  | { name: string; type: 'suspend'; duration?: string };

/** The steps the Application's workflow runs, in order; without `workflow`, one `deploy` of every component. */
export function workflowSteps(app: Application): Step[] {
  const all = app.spec.components.map((c) => c.name);
  const steps = app.spec.workflow?.steps;
  const object = applicationId(app);
  if (app.spec.workflow?.ref) {
    throw new TrellisError(
      'TRL_APP_WORKFLOW_STEP',
      `workflow.ref "${app.spec.workflow.ref}" names a KubeVela Workflow object, which Trellis does not run; write the steps inline`,
      { object, field: 'spec.workflow.ref' },
    );
  }
  if (!steps?.length) return [{ name: 'deploy', type: 'deploy', components: all }];
  return steps.map((step, i): Step => {
    const field = `spec.workflow.steps[${i}]`;
    const props = isRecord(step.properties) ? step.properties : {};
    if (!(SUPPORTED_STEPS as readonly string[]).includes(step.type)) {
      throw new TrellisError(
        'TRL_APP_WORKFLOW_STEP',
        `step "${step.name}" has type "${step.type}", which needs KubeVela's workflow engine (not available in Trellis); Trellis runs ${SUPPORTED_STEPS.join(', ')} — nothing of the Application was applied`,
        { object, field: `${field}.type` },
      );
    }
    if (step.subSteps?.length || step.if !== undefined || step.inputs?.length || step.outputs?.length) {
      const what = step.subSteps?.length
        ? 'subSteps'
        : step.if !== undefined
          ? 'if'
          : step.inputs?.length
            ? 'inputs'
            : 'outputs';
      throw new TrellisError(
        'TRL_APP_WORKFLOW_STEP',
        `step "${step.name}" uses ${what}, which needs KubeVela's workflow engine (not available in Trellis)`,
        { object, field: `${field}.${what}` },
      );
    }
    switch (step.type) {
      case 'deploy':
        return {
          name: step.name,
          type: 'deploy',
          components: all,
          ...(Array.isArray(props.policies) ? { policies: props.policies as string[] } : {}),
        };
      case 'apply-component': {
        const component = props.component;
        if (typeof component !== 'string' || !all.includes(component)) {
          throw new TrellisError(
            'TRL_APP_WORKFLOW_STEP',
            `step "${step.name}": properties.component ${JSON.stringify(component)} names no component of the Application (${all.join(', ')})`,
            { object, field: `${field}.properties.component` },
          );
        }
        return { name: step.name, type: 'apply-component', components: [component] };
      }
      default:
        return {
          name: step.name,
          type: 'suspend',
          ...(typeof props.duration === 'string' ? { duration: props.duration } : {}),
        };
    }
  });
}

/** The override policies a workflow applies: those its deploy steps name, or every one without a workflow. */
export function overridePolicies(steps: Step[]): string[] | undefined {
  const named = steps.flatMap((s) => (s.type === 'deploy' && s.policies ? s.policies : []));
  return named.length ? named : undefined;
}
