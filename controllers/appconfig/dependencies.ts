import type { DataInput, DataOutput, UnsatisfiedDependency } from '../../apis/generated/core.oam.dev-v1alpha2.js';
import type { KubeObject } from '../../kube/types.js';
import { evaluateDataOutput, writeDataInput, type BoundApplication, type LiveObjects, type RenderedObject } from '../../render/index.js';

/** What may be applied now, and what waits for data (DESIGN.md §4.7). */
export interface Gate {
  /** Objects to apply, with the values of satisfied data inputs written in. */
  apply: KubeObject[];
  /** Consumers held back: not applied, and not pruned either when they already exist. */
  held: KubeObject[];
  unsatisfied: UnsatisfiedDependency[];
  /** Components whose workload waits (its traits wait with it). */
  heldComponents: Set<string>;
  /** `<component>/<trait>` of traits that wait. */
  heldTraits: Set<string>;
}

interface Producer {
  object: KubeObject;
  output: DataOutput;
}

const ref = (o: KubeObject) => ({ apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name ?? '' });

/**
 * Holds back every consumer whose data inputs are not satisfied by the *live* producer (its field
 * set, non-empty, conditions met) and writes the values into the others. A workload that waits
 * holds back its traits too (they need it); a trait that waits holds back only itself.
 *
 * @example
 *   const gate = gateDependencies(bound, live)
 *   gate.unsatisfied   // [{ reason: 'status.key is not set yet', from: { kind: 'Foo', name: 'source', fieldPath: 'status.key' }, to: { kind: 'Foo', name: 'sink', fieldPaths: ['spec.key'] } }]
 */
export function gateDependencies(app: BoundApplication, live: LiveObjects): Gate {
  const producers = new Map<string, Producer>();
  for (const c of app.components) {
    for (const output of c.dataOutputs) if (output.name) producers.set(output.name, { object: c.workload.object, output });
    for (const t of c.traits) for (const output of t.dataOutputs) if (output.name && t.object) producers.set(output.name, { object: t.object.object, output });
  }
  const unsatisfied: UnsatisfiedDependency[] = [];
  const satisfy = (consumer: KubeObject, inputs: DataInput[]): boolean => {
    let ok = true;
    for (const input of inputs) {
      const producer = producers.get(input.valueFrom?.dataOutputName ?? '');
      if (!producer) continue; // render rejects dangling inputs; nothing to wait for
      const source = live({ ...ref(producer.object), namespace: producer.object.metadata.namespace ?? app.namespace });
      const state = source ? evaluateDataOutput(source, producer.output) : { ready: false, reason: `${producer.object.kind}/${producer.object.metadata.name} does not exist yet` };
      if (state.ready) {
        writeDataInput(consumer as Record<string, unknown>, input, state.value);
        continue;
      }
      ok = false;
      unsatisfied.push({
        reason: state.reason ?? 'not ready',
        from: { ...ref(producer.object), ...(producer.output.fieldPath ? { fieldPath: producer.output.fieldPath } : {}) },
        to: { ...ref(consumer), fieldPaths: input.toFieldPaths ?? [] },
      });
    }
    return ok;
  };
  const apply: KubeObject[] = [];
  const held: KubeObject[] = [];
  const heldComponents = new Set<string>();
  const heldTraits = new Set<string>();
  const put = (objects: RenderedObject[], wait: boolean) => (wait ? held : apply).push(...objects.map((o) => o.object));
  for (const c of app.components) {
    const workloadWaits = !satisfy(c.workload.object, c.dataInputs);
    if (workloadWaits) heldComponents.add(c.name);
    put([c.workload, ...c.outputs], workloadWaits);
    for (const t of c.traits) {
      const traitWaits = workloadWaits || (t.object ? !satisfy(t.object.object, t.dataInputs) : false);
      if (traitWaits) heldTraits.add(`${c.name}/${t.name}`);
      put([...(t.object ? [t.object] : []), ...t.outputs], traitWaits);
    }
  }
  return { apply, held, unsatisfied, heldComponents, heldTraits };
}
