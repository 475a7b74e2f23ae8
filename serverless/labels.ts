/** Labels, annotations and taints the serverless runtime and the local process runner agree on. */

/** On everything rendered for a function (Deployment, pods, Service): the function's name. */
export const LABEL_FUNCTION = 'serverless.trellis.dev/function';

/** On a FunctionRevision and what is rendered for it (Deployment, pods, Service): the revision's name. */
export const LABEL_REVISION = 'serverless.trellis.dev/revision';

/** On a FunctionRevision and its Deployment: the hash of the pod snapshot it holds. */
export const ANNOTATION_REVISION_HASH = 'serverless.trellis.dev/revision-hash';

/** Node label and taint key of a local process runner's node; pods of local functions select and tolerate it. */
export const LOCAL_RUNTIME_KEY = 'serverless.trellis.dev/runtime';
export const LOCAL_RUNTIME_VALUE = 'local';

/**
 * On a Service without a selector: the label selector (`k=v,k2=v2`) of the pods whose endpoints the
 * local process runner publishes for it. Kubernetes' EndpointSlice controller ignores such a Service.
 */
export const ANNOTATION_ENDPOINTS_SELECTOR = 'serverless.trellis.dev/endpoints-selector';

/** The `endpointslice.kubernetes.io/managed-by` value of the slices the local runner publishes. */
export const LOCAL_RUNNER_MANAGER = 'local-runner.serverless.trellis.dev';

/** Standard Kubernetes names used here. */
export const LABEL_SERVICE_NAME = 'kubernetes.io/service-name';
export const LABEL_SLICE_MANAGED_BY = 'endpointslice.kubernetes.io/managed-by';
export const ANNOTATION_POD_DELETION_COST = 'controller.kubernetes.io/pod-deletion-cost';
