/** definitions/: where WorkloadDefinitions, TraitDefinitions, ScopeDefinitions and kinds come from. */
export * from './types.js';
export { StaticDefinitionSource, layeredSource, kindOfCrd } from './static-source.js';
export {
  builtinCatalog,
  readCatalog,
  parseCatalog,
  PRECOMPILED_CATALOG,
  catalogDir,
  definitionFromCue,
  ANNOTATION_DESCRIPTION,
} from './catalog.js';
export { builtinKinds, guessResourceName, isScalableKind } from './builtin-kinds.js';
export { ClusterDefinitionSource, type ClusterDefinitionSourceOptions } from './cluster-source.js';
export { readObjectFiles, type FileObject } from './files.js';
export { builtinParameterSchema } from './builtin-schemas.js';
export { workloadDefinitionOf, AUTODETECT_WORKLOAD } from './component-definition.js';
