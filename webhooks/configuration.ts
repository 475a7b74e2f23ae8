import { LABEL_BUILT_IN } from '../apis/labels.js';
import type { KubeObject } from '../kube/types.js';

/** Where the API server sends reviews: a Service in the cluster, or a URL (local runs and tests). */
export type WebhookTarget = { service: { name: string; namespace: string; port?: number } } | { url: string };

export interface WebhookSpec {
  /** Handler name: the URL path (`/<name>`) and the metric label. */
  name: string;
  type: 'Mutating' | 'Validating';
  resources: string[];
  scope: 'Namespaced' | 'Cluster';
  /** Seconds the API server waits before applying the failure policy. */
  timeoutSeconds: number;
  /**
   * Leave out objects labelled `trellis.dev/built-in: "true"` (the catalog's definitions): the chart
   * installs them in the same release as the webhook, before its pods can answer. @default false
   */
  skipBuiltIn?: boolean;
  /** The API versions the rule matches. @default ['v1alpha2'] */
  apiVersions?: string[];
}

/**
 * Every webhook Trellis serves. The rules name only Trellis' own kinds, so nothing else waits on
 * the webhook; the failure policy is `Fail` (a shorthand let through unexpanded or an unchecked
 * definition is worse than a retry), and the timeouts (10 s: CUE may run to fill in defaults or to
 * render) are far below the API server's 60 s request timeout.
 */
export const WEBHOOKS: readonly WebhookSpec[] = [
  { name: 'mutate-components', type: 'Mutating', resources: ['components'], scope: 'Namespaced', timeoutSeconds: 10 },
  {
    name: 'mutate-applicationconfigurations',
    type: 'Mutating',
    resources: ['applicationconfigurations'],
    scope: 'Namespaced',
    timeoutSeconds: 10,
  },
  {
    name: 'validate-components',
    type: 'Validating',
    resources: ['components'],
    scope: 'Namespaced',
    timeoutSeconds: 10,
  },
  {
    name: 'validate-applicationconfigurations',
    type: 'Validating',
    resources: ['applicationconfigurations'],
    scope: 'Namespaced',
    timeoutSeconds: 10,
  },
  {
    name: 'validate-definitions',
    type: 'Validating',
    resources: ['workloaddefinitions', 'traitdefinitions', 'scopedefinitions'],
    scope: 'Cluster',
    timeoutSeconds: 10,
    skipBuiltIn: true,
  },
  {
    name: 'validate-applications',
    type: 'Validating',
    resources: ['applications'],
    scope: 'Namespaced',
    timeoutSeconds: 10,
    apiVersions: ['v1beta1'],
  },
];

export const GROUP = 'core.oam.dev';
export const MUTATING_CONFIGURATION = 'trellis-mutating';
export const VALIDATING_CONFIGURATION = 'trellis-validating';

/**
 * An UPDATE that leaves `spec` alone (labels, finalizers, owner references written by controllers)
 * never reaches the webhook: the API server evaluates this CEL first. So a webhook outage cannot stall
 * controllers, and nothing is validated twice.
 */
const SPEC_CHANGED =
  "request.operation != 'UPDATE' || !has(object.spec) || !has(oldObject.spec) || object.spec != oldObject.spec";

export interface ConfigurationOptions {
  target: WebhookTarget;
  /** PEM of the CA that signed the serving certificate; left out when cert-manager injects it. */
  caBundle?: string;
}

/**
 * The MutatingWebhookConfiguration and ValidatingWebhookConfiguration for {@link WEBHOOKS}. The chart
 * ships them (generated with the CRDs); `trellis webhook --register` and the tests apply them with a
 * URL and a CA bundle.
 *
 * @example
 *   webhookConfigurations({ target: { url: 'https://127.0.0.1:9443' }, caBundle: ca.cert })
 */
export function webhookConfigurations(options: ConfigurationOptions): KubeObject[] {
  const build = (type: 'Mutating' | 'Validating', name: string): KubeObject => ({
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: `${type}WebhookConfiguration`,
    metadata: { name, labels: { 'app.kubernetes.io/part-of': 'trellis', 'app.kubernetes.io/component': 'webhook' } },
    webhooks: WEBHOOKS.filter((w) => w.type === type).map((w) => webhookEntry(w, options)),
  });
  return [build('Mutating', MUTATING_CONFIGURATION), build('Validating', VALIDATING_CONFIGURATION)];
}

function webhookEntry(spec: WebhookSpec, options: ConfigurationOptions): Record<string, unknown> {
  const path = `/${spec.name}`;
  const clientConfig: Record<string, unknown> =
    'url' in options.target
      ? { url: `${options.target.url.replace(/\/$/, '')}${path}` }
      : {
          service: {
            name: options.target.service.name,
            namespace: options.target.service.namespace,
            port: options.target.service.port ?? 443,
            path,
          },
        };
  if (options.caBundle) clientConfig.caBundle = Buffer.from(options.caBundle).toString('base64');
  return {
    name: `${spec.name}.${GROUP}`,
    admissionReviewVersions: ['v1'],
    sideEffects: 'None',
    failurePolicy: 'Fail',
    matchPolicy: 'Equivalent',
    timeoutSeconds: spec.timeoutSeconds,
    ...(spec.type === 'Mutating' ? { reinvocationPolicy: 'Never' } : {}),
    clientConfig,
    rules: [
      {
        apiGroups: [GROUP],
        apiVersions: spec.apiVersions ?? ['v1alpha2'],
        operations: ['CREATE', 'UPDATE'],
        resources: spec.resources,
        scope: spec.scope,
      },
    ],
    ...(spec.skipBuiltIn
      ? { objectSelector: { matchExpressions: [{ key: LABEL_BUILT_IN, operator: 'NotIn', values: ['true'] }] } }
      : {}),
    matchConditions: [{ name: 'spec-changed', expression: SPEC_CHANGED }],
  };
}
