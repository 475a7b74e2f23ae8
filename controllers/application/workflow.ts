/**
 * Running an Application's workflow (application/vela/workflow.ts says which steps) against what is
 * live: a step is done when every component it deploys is healthy; a component waits for the ones
 * in its `dependsOn` to be healthy; `suspend` waits for its `duration` or for the annotation
 * `trellis.dev/resume: <step>`. A step still unhealthy after its `timeout` (default 10m, or the
 * Application's annotation `trellis.dev/health-timeout`) fails the workflow, naming the component.
 */
import type { ApplicationComponentStatus } from '../../apis/generated/core.oam.dev-v1beta1.js';
import type { RenderedVelaApplication } from '../../application/vela/render-vela.js';
import type { CueEngine } from '../../cue/index.js';
import type { KubeObject } from '../../kube/types.js';
import { parseDuration } from '../../lib/duration.js';
import type { BoundApplication, RenderedObject } from '../../render/index.js';
import { objectHealth, type Health } from '../../status/health.js';
import { policyHealth } from '../../status/health-policy.js';
import { workloadHealth } from '../../status/workload-health.js';
import type { KindWatcher } from '../appconfig/kinds.js';
import type { LiveReads } from '../appconfig/reads.js';
import type { VelaApplication } from './revisions.js';

/** The annotation that resumes a suspended step: its name. */
export const ANNOTATION_RESUME = 'trellis.dev/resume';
/** How long a step may wait for its components to be healthy, unless the step sets `timeout`. */
export const ANNOTATION_HEALTH_TIMEOUT = 'trellis.dev/health-timeout';
export const DEFAULT_HEALTH_TIMEOUT = '10m';

export type ComponentHealth = ApplicationComponentStatus & { name: string; healthy: boolean; message: string };

export interface StepStatus {
  name: string;
  type: string;
  phase: 'succeeded' | 'running' | 'suspending' | 'failed' | 'pending';
  message?: string;
}

export interface WorkflowRun {
  /** Components whose objects are applied in this pass. */
  apply: Set<string>;
  steps: StepStatus[];
  finished: boolean;
  suspended: boolean;
  failed?: string;
  requeueAfter?: number;
}

const liveOf = (reads: LiveReads, o: RenderedObject): KubeObject | undefined =>
  reads.get({ apiVersion: o.object.apiVersion, kind: o.object.kind, name: o.object.metadata.name! });
const asHealthy = (h: Health): { healthy: boolean; message: string } => ({
  healthy: h.status === 'HEALTHY',
  message: h.message,
});

/**
 * `status.services[]` as KubeVela writes it: each component's health by its definition's
 * `healthPolicy` / `customStatus` (else the kind's own rule), and its traits' by theirs (a trait
 * without a policy, or a patch-only one, is healthy).
 */
export async function healthOf(
  app: BoundApplication,
  reads: LiveReads,
  engine: CueEngine,
  kinds: KindWatcher,
): Promise<Map<string, ComponentHealth>> {
  const reader = {
    children: async (kind: { apiVersion: string; kind: string }, ns: string, uid: string) =>
      reads.children(kind, ns, uid),
  };
  const out = new Map<string, ComponentHealth>();
  await Promise.all(
    app.components.map(async (c) => {
      const live = liveOf(reads, c.workload);
      const w =
        (await policyHealth(engine, c.definition, live)) ??
        (await workloadHealth(
          live,
          await kinds.childKinds(c.workload.object.apiVersion, c.workload.object.kind),
          reader,
        ));
      const traits = await Promise.all(
        c.traits.map(async (t) => {
          const main = t.object ? liveOf(reads, t.object) : undefined;
          const outputs = Object.fromEntries(
            t.outputs.flatMap((o) => {
              const l = liveOf(reads, o);
              return l ? [[o.source.output ?? o.object.metadata.name, l]] : [];
            }),
          );
          const byPolicy = await policyHealth(engine, t.definition, main, { outputs });
          const h = byPolicy ?? (t.object ? objectHealth(main) : { status: 'HEALTHY' as const, message: '' });
          return { type: t.type, ...asHealthy(h) };
        }),
      );
      const { healthy, message } = asHealthy(w);
      out.set(c.name, {
        name: c.name,
        namespace: app.namespace,
        healthy: healthy && traits.every((t) => t.healthy),
        message,
        workloadDefinition: { apiVersion: c.workload.object.apiVersion, kind: c.workload.object.kind },
        traits,
      });
    }),
  );
  return out;
}

/** Which components to apply now, and where each step stands. */
export function runWorkflow(
  app: VelaApplication,
  rendered: RenderedVelaApplication,
  health: Map<string, ComponentHealth>,
  startedAt: number,
  now: number,
): WorkflowRun {
  // An input makes its component wait for the producer to be healthy too (KubeVela's apply-component
  // step waits for health before it reads the outputs).
  const producerOf = new Map(app.spec.components.flatMap((c) => (c.outputs ?? []).map((o) => [o.name, c.name])));
  const dependsOn = new Map(
    app.spec.components.map((c) => [
      c.name,
      [
        ...new Set([
          ...(c.dependsOn ?? []),
          ...(c.inputs ?? []).flatMap((i) => (producerOf.has(i.from) ? [producerOf.get(i.from)!] : [])),
        ]),
      ],
    ]),
  );
  const pending = new Map<string, string>();
  for (const p of rendered.pending)
    pending.set(p.component, `${p.component} waits for input "${p.from}" from ${p.producer}: ${p.reason}`);
  const run: WorkflowRun = { apply: new Set(), steps: [], finished: false, suspended: false };
  const stepSpecs = app.spec.workflow?.steps ?? [];
  let blocked = false;
  for (const [i, step] of rendered.steps.entries()) {
    if (blocked) {
      run.steps.push({ name: step.name, type: step.type, phase: 'pending' });
      continue;
    }
    if (step.type === 'suspend') {
      const resumed = app.metadata.annotations?.[ANNOTATION_RESUME] === step.name;
      const wait = step.duration ? parseDuration(step.duration, 0) - (now - startedAt) : undefined;
      if (resumed || (wait !== undefined && wait <= 0)) {
        run.steps.push({ name: step.name, type: step.type, phase: 'succeeded' });
        continue;
      }
      run.steps.push({
        name: step.name,
        type: step.type,
        phase: 'suspending',
        message: step.duration
          ? `resumes by itself after ${step.duration}`
          : `kubectl annotate app ${app.metadata.name} ${ANNOTATION_RESUME}=${step.name} resumes it`,
      });
      run.suspended = true;
      if (wait !== undefined) run.requeueAfter = wait;
      blocked = true;
      continue;
    }
    // A component is applied once everything it depends on is healthy (KubeVela's dependsOn).
    const waiting: string[] = [];
    for (const name of step.components) {
      const deps = (dependsOn.get(name) ?? []).filter((d) => !health.get(d)?.healthy);
      if (deps.length) waiting.push(`${name} waits for ${deps.join(', ')}`);
      else if (pending.has(name)) waiting.push(pending.get(name)!);
      else run.apply.add(name);
    }
    const unhealthy = step.components.filter((n) => !health.get(n)?.healthy && !pending.has(n));
    if (!unhealthy.length && step.components.some((n) => pending.has(n))) {
      // Waiting for a value is not a health timeout: a producer's status may take its time.
      run.steps.push({ name: step.name, type: step.type, phase: 'running', message: waiting.join('; ') });
      blocked = true;
      continue;
    }
    if (!unhealthy.length) {
      run.steps.push({ name: step.name, type: step.type, phase: 'succeeded' });
      continue;
    }
    const timeout = parseDuration(
      stepSpecs[i]?.timeout ?? app.metadata.annotations?.[ANNOTATION_HEALTH_TIMEOUT],
      parseDuration(DEFAULT_HEALTH_TIMEOUT, 600_000),
    );
    const detail = unhealthy.map((n) => `${n}: ${health.get(n)?.message || 'not healthy yet'}`).join('; ');
    if (now - startedAt >= timeout) {
      run.failed = `step "${step.name}": not healthy after ${stepSpecs[i]?.timeout ?? app.metadata.annotations?.[ANNOTATION_HEALTH_TIMEOUT] ?? DEFAULT_HEALTH_TIMEOUT} — ${detail}`;
      run.steps.push({ name: step.name, type: step.type, phase: 'failed', message: run.failed });
    } else {
      run.steps.push({ name: step.name, type: step.type, phase: 'running', message: [detail, ...waiting].join('; ') });
      // Health changes wake the Application through its watches; this only catches the timeout.
      run.requeueAfter = Math.min(run.requeueAfter ?? Infinity, timeout - (now - startedAt));
    }
    blocked = true;
  }
  run.finished = !blocked;
  // Once a component has been applied it stays applied (a later step waiting changes nothing of it).
  for (const c of app.status?.services ?? []) if (c.name) run.apply.add(c.name);
  return run;
}
