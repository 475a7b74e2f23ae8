import assert from 'node:assert/strict';
import { StaticDefinitionSource } from '../definitions/index.js';
import type { KubeObject } from '../kube/types.js';
import { resolveTrait, resolveWorkload } from './shorthand.js';

const OAM = 'core.oam.dev/v1alpha2';
const where = {
  object: 'ApplicationConfiguration/ns/conflict',
  field: 'spec.components[0].traits[0].trait',
  what: 'trait of component "conflict"',
};
/** Upstream's traits-conflict scenario: definitions named like CRDs that do not exist, found only by the trait's label. */
const definition = (kind: string, name: string, extra: object = {}): KubeObject => ({
  apiVersion: OAM,
  kind,
  metadata: { name },
  spec: { definitionRef: { name }, workloadRefPath: 'spec.workloadRef', ...extra },
});
const source = StaticDefinitionSource.fromObjects([
  definition('TraitDefinition', 'trait1.core.oam.dev'),
  definition('TraitDefinition', 'trait2.core.oam.dev', { conflictsWith: ['trait1.core.oam.dev'] }),
  definition('WorkloadDefinition', 'fooworkload'),
]);

describe("render: resolveTrait / resolveWorkload of a full object (upstream's type labels)", () => {
  it('finds the TraitDefinition named by the trait.oam.dev/type label, as upstream does', async () => {
    const trait = {
      apiVersion: OAM,
      kind: 'Trait2',
      metadata: { labels: { 'trait.oam.dev/type': 'trait2.core.oam.dev' } },
    };
    const resolved = await resolveTrait(trait, source, where);
    assert.equal(resolved.type, 'trait2.core.oam.dev');
    assert.deepEqual(resolved.definition?.spec?.conflictsWith, ['trait1.core.oam.dev']);
  });

  it("falls back to the kind's resource name when the label names no definition, or there is none", async () => {
    const labelled = await resolveTrait(
      { apiVersion: OAM, kind: 'Trait3', metadata: { labels: { 'trait.oam.dev/type': 'nothing-by-this-name' } } },
      source,
      where,
    );
    assert.equal(labelled.type, 'trait3s.core.oam.dev');
    assert.equal(labelled.definition, undefined);
    const bare = await resolveTrait({ apiVersion: 'apps/v1', kind: 'Deployment' }, source, where);
    assert.equal(bare.type, 'deployments.apps');
  });

  it("finds a workload's WorkloadDefinition by workload.oam.dev/type", async () => {
    const resolved = await resolveWorkload(
      { apiVersion: 'example.com/v1', kind: 'Foo', metadata: { labels: { 'workload.oam.dev/type': 'fooworkload' } } },
      source,
      { ...where, field: 'spec.workload', what: 'component "foo"' },
    );
    assert.equal(resolved.type, 'fooworkload');
    assert.equal(resolved.definition?.metadata.name, 'fooworkload');
  });
});
