/**
 * GET /api/apps/:ns/:name/objects?kind=&name=[&apiVersion=]: one rendered child object of an
 * ApplicationConfiguration, each leaf field with what set it (a definition's template, a trait's
 * patch, a parameter, Trellis). The rendering itself is injected ({@link ProvenanceProvider}): it needs
 * the CUE engine and the definitions, which dashboard/ does not import (cli/dashboard-provenance.ts).
 */
import type { KubeObject } from '../kube/index.js';
import { demandRead, type Viewer } from './access.js';
import { ApiError, type ApiSources } from './api.js';
import type { AppConfig } from './model.js';

/** Which child object of which application. */
export interface ProvenanceRequest {
  /** The ApplicationConfiguration as the dashboard's cache holds it. */
  app: AppConfig;
  kind: string;
  name: string;
  apiVersion?: string;
}

/** A rendered object and what set each of its leaf fields. */
export interface ObjectProvenance {
  object: KubeObject;
  /** Leaf fields, depth first; `path` in `trellis diff`'s notation (`spec.template.spec.containers[0].image`). */
  fields: { path: string; value: unknown; origin: string }[];
}

/** Renders one object of an application with provenance; `undefined` when the application renders no such object. */
export type ProvenanceProvider = (request: ProvenanceRequest) => Promise<ObjectProvenance | undefined>;

/** GET /api/apps/:ns/:name/objects — 501 without a provider (the chart's dashboard), 404 for an object not rendered. */
export async function getObject(
  sources: ApiSources,
  viewer: Viewer,
  provenance: ProvenanceProvider | undefined,
  query: { namespace: string; app: string; kind?: string; name?: string; apiVersion?: string },
): Promise<ObjectProvenance> {
  if (!query.kind || !query.name)
    throw new ApiError(400, 'BAD_REQUEST', 'name the object: ?kind=<Kind>&name=<name>[&apiVersion=<group/version>]');
  if (!provenance)
    throw new ApiError(
      501,
      'NOT_IMPLEMENTED',
      'rendered objects with provenance are shown only by `trellis dashboard` and `trellis up` (which render ' +
        "with the user's own kubeconfig), not by the dashboard in the cluster; use `trellis render --provenance` " +
        'or `trellis diff`',
    );
  await demandRead(viewer, {
    verb: 'get',
    group: 'core.oam.dev',
    resource: 'applicationconfigurations',
    namespace: query.namespace,
    name: query.app,
  });
  const app = sources.apps.get(query.app, query.namespace);
  if (!app) throw new ApiError(404, 'NOT_FOUND', `ApplicationConfiguration ${query.namespace}/${query.app} not found`);
  const found = await provenance({
    app,
    kind: query.kind,
    name: query.name,
    ...(query.apiVersion ? { apiVersion: query.apiVersion } : {}),
  });
  if (!found)
    throw new ApiError(
      404,
      'NOT_FOUND',
      `ApplicationConfiguration ${query.namespace}/${query.app} renders no ${query.kind} "${query.name}"`,
    );
  return found;
}
