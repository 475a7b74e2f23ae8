/**
 * An Application's status in KubeVela's shape — `status.status` (the phase), `services[]` (each
 * component's health, message and traits), `workflow` (steps and their phases), `latestRevision`,
 * `appliedResources` — plus Trellis' `Synced` and `Ready` conditions.
 */
import type { ApplicationStatus } from '../../apis/generated/core.oam.dev-v1beta1.js';
import type { InventoryEntry } from '../../apply/index.js';
import type { RenderedVelaApplication } from '../../application/vela/render-vela.js';
import type { KubeClient } from '../../kube/index.js';
import { canonicalJson } from '../../lib/hash.js';
import { setCondition } from '../../status/conditions.js';
import { handledRequest, withoutSuspended } from '../../status/suspend.js';
import { writeStatus as writeObjectStatus } from '../../status/write.js';
import { STATUS_FIELD_MANAGER } from '../field-managers.js';
import type { AppRevision, VelaApplication } from './revisions.js';
import type { ComponentHealth, WorkflowRun } from './workflow.js';

/** KubeVela's phases (`status.status`, the PHASE column of `kubectl get app`). */
export const PHASES = {
  running: 'running',
  runningWorkflow: 'runningWorkflow',
  suspending: 'workflowSuspending',
  failed: 'workflowFailed',
  unhealthy: 'unhealthy',
} as const;

/** What one pass found: either a failure before anything was applied, or a workflow run. */
export interface Outcome {
  revision: AppRevision;
  failed?: { reason: string; message: string };
  rendered?: RenderedVelaApplication;
  health?: Map<string, ComponentHealth>;
  run?: WorkflowRun;
  inventory?: InventoryEntry[];
  refused?: string[];
}

export function composeStatus(app: VelaApplication, o: Outcome): ApplicationStatus {
  const previous = app.status ?? {};
  const generation = app.metadata.generation;
  const latestRevision = {
    name: o.revision.metadata.name!,
    revision: o.revision.spec?.revision ?? 1,
    revisionHash: o.revision.metadata.labels?.['app.oam.dev/app-revision-hash'] ?? '',
  };
  let conditions = withoutSuspended(previous.conditions);
  const set = (type: string, ok: boolean, reason: string, message: string) => {
    conditions = setCondition(conditions, {
      type,
      status: ok ? 'True' : 'False',
      reason,
      message,
      ...(generation !== undefined ? { observedGeneration: generation } : {}),
    });
  };
  if (o.failed || !o.run || !o.health) {
    const failed = o.failed ?? { reason: 'RenderFailed', message: 'not rendered' };
    set('Synced', false, failed.reason, failed.message);
    set('Ready', false, failed.reason, failed.message);
    return {
      ...previous,
      status: PHASES.failed,
      observedGeneration: generation,
      latestRevision,
      conditions,
      workflow: {
        ...previous.workflow,
        appRevision: latestRevision.name,
        message: failed.message,
        finished: false,
        terminated: true,
      },
    };
  }
  const run = o.run;
  const applied = [...run.apply];
  const services = (o.rendered?.app.components ?? [])
    .filter((c) => applied.includes(c.name))
    .map((c) => o.health!.get(c.name)!)
    .filter(Boolean);
  const allHealthy = services.length === (o.rendered?.app.components.length ?? 0) && services.every((s) => s.healthy);
  const phase = run.failed
    ? PHASES.failed
    : run.suspended
      ? PHASES.suspending
      : !run.finished
        ? PHASES.runningWorkflow
        : allHealthy
          ? PHASES.running
          : PHASES.unhealthy;
  const unhealthy = services.filter((s) => !s.healthy).map((s) => `${s.name}: ${s.message || 'not healthy'}`);
  const message =
    run.failed ??
    run.steps.find((s) => s.phase === 'suspending' || s.phase === 'running')?.message ??
    (unhealthy.length ? unhealthy.join('; ') : 'every component is healthy');
  if (o.refused?.length) set('Synced', false, 'OwnershipConflict', o.refused.join('; '));
  else set('Synced', true, 'Applied', `${o.inventory?.length ?? 0} objects applied`);
  set('Ready', phase === PHASES.running, phase === PHASES.running ? 'Healthy' : phase, message);
  return {
    ...previous,
    status: phase,
    observedGeneration: generation,
    latestRevision,
    conditions,
    ...handledRequest(app),
    services,
    appliedResources: o.inventory ?? previous.appliedResources ?? [],
    workflow: {
      appRevision: latestRevision.name,
      mode: 'StepByStep',
      message,
      suspend: run.suspended,
      terminated: !!run.failed,
      finished: run.finished,
      steps: run.steps,
    },
  };
}

/** Conditions' transition times aside, whether anything changed. */
export function statusChanged(app: VelaApplication, next: ApplicationStatus): boolean {
  const strip = (s: ApplicationStatus | undefined) => ({
    ...s,
    conditions: (s?.conditions ?? []).map(({ lastTransitionTime: _t, ...c }) => c),
  });
  return canonicalJson(strip(app.status)) !== canonicalJson(strip(next));
}

/** Writes an Application's status through status/'s one write path (only when a field changed). */
export async function writeStatus(kube: KubeClient, app: VelaApplication, status: ApplicationStatus): Promise<void> {
  await writeObjectStatus(kube, app, status, { fieldManager: STATUS_FIELD_MANAGER });
}
