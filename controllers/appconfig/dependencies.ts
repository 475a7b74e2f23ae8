import type {
  DataInput,
  DataOutput,
  StoreReference,
  UnsatisfiedDependency,
} from '../../apis/generated/core.oam.dev-v1alpha2.js';
import { LABEL_APP_NAME, LABEL_COMPONENT } from '../../apis/labels.js';
import type { KubeObject } from '../../kube/types.js';
import { ownCopy } from '../../application/index.js';
import {
  applyOperations,
  evaluateDataOutput,
  evaluateInputConditions,
  operationsReady,
  operationTarget,
  writeDataInput,
  type BoundApplication,
  type LiveObjects,
  type RenderedObject,
} from '../../render/index.js';

/** What may be applied now, and what waits for data (DESIGN.md §4.7). */
export interface Gate {
  /** Objects to apply, with the values of satisfied data inputs written in, and the store objects whose data is ready. */
  apply: KubeObject[];
  /** Consumers (and stores) held back: not applied, and not pruned either when they already exist. */
  held: KubeObject[];
  unsatisfied: UnsatisfiedDependency[];
  /** Components whose workload waits (its traits wait with it, except those that produce data). */
  heldComponents: Set<string>;
  /** `<component>/<trait>` of traits that wait. */
  heldTraits: Set<string>;
}

interface Producer {
  object: KubeObject;
  output: DataOutput;
  component: string;
}

const ref = (o: { apiVersion: string; kind: string; metadata?: { name?: string }; name?: string }) => ({
  apiVersion: o.apiVersion,
  kind: o.kind,
  name: o.metadata?.name ?? o.name ?? '',
});
const storeKey = (s: StoreReference) => `${s.apiVersion}/${s.kind}/${s.name}`;

/**
 * Holds back every consumer whose data inputs are not satisfied by the *live* producer (its field
 * set, non-empty, conditions met; for an ordering-only output, the producer existing) and writes
 * the values into the others. A workload that waits holds back its traits too (they need it)
 * except those that produce data, which are created as upstream creates them; a trait that waits
 * holds back only itself. Upstream's store-based passing: an `outputStore` is written once its
 * producer's values are there; an `inputStore` consumer waits for the store's values. Conditions'
 * `valueFrom` read the AppConfig.
 * `rendered` itself is never changed (it is frozen): values are written into a copy when it consumes data.
 *
 * @example
 *   const gate = gateDependencies(bound, live, appConfig)
 *   gate.unsatisfied   // [{ reason: 'status.key is not set yet', from: { kind: 'Foo', name: 'source', fieldPath: 'status.key' }, to: { kind: 'Foo', name: 'sink', fieldPaths: ['spec.key'] } }]
 */
export function gateDependencies(rendered: BoundApplication, live: LiveObjects, appConfig?: KubeObject): Gate {
  // renderApplication's result is frozen and shared: data inputs are written into a copy of our own.
  const consumes = rendered.components.some((c) => c.dataInputs.length || c.traits.some((t) => t.dataInputs.length));
  const app = consumes ? ownCopy(rendered) : rendered;
  const producers = new Map<string, Producer>();
  const outputs: Producer[] = [];
  for (const c of app.components) {
    const add = (object: KubeObject, list: DataOutput[]) => {
      for (const output of list) {
        if (output.name) producers.set(output.name, { object, output, component: c.name });
        if (output.outputStore) outputs.push({ object, output, component: c.name });
      }
    };
    add(c.workload.object, c.dataOutputs);
    for (const t of c.traits) if (t.object) add(t.object.object, t.dataOutputs);
  }
  const liveOf = (o: { apiVersion: string; kind: string; name: string }) => live({ ...o, namespace: app.namespace });
  const unsatisfied: UnsatisfiedDependency[] = [];
  const wait = (
    reason: string,
    from: { apiVersion: string; kind: string; name: string; fieldPath?: string },
    to: KubeObject | StoreReference,
    fieldPaths: string[],
  ) => {
    unsatisfied.push({ reason, from, to: { ...ref(to), fieldPaths } });
    return false;
  };

  // Store objects of ready outputStores (all outputs writing one store must be ready, or the store waits).
  const stores = new Map<string, { object: KubeObject; ready: boolean; component: string }>();
  for (const p of outputs) {
    const store = p.output.outputStore!;
    const key = storeKey(store);
    const entry = stores.get(key) ?? {
      object: {
        apiVersion: store.apiVersion,
        kind: store.kind,
        metadata: {
          name: store.name,
          namespace: app.namespace,
          labels: { [LABEL_APP_NAME]: app.name, [LABEL_COMPONENT]: p.component },
        },
      },
      ready: true,
      component: p.component,
    };
    stores.set(key, entry);
    const source = liveOf(ref(p.object));
    const state = source
      ? operationsReady(source, store.operations ?? [], appConfig)
      : {
          ready: false,
          pending: {
            operation: store.operations?.[0],
            reason: `${p.object.kind}/${p.object.metadata.name} does not exist yet`,
          },
        };
    if (!state.ready) {
      const op = state.pending?.operation;
      entry.ready = wait(
        state.pending?.reason ?? 'not ready',
        { ...ref(p.object), ...(op?.valueFrom?.fieldPath ? { fieldPath: op.valueFrom.fieldPath } : {}) },
        store,
        op ? [operationTarget(op)] : [],
      );
      continue;
    }
    applyOperations(entry.object as Record<string, unknown>, store.operations ?? [], source, {
      object: `${p.object.kind}/${p.object.metadata.name}`,
      field: 'dataOutputs.outputStore',
    });
  }

  const satisfy = (consumer: KubeObject, inputs: DataInput[]): boolean => {
    let ok = true;
    for (const input of inputs) {
      const producer = input.valueFrom?.dataOutputName ? producers.get(input.valueFrom.dataOutputName) : undefined;
      if (producer) {
        const source = liveOf(ref(producer.object));
        const state = source
          ? evaluateDataOutput(source, producer.output, appConfig)
          : { ready: false, reason: `${producer.object.kind}/${producer.object.metadata.name} does not exist yet` };
        const from = {
          ...ref(producer.object),
          ...(producer.output.fieldPath ? { fieldPath: producer.output.fieldPath } : {}),
        };
        if (!state.ready) {
          ok = wait(state.reason ?? 'not ready', from, consumer, input.toFieldPaths ?? []);
          continue;
        }
        const own = evaluateInputConditions(liveOf(ref(consumer)), input, appConfig);
        if (!own.ready) {
          ok = wait(own.reason ?? 'not ready', from, consumer, input.toFieldPaths ?? []);
          continue;
        }
        if (producer.output.fieldPath) writeDataInput(consumer as Record<string, unknown>, input, state.value);
      }
      if (input.inputStore) {
        const store = input.inputStore;
        const stored = liveOf(ref(store));
        const state = stored
          ? operationsReady(stored, store.operations ?? [], appConfig)
          : {
              ready: false,
              pending: { operation: store.operations?.[0], reason: `${store.kind}/${store.name} does not exist yet` },
            };
        if (!state.ready) {
          const op = state.pending?.operation;
          ok = wait(
            state.pending?.reason ?? 'not ready',
            { ...ref(store), ...(op?.valueFrom?.fieldPath ? { fieldPath: op.valueFrom.fieldPath } : {}) },
            consumer,
            op ? [operationTarget(op)] : [],
          );
          continue;
        }
        applyOperations(consumer as Record<string, unknown>, store.operations ?? [], stored, {
          object: `${consumer.kind}/${consumer.metadata.name}`,
          field: 'dataInputs.inputStore',
        });
      }
    }
    return ok;
  };
  const apply: KubeObject[] = [];
  const held: KubeObject[] = [];
  const heldComponents = new Set<string>();
  const heldTraits = new Set<string>();
  const put = (objects: RenderedObject[], waits: boolean) =>
    (waits ? held : apply).push(...objects.map((o) => o.object));
  for (const c of app.components) {
    const workloadWaits = !satisfy(c.workload.object, c.dataInputs);
    if (workloadWaits) heldComponents.add(c.name);
    put([c.workload, ...c.outputs], workloadWaits);
    for (const t of c.traits) {
      // A trait needs its workload, so it waits with it — unless it produces data (maybe the very data the
      // workload waits for): upstream creates producers and holds back only consumers.
      const traitWaits =
        (workloadWaits && !t.dataOutputs.length) || (t.object ? !satisfy(t.object.object, t.dataInputs) : false);
      if (traitWaits) heldTraits.add(`${c.name}/${t.name}`);
      put([...(t.object ? [t.object] : []), ...t.outputs], traitWaits);
    }
  }
  for (const s of stores.values()) (s.ready ? apply : held).push(s.object);
  return { apply, held, unsatisfied, heldComponents, heldTraits };
}

/**
 * Whether any component or trait of the application passes data (`dataOutputs` / `dataInputs`):
 * then the dependency gate decided on live objects' fields, and a write of one of them may change
 * what it would decide.
 */
export function passesData(app: BoundApplication): boolean {
  return app.components.some((c) => [c, ...c.traits].some((d) => d.dataOutputs.length || d.dataInputs.length));
}

/** The store objects an application's inputs read (`dataInputs[].inputStore`). */
export function inputStores(app: BoundApplication): StoreReference[] {
  return app.components.flatMap((c) =>
    [c, ...c.traits].flatMap((d) => d.dataInputs.flatMap((i) => (i.inputStore ? [i.inputStore] : []))),
  );
}

/** The kinds of the store objects an application reads or writes (watched like what it renders). */
export function storeKinds(app: BoundApplication): { apiVersion: string; kind: string }[] {
  const written = app.components.flatMap((c) =>
    [c, ...c.traits].flatMap((d) => d.dataOutputs.flatMap((o) => (o.outputStore ? [o.outputStore] : []))),
  );
  return [...written, ...inputStores(app)].map((r) => ({ apiVersion: r.apiVersion, kind: r.kind }));
}
