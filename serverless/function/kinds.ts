import type { KubeObject } from '../../kube/types.js';
import { FUNCTION_API_VERSION, FUNCTION_KIND, type FunctionObject } from './config.js';
import { fromOpenFaaS, OPENFAAS_API_VERSION, OPENFAAS_KIND, type OpenFaaSFunction } from './openfaas.js';

/** A kind the serverless runtime runs as a function, and how it reads as a serverless.trellis.dev Function. */
export interface FunctionKind {
  apiVersion: string;
  kind: string;
  /** Short name for controllers and logs. */
  name: string;
  toFunction(obj: KubeObject): FunctionObject;
}

/** Trellis' own Function, and OpenFaaS' (so Components written for OpenFaaS apply unchanged). */
export const FUNCTION_KINDS: FunctionKind[] = [
  {
    apiVersion: FUNCTION_API_VERSION,
    kind: FUNCTION_KIND,
    name: 'function',
    toFunction: (o) => o as unknown as FunctionObject,
  },
  {
    apiVersion: OPENFAAS_API_VERSION,
    kind: OPENFAAS_KIND,
    name: 'openfaas-function',
    toFunction: (o) => fromOpenFaaS(o as unknown as OpenFaaSFunction),
  },
];
