import type { KubeObject } from '../kube/types.js';
import type { JsonPatchOperation } from './json-patch.js';

/** `admission.k8s.io/v1` AdmissionReview: the API server sends `request`, the webhook answers with `response`. */
export interface AdmissionReview {
  apiVersion: 'admission.k8s.io/v1';
  kind: 'AdmissionReview';
  request?: AdmissionRequest;
  response?: AdmissionResponse;
}

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

export interface AdmissionRequest {
  uid: string;
  kind: { group: string; version: string; kind: string };
  resource: { group: string; version: string; resource: string };
  subResource?: string;
  name?: string;
  namespace?: string;
  operation: Operation;
  userInfo?: { username?: string; groups?: string[] };
  /** The object as it would be stored (absent for DELETE). */
  object?: KubeObject | null;
  /** The stored object (UPDATE and DELETE). */
  oldObject?: KubeObject | null;
  dryRun?: boolean;
}

export interface AdmissionStatus {
  code: number;
  reason?: string;
  message: string;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: AdmissionStatus;
  patchType?: 'JSONPatch';
  /** Base64 of the JSON Patch. */
  patch?: string;
  warnings?: string[];
}

/** What a handler decides when it admits: optionally a patch (mutating webhooks) and warnings. */
export interface Admission {
  patch?: JsonPatchOperation[];
  warnings?: string[];
}

/** The review the webhook sends back for `request`. */
export function reviewOf(response: AdmissionResponse): AdmissionReview {
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response };
}

export function allowedResponse(uid: string, admission: Admission = {}): AdmissionResponse {
  const response: AdmissionResponse = { uid, allowed: true };
  if (admission.patch?.length) {
    response.patchType = 'JSONPatch';
    response.patch = Buffer.from(JSON.stringify(admission.patch)).toString('base64');
  }
  if (admission.warnings?.length) response.warnings = admission.warnings;
  return response;
}

export function deniedResponse(uid: string, status: AdmissionStatus): AdmissionResponse {
  return { uid, allowed: false, status };
}

/**
 * How errors name the object under review: `Kind/namespace/name` (or `Kind/name` for cluster-scoped
 * kinds); a CREATE with `generateName` shows the prefix followed by `*`.
 */
export function describeRequestObject(request: AdmissionRequest): string {
  const obj = request.object ?? request.oldObject ?? undefined;
  const name =
    request.name ||
    obj?.metadata?.name ||
    (obj?.metadata?.generateName ? `${obj.metadata.generateName}*` : '<unnamed>');
  const namespace = request.namespace || obj?.metadata?.namespace;
  return namespace ? `${request.kind.kind}/${namespace}/${name}` : `${request.kind.kind}/${name}`;
}
