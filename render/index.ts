/** render/: pure OAM rendering (component and trait templates -> objects, through cue/'s engine). See docs/adr/0002-render-api.md. */
export * from './types.js';
export { renderComponents, planApplication, renderPlan, appConfigId, type ApplicationPlan } from './render.js';
export { definitionKind } from './workload.js';
export { staticComponents, type StaticComponentsOptions } from './components.js';
export { applyParameters } from './parameters.js';
export { resolveWorkload, resolveTrait, type Resolved } from './shorthand.js';
export {
  checkDataFlow,
  evaluateDataOutput,
  evaluateInputConditions,
  conditionFails,
  writeDataInput,
  isEmptyValue,
  type DataOutputState,
} from './data-flow.js';
export { findPodTemplate } from './pod-template.js';
export { unknownProperties } from './properties.js';
export {
  templateShape,
  fixedString,
  fixedReference,
  mayWrite,
  pathsOverlap,
  type StructShape,
} from './template-shape.js';
export { stamp } from './metadata.js';
export {
  containerizedWorkloadObjects,
  fnv32a,
  LABEL_CONTAINERIZED_WORKLOAD,
  type ContainerizedWorkloadObjects,
  type TranslateOptions,
} from './containerized-workload.js';
export { contextFor } from './template-output.js';
export { applyOperations, operationsReady, operationTarget, type OperationsState } from './data-store.js';
