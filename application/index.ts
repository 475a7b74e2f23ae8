/**
 * The application façade above render/ and bind/: an ApplicationConfiguration in, the objects to
 * apply out (docs/adr/0007-one-home-per-stage.md). `renderApplication` is what the controllers and
 * the webhooks call; `renderObjects` is `trellis render` (objects in hand, no cluster); `vetDefinition`
 * is `trellis def vet`; `goldenOf` is what the golden tests compare.
 */
export { renderApplication, ownCopy } from './render-application.js';
export { renderObjects, type OfflineApplication, type OfflineRenderOptions } from './offline.js';
export { vetDefinition, type VetResult } from './vet.js';
export { describeSource, provenanceYaml, renderedYaml } from './yaml.js';
export { exampleDirs, exampleInputs, goldenOf, GOLDEN_FILES, type Golden } from './golden.js';
export { fieldProvenance, originOf, objectOrigin, type FieldSources, type ProvenanceOptions } from './provenance.js';
export { leaves, childPath, type Leaf } from './field-paths.js';
